"""The speed table of issue 15: every row timed against its peer (or target) in the same run.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_speed.py [--reps 5] [--skip-figure]

Peers: pygambit (``logit_solve_branch``, ``logit_solve_lambda``; its API differs across
versions and is detected: ``StrategicGame.from_arrays`` in 17.x, ``Game.from_arrays`` in
16.x; ``pip install --pre pygambit`` gets the 17.0 beta wheels, 16.x builds from source),
QuantEcon (``lemke_howson``, after numba compilation on a small game) and nashpy (import
time).  A peer that is not installed is reported as such.  Rows without a peer are compared
with the issue's target.

Timing: the machine this runs on may be shared, so each row calls rqe and its peer in
alternation, ``--reps`` times, in this one process, and reports medians of wall and CPU
time; the ratio is ``rqe / peer`` (above 1: rqe is slower), in wall time and in CPU time.
Rows without a peer print the ratio to the issue's target instead.  Every rqe answer is also checked (residual,
regret or pivots) so that a fast wrong answer cannot pass.  Games are seeded with
``numpy.random.default_rng(seed)``; two-player payoffs are ``rng.random((n, n))`` for
player 1 then player 2 (the games of ``bench_nash.py``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import rqe
from rqe.games import catalog
from rqe.solvers._regret import max_regret

ROOT = Path(__file__).resolve().parents[1]
ROWS = []


def random_game(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, n)), rng.random((n, n))


class Timing(float):
    """Median wall seconds, carrying the median CPU seconds (``time.process_time``) as ``cpu``.

    Multiplying or dividing by a number scales both.  On a shared machine CPU times move less
    than wall times, so the ratio of CPU times is the fairer comparison.
    """

    def __new__(cls, wall: float, cpu: float | None = None):
        out = super().__new__(cls, wall)
        out.cpu = cpu
        return out

    def _scaled(self, factor: float) -> Timing:
        return Timing(float(self) * factor, None if self.cpu is None else self.cpu * factor)

    def __mul__(self, other):
        return self._scaled(float(other)) if isinstance(other, (int, float)) else float(self) * other

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._scaled(1.0 / float(other)) if isinstance(other, (int, float)) and not isinstance(other, Timing) \
            else float(self) / other


def alternate(fns: list, reps: int) -> list[Timing]:
    """Median wall (and CPU) seconds of each function, called in turn ``reps`` times after one warm-up call each."""
    for f in fns:
        f()
    times = [[] for _ in fns]
    cpus = [[] for _ in fns]
    for _ in range(reps):
        for k, f in enumerate(fns):
            start, start_cpu = time.perf_counter(), time.process_time()
            f()
            times[k].append(time.perf_counter() - start)
            cpus[k].append(time.process_time() - start_cpu)
    return [Timing(float(np.median(t)), float(np.median(c))) for t, c in zip(times, cpus)]


def row(task: str, ours: float, peer: str, theirs: float | None, target: float | None = None, note: str = ""):
    """Record and print one row: the ratio rqe / peer (wall and CPU) or, without a peer, rqe / target.

    ``target`` is a ratio when there is a peer and seconds otherwise; the verdict compares
    the wall-time ratio (or time) with it.
    """
    cpu_ours, cpu_theirs = getattr(ours, "cpu", None), getattr(theirs, "cpu", None)
    if theirs:
        ratio = ours / theirs
        cpu_ratio = cpu_ours / cpu_theirs if cpu_ours and cpu_theirs else None
    else:
        ratio = ours / target if target else None
        cpu_ratio = cpu_ours / target if cpu_ours and target else None
    verdict = ""
    if target is not None:
        verdict = "MET" if (ratio if theirs else ours) <= target else "MISSED"
    ROWS.append((task, ours, peer, theirs, ratio, cpu_ratio, target, verdict, note))
    cpu_text = f" (CPU {cpu_ours * 1e3:.2f})" if cpu_ours else ""
    peer_text = (f"{peer} {theirs * 1e3:.2f} ms" + (f" (CPU {cpu_theirs * 1e3:.2f})" if cpu_theirs else "")
                 if theirs else peer)
    ratio_text = "-" if ratio is None else f"{ratio:.2f}" + (f" (CPU {cpu_ratio:.2f})" if cpu_ratio else "")
    if not theirs and ratio is not None:
        ratio_text += " of target"
    target_text = "" if target is None else (f"ratio <= {target:g}" if theirs else f"<= {target * 1e3:g} ms")
    print(f"| {task} | {ours * 1e3:.2f} ms{cpu_text} | {peer_text} | {ratio_text} | {target_text} {verdict} | {note} |",
          flush=True)


# --------------------------------------------------------------------------- peers
def gambit():
    try:
        import pygambit
    except ImportError:
        return None
    return pygambit


def gambit_game(gbt, payoffs):
    make = getattr(gbt, "StrategicGame", None) or gbt.Game
    return make.from_arrays(*payoffs)


def gambit_profile(game, profile) -> list[np.ndarray]:
    out = []
    for player in game.players:
        if hasattr(player, "strategies"):          # pygambit 16.x
            out.append(np.array([float(profile[s]) for s in player.strategies]))
        else:                                      # 17.x: players are labels, profile[player] yields pairs
            out.append(np.array([float(p) for _, p in profile[player]]))
    return out


def gambit_branch(gbt):
    return getattr(getattr(gbt, "qre", None), "logit_solve_branch", None)


def gambit_lambda(gbt):
    return getattr(getattr(gbt, "qre", None), "logit_solve_lambda", None)


def quantecon():
    try:
        import quantecon.game_theory as gt
    except ImportError:
        return None
    gt.lemke_howson(gt.NormalFormGame((gt.Player(np.eye(2)), gt.Player(np.eye(2)))))   # numba compilation
    return gt


# --------------------------------------------------------------------------- rows
def rows_small(reps: int):
    """2x2 RQE, sweep and solve_all: no peer, the issue's targets."""
    games = catalog.experimental_games()

    def solve_all_13():
        for g in games:
            fit = g.fit_kl_log_barrier
            res = rqe.solve(g.game, tau=fit["tau"], epsilon=fit["epsilon"], regularizer="log_barrier")
            assert res.success
    (t13,) = alternate([solve_all_13], reps)
    row("RQE of one 2x2 game (median over the 13 experimental games)", t13 / len(games), "target", None, 0.2e-3)

    game = catalog.free_riding_game()
    taus = np.linspace(0.0, 5.0, 1000)
    (tsweep,) = alternate([lambda: rqe.sweep(game, taus=taus, epsilons=0.2, progress=False)], max(1, reps // 2))
    row("rqe.sweep, 1000 tau points, 2x2 free-riding (eps 0.2)", tsweep, "target", None, 50e-3)

    (tall,) = alternate([lambda: rqe.solve_all(game, tau=0.5, epsilon=0.2)], reps)
    assert len(rqe.solve_all(game, tau=0.5, epsilon=0.2)) == 3
    row("solve_all, 2x2 free-riding (tau 0.5, eps 0.2: 3 RQE)", tall, "target", None, 5e-3)


def rows_qre(reps: int):
    """Logit QRE at lam = 10 and the principal branch, against Gambit."""
    gbt = gambit()
    cases = [("5x5", np.array(random_game(0, 5))), ("20x20", np.array(random_game(0, 20))),
             ("4x4x4", np.random.default_rng(0).random((3, 4, 4, 4)))]
    for label, payoffs in cases[:2]:
        game = rqe.NormalFormGame(payoffs)
        ours = lambda: rqe.solve_qre(game, lam=10.0)            # noqa: E731
        assert ours().success
        solve_lambda = gambit_lambda(gbt) if gbt else None
        if solve_lambda is None:
            (t,) = alternate([ours], reps)
            row(f"logit QRE at lam = 10, {label}", t, "pygambit not installed", None)
            continue
        g = gambit_game(gbt, payoffs)
        t, tg = alternate([ours, lambda: solve_lambda(g, lam=10.0)], reps)
        row(f"logit QRE at lam = 10, {label}", t, "Gambit logit_solve_lambda", tg, 1.0)
    for label, payoffs in cases:
        game = rqe.NormalFormGame(payoffs)
        path = rqe.qre_path(game)
        assert path.success
        end = [x[-1] for x in path.strategies]
        note = f"rqe {len(path)} points, regret {max_regret(game, end):.1e}"
        solve_branch = gambit_branch(gbt) if gbt else None
        if solve_branch is None:
            (t,) = alternate([lambda: rqe.qre_path(game)], reps)
            row(f"principal logit branch {label}", t, "pygambit not installed", None, note=note)
            continue
        g = gambit_game(gbt, payoffs)
        branch = solve_branch(g)
        theirs = gambit_profile(g, branch[-1].profile)
        note += f"; Gambit {len(branch)} points, regret {max_regret(game, theirs):.1e}"
        t, tg = alternate([lambda: rqe.qre_path(game), lambda: solve_branch(g)], reps)
        row(f"principal logit branch {label}", t, "Gambit logit_solve_branch", tg, 1.0, note)
    solve_lambda = gambit_lambda(gbt) if gbt else None
    if solve_lambda is not None:
        for n in QRE_SIZES:
            rows_qre_random(solve_lambda, gbt, n, reps)


QRE_SIZES = (2, 3, 4, 5, 7, 10)
QRE_GAMES = 15


def rows_qre_random(solve_lambda, gbt, n: int, reps: int):
    """``solve_qre`` at lam = 10 on ``QRE_GAMES`` random n x n games: the game with the median CPU ratio to Gambit.

    "Any size" in the issue: the median over seeds says what a typical game costs; the note gives
    the worst game and how many needed the traced branch (Newton from uniform play failed).
    """
    ratios, pairs, traced = [], [], 0
    for seed in range(QRE_GAMES):
        payoffs = np.array(random_game(seed, n))
        game, g = rqe.NormalFormGame(payoffs), gambit_game(gbt, payoffs)
        res = rqe.solve_qre(game, lam=10.0)
        assert res.success and res.residual <= 1e-10, res.message
        traced += "homotopy" in res.method
        t, tg = alternate([lambda: rqe.solve_qre(game, lam=10.0), lambda: solve_lambda(g, lam=10.0)],
                          max(1, reps // 2))
        ratios.append(t.cpu / tg.cpu)
        pairs.append((t, tg))
    order = np.argsort(ratios)
    median, worst = int(order[len(order) // 2]), int(order[-1])
    t, tg = pairs[median]
    row(f"logit QRE at lam = 10, {n}x{n}, median of {QRE_GAMES} random games", t, "Gambit logit_solve_lambda", tg,
        1.0, f"worst {ratios[worst]:.2f} (seed {worst}); {traced} of {QRE_GAMES} traced the branch")


def rows_lemke_howson(reps: int, seeds=(0, 1)):
    """Lemke-Howson from label 0 against QuantEcon (same pivots), and the default race against both."""
    from rqe.solvers._lemke_howson import lemke_howson

    gt = quantecon()
    for n in (50, 200, 500):
        for seed in seeds:
            A, B = random_game(seed, n)
            game = rqe.NormalFormGame.from_bimatrix(A, B)
            single = lemke_howson(A, B, labels=(0,), max_iter=100_000)
            one = lambda: rqe.solve_nash(game, method="lemke_howson", initial_dropped_label=0)   # noqa: E731
            race = lambda: rqe.solve_nash(game, method="lemke_howson")                          # noqa: E731
            raced = lemke_howson(A, B, labels=tuple(range(8)), max_iter=100_000)
            count = 1 if n == 500 and seed == 0 else reps   # the longest case: 2000 pivots of a 500 x 1001 tableau
            if gt is None:
                t1, tr = alternate([one, race], count)
                row(f"Lemke-Howson label 0, {n}x{n} seed {seed}", t1, "QuantEcon not installed", None,
                    note=f"{single.nit} pivots")
            else:
                qgame = gt.NormalFormGame((gt.Player(A), gt.Player(B.T)))
                _, info = gt.lemke_howson(qgame, init_pivot=0, full_output=True)
                t1, tr, tq = alternate([one, race, lambda: gt.lemke_howson(qgame, init_pivot=0)], count)
                row(f"Lemke-Howson label 0, {n}x{n} seed {seed}", t1, "QuantEcon label 0", tq, 1.5,
                    f"{single.nit} pivots (QuantEcon {info.num_iter})")
                row(f"default Lemke-Howson (race of 8), {n}x{n} seed {seed}", tr, "QuantEcon label 0", tq,
                    note=f"won by label {raced.label} after {raced.nit} pivots in all")
            row(f"  race / own label 0, {n}x{n} seed {seed}", tr, "rqe label 0", t1, 2.0)


def rows_threads(reps: int):
    """Large RQE: the environment's BLAS threads vs one thread, against the mat-vec bound.

    The bound is the four products of one evaluation of the map per Newton step, with the
    game's own matrices: ``x_i @ M_i`` (the adversary's input) and ``M_i @ p_i`` (the payoffs)
    for both players, in double precision on one BLAS thread.  Looping over one matrix only
    would keep its 8 MB in the L3 cache of a machine with 32 MB (as this one has: 1.35 ms
    against 2.4 ms for 1000 x 1000), which no solver reading both players' payoffs can do.
    One thread is set with a threadpoolctl controller made once, outside the timing (making one
    scans the loaded libraries, about 3 ms), as :mod:`rqe._threads` does.
    """
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    for n in (1000, 2000):
        game = rqe.NormalFormGame(np.random.default_rng(2).uniform(size=(2, n, n)))
        (M1, M2), x = game.own_rows, np.full(n, 1.0 / n)
        res = rqe.solve(game, tau=1.0, epsilon=0.1)
        assert res.success

        def matvecs():
            for _ in range(5):
                x @ M1
                M1 @ x
                x @ M2
                M2 @ x

        def solve_one_thread():
            with controller.limit(limits=1, user_api="blas"):
                rqe.solve(game, tau=1.0, epsilon=0.1)

        t_env, t_one = alternate([lambda: rqe.solve(game, tau=1.0, epsilon=0.1), solve_one_thread], max(1, reps // 2))
        with controller.limit(limits=1, user_api="blas"):
            (t_mv,) = alternate([matvecs], reps)
        bound = res.nit * t_mv / 5
        counts = _count_products(game)
        row(f"RQE {n}x{n}, environment's BLAS threads", t_env, "bound: 4 mat-vecs per Newton step", bound, 5.0,
            f"{res.nit} Newton steps, {counts} Jacobian-vector products")
        row(f"RQE {n}x{n}, one BLAS thread (threadpoolctl)", t_one, "bound: 4 mat-vecs per Newton step", bound, 5.0)


def _count_products(game) -> int:
    from rqe.solvers._system import RQESystem

    real, seen = RQESystem.jvp, []
    RQESystem.jvp = lambda self, state, V: seen.append(len(V)) or real(self, state, V)
    try:
        rqe.solve(game, tau=1.0, epsilon=0.1)
    finally:
        RQESystem.jvp = real
    return sum(seen)


def _wall(code: list[str], reps: int) -> Timing:
    """Median wall seconds of running ``code`` in a fresh interpreter, with the child's CPU seconds."""
    import resource

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    times, cpus = [], []
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(code, check=True, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return Timing(float(np.median(times)), float(np.median(cpus)))


def rows_startup(reps: int):
    """Start-up, in fresh interpreters, against nashpy's import and the bare interpreter."""
    py = sys.executable
    cases = {"python": [py, "-c", "pass"], "numpy": [py, "-c", "import numpy"],
             "rqe": [py, "-c", "import rqe; rqe.solve"],
             "cli": [py, "-c", "import sys; from rqe.cli import main; sys.argv = ['rqe', 'solve', 'free_riding_game']; "
                     "main()"],
             "nashpy": [py, "-c", "import nashpy"]}
    t = {k: [] for k in cases}
    for _ in range(reps):
        for k, code in cases.items():
            t[k].append(_wall(code, 1))
    t = {k: Timing(float(np.median(v)), float(np.median([x.cpu for x in v]))) for k, v in t.items()}
    note = (f"bare python {t['python'] * 1e3:.0f} ms, import numpy {t['numpy'] * 1e3:.0f} ms; "
            f"rqe adds {(t['rqe'] - t['numpy']) * 1e3:.0f} ms to numpy "
            f"(CPU {(t['rqe'].cpu - t['numpy'].cpu) * 1e3:.0f} ms)")
    row("python -c 'import rqe; rqe.solve'", t["rqe"], "import nashpy", t["nashpy"], note=note)
    row("  same, absolute", t["rqe"], "target", None, 0.25)
    row("rqe solve free_riding_game (whole command)", t["cli"], "target", None, 0.25,
        note=f"{(t['cli'] - t['numpy']) * 1e3:.0f} ms more than import numpy")


def rows_figure(reps: int):
    script = ROOT / "paper_figures" / "figure1.py"
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "rqe_bench_figure1"
    full = _wall([sys.executable, str(script), "--out", str(out)], 1)
    quick = _wall([sys.executable, str(script), "--out", str(out), "--quick"], 1)
    row("paper_figures/figure1.py", full, "target", None, 2.0)
    row("paper_figures/figure1.py --quick", quick, "target", None, 2.0)


GROUPS = {"small": rows_small, "qre": rows_qre, "lh": rows_lemke_howson, "threads": rows_threads,
          "startup": rows_startup, "figure": rows_figure}
"""The row groups in the order they print; ``--only`` selects some of them."""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="alternating repetitions per row (medians)")
    parser.add_argument("--skip-figure", action="store_true", help="skip the paper figure rows")
    parser.add_argument("--only", nargs="+", choices=sorted(GROUPS), default=sorted(GROUPS),
                        help="run only these groups of rows (default: all)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    load = " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    gbt = gambit()
    print(f"rqe {rqe.__version__} | Python {platform.python_version()} | numpy {np.__version__} | "
          f"{platform.machine()} {platform.system()} | {os.cpu_count()} cores | load average {load} | "
          f"pygambit {getattr(gbt, '__version__', 'not installed')} | OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print("\n| task | rqe wall (CPU) | peer wall (CPU) | rqe / peer (CPU) | target | note |\n|---|---|---|---|---|---|")
    for name, rows in GROUPS.items():
        if name in args.only and not (name == "figure" and args.skip_figure):
            rows(args.reps)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\nload average at the end {load}")


if __name__ == "__main__":
    main()
