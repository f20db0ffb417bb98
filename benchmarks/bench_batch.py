"""Speed of the batched small-game kernel in ``rqe.sweep`` against point-by-point warm-started solves.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_batch.py [--quick]

It always exits 0; the PASS/MISS line is informational (target from the speed issue: 1000 tau
points of the 2x2 free-riding game in at most 50 ms).

Cases: ``rqe.sweep`` over 1000 (``--quick``: 200) values of ``tau`` in ``[0, 4]`` at
``epsilon = 0.2`` (the line crosses the region with three RQE) for the free-riding game, over
a grid of 100 ``tau`` x 10 ``epsilon`` values of the same game, and over 300 values for a
seeded random 3x3 game at ``epsilon = 0.1``.  The baseline is the loop
the sweep ran before it was batched: :func:`rqe.solve` at each point, warm-started from the
previous point's equilibrium.  Both are timed in the same run (wall clock and process CPU,
best of ``reps``), with BLAS on one thread (threadpoolctl, when installed); the largest
difference between their strategies shows that they follow the same branch.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import rqe

TARGET = 0.050          # seconds for 1000 points of the 2x2 free-riding game


def _best_time(fn, reps):
    walls, cpus, out = [], [], None
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), out


def _point_by_point(game, taus, eps):
    rows, x0 = [], None
    for tau in taus:
        res = rqe.solve(game, tau=tau, epsilon=eps, x0=x0)
        rows.append(res.strategies)
        x0 = res.strategies if res.success else None
    return [np.array([r[i] for r in rows]) for i in range(game.n_players)]


def main(argv=None):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                  # pragma: no cover - optional
        return _main(argv)
    with threadpool_limits(1):
        return _main(argv)


def _main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and repetitions")
    args = ap.parse_args(argv)
    reps = 2 if args.quick else 5
    print(f"rqe {rqe.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(20261204)
    free = rqe.games.catalog.free_riding_game()
    cases = [("free riding 2x2, eps 0.2", free, 200 if args.quick else 1000, [0.2]),
             ("free riding grid, 10 eps", free, 20 if args.quick else 100, list(np.linspace(0.1, 1.0, 10))),
             ("random 3x3, eps 0.1", rqe.NormalFormGame.from_bimatrix(rng.random((3, 3)), rng.random((3, 3))),
              100 if args.quick else 300, [0.1])]
    header = (f"{'case':26s} {'points':>6s} {'batch wall':>10s} {'batch cpu':>9s} {'loop wall':>9s} "
              f"{'loop cpu':>8s} {'ratio (cpu)':>11s} {'max diff':>9s} {'residual':>9s}  target")
    print(header)
    print("-" * len(header))
    for k, (name, game, K, eps) in enumerate(cases):
        taus = np.linspace(0.0, 4.0, K)
        rqe.sweep(game, taus=taus[:5], epsilons=eps, progress=False)          # warm-up (imports, caches)
        w, c, res = _best_time(lambda: rqe.sweep(game, taus=taus, epsilons=eps, progress=False), reps)
        w0, c0, loops = _best_time(lambda: [_point_by_point(game, taus, e) for e in eps], 1)
        loop = [np.concatenate([line[i] for line in loops]) for i in range(game.n_players)]
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(res.strategies, loop))
        verdict = ""
        if k == 0 and not args.quick:
            verdict = f"{'PASS' if w <= TARGET else 'MISS'} (<= {TARGET * 1e3:g} ms wall)"
        print(f"{name:26s} {K * len(eps):6d} {w * 1e3:8.1f}ms {c * 1e3:7.1f}ms {w0:8.2f}s {c0:7.2f}s {c0 / c:10.0f}x "
              f"{diff:9.1e} {np.max(res.residual):9.1e}  {verdict}")


if __name__ == "__main__":
    main()
