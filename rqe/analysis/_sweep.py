"""Parameter sweeps: RQE over a grid of ``tau`` and ``epsilon``, warm-started along each line.

A *line* is one value of ``epsilon`` with every value of ``tau`` in order; each point is
solved from the previous point's equilibrium, so a line follows one branch of equilibria as
``tau`` moves (use :func:`rqe.rqe_path` to see folds, :func:`rqe.solve_all` for every
equilibrium).  Lines are independent and run through any :class:`concurrent.futures.Executor`:

* in-process (the default, ``executor=None``);
* a process pool on one machine: ``ProcessPoolExecutor(max_workers=2)``;
* a cluster: the executor of a dask.distributed ``Client`` (``client.get_executor()``),
  unchanged.

With an executor each line is submitted as a chain of short chunks (one point each for lines
of up to ``_UPDATES_PER_LINE`` points; the next chunk starts from the last equilibrium of the
previous one), so the progress bar moves per point (per chunk) and lines run in parallel.

With the built-in risks and regularisers (``"kl"``, ``"reverse_kl"``; ``"entropy"``,
``"log_barrier"``) and small games (up to ``_BATCH_MAX_UNKNOWNS`` actions in all), the points
of all lines are solved together as batches by the vectorised Newton kernel of
:mod:`rqe.solvers._batch` (the stage solver of :func:`rqe.solve_markov`): every point is then
checked to be what Newton's method warm-started from the previous point gives, so each line
follows the same branch as the point-by-point sweep, and the first point where it is not is
solved by :func:`rqe.solve` from the previous point (:func:`_batch_lines`).  1000 points of a
2x2 game take tens of milliseconds instead of seconds.  With an executor each chunk is batched
the same way.

An interrupted sweep (``KeyboardInterrupt``) returns every point computed so far, with
``finished=False``: in-process, the interrupted line keeps its finished points; with an
executor, every finished chunk is kept and the pending ones are cancelled.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import importlib.util
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from rqe._validation import builtin_name, finite_array, game_of, positive_float, positive_int, renamed
from rqe.games.normal_form import NormalFormGame
from rqe import regularizers, risk as risks
from rqe.solvers._engine import build_system, normalised_rows, solve_batch
from rqe.solvers._result import Result, Status, _deprecated, grid_verdict
from rqe.solvers.rqe import solve

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["sweep", "SweepResult"]

_ADVICE = "try a larger max_iter, a finer grid (warm starts from closer points), or rqe.solve at those points"
_COLUMNS = ("tau", "epsilon", "line", "residual", "gap", "converged", "nit", "values")
_UPDATES_PER_LINE = 100   # with an executor, a line is cut into at most this many chained chunks
_BATCH_CHUNK = 2000       # points of a line solved in one batch
_BATCH_MIN_CHUNK = 8      # chunk length after a point that needed rqe.solve
_BATCH_MAX_UNKNOWNS = 40  # sum of the action counts up to which lines are batched
_BATCH_MAX_JOINT = 5000   # and players x joint actions
_BATCH_ITER = 12          # Newton iterations of a batch (points that need more go to rqe.solve)
_BATCH_ROUNDS = 2         # retries of the first pass from converged neighbours
_SAME_TOL = 1e-7          # two converged runs within this (max over probabilities) are the same equilibrium
_TINY = 1e-300            # floor of a probability before its log (as rqe.solve's warm start)


@dataclass(frozen=True)
class SweepResult(Result):
    """A tidy table of equilibria, one row per grid point, columns as arrays.

    Attributes
    ----------
    message : str
        How many points converged, and what to try for those that did not.
    success : bool
        True when the sweep finished and every point converged.
    status : Status
        ``SUCCESS``; ``MAX_ITER`` when some point missed ``tol`` within ``max_iter``;
        ``MAX_TIME`` when ``max_time`` was spent; ``INTERRUPTED`` after a ``KeyboardInterrupt``.
    tau, epsilon : ndarray, shape (K, N)
        Each player's parameters at each point (a column of the table: ``tau[k]`` is point
        ``k``'s per-player ``tau``).
    strategies : tuple of ndarray
        ``strategies[i]`` has shape ``(K, n_i)``.
    line : ndarray of int
        Index of the line (the ``epsilon`` value) each point belongs to.
    residual, gap : ndarray
        Each point's certificate.
    converged : ndarray of bool
        Each point's ``residual <= tol``.
    nit : ndarray of int
        Newton steps from the previous point.
    values : ndarray, shape (K, N)
        Each player's regularised risk-adjusted value.
    finished : bool
        False when the sweep was interrupted or ran out of ``max_time``: the rows hold what
        was computed (``complete`` is a deprecated alias).
    method : str
        ``"batch"`` (every line solved as vectorised batches), ``"pointwise"`` or ``"executor"``;
        ``"unknown"`` for a file written before this field (:meth:`load`).
    params : dict
        ``risk``, ``regularizer``, ``tol``, ``max_iter``, ``players``, ``actions``.
    """

    message: str
    success: bool
    status: Status
    tau: np.ndarray
    epsilon: np.ndarray
    strategies: tuple
    line: np.ndarray
    residual: np.ndarray
    gap: np.ndarray
    converged: np.ndarray
    nit: np.ndarray
    values: np.ndarray
    finished: bool = True
    method: str = "batch"
    params: dict = field(default_factory=dict)

    complete = _deprecated("SweepResult", "complete", "finished")

    def __len__(self) -> int:
        return len(self.line)

    def __repr__(self) -> str:
        return (f"SweepResult({self.message!r}, {len(self)} points, {len(np.unique(self.line))} lines, "
                f"max residual={np.max(self.residual, initial=0):.1e})")

    def _table(self) -> dict:
        """Column name -> 1-D array, in the order of :meth:`to_frame` and :meth:`to_csv`."""
        players, actions = self.params["players"], self.params["actions"]
        data = {}
        for i, name in enumerate(players):
            data[f"tau_{name}"] = self.tau[:, i]
        for i, name in enumerate(players):
            data[f"epsilon_{name}"] = self.epsilon[:, i]
        for i, name in enumerate(players):
            for a, act in enumerate(actions[i]):
                data[f"p_{name}_{act}"] = self.strategies[i][:, a]
        for i, name in enumerate(players):
            data[f"value_{name}"] = self.values[:, i]
        for col in ("line", "residual", "gap", "converged", "nit"):
            data[col] = getattr(self, col)
        return data

    def to_frame(self) -> pd.DataFrame:
        """A :class:`pandas.DataFrame` with one row per point (requires pandas).

        Columns ``tau_<player>``, ``epsilon_<player>``, ``p_<player>_<action>``,
        ``value_<player>`` and the certificate columns (the columns of :meth:`to_csv`).

        Examples
        --------
        >>> import rqe
        >>> res = rqe.sweep(rqe.games.catalog.stag_hunt(), taus=[0.0, 1.0], progress=False)
        >>> res.to_frame().shape
        (2, 15)
        """
        try:  # pandas is optional (and slow to import): on first use
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is a test dependency
            raise ImportError("SweepResult.to_frame needs pandas: pip install pandas (SweepResult.to_csv "
                              "does not)") from exc
        return pd.DataFrame(self._table())

    def to_csv(self, path) -> None:
        """Write one row per point to a ``.csv`` file (no pandas needed), columns as :meth:`to_frame`.

        Floats are written with ``repr`` (they read back exactly), ``converged`` as ``True``/``False``.

        Examples
        --------
        >>> import csv, os, tempfile, rqe
        >>> res = rqe.sweep(rqe.games.catalog.stag_hunt(), taus=[0.0, 1.0], progress=False)
        >>> path = os.path.join(tempfile.mkdtemp(), "sweep.csv")
        >>> res.to_csv(path)
        >>> rows = list(csv.DictReader(open(path)))
        >>> len(rows), rows[1]["tau_P1"], rows[1]["converged"]
        (2, '1.0', 'True')
        """
        table = self._table()
        columns = [[_cell(v) for v in col] for col in table.values()]
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(table)
            writer.writerows(zip(*columns))

    def save(self, path) -> None:
        """Write to a ``.npz`` file (read back with :meth:`load`)."""
        arrays = {c: getattr(self, c) for c in _COLUMNS}
        for i, s in enumerate(self.strategies):
            arrays[f"strategies_{i}"] = s
        np.savez(path, message=self.message, status=int(self.status), finished=self.finished, method=self.method,
                 risk=self.params["risk"], regularizer=self.params["regularizer"],
                 tol=self.params.get("tol", np.nan), max_iter=self.params.get("max_iter", -1),
                 players=np.array(self.params["players"]),
                 actions=np.array([",".join(a) for a in self.params["actions"]]), **arrays)

    @classmethod
    def load(cls, path) -> SweepResult:
        """Read a file written by :meth:`save` (files of earlier releases too)."""
        with np.load(path, allow_pickle=False) as f:
            n = sum(1 for k in f.files if k.startswith("strategies_"))
            params: dict = {"risk": str(f["risk"]), "regularizer": str(f["regularizer"]),
                      "players": tuple(str(p) for p in f["players"]),
                      "actions": tuple(tuple(str(a).split(",")) for a in f["actions"])}
            if "tol" in f.files:
                params.update(tol=float(f["tol"]), max_iter=int(f["max_iter"]))
            columns = {c: f[c] for c in _COLUMNS if c in f.files}
            if "converged" not in columns:          # files written before the result convention (per-point success)
                columns["converged"] = f["success"]
            finished = bool(f["finished"] if "finished" in f.files else f["complete"])
            if "message" in f.files:
                message, status = str(f["message"]), Status(int(f["status"]))
            else:
                message, status = grid_verdict(columns["converged"], finished, out_of_time=False, advice=_ADVICE)
            return cls(message=message, success=status == Status.SUCCESS, status=status,
                       strategies=tuple(f[f"strategies_{i}"] for i in range(n)), finished=finished,
                       method=str(f["method"]) if "method" in f.files else "unknown", params=params, **columns)


def _cell(value) -> str:
    """A CSV cell: ``repr`` of the Python number (round-trips), ``True``/``False`` for flags."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _grid(value, n_players: int, name: str) -> np.ndarray:
    arr = finite_array(value, name=name, func="rqe.sweep")
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim == 1:
        arr = np.repeat(arr[:, None], n_players, axis=1)
    if arr.ndim != 2 or arr.shape[1] != n_players or arr.shape[0] == 0:
        raise ValueError(f"The {name!r} parameter of rqe.sweep must be a float, a 1-D grid of floats, or a grid "
                         f"of shape (K, {n_players}) with one column per player. Got shape {arr.shape} instead.")
    low_ok = arr >= 0 if name == "taus" else arr > 0
    if not low_ok.all():
        bound = "[0, inf)" if name == "taus" else "(0, inf)"
        raise ValueError(f"The {name!r} parameter of rqe.sweep must lie in {bound}. "
                         f"Got min {float(arr.min())!r} instead.")
    return arr


class _NoBar:
    def update(self, n):
        return None

    def close(self):
        return None


def _progress_bar(total: int, progress: bool):
    """A tqdm bar (imported only when shown), or a bar that does nothing.

    ``tqdm.auto`` (a widget in notebooks) only when ipywidgets is installed; otherwise the text
    bar, which in a notebook prints plain lines instead of warning that IProgress is missing.
    """
    if not progress:
        return _NoBar()
    if importlib.util.find_spec("ipywidgets") is not None:  # which tqdm depends on the environment: on first use
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(total=total, desc="rqe.sweep", unit="pt")


_now = time.monotonic     # the clock of max_time


class _OutOfTime(KeyboardInterrupt):
    """Raised by :class:`_Budgeted` once ``max_time`` has passed; the sweep handles it as an interrupt."""


class _Budgeted:
    """A progress bar whose ``update`` raises :class:`_OutOfTime` after the deadline."""

    def __init__(self, bar, deadline: float | None):
        self.bar, self.deadline = bar, deadline

    def update(self, n: int = 1) -> None:
        self.bar.update(n)
        if self.deadline is not None and _now() > self.deadline:
            raise _OutOfTime

    def close(self) -> None:
        self.bar.close()


def _run_line(game, taus, eps, risk, regularizer, tol, max_iter, x0=None, on_point=None):
    """Solve points in order, warm-starting each from the previous one.

    Returns ``(rows, finished)``; ``finished`` is False when a ``KeyboardInterrupt`` stopped it
    (the rows hold the points solved before).  ``on_point`` is called after each point.  With
    the built-in risks and regularisers and a small game the points are solved as batches
    (:func:`_batch_line`), with the same answers.
    """
    rows = []
    try:
        if _batchable(game, risk, regularizer):
            for row in _batch_line(game, taus, eps, risk, regularizer, tol, max_iter, x0):
                rows.append(row)
                if on_point is not None:
                    on_point()
            return rows, True
        for tau in taus:
            res = solve(game, tau=tau, epsilon=eps, risk=risk, regularizer=regularizer, tol=tol,
                        max_iter=max_iter, x0=x0)
            rows.append(res)
            x0 = res.strategies if res.success else None
            if on_point is not None:
                on_point()
    except KeyboardInterrupt:
        return rows, False
    return rows, True


class _Row(NamedTuple):
    """One point solved by the batched kernel (the fields of :class:`EquilibriumResult` a sweep keeps)."""

    strategies: tuple
    residual: float
    gap: float
    success: bool
    nit: int
    values: np.ndarray
    status: int = 0


def _batchable(game, risk, regularizer) -> bool:
    """The batched kernel has the closed forms of the built-in risks and regularisers, for small games."""
    m, A = sum(game.n_actions), int(np.prod(game.n_actions))
    return (not isinstance(risk, str) and builtin_name(risk, risks.BUILTIN) is not None
            and builtin_name(regularizer, regularizers.BUILTIN) is not None and m <= _BATCH_MAX_UNKNOWNS and game.n_players * A <= _BATCH_MAX_JOINT)


def _batch_line(game, taus, eps, risk, regularizer, tol, max_iter, x0):
    """The points of one line, as :func:`rqe.solve` warm-started from the previous point gives them."""
    for _, row in _batch_lines(game, taus, [eps], risk, regularizer, tol, max_iter, [x0]):
        yield row


def _batch_lines(game, taus, epss, risk, regularizer, tol, max_iter, x0s):
    """The points of every line (one per ``epsilon``), in batches over all lines at once.

    A chunk of each line's points is solved by Newton's method from the chunk's start (the last
    equilibrium before it, or uniform play); then Newton is run again at every point from the
    solution at the point before it, which is exactly the step of the point-by-point sweep.  A
    point is kept when both runs converge to the same equilibrium: by induction along the chunk,
    the sweep warm-started from the previous point would have reached it too (the same
    equilibrium branch, also in games with several equilibria).  At the first point where they
    differ or either misses ``tol`` (a fold, a jump to another branch, a hard point) the point
    is solved by :func:`rqe.solve` from the previous point, as the point-by-point sweep does, and
    the line's next chunk starts after it.  Yields ``(line, row)``, each line's rows in order.
    """
    _, shift, unit = normalised_rows(game)
    N, n, K = game.n_players, game.n_actions, len(taus)
    Qn = (np.asarray(game.payoffs, float) - shift.reshape((N,) + (1,) * N)) / unit.reshape((N,) + (1,) * N)
    offsets = np.concatenate([[0], np.cumsum(n)])
    uniform = np.concatenate([np.full(k, -np.log(k)) for k in n])
    kw = dict(risk=risk.name, regularizer=regularizer.name, tol=tol)
    iters = min(max_iter, _BATCH_ITER)
    L = len(epss)
    z_prev = [None if x0 is None else np.concatenate([np.log(np.maximum(np.asarray(x, float) / np.sum(x), _TINY))
                                                       for x in x0]) for x0 in x0s]
    at = [0] * L
    chunk = [min(K, _BATCH_CHUNK // L if L <= _BATCH_CHUNK else 1) or 1] * L
    while any(a < K for a in at):
        segs = [(l, at[l], min(K, at[l] + chunk[l])) for l in range(L) if at[l] < K]
        seg = np.concatenate([np.full(b - a, j) for j, (_, a, b) in enumerate(segs)])
        tau_n = np.concatenate([taus[a:b] for _, a, b in segs]) * unit
        eps_n = np.concatenate([np.broadcast_to(epss[l] / unit, (b - a, N)) for l, a, b in segs])
        Q = np.broadcast_to(Qn, (len(seg),) + Qn.shape)
        start = np.concatenate([np.broadcast_to(uniform if z_prev[l] is None else z_prev[l], (b - a, uniform.size))
                                for l, a, b in segs])
        first = _first_pass(Q, tau_n, eps_n, start, iters, kw, seg)
        # the start of each point's second run: the first run's solution at the point before it
        prev = np.vstack([first.z[:1], first.z[:-1]])
        heads = np.flatnonzero(np.diff(seg, prepend=-1))
        prev[heads] = start[heads]
        second = solve_batch(Q, tau=tau_n, epsilon=eps_n, z0=prev, max_iter=iters, **kw)
        good = first.converged & second.converged & _same(second.z, first.z)
        X = np.exp(second.z)
        X = [X[:, offsets[i]:offsets[i + 1]] for i in range(N)]
        gap = np.max(unit * second.gap, axis=1).tolist()
        vals = unit * second.regularized + shift
        res, its = second.residual.tolist(), second.iterations.tolist()
        for j, (l, a, b) in enumerate(segs):
            h = heads[j]
            ok = good[h:h + b - a]
            n_ok = b - a if ok.all() else int(np.argmin(ok))
            for r, strategies in zip(range(h, h + n_ok), zip(*(x[h:h + n_ok] for x in X))):
                yield l, _Row(strategies, res[r], gap[r], True, its[r], vals[r])
            at[l] += n_ok
            if n_ok:
                z_prev[l] = second.z[h + n_ok - 1]
            if n_ok == b - a:
                chunk[l] = min(max(_BATCH_CHUNK // L, _BATCH_MIN_CHUNK), 4 * chunk[l])   # grows back
                continue
            x_prev = None if z_prev[l] is None else [np.exp(z_prev[l][offsets[i]:offsets[i + 1]]) for i in range(N)]
            point = solve(game, tau=taus[at[l]], epsilon=epss[l], risk=risk, regularizer=regularizer, tol=tol,
                          max_iter=max_iter, x0=x_prev)
            yield l, point
            at[l] += 1
            z_prev[l] = (np.concatenate([np.log(np.maximum(x, _TINY)) for x in point.strategies]) if point.success
                         else None)
            chunk[l] = max(_BATCH_MIN_CHUNK, 2 * n_ok)                  # after a hard point, shorter chunks


def _first_pass(Q, tau, eps, start, max_iter, kw, seg):
    """Newton at every point from ``start``; points that miss ``tol`` are retried from the nearest
    converged point before them in the same segment ``seg`` (a few rounds).  Only a guess:
    :func:`_batch_lines` verifies it."""
    out = solve_batch(Q, tau=tau, epsilon=eps, z0=start, max_iter=max_iter, **kw)
    for _ in range(_BATCH_ROUNDS):
        ok = out.converged
        done = np.flatnonzero(ok)
        bad = np.flatnonzero(~ok)
        if bad.size == 0 or done.size == 0:
            break
        left = np.searchsorted(done, bad) - 1
        src = done[np.maximum(left, 0)]
        keep = (left >= 0) & (seg[src] == seg[bad])
        sel, src = bad[keep], src[keep]
        if sel.size == 0:
            break
        again = solve_batch(Q[sel], tau=tau[sel], epsilon=eps[sel], z0=out.z[src], max_iter=max_iter, **kw)
        for name in ("z", "residual", "converged", "regularized", "gap", "iterations"):
            getattr(out, name)[sel] = getattr(again, name)
    return out


def _same(a, b) -> np.ndarray:
    """Rows of log strategies ``a`` and ``b`` that are the same equilibrium (probabilities within ``_SAME_TOL``)."""
    return np.max(np.abs(np.exp(a) - np.exp(b)), axis=-1) <= _SAME_TOL


def _next_start(rows, x0):
    """Warm start for the chunk after ``rows`` (as inside a line)."""
    if not rows:
        return x0
    return rows[-1].strategies if rows[-1].success else None


def _run_on_executor(executor, game, taus, epss, args, bar) -> tuple[dict, bool]:
    """Each line as a chain of chunks on ``executor``; returns the rows per line and whether all finished."""
    chunk = max(1, math.ceil(len(taus) / _UPDATES_PER_LINE))
    lines: dict[int, list] = {k: [] for k in range(len(epss))}
    pending = {}   # future -> (line, start index, x0)

    def submit(k, start, x0):
        fut = executor.submit(_run_line, game, taus[start:start + chunk], epss[k], *args, x0)
        pending[fut] = (k, start, x0)

    for k in range(len(epss)):
        submit(k, 0, None)
    complete = True
    try:
        while pending:
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for fut in done:
                k, start, x0 = pending.pop(fut)
                rows, finished = fut.result()
                lines[k].extend(rows)
                bar.update(len(rows))
                if not finished:
                    complete = False
                elif start + chunk < len(taus):
                    submit(k, start + chunk, _next_start(rows, x0))
    except KeyboardInterrupt:
        complete = False
        for fut, (k, start, x0) in list(pending.items()):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                lines[k].extend(fut.result()[0])   # finished while we were interrupted: keep it
            fut.cancel()
    return {k: rows for k, rows in lines.items() if rows}, complete


@renamed("rqe.sweep", tau="taus", epsilon="epsilons")
def sweep(game: NormalFormGame, *, taus, epsilons=0.1, risk="kl", regularizer="entropy", executor=None,
          progress: bool = True, tol: float = 1e-10, max_iter: int = 1000,
          max_time: float | None = None) -> SweepResult:
    """Solve for an RQE at every point of a ``taus`` x ``epsilons`` grid.

    Parameters
    ----------
    game : NormalFormGame
    taus : float or array_like
        A grid of risk-aversion values: shape ``(K,)`` (common to all players) or ``(K, N)``
        (one column per player).  Each line runs through it in the order given.  (Formerly
        ``tau``, a deprecated alias for one release.)
    epsilons : float or array_like, default 0.1
        Shape ``()``, ``(E,)`` or ``(E, N)``: one line per value (formerly ``epsilon``).
    risk, regularizer, tol, max_iter
        As for :func:`rqe.solve`.
    executor : concurrent.futures.Executor, optional
        Runs the lines (module docstring).  ``None`` runs them in this process.
    progress : bool, default True
        Show a progress bar (tqdm) over the points.
    max_time : float, optional
        Budget in seconds for the whole sweep, checked after each point (each chunk on an
        executor).  When it runs out the sweep stops as on an interrupt: the points computed so
        far are returned with ``finished=False``.

    Returns
    -------
    SweepResult

    Notes
    -----
    Each line follows one branch: point ``k`` is the equilibrium that Newton's method reaches
    from point ``k - 1`` (uniform play at the first point, and after a point that failed).
    With the built-in risks and regularisers the whole grid is solved as vectorised batches and
    each point verified to be that continuation (module docstring); the answers equal the
    point-by-point solves up to ``tol``, and ``nit`` counts the Newton steps from the previous
    point.

    Examples
    --------
    >>> import numpy as np, rqe
    >>> game = rqe.games.catalog.free_riding_game()
    >>> res = rqe.sweep(game, taus=np.linspace(0, 4, 5), epsilons=[0.2, 0.5], progress=False)
    >>> res
    SweepResult('All 10 points converged.', 10 points, 2 lines, max residual=...)
    >>> [round(float(p), 3) for p in res.strategies[0][:5, 0]]
    [0.555, 0.608, 0.649, 0.68, 0.706]
    """
    func = "rqe.sweep"
    game_of(game, NormalFormGame, func=func,
            accepted="a rqe.NormalFormGame (for Gaussian games use rqe.analysis.collaboration)")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"The 'executor' parameter of {func} must be a concurrent.futures.Executor or None. "
                        f"Got {type(executor).__name__} instead.")
    N = game.n_players
    taus, epss = _grid(taus, N, "taus"), _grid(epsilons, N, "epsilons")
    _, risk_obj, reg_obj = build_system(game, tau=taus[0], epsilon=epss[0], risk=risk, regularizer=regularizer,
                                        func=func)
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)
    deadline = None if max_time is None else _now() + positive_float(max_time, name="max_time", func=func)

    lines: dict[int, list] = {}
    complete = True
    args = (risk_obj, reg_obj, tol, max_iter)
    bar = _Budgeted(_progress_bar(len(taus) * len(epss), progress), deadline)
    batched = executor is None and _batchable(game, risk_obj, reg_obj)
    try:
        if batched:
            for k, row in _batch_lines(game, taus, epss, *args, [None] * len(epss)):   # all lines at once
                lines.setdefault(k, []).append(row)
                bar.update(1)
        elif executor is None:
            for k, eps in enumerate(epss):
                rows, finished = _run_line(game, taus, eps, *args, on_point=lambda: bar.update(1))
                lines[k] = rows
                if not finished:
                    complete = False
                    break
        else:
            lines, complete = _run_on_executor(executor, game, taus, epss, args, bar)
    except KeyboardInterrupt:
        complete = False
    finally:
        bar.close()
    complete = complete and len(lines) == len(epss) and all(len(r) == len(taus) for r in lines.values())
    method = "batch" if batched else "pointwise" if executor is None else "executor"
    return _assemble(game, taus, epss, lines, complete, risk_obj, reg_obj, method=method, tol=tol, max_iter=max_iter,
                     out_of_time=not complete and deadline is not None and _now() > deadline)


def _assemble(game, taus, epss, lines, complete, risk, regularizer, *, out_of_time: bool, method: str, tol: float,
              max_iter: int) -> SweepResult:
    results, tau_rows, eps_rows, line_ids = [], [], [], []
    for k in sorted(lines):
        for j, res in enumerate(lines[k]):
            results.append(res)
            tau_rows.append(taus[j])
            eps_rows.append(epss[k])
            line_ids.append(k)
    N = game.n_players
    converged = np.array([r.success for r in results], dtype=bool)
    message, status = grid_verdict(converged, complete, out_of_time=out_of_time, advice=_ADVICE,
                                   statuses=[r.status for r in results])
    return SweepResult(
        message=message, success=status == Status.SUCCESS, status=status,
        tau=np.array(tau_rows).reshape(-1, N), epsilon=np.array(eps_rows).reshape(-1, N),
        strategies=tuple(np.array([r.strategies[i] for r in results]).reshape(-1, game.n_actions[i])
                         for i in range(N)),
        line=np.array(line_ids, dtype=int), residual=np.array([r.residual for r in results]),
        gap=np.array([r.gap for r in results]), converged=converged,
        nit=np.array([r.nit for r in results], dtype=int),
        values=np.array([r.values for r in results]).reshape(-1, N), finished=complete, method=method,
        params={"risk": getattr(risk, "name", repr(risk)), "regularizer": getattr(regularizer, "name", repr(regularizer)),
                "tol": tol, "max_iter": max_iter, "players": game.players, "actions": game.actions})