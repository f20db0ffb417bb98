"""Risk induces collaboration: the expected shared reward along a path of risk aversion.

Theorem 1 of Qu, Zhang, Lanzetti and Mazumdar (arXiv 2602.21515, section 4.1, general form in
App. B.1.2): in the aggregative collaborative game, at the unique Gaussian RQE the expected
shared reward ``J(tau_1, ..., tau_N) = E[R]`` is strictly increasing in each ``tau_i`` on the
domain of eq. 14.  :func:`collaboration` evaluates ``J`` and each player's expected utility
along a grid of common ``tau`` or a path in per-player ``tau`` space, with the Gaussian RQE of
:func:`rqe.solvers.gaussian.solve_gaussian`, and checks the monotonicity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rqe._validation import finite_array, per_player, renamed
from rqe.games._gaussian_kernel import block_diagonal, own_and_others
from rqe.games.gaussian import GaussianGame
from rqe.solvers._result import Result, _deprecated
from rqe.solvers.gaussian import _means_along, _quantal_covariances, solve_gaussian, tau_bounds

__all__ = ["CollaborationResult", "collaboration"]


@dataclass(frozen=True)
class CollaborationResult(Result):
    """Expected shared reward and utilities along a path of risk aversion.

    Attributes
    ----------
    message : str
    increasing : bool
        True when ``shared_reward`` strictly increases from each grid point to the next.
    theorem_applies : bool
        True when each step of the path raises every ``tau_i`` weakly and some strictly, so
        that Theorem 1 predicts ``increasing``.
    taus : ndarray
        The grid, shape ``(K,)`` (common ``tau``) or ``(K, N)`` (per-player path); ``tau`` is a
        deprecated alias.
    shared_reward : ndarray
        ``J`` at each grid point, shape ``(K,)``.
    payoffs : ndarray
        ``E[u_i]`` at each grid point, shape ``(K, N)`` (``expected_utilities`` is a deprecated alias).
    means : ndarray
        Stacked equilibrium means at each grid point, shape ``(K, D)``.
    min_increase : float
        ``min_k J[k+1] - J[k]`` (negative when ``J`` decreases somewhere).
    params : dict
        ``epsilon`` (per player) and the admissible per-player bounds ``tau_bounds``.
    """

    message: str
    increasing: bool
    theorem_applies: bool
    taus: np.ndarray
    shared_reward: np.ndarray
    payoffs: np.ndarray = field(repr=False)
    means: np.ndarray = field(repr=False)
    min_increase: float = 0.0
    params: dict = field(default_factory=dict, repr=False)

    expected_utilities = _deprecated("CollaborationResult", "expected_utilities", "payoffs")
    tau = _deprecated("CollaborationResult", "tau", "taus")


def _rewards(game: GaussianGame, covs, means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``J`` and every ``E[u_i]`` at each row of stacked ``means`` (the closed forms of
    :meth:`rqe.GaussianGame.expected_shared_reward` and :meth:`rqe.GaussianGame.expected_payoffs`,
    broadcast over the rows)."""
    S = block_diagonal(list(covs))  # the joint covariance
    utilities = (0.5 * np.einsum("ka,iab,kb->ki", means, game.H, means) + 0.5 * np.einsum("iab,ab->i", game.H, S)
                 + means @ game.h.T + game.const)
    shared = game.shared
    total = sum(means[:, own_and_others(game.dims, i)[0]] for i in range(game.n_players)) - shared["a_bar"]
    J = -0.5 * (np.einsum("ka,ab,kb->k", total, shared["H"], total) + sum(np.sum(shared["H"] * C) for C in covs))
    return J, utilities


@renamed("rqe.analysis.collaboration", tau="taus")
def collaboration(game: GaussianGame, *, epsilon, taus) -> CollaborationResult:
    """Expected shared reward ``J`` of a collaborative Gaussian game along a grid ``taus`` (Theorem 1).

    Parameters
    ----------
    game : GaussianGame
        Built by :meth:`rqe.GaussianGame.collaborative`.
    epsilon : float or array_like, shape (N,)
        Bounded rationality ``epsilon_i > 0``.
    taus : array_like, shape (K,) or (K, N)
        ``K >= 2`` values of a common ``tau``, or a path of per-player ``(tau_1, ..., tau_N)``;
        every point must lie in the admissible domain (eq. 14,
        :func:`rqe.analysis.admissible_tau`).  (Formerly ``tau``, a deprecated alias for one
        release.)

    Returns
    -------
    CollaborationResult

    Raises
    ------
    ValueError
        A non-collaborative game, a badly shaped or negative ``taus``, or a point outside the domain.

    Examples
    --------
    Example 2 of the paper: ``J`` increases on ``[0, 2/epsilon)``.

    >>> import numpy as np, rqe
    >>> from rqe.analysis import collaboration
    >>> res = collaboration(rqe.games.catalog.two_robots(), epsilon=1.0, taus=np.linspace(0, 1.9, 5))
    >>> res.increasing, [round(float(j), 4) for j in res.shared_reward]
    (True, [-0.5556, -0.5381, -0.5216, -0.5079, -0.5003])
    """
    func = "rqe.analysis.collaboration"
    if not isinstance(game, GaussianGame) or not game.is_collaborative:
        raise ValueError(
            f"The 'game' parameter of {func} must be a collaborative GaussianGame "
            f"(built by GaussianGame.collaborative). Got {game!r} instead.")
    n = game.n_players
    eps_arr = per_player(epsilon, n, name="epsilon", func=func, low_inclusive=False)
    grid = finite_array(taus, name="taus", func=func)
    if grid.ndim not in (1, 2) or grid.shape[0] < 2 or (grid.ndim == 2 and grid.shape[1] != n) or np.any(grid < 0):
        raise ValueError(
            f"The 'taus' parameter of {func} must be an array of shape (K,) or (K, {n}) with K >= 2 and "
            f"nonnegative entries. Got an array of shape {grid.shape} instead.")
    path = grid[:, None] * np.ones(n) if grid.ndim == 1 else grid
    bounds = tau_bounds(game, eps_arr)
    outside = np.any(path >= bounds, axis=1)
    if outside.any():
        k = int(np.argmax(outside))
        raise ValueError(
            f"The 'taus' parameter of {func} must stay in the admissible domain (SRPO eq. 14): tau_i < "
            f"{bounds.tolist()} (common tau < {bounds.min():.6g}). Got {grid[k].tolist()!r} at grid point {k}.")
    covs = _quantal_covariances(game, eps_arr)
    means, solved = _means_along(game, covs, path)
    for k in np.flatnonzero(~solved):          # singular or ill-conditioned points: the full solver (it warns)
        means[k] = np.concatenate(solve_gaussian(game, tau=path[k], epsilon=eps_arr).means)
    J, utilities = _rewards(game, covs, means)
    steps = np.diff(J)
    moves = np.diff(path, axis=0)
    increasing = bool(np.all(steps > 0))
    theorem_applies = bool(np.all(moves >= 0) and np.all(np.any(moves > 0, axis=1)))
    message = ("J strictly increases along the grid." if increasing
               else f"J does not strictly increase along the grid (smallest step {steps.min():.3g}).")
    return CollaborationResult(
        message=message,
        increasing=increasing,
        theorem_applies=theorem_applies,
        taus=grid,
        shared_reward=J,
        payoffs=utilities,
        means=means,
        min_increase=float(steps.min()),
        params={"epsilon": eps_arr.tolist(), "tau_bounds": bounds.tolist()},
    )
