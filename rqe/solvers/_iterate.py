"""Local solvers for ``F(z) = z - T(z) = 0``: damped fixed point and globalised Newton.

Both return an :class:`Outcome`; neither raises on non-convergence.  Both stop after
``max_iter`` iterations or, when a ``deadline`` (a :func:`time.monotonic` value) is given, at
the first iteration that starts after it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rqe._threads import hot_loop
from rqe.solvers._system import RQESystem, State

DENSE_MAX = 500          # largest system solved with a dense Jacobian; above, matrix-free GMRES
_ARMIJO = 1e-4
_MIN_STEP = 2.0 ** -30
_STALL = 20              # Newton gives up when ||F|| has not halved over this many steps
_STALL_INEXACT = 10      # the same for Newton-GMRES, whose steps cost far more
_FP_STALL = 200          # the fixed point gives up when its best residual has not fallen 10% over this many
_ETA_MAX = 0.1           # Eisenstat-Walker forcing terms of inexact Newton-GMRES
_ETA_MIN = 1e-12
_GAMMA = 0.9


@dataclass
class Outcome:
    state: State
    nit: int
    status: int          # 0 converged, 1 iteration limit, 2 numerical failure, 3 path failed, 5 time limit
    detail: str


def expired(deadline: float | None) -> bool:
    """True once ``time.monotonic()`` has passed ``deadline`` (never when it is ``None``)."""
    return deadline is not None and time.monotonic() > deadline


def converged(system: RQESystem, state: State, tol: float) -> bool:
    return system.residual(state) <= tol


def _entries(system: RQESystem) -> int:
    return max(M.size for M in system.M)


def fixed_point(system: RQESystem, z0: np.ndarray, *, tol: float, max_iter: int,
                damping: float = 1.0, deadline: float | None = None) -> Outcome:
    """Damped iteration ``z <- z + a (T(z) - z)`` in log coordinates with adaptive ``a``.

    The damping halves whenever the residual grows and recovers slowly otherwise
    (Mazumdar, Panaganti and Shi's gradient play, in closed form).  Large games run with one BLAS
    thread (:mod:`rqe._threads`).  Gives up (status 2) when the best residual has not fallen
    by 10% over ``_FP_STALL`` steps.
    """
    with hot_loop(_entries(system)):
        return _fixed_point(system, z0, tol=tol, max_iter=max_iter, damping=damping, deadline=deadline)


def _fixed_point(system: RQESystem, z0: np.ndarray, *, tol: float, max_iter: int, damping: float,
                 deadline: float | None) -> Outcome:
    state = system.evaluate(system.normalize(z0))
    a = damping
    res = system.residual(state)
    best = [res]
    for k in range(1, max_iter + 1):
        if res <= tol:
            return Outcome(state, k - 1, 0, "damped fixed point")
        if expired(deadline):
            return Outcome(state, k - 1, 5, f"damped fixed point (final damping {a:.2g})")
        best.append(min(best[-1], res))
        if k > _FP_STALL and best[-1] > 0.9 * best[-_FP_STALL - 1]:
            return Outcome(state, k - 1, 2, f"damped fixed point (no progress in {_FP_STALL} steps)")
        trial = system.evaluate(system.normalize(state.z + a * (state.Tz - state.z)))
        res_trial = system.residual(trial)
        if res_trial < res or a < 1e-6:
            state, res = trial, res_trial
            a = min(damping, 1.25 * a)
        else:
            a *= 0.5
    status = 0 if res <= tol else 1
    return Outcome(state, max_iter, status, f"damped fixed point (final damping {a:.2g})")


def _newton_direction(system: RQESystem, state: State, rtol: float = 1e-12) -> np.ndarray | None:
    """Solve ``F'(z) step = -F(z)``: exactly (dense LU) or to relative residual ``rtol`` (GMRES)."""
    if system.size <= DENSE_MAX:
        # numpy's solver, not scipy's: the two wheels bundle separate OpenBLAS thread pools that
        # contend on small machines (scipy/scipy#15129), and the Jacobian is built with numpy.
        J = system.jacobian(state)
        if not np.all(np.isfinite(J)):
            return None
        try:
            step = np.linalg.solve(J, -state.F)
        except np.linalg.LinAlgError:
            return None
        return step if np.all(np.isfinite(step)) else None
    from scipy.sparse.linalg import LinearOperator, gmres  # on first use: scipy costs ~0.3 s at import

    op = LinearOperator((system.size, system.size), dtype=float,
                        matvec=lambda v: v - system.jvp(state, v[None, :])[0])
    step, info = gmres(op, -state.F, rtol=rtol, atol=0.0, restart=60, maxiter=20)
    return step if np.all(np.isfinite(step)) else None


def newton(system: RQESystem, z0: np.ndarray, *, tol: float, max_iter: int,
           deadline: float | None = None) -> Outcome:
    """Newton's method on ``F`` with an Armijo backtracking line search on ``||F||_2``.

    Dense LU for up to ``DENSE_MAX`` unknowns: once the residual is below ``tol`` one more
    step is taken when it still reduces ``||F||`` (quadratic convergence makes it cheap).
    Above, inexact Newton: restarted GMRES with exact Jacobian-vector products, solved to the
    relative residual ``eta_k`` of Eisenstat and Walker (1996, *SIAM J. Sci. Comput.*
    17:16-32, choice 2 with ``gamma = 0.9``, ``alpha = 2`` and their safeguard), and no extra
    step after convergence: each Krylov iteration costs a Jacobian-vector product (four
    products with the payoff matrices for two players).  Large games run with one BLAS
    thread (:mod:`rqe._threads`).
    Gives up (status 2) when ``||F||`` has not halved over ``_STALL`` steps (``_STALL_INEXACT``
    for Newton-GMRES).
    """
    with hot_loop(_entries(system)):
        return _newton(system, z0, tol=tol, max_iter=max_iter, deadline=deadline)


def _newton(system: RQESystem, z0: np.ndarray, *, tol: float, max_iter: int,
            deadline: float | None = None) -> Outcome:
    state = system.evaluate(system.normalize(z0))
    norm = float(np.linalg.norm(state.F))
    history = [norm]
    inexact = system.size > DENSE_MAX
    eta, previous = _ETA_MAX, None
    for k in range(1, max_iter + 1):
        done = converged(system, state, tol)
        if inexact:
            if done:
                return Outcome(state, k - 1, 0, "Newton-GMRES")
            if previous is not None:
                safeguard = _GAMMA * eta ** 2
                eta = _GAMMA * (norm / previous) ** 2
                eta = max(eta, safeguard) if safeguard > 0.1 else eta
                eta = min(_ETA_MAX, max(eta, _ETA_MIN))
            previous = norm
        if not done and expired(deadline):
            return Outcome(state, k - 1, 5, "Newton")
        window = _STALL_INEXACT if inexact else _STALL
        if not done and k > window and norm > 0.5 * history[-window - 1]:
            return Outcome(state, k - 1, 2, f"Newton (||F|| fell by less than half in {window} steps)")
        step = _newton_direction(system, state, eta if inexact else 1e-12)
        if step is None:
            return Outcome(state, k - 1, 0 if done else 2, "Newton (singular Jacobian)")
        a = 1.0
        while True:
            trial = system.evaluate(system.normalize(state.z + a * step))
            trial_norm = float(np.linalg.norm(trial.F))
            if np.isfinite(trial_norm) and trial_norm <= (1 - _ARMIJO * a) * norm:
                break
            a *= 0.5
            if done:
                return Outcome(state, k - 1, 0, "Newton")
            if a < _MIN_STEP:
                return Outcome(state, k - 1, 2, "Newton (line search stalled)")
        state, norm = trial, trial_norm
        history.append(norm)
        if done:
            return Outcome(state, k, 0, "Newton")
    status = 0 if converged(system, state, tol) else 1
    return Outcome(state, max_iter, status, "Newton-GMRES" if inexact else "Newton")
