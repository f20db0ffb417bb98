"""Speed and accuracy of ``rqe.solve_markov`` against stage games solved one by one with ``rqe.solve``.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_markov.py [--quick]

It always exits 0; the PASS/MISS lines are informational (targets from the Markov-games
issue: the MPS grid under 0.5 s, the 6x6 cliff walk at horizon 200 under 5 s).

Cases: the MPS two-agent grid (``rqe.games.markov_catalog.mps_grid``, the authors' settings:
KL penalty, log-barrier regulariser, entropic environment risk with the strategic tau,
``value="risk_adjusted"``), the same grid with ``value="regularized"`` (which has an
exploitability), the 6x6 two-agent cliff walk at horizon 200, the volunteer corridor, and
seeded random games of 10 to 2,000 states (3x3 actions, horizon 20); the cliff walk and the
corridor use ``recommended_parameters``.  For each: the wall-clock and process CPU time of
``solve_markov`` without the exploitability (median of ``reps``; the target applies to the
wall-clock time, and the CPU time shows what a loaded machine hides), the extra time of the
exploitability certificate (one run), the worst stage residual, the largest exploitability
(when defined), and the time of the baseline that calls ``rqe.solve`` on every stage game of
one backward induction (on the large cases measured on the first ``BASELINE_STATES`` stage
games and extrapolated, marked ``~``), and their ratio.  BLAS runs on one thread
(threadpoolctl, when installed): the stage solves are many small products.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np

import rqe
from rqe.games import markov_catalog as mc

BASELINE_STATES = 300       # stage games timed for an extrapolated baseline


def _median_time(fn, reps):
    """Median wall-clock and CPU seconds of ``fn()`` over ``reps`` runs, and its last output."""
    walls, cpus = [], []
    out = None
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus)), out


def _baseline(game, kw, budget):
    """Backward induction with ``rqe.solve`` per stage game; extrapolated beyond ``budget`` solves."""
    H = game.horizon
    S = game.n_states
    total = H * S
    count = min(total, budget)
    t = time.perf_counter()
    W = np.zeros((game.n_players, S))
    done = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for h in reversed(range(H)):
            Q = game.reward(h) + (game.transitions @ W.T).T.reshape(game.reward(h).shape)
            for s in range(S):
                W[:, s] = rqe.solve(rqe.NormalFormGame(list(Q[:, s])), **kw).values
                done += 1
                if done >= count:
                    break
            if done >= count:
                break
    elapsed = time.perf_counter() - t
    return elapsed * total / count, count < total


def main(argv=None):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                  # pragma: no cover - optional
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(1):
            return _main(argv)
    return _main(argv)


def _main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, smaller random games")
    args = ap.parse_args(argv)
    reps = 1 if args.quick else 3
    print(f"rqe {rqe.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(20261203)
    cases = [
        ("MPS grid (authors' settings)", mc.mps_grid(), dict(tau=0.1, epsilon=10.0, risk="kl",
                                                             regularizer="log_barrier", env_risk="entropic",
                                                             value="risk_adjusted"), 0.5),
        ("MPS grid, value=regularized", mc.mps_grid(), dict(tau=0.1, epsilon=10.0, risk="kl",
                                                            regularizer="log_barrier", env_risk="entropic"), None),
        ("cliff walk 6x6, H=200", mc.cliff_walk(size=6, horizon=200), mc.recommended_parameters("cliff_walk"), 5.0),
        ("volunteer corridor", mc.volunteer_corridor(), mc.recommended_parameters("volunteer_corridor"), None),
    ]
    sizes = (10, 100, 500) if args.quick else (10, 100, 500, 2000)
    for S in sizes:
        game = mc.random_markov_game(S, (3, 3), horizon=20, rng=rng)
        cases.append((f"random {S} states, 3x3, H=20", game, dict(tau=0.5, epsilon=0.3), None))
    header = (f"{'case':34s} {'states':>6s} {'H':>4s} {'wall (s)':>9s} {'cpu (s)':>8s} {'+expl':>7s} "
              f"{'+expl cpu':>9s} {'residual':>9s} {'exploit.':>9s} {'per-state (s)':>13s} {'ratio':>7s}  target")
    print(header)
    print("-" * len(header))
    for name, game, kw, target in cases:
        t, c, _ = _median_time(lambda: rqe.solve_markov(game, progress=False, exploitability=False, **kw), reps)
        t_full, c_full, res = _median_time(lambda: rqe.solve_markov(game, progress=False, **kw), 1)
        stage_kw = {k: kw[k] for k in ("tau", "epsilon", "risk", "regularizer") if k in kw}
        if kw.get("env_risk") is not None or kw.get("value", "regularized") != "regularized":
            base, approx = float("nan"), False          # the baseline backs up the regularised value only
        else:
            base, approx = _baseline(game, stage_kw, BASELINE_STATES)
        expl = "n/a" if res.exploitability is None else f"{np.max(res.exploitability):9.1e}"
        verdict = "" if target is None else (f"{'PASS' if t < target else 'MISS'} (< {target:g} s)")
        ratio = f"{base / t:6.0f}x" if np.isfinite(base) else "    n/a"
        base_s = f"{'~' if approx else ' '}{base:12.2f}" if np.isfinite(base) else f"{'n/a':>13s}"
        extra, extra_c = max(t_full - t, 0.0), max(c_full - c, 0.0)
        print(f"{name:34s} {game.n_states:6d} {game.horizon:4d} {t:9.3f} {c:8.3f} {extra:7.3f} {extra_c:9.3f} "
              f"{np.max(res.residual):9.1e} {expl:>9s} {base_s} {ratio}  {verdict}"
              f"{'' if res.success else '  (NOT CONVERGED)'}")


if __name__ == "__main__":
    main()
