"""Pseudo-arclength continuation of ``F(z; s) = 0`` in a scalar parameter ``s``.

The curve ``y = (z, s)`` is followed with an Euler predictor ``u = y + h t`` along the unit
tangent ``t`` (plus a second-order term from the last two tangents) and a Newton corrector
on ``[F(y); t . (y - u)] = 0``: the augmented Jacobian ``A = [F_y(u); t]`` is evaluated and
LU-factorised at the predicted point, and the same factors serve the corrector iterations
(chord steps; refreshed only when the residual falls by less than 10x in an iteration) and
give the next tangent, ``A^{-1} e_{n+1}`` normalised, and the sign of ``det A`` (Allgower and
Georg, *Numerical Continuation Methods*, 1990, ch. 2 and 6; Gambit's logit tracer factorises
once per step in the same way).  A point is accepted when its certificate (the probability-space
residual) is below ``tol``, or below the rounding floor of the equations where that is larger.

Step length (Allgower and Georg 1990, section 6.1): after each corrector the deceleration
factor ``f = max(sqrt(dist / max_dist), sqrt(contraction / max_contraction), angle / max_angle)``
compares the first corrector step, the residual's contraction over the first corrector
iteration and the turn of the tangent with nominal values; the next step is ``h / f`` with ``f`` clipped to
``[1 / max_accel, max_accel]``, and a step with ``f > max_accel`` is rejected and retried at
``h / max_accel``.  The angle test keeps the corrector from converging onto a nearby branch.

Turning points in ``s`` (folds: the tangent's ``s``-component changes sign) and branch
points (the sign of ``det A`` changes without a fold) are confirmed with Jacobians at the
two ends of the step, recorded as events and located by regula falsi.  Every loop is capped.

The equations come from a *family*: any object with ``evaluate(y) -> (F, residual, floor)``
and ``jacobian(y) -> (F, J, residual, floor)``, where ``J = [F_z, F_s]`` is ``n x (n + 1)`` and
``floor`` is the residual that rounding alone can produce at ``y``.  :class:`SystemFamily`
builds one from a callable ``s -> RQESystem`` (finite differences in ``s``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from rqe._threads import hot_loop
from rqe.solvers._system import RQESystem

_CORRECTOR_ITERS = 12
_PATIENT_ITERS = 60
_SAME_BRANCH = 0.5          # cosine between tangents above which a corrected point is on the traced branch
_LAND_ITERS = 30
_MIN_STEP = 1e-12
_MAX_RATE = 0.5
_REFRESH = 0.1
_FLOOR = 64 * np.finfo(float).eps


@dataclass
class Trace:
    s: list = field(default_factory=list)
    z: list = field(default_factory=list)
    residual: list = field(default_factory=list)
    events: list = field(default_factory=list)   # (kind, s, index)
    status: int = 0                               # 0 reached s_end, 1 step limit, 3 step underflow, 4 left s_range, 5 deadline
    nit: int = 0


@dataclass(frozen=True)
class StepControl:
    """Step-length controls of :func:`trace` (defaults tuned on the logit and RQE branches of the tests).

    ``first_step`` and ``max_step`` bound the arclength step; ``max_accel`` is the largest
    factor by which it grows (or shrinks) from one step to the next; ``max_dist``,
    ``max_contraction`` and ``max_angle`` (radians) are the nominal first corrector step,
    corrector contraction rate and turn of the tangent.
    """

    first_step: float = 0.05
    max_step: float = np.inf
    max_accel: float = 2.0
    max_dist: float = 0.3
    max_contraction: float = 0.5
    max_angle: float = 0.3


class SystemFamily:
    """The family ``s -> F(.; s)`` of a callable ``system_at(s) -> RQESystem``; ``F_s`` by central differences."""

    def __init__(self, system_at: Callable[[float], RQESystem], ds: float = 1e-7):
        self.system_at = system_at
        self.ds = ds
        self.entries = 0          # set from the first system (the size of its largest payoff matrix)
        self._s = None
        self._system = None
        self.state = None
        self._y = self._evaluated = None     # the last evaluated point and what evaluate returned there

    def _at(self, s: float) -> RQESystem:
        if s != self._s:
            self._s, self._system = s, self.system_at(s)
            self.entries = self.entries or max(M.size for M in self._system.M)
        return self._system

    def evaluate(self, y: np.ndarray):
        system = self._at(float(y[-1]))
        self.state = state = system.evaluate(y[:-1])
        F = state.F
        if not np.all(np.isfinite(F)):
            out = F, np.inf, 0.0
        else:
            out = F, system.residual(state), _FLOOR * (1.0 + float(np.max(np.abs(state.Tz))))
        self._y, self._evaluated = y, out
        return out

    def jacobian(self, y: np.ndarray, evaluated: bool = False):
        """``(F, [F_z, F_s], residual, floor)`` at ``y``; ``evaluated=True`` reuses the last
        evaluation, which must have been at this same (unmodified) array ``y``."""
        if evaluated and self._y is y:
            F, res, floor = self._evaluated
        else:
            F, res, floor = self.evaluate(y)
        state, system, s = self.state, self._system, float(y[-1])
        Fz = system.jacobian(state)
        ds = self.ds * max(1.0, abs(s))
        Fs = (self.system_at(s + ds).evaluate(y[:-1]).F - self.system_at(s - ds).evaluate(y[:-1]).F) / (2 * ds)
        self.state = state
        return F, np.column_stack([Fz, Fs]), res, floor


@dataclass
class _Corrected:
    y: np.ndarray
    tangent: np.ndarray
    sign: float
    decel: float
    iters: int
    residual: float


class _Factor:
    """LU factors of the augmented Jacobian ``A = [J; t]`` (LAPACK getrf), with the sign of ``det A``."""

    __slots__ = ("lu", "piv", "rhs")

    def __init__(self, lu, piv, size):
        self.lu, self.piv = lu, piv
        self.rhs = np.zeros(size)

    def solve_F(self, F: np.ndarray) -> np.ndarray:
        """``A^{-1} [F; 0]``."""
        self.rhs[:-1] = F
        self.rhs[-1] = 0.0
        return _GETRS(self.lu, self.piv, self.rhs)[0]

    def tangent(self) -> np.ndarray:
        """``A^{-1} e_{n+1}``, normalised: the tangent of the curve, oriented so that ``t . tangent > 0``."""
        self.rhs[:] = 0.0
        self.rhs[-1] = 1.0
        v = _GETRS(self.lu, self.piv, self.rhs)[0]
        return v / math.sqrt(v @ v)

    def sign(self) -> float:
        """Sign of ``det A``: the parity of the row swaps and of the negative pivots."""
        flips = np.count_nonzero(self.lu.diagonal() < 0) + np.count_nonzero(self.piv != _arange(len(self.piv)))
        return -1.0 if flips % 2 else 1.0

    def det(self) -> tuple[float, float]:
        """Sign and log-modulus of ``det A``."""
        return self.sign(), float(np.sum(np.log(np.abs(np.diagonal(self.lu)))))


_GETRF = _GETRS = None
_ARANGE = {}


def _arange(n: int) -> np.ndarray:
    if n not in _ARANGE:
        _ARANGE[n] = np.arange(n, dtype=np.int32)
    return _ARANGE[n]


def _factor(J: np.ndarray, t: np.ndarray, signed: bool):
    """Factorise ``[J; t]``: ``(_Factor, det sign)``, or ``(None, 0)`` when it is singular.

    The matrix is assembled in Fortran order, which LAPACK factorises in place.
    """
    global _GETRF, _GETRS
    if _GETRF is None:
        from scipy.linalg import lapack   # on first use: importing scipy.linalg costs ~0.3 s

        _GETRF, _GETRS = lapack.dgetrf, lapack.dgetrs
    size = len(t)
    A = np.empty((size, size), order="F")
    A[:-1] = J
    A[-1] = t
    lu, piv, info = _GETRF(A, overwrite_a=1)
    if info != 0:
        return None, 0.0
    factor = _Factor(lu, piv, size)
    return factor, (factor.sign() if signed else 0.0)


def _correct(family, u: np.ndarray, t: np.ndarray, tol: float, ctl: StepControl, signed: bool,
             patient: bool = False):
    """Newton corrector from the predicted point ``u``, reusing the factorisation while it contracts fast.

    The augmented Jacobian is refreshed only after an iteration that reduced the residual by
    less than a factor ``1 / _REFRESH`` (a chord step otherwise).  Returns ``None`` if the
    corrector diverges or stalls.  ``patient`` (used next to bifurcations, where the Jacobian
    is nearly singular and Newton converges only linearly) allows ``_PATIENT_ITERS``
    iterations that merely decrease the residual.
    """
    F, J, res, floor = family.jacobian(u)
    factor, sign = _factor(J, t, signed)
    if factor is None:
        return None
    y, dist, contraction = u, 0.0, 0.0
    cap, max_rate = (_PATIENT_ITERS, 1.0) if patient else (_CORRECTOR_ITERS, _MAX_RATE)
    target = max(tol, floor)
    for iters in range(cap + 1):
        if res <= target:
            tangent = factor.tangent()
            angle = math.acos(min(1.0, max(-1.0, float(tangent @ t))))
            decel = max(math.sqrt(dist / ctl.max_dist), math.sqrt(contraction / ctl.max_contraction),
                        angle / ctl.max_angle)
            return _Corrected(y, tangent, sign, decel, iters, res)
        if iters == cap:
            return None
        delta = factor.solve_F(F)
        if iters == 0:
            dist = math.sqrt(delta @ delta)
            if not dist <= ctl.max_accel ** 2 * ctl.max_dist:
                return None
        y = y - delta
        F, new_res, floor = family.evaluate(y)
        if not math.isfinite(new_res):
            return None
        target = max(tol, floor)
        rate = new_res / res
        if iters == 0 and new_res > target:
            contraction = rate     # one iteration that already lands within tolerance says nothing of the rate
        if rate > max_rate and new_res > 16 * target:
            return None            # not contracting: the step was too long
        res = new_res
        if (rate > _REFRESH or patient) and res > target:
            F, J, res, floor = family.jacobian(y, evaluated=True)
            factor, sign = _factor(J, t, signed)
            if factor is None:
                return None
    return None


def _exact(family, y: np.ndarray, t: np.ndarray):
    """Tangent (oriented along ``t``), sign and log-modulus of ``det [F_y(y); t]`` at ``y``, from a fresh Jacobian."""
    _, J, _, _ = family.jacobian(y)
    factor, _ = _factor(J, t, signed=False)
    if factor is None:
        return None
    tangent = factor.tangent()
    if not np.all(np.isfinite(tangent)):
        return None
    return (tangent,) + factor.det()


def _indicator(kind: str, exact, shift: float) -> float | None:
    """The function whose sign change marks the event: the tangent's ``s``-component (fold) or the
    determinant scaled by ``exp(-shift)`` (branch point)."""
    if exact is None:
        return None
    tangent, sign, logdet = exact
    if kind == "fold":
        return float(tangent[-1])
    return sign * float(np.exp(min(logdet - shift, 700.0))) if np.isfinite(logdet) else 0.0


def _refine(family, y, t, tol, ctl, kind: str, y_end, ga: float, gb: float, shift: float) -> float:
    """Locate a fold or branch point between the curve points ``y`` and ``y_end`` (Illinois method).

    A fold is where the tangent's ``s``-component changes sign; a branch point is where
    ``det [F_y; t]`` does; ``ga`` and ``gb`` are those indicators at the two ends.  Points at
    arclength ``c`` along ``t`` are corrected onto the curve orthogonally to ``t`` and the
    indicator is evaluated there; the bracket shrinks by regula falsi with the Illinois
    modification (bisection where a corrector fails).
    """
    loose = StepControl(max_dist=np.inf, max_contraction=np.inf, max_angle=np.inf, max_accel=ctl.max_accel)
    a, b = 0.0, float(np.dot(y_end - y, t))
    location = float(y_end[-1])
    width = 1e-11 * max(1.0, abs(b))

    def probe(c):
        """The indicator at the curve point over ``y + c t``; ``None`` if the corrector fails or lands
        on another branch (next to a bifurcation the hyperplane cuts both: its tangent then turns
        away from ``t``)."""
        corrected = _correct(family, y + c * t, t, tol, loose, signed=False, patient=True)
        exact = None if corrected is None else _exact(family, corrected.y, t)
        if exact is None or float(exact[0] @ t) < _SAME_BRANCH:
            return None, None
        return _indicator(kind, exact, shift), float(corrected.y[-1])

    for _ in range(60):
        c = b - gb * (b - a) / (gb - ga) if gb != ga else 0.5 * (a + b)
        if not min(a, b) < c < max(a, b):
            c = 0.5 * (a + b)
        gc, s_c = probe(c)
        if gc is None:
            c = 0.5 * (a + b)
            gc, s_c = probe(c)
            if gc is None:
                break
        location = s_c
        if gc == 0.0:
            break
        if gc * gb < 0:
            a, ga = b, gb
        else:
            ga *= 0.5
        b, gb = c, gc
        if abs(b - a) <= width:
            break
    return location


def _locate(family, y, t, y_new, tol, ctl, kind: str) -> float:
    """Where the fold or branch point detected between the curve points ``y`` and ``y_new`` lies."""
    start, end = _exact(family, y, t), _exact(family, y_new, t)
    if start is None or end is None:
        return 0.5 * (float(y[-1]) + float(y_new[-1]))
    shift = start[2] if np.isfinite(start[2]) else 0.0
    return _refine(family, y, t, tol, ctl, kind, y_new, _indicator(kind, start, shift),
                   _indicator(kind, end, shift), shift)


def trace(system_at, z0: np.ndarray, s0: float, s_end: float, *, tol: float = 1e-10, h0: float | None = None,
          h_max: float | None = None, max_accel: float | None = None, max_steps: int = 2000, ds: float = 1e-7,
          record: bool = True, stop: Callable[[np.ndarray, float], bool] | None = None,
          s_range: tuple[float, float] = (-np.inf, np.inf), locate_events: bool = True,
          control: StepControl | None = None, deadline: float | None = None,
          point_tol: float | None = None) -> Trace:
    """Follow the branch through ``(z0, s0)`` until ``s`` reaches ``s_end``.

    ``system_at`` is a callable ``s -> RQESystem`` or a family (module docstring).  ``z0``
    must solve ``F(z0; s0) = 0``.  The branch leaves ``s0`` towards ``s_end``; it may fold
    back and forth on the way.  The last point is corrected at exactly ``s = s_end``.
    ``stop(z, s)`` may end the trace early (status 0); leaving ``s_range`` ends it with
    status 4.  ``locate_events=False`` skips detecting folds and branch points (faster when
    only the end point matters).  ``h0``, ``h_max`` and ``max_accel`` override the matching
    fields of ``control`` (a :class:`StepControl`).  Past ``deadline`` (a
    :func:`time.monotonic` value) the trace stops with status 5.  ``point_tol`` (default
    ``tol``) is the residual at which the points on the way are accepted: with ``record=False``
    and no ``stop`` only the end is returned, which is always solved to ``tol``, so a looser
    ``point_tol`` saves corrector iterations there.
    """
    ctl = control or StepControl()
    overrides = {k: v for k, v in (("first_step", h0), ("max_step", h_max), ("max_accel", max_accel))
                 if v is not None}
    if overrides:
        ctl = replace(ctl, **overrides)
    family = system_at if hasattr(system_at, "jacobian") else SystemFamily(system_at, ds)
    family.evaluate(np.append(np.asarray(z0, dtype=float), float(s0)))
    with hot_loop(family.entries):
        return _trace(family, z0, s0, s_end, tol=tol, max_steps=max_steps, record=record, stop=stop,
                      s_range=s_range, locate_events=locate_events, ctl=ctl, deadline=deadline,
                      point_tol=tol if point_tol is None else point_tol)


def _trace(family, z0, s0, s_end, *, tol, max_steps, record, stop, s_range, locate_events, ctl,
           deadline=None, point_tol) -> Trace:
    out = Trace()
    direction = 1.0 if s_end >= s0 else -1.0
    y = np.append(np.asarray(z0, dtype=float), float(s0))
    start = np.zeros(len(y))
    start[-1] = direction
    F, J, res, _ = family.jacobian(y)
    factor, sign = _factor(J, start, locate_events)
    t = factor.tangent() if factor is not None else np.full(len(y), np.nan)
    if not np.all(np.isfinite(t)):
        out.status = 3
        return out
    h = min(ctl.first_step, ctl.max_step)
    if record:
        out.s.append(float(s0)), out.z.append(y[:-1].copy()), out.residual.append(res)
    bend = np.zeros(len(y))          # d t / d arclength, estimated from the last two tangents
    exact = True                     # whether t and sign were computed at the point y itself
    for step in range(max_steps):
        if deadline is not None and time.monotonic() > deadline:
            out.status = 5
            return out
        out.nit = step + 1
        while True:
            corrected = _correct(family, y + h * t + (0.5 * h * h) * bend, t, point_tol, ctl, locate_events)
            if corrected is not None and corrected.decel <= ctl.max_accel:
                break
            h /= ctl.max_accel if corrected is not None else 2.0
            if h < _MIN_STEP:
                out.status = 3
                return out
        y_new, new_t, new_sign = corrected.y, corrected.tangent, corrected.sign
        if direction * (y_new[-1] - s_end) > 0:
            return _land(family, y, y_new, s_end, tol, out, record)
        if locate_events:
            near_fold = abs(new_t[-1]) < 2.0 * abs(new_t[-1] - t[-1])
            if near_fold or new_t[-1] * t[-1] < 0 or new_sign != sign:
                # The tangent and determinant come from the Jacobian at the predicted point; near a
                # fold or a sign change they are recomputed at the curve points before deciding.
                if not exact:
                    checked = _exact(family, y, t)
                    if checked is not None:
                        t, sign = checked[0], checked[1]
                checked = _exact(family, y_new, t)
                if checked is not None:
                    new_t, new_sign = checked[0], checked[1]
                    if new_t[-1] * t[-1] < 0:
                        out.events.append(("fold", _locate(family, y, t, y_new, tol, ctl, "fold"), len(out.s)))
                    elif new_sign != sign:
                        out.events.append(("branch_point", _locate(family, y, t, y_new, tol, ctl, "branch_point"),
                                           len(out.s)))
            exact = near_fold
        if not s_range[0] <= y_new[-1] <= s_range[1]:
            edge = s_range[0] if y_new[-1] < s_range[0] else s_range[1]
            out = _land(family, y, y_new, edge, tol, out, record)
            out.status = 4 if out.status == 0 else out.status
            return out
        chord = y_new - y
        bend = (new_t - t) / math.sqrt(chord @ chord)
        y, t, sign = y_new, new_t, new_sign
        if record:
            out.s.append(float(y[-1])), out.z.append(y[:-1].copy()), out.residual.append(corrected.residual)
        if stop is not None and stop(y[:-1], float(y[-1])):
            return out
        h = min(h / max(corrected.decel, 1.0 / ctl.max_accel), ctl.max_step)
    out.status = 1
    return out


def newton_at(family, y: np.ndarray, tol: float, iters: int = _LAND_ITERS, halvings: int = 20,
              deadline: float | None = None):
    """Solve ``F(z; s) = 0`` at the fixed ``s = y[-1]`` by Newton's method in ``z`` with backtracking.

    Each step is halved at most ``halvings`` times until ``||F||`` decreases.  Returns
    ``(y, residual, converged, passes)``; ``passes`` counts the residual checks (at most ``iters``).
    Past ``deadline`` (a :func:`time.monotonic` value) it stops unconverged.
    """
    F, res, floor = family.evaluate(y)
    norm = math.sqrt(F @ F)
    for passes in range(1, iters + 1):
        if res <= max(tol, floor):
            return y, res, True, passes
        if deadline is not None and time.monotonic() > deadline:
            return y, res, False, passes
        _, J, _, _ = family.jacobian(y, evaluated=True)
        try:
            delta = np.linalg.solve(J[:, :-1], -F)
        except np.linalg.LinAlgError:
            return y, res, False, passes
        a = 1.0
        while a > 2.0 ** -halvings:
            trial = y.copy()
            trial[:-1] += a * delta
            F_t, res_t, floor_t = family.evaluate(trial)
            norm_t = math.sqrt(F_t @ F_t)
            if np.isfinite(norm_t) and norm_t < norm:
                break
            a *= 0.5
        else:
            return y, res, False, passes
        y, F, res, floor, norm = trial, F_t, res_t, floor_t, norm_t
    return y, res, False, iters


def _land(family, y_old, y_new, s_end, tol, out, record):
    """Interpolate to ``s = s_end`` and solve ``F(z; s_end) = 0`` there by Newton's method in ``z``."""
    w = (s_end - y_old[-1]) / (y_new[-1] - y_old[-1])
    y = (1 - w) * y_old + w * y_new
    y[-1] = s_end
    y, res, converged, passes = newton_at(family, y, tol)
    out.nit += passes
    out.status = 0 if converged else 3
    if record or out.status == 0:
        out.s.append(float(s_end)), out.z.append(y[:-1].copy()), out.residual.append(res)
    return out
