"""Scalar fast path for two-player games with two actions each (2x2) and the built-in measures.

A 2x2 RQE has two degrees of freedom: the log-odds ``l_i = log x_i1 - log x_i2`` of the two
players.  With the closed forms of docs/concepts.md ("Closed forms") every step of the map of
:class:`rqe.solvers._system.RQESystem` is a scalar formula in them (module docstring there for
the notation and the payoff normalisation, which is the same here):

* player ``i``'s adversary replies with log-odds ``a_i``: ``a_i = l_j - tau_i (g_1 - g_2)`` for
  the KL penalty (``g = M_i^T x_i``); for reverse KL ``p_b = q_b / (tau_i t_b)`` with
  ``t_b = g_b + mu``, so ``a_i = l_j - log(t_1 / t_2)``, and ``mu`` is the root of a quadratic
  (:func:`rqe._numeric._two_term_root`);
* the quantal response to ``G = M_i p`` has log-odds ``T_i = (G_1 - G_2) / epsilon_i``
  (entropy) or ``sign(dG) log(1 + |dG| / w)`` with ``w`` the root of a quadratic (log-barrier).

Their derivatives are in closed form too (implicit differentiation of ``sum p = 1`` and
``sum x = 1``: ``da/dl_j = 1 - (p_1 q_2 - p_2 q_1)(t_2 - t_1) / (p_1 t_2 + p_2 t_1)`` and
``da/dl_i = -(dg_1 - dg_2) / (p_1 t_2 + p_2 t_1)`` for reverse KL, ``dT/ddG = x_1 x_2 /
(epsilon (x_1^2 + x_2^2))`` for the log-barrier).

:func:`solve_2x2` runs exactly the Newton iteration of :func:`rqe.solvers._iterate.newton`
(same start, same Armijo line search on ``||z - T(z)||_2`` in normalised log coordinates, same
extra step after convergence, same stall test) in these two coordinates: the difference of the
two rows of each player's block of the dense Newton system is the 2x2 system solved here, and
the normalisation of the iterate removes the rest; a singular Jacobian or a failed line
search hands over to the general path instead of stopping.  It then recomputes the certificate
(residual, duality gaps, values) at the final point with the same scalar formulas and returns
``None`` whenever anything is out of its scope or it does not meet ``tol``, so that
:func:`rqe.solve` then runs its general path from scratch.  No numpy call is made in the loop,
which is what makes a 2x2 solve cost tens of microseconds instead of milliseconds.

The same scalar map serves :func:`rqe.solve_all` (its 2x2 best responses, :func:`kernel_for`)
and the likelihood of :func:`rqe.fit` (:class:`SmallSystem`, a drop-in for ``RQESystem`` in its
branch tracer).
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from rqe import regularizers, risk as risks
from rqe._numeric import softplus
from rqe._validation import builtin_name
from rqe.games.normal_form import NormalFormGame
from rqe.solvers._iterate import _ARMIJO, _MIN_STEP, _STALL
from rqe.solvers._result import EquilibriumResult
from rqe.solvers._system import normalised_rows

_TINY = 1e-300
_LOG_C_MIN = -700.0      # below, exp underflows: leave the case to the general (log-coordinate) code
_CACHE = "_rqe_small_2x2"


class OutOfScope(Exception):
    """Raised inside the kernel when a case is left to the general path."""


SCALAR_FAILURES = (OutOfScope, OverflowError, ZeroDivisionError, ValueError)


def _probs(l: float) -> tuple[float, float]:
    """Probabilities of a two-action strategy with log-odds ``l``."""
    e = math.exp(-abs(l))
    s = 1.0 + e
    return (1.0 / s, e / s) if l >= 0 else (e / s, 1.0 / s)


def _two_term_root(c0: float, c1: float, d0: float, d1: float) -> float:
    """``w > 0`` with ``c0 / (d0 + w) + c1 / (d1 + w) = 1``, ``min(d) = 0`` (as :func:`rqe._numeric._two_term_root`)."""
    if d1 > d0:
        D, C = d1, c0 * d1
    else:
        D, C = d0, c1 * d0
    B = D - c0 - c1
    disc = math.sqrt(B * B + 4.0 * C)
    return (disc - B) / 2.0 if B <= 0 else 2.0 * C / (B + disc)


def _entries(m11: float, m12: float, m21: float, m22: float) -> tuple:
    """``m`` of :func:`player_map`: the four entries and the differences it uses."""
    return (m11, m12, m21, m22, m11 - m12, m21 - m22, m11 - m21, m12 - m22, m11 - m12 - m21 + m22)


def _constants(game: NormalFormGame) -> tuple:
    """Per player: the normalised 2x2 own-rows matrix as :func:`_entries`, cached on the (immutable) game."""
    cached = game.__dict__.get(_CACHE)
    if cached is None:
        M, shift, unit = normalised_rows(game)
        cached = (tuple(_entries(*(float(v) for v in m.ravel())) for m in M),
                  tuple(float(s) for s in shift), tuple(float(u) for u in unit))
        game.__dict__[_CACHE] = cached
    return cached


def player_map(li: float, lj: float, m: tuple, tau: float, eps: float, risk: str, reg: str):
    """Player ``i``'s response log-odds to ``(l_i, l_j)`` and its two partial derivatives.

    ``m = (M11, M12, M21, M22, M11 - M12, M21 - M22, M11 - M21, M12 - M22, M11 - M12 - M21 + M22)``
    (:func:`_entries`) in normalised units (rows: own actions, columns: the partner's); ``tau``
    and ``eps`` are normalised too.  Returns ``(T, dT/dl_i, dT/dl_j, a)`` with ``a`` the
    adversary's log-odds.
    """
    m11, m12, m21, m22, r1, r2, c1, c2, cross = m
    if tau > 0:
        x0, x1 = _probs(li)
        curv = cross * x0 * x1                              # d(g_1 - g_2) / dl_i
        if risk == "kl":
            a = lj - tau * (x0 * r1 + x1 * r2)
            da_i, da_j = -tau * curv, 1.0
        else:
            lq0, lq1 = -softplus(-lj), -softplus(lj)
            log_tau = math.log(tau)
            if lq0 - log_tau <= _LOG_C_MIN or lq1 - log_tau <= _LOG_C_MIN:
                raise OutOfScope
            q0, q1 = math.exp(lq0), math.exp(lq1)
            g0, g1 = x0 * m11 + x1 * m21, x0 * m12 + x1 * m22
            gmin = min(g0, g1)
            d0, d1 = g0 - gmin, g1 - gmin
            w = _two_term_root(math.exp(lq0 - log_tau), math.exp(lq1 - log_tau), d0, d1)
            t0, t1 = d0 + w, d1 + w
            a = lj - (math.log(t0) - math.log(t1))
            p0, p1 = _probs(a)
            den = p0 * t1 + p1 * t0
            da_i = -curv / den
            da_j = 1.0 - (p0 * q1 - p1 * q0) * (t1 - t0) / den
    else:
        a, da_i, da_j = lj, 0.0, 1.0
    p0, p1 = _probs(a)
    dG = p0 * c1 + p1 * c2
    slope = cross * p0 * p1                                 # d(G_1 - G_2) / da
    if reg == "entropy":
        T = dG / eps
        dT = 1.0 / eps
    else:
        if not math.log(eps) > _LOG_C_MIN:
            raise OutOfScope
        D = abs(dG)
        w = _two_term_root(eps, eps, 0.0, D)
        T = math.copysign(math.log1p(D / w), dG)
        y0, y1 = _probs(T)
        dT = y0 * y1 / (eps * (y0 * y0 + y1 * y1))
    return T, dT * slope * da_i, dT * slope * da_j, a


class Kernel:
    """The 2x2 map in log-odds with its Newton iteration and certificate (module docstring)."""

    def __init__(self, game: NormalFormGame, tau: tuple, epsilon: tuple, risk: str, reg: str):
        self.M, self.shift, self.unit = _constants(game)
        self.tau = tau
        self.epsilon = epsilon
        self.tau_n = tuple(t * u for t, u in zip(tau, self.unit))
        self.eps_n = tuple(e / u for e, u in zip(epsilon, self.unit))
        if not all(math.isfinite(v) for v in self.tau_n + self.eps_n) or min(self.eps_n) <= 0:
            raise OutOfScope
        self.risk, self.reg = risk, reg
        # RQESystem.rounding_floor: where it exceeds tol and a probability underflowed, the general path
        # double-checks the answer
        live = [k for k in range(2) if max(self.M[k][:4]) > min(self.M[k][:4])]
        self.floor = (100 * sys.float_info.epsilon * (1.0 + max(self.tau_n[k] for k in live))
                      / min(self.eps_n[k] for k in live)) if live else 0.0

    def player(self, i: int, l_own: float, l_partner: float):
        """Player ``i``'s response log-odds and its derivatives in ``l_own`` and ``l_partner``."""
        return player_map(l_own, l_partner, self.M[i], self.tau_n[i], self.eps_n[i], self.risk, self.reg)[:3]

    def evaluate(self, l0: float, l1: float):
        """``(T0, T1, J, ||F||_2)``: the map, its 2x2 Jacobian in log-odds and the norm the line search uses."""
        T0, j00, j01, _ = player_map(l0, l1, self.M[0], self.tau_n[0], self.eps_n[0], self.risk, self.reg)
        T1, j11, j10, _ = player_map(l1, l0, self.M[1], self.tau_n[1], self.eps_n[1], self.risk, self.reg)
        sq = 0.0
        for l, T in ((l0, T0), (l1, T1)):
            d = softplus(-T) - softplus(-l)               # F in the first action; softplus(t) - softplus(-t) = t gives the second
            sq += d * d + (d + T - l) ** 2
        return T0, T1, (j00, j01, j10, j11), math.sqrt(sq)

    @staticmethod
    def residual(l0: float, l1: float, T0: float, T1: float) -> float:
        """``max_i ||x_i - QR_i(x)||_1`` (as :meth:`RQESystem.residual`)."""
        out = 0.0
        for l, T in ((l0, T0), (l1, T1)):
            x0, x1 = _probs(l)
            y0, y1 = _probs(T)
            out = max(out, abs(x0 - y0) + abs(x1 - y1))
        return out

    def newton(self, l0: float, l1: float, *, tol: float, max_iter: int, deadline: float | None):
        """:func:`rqe.solvers._iterate.newton` in log-odds: ``(l0, l1, nit)``, or ``None`` if it did not converge."""
        T0, T1, J, norm = self.evaluate(l0, l1)
        history = [norm]
        for k in range(1, max_iter + 1):
            done = self.residual(l0, l1, T0, T1) <= tol
            if not done and deadline is not None and time.monotonic() > deadline:
                return None
            if not done and k > _STALL and norm > 0.5 * history[-_STALL - 1]:
                return None
            j00, j01, j10, j11 = J
            a11, a12, a21, a22 = 1.0 - j00, -j01, -j10, 1.0 - j11
            det = a11 * a22 - a12 * a21
            r0, r1 = T0 - l0, T1 - l1
            if det == 0 or not math.isfinite(det):
                return None
            s0, s1 = (r0 * a22 - a12 * r1) / det, (a11 * r1 - a21 * r0) / det
            if not (math.isfinite(s0) and math.isfinite(s1)):
                return None
            a = 1.0
            while True:
                t0, t1 = l0 + a * s0, l1 + a * s1
                trial = self.evaluate(t0, t1)
                if math.isfinite(trial[3]) and trial[3] <= (1 - _ARMIJO * a) * norm:
                    break
                a *= 0.5
                if done:
                    return l0, l1, k - 1
                if a < _MIN_STEP:
                    return None
            l0, l1 = t0, t1
            T0, T1, J, norm = trial
            history.append(norm)
            if done:
                return l0, l1, k
        return (l0, l1, max_iter) if self.residual(l0, l1, T0, T1) <= tol else None

    def certificate(self, l0: float, l1: float) -> dict:
        """Strategies, adversaries, values, residual and gap at ``(l0, l1)``, recomputed from the payoffs.

        As :meth:`RQESystem.values` and :meth:`RQESystem.gaps`, in the game's units.
        """
        logits = (l0, l1)
        strategies, adversaries, values, gaps, residual = [], [], [], [], 0.0
        for i in range(2):
            li, lj = logits[i], logits[1 - i]
            T, _, _, a = player_map(li, lj, self.M[i], self.tau_n[i], self.eps_n[i], self.risk, self.reg)
            m11, m12, m21, m22 = self.M[i][:4]
            lx = (-softplus(-li), -softplus(li))
            x = (math.exp(lx[0]), math.exp(lx[1]))
            lp = (-softplus(-a), -softplus(a))
            p = (math.exp(lp[0]), math.exp(lp[1]))
            lt = (-softplus(-T), -softplus(T))
            y = (math.exp(lt[0]), math.exp(lt[1]))
            G = (m11 * p[0] + m12 * p[1], m21 * p[0] + m22 * p[1])
            U = x[0] * G[0] + x[1] * G[1]
            tau, eps = self.tau_n[i], self.eps_n[i]
            if tau > 0:
                lq = (-softplus(-lj), -softplus(lj))
                if self.risk == "kl":
                    pen = sum(pb * (lpb - lqb) for pb, lpb, lqb in zip(p, lp, lq) if pb > 0)
                else:
                    pen = sum(math.exp(lqb) * (lqb - lpb) for lpb, lqb in zip(lp, lq) if math.exp(lqb) > 0)
                U += pen / tau
            values.append(self.unit[i] * (U - eps * self._nu(lx)) + self.shift[i])
            h_best = y[0] * G[0] + y[1] * G[1] - eps * self._nu(lt)
            h_x = x[0] * G[0] + x[1] * G[1] - eps * self._nu(lx)
            gaps.append(self.unit[i] * max(h_best - h_x, 0.0))
            residual = max(residual, abs(x[0] - y[0]) + abs(x[1] - y[1]))
            strategies.append(np.array(x))
            adversaries.append(np.array(p))
        return {"strategies": tuple(strategies), "adversaries": tuple(adversaries), "values": np.array(values),
                "residual": residual, "gap": max(gaps)}

    def solve(self, l0: float, l1: float, *, tol: float, max_iter: int, deadline: float | None,
              method: str) -> EquilibriumResult | None:
        """Newton from ``(l0, l1)`` and the certified result, or ``None`` if it misses ``tol`` or fails
        (or when a probability underflowed where rounding alone may leave a residual above ``tol``:
        the general path checks that case)."""
        try:
            found = self.newton(l0, l1, tol=tol, max_iter=max_iter, deadline=deadline)
            if found is None:
                return None
            l0, l1, nit = found
            cert = self.certificate(l0, l1)
        except SCALAR_FAILURES:
            return None
        if not cert["residual"] <= tol or not math.isfinite(cert["gap"]):
            return None
        if self.floor > tol and min(float(x.min()) for x in cert["strategies"]) < sys.float_info.min:
            return None
        return EquilibriumResult(
            message=f"Converged: residual {cert['residual']:.2e} <= tol {tol:.0e} (Newton, {nit} iterations).",
            success=True, status=0, nit=nit, method=method,
            params={"tau": self.tau, "epsilon": self.epsilon, "risk": self.risk, "regularizer": self.reg, "tol": tol},
            **cert)

    def _nu(self, log_x: tuple) -> float:
        if self.reg == "entropy":
            return sum(math.exp(v) * v for v in log_x)
        return -(log_x[0] + log_x[1])


def kernel_for(system) -> Kernel | None:
    """The scalar kernel of a 2x2 :class:`~rqe.solvers._system.RQESystem` at payoff scale 1, or ``None``
    when its risk measure or regulariser is not a built-in one."""
    risk = builtin_name(system.risk, risks.BUILTIN)
    reg = builtin_name(system.regularizer, regularizers.BUILTIN)
    if risk is None or reg is None or system.scale != 1.0 or tuple(system.n) != (2, 2):
        return None
    try:
        return Kernel(system.game, tuple(float(t) for t in system.tau), tuple(float(e) for e in system.epsilon),
                      risk, reg)
    except SCALAR_FAILURES:
        return None


def _number(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _pair(value, positive: bool) -> tuple | None:
    """A scalar or per-player parameter of a two-player game as two floats, or ``None`` (left to the general check)."""
    f = _number(value)
    if f is not None:
        vals = (f, f)
    elif (isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim == 1)) and len(value) == 2:
        a, b = _number(value[0]), _number(value[1])
        if a is None or b is None:
            return None
        vals = (a, b)
    else:
        return None
    if any(v < 0 or (positive and v == 0) for v in vals):
        return None
    return vals


def _start(x0) -> tuple | None:
    """The log-odds of a valid warm start (as :func:`rqe.solvers.rqe._initial_logs`), or ``None``."""
    if x0 is None:
        return 0.0, 0.0
    if len(x0) != 2:
        return None
    out = []
    for x in x0:
        x = np.asarray(x, dtype=float)
        if x.shape != (2,) or not np.all(np.isfinite(x)) or np.any(x < 0) or x.sum() <= 0:
            return None
        x = x / x.sum()
        out.append(math.log(max(float(x[0]), _TINY)) - math.log(max(float(x[1]), _TINY)))
    return tuple(out)


def solve_2x2(game, *, tau, epsilon, risk, regularizer, method, tol, max_iter, x0, max_time):
    """:func:`rqe.solve` for a 2x2 game by the scalar kernel, or ``None`` to use the general path.

    ``None`` whenever an argument is not in the fast path's scope (other game sizes, custom risk
    measures or regularizers, methods other than ``"auto"``/``"newton"``, anything the general
    validation should reject) or Newton does not reach ``tol``.
    """
    if method not in ("auto", "newton") or not isinstance(game, NormalFormGame) or game.n_actions != (2, 2):
        return None
    risk_name = builtin_name(risk, risks.BUILTIN)
    reg_name = builtin_name(regularizer, regularizers.BUILTIN)
    taus, epss = _pair(tau, False), _pair(epsilon, True)
    tol_f = _number(tol)
    if (None in (risk_name, reg_name, taus, epss, tol_f) or tol_f <= 0 or isinstance(max_iter, bool)
            or not isinstance(max_iter, (int, np.integer)) or max_iter < 1):
        return None
    deadline = None
    if max_time is not None:
        budget = _number(max_time)
        if budget is None or budget <= 0:
            return None
        deadline = time.monotonic() + budget
    try:
        start = _start(x0)
    except (TypeError, ValueError):
        return None
    if start is None:
        return None
    try:
        kernel = Kernel(game, taus, epss, risk_name, reg_name)
    except SCALAR_FAILURES:
        return None
    return kernel.solve(*start, tol=tol_f, max_iter=int(max_iter), deadline=deadline, method="newton")


class SmallState:
    """One evaluation of :class:`SmallSystem` (the fields of :class:`rqe.solvers._system.State` it needs)."""

    __slots__ = ("Tz", "log_x", "logits", "partials", "z")

    def __init__(self, z, log_x, Tz, logits, partials):
        self.z, self.log_x, self.Tz, self.logits, self.partials = z, log_x, Tz, logits, partials

    @property
    def F(self) -> np.ndarray:
        return self.z - self.Tz


def _block(l: float) -> tuple[float, float]:
    return -softplus(-l), -softplus(l)


class SmallSystem:
    """The map, Jacobian and residual of :class:`rqe.solvers._system.RQESystem` for a 2x2 game with
    the built-in risk measures and regularizers, by the scalar formulas of this module.

    Same constructor and the same coordinates (normalised logs of both strategies, ``size = 4``),
    so the likelihood's branch tracer runs on it unchanged; the dense Jacobian
    ``I - dT/dz`` is assembled from the two log-odds partials of each response.  Raises one of
    ``SCALAR_FAILURES`` where the scalar formulas leave their range (then use ``RQESystem``).
    """

    size, N, n = 4, 2, (2, 2)

    def __init__(self, game: NormalFormGame, tau, epsilon, risk, regularizer, scale: float = 1.0):
        self.game, self.risk, self.regularizer = game, risk, regularizer
        self.tau, self.epsilon = np.asarray(tau, dtype=float), np.asarray(epsilon, dtype=float)
        self.scale = float(scale)
        M, _, unit = _constants(game)
        self.M = tuple(_entries(*(self.scale * v for v in m[:4])) for m in M)
        self.tau_n = tuple(float(t) * u for t, u in zip(self.tau, unit))
        self.eps_n = tuple(float(e) / u for e, u in zip(self.epsilon, unit))
        risk_name, reg_name = builtin_name(risk, risks.BUILTIN), builtin_name(regularizer, regularizers.BUILTIN)
        if risk_name is None or reg_name is None:
            raise OutOfScope("the scalar kernel has only the built-in risk measures and regularisers")
        self.names = (risk_name, reg_name)

    @staticmethod
    def supports(game, risk, regularizer) -> bool:
        return (isinstance(game, NormalFormGame) and game.n_actions == (2, 2) and not isinstance(risk, str)
                and builtin_name(risk, risks.BUILTIN) is not None
                and builtin_name(regularizer, regularizers.BUILTIN) is not None)

    def uniform(self) -> np.ndarray:
        return np.full(4, -math.log(2.0))

    def normalize(self, z: np.ndarray) -> np.ndarray:
        return np.array(_block(float(z[0] - z[1])) + _block(float(z[2] - z[3])))

    def evaluate(self, z: np.ndarray) -> SmallState:
        l0, l1 = float(z[0] - z[1]), float(z[2] - z[3])
        risk, reg = self.names
        T0, j00, j01, _ = player_map(l0, l1, self.M[0], self.tau_n[0], self.eps_n[0], risk, reg)
        T1, j11, j10, _ = player_map(l1, l0, self.M[1], self.tau_n[1], self.eps_n[1], risk, reg)
        return SmallState(z=z, log_x=[np.array(_block(l0)), np.array(_block(l1))],
                          Tz=np.array(_block(T0) + _block(T1)), logits=(T0, T1), partials=((j00, j01), (j10, j11)))

    def jacobian(self, state: SmallState) -> np.ndarray:
        """Dense Jacobian of ``F(z) = z - T(z)``: ``T_i`` depends on ``z`` through ``l_j = z_j1 - z_j2``."""
        J = np.eye(4)
        for i in range(2):
            y0, y1 = _probs(state.logits[i])
            d0, d1 = state.partials[i]
            cols = np.array([d0, -d0, d1, -d1])
            J[2 * i] -= y1 * cols           # d(-softplus(-T)) / dT = sigma(-T)
            J[2 * i + 1] += y0 * cols       # d(-softplus(T)) / dT = -sigma(T)
        return J

    def residual(self, state: SmallState) -> float:
        diff = np.abs(np.exp(state.z) - np.exp(state.Tz))
        return float(max(diff[0] + diff[1], diff[2] + diff[3]))

    def log_residual(self, state: SmallState) -> float:
        return float(np.max(np.abs(state.F)))
