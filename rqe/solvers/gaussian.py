"""Gaussian risk-averse quantal response equilibria of quadratic games, in closed form.

Implements Qu, Zhang, Lanzetti and Mazumdar, *Training Generalizable Collaborative Agents
via Strategic Risk Aversion*, arXiv 2602.21515: "Lemma (risk-averse quantal best response)"
(App. B.1.1) and the "game of the means" (eq. 13) with its domain (eq. 14).  With the others
playing independent Gaussians ``N(m_{-i}, Sigma_{-i})``, player ``i``'s best response in
``U_i^tau + epsilon_i h(x_i)`` (aggregate entropic risk, SRPO §4.1) is the Gaussian

    Sigma_i = -epsilon_i A^{-1},
    m_i     = (-A + B P^{-1} B^T)^{-1} (h_a + B P^{-1} ((1/tau_i) S^{-1} mu - h_b)),
    P       = (1/tau_i) S^{-1} + C,

with ``A, B, C, h_a, h_b`` the blocks of :meth:`rqe.GaussianGame.blocks` (``C`` the full
others' block, which couples the others when ``N >= 3``), ``mu = m_{-i}`` and
``S = Sigma_{-i}``.  It exists iff ``P`` is positive definite (otherwise the risk is
infinite).  The code uses the tau-stable form ``P^{-1} = tau G``,
``G = (S^{-1} + tau C)^{-1}``, and ``(1/tau) P^{-1} S^{-1} = G S^{-1} = I - tau G C``, so that
``tau = 0`` gives the risk-neutral Gaussian QRE:

    m_i = K^{-1} (h_a - tau B G h_b + (B - tau B G C) mu),    K = -A + tau B G B^T.

The covariances do not depend on the means, so the equilibrium means solve one linear
system ``m = T m + k`` (eq. 13), assembled here and solved directly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from rqe._exceptions import ConvergenceWarning, TractabilityWarning
from rqe._validation import game_of, per_player, positive_float, positive_int
from rqe.games._gaussian_kernel import (
    block_diagonal,
    check_profile,
    mean_response,
    own_and_others,
    quantal_covariance,
    whiten,
)
from rqe.games.gaussian import GaussianGame
from rqe.solvers._result import Result, _deprecated

__all__ = ["GaussianResult", "solve_gaussian", "gaussian_gap", "tau_bounds"]

_FUNC = "rqe.solvers.gaussian.solve_gaussian"


@dataclass(frozen=True)
class GaussianResult(Result):
    """The Gaussian RQE of a quadratic game with its certificate.

    Attributes
    ----------
    message : str
        What happened, and what to try when ``success`` is false.
    success : bool
        True when the means solve the game of the means to ``residual <= tol * (1 + max |m|)``.
    means : tuple of ndarray
        ``means[i]`` has shape ``(d_i,)``.
    covariances : tuple of ndarray
        ``covariances[i] = -epsilon_i H_i[i, i]^{-1}``, shape ``(d_i, d_i)``.
    payoffs : ndarray
        ``E[u_i]`` at the equilibrium, shape ``(N,)`` (``expected_utilities`` is a deprecated alias).
    shared_reward : float or None
        Expected shared reward ``J = E[R]`` for a collaborative game, else ``None``.
    residual : float
        ``max_i ||m_i - BR_i(m)||_inf``: fixed-point residual of the means.
    gap : float
        Largest gain any player obtains by deviating to its best response (over all densities,
        which is Gaussian) in its own objective ``U_i^tau + epsilon_i h(x_i)``, both values
        computed in closed form; zero exactly at an equilibrium (rounding below zero is
        reported as zero).
    status : int
        0 solved, 1 refinement limit reached, 2 the game of the means is singular and has no solution.
    nit : int
        Linear solves used (one, plus iterative refinement steps).
    method : str
        ``"linear"``.
    params : dict
        ``tau``, ``epsilon`` (per player), ``tol``, ``max_iter``.
    """

    message: str
    success: bool
    means: tuple
    covariances: tuple
    payoffs: np.ndarray
    shared_reward: float | None = None
    residual: float = 0.0
    gap: float = 0.0
    status: int = 0
    nit: int = 0
    method: str = "linear"
    params: dict = field(default_factory=dict, repr=False)

    expected_utilities = _deprecated("GaussianResult", "expected_utilities", "payoffs")


def solve_gaussian(game: GaussianGame, *, tau=1.0, epsilon=0.1, tol: float = 1e-10,
                   max_iter: int = 10) -> GaussianResult:
    """Gaussian RQE of a quadratic game (SRPO Lemma "risk-averse quantal best response", eq. 13-14).

    Qu, Zhang, Lanzetti and Mazumdar, arXiv 2602.21515, App. B.1.1: each player's
    risk-averse quantal best response to Gaussians is Gaussian with covariance
    ``-epsilon_i H_i[i, i]^{-1}`` and a mean affine in the others' means; the means of a
    Gaussian RQE are the Nash equilibrium of the resulting linear "game of the means"
    (eq. 13), solved here directly (``numpy.linalg.solve``) and polished by iterative
    refinement.  Equations in the module docstring.

    Parameters
    ----------
    game : GaussianGame
    tau : float or array_like, shape (N,)
        Risk aversion ``tau_i >= 0``; ``0`` gives the (risk-neutral) Gaussian logit QRE.  Must
        keep every ``P_{-i}`` positive definite (eq. 14), see :func:`tau_bounds`.
    epsilon : float or array_like, shape (N,)
        Bounded rationality ``epsilon_i > 0``; as ``epsilon -> 0`` the means tend to the
        Nash equilibrium of the quadratic game.
    tol : float
        Success when ``residual <= tol * (1 + max_i ||m_i||_inf)``.
    max_iter : int
        Largest number of linear solves (the first solve plus refinement steps).

    Returns
    -------
    GaussianResult

    Raises
    ------
    ValueError
        Bad parameters, or a ``tau`` outside the domain of eq. 14 (the message gives the
        largest admissible ``tau``).
    TypeError
        ``game`` is not a :class:`GaussianGame`.

    Warns
    -----
    TractabilityWarning
        The game of the means is singular but consistent: one of infinitely many Gaussian RQE.
    ConvergenceWarning
        The means could not be solved to ``tol`` (``success`` is false).

    Examples
    --------
    Example 2 of the paper (two robots): ``m = a_bar / (3 - tau epsilon / 2)``,
    variance ``epsilon / 2``, admissible while ``tau epsilon < 2``.

    >>> import rqe
    >>> from rqe.solvers.gaussian import solve_gaussian
    >>> res = solve_gaussian(rqe.games.catalog.two_robots(), tau=1.0, epsilon=1.0)
    >>> res.success, [round(float(m[0]), 6) for m in res.means], round(float(res.covariances[0][0, 0]), 6)
    (True, [0.4, 0.4], 0.5)
    >>> round(res.shared_reward, 6), res.gap < 1e-12
    (-0.52, True)
    >>> solve_gaussian(rqe.games.catalog.two_robots(), tau=2.5, epsilon=1.0)
    Traceback (most recent call last):
    ...
    ValueError: The 'tau' parameter of rqe.solvers.gaussian.solve_gaussian must keep every player's risk finite (P_{-i} positive definite, SRPO eq. 14): tau < 2 for a common tau (tau*epsilon < 2), per player tau_i < [2.0, 2.0]. Got 2.5 instead.
    """
    game_of(game, GaussianGame, func=_FUNC)
    n = game.n_players
    tau_arr = per_player(tau, n, name="tau", func=_FUNC)
    eps_arr = per_player(epsilon, n, name="epsilon", func=_FUNC, low_inclusive=False)
    tol = positive_float(tol, name="tol", func=_FUNC)
    max_iter = positive_int(max_iter, name="max_iter", func=_FUNC)
    _check_domain(game, tau, tau_arr, eps_arr, _FUNC)
    covs = _quantal_covariances(game, eps_arr)
    T, k = _means_game(game, covs, tau_arr)
    L = np.eye(T.shape[0]) - T
    singular = np.linalg.matrix_rank(L) < L.shape[0]

    def solve(rhs):
        return np.linalg.lstsq(L, rhs, rcond=None)[0] if singular else np.linalg.solve(L, rhs)

    m = solve(k)
    nit = 1
    residual = _residual(T, k, m)
    while residual > tol * (1 + np.abs(m).max()) and nit < max_iter:
        m = m + solve(k - L @ m)
        residual = _residual(T, k, m)
        nit += 1
    means = _split(game, m)
    success = residual <= tol * (1 + np.abs(m).max())
    if singular and success:
        status, message = 0, ("The game of the means (SRPO eq. 13) is singular: these means are one of "
                              "infinitely many Gaussian RQE.")
        warnings.warn(message, TractabilityWarning, stacklevel=2)
    elif singular:
        status, message = 2, ("The game of the means (SRPO eq. 13) is singular and has no solution: this game "
                              "has no Gaussian RQE at these parameters; the means returned solve it in the "
                              "least-squares sense only.")
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    elif success:
        status, message = 0, "Gaussian RQE solved in closed form (game of the means, SRPO eq. 13)."
    else:
        status, message = 1, (f"Refinement stopped at max_iter={max_iter} with residual {residual:.3g} > tol: "
                              "the game of the means is ill-conditioned (tau near the edge of its domain?); "
                              "increase max_iter or tol.")
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return GaussianResult(
        message=message,
        success=bool(success),
        means=means,
        covariances=tuple(covs),
        payoffs=game.expected_payoffs(means, covs),
        shared_reward=game.expected_shared_reward(means, covs) if game.is_collaborative else None,
        residual=float(residual),
        gap=_gap(game, list(means), covs, tau_arr, eps_arr),
        status=status,
        nit=nit,
        method="linear",
        params={"tau": tau_arr.tolist(), "epsilon": eps_arr.tolist(), "tol": tol, "max_iter": max_iter},
    )


def tau_bounds(game: GaussianGame, epsilon) -> np.ndarray:
    """Largest admissible risk aversion of each player (SRPO eq. 14), one bound per player.

    When the others play their quantal-response covariances ``S = Sigma_{-i}``
    (``Sigma_j = -epsilon_j H_j[j, j]^{-1}``), player ``i``'s risk is finite iff
    ``P_{-i} = (1/tau_i) S^{-1} + C`` is positive definite, i.e. ``1 + tau_i lam_min > 0`` with
    ``lam_min`` the smallest generalized eigenvalue of ``C v = lam S^{-1} v``.  The bound is
    ``-1/lam_min`` (``inf`` when ``lam_min >= 0``); it depends on ``epsilon`` only through the
    other players, so the admissible set of ``(tau_1, ..., tau_N)`` is a box.

    Examples
    --------
    >>> import rqe
    >>> from rqe.solvers.gaussian import tau_bounds
    >>> tau_bounds(rqe.games.catalog.two_robots(), epsilon=0.5).tolist()
    [4.0, 4.0]
    """
    func = "rqe.solvers.gaussian.tau_bounds"
    game_of(game, GaussianGame, func=func)
    eps_arr = per_player(epsilon, game.n_players, name="epsilon", func=func, low_inclusive=False)
    return _bounds(game, _quantal_covariances(game, eps_arr))


def gaussian_gap(game: GaussianGame, means, covariances, *, tau=1.0, epsilon=0.1) -> float:
    """Largest gain any player gets by deviating from a profile of Gaussians to its best response.

    The gain of player ``i`` is ``U_i^{tau,epsilon}(BR_i) - U_i^{tau,epsilon}(x_i)`` in its own
    regularised risk-adjusted objective, both evaluated in closed form by
    :meth:`rqe.GaussianGame.risk_adjusted_utility`, with ``BR_i`` the Gaussian of the SRPO
    Lemma (risk-averse quantal best response, App. B.1.1) against the given others' profile.
    It is zero exactly at a Gaussian RQE and certifies the output of :func:`solve_gaussian`.

    Raises
    ------
    ValueError
        When some player's risk is infinite against the given covariances (no best response).

    Examples
    --------
    >>> import rqe
    >>> from rqe.solvers.gaussian import gaussian_gap
    >>> game = rqe.games.catalog.two_robots()
    >>> round(gaussian_gap(game, [0.4, 0.4], [0.5, 0.5], tau=1.0, epsilon=1.0), 12)
    0.0
    >>> round(gaussian_gap(game, [0.5, 0.4], [0.5, 0.5], tau=1.0, epsilon=1.0), 6)
    0.015
    """
    func = "rqe.solvers.gaussian.gaussian_gap"
    game_of(game, GaussianGame, func=func)
    n = game.n_players
    tau_arr = per_player(tau, n, name="tau", func=func)
    eps_arr = per_player(epsilon, n, name="epsilon", func=func, low_inclusive=False)
    ms, Ss = check_profile(game.dims, means, covariances, func)
    bounds = _bounds(game, Ss)
    if np.any(tau_arr >= bounds):
        i = int(np.argmax(tau_arr >= bounds))
        raise ValueError(
            f"The 'tau' parameter of {func} must keep every player's risk finite against the given covariances: "
            f"tau_i < {bounds.tolist()}. Got {tau_arr.tolist()} instead (player {i}'s risk is infinite).")
    return _gap(game, ms, Ss, tau_arr, eps_arr)


# ---------------------------------------------------------------------- the lemma
def _quantal_covariances(game: GaussianGame, eps_arr: np.ndarray) -> list[np.ndarray]:
    return [quantal_covariance(game.blocks(i)[0], float(e)) for i, e in enumerate(eps_arr)]


def _others_covariance(covs, player: int) -> np.ndarray:
    """The block-diagonal joint covariance of the players other than ``player``."""
    return block_diagonal([S for j, S in enumerate(covs) if j != player])


def _mean_response(game: GaussianGame, player: int, covs, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """``(F, k)`` with best-response mean ``m_i = F m_{-i} + k`` (tau-stable lemma, module docstring)."""
    return mean_response(game.blocks(player), _others_covariance(covs, player), tau)


def _means_game(game: GaussianGame, covs, tau_arr) -> tuple[np.ndarray, np.ndarray]:
    """Assemble ``m = T m + k`` over the stacked means (SRPO eq. 13)."""
    size = sum(game.dims)
    T, k = np.zeros((size, size)), np.zeros(size)
    for i in range(game.n_players):
        own, others = own_and_others(game.dims, i)
        F, ki = _mean_response(game, i, covs, float(tau_arr[i]))
        T[np.ix_(own, others)] = F
        k[own] = ki
    return T, k


def _means_along(game: GaussianGame, covs, taus: np.ndarray, *, tol: float = 1e-10,
                max_iter: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Equilibrium means at many rows of per-player ``tau`` at once: ``(means, solved)``.

    The computation of :func:`solve_gaussian` (eq. 13 assembled from the tau-stable lemma,
    solved, then polished by iterative refinement to ``residual <= tol (1 + max |m|)``) with every
    tau-independent factor shared and the rest broadcast over a leading axis of length ``K``:
    the whitening ``S_{-i} = L L^T``, ``L^T C L = V diag(lam) V^T`` gives
    ``G(tau) = W diag(1 / (1 + tau lam)) W^T`` with ``W = L V`` for every ``tau``.  ``taus`` has
    shape ``(K, N)`` and must lie in the domain of eq. 14; ``solved[k]`` is false where the game
    of the means is singular or the refinement missed ``tol`` (re-solve those points with
    :func:`solve_gaussian`, which handles and reports both cases).
    """
    K, size = taus.shape[0], sum(game.dims)
    T, k = np.zeros((K, size, size)), np.zeros((K, size))
    for i in range(game.n_players):
        A, B, C, h_a, h_b = game.blocks(i)
        own, others = own_and_others(game.dims, i)
        W, lam = whiten(_others_covariance(covs, i), C)
        t = taus[:, i][:, None, None]
        G = (W[None] / (1.0 + t * lam[None, None, :])) @ W.T
        G = 0.5 * (G + np.swapaxes(G, 1, 2))
        BG = t * (B[None] @ G)
        Km = -A[None] + BG @ B.T
        rhs = np.concatenate([B[None] - BG @ C, (h_a[None, :] - BG @ h_b)[:, :, None]], axis=2)
        sol = np.linalg.solve(Km, rhs)
        T[:, own[:, None], others[None, :]] = sol[:, :, :-1]
        k[:, own] = sol[:, :, -1]
    L = np.eye(size)[None] - T
    solved = np.linalg.matrix_rank(L) == size
    m = np.zeros((K, size))
    if solved.any():
        m[solved] = np.linalg.solve(L[solved], k[solved][:, :, None])[:, :, 0]
    nit = 1
    while True:
        miss = np.abs(np.einsum("kab,kb->ka", T, m) + k - m).max(axis=1) > tol * (1 + np.abs(m).max(axis=1))
        todo = miss & solved
        if not todo.any() or nit >= max_iter:
            break
        m[todo] = m[todo] + np.linalg.solve(L[todo], (k[todo] - np.einsum("kab,kb->ka", L[todo], m[todo]))[:, :, None])[:, :, 0]
        nit += 1
    return m, solved & ~miss


def _bounds(game: GaussianGame, covs) -> np.ndarray:
    out = np.empty(game.n_players)
    for i in range(game.n_players):
        lam = whiten(_others_covariance(covs, i), game.blocks(i)[2])[1]
        out[i] = -1.0 / lam.min() if lam.min() < 0 else np.inf
    return out


def _check_domain(game, tau, tau_arr, eps_arr, func) -> None:
    bounds = tau_bounds(game, eps_arr)
    if np.all(tau_arr < bounds):
        return
    common = float(bounds.min())
    product = f" (tau*epsilon < {common * eps_arr[0]:.6g})" if np.all(eps_arr == eps_arr[0]) else ""
    raise ValueError(
        f"The 'tau' parameter of {func} must keep every player's risk finite (P_{{-i}} positive definite, "
        f"SRPO eq. 14): tau < {common:.6g} for a common tau{product}, per player tau_i < "
        f"{[float(f'{b:.6g}') for b in bounds]}. Got {tau!r} instead.")


def _residual(T, k, m) -> float:
    return float(np.abs(T @ m + k - m).max())


def _split(game: GaussianGame, m: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(m[own_and_others(game.dims, i)[0]] for i in range(game.n_players))


def _gap(game: GaussianGame, ms, covs, tau_arr, eps_arr) -> float:
    gains = []
    for i in range(game.n_players):
        F, k = _mean_response(game, i, covs, float(tau_arr[i]))
        best_means, best_covs = list(ms), list(covs)
        best_means[i] = F @ np.concatenate([m for j, m in enumerate(ms) if j != i]) + k
        best_covs[i] = quantal_covariance(game.blocks(i)[0], float(eps_arr[i]))
        options = {"tau": float(tau_arr[i]), "epsilon": float(eps_arr[i])}
        gains.append(game.risk_adjusted_utility(i, best_means, best_covs, **options)
                     - game.risk_adjusted_utility(i, ms, covs, **options))
    return max(0.0, float(max(gains)))
