"""The RQE fixed-point system of an N-player normal-form game, in log coordinates.

For each player ``i`` (paper eqs. 1-2 and App. B.2; docs/concepts.md, "Closed forms"):

    log q_i = sum_{j != i} log x_j          (others' product distribution, joint actions)
    g_i     = M_i^T x_i                      (own randomness averaged inside: aggregate form)
    p_i     = adversary(g_i, log q_i, tau_i) (closed form; p_i = q_i when tau_i = 0)
    G_i     = M_i p_i                        (gradient of U_i^tau in x_i)
    x_i     = response(s G_i, epsilon_i)     (quantal response)

``s`` scales all payoffs (``s = 1`` is the game itself; ``s = 0`` has the unique solution
of uniform play and starts the homotopy).

Normalisation.  Adding a constant to player ``i``'s payoffs changes no equilibrium, and
``RQE(cA; epsilon, tau) = RQE(A; epsilon / c, c tau)`` for ``c > 0`` (docs/concepts.md), player
by player.  The system therefore works with ``M_i = (own rows - shift_i) / unit_i``, where
``shift_i`` is the payoff entry nearest the middle of player ``i``'s range (subtracting it is
exact for every entry within a factor of two of it, by Sterbenz's lemma, so an offset of 1e12
leaves the remaining digits intact) and ``unit_i`` is the power of two nearest the centred
range (dividing by it is exact), with ``tau_i unit_i`` and ``epsilon_i / unit_i`` in place
of ``tau_i`` and ``epsilon_i``.  Values and gaps are reported in the user's units.  The unknown is ``z = (log x_1, ..., log x_N)``;
the map ``T`` sends ``z`` to the normalised logs of the responses, and an RQE is a zero of
``F(z) = z - T(z)``.  ``T`` depends on ``z_j`` only through ``softmax(z_j)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rqe._numeric import logsumexp
from rqe.games.normal_form import NormalFormGame

_FD_STEP = 1e-7
_UNIT_EXP = 900          # |log2 unit| cap, so that rescaled parameters stay finite
_CACHE = "_rqe_normalised_rows"
_SINGLE = "_rqe_normalised_rows_single"


def normalised_rows(game: NormalFormGame) -> tuple[tuple, np.ndarray, np.ndarray]:
    """``(M, shift, unit)``: each player's own-rows matrix centred and rescaled (module docstring).

    Cached on the game (games are immutable).
    """
    return _normalised(game)[:3]


def normalised_spreads(game: NormalFormGame) -> np.ndarray:
    """``max - min`` of each player's matrix ``M_i`` of :func:`normalised_rows` (cached with it)."""
    return _normalised(game)[3]


def single_rows(game: NormalFormGame) -> tuple:
    """The matrices of :func:`normalised_rows` rounded to single precision (cached on the game)."""
    cached = game.__dict__.get(_SINGLE)
    if cached is None:
        with np.errstate(over="ignore"):
            cached = tuple(M.astype(np.float32) for M in normalised_rows(game)[0])
        game.__dict__[_SINGLE] = cached
    return cached


def _product(a: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``a @ M`` in ``M``'s precision, returned in double precision."""
    if M.dtype == a.dtype:
        return a @ M
    return (a.astype(M.dtype) @ M).astype(float)


def _normalised(game: NormalFormGame) -> tuple:
    cached = game.__dict__.get(_CACHE)
    if cached is not None:
        return cached
    mats, shift, unit = [], np.zeros(game.n_players), np.ones(game.n_players)
    spreads = np.zeros(game.n_players)
    for i, R in enumerate(game.own_rows):
        hi, lo = float(R.max()), float(R.min())
        middle = 0.5 * hi + 0.5 * lo
        shift[i] = R.flat[int(np.argmin(np.abs(R - middle)))]
        # Rounding is monotone, so the extremes of R - shift and of (R - shift) / unit are those of
        # the same operations on hi and lo: no further passes over the matrix.
        spread = (hi - shift[i]) - (lo - shift[i])
        if spread > 0 and np.isfinite(spread):
            unit[i] = 2.0 ** int(np.clip(np.round(np.log2(spread)), -_UNIT_EXP, _UNIT_EXP))
        M = R - shift[i]
        M /= unit[i]
        M.setflags(write=False)
        mats.append(M)
        spreads[i] = (hi - shift[i]) / unit[i] - (lo - shift[i]) / unit[i]
    cached = (tuple(mats), shift, unit, spreads)
    game.__dict__[_CACHE] = cached
    return cached


@dataclass
class State:
    """Everything computed by one evaluation of the map at ``z``."""

    z: np.ndarray
    log_x: list
    log_q: list
    log_p: list
    G: list
    Tz: np.ndarray
    x: list              # exp(log_x): each player's strategy
    p: list              # exp(log_p): each player's adversary
    single: bool = False  # payoff products in single precision (RQESystem.evaluate)

    @property
    def F(self) -> np.ndarray:
        return self.z - self.Tz


def joint_sum(parts: list, others: list, n) -> np.ndarray:
    """Sum the per-player arrays ``parts[j]`` of the players ``others`` (leading axes kept) into an
    array over their joint actions (C order), flattened in its last axis."""
    lead = parts[others[0]].shape[:-1]
    total = np.zeros(lead + tuple(n[j] for j in others))
    for k, j in enumerate(others):
        shape = [1] * len(others)
        shape[k] = n[j]
        total = total + parts[j].reshape(lead + tuple(shape))
    return total.reshape(lead + (-1,))


class RQESystem:
    """Fixed-point map, its derivative and the equilibrium certificate for one parameter set."""

    def __init__(self, game: NormalFormGame, tau, epsilon, risk, regularizer, scale: float = 1.0):
        self.game = game
        self.n = game.n_actions
        self.N = game.n_players
        self.offsets = np.concatenate([[0], np.cumsum(self.n)])
        self.M, self.shift, self.unit = normalised_rows(game)
        self.tau = np.asarray(tau, dtype=float)
        self.epsilon = np.asarray(epsilon, dtype=float)
        # Parameters in the normalised units: tau unit and epsilon / unit (module docstring).
        with np.errstate(over="ignore"):
            self.tau_n = self.tau * self.unit
            self.eps_n = self.epsilon / self.unit
        self.risk = risk
        self.regularizer = regularizer
        self.scale = float(scale)
        self.others = [[j for j in range(self.N) if j != i] for i in range(self.N)]
        self.analytic = hasattr(risk, "adversary_jvp") and hasattr(regularizer, "response_jvp")
        self._last: State | None = None

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
        others = self.others[i]
        return parts[others[0]] if len(others) == 1 else joint_sum(parts, others, self.n)

    # ------------------------------------------------------------------ the map
    def evaluate(self, z: np.ndarray, single: bool = False) -> State:
        """The map at ``z``; the state of the last call is kept and returned again for an equal ``z``
        (a solver's first evaluation often repeats its caller's check of the starting point).

        ``single=True`` forms the products with the payoff matrices in single precision
        (:func:`single_rows`; ``F`` is then off by about ``1e-7`` in norm), for the early steps
        of inexact Newton; certificates need a state evaluated in double precision.
        """
        last = self._last
        if last is not None and (single or not last.single) and np.array_equal(last.z, z):
            return last
        z = np.array(z, dtype=float)     # a copy: the state must not change with the caller's array
        mats = single_rows(self.game) if single else self.M
        log_x = [b - logsumexp(b) for b in self.blocks(z)]
        x = [np.exp(lx) for lx in log_x]
        log_q, log_p, p, G, out = [], [], [], [], []
        for i in range(self.N):
            lq = self._joint(log_x, i)
            if self.tau_n[i] > 0:
                g = self.scale * (_product(x[i], mats[i]) if single else x[i] @ mats[i])
                lp = self.risk.adversary(g, lq, self.tau_n[i])
            else:
                lp = lq
            pi = np.exp(lp)
            Gi = self.scale * (_product(pi, mats[i].T) if single else mats[i] @ pi)
            log_q.append(lq)
            log_p.append(lp)
            p.append(pi)
            G.append(Gi)
            out.append(self.regularizer.response(Gi, self.eps_n[i]))
        self._last = State(z=z, log_x=log_x, log_q=log_q, log_p=log_p, G=G, Tz=np.concatenate(out), x=x, p=p,
                           single=single)
        return self._last

    def jvp(self, state: State, V: np.ndarray) -> np.ndarray:
        """Derivative of ``T`` at ``state.z`` along the rows of ``V`` (shape ``(K, size)``), in double precision.

        When ``V`` is in single precision (``float32``) the products with the payoff matrices are
        formed in single precision too (:func:`single_rows`: half the memory traffic, relative
        error about ``1e-7``), for Krylov solves that need only a few digits.
        """
        if not self.analytic:
            return self._jvp_fd(state, V)
        mats = single_rows(self.game) if V.dtype == np.float32 else self.M
        dz = self.blocks(V)
        du = [d - (d @ x)[:, None] for d, x in zip(dz, state.x)]   # derivative of the normalised log x_j
        out = np.empty(V.shape)
        # An adversary weight beyond the double range makes some derivatives infinite: they are
        # returned as non-finite (the solvers treat such a Jacobian as singular), without warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(self.N):
                dlogq = self._joint(du, i)
                if self.tau_n[i] > 0:
                    dg = self.scale * _product(du[i] * state.x[i], mats[i])
                    dp = self.risk.adversary_jvp(state.log_p[i], state.log_q[i], self.tau_n[i], dlogq, dg)
                else:
                    dp = state.p[i] * dlogq
                dG = self.scale * _product(dp, mats[i].T)
                lo, hi = self.offsets[i], self.offsets[i + 1]
                out[:, lo:hi] = self.regularizer.response_jvp(state.Tz[lo:hi], self.eps_n[i], dG)
        return out

    def scale_derivative(self, state: State) -> np.ndarray:
        """``dT/ds`` at ``state.z``: the derivative of the map in the payoff scale ``s``.

        ``g = s M^T x`` and ``G = s M p`` both scale with ``s``, so
        ``dG = M p + s M dp`` with ``dp`` the adversary's derivative along ``dg = M^T x``.
        """
        if not self.analytic:
            ds = _FD_STEP * max(1.0, abs(self.scale))
            up = RQESystem(self.game, self.tau, self.epsilon, self.risk, self.regularizer, scale=self.scale + ds)
            down = RQESystem(self.game, self.tau, self.epsilon, self.risk, self.regularizer, scale=self.scale - ds)
            return (up.evaluate(state.z).Tz - down.evaluate(state.z).Tz) / (2 * ds)
        out = []
        for i in range(self.N):
            p = np.exp(state.log_p[i])
            dG = self.M[i] @ p
            if self.tau_n[i] > 0:
                g0 = np.exp(state.log_x[i]) @ self.M[i]
                dp = self.risk.adversary_jvp(state.log_p[i], state.log_q[i], self.tau_n[i],
                                             np.zeros((1, len(g0))), g0[None, :])[0]
                dG = dG + self.scale * (self.M[i] @ dp)
            out.append(self.regularizer.response_jvp(state.Tz[self.offsets[i]:self.offsets[i + 1]],
                                                     self.eps_n[i], dG[None, :])[0])
        return np.concatenate(out)

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

    def rounding_floor(self) -> float:
        """Rough size of the residual that rounding alone leaves at a fixed point stored in doubles.

        Moving a probability by one unit in the last place moves a response by about
        ``u (1 + tau_n) / epsilon_n`` in normalised units; the factor 100 covers sums over actions.
        """
        live = normalised_spreads(self.game) > 0
        if not live.any():
            return 0.0
        with np.errstate(over="ignore", divide="ignore"):
            amplification = (1.0 + self.scale * self.tau_n[live].max()) * self.scale / self.eps_n[live].min()
        return float(100 * np.finfo(float).eps * amplification)

    def diagnosis(self, state: State) -> str:
        """Why a solve near ``state`` may be out of reach in double precision ('' if nothing is known).

        An adversary that puts real mass on joint actions the others almost never play (the
        reverse-KL penalty does not charge for it) switches between such actions on payoff
        differences of the size of their probability, far below rounding.
        """
        for i in range(self.N):
            if self.tau_n[i] > 0:
                heavy = state.log_p[i] > np.log(1e-3)
                if np.any(heavy & (state.log_q[i] < np.log(1e-16))):
                    b = int(np.argmin(np.where(heavy, state.log_q[i], np.inf)))
                    return (f"The adversary of player {i} puts probability {np.exp(state.log_p[i][b]):.2g} on a "
                            f"joint action the others play with probability exp({state.log_q[i][b]:.4g}); its reply "
                            "changes on payoff differences of that size, far below rounding, so this equilibrium "
                            "may not be computable in double precision (a larger epsilon or a smaller tau avoids it).")
        return ""

    def log_residual(self, state: State) -> float:
        return float(np.max(np.abs(state.F)))

    def values(self, state: State) -> np.ndarray:
        """Each player's ``U_i^tau(x) - epsilon_i nu(x_i)`` at ``state.z``, in the user's payoff units."""
        vals = np.empty(self.N)
        for i in range(self.N):
            x = np.exp(state.log_x[i])
            U = float(x @ state.G[i])
            if self.tau_n[i] > 0:
                U += self.risk.penalty(state.log_p[i], state.log_q[i]) / self.tau_n[i]
            vals[i] = U - self.eps_n[i] * self.regularizer.value(state.log_x[i])
        return self.unit * vals + self.shift

    def gaps(self, state: State) -> np.ndarray:
        """Duality gap of each player's max-min problem: an upper bound on its deviation gain.

        With ``p_i`` the adversary's response to ``x_i`` and ``h(x) = x . G_i - epsilon nu(x)``,
        ``max_x' U^{tau,eps}(x') <= max_x' h(x') + D(p_i, q_i)/tau`` while
        ``U^{tau,eps}(x_i) = h(x_i) + D(p_i, q_i)/tau``; the penalty terms cancel.  In the
        user's payoff units.
        """
        out = np.empty(self.N)
        for i in range(self.N):
            eps = self.eps_n[i]
            best = state.Tz[self.offsets[i]:self.offsets[i + 1]]
            h_best = float(np.exp(best) @ state.G[i]) - eps * self.regularizer.value(best)
            h_x = float(np.exp(state.log_x[i]) @ state.G[i]) - eps * self.regularizer.value(state.log_x[i])
            out[i] = max(h_best - h_x, 0.0)
        return self.unit * out


@dataclass
class LiftedState:
    """One evaluation of :class:`LiftedSystem` at ``y = (z, p)``."""

    y: np.ndarray
    log_x: list
    log_q: list
    adversary: dict      # player -> log of the adversary's response to (g_i, log q_i)
    Tz: np.ndarray
    F: np.ndarray


class LiftedSystem:
    """The fixed-point system with each risk-averse player's adversary as extra unknowns.

    With ``y = (z, p_i for tau_i > 0)``,
    ``F(y) = [z - R(s M p); p - A(s M^T x, log q)]``, where ``R`` is the quantal response and
    ``A`` the adversary (in probabilities).  Its zeros are those of ``z - T(z)`` with ``p`` the
    adversary's reply, but Newton's linear model no longer composes the two sharp maps: the
    response (sharpness ``1 / epsilon``) depends linearly on ``p`` and the adversary
    (sharpness ``tau``) on ``x``, so its basin shrinks like ``min(epsilon, 1 / tau)`` rather
    than ``epsilon / tau``.  Requires the analytic derivatives of the risk and regulariser.
    """

    def __init__(self, system: RQESystem):
        self.system = system
        self.lifted = [i for i in range(system.N) if system.tau_n[i] > 0]
        sizes = [system.M[i].shape[1] for i in self.lifted]
        self.offsets = np.concatenate([[system.size], system.size + np.cumsum(sizes)]).astype(int)
        self.size = int(self.offsets[-1])

    def lift(self, z: np.ndarray) -> np.ndarray:
        state = self.system.evaluate(z)
        return np.concatenate([z] + [np.exp(state.log_p[i]) for i in self.lifted])

    def _p(self, y: np.ndarray) -> dict:
        return {i: y[..., self.offsets[k]:self.offsets[k + 1]] for k, i in enumerate(self.lifted)}

    def evaluate(self, y: np.ndarray) -> LiftedState:
        S = self.system
        z = y[:S.size]
        ps = self._p(y)
        log_x = [b - logsumexp(b) for b in S.blocks(z)]
        log_q, adversary, out, out_p = [], {}, [], []
        for i in range(S.N):
            lq = S._joint(log_x, i)
            log_q.append(lq)
            if i in ps:
                g = S.scale * (np.exp(log_x[i]) @ S.M[i])
                adversary[i] = S.risk.adversary(g, lq, S.tau_n[i])
                out_p.append(ps[i] - np.exp(adversary[i]))
                p = ps[i]
            else:
                p = np.exp(lq)
            out.append(S.regularizer.response(S.scale * (S.M[i] @ p), S.eps_n[i]))
        Tz = np.concatenate(out)
        return LiftedState(y=y, log_x=log_x, log_q=log_q, adversary=adversary, Tz=Tz,
                           F=np.concatenate([z - Tz] + out_p))

    def jvp(self, state: LiftedState, V: np.ndarray) -> np.ndarray:
        """Derivative of ``F`` at ``state.y`` along the rows of ``V`` (shape ``(K, size)``)."""
        S = self.system
        dz = S.blocks(V[:, :S.size])
        dps = self._p(V)
        du = [dz[j] - (dz[j] @ np.exp(state.log_x[j]))[:, None] for j in range(S.N)]
        out, out_p = [], []
        with np.errstate(over="ignore", invalid="ignore"):     # as RQESystem.jvp: non-finite, no warnings
            for i in range(S.N):
                dlogq = S._joint(du, i)
                if i in dps:
                    dp = dps[i]
                    dg = S.scale * ((du[i] * np.exp(state.log_x[i])) @ S.M[i])
                    out_p.append(dp - S.risk.adversary_jvp(state.adversary[i], state.log_q[i], S.tau_n[i],
                                                           dlogq, dg))
                else:
                    dp = np.exp(state.log_q[i]) * dlogq
                dT = S.regularizer.response_jvp(state.Tz[S.offsets[i]:S.offsets[i + 1]], S.eps_n[i],
                                                S.scale * (dp @ S.M[i].T))
                out.append(dz[i] - dT)
        return np.concatenate(out + out_p, axis=1)

    def jacobian(self, state: LiftedState) -> np.ndarray:
        return self.jvp(state, np.eye(self.size)).T

    def scale_derivative(self, state: LiftedState) -> np.ndarray:
        """``dF/ds``: ``G = s M p`` and ``g = s M^T x`` scale with ``s``."""
        S = self.system
        ps = self._p(state.y)
        out, out_p = [], []
        for i in range(S.N):
            p = ps[i] if i in ps else np.exp(state.log_q[i])
            out.append(-S.regularizer.response_jvp(state.Tz[S.offsets[i]:S.offsets[i + 1]], S.eps_n[i],
                                                   (S.M[i] @ p)[None, :])[0])
            if i in ps:
                g0 = np.exp(state.log_x[i]) @ S.M[i]
                out_p.append(-S.risk.adversary_jvp(state.adversary[i], state.log_q[i], S.tau_n[i],
                                                   np.zeros((1, len(g0))), g0[None, :])[0])
        return np.concatenate(out + out_p)
