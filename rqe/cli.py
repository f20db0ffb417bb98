"""The ``rqe`` command.

::

    rqe solve GAME [--tau 1] [--epsilon 0.1] [--risk kl] [--regularizer entropy] [--all] [--json]
    rqe sweep GAME --tau 0:5:101 [--epsilon 0.1] [--risk ...] [--regularizer ...] --out result.csv
    rqe figure 1 --out DIR [--quick]          (also: rqe figure tractability --out DIR)
    rqe games
    rqe --version

``GAME`` is a catalog name (``rqe games`` lists them), a JSON game file (format in
:mod:`rqe.io`) or a Gambit ``.nfg`` file.  ``--tau`` and ``--epsilon`` take one number, one
per player separated by commas (``0.5,2``), or for sweeps a range ``start:stop:count``
(``count`` evenly spaced values, both ends included; at most ``MAX_POINTS`` points in all).

``rqe solve --all`` says whether the search was exhaustive (``complete``) in text and JSON.
``rqe sweep`` checks that ``--out`` ends in ``.csv`` or ``.npz`` and can be written before it
computes anything, and writes ``.csv`` without pandas.  Ctrl-C stops a sweep and writes the
points computed so far (exit status 130); a second Ctrl-C while they are written is ignored
(a third abandons them).  User errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

import rqe
from rqe import io
from rqe._validation import is_gaussian
from rqe.games import catalog

__all__ = ["main"]

MAX_POINTS = 1_000_000   # grid points of one sweep (a range beyond this is refused before allocating)
_INTERRUPTED = 130        # exit status after Ctrl-C (128 + SIGINT)


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
            if int(count) > MAX_POINTS:
                raise UserError(f"--{name} range has {int(count)} points; at most {MAX_POINTS} are allowed")
            return np.linspace(float(start), float(stop), int(count))
        return np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise UserError(f"--{name} must be a number, comma-separated numbers"
                        f"{' or start:stop:count' if allow_range else ''}; got {text!r}") from None


def _load_game(spec: str):
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


def _reserve_output(text: str, suffixes: tuple[str, ...]) -> tuple[Path, str]:
    """Check, before any work, that ``text`` names a writable file of a supported type.

    Returns the path and a temporary file created next to it (the proof that the directory can
    be written); the results go to the temporary file first and are then renamed, so the
    output is never left half-written.
    """
    out = Path(text)
    if out.suffix.lower() not in suffixes:
        raise UserError(f"--out must end in {' or '.join(suffixes)}; got {text!r}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"--out {text!r}: the directory {str(parent)!r} does not exist")
    if out.is_dir():
        raise UserError(f"--out {text!r} is a directory; give a file name")
    if out.exists() and not os.access(out, os.W_OK):
        raise UserError(f"--out {text!r} cannot be written (permission denied)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=parent)
    except OSError as exc:
        raise UserError(f"--out {text!r} cannot be written: {exc.strerror or exc}") from None
    os.close(fd)
    return out, tmp


def _writable_dir(text: str) -> Path:
    """Check that ``text`` is (or can be created as) a writable directory."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {text!r} exists and is not a directory")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        raise UserError(f"--out {text!r} cannot be written (permission denied in {str(existing)!r})")
    return out


def _print_gaussian(game, result) -> None:
    for i, (m, c) in enumerate(zip(result.means, result.covariances)):
        mean = " ".join(f"{v:.6f}" for v in np.ravel(m))
        cov = "; ".join(" ".join(f"{v:.6f}" for v in row) for row in np.atleast_2d(c))
        print(f"  P{i + 1}: mean=[{mean}]  covariance=[{cov}]  E[u]={result.payoffs[i]:.6f}")
    if result.shared_reward is not None:
        print(f"  shared reward E[R]={result.shared_reward:.6f}")
    print(f"  success={result.success}  residual={result.residual:.2e}  gap={result.gap:.2e}  "
          f"method={result.method}")
    if not result.success:
        print(f"  {result.message}")


def _cmd_solve(args) -> None:
    game = _load_game(args.game)
    kw = dict(tau=_scalar_or_players(_numbers(args.tau, allow_range=False, name="tau")),
              epsilon=_scalar_or_players(_numbers(args.epsilon, allow_range=False, name="epsilon")))
    if is_gaussian(game):
        given = [f"--{n}" for n in ("risk", "regularizer") if getattr(args, n) is not None]
        if args.all:
            given.append("--all")
        if given:
            raise UserError(f"{' and '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to "
                            f"{args.game!r}, a Gaussian game: its risk is "
                            "the aggregate entropic risk and its one equilibrium is solved in closed form")
        result = rqe.solve(game, **kw)
        if args.json:
            print(json.dumps(result.to_dict(), indent=1))
        else:
            _print_gaussian(game, result)
        return
    kw.update(risk=args.risk or "kl", regularizer=args.regularizer or "entropy")
    if not args.all:
        result = rqe.solve(game, **kw)
        if args.json:
            print(json.dumps(result.to_dict(), indent=1))
        else:
            _print_equilibrium(game, result)
        return
    found = rqe.solve_all(game, **kw)
    if args.json:
        print(json.dumps(found.to_dict(), indent=1))
        return
    print(f"{len(found)} {'equilibrium' if len(found) == 1 else 'equilibria'} found; complete={found.complete} "
          + ("(every equilibrium was found)" if found.complete else "(the search is not exhaustive)"))
    for k, res in enumerate(found):
        print(f"equilibrium {k + 1} of {len(found)}{'' if found.complete else ' found'}")
        _print_equilibrium(game, res)
    if not found.complete:
        print(found.message)


def _print_equilibrium(game, res) -> None:
    for name, acts, x in zip(game.players, game.actions, res.strategies):
        print(f"  {name}: " + "  ".join(f"{a}={p:.6f}" for a, p in zip(acts, x)))
    print(f"  success={res.success}  residual={res.residual:.2e}  gap={res.gap:.2e}  method={res.method}")
    if not res.success:
        print(f"  {res.message}")


class _CtrlC:
    """SIGINT while a sweep runs: the first stops it, the second is ignored, the third abandons.

    Once the results are written (``saved``), Ctrl-C is ignored: the program is exiting.
    """

    def __init__(self):
        self.count = 0
        self.saved = False

    def __call__(self, signum, frame):
        if self.saved:
            return
        self.count += 1
        if self.count == 2:
            print("rqe sweep: saving the points computed so far; Ctrl-C once more abandons them",
                  file=sys.stderr, flush=True)
            return
        raise KeyboardInterrupt


def _write(result, out: Path, tmp: str) -> None:
    """Write to the temporary file ``tmp``, then rename it to ``out``."""
    if out.suffix.lower() == ".npz":
        with open(tmp, "wb") as f:     # a file object: numpy would otherwise append ".npz" to the name
            result.save(f)
    else:
        result.to_csv(tmp)
    os.replace(tmp, out)


def _cmd_sweep(args) -> int:
    taus = _numbers(args.tau, allow_range=True, name="tau")
    epss = _numbers(args.epsilon, allow_range=True, name="epsilon")
    if len(taus) * len(epss) > MAX_POINTS:
        raise UserError(f"the grid has {len(taus)} x {len(epss)} = {len(taus) * len(epss)} points; at most "
                        f"{MAX_POINTS} are allowed")
    out, tmp = _reserve_output(args.out, (".csv", ".npz"))
    handler = _CtrlC()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, handler) if main_thread else None
    try:
        game = _load_game(args.game)
        result = rqe.sweep(game, taus=taus, epsilons=epss, risk=args.risk or "kl",
                           regularizer=args.regularizer or "entropy", progress=not args.quiet)
        handler.count = max(handler.count, 1)   # from now on Ctrl-C is the second: the results are saved
        _write(result, out, tmp)
        handler.saved = True
    finally:
        # As the rqe program, ignore Ctrl-C from here until the process exits (a late press would
        # otherwise kill the interpreter's shutdown); called from Python, restore the handler.
        if main_thread:
            signal.signal(signal.SIGINT, signal.SIG_IGN if args.program and handler.saved else previous)
        if os.path.exists(tmp):
            os.unlink(tmp)
    total = len(taus) * len(epss)
    if result.finished:
        print(f"{len(result)} points written to {out}")
        return 0
    print(f"{len(result)} of {total} points written to {out} (interrupted: incomplete)")
    return _INTERRUPTED


def _cmd_figure(args) -> None:
    from rqe import figures  # on first use: the figures load scipy and matplotlib (about a second)

    out = _writable_dir(args.out)
    if args.which == "1":
        print(figures.describe_figure1(figures.figure1(out, quick=args.quick)))
    elif args.which == "2":
        print(figures.describe_figure2(figures.figure2(out, quick=args.quick)))
    else:
        print("Written:", ", ".join(figures.tractability_region(out)))


def _cmd_games(args) -> None:
    experimental = {g.name: g for g in catalog.experimental_games()}
    for name in catalog.names():
        if name in experimental:
            g = experimental[name]
            doc = f"2x2 experimental game, observed P(U), P(L) = {g.observed}"
        else:
            doc = (getattr(catalog, name).__doc__ or "").strip().splitlines()[0]
        print(f"{name:22s} {doc}")


_GAME_HELP = "a catalog name (see 'rqe games'), a JSON game file or a Gambit .nfg file"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rqe", description="Risk-averse quantal response equilibria, logit QRE "
                                     "and Nash equilibria of normal-form and Gaussian games.")
    parser.add_argument("--version", action="version", version=f"rqe {rqe.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--risk", choices=["kl", "reverse_kl"],
                        help="the adversary's penalty D(p, q) (default kl; not for Gaussian games)")
    common.add_argument("--regularizer", choices=["entropy", "log_barrier"],
                        help="the player's regulariser (default entropy; not for Gaussian games)")

    p = sub.add_parser("solve", parents=[common], help="solve one game",
                       description="Compute an RQE of one game (all of them with --all).")
    p.add_argument("game", help=_GAME_HELP)
    p.add_argument("--tau", default="1.0", help="risk aversion >= 0: x or one per player x1,x2,... (default 1)")
    p.add_argument("--epsilon", default="0.1",
                   help="bounded rationality > 0: x or one per player x1,x2,... (default 0.1)")
    p.add_argument("--all", action="store_true",
                   help="every equilibrium (rqe.solve_all); says whether the search was exhaustive")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=_cmd_solve)

    p = sub.add_parser("sweep", parents=[common], help="solve over a grid of tau (and epsilon)",
                       description="Solve for an RQE at every point of a tau x epsilon grid (rqe.sweep) and write "
                                   "the table; Ctrl-C writes the points computed so far.")
    p.add_argument("game", help=_GAME_HELP)
    p.add_argument("--tau", required=True, help="start:stop:count, or comma-separated values")
    p.add_argument("--epsilon", default="0.1", help="start:stop:count, or comma-separated values (default 0.1)")
    p.add_argument("--out", required=True, help="the file to write: result.csv or result.npz")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_sweep)

    p = sub.add_parser("figure", help="regenerate a paper figure",
                       description="Regenerate Figure 1 or 2 of the paper or the tractability-region figure.")
    p.add_argument("which", choices=["1", "2", "tractability"], help="the figure: 1, 2 or tractability")
    p.add_argument("--out", default="out", help="directory for the PNG and PDF files (default out)")
    p.add_argument("--quick", action="store_true", help="coarser grids and fewer seeds (figures 1 and 2; a few seconds)")
    p.set_defaults(run=_cmd_figure)

    p = sub.add_parser("games", help="list the catalog", description="List the catalog games.")
    p.set_defaults(run=_cmd_games)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``rqe`` console script; returns the exit status.

    ``argv`` defaults to the command line; with explicit ``argv`` (a call from Python) the
    SIGINT handler installed during a sweep is always restored.

    Examples
    --------
    >>> from rqe.cli import main
    >>> main(["solve", "matching_pennies", "--tau", "0.5"])
      P1: H=0.500000  T=0.500000
      P2: H=0.500000  T=0.500000
      success=True  residual=...  gap=...  method=newton
    0
    """
    args = _parser().parse_args(argv)
    args.program = argv is None   # the console script (not a call from Python with explicit arguments)
    try:
        status = args.run(args)
    except BrokenPipeError:  # the reader (say, `head`) closed the pipe: not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print(f"rqe {args.command}: interrupted", file=sys.stderr)
        return _INTERRUPTED
    except MemoryError:
        print(f"rqe {args.command}: error: out of memory (the game or the grid is too large)", file=sys.stderr)
        return 2
    except (UserError, ValueError, TypeError, OSError) as exc:
        print(f"rqe {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
