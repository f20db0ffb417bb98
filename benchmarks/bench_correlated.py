"""Correlated and coarse correlated equilibria: rqe.solve_correlated against OpenSpiel's CE solvers.

Run from the repository root (``rqe`` must be importable)::

    PYTHONPATH=. python benchmarks/bench_correlated.py [--quick]

It takes a few minutes, most of it in OpenSpiel's maximum-Gini CE of the 20x20 game (``--quick``:
under a minute, smaller games), and always exits 0.

What it measures
----------------
1. ``rqe.solve_correlated`` on seeded random games (payoffs uniform on [0, 1) from
   ``numpy.random.default_rng(seed)``): two players with n = 5, 20, 50 actions each, three
   players 8x8x8 and four players 5x5x5x5, for ``kind="ce"`` and ``"cce"`` with the welfare
   objective (a linear program, HiGHS).  Columns: the *build* time (sparse deviation matrix plus
   the cvxpy problem compiled for the solver: ``Problem.get_problem_data``, best of three), the median total
   time of ``solve_correlated`` after one warm-up call, the certificate (largest deviation gain,
   recomputed in numpy) and the welfare.
2. The same games through OpenSpiel's correlated-equilibrium meta-solvers of JPSRO
   (``open_spiel.python.algorithms.jpsro.FLAG_TO_FUNC``: ``"mwce"`` / ``"mwcce"``, maximum-welfare
   CE / CCE, their own constraint builders and cvxpy programs; ``"mgce"`` / ``"mgcce"``, maximum
   Gini impurity, a quadratic program).  OpenSpiel's welfare solvers default to ECOS, which
   current cvxpy no longer bundles: the benchmark sets ``jpsro.DEFAULT_ECOS_SOLVER_KWARGS`` to
   HiGHS, the LP solver rqe uses, for the duration of the call (so the ratio compares the two
   programs, not two LP solvers).  The Gini solvers are left as shipped (CVXOPT, falling back to
   OSQP).  For them rqe runs the same objective as a callable,
   ``objective=lambda mu, g: -cvxpy.sum_squares(mu)`` (Clarabel).  Every peer answer gets the
   same numpy certificate (:func:`rqe.solvers.correlated.deviation_gains`); ``peer/rqe`` is the
   ratio of median times measured in this run, ``welfare diff`` the peer's welfare minus rqe's.
   Skipped when OpenSpiel is not installed.
3. The collapse of the player-adversary CCE (:func:`rqe.analysis.cce_collapse`) on the stag hunt
   for the three pairings of risk and regulariser, ``epsilon = 0.5`` and ``epsilon * tau`` from
   0.05 to 2: spread of the farthest certified CCE from the RQE, the distance of its marginals
   to the RQE, and the MPS product.
4. The traced Nash selections ``NashSet.select("logit")`` and ``select("rqe")`` on chicken, two
   stag hunts, the battle of the sexes and seeded random 4x4 games: the index of the equilibrium
   selected, the branch's distance to it and the time, next to pygambit's ``logit_solve`` (time
   and l1 distance of its end point to rqe's logit selection) where installed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time
import warnings

import numpy as np

import rqe
from rqe.solvers.correlated import build_program, deviation_gains

CASES = (("2p 5x5", (5, 5)), ("2p 20x20", (20, 20)), ("2p 50x50", (50, 50)), ("3p 8x8x8", (8, 8, 8)),
         ("4p 5x5x5x5", (5, 5, 5, 5)))
QUICK_CASES = (("2p 5x5", (5, 5)), ("2p 20x20", (20, 20)), ("4p 5x5x5x5", (5, 5, 5, 5)))
GINI_CASES = ("2p 5x5", "2p 20x20", "4p 5x5x5x5")
QUICK_GINI_CASES = ("2p 5x5",)
BUILD_TARGET = 1.0          # seconds: "builds well under a second"


def timed(fn, reps, warm_up=True):
    """One warm-up call (unless ``warm_up`` is false), then ``reps`` timed calls: the median seconds and the output."""
    if warm_up:
        fn()
    times, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def build_seconds(game, kind):
    """Time to assemble the deviation matrix and compile the cvxpy program, as solve_correlated does."""
    start = time.perf_counter()
    program = build_program(game, kind=kind, objective="welfare", solver=None)
    program.problem.get_problem_data(program.solver, canon_backend=program.backend)
    return time.perf_counter() - start


def certificate(game, dist, kind):
    return max(0.0, max(float(g.max()) for g in deviation_gains(game, dist, kind=kind)))


def welfare(game, dist):
    return float(sum(np.sum(p * dist) for p in game.payoffs))


@contextlib.contextmanager
def openspiel_lp_solver(jpsro):
    """Let OpenSpiel's welfare solvers use HiGHS instead of the ECOS they default to."""
    saved = jpsro.DEFAULT_ECOS_SOLVER_KWARGS
    jpsro.DEFAULT_ECOS_SOLVER_KWARGS = {"solver": "HIGHS"}
    try:
        yield
    finally:
        jpsro.DEFAULT_ECOS_SOLVER_KWARGS = saved


def load_openspiel():
    try:
        import pyspiel  # noqa: F401
        from open_spiel.python.algorithms import jpsro
    except ImportError:
        return None
    return jpsro


def run_openspiel(jpsro, flag, game):
    meta_game = np.asarray(game.payoffs, float)
    repeats = [np.ones(k) for k in game.n_actions]
    with warnings.catch_warnings(), openspiel_lp_solver(jpsro):
        warnings.simplefilter("ignore")
        dist, _ = jpsro.FLAG_TO_FUNC[flag](meta_game, repeats)
    dist = np.clip(np.asarray(dist, float).reshape(game.n_actions), 0.0, None)
    return dist / dist.sum()


def print_environment():
    import cvxpy
    import scipy

    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"rqe {rqe.__version__} | Python {platform.python_version()} | numpy {np.__version__} | scipy "
          f"{scipy.__version__} | cvxpy {cvxpy.__version__} ({', '.join(cvxpy.installed_solvers())}) | "
          f"{platform.machine()} {platform.system()} | cores {os.cpu_count()} | load {load}")


def bench_welfare(cases, reps, jpsro):
    print(f"\nMaximum-welfare CE / CCE (median of {reps} after a warm-up; peer = OpenSpiel jpsro with HiGHS)")
    print(f"{'game':<11} {'kind':<4} {'build':>8} {'rqe time':>9} {'rqe regret':>10} {'welfare':>9} "
          f"{'peer time':>10} {'peer regret':>11} {'welfare diff':>12} {'peer/rqe':>8}")
    misses = []
    for seed, (label, shape) in enumerate(cases):
        game = rqe.NormalFormGame(list(np.random.default_rng(seed).random((len(shape), *shape))))
        for kind in ("ce", "cce"):
            build = min(build_seconds(game, kind) for _ in range(3))
            if build > BUILD_TARGET:
                misses.append(f"{label} {kind} build {build:.2f} s")
            seconds, res = timed(lambda: rqe.solve_correlated(game, kind=kind), reps)
            line = (f"{label:<11} {kind:<4} {build * 1e3:6.1f}ms {seconds * 1e3:7.1f}ms {res.regret:10.1e} "
                    f"{res.payoffs.sum():9.4f}")
            if jpsro is not None:
                flag = "mwce" if kind == "ce" else "mwcce"
                peer_seconds, dist = timed(lambda: run_openspiel(jpsro, flag, game), max(1, reps // 2))
                line += (f" {peer_seconds * 1e3:8.1f}ms {certificate(game, dist, kind):11.1e} "
                         f"{welfare(game, dist) - res.payoffs.sum():12.1e} {peer_seconds / seconds:7.1f}x")
            print(line + ("" if res.success else "  (rqe: not certified)"))
    print(f"Build target (< {BUILD_TARGET:g} s for every case): " + ("PASS" if not misses else
                                                                   "MISS " + "; ".join(misses)))


def bench_gini(cases, reps, jpsro, quick):
    import cvxpy as cp

    print("\nMaximum-Gini CE / CCE (rqe: callable objective -sum(mu^2), Clarabel, median of reps; peer: jpsro mgce / "
          "mgcce as shipped, one run)")
    print(f"{'game':<11} {'kind':<4} {'rqe time':>9} {'rqe regret':>10} {'peer time':>10} {'peer regret':>11} "
          f"{'|mu - peer|':>11} {'peer/rqe':>8}")
    for seed, (label, shape) in enumerate(cases):
        if label not in (QUICK_GINI_CASES if quick else GINI_CASES):
            continue
        game = rqe.NormalFormGame(list(np.random.default_rng(seed).random((len(shape), *shape))))
        for kind in ("ce", "cce"):
            seconds, res = timed(lambda: rqe.solve_correlated(game, kind=kind,
                                                              objective=lambda mu, g: -cp.sum_squares(mu)), reps)
            flag = "mgce" if kind == "ce" else "mgcce"
            peer_seconds, dist = timed(lambda: run_openspiel(jpsro, flag, game), 1, warm_up=False)
            print(f"{label:<11} {kind:<4} {seconds * 1e3:7.1f}ms {res.regret:10.1e} {peer_seconds * 1e3:8.1f}ms "
                  f"{certificate(game, dist, kind):11.1e} {np.abs(dist - res.distribution).max():11.1e} "
                  f"{peer_seconds / seconds:7.1f}x")


def bench_collapse(quick):
    print("\nCollapse of the player-adversary CCE to the RQE (stag hunt, epsilon = 0.5, both players; "
          "spread = E|x - x*|_1 of the farthest certified CCE)")
    products = np.array([0.05, 0.25, 0.5, 1.0, 2.0]) if quick else np.array([0.05, 0.15, 0.25, 0.3, 0.5, 0.75,
                                                                               1.0, 1.5, 2.0])
    print(f"{'risk + regularizer':<22} " + " ".join(f"{p:>7g}" for p in products) + "   <- epsilon * tau")
    for risk, reg in (("kl", "log_barrier"), ("reverse_kl", "entropy"), ("kl", "entropy")):
        start = time.perf_counter()
        res = rqe.analysis.cce_collapse(rqe.games.catalog.stag_hunt(), taus=products / 0.5, epsilons=0.5, risk=risk,
                                        regularizer=reg, resolution=3 if quick else 4)
        print(f"{risk + ' + ' + reg:<22} " + " ".join(f"{s:7.3f}" for s in res.spread[:, 0])
              + f"   ({time.perf_counter() - start:.1f} s, max regret {res.regret.max():.0e}, "
                f"certified {res.success})")
        print(f"{'  marginals to RQE':<22} " + " ".join(f"{d:7.3f}" for d in res.distance[:, 0]))
    print("MPS condition eps1 tau1 eps2 tau2 >= 1 holds from epsilon * tau = 1; "
          "the monotonicity bound 16 eps1 eps2 tau1 tau2 > 1 from 0.25.")


def bench_selection(quick):
    print("\nTraced Nash selections (NashSet.select): logit limit and RQE limit (tau = epsilon -> 0); "
          "peer = pygambit logit_solve")
    rng = np.random.default_rng(2)
    games = {"chicken": rqe.games.catalog.chicken(), "stag hunt (tie)": rqe.games.catalog.stag_hunt(),
             "stag hunt 5/4/2": rqe.NormalFormGame.from_bimatrix([[5, 0], [4, 2]], [[5, 4], [0, 2]]),
             "battle of sexes": rqe.games.catalog.battle_of_the_sexes()}
    for k in range(1 if quick else 3):
        games[f"random 4x4 #{k}"] = rqe.NormalFormGame(list(rng.normal(size=(2, 4, 4))))
    try:
        import pygambit as gbt
        make = getattr(gbt, "StrategicGame", gbt.Game).from_arrays
    except ImportError:
        gbt = None
    print(f"{'game':<17} {'#eq':>3} {'logit':>5} {'distance':>9} {'time':>8} {'rqe':>5} {'distance':>9} {'time':>8} "
          f"{'gambit time':>11} {'gambit-logit':>12}")
    for name, game in games.items():
        eqs = rqe.solve_nash(game)
        t_logit, logit = timed(lambda: eqs.select("logit"), 1, warm_up=False)
        t_rqe, limit = timed(lambda: eqs.select("rqe"), 1, warm_up=False)
        peer = ""
        if gbt is not None:
            g = make(*[np.asarray(p).tolist() for p in game.payoffs])
            t_gambit, out = timed(lambda: gbt.nash.logit_solve(g), 1, warm_up=False)
            if out.equilibrium is None:
                peer = f"{t_gambit * 1e3:9.1f}ms  failed: {out.reason.name}"
            else:
                theirs = [np.array([float(v) for _, v in out.equilibrium[player]]) for player in g.players]
                gap = max(np.abs(a - b).sum() for a, b in zip(logit.equilibrium.strategies, theirs))
                peer = f"{t_gambit * 1e3:9.1f}ms {gap:12.1e}"
        print(f"{name:<17} {len(eqs):>3} {str(logit.index):>5} {logit.distance:9.1e} {t_logit * 1e3:6.0f}ms "
              f"{str(limit.index):>5} {limit.distance:9.1e} {t_rqe * 1e3:6.0f}ms {peer}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small games only (a few seconds)")
    args = parser.parse_args()
    start = time.perf_counter()
    print_environment()
    jpsro = load_openspiel()
    if jpsro is None:
        print("OpenSpiel (pyspiel) is not installed: peer columns skipped.")
    cases = QUICK_CASES if args.quick else CASES
    reps = 3 if args.quick else 5
    bench_welfare(cases, reps, jpsro)
    if jpsro is not None:
        bench_gini(cases, reps, jpsro, args.quick)
    bench_collapse(args.quick)
    bench_selection(args.quick)
    print(f"\nTotal run time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
