"""The payoff-scale homotopy of :func:`rqe.solve`: pseudo-arclength continuation from uniform play.

``H(z, s) = z - T_s(z)``, where ``T_s`` is the fixed-point map of the game with every payoff
multiplied by ``s`` (:class:`rqe.solvers._system.RQESystem`).  At ``s = 0`` the unique zero is
uniform play, and the branch through it reaches ``s = 1`` for generic games (solutions stay
bounded for ``s`` in ``[0, 1]``; Allgower and Georg, *Numerical Continuation Methods*, 1990,
ch. 2 and 11).  By the scale identity ``RQE(sA; epsilon, tau) = RQE(A; epsilon / s, s tau)``
this anneals ``epsilon`` from infinity and ``tau`` from zero to their values, for every player
at once.

The branch is traced on the *lifted* system (:class:`rqe.solvers._system.LiftedSystem`), whose
unknowns include each risk-averse player's adversary: Newton's corrector then linearises the
adversary (sharpness ``tau``) and the quantal response (sharpness ``1 / epsilon``) separately
instead of their composition, which is what makes ``epsilon = 1e-4`` with ``tau = 1e4`` take
about a hundred steps rather than thousands.  Risk measures or regularisers without analytic
derivatives use ``z - T(z)`` itself.

Each step is an Euler predictor along the unit tangent and a Newton corrector on
``[H(y); t . (y - y_pred)] = 0``.  The bordered linear systems are solved densely up to
:data:`rqe.solvers._iterate.DENSE_MAX` unknowns and by restarted GMRES with exact
Jacobian-vector products above, so a large game never builds its Jacobian; there the
corrector's systems are solved inexactly (relative residual ``_KRYLOV_CORRECTOR``: the
corrector then contracts linearly at about that rate; Eisenstat and Walker 1996) and the
tangent's from the previous tangent to ``_KRYLOV_TANGENT``.  The step length
aims the first correction at a fixed fraction of the step (the predictor's error grows like
its square) and halves on failure or when the tangent turns by more than 60 degrees.  The end
point is polished by Newton at ``s = 1`` (lifted, then on ``z - T(z)``).  Every loop is capped
by ``max_iter`` and by the deadline.
"""

from __future__ import annotations

import numpy as np

from rqe.solvers._iterate import DENSE_MAX, Outcome, expired, fixed_point, newton
from rqe.solvers._system import LiftedSystem, RQESystem

_CORRECTOR_ITERS = 6
_GROW = 2.0
_TARGET = 0.05            # wanted ratio of the first correction to the step length
_MIN_COS = 0.5            # largest turn of the tangent per step: 60 degrees
_CORRECTOR_TOL = 1e-11    # corrector target for max |H|, relative to max(1, max |y|)
_NOISE = 1e-10            # a correction this small (relative) is at rounding level: the point is accepted
_LAND_ITERS = 30          # Newton steps on the lifted system when solving at a fixed scale
_JUMPS = 3                # corners the trace may jump over
_JUMP_FRACTIONS = (1e-3, 1e-2, 0.1)   # how far beyond a corner (of the remaining scale) a jump lands
_JUMP_FIXED_POINT = 500   # fixed-point steps when solving beyond a corner
_LANDINGS = 8             # attempts to polish the end point at s = 1
_POLISH = 50              # Newton steps on z - T(z) when solving at a fixed scale
# Relative residuals of the GMRES solves above DENSE_MAX unknowns: a corrector step only needs
# to contract (inexact Newton converges linearly at about this rate), a tangent only steers the
# predictor; the landing Newton steps keep the tight default.
_KRYLOV_RTOL = 1e-12
_KRYLOV_CORRECTOR = 1e-4
_KRYLOV_TANGENT = 1e-8
# Iterations beyond max_iter path steps that one homotopy may spend (landings and jumps).
EXTRA_ITER = (_LANDINGS * (_LAND_ITERS + _POLISH)
              + _JUMPS * len(_JUMP_FRACTIONS) * (_LAND_ITERS + _POLISH + _JUMP_FIXED_POINT))


class _Composed:
    """``F(z) = z - T(z)`` with the interface of :class:`LiftedSystem` (for maps without analytic derivatives)."""

    def __init__(self, system: RQESystem):
        self.system = system
        self.size = system.size

    def lift(self, z):
        return z

    def evaluate(self, y):
        return self.system.evaluate(y)

    def jvp(self, state, V):
        return V - self.system.jvp(state, V)

    def jacobian(self, state):
        return self.system.jacobian(state)

    def scale_derivative(self, state):
        return -self.system.scale_derivative(state)


def _family(system: RQESystem, s: float, lifted: bool = True):
    at = RQESystem(system.game, system.tau, system.epsilon, system.risk, system.regularizer, scale=s)
    return LiftedSystem(at) if lifted and at.analytic else _Composed(at)


class _Point:
    """``H``, its derivatives and a bordered solver at ``y = (unknowns, s)``."""

    def __init__(self, system: RQESystem, y: np.ndarray, lifted: bool = True):
        self.y = y
        self.lifted = lifted
        self.family = _family(system, float(y[-1]), lifted)
        self.state = self.family.evaluate(y[:-1])
        self.H = self.state.F
        self.Hs = self.family.scale_derivative(self.state)
        self.dense = len(y) - 1 <= DENSE_MAX
        if self.dense:
            self.J = self.family.jacobian(self.state)
        self.finite = bool(np.all(np.isfinite(self.H)) and np.all(np.isfinite(self.Hs))
                           and (not self.dense or np.all(np.isfinite(self.J))))

    def solve(self, t: np.ndarray, top: np.ndarray, last: float, rtol: float = _KRYLOV_RTOL,
              x0: np.ndarray | None = None) -> np.ndarray | None:
        """Solve ``[H_y H_s; t^T] v = [top; last]``; ``None`` if singular or not finite.

        Above ``DENSE_MAX`` unknowns, by GMRES from ``x0`` to the relative residual ``rtol``.
        """
        n = len(top)
        rhs = np.append(top, last)
        if self.dense:
            A = np.empty((n + 1, n + 1))
            A[:n, :n] = self.J
            A[:n, n] = self.Hs
            A[n] = t
            try:
                v = np.linalg.solve(A, rhs)
            except np.linalg.LinAlgError:
                return None
        else:
            from scipy.sparse.linalg import LinearOperator, gmres  # on first use (import cost)

            def matvec(v):
                return np.append(self.family.jvp(self.state, v[None, :n])[0] + self.Hs * v[n], t @ v)

            op = LinearOperator((n + 1, n + 1), dtype=float, matvec=matvec)
            v, _ = gmres(op, rhs, x0=x0, rtol=rtol, atol=0.0, restart=60, maxiter=20)
        return v if np.all(np.isfinite(v)) else None

    def tangent(self, previous: np.ndarray) -> np.ndarray | None:
        """The unit tangent at this point, oriented along ``previous`` (GMRES starts from it)."""
        t = self.solve(previous, np.zeros(len(previous) - 1), 1.0, _KRYLOV_TANGENT, previous)
        if t is None or not np.linalg.norm(t) > 0:
            return None
        return t / np.linalg.norm(t)


def _correct(system: RQESystem, y_pred: np.ndarray, t: np.ndarray, h: float, lifted: bool):
    """Newton on ``[H(y); t . (y - y_pred)] = 0`` from ``y_pred``.

    Returns ``(point, first)``, ``first`` the length of the first correction (a measure of
    the predictor's error), or ``None`` when the iteration diverges or does not settle.
    """
    y = y_pred
    previous, first = np.inf, None
    for k in range(1, _CORRECTOR_ITERS + 1):
        point = _Point(system, y, lifted)
        if not point.finite:
            return None
        scale = max(1.0, float(np.max(np.abs(y))))
        if k > 1 and np.max(np.abs(point.H)) <= _CORRECTOR_TOL * scale:
            return point, first
        delta = point.solve(t, -point.H, -float(t @ (y - y_pred)), _KRYLOV_CORRECTOR)
        if delta is None:
            return None
        size = float(np.linalg.norm(delta))
        # Diverging, or not contracting above the level where rounding noise dominates.
        if size > 0.5 * h + _NOISE * scale or (size > 0.7 * previous and size > _NOISE * scale):
            return None
        first = size if first is None else first
        previous = size
        y = y + delta
        if size <= _NOISE * scale:
            return _Point(system, y, lifted), first
    return None


def homotopy(system: RQESystem, *, tol: float, max_iter: int, deadline: float | None = None) -> Outcome:
    """Trace on the lifted system; where that trace fails, trace again on ``z - T(z)`` (:func:`_trace`).

    Near a corner of double precision the lifted branch can turn back on itself (its tangent
    reverses where a probability underflows); the composed map has no adversary unknowns and
    then often passes.  The second trace gets what the first left of ``max_iter``, so ``nit``
    stays below ``max_iter + EXTRA_ITER``.
    """
    first = _trace(system, tol=tol, max_iter=max_iter, deadline=deadline, lifted=True)
    left = max_iter - first.nit
    if first.status == 0 or not system.analytic or expired(deadline) or left <= 0:
        return first
    second = _trace(system, tol=tol, max_iter=left, deadline=deadline, lifted=False)
    best = second if second.status == 0 or np.max(np.abs(second.state.F)) < np.max(np.abs(first.state.F)) else first
    detail = best.detail if best is second and second.status == 0 else best.detail + " (lifted and composed traces)"
    return Outcome(best.state, first.nit + second.nit, best.status, detail)


def _trace(system: RQESystem, *, tol: float, max_iter: int, deadline: float | None, lifted: bool) -> Outcome:
    """Follow the branch from uniform play at payoff scale 0 to the game at scale 1 (module docstring).

    Where the step length underflows (in double precision the branch can have corners: the
    reverse-KL adversary switches on scales far below rounding), the trace restarts just
    beyond the corner from a point found by Newton and the damped fixed point at a slightly
    larger scale, at most ``_JUMPS`` times; such an end point is certified by its residual like
    any other, but it may lie on another branch.

    Returns an :class:`Outcome` at ``s = 1`` (status 0 when Newton's polish reached ``tol``),
    or else the last point of the branch with status 1 (``max_iter`` steps), 3 (the step size
    underflowed) or 5 (``deadline`` passed), and the scale reached in ``detail``.  Its ``nit``
    counts path steps (at most ``max_iter``) plus the iterations of the polish and the jumps
    (at most :data:`EXTRA_ITER`).
    """
    y = np.append(_family(system, 0.0, lifted).lift(system.uniform()), 0.0)
    e_s = np.zeros(len(y))
    e_s[-1] = 1.0
    point = _Point(system, y, lifted)
    t = point.tangent(e_s) if point.finite else None
    h, h_min = 0.1, 1e-10
    status, nit, steps, jumps, landings = 3, 0, 0, 0, 0
    while t is not None:
        if steps >= max_iter:
            status = 1
            break
        if expired(deadline):
            status = 5
            break
        nit, steps = nit + 1, steps + 1
        corrected = _correct(system, y + h * t, t, h, lifted)
        new_t = None if corrected is None else corrected[0].tangent(t)
        if new_t is None or new_t @ t < _MIN_COS:
            h *= 0.5
            if h < h_min * max(1.0, float(np.max(np.abs(y)))):
                jumped, cost = _jump(system, y, tol, deadline, lifted) if jumps < _JUMPS else (None, 0)
                nit += cost
                if jumped is None:
                    break
                y, jumps = jumped, jumps + 1
                point = _Point(system, y, lifted)
                t = point.tangent(e_s) if point.finite else None
                h = 0.1 * (1.0 - float(y[-1]))
            continue
        new, first = corrected
        if new.y[-1] < 0.0:
            break          # back below scale 0, where the only solution is uniform play: the trace reversed
        if new.y[-1] >= 1.0:
            w = (1.0 - y[-1]) / (new.y[-1] - y[-1])
            final, _ = _solve_at(system, (1 - w) * y + w * new.y, tol, deadline, lifted=lifted)
            nit, landings = nit + final.nit, landings + 1
            if final.status == 0:
                return Outcome(final.state, nit, 0, "homotopy in the payoff scale"
                               + (f", {jumps} corner(s) jumped" if jumps else ""))
            h *= 0.5   # land closer to s = 1 and polish again
            if landings >= _LANDINGS or h < h_min * max(1.0, float(np.max(np.abs(y)))):
                break
            continue
        y, t = new.y, new_t
        # The predictor's error grows like h^2: aim its first correction at _TARGET h.
        h *= float(np.clip(np.sqrt(_TARGET * h / max(first, 1e-300)), 0.5, _GROW))
    detail = (f"homotopy in the payoff scale{'' if lifted else ' (composed map)'}, "
              f"stopped at scale {float(y[-1]):.3g} of 1")
    return Outcome(system.evaluate(system.normalize(y[:system.size])), nit, status, detail)


def _jump(system: RQESystem, y: np.ndarray, tol: float, deadline: float | None, lifted: bool) -> tuple[np.ndarray | None, int]:
    """A solution at a scale a little beyond ``y``'s (``y`` is stuck at a corner), or ``None``; and the iterations spent."""
    s = float(y[-1])
    cost = 0
    for fraction in _JUMP_FRACTIONS:
        target = min(1.0, s + fraction * (1.0 - s) + 1e-9)
        outcome, found = _solve_at(system, np.append(y[:-1], target), tol, deadline, lifted=lifted,
                                   fixed_point_too=True)
        cost += outcome.nit
        if outcome.status == 0:
            return np.append(found, target), cost
        if expired(deadline):
            break
    return None, cost


def _solve_at(system: RQESystem, y: np.ndarray, tol: float, deadline: float | None, *,
              lifted: bool, fixed_point_too: bool = False) -> tuple[Outcome, np.ndarray]:
    """Solve at the scale ``y[-1]`` from ``y``: Newton on the lifted system, then on ``z - T(z)``,
    then (optionally) the damped fixed point.  Returns the outcome and the lifted solution."""
    s = float(y[-1])
    family = _family(system, s, lifted)
    at = family.system
    y = y[:-1]
    state = family.evaluate(y)
    norm = float(np.linalg.norm(state.F))
    nit = 0
    for nit in range(1, _LAND_ITERS + 1):
        if norm <= _CORRECTOR_TOL or expired(deadline):
            break
        if family.size <= DENSE_MAX:
            try:
                step = np.linalg.solve(family.jacobian(state), -state.F)
            except np.linalg.LinAlgError:
                break
        else:
            from scipy.sparse.linalg import LinearOperator, gmres  # on first use (import cost)

            op = LinearOperator((family.size, family.size), dtype=float,
                                matvec=lambda v: family.jvp(state, v[None, :])[0])
            step, _ = gmres(op, -state.F, rtol=1e-12, atol=0.0, restart=60, maxiter=20)
        a = 1.0
        while a >= 2.0 ** -20:
            trial = family.evaluate(y + a * step)
            trial_norm = float(np.linalg.norm(trial.F))
            if np.isfinite(trial_norm) and trial_norm < norm:
                break
            a *= 0.5
        else:
            break
        y, state, norm = y + a * step, trial, trial_norm
    z = at.normalize(y[:at.size])
    final = newton(at, z, tol=tol, max_iter=_POLISH, deadline=deadline)
    if final.status != 0 and fixed_point_too:
        final = fixed_point(at, z, tol=tol, max_iter=_JUMP_FIXED_POINT, deadline=deadline)
    return Outcome(final.state, nit + final.nit, final.status, final.detail), family.lift(final.state.z)
