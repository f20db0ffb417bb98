"""Annealing for :func:`rqe.solve` where Newton cannot start, and certificates of what doubles can hold.

Annealing (:func:`anneal`).  Natural-parameter continuation from an easy problem to the asked
one, in the normalised units of :class:`rqe.solvers._system.RQESystem` (payoff spread about 1).
Along ``theta`` in ``[0, 1]`` every player's parameters move from a common start to their own
values:

    log epsilon_i(theta) = (1 - theta) log epsilon_0 + theta log epsilon_i,
    log(1 + tau_i(theta)) = theta log(1 + tau_i),

with ``epsilon_0 = max(1, max_i epsilon_i)``, so the first stage is the same for every player
(risk-neutral, with a temperature at which the quantal response map is a contraction for payoff
spreads near 1), ``epsilon`` falls geometrically and ``tau`` rises from 0 geometrically in
``1 + tau``.  Unlike the payoff-scale homotopy (:mod:`rqe.solvers._homotopy`), which keeps each
player's ratio ``epsilon_i / epsilon_j`` and product ``tau_i epsilon_i`` fixed, this path starts
every player from the same parameters, so players whose parameters are far apart do not start
at the far corner.  Each stage is solved by Newton's method in log coordinates, warm-started from
a secant predictor through the last two stages; a stage that fails halves the step, one that
succeeds doubles it (at most ``_MAX_STAGES`` stages and ``min(max_iter, _MAX_NEWTON)`` Newton
steps in all).  The last stage is accepted only if its representable point (below) reaches ``tol``.

Certificates (:func:`representable`).  The solver works with log-probabilities, which can hold
``exp(-4000)``; the strategies it returns are doubles, in which that is ``0``.  A risk-averse
player's adversary can weigh such an action heavily (the entropic adversary multiplies its
probability by ``exp(tau g)``, the reverse-KL adversary does not charge for it at all), so the
residual of the log-space point and that of the returned strategies can differ by ``O(1)`` in
either direction.  :func:`representable` re-evaluates the map with every probability that
underflows set to zero (a log of :func:`floor`, at most ``-1000``), so the certificate is that
of the strategies returned.  This is the support detection of issue 17: probabilities far below machine
precision are recognised as absent, not carried as phantom logs.
"""

from __future__ import annotations

import numpy as np

from rqe.solvers._iterate import Outcome, expired, newton
from rqe.solvers._system import RQESystem, State

_FLOOR = -1000.0           # at most the log of a probability that is exactly zero in the returned strategies
_MAX_STAGES = 200          # stages of one anneal
_STAGE_ITER = 15           # Newton steps per stage
_FIRST_STEP = 0.125
_MIN_STEP = 2.0 ** -10     # a smaller step in theta means the path has a corner: give up
_MAX_NEWTON = 150          # Newton steps of one anneal (and at most max_iter)
_STAGE_TOL = 1e-9          # residual asked of the intermediate stages (the last one asks tol)


def representable(system: RQESystem, state: State) -> State:
    """``state`` re-evaluated with every probability that is ``0`` as a double set to zero (module docstring)."""
    dead = np.concatenate([np.exp(lx) == 0.0 for lx in state.log_x])
    if not dead.any():
        return state
    z = np.where(dead, floor(system), np.concatenate(state.log_x))
    return system.evaluate(z)


def floor(system: RQESystem) -> float:
    """A log-probability that acts as zero in ``system``'s map, while logs stay exact to rounding.

    An entropic adversary multiplies a probability by at most ``exp(tau spread)`` (normalised
    units), so ``_FLOOR - 2 tau spread`` keeps it below ``exp(-1000)`` of the others; the
    reverse-KL adversary reaches its limit at ``q -> 0`` (mass on the cheapest absent action,
    :class:`rqe.risk.ReverseKL`) for any such ``q``, and a log this size keeps ``log q - log w``
    exact to about ``|floor| * 1e-16`` (``-inf`` would be exact but makes ``x log x`` undefined,
    and ``-1e300`` loses every digit of ``log w``).
    """
    spread = max(float(np.ptp(M)) for M in system.M)
    with np.errstate(over="ignore", invalid="ignore"):
        worst = float(2.0 * system.scale * np.max(system.tau_n) * spread)
    return _FLOOR - (worst if np.isfinite(worst) else 0.0)


def _stage(system: RQESystem, theta: float, eps0: float) -> RQESystem:
    """The system at ``theta`` (module docstring), in the user's units as :class:`RQESystem` expects."""
    if theta >= 1.0:
        return system
    eps_n = np.exp((1.0 - theta) * np.log(eps0) + theta * np.log(system.eps_n))
    tau_n = np.expm1(theta * np.log1p(system.tau_n))
    return RQESystem(system.game, tau_n / system.unit, eps_n * system.unit, system.risk, system.regularizer)


def anneal(system: RQESystem, *, tol: float, max_iter: int, deadline: float | None = None) -> Outcome:
    """Continuation in ``(epsilon, tau)`` from a common easy problem to ``system`` (module docstring).

    Returns an :class:`Outcome` of ``system``: status 0 when the last stage reached ``tol``
    (certified on the representable point, :func:`representable`), else the last stage's point
    with status 1 (``min(max_iter, _MAX_NEWTON)`` Newton steps or ``_MAX_STAGES`` stages), 3 (the step in
    ``theta`` fell below ``_MIN_STEP``) or 5 (``deadline``), and the ``theta`` reached in
    ``detail``.
    """
    with np.errstate(over="ignore"):
        eps0 = float(max(1.0, np.max(system.eps_n)))
    if not np.isfinite(eps0):
        eps0 = 1.0
    theta, h = 0.0, _FIRST_STEP
    max_iter = min(max_iter, _MAX_NEWTON)
    first = newton(_stage(system, 0.0, eps0), system.uniform(), tol=_STAGE_TOL,
                   max_iter=min(_STAGE_ITER, max_iter), deadline=deadline)
    nit, stages, status = first.nit, 1, 3
    z, z_prev, h_prev = first.state.z, None, 1.0      # h_prev is read only once z_prev is set
    if first.status != 0:
        status = first.status
    else:
        while True:
            if stages >= _MAX_STAGES or nit >= max_iter:
                status = 1
                break
            if expired(deadline):
                status = 5
                break
            target = min(1.0, theta + h)
            last = target >= 1.0
            at = _stage(system, target, eps0)
            stage_tol = tol if last else max(tol, _STAGE_TOL)
            guesses = [z] if z_prev is None else [z + (z - z_prev) * ((target - theta) / h_prev), z]
            for guess in guesses:      # the secant predictor can overshoot a turn: then restart from z
                out = newton(at, guess, tol=stage_tol, max_iter=min(_STAGE_ITER, max_iter - nit), deadline=deadline)
                nit += out.nit
                if out.status == 0 or nit >= max_iter:
                    break
            stages += 1
            ok = out.status == 0
            if ok and last:
                final = representable(system, system.evaluate(out.state.z))
                if system.residual(final) <= tol:
                    return Outcome(final, nit, 0, f"annealing in (epsilon, tau), {stages} stages")
                ok = False
            if ok:
                z_prev, h_prev, z, theta = z, target - theta, out.state.z, target
                h = min(2.0 * h, 0.5)
            else:
                h *= 0.5
                if h < _MIN_STEP:
                    status = 3
                    break
    return Outcome(system.evaluate(z), nit, status,
                   f"annealing in (epsilon, tau), stopped at theta {theta:.3g} of 1 after {stages} stages")
