"""Do the coarse correlated equilibria of the player-adversary game collapse to the RQE?

Mazumdar, Panaganti and Shi (ICLR 2025) state that the CCE of the 2N-player game of players
and adversaries (SRPO eqs. 5-6) collapse to the RQE when their tractability condition holds (the
authors' code tests ``epsilon_1 tau_1 epsilon_2 tau_2 >= 1``; docs/concepts.md), which is why no-regret
learning computes RQE.  :func:`cce_collapse` measures it on a grid of ``(tau, epsilon)``: at
each cell, :func:`rqe.player_adversary_cce` finds the certified CCE whose players are farthest
from :func:`rqe.solve`'s RQE, and the spread and the distance of its marginals are tabulated
next to the condition's product.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from rqe._exceptions import ConvergenceWarning
from rqe._validation import finite_array, positive_float, renamed
from rqe.solvers._result import Result, Status, _deprecated
from rqe.solvers.correlated import player_adversary_cce

__all__ = ["cce_collapse", "CollapseResult"]

_FUNC = "rqe.analysis.cce_collapse"


@dataclass(frozen=True)
class CollapseResult(Result):
    """Spread of the player-adversary CCE around the RQE on a ``(tau, epsilon)`` grid.

    Arrays have shape ``(len(taus), len(epsilons))``; both players share ``tau`` and ``epsilon``.

    Attributes
    ----------
    message : str
    success : bool
        True when every cell was certified (:attr:`rqe.PlayerAdversaryCCE.success`).
    status : Status
        The worst cell's: ``SUCCESS``; ``MAX_ITER`` when cutting planes stopped at ``max_iter``
        uncertified; ``NUMERICAL`` when a linear program or the RQE solve failed.
    taus, epsilons : ndarray
        The grid (``tau`` and ``epsilon`` are deprecated aliases).
    spread : ndarray
        :attr:`rqe.PlayerAdversaryCCE.spread`: expected l1 distance of the players to the RQE
        under the farthest CCE found (0 = collapse).
    distance : ndarray
        Distance of that CCE's marginals to the RQE, ``max_i |E[x_i] - x_i*|_1``.
    regret : ndarray
        Largest deviation gain of each cell's CCE (its certificate).
    product : ndarray
        ``epsilon_1 tau_1 epsilon_2 tau_2``, the quantity of the MPS condition (``>= 1``).
    collapsed : ndarray of bool
        ``spread <= collapse_tol``.
    method : str
        ``"cutting_plane/highs"``: each cell by :func:`rqe.player_adversary_cce`.
    params : dict

    Examples
    --------
    >>> import rqe
    >>> res = rqe.analysis.cce_collapse(rqe.games.catalog.stag_hunt(), taus=[0.2, 4.0], epsilons=[0.5],
    ...                                 risk="kl", regularizer="log_barrier", resolution=3)
    >>> res.collapsed.tolist(), res.product.round(2).tolist()
    ([[False], [True]], [[0.01], [4.0]])
    """

    message: str
    success: bool
    status: Status
    taus: np.ndarray
    epsilons: np.ndarray
    spread: np.ndarray = field(repr=False)
    distance: np.ndarray = field(repr=False)
    regret: np.ndarray = field(repr=False)
    product: np.ndarray = field(repr=False)
    collapsed: np.ndarray = field(repr=False)
    method: str = "cutting_plane/highs"
    params: dict = field(default_factory=dict, repr=False)

    tau = _deprecated("CollapseResult", "tau", "taus")
    epsilon = _deprecated("CollapseResult", "epsilon", "epsilons")


def _axis(values, name):
    arr = np.atleast_1d(finite_array(values, name=name, func=_FUNC))
    if arr.ndim != 1 or arr.size == 0 or np.any(arr <= 0):
        raise ValueError(f"The {name!r} parameter of {_FUNC} must be a float > 0 or a 1-D array of them. "
                         f"Got {values!r} instead.")
    return arr


@renamed(_FUNC, tau="taus", epsilon="epsilons")
def cce_collapse(game, *, taus, epsilons, risk="kl", regularizer="entropy", resolution: int = 4,
                 tol: float = 1e-6, max_iter: int = 100, collapse_tol: float = 1e-6) -> CollapseResult:
    """Measure the collapse of the player-adversary CCE to the RQE on a ``(tau, epsilon)`` grid.

    Parameters
    ----------
    game : NormalFormGame
        A two-player game.
    taus, epsilons : float or 1-D array_like
        Grid values (``> 0``), shared by both players (formerly ``tau`` and ``epsilon``,
        deprecated aliases for one release).
    risk, regularizer, resolution, tol, max_iter
        As for :func:`rqe.player_adversary_cce`.
    collapse_tol : float, default 1e-6
        A cell has collapsed when its spread is at most this.

    Returns
    -------
    CollapseResult

    Examples
    --------
    The reverse-KL penalty with the entropy regulariser (a pairing of the MPS condition) on the
    stag hunt: spread below ``epsilon * tau = 1``, collapse from there on.

    >>> import rqe
    >>> res = rqe.analysis.cce_collapse(rqe.games.catalog.stag_hunt(), taus=[0.5, 1.0, 2.0, 4.0],
    ...                                 epsilons=0.5, risk="reverse_kl", resolution=3)
    >>> res.success, res.spread[:, 0].round(3).tolist(), res.collapsed[:, 0].tolist()
    (True, [1.578, 0.848, 0.0, 0.0], [False, False, True, True])
    """
    taus, epss = _axis(taus, "taus"), _axis(epsilons, "epsilons")
    collapse_tol = positive_float(collapse_tol, name="collapse_tol", func=_FUNC)
    shape = (taus.size, epss.size)
    spread, distance, regret = np.empty(shape), np.empty(shape), np.empty(shape)
    ok = np.ones(shape, dtype=bool)
    worst = int(Status.SUCCESS)
    for a, t in enumerate(taus):
        for b, e in enumerate(epss):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                cell = player_adversary_cce(game, tau=t, epsilon=e, risk=risk, regularizer=regularizer,
                                            resolution=resolution, tol=tol, max_iter=max_iter)
            spread[a, b], distance[a, b], regret[a, b], ok[a, b] = cell.spread, cell.distance, cell.regret, cell.success
            worst = max(worst, cell.status)
    product = (taus[:, None] * epss[None, :]) ** 2
    collapsed = spread <= collapse_tol
    holds = product >= 1.0
    success = bool(ok.all())
    message = (f"{int(collapsed.sum())} of {collapsed.size} cells collapsed (spread <= {collapse_tol:g}); "
               f"where epsilon_1 tau_1 epsilon_2 tau_2 >= 1: {int(collapsed[holds].sum())} of {int(holds.sum())}; "
               f"elsewhere: {int(collapsed[~holds].sum())} of {int((~holds).sum())}.")
    if not success:
        message += f" {int((~ok).sum())} cell(s) were not certified; raise max_iter or tol."
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    params = {"risk": getattr(risk, "name", risk), "regularizer": getattr(regularizer, "name", regularizer),
              "resolution": resolution, "tol": tol, "collapse_tol": collapse_tol}
    status = Status.SUCCESS if success else Status(max(worst, Status.MAX_ITER))
    return CollapseResult(message=message, success=success, status=status, taus=taus, epsilons=epss, spread=spread,
                          distance=distance, regret=regret, product=product, collapsed=collapsed, params=params)
