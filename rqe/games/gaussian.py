"""Continuous-action games with quadratic utilities ("Gaussian games").

Conventions
-----------
Player ``i`` chooses ``a_i`` in ``R^{d_i}``.  The joint action ``a = (a_1, ..., a_N)`` is
stacked in player order into a vector of length ``D = d_1 + ... + d_N``.  Utilities are
maximised and quadratic:

    u_i(a) = 1/2 a^T H_i a + h_i^T a + c_i,

with ``H_i`` a symmetric ``(D, D)`` matrix whose *own block* ``H_i[i, i]`` (the ``d_i x d_i``
block of player ``i``'s own coordinates) is negative definite, so ``u_i`` is strictly concave
in ``a_i``.  Mixed strategies are densities; for Gaussians ``x_i = N(m_i, Sigma_i)`` every
quantity used by the solvers has a closed form (:mod:`rqe.games._gaussian_kernel`, shared with
:mod:`rqe.solvers.gaussian`): expected utilities, and the
risk-adjusted utility of the aggregate entropic risk (SRPO §4.1 and App. B.1)

    U_i^tau(x_i, x_{-i}) = -(1/tau_i) log E_{b ~ x_{-i}} exp(-tau_i E_{a_i ~ x_i} u_i(a_i, b)),

in which the player's own randomness is averaged *inside* the risk.  The regularised
objective adds the differential entropy, ``U_i^{tau,epsilon} = U_i^tau + epsilon_i h(x_i)``.

The *aggregative collaborative family* (Qu, Zhang, Lanzetti and Mazumdar, arXiv 2602.21515,
section 4.1) shares the reward ``R(a) = -1/2 ||sum_i a_i - a_bar||_H^2`` and charges private
costs ``rho_i/2 ||a_i||^2``; :meth:`GaussianGame.collaborative` builds it and records the
shared reward.
"""

from __future__ import annotations

from collections.abc import Sequence

import warnings

import numpy as np

from rqe._validation import finite_array, per_player, positive_int
from rqe.games._gaussian_kernel import check_profile, entropic_risk, own_and_others, slices

__all__ = ["GaussianGame"]

_SYMMETRY_RTOL = 1e-10


class GaussianGame:
    """An immutable N-player game with quadratic utilities over ``R^{d_1} x ... x R^{d_N}``.

    Parameters
    ----------
    H : array_like, shape (N, D, D)
        ``H[i]`` is the symmetric Hessian of player ``i``'s utility over the stacked joint
        action; its own block ``H[i][i, i]`` must be negative definite.
    h : array_like, shape (N, D)
        ``h[i]`` is the linear term of player ``i``'s utility.
    dims : sequence of int
        ``dims[i] = d_i >= 1``, the dimension of player ``i``'s action; ``N = len(dims) >= 2``
        and ``D = sum(dims)``.
    const : array_like, shape (N,), optional
        Constants ``c_i`` (default zero).  They shift utilities but never equilibria.

    See Also
    --------
    GaussianGame.collaborative : the aggregative collaborative family of the paper.
    rqe.solvers.gaussian.solve_gaussian : the Gaussian RQE in closed form.

    Examples
    --------
    Two players with scalar actions and ``u_i = -a_i^2 + a_1 a_2 + a_i``:

    >>> import rqe
    >>> H = [[[-2, 1], [1, 0]], [[0, 1], [1, -2]]]
    >>> game = rqe.GaussianGame(H, h=[[1, 0], [0, 1]], dims=[1, 1])
    >>> game
    GaussianGame(2 players, action dimensions (1, 1))
    >>> [round(float(u), 6) for u in game.expected_payoffs([1.0, 1.0], [0.5, 0.5])]
    [0.5, 0.5]
    """

    __slots__ = ("_H", "_h", "_const", "_dims", "_shared")
    _H: np.ndarray
    _h: np.ndarray
    _const: np.ndarray
    _dims: tuple
    _shared: dict | None

    def __init__(self, H, h, dims: Sequence[int], const=None):
        func = "rqe.GaussianGame"
        dims = _check_dims(dims, func)
        n, total = len(dims), sum(dims)
        H = finite_array(H, name="H", func=func)
        if H.shape != (n, total, total):
            raise ValueError(
                f"The 'H' parameter of {func} must be an array of shape (N, D, D) = ({n}, {total}, {total}) "
                f"for dims {list(dims)}. Got an array of shape {H.shape} instead.")
        asym = np.abs(H - H.transpose(0, 2, 1)).max(axis=(1, 2))
        scale = max(1.0, float(np.abs(H).max()))
        if np.any(asym > _SYMMETRY_RTOL * scale):
            i = int(np.argmax(asym))
            raise ValueError(
                f"The 'H' parameter of {func} must hold symmetric matrices. "
                f"Got H[{i}] differing from its transpose by up to {asym[i]:.3g}.")
        H = 0.5 * (H + H.transpose(0, 2, 1))
        for i, s in enumerate(slices(dims)):
            top = float(np.linalg.eigvalsh(H[i][s, s]).max())
            if top >= 0:
                raise ValueError(
                    f"The 'H' parameter of {func} must give every player a negative definite own block "
                    f"H[i][i, i] (utility strictly concave in its own action). Got player {i}'s own block "
                    f"with largest eigenvalue {top:.6g}.")
        h = finite_array(h, name="h", func=func)
        if h.shape != (n, total):
            raise ValueError(
                f"The 'h' parameter of {func} must be an array of shape (N, D) = ({n}, {total}). "
                f"Got an array of shape {h.shape} instead.")
        const = np.zeros(n) if const is None else finite_array(const, name="const", func=func)
        if const.shape != (n,):
            raise ValueError(
                f"The 'const' parameter of {func} must be an array of shape ({n},). "
                f"Got an array of shape {const.shape} instead.")
        for arr in (H, h, const):
            arr.setflags(write=False)
        for name, value in (("_H", H), ("_h", h), ("_const", const), ("_dims", dims), ("_shared", None)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"GaussianGame is immutable; cannot set {name!r}.")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def collaborative(cls, a_bar, rho, H=1.0, n_players: int = 2, dim: int = 1) -> GaussianGame:
        """The aggregative collaborative game of the paper (SRPO §4.1, App. B.1).

        Every player receives the shared reward ``R(a) = -1/2 (s - a_bar)^T H (s - a_bar)``,
        ``s = a_1 + ... + a_N``, minus a private cost ``rho_i/2 ||a_i||^2``.

        Parameters
        ----------
        a_bar : float or array_like, shape (dim,)
            The common target (a scalar is repeated in every coordinate).
        rho : float or array_like, shape (n_players,)
            Private cost weights ``rho_i >= 0``.
        H : float or array_like, shape (dim, dim)
            Positive scalar (meaning ``H * I``) or symmetric positive definite matrix.
        n_players : int
            ``N >= 2``.
        dim : int
            Common action dimension ``d >= 1``.

        Returns
        -------
        GaussianGame
            With ``is_collaborative`` true and ``shared`` recording ``H``, ``a_bar`` and ``rho``.

        Examples
        --------
        Example 2 of the paper ("two robots"):

        >>> import rqe
        >>> game = rqe.GaussianGame.collaborative(a_bar=1.0, rho=1.0)
        >>> game.H[0].tolist(), game.h[0].tolist(), float(game.const[0])
        ([[-2.0, -1.0], [-1.0, -1.0]], [1.0, 1.0], -0.5)
        >>> round(float(game.expected_shared_reward([1/3, 1/3], [0.05, 0.05])), 6)
        -0.105556
        """
        func = "rqe.GaussianGame.collaborative"
        n = positive_int(n_players, name="n_players", func=func, low=2)
        d = positive_int(dim, name="dim", func=func)
        Hs = finite_array(H, name="H", func=func)
        if Hs.ndim == 0:
            Hs = float(Hs) * np.eye(d)
        if Hs.shape != (d, d) or not np.allclose(Hs, Hs.T, rtol=0, atol=_SYMMETRY_RTOL * max(1.0, np.abs(Hs).max())) \
                or np.linalg.eigvalsh(0.5 * (Hs + Hs.T)).min() <= 0:
            raise ValueError(
                f"The 'H' parameter of {func} must be a float in (0, inf) or a symmetric positive definite "
                f"matrix of shape ({d}, {d}). Got {np.asarray(H).tolist()!r} instead.")
        Hs = 0.5 * (Hs + Hs.T)
        target = finite_array(a_bar, name="a_bar", func=func)
        if target.ndim == 0:
            target = np.full(d, float(target))
        if target.shape != (d,):
            raise ValueError(
                f"The 'a_bar' parameter of {func} must be a float or an array of shape ({d},). "
                f"Got an array of shape {target.shape} instead.")
        rho = per_player(rho, n, name="rho", func=func)
        total = np.tile(np.eye(d), n)
        shared_hessian = -total.T @ Hs @ total
        Hi = np.stack([shared_hessian - np.kron(np.diag(np.eye(n)[i] * r), np.eye(d)) for i, r in enumerate(rho)])
        hi = np.tile(total.T @ Hs @ target, (n, 1))
        game = cls(Hi, hi, [d] * n, const=np.full(n, -0.5 * target @ Hs @ target))
        for arr in (Hs, target, rho):
            arr.setflags(write=False)
        object.__setattr__(game, "_shared", {"H": Hs, "a_bar": target, "rho": rho})
        return game

    # ------------------------------------------------------------------ properties
    @property
    def H(self) -> np.ndarray:
        """Read-only array of shape ``(N, D, D)``: the utility Hessians."""
        return self._H

    @property
    def h(self) -> np.ndarray:
        """Read-only array of shape ``(N, D)``: the linear terms."""
        return self._h

    @property
    def const(self) -> np.ndarray:
        """Read-only array of shape ``(N,)``: the constants ``c_i``."""
        return self._const

    @property
    def dims(self) -> tuple[int, ...]:
        """Action dimensions ``(d_1, ..., d_N)``."""
        return self._dims

    @property
    def n_players(self) -> int:
        return len(self._dims)

    @property
    def is_collaborative(self) -> bool:
        """True for games built by :meth:`collaborative` (their shared reward is known)."""
        return self._shared is not None

    @property
    def shared(self) -> dict | None:
        """``{"H", "a_bar", "rho"}`` of a collaborative game, else ``None``."""
        return None if self._shared is None else dict(self._shared)

    def blocks(self, player: int) -> tuple[np.ndarray, ...]:
        """Player ``player``'s utility split into own (``a``) and others' (``b``) coordinates.

        Returns ``(A, B, C, h_a, h_b)`` with ``u = 1/2 a^T A a + a^T B b + 1/2 b^T C b
        + h_a^T a + h_b^T b + c``, where ``b`` stacks the other players' actions in increasing
        player order.  ``C`` is the *full* others' block: it couples the other players.
        """
        own, others = own_and_others(self._dims, player)
        Hi, hi = self._H[player], self._h[player]
        return (Hi[np.ix_(own, own)], Hi[np.ix_(own, others)], Hi[np.ix_(others, others)], hi[own], hi[others])

    # ------------------------------------------------------------------ closed forms
    def expected_payoffs(self, means, covariances) -> np.ndarray:
        """``E[u_i]`` for every player when ``a_j ~ N(means[j], covariances[j])`` independently.

        ``E[u_i] = 1/2 m^T H_i m + 1/2 tr(H_i Sigma) + h_i^T m + c_i`` with ``m`` the stacked
        means and ``Sigma`` the block-diagonal joint covariance.  For one-dimensional actions
        the entries of ``means`` and ``covariances`` may be scalars.
        """
        m, S = self._joint(*check_profile(self._dims, means, covariances, "rqe.GaussianGame.expected_payoffs"))
        return np.array([0.5 * m @ Hi @ m + 0.5 * np.sum(Hi * S) + hi @ m + c
                         for Hi, hi, c in zip(self._H, self._h, self._const)])

    def expected_utilities(self, means, covariances) -> np.ndarray:
        """Deprecated alias of :meth:`expected_payoffs` (removed in the next release)."""
        warnings.warn("GaussianGame.expected_utilities is deprecated and will be removed in the next release; use "
                      "GaussianGame.expected_payoffs.", DeprecationWarning, stacklevel=2)
        return self.expected_payoffs(means, covariances)

    def expected_shared_reward(self, means, covariances) -> float:
        """``E[R]`` of a collaborative game at a profile of independent Gaussians.

        ``E[R] = -1/2 [(sum_i m_i - a_bar)^T H (sum_i m_i - a_bar) + sum_i tr(H Sigma_i)]``.
        """
        func = "rqe.GaussianGame.expected_shared_reward"
        if self._shared is None:
            raise ValueError(
                f"{func} needs a collaborative game (built by GaussianGame.collaborative); "
                f"this game has no shared reward.")
        ms, Ss = check_profile(self._dims, means, covariances, func)
        Hs, target = self._shared["H"], self._shared["a_bar"]
        e = sum(ms) - target
        return float(-0.5 * (e @ Hs @ e + sum(np.sum(Hs * S) for S in Ss)))

    def risk_adjusted_utility(self, player: int, means, covariances, *, tau: float, epsilon: float = 0.0) -> float:
        """Player ``player``'s regularised risk-adjusted utility ``U_i^{tau,epsilon}`` in closed form.

        With ``g(b) = E_{a ~ x_i} u_i(a, b) = g0 + q^T b + 1/2 b^T C b`` (``q = B^T m_i + h_b``)
        and ``b ~ N(mu, S)`` the others' joint Gaussian, the entropic risk of a quadratic is

            -(1/tau) log E exp(-tau g(b)) = g(mu) + 1/(2 tau) log det(I + tau S C) - tau/2 r^T G r,

        ``r = q + C mu``, ``G = (S^{-1} + tau C)^{-1}``; it is finite iff ``S^{-1} + tau C`` is
        positive definite (``P_{-i}`` of the paper's lemma) and tends to ``E[g]`` as
        ``tau -> 0``.  The entropy term is ``epsilon/2 log det(2 pi e Sigma_i)``.

        Returns
        -------
        float
            ``-inf`` when the risk is infinite.

        Examples
        --------
        >>> import rqe
        >>> game = rqe.GaussianGame.collaborative(a_bar=1.0, rho=1.0)
        >>> u = game.risk_adjusted_utility(0, [0.4, 0.4], [0.5, 0.5], tau=1.0)
        >>> round(u, 6)  # log(1 - 0.5)/2 - 0.2**2/(2*0.5) - 0.4**2/2 - 0.5
        -0.966574
        >>> game.risk_adjusted_utility(0, [0.4, 0.4], [0.5, 0.5], tau=2.0)
        -inf
        """
        func = "rqe.GaussianGame.risk_adjusted_utility"
        if isinstance(player, bool) or not isinstance(player, (int, np.integer)) or not 0 <= player < self.n_players:
            raise ValueError(
                f"The 'player' parameter of {func} must be an int in [0, {self.n_players}). Got {player!r} instead.")
        tau = float(per_player(tau, 1, name="tau", func=func)[0])
        epsilon = float(per_player(epsilon, 1, name="epsilon", func=func)[0])
        ms, Ss = check_profile(self._dims, means, covariances, func)
        A, B, C, h_a, h_b = self.blocks(player)
        m_i, S_i = ms[player], Ss[player]
        mu = np.concatenate([m for j, m in enumerate(ms) if j != player])
        from scipy.linalg import block_diag  # lazy: scipy.linalg costs ~0.3 s at import (tests/test_startup.py)

        S = block_diag(*[s for j, s in enumerate(Ss) if j != player])
        risk = entropic_risk(B.T @ m_i + h_b, C, mu, S, tau)
        if risk == -np.inf:
            return -np.inf
        own = 0.5 * m_i @ A @ m_i + 0.5 * np.sum(A * S_i) + h_a @ m_i + self._const[player]
        entropy = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * S_i)[1] if epsilon > 0 else 0.0
        return float(own + risk + epsilon * entropy)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _joint(ms, Ss) -> tuple[np.ndarray, np.ndarray]:
        from scipy.linalg import block_diag  # lazy: scipy.linalg costs ~0.3 s at import (tests/test_startup.py)

        return np.concatenate(ms), block_diag(*Ss)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other):
        return (isinstance(other, GaussianGame) and self._dims == other._dims
                and np.array_equal(self._H, other._H) and np.array_equal(self._h, other._h)
                and np.array_equal(self._const, other._const))

    def __hash__(self):
        return hash((self._dims, self._H.tobytes(), self._h.tobytes(), self._const.tobytes()))

    def __repr__(self):
        kind = ", collaborative" if self.is_collaborative else ""
        return f"GaussianGame({self.n_players} players, action dimensions {self._dims}{kind})"


def _check_dims(dims, func) -> tuple[int, ...]:
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__"):
        raise ValueError(f"The 'dims' parameter of {func} must be a sequence of ints >= 1. Got {dims!r} instead.")
    dims = tuple(dims)
    if len(dims) < 2 or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims):
        raise ValueError(
            f"The 'dims' parameter of {func} must be a sequence of at least 2 ints >= 1 (one per player). "
            f"Got {list(dims)!r} instead.")
    return tuple(int(d) for d in dims)

