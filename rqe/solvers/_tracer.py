"""Pseudo-arclength continuation of ``F(z; s) = 0`` in a scalar parameter ``s``.

The curve ``y = (z, s)`` is followed with an Euler predictor along the unit tangent and a
Newton corrector on ``[F(y); t . (y - y_pred)] = 0`` (Allgower and Georg, *Numerical
Continuation Methods*, 1990, ch. 2).  Turning points in ``s`` (folds: the tangent's
``s``-component changes sign) and branch points (the augmented Jacobian's determinant
changes sign without a fold) are recorded as events.  Every loop is capped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rqe.solvers._system import RQESystem

_CORRECTOR_ITERS = 8
_GROW = 1.6


@dataclass
class Trace:
    s: list = field(default_factory=list)
    z: list = field(default_factory=list)
    residual: list = field(default_factory=list)
    events: list = field(default_factory=list)   # (kind, s, index)
    status: int = 0                               # 0 reached s_end, 1 step limit, 3 step underflow
    nit: int = 0


def _augmented(system_at: Callable[[float], RQESystem], z: np.ndarray, s: float, ds: float):
    """``F``, the ``n x (n+1)`` Jacobian ``[F_z, F_s]`` and the state at ``(z, s)``."""
    system = system_at(s)
    state = system.evaluate(z)
    Fz = system.jacobian(state)
    Fp = system_at(s + ds).evaluate(z).F
    Fm = system_at(s - ds).evaluate(z).F
    return state.F, np.column_stack([Fz, (Fp - Fm) / (2 * ds)]), system, state


def _tangent(J: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, float]:
    A = np.vstack([J, previous])
    rhs = np.zeros(len(previous))
    rhs[-1] = 1.0
    t = np.linalg.solve(A, rhs)
    t /= np.linalg.norm(t)
    return t, float(np.linalg.slogdet(np.vstack([J, t]))[0])


def trace(system_at: Callable[[float], RQESystem], z0: np.ndarray, s0: float, s_end: float, *,
          tol: float = 1e-10, h0: float = 0.05, h_max: float = 1.0, max_steps: int = 2000,
          ds: float = 1e-7, record: bool = True, stop: Callable[[np.ndarray, float], bool] | None = None) -> Trace:
    """Follow the branch through ``(z0, s0)`` until ``s`` reaches ``s_end``.

    ``z0`` must solve ``F(z0; s0) = 0``.  The branch leaves ``s0`` towards ``s_end``; it may
    fold back and forth on the way.  The last point is corrected at exactly ``s = s_end``.
    ``stop(z, s)`` may end the trace early (status 0).
    """
    out = Trace()
    direction = 1.0 if s_end >= s0 else -1.0
    y = np.append(z0, s0)
    n = len(z0)
    prev_t = np.zeros(n + 1)
    prev_t[-1] = direction
    F, J, system, state = _augmented(system_at, z0, s0, ds)
    t, sign = _tangent(J, prev_t)
    h = h0
    if record:
        out.s.append(s0), out.z.append(z0.copy()), out.residual.append(system.residual(state))
    for step in range(max_steps):
        out.nit = step + 1
        accepted = False
        while not accepted:
            y_pred = y + h * t
            y_new, iters = y_pred.copy(), 0
            for iters in range(1, _CORRECTOR_ITERS + 1):
                F, J, system, state = _augmented(system_at, y_new[:-1], y_new[-1], ds)
                G = np.append(F, t @ (y_new - y_pred))
                if np.max(np.abs(F)) <= tol and iters > 1:
                    accepted = True
                    break
                try:
                    delta = np.linalg.solve(np.vstack([J, t]), -G)
                except np.linalg.LinAlgError:
                    break
                if not np.all(np.isfinite(delta)) or np.linalg.norm(delta) > 0.5 * h + 1e-12:
                    break
                y_new = y_new + delta
            if not accepted:
                h *= 0.5
                if h < 1e-12:
                    out.status = 3
                    return out
        crossed = direction * (y_new[-1] - s_end) > 0
        if crossed:
            return _land(system_at, y, y_new, s_end, tol, out, record)
        new_t, new_sign = _tangent(J, t)
        if new_t[-1] * t[-1] < 0:
            out.events.append(("fold", float(y_new[-1]), len(out.s)))
        elif new_sign != sign:
            out.events.append(("branch_point", float(y_new[-1]), len(out.s)))
        y, t, sign = y_new, new_t, new_sign
        if record:
            out.s.append(float(y[-1])), out.z.append(y[:-1].copy()), out.residual.append(system.residual(state))
        if stop is not None and stop(y[:-1], float(y[-1])):
            return out
        h = min(h * _GROW, h_max) if iters <= 3 else h
    out.status = 1
    return out


def _land(system_at, y_old, y_new, s_end, tol, out, record):
    """Interpolate to ``s = s_end`` and correct with Newton in ``z`` at that fixed ``s``."""
    from rqe.solvers._iterate import newton

    w = (s_end - y_old[-1]) / (y_new[-1] - y_old[-1])
    z = (1 - w) * y_old[:-1] + w * y_new[:-1]
    system = system_at(s_end)
    result = newton(system, z, tol=tol, max_iter=50)
    out.nit += result.nit
    out.status = 0 if result.status == 0 else 3
    if record or out.status == 0:
        out.s.append(float(s_end)), out.z.append(result.state.z), out.residual.append(system.residual(result.state))
    return out
