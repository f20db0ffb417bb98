"""Robustness of ``rqe.solve`` on a seeded corpus of hard problems (issue 17), per regime.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_robustness.py                 # 30 cases per regime
    PYTHONPATH=. python benchmarks/bench_robustness.py --per-regime 8  # quicker
    PYTHONPATH=/path/to/other/checkout python benchmarks/bench_robustness.py   # the same corpus, other code

The corpus is ``tests/robustness_corpus.py`` (the same cases as the quick mode of
``tests/test_robustness.py``, more of them): eight regimes (moderate parameters, epsilon down to
1e-4, tau up to 1e4, payoff scales 1e-6 to 1e4, per-player parameters far apart, degenerate
games, epsilon below 1e-3 with tau up to 1e4 for every player, degenerate games with both) and
the offset twin of every case (a constant of magnitude 1e3 to 1e12 added to each
player's payoffs).  Each case is solved once by ``rqe.solve`` with its defaults
(``method="auto"``) and the case's ``tol``, under ``max_time``.

A case is *solved* when ``success`` is true and the residual recomputed independently in
40-digit arithmetic (``oracle_residual``) is at most ``tol``; a claim is *refuted* when
``success`` is true and that residual exceeds ``tol``.  Printed per regime: cases, fraction
solved, claims refuted, median and largest time; then, for the offset twins, the fraction
solved among those whose offset-free twin was solved; then every unsolved case with its
message.  Times are wall-clock on whatever machine runs it; compare them only within a run.
Always exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import rqe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # the corpus lives with the tests
from robustness_corpus import REGIMES, corpus, oracle_residual  # noqa: E402


def run(per_regime: int, max_time: float) -> list[dict]:
    rows = []
    for case in corpus(per_regime):
        game = rqe.NormalFormGame(case.payoffs)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = rqe.solve(game, **case.kwargs(), max_time=max_time)
        elapsed = time.perf_counter() - start
        true = oracle_residual(case.payoffs, res.strategies, case.tau, case.epsilon, case.risk, case.regularizer)
        rows.append(dict(name=case.name, regime=case.regime, twin=case.twin, time=elapsed, success=res.success,
                         solved=bool(res.success and true <= case.tol),
                         refuted=bool(res.success and true > case.tol), oracle=true, tol=case.tol,
                         method=res.method, message=res.message))
    return rows


def report(rows: list[dict]) -> None:
    print(f"{'regime':<16}{'cases':>6}{'solved':>9}{'refuted':>9}{'median s':>10}{'max s':>8}")
    for regime in REGIMES + ("offset",):
        sel = [r for r in rows if r["regime"] == regime]
        if not sel:
            continue
        times = [r["time"] for r in sel]
        print(f"{regime:<16}{len(sel):>6}{np.mean([r['solved'] for r in sel]):>9.1%}"
              f"{sum(r['refuted'] for r in sel):>9}{np.median(times):>10.3f}{max(times):>8.2f}")
    base = [r for r in rows if r["regime"] != "offset"]
    print(f"{'all (no offset)':<16}{len(base):>6}{np.mean([r['solved'] for r in base]):>9.1%}"
          f"{sum(r['refuted'] for r in base):>9}")
    solved = {r["name"] for r in base if r["solved"]}
    twins = [r for r in rows if r["regime"] == "offset" and r["twin"] in solved]
    if twins:
        print(f"offset cases whose twin is solved: {np.mean([r['solved'] for r in twins]):.1%} of {len(twins)}")
    for r in rows:
        if not r["solved"]:
            print(f"  unsolved {r['name']:<28} {r['time']:6.2f} s  true residual {r['oracle']:.1e} "
                  f"(tol {r['tol']:.0e})  {r['message'][:150]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-regime", type=int, default=30, help="cases per regime (default 30)")
    parser.add_argument("--max-time", type=float, default=30.0, help="max_time of each solve, seconds")
    args = parser.parse_args(argv)
    report(run(args.per_regime, args.max_time))
    return 0


if __name__ == "__main__":
    sys.exit(main())
