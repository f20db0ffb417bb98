"""The small-game targets of issue 15 item 1, with wall and process CPU time.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_small.py [--reps 7] [--compare /path/to/other/checkout]

Rows: one 2x2 RQE (median over reps of the mean over the 13 experimental games of
``rqe.games.catalog``, fitted KL + log-barrier parameters, target 0.2 ms); ``solve_all`` on the
2x2 free-riding game at ``tau = 0.5, epsilon = 0.2`` (three RQE, target 5 ms); the two panels of
Figure 1 timed in this process (``rqe.figures.panel_collaboration`` with 400 tau points and
``rqe.figures.panel_free_riding`` with 31, on an Agg canvas) and ``paper_figures/figure1.py``
end to end in a subprocess (target 2 s; its CPU time is the child's user + system time).

``--compare DIR`` also runs this script with ``PYTHONPATH=DIR`` (for example the main checkout,
as the "before") and prints both columns with the ratio before / after.  On a shared machine
wall times vary by tens of percent between runs: the CPU column is the steadier one.
Every answer is checked (success, the number of equilibria), so a fast wrong answer cannot pass.
The row "machine" times a plain Python loop (about 40-60 ms of CPU on an idle desktop core):
divide by it to compare runs on different or differently loaded machines.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"one 2x2 solve": 0.2e-3, "solve_all 2x2": 5e-3, "figure1.py": 2.0}


def timed(f, reps: int) -> tuple[float, float]:
    """Median wall and process CPU seconds of ``f()`` over ``reps`` calls after one warm-up call."""
    f()
    wall, cpu = [], []
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        f()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return float(np.median(wall)), float(np.median(cpu))


def child(cmd: list[str], reps: int) -> tuple[float, float]:
    """Median wall and CPU (user + system of the child) seconds of a command."""
    wall, cpu = [], []
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        wall.append(time.perf_counter() - w)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return float(np.median(wall)), float(np.median(cpu))


def measure(reps: int, figure_reps: int) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import rqe
    from rqe import figures
    from rqe.games import catalog

    games = catalog.experimental_games()

    def thirteen():
        for g in games:
            fit = g.fit_kl_log_barrier
            res = rqe.solve(g.game, tau=fit["tau"], epsilon=fit["epsilon"], regularizer="log_barrier")
            assert res.success and res.residual <= 1e-10
    out = {}
    w, c = timed(thirteen, reps)
    out["one 2x2 solve"] = (w / len(games), c / len(games))

    game = catalog.free_riding_game()

    def all_2x2():
        eqs = rqe.solve_all(game, tau=0.5, epsilon=0.2)
        assert eqs.complete and len(eqs) == 3
    out["solve_all 2x2"] = timed(all_2x2, reps)

    data = [[22, 78], [53, 47]]
    fit_game = rqe.NormalFormGame.from_bimatrix([[9, 0], [6, 8]], [[4, 13], [7, 5]])

    def fit():
        assert rqe.fit(fit_game, data, share="all", rng=0).success
    out["rqe.fit, one 2x2 game (RQE, share='all')"] = timed(fit, max(1, reps // 3))

    def loop():
        total = 0
        for k in range(10 ** 6):
            total += k
    out["machine: a pure-Python loop of 1e6 additions"] = timed(loop, 3)

    fig, (ax1, ax2) = plt.subplots(1, 2)
    out["panel (i): collaboration, 400 tau"] = timed(lambda: figures.panel_collaboration(ax1, 400), figure_reps)
    out["panel (ii): free riding, 31 tau + paths"] = timed(lambda: figures.panel_free_riding(ax2, 31), figure_reps)
    plt.close(fig)
    script = [sys.executable, str(ROOT / "paper_figures" / "figure1.py")]
    with tempfile.TemporaryDirectory() as tmp:
        out["figure1.py"] = child(script + ["--out", tmp], figure_reps)
        out["figure1.py --quick"] = child(script + ["--out", tmp, "--quick"], figure_reps)
    return out


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--figure-reps", type=int, default=1)
    parser.add_argument("--compare", help="another checkout to time with the same script (the 'before')")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    before = None
    if args.compare:
        env = dict(os.environ, PYTHONPATH=str(Path(args.compare).resolve()))
        cmd = [sys.executable, __file__, "--json", "--reps", str(args.reps), "--figure-reps", str(args.figure_reps)]
        before = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
    after = measure(args.reps, args.figure_reps)
    if args.json:
        print(json.dumps(after))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of {args.reps} "
          f"(figure rows: {args.figure_reps})")
    head = "| task | wall | CPU |" + (" before: wall | before: CPU | ratio (CPU) |" if before else "") + " target |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for task, (w, c) in after.items():
        cells = [task, fmt(w), fmt(c)]
        if before:
            bw, bc = before[task]
            cells += [fmt(bw), fmt(bc), f"{bc / c:.1f}x"]
        target = TARGETS.get(task)
        cells.append("" if target is None else f"{fmt(target)}: {'met' if w <= target else 'missed'} (wall), "
                     f"{'met' if c <= target else 'missed'} (CPU)")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
