"""Speed and accuracy benchmark of ``rqe.solve``, with the authors' projected gradient as baseline.

Run from the repository root (``rqe`` must be importable; the script does not touch
``sys.path``)::

    PYTHONPATH=. python benchmarks/bench_rqe.py     # or: python -m benchmarks.bench_rqe

or, with ``pip install -e .``, ``python benchmarks/bench_rqe.py``.  It takes under a minute and
always exits 0; the PASS/MISS lines are informational.

What it measures
----------------
1. ``rqe.solve`` with its defaults (``method="auto"``, ``tol=1e-10``) on

   * the 13 experimental 2x2 games of ``rqe.games.catalog.experimental_games()`` (GHP4,
     SC1-SC12) with the KL penalty, the log-barrier regulariser and the fitted parameters
     ``fit_kl_log_barrier``;
   * random two-player games 10x10, 100x100 and 1000x1000 and a three-player 10x10x10
     game (payoffs uniform on [0, 1] from ``numpy.random.default_rng``, ``tau=1``,
     ``epsilon=0.1``, KL penalty, entropy regulariser).

   Each case is called once as a warm-up, then timed ``reps`` times with
   ``time.perf_counter``; the table gives the median time, the fixed-point residual, the
   duality gap, the method used and ``success``.  Targets: every experimental game reaches
   residual <= 1e-12 in <= 2 ms; 1000x1000 in <= 0.5 s; 10x10x10 in <= 0.1 s.

2. A re-implementation of the projected-gradient method of Mazumdar, Panaganti and Shi
   (ICLR 2025; spec ``theory.md`` 2.5, recipe S2) on the same 13 games: simultaneous
   gradient steps of the four players of the 2N-player game (players minimise
   ``J_i = -x_i.A_i p_i + eps_i nu(x_i)``, adversaries ``Jbar_i = x_i.A_i p_i + KL(p_i, x_-i)/tau_i``,
   ``nu(x) = -sum log x``), clipping to ``[1e-8, 1 - 1e-8]`` and Euclidean projection onto
   the simplex, with the published step sizes and iteration counts (``eta=2e-4``, 10 000
   iterations; GHP4 ``eta=1e-4``, 1 000 iterations) and a random start drawn from a fresh
   ``numpy.random.default_rng(73)`` per game.  Reported: its median time, rqe's speed-up,
   the largest difference between its strategies and rqe's exact RQE, and the distance of
   both to the observed play ``(P(U), P(L))``.

The machine description (versions, cores, load) and a BLAS check are printed first and the
check again at the end: with pip wheels numpy and scipy each bundle an OpenBLAS with its own
thread pool, and on a busy machine alternating calls into the two can be slowed down by two
orders of magnitude, which inflates the dense-Newton cases (100x100).  No thread count is
set: the numbers are what a user with this installation sees.
"""

from __future__ import annotations

import os
import platform
import time
from functools import partial

import numpy as np
import scipy
import scipy.linalg

import rqe
from rqe.games.catalog import experimental_games

EXPERIMENTAL_TARGET = (1e-12, 2e-3)   # residual, seconds
SIZE_TARGETS = {"random 1000x1000": 0.5, "3-player 10x10x10": 0.1}
REPS_2X2 = 25
RANDOM_CASES = (("random 10x10", (2, 10, 10), 15), ("random 100x100", (2, 100, 100), 7),
                ("random 1000x1000", (2, 1000, 1000), 5), ("3-player 10x10x10", (3, 10, 10, 10), 9))
PGD_REPS = 3
PGD_SEED = 73


def timed(fn, reps):
    """One warm-up call of ``fn``, then ``reps`` timed calls: (median, min) seconds and the last output."""
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), min(times), out


def project_rows(v):
    """Euclidean projection of each row of ``v`` onto the probability simplex (sort-based)."""
    u = -np.sort(-v, axis=1)
    excess = np.cumsum(u, axis=1) - 1.0
    count = np.sum(u * np.arange(1, v.shape[1] + 1) > excess, axis=1)
    theta = excess[np.arange(v.shape[0]), count - 1] / count
    return np.maximum(v - theta[:, None], 0.0)


def pgd(game, *, tau, epsilon, eta, iterations, rng):
    """Projected gradient play on the 4-player game of a 2-player game, KL penalty + log-barrier.

    Rows of the state: player 1, adversary 1 (over player 2's actions), player 2, adversary 2.
    Returns the players' strategies ``(x_1, x_2)``.
    """
    A1, A2 = game.own_rows
    t1, t2 = tau
    e1, e2 = epsilon
    z = rng.random((4, A1.shape[0]))
    z /= z.sum(axis=1, keepdims=True)
    grad = np.empty_like(z)
    for _ in range(iterations):
        x1, p1, x2, p2 = z
        grad[0] = -A1 @ p1 - e1 / x1
        grad[1] = A1.T @ x1 + (np.log(p1 / x2) + 1.0) / t1
        grad[2] = -A2 @ p2 - e2 / x2
        grad[3] = A2.T @ x2 + (np.log(p2 / x1) + 1.0) / t2
        z = project_rows(np.clip(z - eta * grad, 1e-8, 1.0 - 1e-8))
    return z[0], z[2]


def verdict(ok):
    return "PASS" if ok else "MISS"


def print_calibration(when):
    """Machine load, and whether numpy's and scipy's BLAS libraries slow each other down.

    The dense Newton step of rqe alternates numpy products with a scipy LU factorisation.
    Pip wheels of numpy and scipy each bundle their own OpenBLAS with its own thread pool;
    on a busy machine the two pools can compete, which the second timing reveals.
    """
    rng = np.random.default_rng(0)
    J, X, M = rng.uniform(size=(200, 200)), rng.uniform(size=(200, 100)), rng.uniform(size=(100, 100))
    numpy_only = timed(lambda: (X @ M, np.linalg.solve(J, X)), 40)[0]
    mixed = timed(lambda: (X @ M, scipy.linalg.lu_factor(J)), 40)[0]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"{when}: load average {load} | BLAS check (200x200, median of 40): numpy matmul + numpy solve "
          f"{numpy_only * 1e3:.2f} ms, numpy matmul + scipy lu_factor {mixed * 1e3:.2f} ms "
          "(similar when healthy; far larger = competing OpenBLAS thread pools)")


def print_environment():
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"rqe {rqe.__version__} | Python {platform.python_version()} | numpy {np.__version__} | "
          f"scipy {scipy.__version__} | {platform.machine()} {platform.system()}")
    print(f"cores: {os.cpu_count()} (usable {affinity}) | OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} | OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print_calibration("start")


def row(case, reps, seconds, fastest, res, target, ok):
    print(f"{case:<18} {reps:>4} {seconds * 1e3:11.3f} ms {fastest * 1e3:9.3f} ms {res.residual:10.2e} "
          f"{res.gap:10.2e} {res.method:<16} {str(res.success):<7} {target:<20} {verdict(ok) if target else ''}")


def bench_experimental(games):
    """Time rqe.solve on the experimental games; return {name: (seconds, result)}."""
    out = {}
    for g in games:
        fit = g.fit_kl_log_barrier
        seconds, fastest, res = timed(partial(rqe.solve, g.game, tau=fit["tau"], epsilon=fit["epsilon"],
                                              risk="kl", regularizer="log_barrier"), REPS_2X2)
        out[g.name] = (seconds, res)
        row(g.name, REPS_2X2, seconds, fastest, res, "res<=1e-12, <=2 ms", experimental_ok(seconds, res))
    return out


def experimental_ok(seconds, res):
    residual_target, time_target = EXPERIMENTAL_TARGET
    return res.success and res.residual <= residual_target and seconds <= time_target


def bench_random():
    """Time rqe.solve on the random games; return {case: (seconds, result)}."""
    out = {}
    for k, (case, shape, reps) in enumerate(RANDOM_CASES):
        game = rqe.NormalFormGame(np.random.default_rng(k).uniform(size=shape))
        seconds, fastest, res = timed(partial(rqe.solve, game, tau=1.0, epsilon=0.1), reps)
        out[case] = (seconds, res)
        limit = SIZE_TARGETS.get(case)
        row(case, reps, seconds, fastest, res, f"<={limit:g} s" if limit else "",
            bool(limit) and res.success and seconds <= limit)
    return out


def bench_pgd(games, exact):
    print(f"\nProjected gradient (authors' method, spec 2.5 S2), {PGD_REPS} timed runs after a warm-up; "
          "distances = max abs difference of the strategies")
    print(f"{'game':<6} {'eta':>7} {'iters':>6} {'PGD time':>11} {'rqe time':>10} {'speed-up':>9} "
          f"{'|PGD-RQE|':>10} {'|PGD-obs|':>10} {'|RQE-obs|':>10}")
    diffs, speedups = [], []
    for g in games:
        fit = g.fit_kl_log_barrier
        eta, iterations = (1e-4, 1_000) if g.name.startswith("GHP") else (2e-4, 10_000)
        seconds, _, (x1, x2) = timed(lambda: pgd(g.game, tau=fit["tau"], epsilon=fit["epsilon"], eta=eta,
                                                 iterations=iterations, rng=np.random.default_rng(PGD_SEED)),
                                     PGD_REPS)
        rqe_seconds, res = exact[g.name]
        obs = np.asarray(g.observed)
        pgd_first = np.array([x1[0], x2[0]])
        rqe_first = np.array([s[0] for s in res.strategies])
        diff = max(np.max(np.abs(x1 - res.strategies[0])), np.max(np.abs(x2 - res.strategies[1])))
        diffs.append(diff)
        speedups.append(seconds / rqe_seconds)
        print(f"{g.name:<6} {eta:>7.0e} {iterations:>6} {seconds * 1e3:8.1f} ms {rqe_seconds * 1e3:7.3f} ms "
              f"{seconds / rqe_seconds:8.0f}x {diff:10.2e} {np.max(np.abs(pgd_first - obs)):10.4f} "
              f"{np.max(np.abs(rqe_first - obs)):10.4f}")
    print(f"PGD vs exact RQE: max difference {max(diffs):.2e}, median {np.median(diffs):.2e}; "
          f"rqe speed-up median {np.median(speedups):.0f}x (min {min(speedups):.0f}x)")


def main():
    start = time.perf_counter()
    print_environment()
    print(f"\n{'case':<18} {'reps':>4} {'median time':>14} {'min time':>12} {'residual':>10} {'gap':>10} "
          f"{'method':<16} {'success':<7} {'target':<20} verdict")
    games = experimental_games()
    exact = bench_experimental(games)
    sizes = bench_random()

    misses = [name for name, (seconds, res) in exact.items() if not experimental_ok(seconds, res)]
    print("\nTargets (informational):")
    print(f"  {verdict(not misses)}  all 13 experimental games residual <= 1e-12 in <= 2 ms"
          + (f" (missed: {', '.join(misses)})" if misses else ""))
    for case, limit in SIZE_TARGETS.items():
        seconds, res = sizes[case]
        print(f"  {verdict(res.success and seconds <= limit)}  {case} in <= {limit:g} s "
              f"(median {seconds:.3f} s, success={res.success})")

    bench_pgd(games, exact)
    print()
    print_calibration("end")
    print(f"Total run time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
