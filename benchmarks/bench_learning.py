"""Speed of the exact learning dynamics of ``rqe.learning`` and of Figure 2 end to end.

Run from the repository root (``rqe`` must be importable)::

    PYTHONPATH=. python benchmarks/bench_learning.py [--quick]

It always exits 0; the PASS/MISS lines are informational.  Wall-clock and CPU time
(``time.process_time``) are both printed: on a shared machine the CPU time is the one to
compare, and the ratios in the same run are the robust numbers.

What it measures
----------------
1. ``rqe.learning.srpo`` (NPG, exact adversary) and ``rqe.learning.ippo`` with 20 seeds and
   20,000 iterations each (``early_stop=False``) on the volunteer game
   (``rqe.games.catalog.volunteer_game``, epsilon 0.3, SRPO at twice the measured tau*):
   time per iteration per seed.  Baseline in the same run: the same dynamics one seed at a
   time (``seeds=1`` called 20 times, 2,000 iterations each), which shows what the
   population-as-one-array layout buys.
2. 20 IPPO and 20 SRPO seeds on the volunteer corridor
   (``rqe.games.markov_catalog.volunteer_corridor``, one and two orders, epsilon 0.1): the
   iterations to convergence, the time per iteration per seed, and the time of the
   certificates (best responses on the stacked game of all seeds).
3. Figure 2 (``rqe.figures.figure2``, full mode) end to end; target 30 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings

import numpy as np

import rqe
from rqe.games import catalog, markov_catalog
from rqe.learning._srpo import _train
from rqe.learning._tabular import Tabular

FIGURE_TARGET = 30.0          # seconds, Figure 2 end to end


def _clock(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def volunteer(iters: int, seeds: int) -> None:
    game = catalog.volunteer_game()
    tau = 2 * rqe.analysis.free_riding(game, epsilon=0.3, taus=[0.0, 10.0]).tau_star
    print(f"\n1. volunteer game, epsilon 0.3, SRPO tau = {tau:.4f} (2 tau*), {seeds} seeds x {iters} NPG iterations")
    for name, kw in (("IPPO", {"tau": 0.0}), ("SRPO", {"tau": tau})):
        res, wall, cpu = _clock(lambda: rqe.learning.srpo(game, epsilon=0.3, seeds=seeds, iters=iters, lr=0.3,
                                                          rng=0, early_stop=False, history=10, **kw))
        per = cpu / (res.nit * seeds)
        print(f"   {name}: {res.nit} iterations in {wall:.2f} s wall / {cpu:.2f} s CPU; {per * 1e6:.2f} us CPU per "
              f"iteration per seed; {int(res.converged.sum())}/{seeds} seeds converged")
    base_iters = max(1, iters // 10)
    _, _, cpu_pop = _clock(lambda: rqe.learning.srpo(game, tau=tau, epsilon=0.3, seeds=seeds, iters=base_iters,
                                                      lr=0.3, rng=0, early_stop=False, history=10))
    _, _, cpu_loop = _clock(lambda: [rqe.learning.srpo(game, tau=tau, epsilon=0.3, seeds=1, iters=base_iters, lr=0.3,
                                                       rng=k, early_stop=False, history=10) for k in range(seeds)])
    print(f"   baseline, {base_iters} iterations: one population of {seeds} seeds {cpu_pop:.2f} s CPU, {seeds} "
          f"single-seed runs {cpu_loop:.2f} s CPU: the population is {cpu_loop / cpu_pop:.1f}x faster")


def corridor(seeds: int) -> None:
    for orders in (1, 2):
        game = markov_catalog.volunteer_corridor(orders=orders)
        print(f"\n2. volunteer corridor, {orders} order(s): {game.n_states} states, horizon {game.horizon}, "
              f"{seeds} seeds")
        for name, tau in (("IPPO", 0.0), ("SRPO", 8.0)):
            res, wall, cpu = _clock(lambda: rqe.learning.srpo(game, tau=tau, epsilon=0.1, seeds=seeds, iters=5000,
                                                              lr=0.3, rng=0, history=10))
            tab = Tabular(game)
            start = tab.initial_logp(np.random.default_rng(0).standard_normal((seeds, 2, tab.T, tab.S, tab.n)))
            _, _, cpu_train = _clock(lambda: _train(
                tab, start,
                tau=np.full(2, tau), epsilon=np.full(2, 0.1), iters=res.nit, lr=0.3, update="npg",
                adversary="exact", adversary_lr=0.3, early_stop=True, history=10, keep_policies=False))
            per = cpu_train / (res.nit * seeds)
            team = res.returns.sum(axis=1)
            print(f"   {name} (tau = {tau:g}): {res.nit} iterations, {int(res.converged.sum())}/{seeds} converged; "
                  f"total {wall:.2f} s wall / {cpu:.2f} s CPU, of which training {cpu_train:.2f} s CPU "
                  f"({per * 1e3:.3f} ms per iteration per seed) and certificates {cpu - cpu_train:.2f} s CPU; "
                  f"team return {team.min():.3f}..{team.max():.3f}")


def figure(quick: bool) -> None:
    from rqe.figures import figure2

    with tempfile.TemporaryDirectory() as out:
        numbers, wall, cpu = _clock(lambda: figure2(out, quick=quick))
    verdict = "PASS" if cpu <= FIGURE_TARGET else "MISS"
    print(f"\n3. Figure 2 ({'quick' if quick else 'full'} mode, {numbers['seeds']} seeds): {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU; target {FIGURE_TARGET:g} s: {verdict} (CPU)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 iterations, 6 seeds, quick figure")
    args = parser.parse_args(argv)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("n/a",)
    print(f"rqe {rqe.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, load average {load}")
    warnings.simplefilter("ignore", rqe.ConvergenceWarning)
    seeds = 6 if args.quick else 20
    volunteer(2000 if args.quick else 20_000, seeds)
    corridor(seeds)
    figure(args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
