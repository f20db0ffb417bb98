"""The admissible range of risk aversion in a Gaussian game (SRPO eq. 14).

A Gaussian RQE needs every player's entropic risk to be finite, i.e. every
``P_{-i} = (1/tau_i) Sigma_{-i}^{-1} + H_i[-i, -i]`` positive definite (Qu, Zhang, Lanzetti
and Mazumdar, arXiv 2602.21515, Lemma "risk-averse quantal best response", App. B.1.1,
eq. 14).  Player ``i``'s condition involves only ``tau_i`` and the others' covariances
``Sigma_j = -epsilon_j H_j[j, j]^{-1}``, so the admissible set is a box
``[0, b_1) x ... x [0, b_N)`` with ``b_i = -1/lam_min`` from the generalized eigenproblem
``H_i[-i, -i] v = lam Sigma_{-i}^{-1} v`` (:func:`rqe.solvers.gaussian.tau_bounds`).
"""

from __future__ import annotations

import numpy as np

from rqe._validation import finite_array
from rqe.games.gaussian import GaussianGame
from rqe.solvers.gaussian import tau_bounds

__all__ = ["admissible_tau"]


def admissible_tau(game: GaussianGame, epsilon, *, direction=None) -> float:
    """Supremum of ``t >= 0`` such that ``tau = t * direction`` keeps every ``P_{-i}`` positive definite.

    Parameters
    ----------
    game : GaussianGame
    epsilon : float or array_like, shape (N,)
        Bounded rationality ``epsilon_i > 0`` (it sets the others' covariances).
    direction : array_like, shape (N,), optional
        Nonnegative per-player direction ``w`` (not all zero) of a ray ``tau_i = t w_i``;
        default all ones, i.e. a common scalar ``tau``.

    Returns
    -------
    float
        ``min_{i: w_i > 0} b_i / w_i`` with ``b_i`` the per-player bounds of
        :func:`rqe.solvers.gaussian.tau_bounds`; ``inf`` when the ray never leaves the domain.
        The bound itself is excluded (at ``t`` equal to it some risk is infinite).

    Examples
    --------
    Example 2 of the paper: admissible iff ``tau * epsilon < 2``.

    >>> import rqe
    >>> from rqe.analysis import admissible_tau
    >>> game = rqe.games.catalog.two_robots()
    >>> round(admissible_tau(game, epsilon=0.5), 6)
    4.0
    >>> round(admissible_tau(game, epsilon=[0.5, 1.0], direction=[1.0, 0.0]), 6)  # 2 / epsilon_2
    2.0
    """
    func = "rqe.analysis.admissible_tau"
    bounds = tau_bounds(game, epsilon)
    n = game.n_players
    w = np.ones(n) if direction is None else finite_array(direction, name="direction", func=func)
    if w.shape != (n,) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError(
            f"The 'direction' parameter of {func} must be an array of shape ({n},) with nonnegative entries, "
            f"not all zero. Got {np.asarray(direction).tolist()!r} instead.")
    active = w > 0
    return float(np.min(bounds[active] / w[active]))
