"""The ``rqe`` command.

::

    rqe solve GAME [--tau 1] [--epsilon 0.1] [--risk kl] [--regularizer entropy] [--all] [--json]
    rqe sweep GAME --tau 0:5:101 [--epsilon 0.1] [--risk ...] [--regularizer ...] --out result.csv
    rqe figure 1 --out DIR [--quick]          (also: rqe figure tractability --out DIR)
    rqe games

``GAME`` is a catalog name (``rqe games`` lists them), a JSON game file (format in
:mod:`rqe.io`) or a Gambit ``.nfg`` file.  ``--tau`` and ``--epsilon`` take one number, one
per player separated by commas (``0.5,2``), or for sweeps a range ``start:stop:count``
(``count`` evenly spaced values, both ends included).  ``rqe sweep`` writes ``.csv`` (needs
pandas) or ``.npz``.  User errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["main"]


class UserError(Exception):
    """A mistake in the command line or its files: reported in one line, exit status 2."""


def _numbers(text: str, *, allow_range: bool, name: str) -> np.ndarray:
    try:
        if ":" in text:
            if not allow_range:
                raise UserError(f"--{name} takes a number or comma-separated numbers here, not a range: {text!r}")
            start, stop, count = text.split(":")
            if int(count) < 1:
                raise UserError(f"--{name} range needs a count >= 1, got {count!r}")
            return np.linspace(float(start), float(stop), int(count))
        return np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise UserError(f"--{name} must be a number, comma-separated numbers"
                        f"{' or start:stop:count' if allow_range else ''}; got {text!r}") from None


def _load_game(spec: str):
    from rqe import io
    from rqe.games import catalog

    if spec in catalog.names():
        return catalog.get(spec)
    path = Path(spec)
    if not path.exists():
        raise UserError(f"no game file or catalog game named {spec!r} (see 'rqe games')")
    if path.suffix.lower() == ".nfg":
        return io.read_nfg(path)
    return io.read_json(path)


def _scalar_or_players(values: np.ndarray):
    return float(values[0]) if len(values) == 1 else values


def _cmd_solve(args) -> None:
    import rqe

    game = _load_game(args.game)
    kw = dict(tau=_scalar_or_players(_numbers(args.tau, allow_range=False, name="tau")),
              epsilon=_scalar_or_players(_numbers(args.epsilon, allow_range=False, name="epsilon")))
    if isinstance(game, rqe.GaussianGame):
        result = rqe.solve(game, **kw)
        print(json.dumps(result.to_dict(), indent=1) if args.json else result)
        return
    kw.update(risk=args.risk, regularizer=args.regularizer)
    results = list(rqe.solve_all(game, **kw)) if args.all else [rqe.solve(game, **kw)]
    if args.json:
        print(json.dumps([r.to_dict() for r in results] if args.all else results[0].to_dict(), indent=1))
        return
    for k, res in enumerate(results):
        if args.all:
            print(f"equilibrium {k + 1} of {len(results)}")
        for name, acts, x in zip(game.players, game.actions, res.strategies):
            print(f"  {name}: " + "  ".join(f"{a}={p:.6f}" for a, p in zip(acts, x)))
        print(f"  success={res.success}  residual={res.residual:.2e}  gap={res.gap:.2e}  method={res.method}")
        if not res.success:
            print(f"  {res.message}")


def _cmd_sweep(args) -> None:
    import rqe

    out = Path(args.out)
    if out.suffix not in (".csv", ".npz"):
        raise UserError(f"--out must end in .csv or .npz; got {args.out!r}")
    game = _load_game(args.game)
    taus = _numbers(args.tau, allow_range=True, name="tau")
    epss = _numbers(args.epsilon, allow_range=True, name="epsilon")
    result = rqe.sweep(game, tau=taus, epsilon=epss, risk=args.risk, regularizer=args.regularizer,
                       progress=not args.quiet)
    if out.suffix == ".npz":
        result.save(out)
    else:
        try:
            result.to_frame().to_csv(out, index=False)
        except ImportError as exc:
            raise UserError(f"writing .csv needs pandas ({exc}); use --out result.npz") from None
    print(f"{len(result)} points written to {out}" + ("" if result.complete else " (interrupted: incomplete)"))


def _cmd_figure(args) -> None:
    from rqe import figures

    if args.which == "1":
        print(figures.describe_figure1(figures.figure1(args.out, quick=args.quick)))
    elif args.which == "2":
        print(figures.describe_figure2(figures.figure2(args.out, quick=args.quick)))
    else:
        print("Written:", ", ".join(figures.tractability_region(args.out)))


def _cmd_games(args) -> None:
    from rqe.games import catalog

    experimental = {g.name: g for g in catalog.experimental_games()}
    for name in catalog.names():
        if name in experimental:
            g = experimental[name]
            doc = f"2x2 experimental game, observed P(U), P(L) = {g.observed}"
        else:
            doc = (getattr(catalog, name).__doc__ or "").strip().splitlines()[0]
        print(f"{name:22s} {doc}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rqe", description="Risk-averse quantal response equilibria.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--risk", default="kl", choices=["kl", "reverse_kl"])
    common.add_argument("--regularizer", default="entropy", choices=["entropy", "log_barrier"])

    p = sub.add_parser("solve", parents=[common], help="solve one game")
    p.add_argument("game", help="catalog name, JSON file or .nfg file")
    p.add_argument("--tau", default="1.0", help="risk aversion: x or x1,x2,... (default 1)")
    p.add_argument("--epsilon", default="0.1", help="bounded rationality: x or x1,x2,... (default 0.1)")
    p.add_argument("--all", action="store_true", help="all equilibria (rqe.solve_all)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=_cmd_solve)

    p = sub.add_parser("sweep", parents=[common], help="solve over a grid of tau (and epsilon)")
    p.add_argument("game")
    p.add_argument("--tau", required=True, help="start:stop:count, or comma-separated values")
    p.add_argument("--epsilon", default="0.1", help="start:stop:count, or comma-separated values")
    p.add_argument("--out", required=True, help="result.csv or result.npz")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_sweep)

    p = sub.add_parser("figure", help="regenerate a paper figure")
    p.add_argument("which", choices=["1", "2", "tractability"])
    p.add_argument("--out", default="out")
    p.add_argument("--quick", action="store_true")
    p.set_defaults(run=_cmd_figure)

    p = sub.add_parser("games", help="list the catalog")
    p.set_defaults(run=_cmd_games)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``rqe`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except BrokenPipeError:  # the reader (say, `head`) closed the pipe: not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except (UserError, ValueError, TypeError, OSError, json.JSONDecodeError) as exc:
        print(f"rqe {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
