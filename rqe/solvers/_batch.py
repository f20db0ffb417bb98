"""Many small RQE at once: the fixed point of :mod:`rqe.solvers._system`, vectorised over a batch.

Contract (used by :func:`rqe.solve_markov` for all states of a step, by the best responses of
:mod:`rqe.markov`, and by :func:`rqe.sweep` for a whole line of parameter points):

``solve_batch(Q, tau=, epsilon=, risk=, regularizer=, z0=None, free=None, legal=None, partners=None, tol=, max_iter=)``
    ``Q`` has shape ``(B, N, n_1, ..., n_N)``: ``B`` stage games with the same action counts
    (payoffs maximised).  ``tau`` and ``epsilon`` are ``(N,)`` or ``(B, N)`` (each game its own
    parameters).  ``z0`` is a warm start in log coordinates, ``(B, sum n_i)``.  ``free``
    (``(N,)`` or ``(B, N)`` booleans) marks the players whose strategies are solved for; the
    others keep their ``z0`` (a best response to fixed partners when one player is free).
    ``legal`` (``(B, sum n_i)`` booleans, optional) marks the actions that exist in each game:
    the others have probability zero and are never played or answered (games with fewer
    actions padded to a common shape; every player needs one legal action).  ``partners``
    (``(B, sum n_i)`` log strategies, optional) fixes the strategies each player's adversary and
    payoffs see for the *others*: every free player then best-responds to ``partners`` instead of
    to the current iterate (all best responses to a fixed profile at once).  Returns a
    :class:`Batch` with strategies, adversaries, the three values of :mod:`rqe.solvers.markov`
    and the certificates, per game.

The map is the same as :class:`rqe.solvers._system.RQESystem` (paper eqs. 1-2) with the four
built-in kernels (``kl``, ``reverse_kl``; ``entropy``, ``log_barrier``) written for a leading
batch axis.  Newton's method on ``F(z) = z - T(z)`` with the analytic Jacobian (the chain rule
through the closed forms, as :meth:`rqe.solvers._system.RQESystem.jvp`, along all ``m = sum
n_i`` coordinates at once; ``m`` is small here) and a backtracking line search, applied only
to the games not yet converged.  Games that miss ``tol`` are reported in ``converged``; the
caller falls back to :func:`rqe.solve` for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rqe import regularizers, risk as risks
from rqe.solvers._system import joint_sum

BUILTIN_RISKS = tuple(risks.BUILTIN)
BUILTIN_REGULARIZERS = tuple(regularizers.BUILTIN)
VALUES = ("regularized", "risk_adjusted", "expected")

_HALVINGS = 10            # line-search halvings before a damped fixed-point step is taken
_CHORD_RATE = 0.1         # a reused inverse Jacobian is kept while each step cuts max |F| by this factor
_ROOT_STEPS = 100         # cap of the safeguarded Newton iteration of the scalar root


def _joint(parts, others, n):
    """:func:`rqe.solvers._system.joint_sum`, without the copy when there is one other player."""
    return parts[others[0]] if len(others) == 1 else joint_sum(parts, others, n)


def _lse(a: np.ndarray) -> np.ndarray:
    """``log sum exp`` over the last axis, keeping it (length 1)."""
    m = a.max(axis=-1, keepdims=True)
    bad = ~np.isfinite(m)
    if bad.any():
        m[bad] = 0.0
    return m + np.log(np.exp(a - m).sum(axis=-1, keepdims=True))


def _inverse_sum_root(log_c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Batched :func:`rqe._numeric.log_inverse_sum_root`: ``log(d + w)`` with ``sum c / (d + w) = 1``.

    ``d >= 0`` with a zero in every row (last axis).  Safeguarded Newton on ``u = log w``,
    iterating only on the rows not yet converged.
    """
    log_d = np.log(d)
    lo = np.max(np.where(d <= 0, log_c, -np.inf), axis=-1, keepdims=True)
    hi = _lse(log_c)
    u = hi.copy()
    shape = u.shape
    log_c2, log_d2 = log_c.reshape(-1, log_c.shape[-1]), log_d.reshape(-1, log_d.shape[-1])
    u, lo, hi = u.reshape(-1, 1), lo.reshape(-1, 1), hi.reshape(-1, 1)
    rows = np.arange(u.shape[0])
    lc, ld, uu, ll, hh = log_c2, log_d2, u.copy(), lo, hi
    for _ in range(_ROOT_STEPS):
        log_den = np.logaddexp(ld, uu)
        terms = lc - log_den
        F = _lse(terms)
        up = F > 0
        ll = np.where(up, uu, ll)
        hh = np.where(up, hh, uu)
        slope = -np.sum(np.exp(terms - F + uu - log_den), axis=-1, keepdims=True)
        step = -F / slope
        new = uu + step
        done = ((np.abs(step) <= 4e-16 * np.maximum(1.0, np.abs(uu))) | (np.abs(F) <= 1e-15))[:, 0]
        uu = np.where(done[:, None] | ((new > ll) & (new < hh)), new, 0.5 * (ll + hh))
        if done.any():
            u[rows[done]] = uu[done]
            keep = ~done
            rows, lc, ld, uu, ll, hh = rows[keep], lc[keep], ld[keep], uu[keep], ll[keep], hh[keep]
            if rows.size == 0:
                break
    else:
        u[rows] = uu
    return np.logaddexp(log_d, u.reshape(shape))


def _barrier_root(log_c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``log(d + w)`` with ``sum c / (d + w) = 1`` for the log-barrier response (``c`` = epsilon, moderate).

    ``h(w) = 1 / sum_b c_b / (d_b + w) - 1`` is concave and increasing (a parallel sum of linear
    functions), so Newton's method on ``h`` from ``w = sum c`` (where ``h >= 0``) lands left of the
    root and then increases to it monotonically; ``w`` never falls below ``max {c_b : d_b = 0}``,
    a lower bound of the root.  ``c = 0`` or ``d = inf`` entries (illegal actions) drop out.
    """
    c = np.exp(log_c)
    w = np.sum(c, axis=-1, keepdims=True)
    lo = np.max(np.where(d <= 0, c, 0.0), axis=-1, keepdims=True)
    for _ in range(_ROOT_STEPS):
        den = d + w
        t = c / den
        phi = np.sum(t, axis=-1, keepdims=True)
        step = (phi - phi * phi) / np.sum(t / den, axis=-1, keepdims=True)
        w = np.maximum(w - step, lo)
        if np.all(np.abs(step) <= 4e-16 * w):
            break
    return np.log(d + w)


def _spread(log_r: np.ndarray, dv: np.ndarray):
    """Batched :func:`rqe._numeric.spread_about_weighted_mean` along the directions ``dv``.

    ``log_r``: ``(b, n)`` log weights (``-inf`` allowed, ``+inf`` at most at the largest);
    ``dv``: ``(b, k, n)``.  Returns ``(r_b A_b, r_b / R)`` with ``A_b = dv_b - sum_c (r_c/R) dv_c``,
    written so that no huge ``r_k`` multiplies a difference of nearly equal numbers.
    """
    k = np.argmax(log_r, axis=-1)[:, None]                                      # (b, 1)
    top = np.take_along_axis(log_r, k, axis=-1)
    inf = np.isposinf(top)
    share = np.exp(log_r - np.where(inf, 0.0, _lse(np.where(inf, -np.inf, log_r))))
    onehot = np.arange(log_r.shape[-1])[None, :] == k
    share = np.where(inf, onehot.astype(float), share)
    rest = np.where(onehot, 0.0, np.exp(log_r))                                 # r_c, c != k
    gap = np.take_along_axis(dv, k[:, :, None], axis=-1) - dv                  # dv_k - dv_c
    B = np.einsum("bkn,bn->bk", gap, np.where(onehot, 0.0, share))[..., None]
    out = rest[:, None, :] * (B - gap)
    at_k = share[:, None, :] * np.einsum("bkn,bn->bk", gap, rest)[..., None]
    return np.where(onehot[:, None, :], at_k, out), share


def _adversary(name, g, log_q, tau):
    """``log p`` of the adversary for payoff gradient ``g`` (last axis: the others' joint actions)."""
    if name == "kl":
        s = log_q - tau * g
        return s - _lse(s)
    safe = np.where(tau > 0, tau, 1.0)
    d = g - np.min(g, axis=-1, keepdims=True)
    log_c = log_q - np.log(safe)
    return np.where(tau > 0, log_c - _inverse_sum_root(log_c, d), log_q)


def _penalty(name, log_p, log_q):
    a, b = (log_p, log_q) if name == "kl" else (log_q, log_p)
    w = np.exp(a)
    return np.sum(np.where(w > 0, w * (a - b), 0.0), axis=-1)               # 0 log 0 = 0 where a = b = -inf


def _response(name, G, epsilon, legal):
    """``log x`` of the quantal response to ``G`` (``-inf`` on illegal actions, where ``legal`` is False)."""
    if name == "entropy":
        s = G / epsilon if legal is None else np.where(legal, G / epsilon, -np.inf)
        return s - _lse(s)
    if legal is not None:
        G = np.where(legal, G, -np.inf)
    d = np.max(G, axis=-1, keepdims=True) - G
    log_c = np.broadcast_to(np.log(epsilon), G.shape)
    if legal is not None:
        log_c = np.where(legal, log_c, -np.inf)
    return log_c - _barrier_root(log_c, d)


def _reg_value(name, log_x, legal):
    if name == "entropy":
        x = np.exp(log_x)
        return np.sum(np.where(x > 0, x * log_x, 0.0), axis=-1)
    return -np.sum(log_x if legal is None else np.where(legal, log_x, 0.0), axis=-1)


@dataclass
class Batch:
    """Solutions of ``B`` stage games (private: :mod:`rqe.solvers.markov` builds results from it)."""

    z: np.ndarray              # (B, m) normalised log strategies
    strategies: list           # strategies[i]: (B, n_i)
    adversaries: list          # adversaries[i]: (B, A_-i), others' joint actions in increasing order
    regularized: np.ndarray | None    # (B, N): U_i^tau - epsilon_i nu(x_i), when asked for in ``values``
    risk_adjusted: np.ndarray | None  # (B, N): U_i^tau
    expected: np.ndarray | None       # (B, N): x^T Q_i x (actual play)
    residual: np.ndarray       # (B,): max_i ||x_i - QR_i(x)||_1 over the free players
    gap: np.ndarray            # (B, N): duality gap of each free player's max-min problem (0 if fixed)
    converged: np.ndarray      # (B,) bool
    nit: int                   # Newton iterations of the batch (the most of any game)
    iterations: np.ndarray     # (B,) Newton iterations of each game
    jinv: np.ndarray | None = None   # (B, m, m) last inverse Jacobians (NaN where none), for warm starts


class _Map:
    """``T`` for a batch of games: arrays ``(b, ...)`` with the games on the leading axis."""

    def __init__(self, Q, tau, epsilon, risk, regularizer, free, legal, partners=None):
        B, N = Q.shape[:2]
        self.n = tuple(Q.shape[2:])
        self.N = N
        self.offsets = np.concatenate([[0], np.cumsum(self.n)])
        self.others = [[j for j in range(N) if j != i] for i in range(N)]
        # own-rows payoffs M_i: (B, n_i, A_-i) and their transposes (B, A_-i, n_i)
        self.M = [np.ascontiguousarray(np.moveaxis(Q[:, i], i + 1, 1).reshape(B, self.n[i], -1)) for i in range(N)]
        self.tau = np.broadcast_to(np.asarray(tau, float), (B, N))
        self.epsilon = np.broadcast_to(np.asarray(epsilon, float), (B, N))
        self.risky = [bool(np.any(self.tau[:, i] > 0)) for i in range(N)]
        self.risk, self.reg = risk, regularizer
        free = np.ones(N, bool) if free is None else np.asarray(free, bool)
        self.free = np.broadcast_to(free, (B, N))
        self.partners = None if partners is None else np.asarray(partners, float)
        self.free_all = self.free.all(axis=0)
        fixed = np.repeat(~self.free, self.n, axis=1)
        if legal is None:
            self.legal = None
            self.legal_i = [None] * N
            self.joint_legal = [None] * N
        else:
            self.legal = np.asarray(legal, bool)
            fixed = fixed | ~self.legal
            self.legal_i = [self.legal[:, self.offsets[i]:self.offsets[i + 1]] for i in range(N)]
            zero = [np.where(l, 0.0, -np.inf) for l in self.legal_i]
            self.joint_legal = [np.isfinite(joint_sum(zero, self.others[i], self.n)) for i in range(N)]
        self.fixed = fixed
        self.any_fixed = bool(fixed.any())

    def subset(self, idx):
        out = object.__new__(_Map)
        out.__dict__.update(self.__dict__)
        out.M = [M[idx] for M in self.M]
        out.tau, out.epsilon, out.free, out.fixed = self.tau[idx], self.epsilon[idx], self.free[idx], self.fixed[idx]
        out.free_all = out.free.all(axis=0)
        if self.legal is not None:
            out.legal = self.legal[idx]
            out.legal_i = [l[idx] for l in self.legal_i]
            out.joint_legal = [l[idx] for l in self.joint_legal]
        if self.partners is not None:
            out.partners = self.partners[idx]
        return out

    def blocks(self, z):
        return [z[..., self.offsets[i]:self.offsets[i + 1]] for i in range(self.N)]

    def normalize(self, z):
        return np.concatenate([b - _lse(b) for b in self.blocks(z)], axis=-1)

    def evaluate(self, z):
        """``z``: ``(b, m)`` normalised.  Returns ``[log_x, log_q, log_p, G, T(z)]`` (lists over players)."""
        log_x = self.blocks(z)
        x = [np.exp(a) for a in log_x]
        seen = log_x if self.partners is None else self.blocks(self.partners)     # what the others play
        log_q, log_p, G, out = [], [], [], []
        for i in range(self.N):
            lq = _joint(seen, self.others[i], self.n)
            if self.risky[i]:
                tau = self.tau[:, i, None]
                g = np.einsum("bn,bna->ba", x[i], self.M[i])
                if self.risk == "reverse_kl" and self.legal is not None:
                    g = np.where(self.joint_legal[i], g, np.inf)
                lp = _adversary(self.risk, g, lq, tau)
            else:
                lp = lq
            Gi = np.einsum("bna,ba->bn", self.M[i], np.exp(lp))
            log_q.append(lq)
            log_p.append(lp)
            G.append(Gi)
            if self.free_all[i]:
                Ti = _response(self.reg, Gi, self.epsilon[:, i, None], self.legal_i[i])
            else:
                Ti = log_x[i].copy()
                rows = np.flatnonzero(self.free[:, i])
                if rows.size:
                    Ti[rows] = _response(self.reg, Gi[rows], self.epsilon[rows, i, None],
                                         None if self.legal is None else self.legal_i[i][rows])
            out.append(Ti)
        return [log_x, log_q, log_p, G, np.concatenate(out, axis=-1)]

    def residual(self, z, Tz):
        """``max_i ||x_i - QR_i(x)||_1`` per game (held players have ``T_i = log x_i``: no contribution)."""
        diff = np.abs(np.exp(z) - np.exp(Tz))
        return np.max([d.sum(axis=-1) for d in self.blocks(diff)], axis=0)

    def F(self, z, Tz):
        """``z - T(z)``, zero on the held and illegal coordinates (where both may be ``-inf``)."""
        F = z - Tz
        if self.any_fixed:
            F[self.fixed] = 0.0
        return F

    def jacobian(self, pieces):
        """``dF/dz`` of ``F = z - T(z)`` with the map's ``pieces`` at ``z``: ``(b, m, m)``.

        The chain rule through the closed forms (:meth:`rqe.solvers._system.RQESystem.jvp`, the
        derivatives of :mod:`rqe.risk` and :mod:`rqe.regularizers`); the held and illegal
        coordinates' rows are the identity (their step is zero).
        """
        J = self._jacobian_kl(pieces) if self.risk == "kl" else self._jacobian_directions(pieces)
        if self.any_fixed:
            J = np.where(self.fixed[:, :, None], np.eye(J.shape[-1]), J)
        return J

    def _jacobian_kl(self, pieces):
        """KL adversary, in matrix form.

        With ``C_i = M_i (diag p_i - p_i p_i^T)`` (so ``C_i 1 = 0``), ``dG_i = C_i (dlog q_i - tau_i dg_i)``,
        ``dg_i = M_i^T (diag x_i - x_i x_i^T) dz_i`` and ``dlog q_i`` the others' centred ``dz_j``
        lifted to joint actions, the blocks of ``dT`` are ``R_i marg_j(C_i)`` (``j != i``, the sum of
        ``C_i`` over the joint actions of the players other than ``j``) and
        ``-tau_i R_i C_i M_i^T (diag x_i - x_i x_i^T)``, where ``R_i`` is the response derivative:
        ``(I - 1 x'^T) / epsilon`` for the entropy (``x'`` the response) and
        ``diag(x' / epsilon) (I - 1 w^T)``, ``w = x'^2 / sum x'^2``, for the log barrier.
        """
        log_x, _, log_p, G, Tz = pieces
        b, m = Tz.shape
        J = np.zeros((b, m, m))
        best = self.blocks(np.exp(Tz))
        o = self.offsets
        for i in range(self.N):
            p = np.exp(log_p[i])[:, None, :]
            C = (self.M[i] - G[i][:, :, None]) * p                                    # (b, n_i, A_-i)
            eps = self.epsilon[:, i, None, None]
            if self.reg == "entropy":
                w, scale = best[i], 1.0 / eps
            else:
                sq = best[i] ** 2
                w, scale = sq / np.sum(sq, axis=-1, keepdims=True), best[i][:, :, None] / eps

            def R(X, w=w, scale=scale):
                return scale * (X - np.einsum("bn,bnk->bk", w, X)[:, None, :])

            if len(self.others[i]) and self.partners is None:               # fixed partners: no coupling
                shape = (b, self.n[i]) + tuple(self.n[j] for j in self.others[i])
                Cf = C.reshape(shape)
                for k, j in enumerate(self.others[i]):
                    axes = tuple(2 + a for a in range(len(self.others[i])) if a != k)
                    D = Cf.sum(axis=axes) if axes else Cf
                    J[:, o[i]:o[i + 1], o[j]:o[j + 1]] = -R(D)
            if self.risky[i]:
                x = np.exp(log_x[i])
                Y = np.matmul(C, np.swapaxes(self.M[i], 1, 2)) * self.tau[:, i, None, None]  # (b, n_i, n_i)
                Y = Y * x[:, None, :] - np.einsum("bnk,bk->bn", Y, x)[:, :, None] * x[:, None, :]
                J[:, o[i]:o[i + 1], o[i]:o[i + 1]] = R(Y)
        if not np.isfinite(J).all():
            J = np.nan_to_num(J, nan=0.0, posinf=0.0, neginf=0.0)
        J += np.eye(m)
        return J

    def _jacobian_directions(self, pieces):
        """Reverse-KL adversary: directional derivatives along every coordinate, in the stable form
        of :func:`rqe._numeric.spread_about_weighted_mean` (its weights can reach ``1e17``)."""
        log_x, log_q, log_p, _, Tz = pieces
        b, m = Tz.shape
        x = [np.exp(lx) for lx in log_x]
        eye = np.eye(m)
        du = []                                                                 # d(normalised log x_j)
        for j, E in enumerate(self.blocks(eye)):                               # along e_c: e_c - x_c (c in block j)
            xc = np.zeros((b, m))
            xc[:, self.offsets[j]:self.offsets[j + 1]] = x[j]
            du.append(E[None] - xc[:, :, None])                                # (b, m, n_j)
        best = self.blocks(Tz)
        out = []
        for i in range(self.N):
            dlq = _joint(du, self.others[i], self.n)                            # (b, m, A_-i)
            if self.partners is not None:
                dlq = np.zeros_like(dlq)
            p = np.exp(log_p[i])
            if self.risky[i]:
                tau = self.tau[:, i, None, None]
                dg = np.matmul(x[i][:, None, :] * du[i], self.M[i])
                if self.risk == "kl":
                    ds = dlq - tau * dg
                    dp = p[:, None, :] * (ds - np.einsum("bka,ba->bk", ds, p)[..., None])
                else:
                    log_r = np.where(p > 0, 2.0 * log_p[i] - log_q[i] + np.log(np.where(tau[:, :, 0] > 0,
                                                                                     tau[:, :, 0], 1.0)), -np.inf)
                    spread, share = _spread(log_r, dg)
                    rkl = p[:, None, :] * dlq - spread - share[:, None, :] * np.einsum("bka,ba->bk", dlq, p)[..., None]
                    dp = np.where(tau > 0, rkl, p[:, None, :] * dlq)
            else:
                dp = p[:, None, :] * dlq
            dG = np.matmul(dp, np.swapaxes(self.M[i], 1, 2))
            bi = np.exp(best[i])
            eps = self.epsilon[:, i, None, None]
            if self.reg == "entropy":
                dT = (dG - np.einsum("bkn,bn->bk", dG, bi)[..., None]) / eps
            else:
                spread, _ = _spread(2.0 * best[i] - np.log(eps[:, :, 0]), dG)
                dT = spread / bi[:, None, :]
            out.append(dT)
        dT = np.nan_to_num(np.concatenate(out, axis=-1), nan=0.0, posinf=0.0, neginf=0.0)   # (b, dir, out)
        return eye - np.swapaxes(dT, 1, 2)


def solve_batch(Q, *, tau, epsilon, risk: str, regularizer: str, z0=None, free=None, legal=None, partners=None,
                tol: float = 1e-10, max_iter: int = 50, values=VALUES, jinv0=None) -> Batch:
    """Solve ``B`` stage games at once (module docstring).  ``risk``/``regularizer`` are built-in names.

    ``values``: which of the three values to compute (the others are ``None`` in the result).
    ``jinv0``: inverse Jacobians ``(B, m, m)`` at nearby points (``Batch.jinv`` of a previous
    solve; NaN where there is none), used for chord steps while they contract.
    """
    with np.errstate(all="ignore"):
        return _solve(Q, tau, epsilon, risk, regularizer, z0, free, legal, partners, tol, max_iter, values, jinv0)


def _solve(Q, tau, epsilon, risk, regularizer, z0, free, legal, partners, tol, max_iter, values, jinv0):
    Q = np.asarray(Q, float)
    B = Q.shape[0]
    T = _Map(Q, tau, epsilon, risk, regularizer, free, legal, partners)
    if z0 is None:
        z = np.concatenate([np.full((B, k), -np.log(k)) for k in T.n], axis=1)
        if T.legal is not None:
            z = T.normalize(np.where(T.legal, 0.0, -np.inf))
    else:
        z = np.asarray(z0, float)
        if T.legal is not None:
            z = np.where(T.legal, z, -np.inf)
        z = T.normalize(z)
    cache = T.evaluate(z)                            # the map's pieces at the current z of every game
    F = T.F(z, cache[-1])
    res = T.residual(z, cache[-1])
    active = np.flatnonzero(res > tol)
    iterations = np.zeros(B, dtype=int)
    m = z.shape[1]
    # inverse Jacobians: reused (chord steps) while they contract well, recomputed when they do not
    reuse = jinv0 is not None            # chord steps only when warm-started with inverses
    if jinv0 is None:
        Jinv, has = np.zeros((B, m, m)), np.zeros(B, bool)
    else:
        Jinv = np.array(jinv0, float)
        has = np.isfinite(Jinv).all(axis=(1, 2))
    nit = 0
    while active.size and nit < max_iter:
        nit += 1
        iterations[active] += 1
        whole = active.size == B
        sub = T if whole else T.subset(active)
        part = cache if whole else _take(cache, active)
        za, Fa = (z, F) if whole else (z[active], F[active])
        r0 = np.max(np.abs(Fa), axis=-1)
        chord = has[active] if reuse else np.zeros(active.size, bool)
        need = np.flatnonzero(~chord)
        if need.size:
            fresh = need.size == active.size
            J = (sub if fresh else sub.subset(need)).jacobian(part if fresh else _take(part, need))
            Jinv[active[need]] = _inverse(J)
            has[active[need]] = True
        step = -np.einsum("bij,bj->bi", Jinv if whole else Jinv[active], Fa)
        step = np.where(np.isfinite(step), step, -Fa)
        if sub.any_fixed:
            step[sub.fixed] = 0.0
        # the full step first; backtracking on max |F| (step * 2^-k, k = 1..H in one batch) only where it fails
        new = sub.normalize(za + step)
        got = sub.evaluate(new)
        F_new = sub.F(new, got[-1])
        r_new = np.max(np.abs(F_new), axis=-1)
        weak = np.flatnonzero(chord & ~(r_new <= _CHORD_RATE * r0))
        if weak.size:                    # a reused inverse that no longer contracts: undo, Newton next time
            has[active[weak]] = False
            new[weak] = za[weak]
            _put(got, weak, _take(part, weak))
            F_new[weak] = Fa[weak]
        bad = np.flatnonzero(~chord & ~(r_new < r0 * (1 - 1e-4)))
        if bad.size:
            scales = 0.5 ** np.arange(1, _HALVINGS + 1)
            rep = np.repeat(bad, _HALVINGS)
            sb = sub.subset(rep)
            trial = sb.normalize((za[bad, None, :] + scales[None, :, None] * step[bad, None, :]).reshape(-1, za.shape[1]))
            rt = np.max(np.abs(sb.F(trial, sb.evaluate(trial)[-1])), axis=-1).reshape(bad.size, _HALVINGS)
            rt = np.where(np.isfinite(rt), rt, np.inf)
            k = np.argmax(rt < r0[bad, None] * (1 - 1e-4 * scales), axis=1)
            ok = rt[np.arange(bad.size), k] < r0[bad] * (1 - 1e-4 * scales[k])
            sbad = sub.subset(bad)
            damped = sbad.normalize(za[bad] - 0.5 * Fa[bad])                  # no descent: a damped map step
            new[bad] = np.where(ok[:, None], trial.reshape(bad.size, _HALVINGS, -1)[np.arange(bad.size), k], damped)
            retry = sbad.evaluate(new[bad])
            _put(got, bad, retry)
            F_new[bad] = sbad.F(new[bad], retry[-1])
        r_sub = sub.residual(new, got[-1])
        if whole:
            z, F, cache = new, F_new, got
        else:
            z[active], F[active] = new, F_new
            _put(cache, active, got)
        res[active] = r_sub
        active = active[r_sub > tol]
    out = _finish(T, z, res, tol, nit, iterations, cache, values)
    Jinv[~has] = np.nan
    out.jinv = Jinv
    return out


def _inverse(J):
    """Batched inverse; a pseudo-inverse for the singular ones."""
    try:
        return np.linalg.inv(J)
    except np.linalg.LinAlgError:
        return np.stack([np.linalg.pinv(Jb) for Jb in J])


def _take(cache, idx):
    return [[a[idx] for a in part] for part in cache[:-1]] + [cache[-1][idx]]


def _put(cache, idx, part):
    """Write the pieces ``part`` of the games ``idx`` into ``cache`` (in place)."""
    for dst, src in zip(cache[:-1], part[:-1]):
        for d, s in zip(dst, src):
            d[idx] = s
    cache[-1][idx] = part[-1]


def _finish(T: _Map, z, residual, tol, nit, iterations, cache, values) -> Batch:
    log_x, log_q, log_p, G, Tz = cache
    B, N = z.shape[0], T.N
    out = {v: np.empty((B, N)) for v in values}
    gap = np.zeros((B, N))
    best = T.blocks(Tz)
    strategies, adversaries = [], []
    for i in range(N):
        x = np.exp(log_x[i])
        xG = np.sum(x * G[i], axis=-1)
        U = xG
        if T.risky[i]:
            tau = T.tau[:, i]
            pen = _penalty(T.risk, log_p[i], log_q[i])
            U = U + np.where(tau > 0, pen / np.where(tau > 0, tau, 1.0), 0.0)
        eps = T.epsilon[:, i]
        nu = _reg_value(T.reg, log_x[i], T.legal_i[i])
        if "risk_adjusted" in out:
            out["risk_adjusted"][:, i] = U
        if "regularized" in out:
            out["regularized"][:, i] = U - np.where(eps > 0, eps * nu, 0.0)
        if "expected" in out:
            expected = xG if not T.risky[i] else np.sum(x * np.einsum("bna,ba->bn", T.M[i], np.exp(log_q[i])), -1)
            out["expected"][:, i] = expected
        if T.free[:, i].any():
            h_best = np.sum(np.exp(best[i]) * G[i], axis=-1) - eps * _reg_value(T.reg, best[i], T.legal_i[i])
            gap[:, i] = np.where(T.free[:, i], np.maximum(h_best - (xG - eps * nu), 0.0), 0.0)
        strategies.append(x)
        adversaries.append(np.exp(log_p[i]))
    return Batch(z=z, strategies=strategies, adversaries=adversaries, regularized=out.get("regularized"),
                 risk_adjusted=out.get("risk_adjusted"), expected=out.get("expected"), residual=residual, gap=gap,
                 converged=residual <= tol, nit=nit, iterations=iterations)
