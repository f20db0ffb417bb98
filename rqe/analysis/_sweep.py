"""Parameter sweeps: RQE over a grid of ``tau`` and ``epsilon``, warm-started along each line.

A *line* is one value of ``epsilon`` with every value of ``tau`` in order; each point is
solved from the previous point's equilibrium, so a line follows one branch of equilibria as
``tau`` moves (use :func:`rqe.rqe_path` to see folds, :func:`rqe.solve_all` for every
equilibrium).  Lines are independent and run through any :class:`concurrent.futures.Executor`:

* in-process (the default, ``executor=None``);
* a process pool on one machine: ``ProcessPoolExecutor(max_workers=2)``;
* a cluster: the executor of a dask.distributed ``Client`` (``client.get_executor()``),
  unchanged.

An interrupted sweep (``KeyboardInterrupt``) returns every point computed so far, with
``complete=False``.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass, field, fields

import numpy as np

from rqe._validation import finite_array, positive_float, positive_int
from rqe.games.normal_form import NormalFormGame
from rqe.solvers.rqe import build_system, solve

__all__ = ["sweep", "SweepResult"]

_COLUMNS = ("tau", "epsilon", "line", "residual", "gap", "success", "nit", "values")


@dataclass(frozen=True)
class SweepResult:
    """A tidy table of equilibria, one row per grid point, columns as arrays.

    Attributes
    ----------
    tau, epsilon : ndarray, shape (K, N)
        Each player's parameters at each point.
    strategies : tuple of ndarray
        ``strategies[i]`` has shape ``(K, n_i)``.
    line : ndarray of int
        Index of the line (the ``epsilon`` value) each point belongs to.
    residual, gap, success, nit : ndarray
        Each point's certificate and convergence flags.
    values : ndarray, shape (K, N)
        Each player's regularised risk-adjusted value.
    complete : bool
        False when the sweep was interrupted: the rows hold what was computed.
    params : dict
        ``risk``, ``regularizer``, ``players``, ``actions``.
    """

    tau: np.ndarray
    epsilon: np.ndarray
    strategies: tuple
    line: np.ndarray
    residual: np.ndarray
    gap: np.ndarray
    success: np.ndarray
    nit: np.ndarray
    values: np.ndarray
    complete: bool = True
    params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.line)

    def __repr__(self) -> str:
        return (f"SweepResult({len(self)} points, {len(np.unique(self.line))} lines, complete={self.complete}, "
                f"all converged={bool(np.all(self.success))}, max residual={np.max(self.residual, initial=0):.1e})")

    def to_frame(self):
        """A :class:`pandas.DataFrame` with one row per point (requires pandas).

        Columns ``tau_<player>``, ``epsilon_<player>``, ``p_<player>_<action>`` and the
        certificate columns.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is a test dependency
            raise ImportError("SweepResult.to_frame needs pandas: pip install pandas") from exc
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
        for col in ("line", "residual", "gap", "success", "nit"):
            data[col] = getattr(self, col)
        return pd.DataFrame(data)

    def save(self, path) -> None:
        """Write to a ``.npz`` file (read back with :meth:`load`)."""
        arrays = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("strategies", "params",
                                                                                         "complete")}
        for i, s in enumerate(self.strategies):
            arrays[f"strategies_{i}"] = s
        np.savez(path, complete=self.complete, risk=self.params["risk"], regularizer=self.params["regularizer"],
                 players=np.array(self.params["players"]),
                 actions=np.array([",".join(a) for a in self.params["actions"]]), **arrays)

    @classmethod
    def load(cls, path) -> SweepResult:
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as f:
            n = sum(1 for k in f.files if k.startswith("strategies_"))
            params = {"risk": str(f["risk"]), "regularizer": str(f["regularizer"]),
                      "players": tuple(str(p) for p in f["players"]),
                      "actions": tuple(tuple(str(a).split(",")) for a in f["actions"])}
            return cls(strategies=tuple(f[f"strategies_{i}"] for i in range(n)), complete=bool(f["complete"]),
                       params=params, **{c: f[c] for c in _COLUMNS})


def _grid(value, n_players: int, name: str) -> np.ndarray:
    arr = finite_array(value, name=name, func="rqe.sweep")
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim == 1:
        arr = np.repeat(arr[:, None], n_players, axis=1)
    if arr.ndim != 2 or arr.shape[1] != n_players or arr.shape[0] == 0:
        raise ValueError(f"The {name!r} parameter of rqe.sweep must be a float, a 1-D grid of floats, or a grid "
                         f"of shape (K, {n_players}) with one column per player. Got shape {arr.shape} instead.")
    low_ok = arr >= 0 if name == "tau" else arr > 0
    if not low_ok.all():
        bound = "[0, inf)" if name == "tau" else "(0, inf)"
        raise ValueError(f"The {name!r} parameter of rqe.sweep must lie in {bound}. Got min {arr.min()!r} instead.")
    return arr


class _NoBar:
    def update(self, n):
        return None

    def close(self):
        return None


def _progress_bar(total: int, progress: bool):
    """A tqdm bar (imported only when shown), or a bar that does nothing."""
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="rqe.sweep", unit="pt")


def _run_line(game, taus, eps, risk, regularizer, tol, max_iter):
    """Solve one line, warm-starting each point from the previous one; returns rows computed."""
    rows, x0 = [], None
    try:
        for tau in taus:
            res = solve(game, tau=tau, epsilon=eps, risk=risk, regularizer=regularizer, tol=tol,
                        max_iter=max_iter, x0=x0)
            rows.append(res)
            x0 = res.strategies if res.success else None
    except KeyboardInterrupt:
        return rows, False
    return rows, True


def sweep(game: NormalFormGame, *, tau, epsilon=0.1, risk="kl", regularizer="entropy", executor=None,
          progress: bool = True, tol: float = 1e-10, max_iter: int = 1000) -> SweepResult:
    """Solve for an RQE at every point of a ``tau`` x ``epsilon`` grid.

    Parameters
    ----------
    game : NormalFormGame
    tau : float or array_like
        A grid of risk-aversion values: shape ``(K,)`` (common to all players) or ``(K, N)``
        (one column per player).  Each line runs through it in the order given.
    epsilon : float or array_like, default 0.1
        Shape ``()``, ``(E,)`` or ``(E, N)``: one line per value.
    risk, regularizer, tol, max_iter
        As for :func:`rqe.solve`.
    executor : concurrent.futures.Executor, optional
        Runs the lines (module docstring).  ``None`` runs them in this process.
    progress : bool, default True
        Show a progress bar (tqdm) over the points.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import numpy as np, rqe
    >>> game = rqe.games.catalog.free_riding_game()
    >>> res = rqe.sweep(game, tau=np.linspace(0, 4, 5), epsilon=[0.2, 0.5], progress=False)
    >>> res
    SweepResult(10 points, 2 lines, complete=True, all converged=True, max residual=...)
    >>> [round(float(p), 3) for p in res.strategies[0][:5, 0]]
    [0.555, 0.608, 0.649, 0.68, 0.706]
    """
    func = "rqe.sweep"
    if not isinstance(game, NormalFormGame):
        raise TypeError(f"The 'game' parameter of {func} must be a rqe.NormalFormGame (for Gaussian games use "
                        f"rqe.analysis.collaboration). Got {type(game).__name__} instead.")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"The 'executor' parameter of {func} must be a concurrent.futures.Executor or None. "
                        f"Got {type(executor).__name__} instead.")
    N = game.n_players
    taus, epss = _grid(tau, N, "tau"), _grid(epsilon, N, "epsilon")
    _, risk_obj, reg_obj = build_system(game, tau=taus[0], epsilon=epss[0], risk=risk, regularizer=regularizer,
                                        func=func)
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)

    lines: dict[int, list] = {}
    complete = True
    bar = _progress_bar(len(taus) * len(epss), progress)
    try:
        if executor is None:
            for k, eps in enumerate(epss):
                rows, finished = _run_line(game, taus, eps, risk_obj, reg_obj, tol, max_iter)
                lines[k] = rows
                bar.update(len(rows))
                if not finished:
                    complete = False
                    break
        else:
            futures = {executor.submit(_run_line, game, taus, eps, risk_obj, reg_obj, tol, max_iter): k
                       for k, eps in enumerate(epss)}
            try:
                for fut in cf.as_completed(futures):
                    rows, finished = fut.result()
                    lines[futures[fut]] = rows
                    complete &= finished
                    bar.update(len(rows))
            except KeyboardInterrupt:
                complete = False
                for fut, k in futures.items():
                    if fut.done() and not fut.cancelled() and fut.exception() is None and k not in lines:
                        lines[k] = fut.result()[0]
                    fut.cancel()
    except KeyboardInterrupt:
        complete = False
    finally:
        bar.close()
    return _assemble(game, taus, epss, lines, complete and len(lines) == len(epss), risk_obj, reg_obj)


def _assemble(game, taus, epss, lines, complete, risk, regularizer) -> SweepResult:
    results, tau_rows, eps_rows, line_ids = [], [], [], []
    for k in sorted(lines):
        for j, res in enumerate(lines[k]):
            results.append(res)
            tau_rows.append(taus[j])
            eps_rows.append(epss[k])
            line_ids.append(k)
    N = game.n_players
    return SweepResult(
        tau=np.array(tau_rows).reshape(-1, N), epsilon=np.array(eps_rows).reshape(-1, N),
        strategies=tuple(np.array([r.strategies[i] for r in results]).reshape(-1, game.n_actions[i])
                         for i in range(N)),
        line=np.array(line_ids, dtype=int), residual=np.array([r.residual for r in results]),
        gap=np.array([r.gap for r in results]), success=np.array([r.success for r in results], dtype=bool),
        nit=np.array([r.nit for r in results], dtype=int),
        values=np.array([r.values for r in results]).reshape(-1, N), complete=complete,
        params={"risk": getattr(risk, "name", repr(risk)), "regularizer": getattr(regularizer, "name", repr(regularizer)),
                "players": game.players, "actions": game.actions})
