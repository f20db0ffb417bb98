"""Free-riding at RQE and Theorem 4 ("risk removes free-riding") of Qu et al. (arXiv 2602.21515).

Setting (paper section 4.2; docs/concepts.md, "Theorem 4"): two players with the same actions, payoffs
``u_i(a) = R(a_1, a_2) - c(a_i)`` with a symmetric shared reward ``R`` and a private cost ``c``.
Definition 2: an RQE ``(x_1, x_2)`` has free-riding degree
``delta = |E_{x_1}[c] - E_{x_2}[c]|``.  Theorem 4 (App. B.2): with the KL penalty and the
entropy regulariser, no RQE has free-riding degree above ``delta`` once

    tau > 2 (epsilon log n + vbar) (c_max - c_min)^2 / (epsilon delta^2),

where ``vbar = (max R - c_min) - (min R - c_max)``.  The bound is sufficient, not tight:
:func:`free_riding` measures the actual threshold and reports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from rqe._validation import finite_array, positive_float, renamed
from rqe.games.normal_form import NormalFormGame
from rqe.solvers._result import Path, Result, _deprecated
from rqe.solvers.all import solve_all
from rqe.solvers.continuation import rqe_path
from rqe.solvers.rqe import solve

__all__ = ["free_riding", "FreeRidingResult", "shared_reward_form", "theorem4_bound"]

_FREE = 1e-6          # free-riding degree below which an RQE counts as symmetric
_CONSISTENT = 1e-9


def shared_reward_form(game: NormalFormGame) -> tuple[np.ndarray, np.ndarray]:
    """Split a two-player game as ``u_i = R(a_1, a_2) - c(a_i)``: returns ``(R, c)`` with ``c[0] = 0``.

    Raises ``ValueError`` when the game has no such form (``R`` must be symmetric).
    """
    func = "rqe.analysis.free_riding"
    if game.n_players != 2 or game.n_actions[0] != game.n_actions[1]:
        raise ValueError(f"The 'game' parameter of {func} must be a two-player game with the same actions for both "
                         f"players. Got action counts {game.n_actions}.")
    U1, U2 = game.payoffs
    D = U1 - U2                       # = c[b] - c[a]
    c = D[0] - D[0, 0]
    R = U1 + c[:, None]
    scale = max(1.0, float(np.abs(game.payoffs).max()))
    if not (np.allclose(D, c[None, :] - c[:, None], atol=_CONSISTENT * scale)
            and np.allclose(R, R.T, atol=_CONSISTENT * scale)):
        raise ValueError(f"The 'game' parameter of {func} must have payoffs u_i = R(a_1, a_2) - c(a_i) with a "
                         "symmetric shared reward R and one private cost c (paper section 4.2).")
    return R, c


def theorem4_bound(game: NormalFormGame, epsilon: float, delta) -> np.ndarray:
    """The Theorem-4 threshold ``2 (epsilon log n + vbar)(c_max - c_min)^2 / (epsilon delta^2)``."""
    R, c = shared_reward_form(game)
    vbar = (R.max() - c.min()) - (R.min() - c.max())
    n = game.n_actions[0]
    return 2.0 * (epsilon * np.log(n) + vbar) * np.ptp(c) ** 2 / (epsilon * np.asarray(delta, float) ** 2)


@dataclass(frozen=True)
class FreeRidingResult(Result):
    """Every RQE along a ``tau`` grid with its free-riding degree, and Theorem 4 beside the measurement.

    Attributes
    ----------
    taus : ndarray
        The grid (``tau`` is a deprecated alias).
    equilibria : tuple of EquilibriumSet
        All RQE at each ``tau`` (complete for 2x2 games).
    delta : tuple of ndarray
        Free-riding degree of each RQE, in the order of ``equilibria[k]``.
    max_delta : ndarray
        Largest free-riding degree at each ``tau``.
    tau_star : float
        Measured threshold: past it no RQE free-rides (the fold where the free-riding branch
        merges into the symmetric one, traced by :func:`rqe.rqe_path`); ``nan`` if no RQE
        free-rides at the start of the grid, ``inf`` if they still do at its end.
    comparison : tuple of dict
        For several degrees ``delta``: ``measured`` (the largest ``tau`` with an RQE of
        free-riding degree at least ``delta``), ``bound`` (Theorem 4) and ``ratio``.
    cost, reward : ndarray
        The decomposition ``u_i = R - c(a_i)``: the cost ``c`` of each action and the shared
        reward table ``R`` (``shared_reward`` is a deprecated alias of ``reward``; elsewhere
        ``shared_reward`` is the expected shared reward of a profile).
    epsilon : float
    branch : Path or None
        The free-riding branch traced by :func:`rqe.rqe_path` from the first grid point with a
        free-riding RQE to the end of the grid (its fold is ``tau_star``); ``None`` when no RQE
        on the grid free-rides.  Its mirror image (players swapped) is the other free-riding branch.
    message : str
    """

    message: str
    tau_star: float
    taus: np.ndarray = field(repr=False)
    equilibria: tuple = field(repr=False)
    delta: tuple = field(repr=False)
    max_delta: np.ndarray = field(repr=False)
    comparison: tuple = field(repr=False)
    cost: np.ndarray = field(repr=False)
    reward: np.ndarray = field(repr=False)
    epsilon: float = 0.1
    branch: Path | None = field(default=None, repr=False)

    tau = _deprecated("FreeRidingResult", "tau", "taus")
    shared_reward = _deprecated("FreeRidingResult", "shared_reward", "reward")


def _degree(c, strategies) -> float:
    return float(abs(strategies[0] @ c - strategies[1] @ c))


def _last_crossing(game, epsilon, c, path, level: float) -> float:
    """Largest ``tau`` along a traced branch where the free-riding degree equals ``level``.

    The crossing is bracketed between two points of the path and then solved exactly in
    ``tau`` (Brent's method), each evaluation warm-started from the bracket's left point so
    that it stays on the branch.
    """
    taus = path.parameter
    deltas = np.abs(path.strategies[0] @ c - path.strategies[1] @ c)
    above = deltas >= level
    best = float("nan")
    for k in range(len(taus) - 1):
        if above[k] == above[k + 1] or taus[k] == taus[k + 1]:
            continue
        start = (path.strategies[0][k], path.strategies[1][k])

        def gap(t):
            res = solve(game, tau=t, epsilon=epsilon, x0=start)
            return _degree(c, res.strategies) - level

        lo, hi = sorted((taus[k], taus[k + 1]))
        try:
            crossing = brentq(gap, lo, hi, xtol=1e-12)
        except ValueError:  # the warm-started solve left the branch: keep the interpolation
            w = (level - deltas[k]) / (deltas[k + 1] - deltas[k])
            crossing = taus[k] + w * (taus[k + 1] - taus[k])
        best = np.fmax(best, crossing)
    return float(best)


@renamed("rqe.analysis.free_riding", tau="taus")
def free_riding(game: NormalFormGame, *, epsilon: float, taus, levels=None) -> FreeRidingResult:
    """Free-riding at every RQE along a grid of ``tau``, with Theorem 4's bound beside the measurement.

    Uses the KL penalty and the entropy regulariser, as Theorem 4 does.

    Parameters
    ----------
    game : NormalFormGame
        Two players, ``u_i = R(a_1, a_2) - c(a_i)`` with symmetric ``R`` (for example
        :func:`rqe.games.catalog.free_riding_game`).
    epsilon : float
        Common temperature.
    taus : array_like
        Increasing grid of common risk aversion, ``>= 0`` (formerly ``tau``, a deprecated alias
        for one release).
    levels : array_like, optional
        Free-riding degrees at which the measured threshold is compared with the bound
        (default: 90%, 50% and 10% of the largest degree on the grid).

    Returns
    -------
    FreeRidingResult

    Examples
    --------
    >>> import numpy as np, rqe
    >>> game = rqe.games.catalog.free_riding_game(cost=0.4)
    >>> res = rqe.analysis.free_riding(game, epsilon=0.2, taus=np.linspace(0, 2, 5))
    >>> round(res.tau_star, 4), [len(e) for e in res.equilibria]
    (0.8288, [3, 3, 1, 1, 1])
    >>> row = res.comparison[1]
    >>> round(row["delta"], 3), round(row["measured"], 3), round(row["bound"], 1)
    (0.138, 0.751, 130.0)
    """
    func = "rqe.analysis.free_riding"
    R, c = shared_reward_form(game)
    epsilon = positive_float(epsilon, name="epsilon", func=func)
    grid = finite_array(taus, name="taus", func=func)
    if grid.ndim != 1 or len(grid) < 2 or np.any(np.diff(grid) <= 0) or grid[0] < 0:
        raise ValueError(f"The 'taus' parameter of {func} must be an increasing 1-D grid of at least 2 values "
                         f"in [0, inf). Got {np.round(grid, 6).tolist()} instead.")
    sets = tuple(solve_all(game, tau=t, epsilon=epsilon) for t in grid)
    delta = tuple(np.array([_degree(c, e.strategies) for e in s]) for s in sets)
    max_delta = np.array([d.max(initial=0.0) for d in delta])

    free = [k for k, d in enumerate(delta) if d.max(initial=0.0) > _FREE]
    if not free:
        tau_star, path = float("nan"), None
    else:
        k0 = free[0]
        start = sets[k0][int(np.argmax(delta[k0]))].strategies
        path = rqe_path(game, tau_span=(grid[k0], grid[-1]), epsilon=epsilon, x0=start)
        folds = [e.parameter for e in path.events if e.kind == "fold"]
        tau_star = folds[0] if folds else float("inf")

    if levels is None:
        levels = max_delta.max() * np.array([0.9, 0.5, 0.1]) if free else np.array([])
    levels = np.atleast_1d(np.asarray(levels, float))
    comparison = []
    for lev in levels:
        measured = float("nan") if path is None else _last_crossing(game, epsilon, c, path, lev)
        bound = float(theorem4_bound(game, epsilon, lev))
        comparison.append({"delta": float(lev), "measured": measured, "bound": bound, "ratio": bound / measured
                           if measured > 0 else float("inf")})
    if free:
        message = (f"Free-riding RQE exist up to tau* = {tau_star:.6g} (measured); Theorem 4 guarantees their "
                   f"absence only past bounds " + ", ".join(
                       f"{r['bound']:.3g} (delta={r['delta']:.2g}, {r['ratio']:.0f}x the measured {r['measured']:.3g})"
                       for r in comparison) + ".")
    else:
        message = "No RQE on the grid has free-riding."
    return FreeRidingResult(message=message, tau_star=float(tau_star), taus=grid, equilibria=sets, delta=delta,
                            max_delta=max_delta, comparison=tuple(comparison), cost=c, reward=R,
                            epsilon=epsilon, branch=path)
