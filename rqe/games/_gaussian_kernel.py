"""Closed forms of Gaussian play in quadratic games (private): the one kernel that
:class:`rqe.GaussianGame` and :mod:`rqe.solvers.gaussian` (and :mod:`rqe.analysis`) compute with.

Notation of :meth:`rqe.GaussianGame.blocks`: player ``i``'s utility is
``u = 1/2 a^T A a + a^T B b + 1/2 b^T C b + h_a^T a + h_b^T b + c`` with ``a`` its own action
and ``b`` the others' stacked actions; the others play ``b ~ N(mu, S)``.

* The adversary's tilt (SRPO App. B.1.1, tau-stable form): ``G = (S^{-1} + tau C)^{-1}``,
  by whitening ``S = L L^T`` and ``L^T C L = V diag(lam) V^T``, ``G = W diag(1/(1 + tau lam)) W^T``
  with ``W = L V``; finite risk iff ``1 + tau min(lam) > 0`` (``P_{-i}`` positive definite, eq. 14).
* The entropic risk of a quadratic ``g(b) = q^T b + 1/2 b^T C b``:
  ``-(1/tau) log E exp(-tau g(b)) = g(mu) + 1/(2 tau) log det(I + tau S C) - tau/2 r^T G r``,
  ``r = q + C mu``.
* The risk-averse quantal best response (SRPO Lemma, App. B.1.1): covariance
  ``Sigma_i = -epsilon_i A^{-1}`` and mean ``m_i = F mu + k`` with
  ``K = -A + tau B G B^T``, ``F = K^{-1} (B - tau B G C)``, ``k = K^{-1} (h_a - tau B G h_b)``.
"""

from __future__ import annotations

import numpy as np

from rqe._validation import finite_array

__all__ = ["block_diagonal", "check_profile", "entropic_risk", "mean_response", "own_and_others",
           "quantal_covariance", "slices", "tilt", "whiten"]

_SYMMETRY_RTOL = 1e-10


def slices(dims) -> tuple[slice, ...]:
    """Each player's coordinates in the stacked joint action."""
    ends = np.cumsum(dims)
    return tuple(slice(int(e - d), int(e)) for d, e in zip(dims, ends))


def own_and_others(dims, player: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``player``'s coordinates and of the others' (in increasing player order)."""
    idx = np.arange(sum(dims))
    parts = slices(dims)
    return idx[parts[player]], np.concatenate([idx[t] for j, t in enumerate(parts) if j != player])


def block_diagonal(blocks) -> np.ndarray:
    """The block-diagonal matrix of square ``blocks`` (the joint covariance of independent players)."""
    size = sum(S.shape[0] for S in blocks)
    out, at = np.zeros((size, size)), 0
    for S in blocks:
        d = S.shape[0]
        out[at:at + d, at:at + d] = S
        at += d
    return out


def whiten(S: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(W, lam)``: the generalized eigenproblem ``C v = lam S^{-1} v`` with ``W = L V``, ``S = L L^T``."""
    L = np.linalg.cholesky(S)
    lam, V = np.linalg.eigh(L.T @ C @ L)
    return L @ V, lam


def tilt(S: np.ndarray, C: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The adversary's tilt of ``b ~ N(mu, S)`` against ``exp(-tau/2 b^T C b)``, tau-stable.

    Returns ``(G, lam)`` with ``G = (S^{-1} + tau C)^{-1}`` (``G = P^{-1} / tau`` in the
    paper's notation, well defined at ``tau = 0`` where ``G = S``) and ``lam`` of
    :func:`whiten`, or ``None`` when ``S^{-1} + tau C`` is not positive definite
    (``1 + tau min(lam) <= 0``: infinite risk).
    """
    W, lam = whiten(S, C)
    scale = 1.0 + tau * lam
    if scale.min() <= 0:
        return None
    G = (W / scale) @ W.T
    return 0.5 * (G + G.T), lam


def entropic_risk(q: np.ndarray, C: np.ndarray, mu: np.ndarray, S: np.ndarray, tau: float) -> float:
    """``-(1/tau) log E exp(-tau g(b))`` for ``g(b) = q^T b + 1/2 b^T C b``, ``b ~ N(mu, S)``; ``E[g]`` at
    ``tau = 0`` and ``-inf`` when the risk is infinite (module docstring)."""
    out = tilt(S, C, tau)
    if out is None:
        return -np.inf
    G, lam = out
    r = q + C @ mu
    log_det_term = np.sum(np.log1p(tau * lam)) / tau if tau > 0 else np.sum(lam)
    return float(q @ mu + 0.5 * mu @ C @ mu + 0.5 * log_det_term - 0.5 * tau * r @ G @ r)


def quantal_covariance(A: np.ndarray, epsilon: float) -> np.ndarray:
    """``Sigma_i = -epsilon_i A^{-1}`` (the lemma): independent of tau and of the others."""
    S = -epsilon * np.linalg.inv(A)
    return 0.5 * (S + S.T)


def mean_response(blocks, S: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """``(F, k)`` with the best-response mean ``m_i = F mu + k`` to others of covariance ``S``
    (``blocks`` as :meth:`rqe.GaussianGame.blocks`; tau-stable lemma, module docstring)."""
    A, B, C, h_a, h_b = blocks
    out = tilt(S, C, tau)
    if out is None:     # callers check the domain (eq. 14) first
        raise ValueError("The risk is infinite (P_{-i} not positive definite): no best response.")
    G = out[0]
    BG = tau * B @ G
    K = -A + BG @ B.T
    F = np.linalg.solve(K, B - BG @ C)
    k = np.linalg.solve(K, h_a - BG @ h_b)
    return F, k


def check_profile(dims, means, covariances, func: str) -> tuple[list, list]:
    """Validate a profile of independent Gaussians; return lists of mean vectors and covariance matrices."""
    n = len(dims)
    for name, value in (("means", means), ("covariances", covariances)):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != n:
            raise ValueError(
                f"The {name!r} parameter of {func} must hold one entry per player ({n}). Got {value!r} instead.")
    ms, Ss = [], []
    for i, d in enumerate(dims):
        m = finite_array(means[i], name="means", func=func).reshape(-1)
        S = finite_array(covariances[i], name="covariances", func=func)
        S = S.reshape(1, 1) if S.size == 1 and d == 1 else S
        if m.shape != (d,):
            raise ValueError(
                f"The 'means' parameter of {func} must hold, for player {i}, a vector of shape ({d},). "
                f"Got shape {np.shape(means[i])} instead.")
        if S.shape != (d, d) or not np.allclose(S, S.T, rtol=0, atol=_SYMMETRY_RTOL * max(1.0, np.abs(S).max())) \
                or np.linalg.eigvalsh(0.5 * (S + S.T)).min() <= 0:
            raise ValueError(
                f"The 'covariances' parameter of {func} must hold, for player {i}, a symmetric positive "
                f"definite matrix of shape ({d}, {d}). Got {np.round(S, 6).tolist()!r} instead.")
        ms.append(m)
        Ss.append(0.5 * (S + S.T))
    return ms, Ss
