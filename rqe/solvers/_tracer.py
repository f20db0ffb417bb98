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


def _correct(system_at, y_pred: np.ndarray, t: np.ndarray, tol: float, ds: float, h: float):
    """Newton corrector on ``[F(y); t . (y - y_pred)] = 0``; ``None`` if it fails."""
    y = y_pred.copy()
    for iters in range(1, _CORRECTOR_ITERS + 1):
        F, J, system, state = _augmented(system_at, y[:-1], y[-1], ds)
        if not (np.all(np.isfinite(F)) and np.all(np.isfinite(J))):
            return None
        if iters > 1 and np.max(np.abs(F)) <= tol * max(1.0, float(np.max(np.abs(y)))):
            return y, J, system, state, iters
        try:
            delta = np.linalg.solve(np.vstack([J, t]), -np.append(F, t @ (y - y_pred)))
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(delta)) or np.linalg.norm(delta) > 0.5 * h + 1e-12:
            return None
        y = y + delta
    return None


def _refine(system_at, y, t, h, tol, ds, kind: str) -> float:
    """Locate a fold or branch point inside the arclength step ``(0, h]`` from ``y`` by bisection.

    A fold is where the tangent's ``s``-component changes sign; a branch point is where the
    determinant of the augmented Jacobian does.
    """
    def side(J):
        t_mid, det_sign = _tangent(J, t)
        return t_mid[-1] * t[-1] > 0 if kind == "fold" else det_sign == reference

    reference = _tangent(_augmented(system_at, y[:-1], y[-1], ds)[1], t)[1]
    lo, hi = 0.0, h
    location = float(y[-1])
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        corrected = _correct(system_at, y + mid * t, t, tol, ds, max(mid, 1e-12))
        if corrected is None:
            break
        location = float(corrected[0][-1])
        if side(corrected[1]):
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-10 * max(1.0, h):
            break
    return location


def trace(system_at: Callable[[float], RQESystem], z0: np.ndarray, s0: float, s_end: float, *,
          tol: float = 1e-10, h0: float = 0.05, h_max: float = 1.0, max_steps: int = 2000,
          ds: float = 1e-7, record: bool = True, stop: Callable[[np.ndarray, float], bool] | None = None,
          s_range: tuple[float, float] = (-np.inf, np.inf), locate_events: bool = True) -> Trace:
    """Follow the branch through ``(z0, s0)`` until ``s`` reaches ``s_end``.

    ``z0`` must solve ``F(z0; s0) = 0``.  The branch leaves ``s0`` towards ``s_end``; it may
    fold back and forth on the way.  The last point is corrected at exactly ``s = s_end``.
    ``stop(z, s)`` may end the trace early (status 0); leaving ``s_range`` ends it with
    status 4.  ``locate_events=False`` skips detecting folds and branch points (faster when
    only the end point matters).
    """
    out = Trace()
    direction = 1.0 if s_end >= s0 else -1.0
    y = np.append(z0, s0)
    prev_t = np.zeros(len(y))
    prev_t[-1] = direction
    _, J, system, state = _augmented(system_at, z0, s0, ds)
    if not np.all(np.isfinite(J)):
        out.status = 3
        return out
    t, sign = _tangent(J, prev_t)
    h = h0
    if record:
        out.s.append(s0), out.z.append(z0.copy()), out.residual.append(system.residual(state))
    for step in range(max_steps):
        out.nit = step + 1
        corrected = _correct(system_at, y + h * t, t, tol, ds, h)
        while corrected is None:
            h *= 0.5
            if h < 1e-12:
                out.status = 3
                return out
            corrected = _correct(system_at, y + h * t, t, tol, ds, h)
        y_new, J, system, state, iters = corrected
        if direction * (y_new[-1] - s_end) > 0:
            return _land(system_at, y, y_new, s_end, tol, out, record)
        new_t, new_sign = _tangent(J, t)
        if locate_events and new_t[-1] * t[-1] < 0:
            out.events.append(("fold", _refine(system_at, y, t, h, tol, ds, "fold"), len(out.s)))
        elif locate_events and new_sign != sign:
            out.events.append(("branch_point", _refine(system_at, y, t, h, tol, ds, "branch_point"), len(out.s)))
        if not s_range[0] <= y_new[-1] <= s_range[1]:
            edge = s_range[0] if y_new[-1] < s_range[0] else s_range[1]
            out = _land(system_at, y, y_new, edge, tol, out, record)
            out.status = 4 if out.status == 0 else out.status
            return out
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
