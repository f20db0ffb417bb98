"""Nash equilibrium solvers of rqe against nashpy, QuantEcon and pygambit, on the same games.

Run ``python benchmarks/bench_nash.py [--budget SECONDS] [--seeds K]``.  Every library
solves the same seeded games (``numpy.random.default_rng(seed)``, payoffs uniform on
[0, 1), player 1's matrix drawn first).  Peers run in a child process that is killed after
``--budget`` seconds (reported as ``> budget``), so a solver that does not terminate
cannot hang the benchmark; their times are measured inside the child, after imports and
(for QuantEcon) numba compilation on a small game.  The regret of every answer is
recomputed here from the strategies returned; rqe is timed after one warm-up call (imports).  Libraries that are not installed are
skipped.  The last column is the peer's time divided by rqe's, measured in this run.

Each section is one function taking the settings and printing its table: all equilibria
(5x5, 10x10, 15x15), one equilibrium (50x50, 200x200), and the logit-QRE branch (5x5, 20x20
and a 3-player 4x4x4 game) against Gambit's ``logit_solve``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import warnings

import numpy as np

import rqe


def random_game(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, n)), rng.random((n, n))


def max_regret(A: np.ndarray, B: np.ndarray, pairs) -> float:
    worst = 0.0
    for x, y in pairs:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        worst = max(worst, (A @ y).max() - x @ A @ y, (B.T @ x).max() - x @ B @ y)
    return worst


# --------------------------------------------------------------------------- peers (run in a child)
def _nashpy(kind, A, B):
    import nashpy

    game = nashpy.Game(A, B)
    if kind == "lemke_howson":
        return [game.lemke_howson(initial_dropped_label=0)]
    return list(getattr(game, kind)())


def _quantecon(kind, A, B):
    import quantecon.game_theory as gt

    solver = getattr(gt, kind)
    warm = gt.NormalFormGame((gt.Player(np.eye(2)), gt.Player(np.eye(2))))
    solver(warm)
    game = gt.NormalFormGame((gt.Player(A), gt.Player(B.T)))
    start = time.perf_counter()
    found = solver(game)
    elapsed = time.perf_counter() - start
    return ([found] if kind == "lemke_howson" else list(found)), elapsed


def _gambit_game(gbt, *payoffs):
    """``StrategicGame.from_arrays`` in pygambit 17.x, ``Game.from_arrays`` in 16.x."""
    return (getattr(gbt, "StrategicGame", None) or gbt.Game).from_arrays(*payoffs)


def _gambit_profile(game, profile) -> list[list[float]]:
    """Each player's probabilities: 16.x indexes by strategy objects, 17.x yields (label, probability)."""
    out = []
    for player in game.players:
        if hasattr(player, "strategies"):
            out.append([float(profile[s]) for s in player.strategies])
        else:
            out.append([float(p) for _, p in profile[player]])
    return out


def _pygambit(kind, A, B):
    import pygambit as gbt

    game = _gambit_game(gbt, A, B)
    start = time.perf_counter()
    if kind == "enummixed":
        result = gbt.nash.enummixed_solve(game, rational=False)
    else:
        result = gbt.nash.lcp_solve(game, rational=False, stop_after=1)
    elapsed = time.perf_counter() - start
    pairs = [tuple(_gambit_profile(game, eq)) for eq in result.equilibria]
    return pairs, elapsed


PEERS = {
    "nashpy": ("nashpy", _nashpy),
    "quantecon": ("quantecon", _quantecon),
    "pygambit": ("pygambit", _pygambit),
}


def _child(queue, library, kind, A, B):
    warnings.simplefilter("ignore")
    func = PEERS[library][1]
    start = time.perf_counter()
    out = func(kind, A, B)
    elapsed = time.perf_counter() - start
    if isinstance(out, tuple):
        out, elapsed = out
    queue.put(([(np.asarray(x, dtype=float).tolist(), np.asarray(y, dtype=float).tolist()) for x, y in out], elapsed))


def run_peer(library: str, kind: str, A, B, budget: float):
    """``(pairs, seconds)`` from a peer, ``None`` when it exceeded the budget, ``"missing"`` if not installed."""
    try:
        __import__(PEERS[library][0])
    except ImportError:
        return "missing"
    queue = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=_child, args=(queue, library, kind, A, B))
    proc.start()
    deadline = time.monotonic() + budget
    while proc.is_alive() and time.monotonic() < deadline and queue.empty():
        time.sleep(0.01)
    if queue.empty():
        proc.join(max(0.0, deadline - time.monotonic()))
    if queue.empty():
        proc.terminate()
        proc.join()
        return None
    result = queue.get()
    proc.join()
    return result


# --------------------------------------------------------------------------- table
def _row(label, pairs, seconds, rqe_seconds, A, B):
    if pairs == "missing":
        return f"  {label:<34} {'not installed':>8}"
    if pairs is None:
        return f"  {label:<34} {'-':>5} {'-':>9} {'> budget':>10} {'> budget':>9}"
    ratio = "" if rqe_seconds is None else f"{seconds / rqe_seconds:9.2f}"
    return f"  {label:<34} {len(pairs):5d} {max_regret(A, B, pairs):9.1e} {seconds:10.4f} {ratio:>9}"


def _header(title):
    print(f"\n{title}")
    print(f"  {'solver':<34} {'count':>5} {'regret':>9} {'seconds':>10} {'peer/rqe':>9}")


def all_equilibria(sizes, seeds, budget):
    """All equilibria of random n x n games: rqe vertex enumeration vs peers."""
    peers = [("nashpy", "support_enumeration"), ("nashpy", "vertex_enumeration"),
             ("quantecon", "vertex_enumeration"), ("pygambit", "enummixed")]
    for n in sizes:
        for seed in range(seeds):
            A, B = random_game(seed, n)
            game = rqe.NormalFormGame.from_bimatrix(A, B)
            start = time.perf_counter()
            res = rqe.solve_nash(game, method="vertex_enumeration")
            ours = time.perf_counter() - start
            _header(f"All equilibria, random {n}x{n}, seed {seed} (rqe complete={res.complete})")
            print(_row("rqe vertex_enumeration", [eq.strategies for eq in res], ours, None, A, B))
            for library, kind in peers:
                out = run_peer(library, kind, A, B, budget)
                pairs, seconds = (out if isinstance(out, tuple) else (out, None))
                print(_row(f"{library} {kind}", pairs, seconds, ours, A, B))


def one_equilibrium(sizes, seeds, budget):
    """One equilibrium of random n x n games: rqe Lemke-Howson vs peers."""
    peers = [("nashpy", "lemke_howson"), ("quantecon", "lemke_howson"), ("pygambit", "lcp")]
    for n in sizes:
        for seed in range(seeds):
            A, B = random_game(seed, n)
            game = rqe.NormalFormGame.from_bimatrix(A, B)
            rows = []
            for label in (None, 0):
                start = time.perf_counter()
                res = rqe.solve_nash(game, method="lemke_howson", initial_dropped_label=label)
                rows.append((label, res, time.perf_counter() - start))
            _header(f"One equilibrium, random {n}x{n}, seed {seed}")
            ours = rows[0][2]
            for label, res, seconds in rows:
                name = "rqe lemke_howson " + ("(race 8 labels)" if label is None else f"(label {label})")
                print(_row(name, [eq.strategies for eq in res], seconds, None, A, B))
            for library, kind in peers:
                out = run_peer(library, kind, A, B, budget)
                pairs, seconds = (out if isinstance(out, tuple) else (out, None))
                print(_row(f"{library} {kind} (label 0)" if kind != "lcp" else f"{library} lcp_solve",
                           pairs, seconds, ours, A, B))


def _gambit_logit(queue, payoffs):
    import pygambit as gbt

    warnings.simplefilter("ignore")
    game = _gambit_game(gbt, *payoffs)
    start = time.perf_counter()
    result = gbt.nash.logit_solve(game)
    elapsed = time.perf_counter() - start
    eq = result.equilibria[0] if hasattr(result, "equilibria") else result.equilibrium   # 16.x / 17.x
    queue.put((_gambit_profile(game, eq), elapsed))


def _run_gambit_logit(payoffs, budget):
    try:
        import pygambit  # noqa: F401
    except ImportError:
        return "missing"
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_gambit_logit, args=(queue, payoffs))
    proc.start()
    proc.join(budget)
    if proc.is_alive() or queue.empty():
        proc.terminate()
        proc.join()
        return None
    return queue.get()


def qre_branch(budget):
    """The principal logit-QRE branch traced to a Nash equilibrium: rqe.qre_path vs Gambit's logit_solve."""
    from rqe.solvers._regret import max_regret as regret_of

    cases = [("random 5x5", np.array(random_game(0, 5))), ("random 20x20", np.array(random_game(0, 20))),
             ("3-player 4x4x4", np.random.default_rng(0).random((3, 4, 4, 4)))]
    print("\nLogit QRE branch from lam = 0 to a Nash equilibrium")
    print(f"  {'case':<16} {'solver':<22} {'steps':>6} {'end lam':>9} {'end regret':>11} {'seconds':>9} {'peer/rqe':>9}")
    for label, payoffs in cases:
        game = rqe.NormalFormGame(payoffs)
        start = time.perf_counter()
        path = rqe.qre_path(game)
        ours = time.perf_counter() - start
        end = [x[-1] for x in path.strategies]
        print(f"  {label:<16} {'rqe qre_path':<22} {len(path):6d} {path.parameter[-1]:9.3g} "
              f"{regret_of(game, end):11.1e} {ours:9.3f}")
        out = _run_gambit_logit(payoffs, budget)
        if out == "missing":
            print(f"  {label:<16} {'pygambit logit_solve':<22} not installed")
        elif out is None:
            print(f"  {label:<16} {'pygambit logit_solve':<22} {'':>6} {'':>9} {'':>11} {'> budget':>9}")
        else:
            strategies, seconds = out
            print(f"  {label:<16} {'pygambit logit_solve':<22} {'':>6} {'':>9} "
                  f"{regret_of(game, [np.array(x) for x in strategies]):11.1e} {seconds:9.3f} {seconds / ours:9.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0, help="seconds allowed to each peer run")
    parser.add_argument("--seeds", type=int, default=2, help="games per size")
    args = parser.parse_args(argv)
    for method in ("vertex_enumeration", "lemke_howson"):
        rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(*random_game(0, 3)), method=method)
    all_equilibria((5, 10, 15), args.seeds, args.budget)
    one_equilibrium((50, 200), args.seeds, args.budget)
    rqe.qre_path(rqe.NormalFormGame.from_bimatrix(*random_game(0, 3)))
    qre_branch(args.budget)


if __name__ == "__main__":
    main()
