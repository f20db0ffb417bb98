"""Exact tabular learning dynamics of SRPO and IPPO, vectorised over a population of seeds (private).

Layout: ``K`` seeds, ``N`` players, ``T`` policy steps (``T = H`` time-indexed steps for a finite
horizon, ``T = 1`` for the stationary policies of a discounted game), ``S`` states.  Players'
action sets are padded to a common size ``n`` with illegal actions, so that the whole
population and all players are one array: ``logp`` of shape ``(K, N, T, S, n)`` holds
normalised log-probabilities, ``-inf`` on illegal (and padded) actions.  The joint action
``b`` of the players other than ``i`` is indexed in C order over the others (increasing
player index), ``n ** (N - 1)`` of them.

One evaluation (:meth:`Tabular.evaluate`) computes, for every player ``i`` as the hero
(SRPO eqs. 4-6 and 21), backwards from ``V_H = 0`` (or to the fixed point of the
same recursion in a discounted game):

    Qtilde_i(s, a, b) = r_i(s, a, b) + gamma sum_s' P(s' | s, a, b) V_i(s')
    Qbar_i(s, b)      = sum_a pi_i(a | s) Qtilde_i(s, a, b)
    psi_i(b | s)      ~ q_i(b | s) exp(-tau_i Qbar_i(s, b))          (exact adversary; q_i = prod_j pi_j)
    V_i(s)            = epsilon_i H(pi_i(. | s)) - (1/tau_i) log sum_b q_i(b | s) exp(-tau_i Qbar_i(s, b))
    Qhero_i(s, a)     = sum_b psi_i(b | s) Qtilde_i(s, a, b)        (Danskin: dV_i(s) / dpi_i(a | s))

With ``tau_i = 0`` the adversary is the partner itself (``psi_i = q_i``, ``V_i = eps H + q . Qbar``):
independent learning (IPPO).  A *learned* adversary keeps its own log-probabilities and the
value is the joint objective of eq. (21) at them,
``V_i = eps H + psi . Qbar + KL(psi || q) / tau``, which equals the exact value at its fixed point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from rqe.games.markov import MarkovGame

_EVAL_TOL = 1e-13       # discounted evaluation: sup-norm change (relative to the return scale) that ends it
_EVAL_SWEEPS = 100_000  # cap on the sweeps of one discounted evaluation


_SLICED = 8             # last axes up to this length are reduced slice by slice (faster than ufunc.reduce)


def sum_last(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis, kept with length 1."""
    if a.shape[-1] > _SLICED:
        return a.sum(-1, keepdims=True)
    out = a[..., :1].copy()
    for j in range(1, a.shape[-1]):
        out += a[..., j:j + 1]
    return out


def max_last(a: np.ndarray) -> np.ndarray:
    """Maximum over the last axis, kept with length 1."""
    if a.shape[-1] > _SLICED:
        return a.max(-1, keepdims=True)
    out = a[..., :1].copy()
    for j in range(1, a.shape[-1]):
        np.maximum(out, a[..., j:j + 1], out=out)
    return out


def lse(a: np.ndarray) -> np.ndarray:
    """``log sum exp`` over the last axis, kept with length 1 (every row needs a finite entry)."""
    m = max_last(a)
    return m + np.log(sum_last(np.exp(a - m)))


def normalize(a: np.ndarray) -> np.ndarray:
    """Normalised log-probabilities over the last axis."""
    return a - lse(a)


@dataclass
class Evaluation:
    """What one evaluation of a population's profile produces."""

    V: np.ndarray        # (K, T + 1, N, S) finite horizon (V[:, T] = 0); (K, 1, N, S) discounted
    qhero: np.ndarray    # (K, N, T, S, n)
    qbar: np.ndarray     # (K, N, T, S, B) with B = n ** (N - 1)
    logq: np.ndarray     # (K, N, T, S, B)
    logpsi: np.ndarray   # (K, N, T, S, B)
    sweeps: int          # discounted evaluation sweeps (0 for a finite horizon)
    evaluated: bool      # discounted evaluation met its tolerance


class Tabular:
    """The arrays of one Markov game laid out for population computations (actions padded to ``n``)."""

    def __init__(self, game: MarkovGame):
        self.game = game
        self.N, self.S = game.n_players, game.n_states
        self.sizes = tuple(game.n_actions)
        self.n = max(self.sizes)
        self.A = self.n ** self.N
        self.B = self.n ** (self.N - 1)
        self.finite = game.horizon is not None
        self.T = game.horizon if self.finite else 1
        self.gamma = 1.0 if self.finite else float(game.discount)
        self.mu = np.asarray(game.initial, float)
        self.legal = np.zeros((self.N, self.S, self.n), bool)        # padded actions are illegal
        for i, m in enumerate(game.legal):
            self.legal[i, :, :self.sizes[i]] = m
        self.others = [[j for j in range(self.N) if j != i] for i in range(self.N)]
        self.P = self._padded_transitions(game)
        self.PT = sp.csr_array(self.P.T)
        steps = self.T if game.time_indexed else 1
        self.rewards = [self._pad_rewards(np.asarray(game.reward(h), float)) for h in range(steps)]
        self.own_rewards = [self.own(r[None])[0] for r in self.rewards]  # (N, S, n, B)
        spread = max(float(np.ptp(np.asarray(game.reward(h)))) for h in range(steps))
        self.scale = max(1.0, spread * (self.T if self.finite else 1.0 / (1.0 - self.gamma)))

    # ------------------------------------------------------------------ padding
    def _pad_rewards(self, R: np.ndarray) -> np.ndarray:
        out = np.zeros((self.N, self.S) + (self.n,) * self.N)
        out[(slice(None), slice(None)) + tuple(slice(0, k) for k in self.sizes)] = R
        return out

    def _padded_transitions(self, game: MarkovGame) -> sp.csr_array:
        P = sp.csr_array(game.transitions)
        if all(k == self.n for k in self.sizes):
            return P
        coo = sp.coo_array(P)
        s, a = np.divmod(coo.row, game.n_joint)
        rows = s * self.A + np.ravel_multi_index(np.unravel_index(a, self.sizes), (self.n,) * self.N)
        return sp.csr_array((coo.data, (rows, coo.col)), shape=(self.S * self.A, self.S))

    def real_joint(self, i: int) -> np.ndarray:
        """Positions of the real (unpadded) joint actions of player ``i``'s others among the ``B`` padded ones."""
        sizes = [self.sizes[j] for j in self.others[i]]
        grid = np.meshgrid(*[np.arange(k) for k in sizes], indexing="ij")
        return np.ravel_multi_index([g.ravel() for g in grid], (self.n,) * (self.N - 1))

    # ------------------------------------------------------------------ layout helpers
    def reward(self, t: int) -> np.ndarray:
        return self.own_rewards[t if len(self.own_rewards) > 1 else 0]

    def own(self, X: np.ndarray) -> np.ndarray:
        """``X[K, N, S, n, ..., n]`` (joint actions) to the own-rows layout ``[K, N, S, n, B]``."""
        K = X.shape[0]
        if self.N == 2:
            return np.stack([X[:, 0], np.swapaxes(X[:, 1], -1, -2)], axis=1)
        return np.stack([np.moveaxis(X[:, i], 2 + i, 2).reshape(K, self.S, self.n, self.B) for i in range(self.N)],
                        axis=1)

    def joint(self, Y: np.ndarray, i: int) -> np.ndarray:
        """Player ``i``'s own-rows array ``[..., S, n, B]`` back to joint actions ``[..., S, A]``."""
        lead = Y.ndim - 3
        X = Y.reshape(*Y.shape[:lead + 2], *([self.n] * (self.N - 1)))
        X = np.moveaxis(X, lead + 1, lead + 1 + i)
        return X.reshape(*X.shape[:lead + 1], self.A)

    def others_log(self, logp_t: np.ndarray) -> np.ndarray:
        """``log q``: the product of the others' policies, ``(K, N, S, B)`` from ``logp_t`` ``(K, N, S, n)``."""
        if self.N == 2:
            return logp_t[:, ::-1]
        K = logp_t.shape[0]
        out = []
        for i in range(self.N):
            total = np.zeros((K, self.S) + (self.n,) * (self.N - 1))
            for k, j in enumerate(self.others[i]):
                shape = [1] * (self.N - 1)
                shape[k] = self.n
                total = total + logp_t[:, j].reshape(K, self.S, *shape)
            out.append(total.reshape(K, self.S, self.B))
        return np.stack(out, axis=1)

    def continuation(self, W: np.ndarray) -> np.ndarray:
        """``gamma sum_s' P(s' | s, a) W[k, i, s']`` in the own-rows layout ``(K, N, S, n, B)``."""
        K = W.shape[0]
        C = self.P @ W.reshape(K * self.N, self.S).T                     # (S * A, K * N)
        return self.gamma * self.own(C.T.reshape(K, self.N, self.S, *([self.n] * self.N)))

    def initial_logp(self, logits: np.ndarray) -> np.ndarray:
        """Normalised log-policies from logits ``(K, N, T, S, n)`` (illegal actions masked)."""
        return normalize(np.where(self.legal[:, None], logits, -np.inf))

    def unpad(self, arr: np.ndarray, i: int) -> np.ndarray:
        """Player ``i``'s slice of a padded ``(..., n)`` array."""
        return arr[..., :self.sizes[i]]

    # ------------------------------------------------------------------ evaluation
    def _stage(self, logp_t, M, tau, epsilon, logpsi_t):
        """Hero quantities of every player at one step, from the own-rows stage payoffs ``M`` ``(K, N, S, n, B)``."""
        pi = np.exp(logp_t)                                              # (K, N, S, n)
        qbar = np.einsum("kisa,kisab->kisb", pi, M)
        lq = self.others_log(logp_t)
        t = tau[None, :, None, None]
        if logpsi_t is not None:                                         # learned adversary
            lpsi = logpsi_t
            finite = np.isfinite(lpsi)
            diff = np.where(finite, np.where(finite, lpsi, 0.0) - np.where(finite, lq, 0.0), 0.0)
            psi = np.exp(lpsi)
            value = (sum_last(psi * qbar) + sum_last(psi * diff) / np.where(tau > 0, tau, 1.0)[:, None, None])[..., 0]
        elif np.all(tau > 0):
            s = lq - t * qbar
            L = lse(s)
            lpsi = s - L
            psi = np.exp(lpsi)
            value = -L[..., 0] / tau[:, None]
        else:
            safe = np.where(tau > 0, tau, 1.0)[None, :, None, None]
            s = lq - t * qbar
            L = lse(s)
            lpsi = np.where(t > 0, s - L, lq)
            psi = np.exp(lpsi)
            value = np.where(tau[:, None] > 0, -L[..., 0] / safe[..., 0], sum_last(psi * qbar)[..., 0])
        safe_logp = np.where(self.legal, logp_t, 0.0)
        V = value - epsilon[:, None] * sum_last(pi * safe_logp)[..., 0]
        qhero = np.einsum("kisab,kisb->kisa", M, psi)
        return V, qhero, qbar, lq, lpsi

    def evaluate(self, logp: np.ndarray, tau, epsilon, logpsi=None, V0=None) -> Evaluation:
        """Values and hero gradients of the profile ``logp`` ``(K, N, T, S, n)`` (module docstring)."""
        K = logp.shape[0]

        def learned(t):
            return None if logpsi is None else logpsi[:, :, t]

        def stacked(stages):
            parts = list(zip(*stages))[1:]                                # qhero, qbar, logq, logpsi
            if len(stages) == 1:
                return [p[0][:, :, None] for p in parts]
            return [np.stack(p, axis=2) for p in parts]

        if self.finite:
            V = np.zeros((K, self.T + 1, self.N, self.S))
            stages = [None] * self.T
            for t in reversed(range(self.T)):
                M = self.reward(t)[None] if t == self.T - 1 else self.reward(t)[None] + self.continuation(V[:, t + 1])
                stages[t] = self._stage(logp[:, :, t], M, tau, epsilon, learned(t))
                V[:, t] = stages[t][0]
            return Evaluation(V, *stacked(stages), 0, True)
        W = np.zeros((K, self.N, self.S)) if V0 is None else V0.copy()
        evaluated, sweeps = False, 0
        for sweeps in range(1, _EVAL_SWEEPS + 1):
            new = self._stage(logp[:, :, 0], self.reward(0)[None] + self.continuation(W), tau, epsilon, learned(0))[0]
            change = float(np.max(np.abs(new - W)))
            W = new
            if change <= _EVAL_TOL * self.scale:
                evaluated = True
                break
        stage = self._stage(logp[:, :, 0], self.reward(0)[None] + self.continuation(W), tau, epsilon, learned(0))
        return Evaluation(stage[0][:, None], *stacked([stage]), sweeps, evaluated)

    def initial_values(self, ev: Evaluation) -> np.ndarray:
        """``(K, N)``: each player's value at the initial law."""
        return ev.V[:, 0] @ self.mu

    # ------------------------------------------------------------------ vanilla policy gradient
    def policy_gradient(self, logp: np.ndarray, ev: Evaluation, epsilon) -> np.ndarray:
        """``d V_i(mu) / d theta_i``: ``d(s) pi (Qhero - eps log pi - baseline)``, ``(K, N, T, S, n)``.

        ``d`` is the state occupancy of player ``i`` playing with its adversary in the partners'
        seats (the adversary tilts the transitions too: Danskin's theorem at every state).
        """
        pi = np.exp(logp)
        g = np.where(self.legal[:, None], ev.qhero - epsilon[None, :, None, None, None]
                     * np.where(self.legal[:, None], logp, 0.0), 0.0)
        adv = pi * (g - np.sum(pi * g, axis=-1, keepdims=True))
        d = np.stack([self.occupancy(logp[:, i], ev.logpsi[:, i], i) for i in range(self.N)], axis=1)
        return d[..., None] * adv

    def occupancy(self, logp_i, logpsi_i, i: int) -> np.ndarray:
        """State occupancy ``(K, T, S)`` of player ``i`` and its adversary.

        Finite horizon: ``d_0 = mu``, ``d_{t+1} = d_t P_{pi, psi}``.  Discounted: the discounted
        occupancy ``sum_t gamma^t mu P^t``.
        """
        K = logp_i.shape[0]
        d = np.empty((K, self.T, self.S))
        if self.finite and self.T == 1:
            d[:, 0] = self.mu
            return d
        joint = self.joint(np.exp(logp_i)[..., :, None] * np.exp(logpsi_i)[..., None, :], i)    # (K, T, S, A)
        if self.finite:
            d[:, 0] = self.mu
            for t in range(self.T - 1):
                flow = (d[:, t, :, None] * joint[:, t]).reshape(K, self.S * self.A)
                d[:, t + 1] = (self.PT @ flow.T).T
            return d
        occ = np.broadcast_to(self.mu, (K, self.S)).copy()
        step = occ.copy()
        for _ in range(_EVAL_SWEEPS):
            step = self.gamma * (self.PT @ (step[:, :, None] * joint[:, 0]).reshape(K, self.S * self.A).T).T
            occ += step
            if float(np.max(step)) <= _EVAL_TOL:
                break
        d[:, 0] = occ
        return d

    # ------------------------------------------------------------------ expected returns
    def expected_returns(self, policies: np.ndarray) -> np.ndarray:
        """Expected (discounted) returns ``(P, N)`` at the initial law of ``P`` profiles ``(P, N, T, S, n)``.

        Plain dynamic programming, no risk and no regulariser: the exact cross-play evaluation.
        """
        Pn = policies.shape[0]
        joint = policies[:, 0]
        for i in range(1, self.N):
            joint = (joint[..., :, None] * policies[:, i][..., None, :]).reshape(*joint.shape[:-1], -1)
        # joint: (P, T, S, A) in C order over the players
        rewards = [self._joint_rewards(t) for t in range(len(self.rewards))]
        if self.finite:
            V = np.zeros((Pn, self.N, self.S))
            for t in reversed(range(self.T)):
                R = rewards[t if len(rewards) > 1 else 0]
                Q = R[None] if t == self.T - 1 else R[None] + self._joint_continuation(V)
                V = np.einsum("pisa,psa->pis", Q, joint[:, t])
            return V @ self.mu
        r = np.einsum("isa,psa->pis", rewards[0], joint[:, 0])                                  # (P, N, S)
        out = np.empty((Pn, self.N))
        Pd = self.P.toarray().reshape(self.S, self.A, self.S)
        chunk = max(1, int(2e7 // max(1, self.S * self.S)))
        for start in range(0, Pn, chunk):
            Ppi = np.einsum("psa,sat->pst", joint[start:start + chunk, 0], Pd)
            lhs = np.eye(self.S)[None] - self.gamma * Ppi
            V = np.linalg.solve(lhs, np.swapaxes(r[start:start + chunk], 1, 2))                 # (b, S, N)
            out[start:start + chunk] = np.einsum("s,psn->pn", self.mu, V)
        return out

    def _joint_rewards(self, t: int) -> np.ndarray:
        return self.rewards[t].reshape(self.N, self.S, self.A)

    def _joint_continuation(self, W: np.ndarray) -> np.ndarray:
        K = W.shape[0]
        C = self.P @ W.reshape(K * self.N, self.S).T
        return self.gamma * C.T.reshape(K, self.N, self.S, self.A)
