"""The RQE fixed-point system of an N-player normal-form game, in log coordinates.

For each player ``i`` (spec 2.2-2.3; paper eqs. 1-2 and App. B.2):

    log q_i = sum_{j != i} log x_j          (others' product distribution, joint actions)
    g_i     = M_i^T x_i                      (own randomness averaged inside: aggregate form)
    p_i     = adversary(g_i, log q_i, tau_i) (closed form; p_i = q_i when tau_i = 0)
    G_i     = M_i p_i                        (gradient of U_i^tau in x_i)
    x_i     = response(s G_i, epsilon_i)     (quantal response)

``s`` scales all payoffs (``s = 1`` is the game itself; ``s = 0`` has the unique solution
of uniform play and starts the homotopy).  The unknown is ``z = (log x_1, ..., log x_N)``;
the map ``T`` sends ``z`` to the normalised logs of the responses, and an RQE is a zero of
``F(z) = z - T(z)``.  ``T`` depends on ``z_j`` only through ``softmax(z_j)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rqe._numeric import logsumexp
from rqe.games.normal_form import NormalFormGame

_FD_STEP = 1e-7


@dataclass
class State:
    """Everything computed by one evaluation of the map at ``z``."""

    z: np.ndarray
    log_x: list
    log_q: list
    log_p: list
    G: list
    Tz: np.ndarray

    @property
    def F(self) -> np.ndarray:
        return self.z - self.Tz


class RQESystem:
    """Fixed-point map, its derivative and the equilibrium certificate for one parameter set."""

    def __init__(self, game: NormalFormGame, tau, epsilon, risk, regularizer, scale: float = 1.0):
        self.game = game
        self.n = game.n_actions
        self.N = game.n_players
        self.offsets = np.concatenate([[0], np.cumsum(self.n)])
        self.M = game.own_rows
        self.tau = np.asarray(tau, dtype=float)
        self.epsilon = np.asarray(epsilon, dtype=float)
        self.risk = risk
        self.regularizer = regularizer
        self.scale = float(scale)
        self.others = [[j for j in range(self.N) if j != i] for i in range(self.N)]
        self.analytic = hasattr(risk, "adversary_jvp") and hasattr(regularizer, "response_jvp")

    # ------------------------------------------------------------------ helpers
    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    def blocks(self, v: np.ndarray) -> list:
        """Split the last axis of ``v`` into one block per player."""
        return [v[..., self.offsets[i]:self.offsets[i + 1]] for i in range(self.N)]

    def normalize(self, z: np.ndarray) -> np.ndarray:
        return np.concatenate([b - logsumexp(b) for b in self.blocks(z)])

    def uniform(self) -> np.ndarray:
        return np.concatenate([np.full(k, -np.log(k)) for k in self.n])

    def _joint(self, parts: list, i: int) -> np.ndarray:
        """Sum the others' per-player arrays (leading axes kept) into the joint-action array of player i."""
        others = self.others[i]
        lead = parts[others[0]].shape[:-1]
        total = np.zeros(lead + tuple(self.n[j] for j in others))
        for k, j in enumerate(others):
            shape = [1] * len(others)
            shape[k] = self.n[j]
            total = total + parts[j].reshape(lead + tuple(shape))
        return total.reshape(lead + (-1,))

    # ------------------------------------------------------------------ the map
    def evaluate(self, z: np.ndarray) -> State:
        log_x = [b - logsumexp(b) for b in self.blocks(z)]
        log_q, log_p, G, out = [], [], [], []
        for i in range(self.N):
            lq = self._joint(log_x, i)
            if self.tau[i] > 0:
                g = self.scale * (np.exp(log_x[i]) @ self.M[i])
                lp = self.risk.adversary(g, lq, self.tau[i])
            else:
                lp = lq
            Gi = self.scale * (self.M[i] @ np.exp(lp))
            log_q.append(lq)
            log_p.append(lp)
            G.append(Gi)
            out.append(self.regularizer.response(Gi, self.epsilon[i]))
        return State(z=z, log_x=log_x, log_q=log_q, log_p=log_p, G=G, Tz=np.concatenate(out))

    def jvp(self, state: State, V: np.ndarray) -> np.ndarray:
        """Derivative of ``T`` at ``state.z`` along the rows of ``V`` (shape ``(K, size)``)."""
        if not self.analytic:
            return self._jvp_fd(state, V)
        dz = self.blocks(V)
        du = []  # derivative of the normalised log x_j
        for j in range(self.N):
            x = np.exp(state.log_x[j])
            du.append(dz[j] - (dz[j] @ x)[:, None])
        out = []
        for i in range(self.N):
            dlogq = self._joint(du, i)
            p = np.exp(state.log_p[i])
            if self.tau[i] > 0:
                dg = self.scale * ((du[i] * np.exp(state.log_x[i])) @ self.M[i])
                dp = self.risk.adversary_jvp(state.log_p[i], state.log_q[i], self.tau[i], dlogq, dg)
            else:
                dp = p * dlogq
            dG = self.scale * (dp @ self.M[i].T)
            out.append(self.regularizer.response_jvp(state.Tz[self.offsets[i]:self.offsets[i + 1]],
                                                     self.epsilon[i], dG))
        return np.concatenate(out, axis=1)

    def _jvp_fd(self, state: State, V: np.ndarray) -> np.ndarray:
        rows = []
        for v in V:
            h = _FD_STEP / max(1.0, float(np.max(np.abs(v))))
            rows.append((self.evaluate(state.z + h * v).Tz - self.evaluate(state.z - h * v).Tz) / (2 * h))
        return np.array(rows)

    def jacobian(self, state: State) -> np.ndarray:
        """Dense Jacobian of ``F(z) = z - T(z)``."""
        n = self.size
        return np.eye(n) - self.jvp(state, np.eye(n)).T

    # ------------------------------------------------------------------ certificates
    def residual(self, state: State) -> float:
        """``max_i ||x_i - QR_i(x)||_1`` in probability space."""
        diff = np.exp(state.z) - np.exp(state.Tz)
        return float(max(np.abs(b).sum() for b in self.blocks(diff)))

    def log_residual(self, state: State) -> float:
        return float(np.max(np.abs(state.F)))

    def values(self, state: State) -> np.ndarray:
        """Each player's ``U_i^tau(x) - epsilon_i nu(x_i)`` at ``state.z``."""
        vals = np.empty(self.N)
        for i in range(self.N):
            x = np.exp(state.log_x[i])
            U = float(x @ state.G[i])
            if self.tau[i] > 0:
                U += self.risk.penalty(state.log_p[i], state.log_q[i]) / self.tau[i]
            vals[i] = U - self.epsilon[i] * self.regularizer.value(state.log_x[i])
        return vals

    def gaps(self, state: State) -> np.ndarray:
        """Duality gap of each player's max-min problem: an upper bound on its deviation gain.

        With ``p_i`` the adversary's response to ``x_i`` and ``h(x) = x . G_i - epsilon nu(x)``,
        ``max_x' U^{tau,eps}(x') <= max_x' h(x') + D(p_i, q_i)/tau`` while
        ``U^{tau,eps}(x_i) = h(x_i) + D(p_i, q_i)/tau``; the penalty terms cancel.
        """
        out = np.empty(self.N)
        for i in range(self.N):
            eps = self.epsilon[i]
            best = state.Tz[self.offsets[i]:self.offsets[i + 1]]
            h_best = float(np.exp(best) @ state.G[i]) - eps * self.regularizer.value(best)
            h_x = float(np.exp(state.log_x[i]) @ state.G[i]) - eps * self.regularizer.value(state.log_x[i])
            out[i] = max(h_best - h_x, 0.0)
        return out
