"""Many small RQE at once: the fixed point of :mod:`rqe.solvers._system`, vectorised over a batch.

Contract (used by :func:`rqe.solve_markov` for all states of a step, and by the best responses
of :mod:`rqe.markov`):

``solve_batch(Q, tau=, epsilon=, risk=, regularizer=, z0=None, free=None, tol=, max_iter=)``
    ``Q`` has shape ``(B, N, n_1, ..., n_N)``: ``B`` stage games with the same action counts
    (payoffs maximised).  ``tau`` and ``epsilon`` are ``(N,)`` or ``(B, N)``.  ``z0`` is a warm
    start in log coordinates, ``(B, sum n_i)``.  ``free`` (``(N,)`` booleans) marks the players
    whose strategies are solved for; the others keep their ``z0`` (a best response to fixed
    partners when one player is free).  Returns a :class:`Batch` with strategies, adversaries,
    the three values of :mod:`rqe.solvers.markov` and the certificates, per game.

The map is the same as :class:`rqe.solvers._system.RQESystem` (paper eqs. 1-2) with the four
built-in kernels (``kl``, ``reverse_kl``; ``entropy``, ``log_barrier``) written for a leading
batch axis.  Newton's method on ``F(z) = z - T(z)`` with a finite-difference Jacobian (all
``2 m`` perturbations in one batched evaluation; ``m = sum n_i`` is small here) and a
backtracking line search, applied only to the games not yet converged.  Games that miss
``tol`` are reported in ``converged``; the caller falls back to :func:`rqe.solve` for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rqe.solvers._system import joint_sum

BUILTIN_RISKS = ("kl", "reverse_kl")
BUILTIN_REGULARIZERS = ("entropy", "log_barrier")

_FD_STEP = 1e-7           # forward differences of T in log coordinates (error ~1e-7 relative: Newton
                          # then contracts by ~1e-7 a step near the solution)
_HALVINGS = 10            # line-search halvings before a damped fixed-point step is taken
_ROOT_STEPS = 100         # cap of the safeguarded Newton iteration of the scalar root


def _lse(a: np.ndarray) -> np.ndarray:
    """``log sum exp`` over the last axis, keeping it (length 1)."""
    m = np.max(a, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return m + np.log(np.sum(np.exp(a - m), axis=-1, keepdims=True))


def _inverse_sum_root(log_c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Batched :func:`rqe._numeric.log_inverse_sum_root`: ``log(d + w)`` with ``sum c / (d + w) = 1``.

    ``d >= 0`` with a zero in every row (last axis).  Safeguarded Newton on ``u = log w``.
    """
    with np.errstate(divide="ignore"):
        log_d = np.log(d)
    lo = np.max(np.where(d <= 0, log_c, -np.inf), axis=-1, keepdims=True)
    hi = _lse(log_c)
    u = hi.copy()
    for _ in range(_ROOT_STEPS):
        log_den = np.logaddexp(log_d, u)
        terms = log_c - log_den
        F = _lse(terms)
        lo = np.where(F > 0, u, lo)
        hi = np.where(F > 0, hi, u)
        slope = -np.sum(np.exp(terms - F + u - log_den), axis=-1, keepdims=True)
        step = -F / slope
        new = u + step
        inside = (new > lo) & (new < hi)
        done = (np.abs(step) <= 4e-16 * np.maximum(1.0, np.abs(u))) | (np.abs(F) <= 1e-15)
        u = np.where(done | inside, new, 0.5 * (lo + hi))
        if np.all(done):
            break
    return np.logaddexp(log_d, u)


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
    with np.errstate(invalid="ignore"):          # 0 log 0 = 0 where a = b = -inf
        return np.sum(np.where(w > 0, w * (a - b), 0.0), axis=-1)


def _response(name, G, epsilon):
    if name == "entropy":
        s = G / epsilon
        return s - _lse(s)
    d = np.max(G, axis=-1, keepdims=True) - G
    log_c = np.broadcast_to(np.log(epsilon), G.shape)
    return log_c - _inverse_sum_root(log_c, d)


def _reg_value(name, log_x):
    if name == "entropy":
        x = np.exp(log_x)
        with np.errstate(invalid="ignore"):
            return np.sum(np.where(x > 0, x * log_x, 0.0), axis=-1)
    return -np.sum(log_x, axis=-1)


@dataclass
class Batch:
    """Solutions of ``B`` stage games (private: :mod:`rqe.solvers.markov` builds results from it)."""

    z: np.ndarray              # (B, m) normalised log strategies
    strategies: list           # strategies[i]: (B, n_i)
    adversaries: list          # adversaries[i]: (B, A_-i), others' joint actions in increasing order
    regularized: np.ndarray    # (B, N): U_i^tau - epsilon_i nu(x_i)
    risk_adjusted: np.ndarray  # (B, N): U_i^tau
    expected: np.ndarray       # (B, N): x^T Q_i x (actual play)
    residual: np.ndarray       # (B,): max_i ||x_i - QR_i(x)||_1 over the free players
    gap: np.ndarray            # (B, N): duality gap of each free player's max-min problem (0 if fixed)
    converged: np.ndarray      # (B,) bool
    nit: int


class _Map:
    """``T`` for a batch of games, vectorised over any leading axes of ``z``."""

    def __init__(self, Q, tau, epsilon, risk, regularizer, free):
        B, N = Q.shape[:2]
        self.n = tuple(Q.shape[2:])
        self.N = N
        self.offsets = np.concatenate([[0], np.cumsum(self.n)])
        self.others = [[j for j in range(N) if j != i] for i in range(N)]
        # own-rows payoffs M_i: (B, 1, n_i, A_-i); the middle axis broadcasts over perturbations
        self.M = [np.moveaxis(Q[:, i], i + 1, 1).reshape(B, 1, self.n[i], -1) for i in range(N)]
        self.tau = np.broadcast_to(np.asarray(tau, float), (B, N))
        self.epsilon = np.broadcast_to(np.asarray(epsilon, float), (B, N))
        self.risk, self.reg = risk, regularizer
        self.free = np.ones(N, bool) if free is None else np.asarray(free, bool)
        self.fixed = np.concatenate([np.full(k, not f) for k, f in zip(self.n, self.free)])

    def subset(self, idx):
        out = object.__new__(_Map)
        out.__dict__.update(self.__dict__)
        out.M = [M[idx] for M in self.M]
        out.tau, out.epsilon = self.tau[idx], self.epsilon[idx]
        return out

    def blocks(self, z):
        return [z[..., self.offsets[i]:self.offsets[i + 1]] for i in range(self.N)]

    def _joint(self, parts, i):
        return joint_sum(parts, self.others[i], self.n)

    def evaluate(self, z):
        """``z``: ``(b, K, m)``.  Returns the pieces of the map (lists over players) and ``T(z)``."""
        log_x = [b - _lse(b) for b in self.blocks(z)]
        log_q, log_p, G, out = [], [], [], []
        for i in range(self.N):
            lq = self._joint(log_x, i)
            tau = self.tau[:, i, None, None]
            M = self.M[i]
            if np.any(tau > 0):
                g = np.matmul(np.exp(log_x[i])[..., None, :], M)[..., 0, :]
                lp = _adversary(self.risk, g, lq, tau)
            else:
                lp = lq
            Gi = np.matmul(M, np.exp(lp)[..., None])[..., 0]
            log_q.append(lq)
            log_p.append(lp)
            G.append(Gi)
            out.append(_response(self.reg, Gi, self.epsilon[:, i, None, None]) if self.free[i] else log_x[i])
        return log_x, log_q, log_p, G, np.concatenate(out, axis=-1)

    def normalize(self, z):
        return np.concatenate([b - _lse(b) for b in self.blocks(z)], axis=-1)

    def residual(self, log_x, Tz):
        """``max_i ||x_i - QR_i(x)||_1`` over free players, per game: ``(b, K)``."""
        diff = np.exp(np.concatenate(log_x, axis=-1)) - np.exp(Tz)
        if not np.any(self.free):
            return np.zeros(diff.shape[:-1])
        return np.max([np.abs(d).sum(axis=-1) for i, d in enumerate(self.blocks(diff)) if self.free[i]], axis=0)

    def jacobian(self, z, pieces):
        """``dF/dz`` of ``F = z - T(z)`` at ``z`` with the map's ``pieces`` there: ``(b, m, m)``.

        Analytic for KL + entropy (the chain rule through the closed forms, as
        :meth:`rqe.solvers._system.RQESystem.jvp`), forward differences otherwise.  Only the free
        players' coordinates are differentiated; the held players' rows are the identity (their step
        is zero, so their columns do not matter).
        """
        m = z.shape[-1]
        cols = np.flatnonzero(~self.fixed)
        E = np.zeros((cols.size, m))
        if self.risk == "kl" and self.reg == "entropy":
            E[np.arange(cols.size), cols] = 1.0
            dT = self._jvp_kl_entropy(E, pieces)
        else:
            E[np.arange(cols.size), cols] = _FD_STEP
            with np.errstate(invalid="ignore"):                                 # held rows: -inf - -inf
                dT = (self.evaluate(z[:, None, :] + E)[-1] - pieces[-1][:, None, :]) / _FD_STEP
        J = np.broadcast_to(np.eye(m), (z.shape[0], m, m)).copy()
        J[:, :, cols] -= np.swapaxes(dT, 1, 2)
        J[:, self.fixed, :] = 0.0
        J[:, self.fixed, self.fixed] = 1.0
        return J

    def _jvp_kl_entropy(self, E, pieces):
        """Directional derivatives of ``T`` along the rows of ``E`` (``(k, m)``): ``(b, k, m)``."""
        log_x, _, log_p, _, Tz = pieces
        x = [np.exp(lx) for lx in log_x]
        du = []
        for j, dz in enumerate(self.blocks(E)):                               # d(normalised log x_j)
            du.append(dz[None] - np.sum(dz[None] * x[j][:, None, :], axis=-1, keepdims=True))
        best = self.blocks(np.exp(Tz))
        out = []
        for i in range(self.N):
            M = self.M[i][:, 0]                                                # (b, n_i, A_-i)
            ds = self._joint(du, i)
            if np.any(self.tau[:, i] > 0):
                ds = ds - self.tau[:, i, None, None] * np.matmul(x[i][:, None, :] * du[i], M)
            p = np.exp(log_p[i])[:, None, :]
            dp = p * (ds - np.sum(ds * p, axis=-1, keepdims=True))
            dG = np.matmul(dp, np.swapaxes(M, 1, 2))
            dT = (dG - np.sum(dG * best[i][:, None, :], axis=-1, keepdims=True)) / self.epsilon[:, i, None, None]
            out.append(dT)
        return np.nan_to_num(np.concatenate(out, axis=-1))

    def F(self, z, Tz):
        """``z - T(z)``, zero on the held players' coordinates (where both may be ``-inf``)."""
        with np.errstate(invalid="ignore"):
            F = z - Tz
        F[..., self.fixed] = 0.0
        return F


def solve_batch(Q, *, tau, epsilon, risk: str, regularizer: str, z0=None, free=None, tol: float = 1e-10,
                max_iter: int = 50) -> Batch:
    """Solve ``B`` stage games at once (module docstring).  ``risk``/``regularizer`` are built-in names."""
    Q = np.asarray(Q, float)
    B = Q.shape[0]
    T = _Map(Q, tau, epsilon, risk, regularizer, free)
    if z0 is None:
        z = np.concatenate([np.full((B, k), -np.log(k)) for k in T.n], axis=1)
    else:
        z = T.normalize(np.asarray(z0, float))
    cache = _pieces(T, z)                            # the map's pieces at the current z of every game
    F = T.F(z, cache[-1])
    active = np.flatnonzero(T.residual(cache[0], cache[-1]) > tol)
    nit = 0
    while active.size and nit < max_iter:
        nit += 1
        sub = T.subset(active)
        za, Fa = z[active], F[active]
        r0 = np.max(np.abs(Fa), axis=-1)
        J = sub.jacobian(za, [[a[active] for a in part] for part in cache[:-1]] + [cache[-1][active]])
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(J, -Fa[..., None])[..., 0]
            except np.linalg.LinAlgError:
                step = np.stack([np.linalg.lstsq(Jb, -Fb, rcond=None)[0] for Jb, Fb in zip(J, Fa)])
        step = np.where(np.isfinite(step), step, -Fa)
        # the full step first; backtracking on max |F| (step * 2^-k, k = 1..H in one batch) only where it fails
        new = sub.normalize(za + step)
        got = _pieces(sub, new)
        F_new = sub.F(new, got[-1])
        r_new = np.max(np.abs(F_new), axis=-1)
        bad = np.flatnonzero(~(r_new < r0 * (1 - 1e-4)))
        if bad.size:
            scales = 0.5 ** np.arange(1, _HALVINGS + 1)
            sb = sub.subset(bad)
            trial = sb.normalize(za[bad, None, :] + scales[None, :, None] * step[bad, None, :])
            rt = np.max(np.abs(sb.F(trial, sb.evaluate(trial)[-1])), axis=-1)
            rt = np.where(np.isfinite(rt), rt, np.inf)
            k = np.argmax(rt < r0[bad, None] * (1 - 1e-4 * scales), axis=1)
            ok = rt[np.arange(bad.size), k] < r0[bad] * (1 - 1e-4 * scales[k])
            damped = sb.normalize(za[bad] - 0.5 * Fa[bad])                # no descent: a damped map step
            new[bad] = np.where(ok[:, None], trial[np.arange(bad.size), k], damped)
            retry = _pieces(sb, new[bad])
            _put(got, bad, retry)
            F_new[bad] = sb.F(new[bad], retry[-1])
        z[active], F[active] = new, F_new
        _put(cache, active, got)
        active = active[sub.residual(got[0], got[-1]) > tol]
    return _finish(T, z, tol, nit, cache)


def _pieces(T, z):
    """``(log_x, log_q, log_p, G, Tz)`` at ``z`` of shape ``(b, m)`` (lists over players, then ``T(z)``)."""
    *parts, Tz = T.evaluate(z[:, None, :])
    return [[a[:, 0] for a in part] for part in parts] + [Tz[:, 0]]


def _put(cache, idx, part):
    """Write the pieces ``part`` of the games ``idx`` into ``cache`` (in place)."""
    for dst, src in zip(cache[:-1], part[:-1]):
        for d, s in zip(dst, src):
            d[idx] = s
    cache[-1][idx] = part[-1]


def _finish(T: _Map, z, tol, nit, cache) -> Batch:
    log_x, log_q, log_p, G, Tz = cache
    B, N = z.shape[0], T.N
    risk_adj = np.empty((B, N))
    reg = np.empty((B, N))
    expected = np.empty((B, N))
    gap = np.zeros((B, N))
    best = T.blocks(Tz)
    for i in range(N):
        x = np.exp(log_x[i])
        U = np.sum(x * G[i], axis=-1)
        tau = T.tau[:, i]
        pen = _penalty(T.risk, log_p[i], log_q[i])
        U = U + np.where(tau > 0, pen / np.where(tau > 0, tau, 1.0), 0.0)
        eps = T.epsilon[:, i]
        risk_adj[:, i] = U
        reg[:, i] = U - np.where(eps > 0, eps, 0.0) * np.where(eps > 0, _reg_value(T.reg, log_x[i]), 0.0)
        expected[:, i] = np.sum(x * (T.M[i][:, 0] @ np.exp(log_q[i])[..., None])[..., 0], axis=-1)
        if T.free[i]:
            h_best = np.sum(np.exp(best[i]) * G[i], axis=-1) - eps * _reg_value(T.reg, best[i])
            h_x = np.sum(x * G[i], axis=-1) - eps * _reg_value(T.reg, log_x[i])
            gap[:, i] = np.maximum(h_best - h_x, 0.0)
    residual = T.residual(log_x, Tz)
    return Batch(z=z, strategies=[np.exp(a) for a in log_x], adversaries=[np.exp(a) for a in log_p],
                 regularized=reg, risk_adjusted=risk_adj, expected=expected, residual=residual, gap=gap,
                 converged=residual <= tol, nit=nit)
