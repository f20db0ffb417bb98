"""The logit-QRE equations in ``(log x, lam)`` with their exact Jacobian: the family traced by
:func:`rqe.qre_path` and solved by :func:`rqe.solve_qre` (a family in the sense of
:mod:`rqe.solvers._tracer`).

``T_i(z) = log softmax(lam w_i u_i)`` where ``u_i`` is player ``i``'s expected payoff of each
action against ``x_j = softmax(z_j)``, ``j != i`` (the system of :mod:`rqe.solvers._system` at
``tau = 0`` with the entropy, written out for speed: a 5x5 evaluation is about a dozen numpy
calls).  With ``sigma_i = exp(T_i)`` and ``D_ij`` the payoff of player ``i`` contracted with
every ``x_k``, ``k != i, j`` (an ``n_i x n_j`` matrix),
``dT_i/dz_j = lam w_i (I - 1 sigma_i^T) D_ij (diag x_j - x_j x_j^T)`` and
``dT_i/dlam = w_i (u_i - sigma_i . u_i)``.
"""

from __future__ import annotations

import math

import numpy as np

from rqe.games.normal_form import NormalFormGame
from rqe.solvers._tracer import _FLOOR

EXP_SAFE = 700.0      # exp(a) neither overflows nor underflows to zero for |a| below this
_BLOCK_MAX = 32       # two players with at most this many actions: both payoff products in one mat-vec


class LogitFamily:
    """The logit-QRE equations ``F(z; lam) = z - T(z; lam)`` of a game (module docstring).

    Players' vectors are stored as the rows of an ``N x max_i n_i`` array (``mask`` marks the
    real entries), so that each operation is one numpy call for all players.
    """

    def __init__(self, game: NormalFormGame, weights: np.ndarray):
        self.game = game
        self.N = N = game.n_players
        self.n = n = game.n_actions
        self.offsets = offsets = [0]
        for k in n:
            offsets.append(offsets[-1] + k)
        self.size = size = offsets[-1]
        m = max(n)
        self.square = self.fast = min(n) == m
        self.w = np.asarray(weights, dtype=float)[:, None]
        P = np.asarray(game.payoffs, dtype=float)
        # Subtract each player's smallest payoff (the logit response ignores it): exact for
        # payoffs sharing a large offset (Sterbenz), so 1e9 + u keeps all of u's digits.
        low = P.reshape(N, -1).min(axis=1)
        self.P = P - low.reshape((N,) + (1,) * N)
        self.bound = float((P.reshape(N, -1).max(axis=1) - low).max()) * float(self.w.max())
        self.entries = self.P[0].size
        self._parts_at = None     # (y, parts) of the last evaluation, reused by jacobian(y, evaluated=True)
        if N == 2:
            S = np.zeros((2, m, m))
            S[0, :n[0], :n[1]] = self.P[0]
            S[1, :n[1], :n[0]] = self.P[1].T
            self.S = S            # S[i] = D_ij with j the other player, padded with zeros
        else:
            self.pairs = {}       # (i, j) -> payoff of i with axes (i, j, the others flattened)
            for i in range(N):
                for j in range(N):
                    if j != i:
                        rest = [k for k in range(N) if k not in (i, j)]
                        arranged = np.moveaxis(self.P[i], [i, j], [0, 1])
                        self.pairs[i, j] = (np.ascontiguousarray(arranged).reshape(n[i], n[j], -1), rest)
        if not self.fast:
            self.mask = np.arange(m)[None, :] < np.array(n)[:, None]
            self.eye = np.eye(size)
            return
        self._parts = self._parts_square2 if N == 2 else self._parts_square_n
        self.ones = np.ones(m)
        self.unit_weights = bool((self.w == 1.0).all())
        self.template = np.eye(size, size + 1)
        self.neg_w = -self.w
        if N == 2:
            # [u_1; u_2] = block @ [x_1; x_2] with block = [[0, S_1], [S_2, 0]] (small games only:
            # it doubles the flops of the two products)
            self.block = None
            if m <= _BLOCK_MAX:
                self.block = np.zeros((2 * m, 2 * m))
                self.block[:m, m:] = S[0]
                self.block[m:, :m] = S[1]
            return
        # Every ordered pair (i, j) at once: D_ij = stack[p] @ (product of the others' x).
        order = [(i, j) for i in range(N) for j in range(N) if j != i]
        self.pair_i = np.array([i for i, _ in order])
        self.pair_j = np.array([j for _, j in order])
        self.pair_rest = np.array([self.pairs[p][1] for p in order])
        self.stack = np.stack([self.pairs[p][0] for p in order])
        self.first = np.array([order.index((i, 1 if i == 0 else 0)) for i in range(N)])
        self.first_j = self.pair_j[self.first]
        ar, shape = np.arange(m), (len(order), m, m)
        rows = np.broadcast_to((m * self.pair_i)[:, None, None] + ar[None, :, None], shape)
        cols = np.broadcast_to((m * self.pair_j)[:, None, None] + ar[None, None, :], shape)
        self.block_flat = np.ravel_multi_index((rows, cols), self.template.shape).ravel()   # where B goes in J
        self.pair_w = self.w[self.pair_i]

    def _pair(self, X, i, j):
        """``D_ij``: player i's payoff averaged over every player but i and j, an ``n_i x n_j`` matrix."""
        arranged, rest = self.pairs[i, j]
        q = X[rest[0], :self.n[rest[0]]]
        for k in rest[1:]:
            q = np.multiply.outer(q, X[k, :self.n[k]]).ravel()
        return arranged @ q

    def _rows(self, Z):
        """``exp(Z)`` and its rows normalised (shifted by the row maxima only where the sums under- or overflow).

        On the branch ``z`` holds log-probabilities, so ``exp(z)`` needs no shift (and is the
        ``exp(z)`` of the residual).  Row sums are products with a vector of ones.
        """
        E = np.exp(Z)
        sums = E @ self.ones
        listed = sums.tolist()
        if 0.0 < min(listed) and max(listed) < math.inf:
            return E, E / sums[:, None]
        shifted = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E, shifted / (shifted @ self.ones)[:, None]

    def _parts_square2(self, y):
        """:meth:`_parts` for two players with equally many actions, in as few numpy calls as possible."""
        lam = float(y[-1])
        Z = y[:-1].reshape(2, -1)
        E = np.exp(Z)                       # :meth:`_rows`, inline
        sums = E @ self.ones
        listed = sums.tolist()
        if 0.0 < min(listed) and max(listed) < math.inf:
            X = E / sums[:, None]
        else:
            E, X = self._rows(Z)
        if self.block is not None:
            U = (self.block @ X.ravel()).reshape(2, -1)
        else:
            U = (self.S @ X[::-1, :, None])[:, :, 0]
        return self._respond(y, Z, E, X, U, lam)

    def _respond(self, y, Z, E, X, U, lam):
        """The logit response to the payoffs ``U`` and what :meth:`_parts` returns from it.

        ``lam u`` is shifted by its row maxima only where ``|lam u|`` can exceed ``EXP_SAFE``.
        """
        a = U * lam if self.unit_weights else (lam * self.w) * U
        if abs(lam) * self.bound > EXP_SAFE:
            a -= a.max(axis=1, keepdims=True)
        ea = np.exp(a)
        total = ea @ self.ones
        sigma = ea / total[:, None]
        a -= np.log(total)[:, None]          # T = log sigma
        F = (Z - a).ravel()
        gaps = (np.abs(E - sigma) @ self.ones).tolist()
        total = sum(gaps)
        parts = (F, max(gaps) if total == total else math.nan, _FLOOR * (1.0 + abs(lam) * self.bound), X, U, sigma)
        self._parts_at = (y, parts)
        return parts

    def _parts_square_n(self, y):
        """:meth:`_parts` for three or more players with equally many actions: every ``D_ij`` by one batched product."""
        lam = float(y[-1])
        Z = y[:-1].reshape(self.N, -1)
        E, X = self._rows(Z)
        rest = self.pair_rest
        Q = X[rest[:, 0]]
        for k in range(1, rest.shape[1]):
            Q = (Q[:, :, None] * X[rest[:, k]][:, None, :]).reshape(len(Q), -1)
        D = (self.stack @ Q[:, None, :, None])[..., 0]
        self.pair_cache = D
        U = (D[self.first] @ X[self.first_j][:, :, None])[:, :, 0]
        return self._respond(y, Z, E, X, U, lam)

    def _parts(self, y):
        """``(F, residual, floor, X, U, sigma)`` at ``y`` (the fast cases bind their own method at construction)."""
        z, lam = y[:-1], y[-1]
        if self.square:
            Z = z.reshape(self.mask.shape)
        else:
            Z = np.full(self.mask.shape, -np.inf)
            Z[self.mask] = z
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        X = E / E.sum(axis=1, keepdims=True)
        if self.N == 2:
            U = np.einsum("pij,pj->pi", self.S, X[::-1])
        else:
            U = np.zeros(self.mask.shape)
            D = {}
            for i in range(self.N):
                j = 1 if i == 0 else 0
                D[i, j] = self._pair(X, i, j)
                U[i, :self.n[i]] = D[i, j] @ X[j, :self.n[j]]
            self.pair_cache = D
        a = (lam * self.w) * U
        if not self.square:
            a[~self.mask] = -np.inf
        a -= a.max(axis=1, keepdims=True)
        ea = np.exp(a)
        total = ea.sum(axis=1, keepdims=True)
        T = a - np.log(total)
        sigma = ea / total
        if self.square:
            F = z - T.ravel()
            res = float(np.abs(np.exp(Z) - sigma).sum(axis=1).max())
        else:
            F = z - T[self.mask]
            res = float(np.add.reduceat(np.abs(np.exp(z) - sigma[self.mask]), self.offsets[:-1]).max())
        floor = _FLOOR * (1.0 + abs(lam) * self.bound)
        parts = (F, res, floor, X, U, sigma)
        self._parts_at = (y, parts)
        return parts

    def evaluate(self, y):
        """``(F, residual, floor)`` at ``y = (z, lam)``: the residual is ``max_i ||exp(z_i) - sigma_i||_1``."""
        return self._parts(y)[:3]

    def jacobian(self, y, evaluated: bool = False):
        """``(F, [F_z, F_lam], residual, floor)`` at ``y``; ``evaluated=True`` reuses the last
        evaluation, which must have been at this same (unmodified) array ``y``."""
        last = self._parts_at
        if evaluated and last is not None and last[0] is y:
            F, res, floor, X, U, sigma = last[1]
        else:
            F, res, floor, X, U, sigma = self._parts(y)
        lam, o, n = float(y[-1]), self.offsets, self.n
        if self.fast and self.N > 2:
            Cx = U - ((sigma * U) @ self.ones)[:, None]
            D, pi = self.pair_cache, self.pair_i
            B = ((D - sigma[pi][:, None, :] @ D - Cx[pi][:, :, None])
                 * ((-lam) * self.pair_w * X[self.pair_j])[:, None, :])
            J = self.template.copy()
            J.ravel()[self.block_flat] = B.ravel()    # J is a fresh C-ordered copy: ravel() is a view
            J[:, -1] = (self.neg_w * Cx).ravel()
            return F, J, res, floor
        if self.fast:
            # C_i = (I - 1 sigma_i^T) D_ij and C_i x_j = u_i - sigma_i . u_i, so that
            # dT_i/dz_j = lam w_i (C_i - (C_i x_j) 1^T) diag(x_j) and dT_i/dlam = w_i C_i x_j.
            Cx = U - ((sigma * U) @ self.ones)[:, None]
            scale = X[::-1] * (-lam) if self.unit_weights else ((-lam) * self.w) * X[::-1]
            B = (self.S - (sigma[:, None, :] @ self.S) - Cx[:, :, None]) * scale[:, None, :]
            J = self.template.copy()
            J[o[0]:o[1], o[1]:o[2]] = B[0]
            J[o[1]:o[2], o[0]:o[1]] = B[1]
            if self.unit_weights:
                np.negative(Cx.ravel(), out=J[:, -1])
            else:
                J[:, -1] = (self.neg_w * Cx).ravel()
            return F, J, res, floor
        J = np.empty((self.size, self.size + 1))
        J[:, :-1] = self.eye
        col = -self.w * (U - (sigma * U).sum(axis=1, keepdims=True))
        J[:, -1] = col.ravel() if self.square else col[self.mask]
        scale = lam * self.w[:, :, None]
        if self.N == 2:
            C = self.S - sigma[:, None, :] @ self.S
            Xo = X[::-1, None, :]
            B = -scale * (C * Xo - (C @ Xo.transpose(0, 2, 1)) * Xo)
            J[o[0]:o[1], o[1]:o[2]] = B[0, :n[0], :n[1]]
            J[o[1]:o[2], o[0]:o[1]] = B[1, :n[1], :n[0]]
            return F, J, res, floor
        for i in range(self.N):
            s_i = sigma[i, :n[i]]
            for j in range(self.N):
                if j != i:
                    D = self.pair_cache.get((i, j))
                    if D is None:
                        D = self._pair(X, i, j)
                    C = D - s_i @ D
                    x = X[j, :n[j]]
                    J[o[i]:o[i + 1], o[j]:o[j + 1]] = -scale[i, 0, 0] * (C * x - np.outer(C @ x, x))
        return F, J, res, floor

    def regret(self, y) -> float:
        """Nash max regret of ``softmax(z)``, from the last evaluation when it was at ``y``.

        ``y`` may also be the pair ``(z, lam)`` of a stop callback of :func:`rqe.solvers._tracer.trace`,
        whose ``z`` is a view of the traced point: the cache is then recognised by that point.
        """
        last = self._parts_at
        if isinstance(y, tuple):
            z, lam = y
            cached = last is not None and z.base is last[0] and len(z) == self.size
            if not cached:
                y = np.append(z, lam)
        else:
            cached = last is not None and np.array_equal(last[0], y)
        X, U = last[1][3:5] if cached else self._parts(y)[3:5]
        if not self.square:
            U = np.where(self.mask, U, -np.inf)
            return float(np.max(U.max(axis=1) - (X * np.where(self.mask, U, 0.0)).sum(axis=1)))
        return float((U.max(axis=1) - (X * U) @ self.ones).max())
