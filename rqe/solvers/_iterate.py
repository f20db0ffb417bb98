"""Local solvers for ``F(z) = z - T(z) = 0``: damped fixed point and globalised Newton.

Both return an :class:`Outcome`; neither raises on non-convergence.  Both stop after
``max_iter`` iterations or, when a ``deadline`` (a :func:`time.monotonic` value) is given, at
the first iteration that starts after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
_TOL_SHARE = 0.5         # Newton-GMRES solves each step to the share of tol it predicts the step leaves
_SINGLE_PROGRESS = 0.5   # ... with single-precision products while each full step at least halves ||F||
_SINGLE_MAP = 1e-6       # ... and single-precision trial maps while the next step aims above this residual
_RESTART = 60            # Krylov vectors per GMRES cycle
_CYCLES = 20             # GMRES cycles per Newton step


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


def _gmres(apply: Callable[[np.ndarray], np.ndarray], b: np.ndarray, rtol: float) -> np.ndarray | None:
    """Restarted GMRES for ``A x = b`` from ``x = 0``, stopped at ``||b - A x|| <= rtol ||b||``.

    Arnoldi with classical Gram-Schmidt applied twice, and Givens rotations of the Hessenberg
    matrix, whose rotated right-hand side gives the residual norm without a product (Saad and
    Schultz 1986, *SIAM J. Sci. Stat. Comput.* 7:856-869).  From ``x = 0`` the first residual
    is ``b``, so a cycle costs one product per Krylov vector and a restart one more; at most
    ``_CYCLES`` cycles of ``_RESTART`` vectors.  Returns the last iterate when the cap is hit
    (the line search judges it), ``None`` when a product or the iterate is not finite.
    """
    target = rtol * float(np.linalg.norm(b))
    x = np.zeros_like(b)
    r = b
    for cycle in range(_CYCLES):
        beta = float(np.linalg.norm(r))
        if not np.isfinite(beta):
            return None
        if beta <= target or beta == 0.0:
            return x
        V = np.empty((_RESTART + 1, b.size))
        H = np.zeros((_RESTART + 1, _RESTART))
        cs, sn = np.zeros(_RESTART), np.zeros(_RESTART)
        g = np.zeros(_RESTART + 1)
        g[0] = beta
        V[0] = r / beta
        k = 0
        for j in range(_RESTART):
            w = apply(V[j])
            if not np.all(np.isfinite(w)):
                return None
            h = V[:j + 1] @ w
            w = w - h @ V[:j + 1]
            again = V[:j + 1] @ w            # second pass: orthogonal to rounding
            w -= again @ V[:j + 1]
            column = np.append(h + again, np.linalg.norm(w))
            for i in range(j):               # earlier rotations
                column[i], column[i + 1] = (cs[i] * column[i] + sn[i] * column[i + 1],
                                            cs[i] * column[i + 1] - sn[i] * column[i])
            d = float(np.hypot(column[j], column[j + 1]))
            if d == 0.0:                     # singular Hessenberg: keep the first j vectors
                break
            cs[j], sn[j] = column[j] / d, column[j + 1] / d
            H[:j + 1, j] = column[:j + 1]
            H[j, j] = d
            g[j + 1] = -sn[j] * g[j]
            g[j] *= cs[j]
            k = j + 1
            if abs(g[k]) <= target or column[j + 1] == 0.0:
                break
            V[j + 1] = w / column[j + 1]
        if k == 0:
            return x
        y = _back_substitute(H[:k, :k], g[:k])
        x = x + y @ V[:k]
        if not np.all(np.isfinite(x)):
            return None
        if abs(g[k]) <= target or cycle == _CYCLES - 1:
            return x
        r = b - apply(x)
    return x


def _back_substitute(R: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve the upper-triangular system ``R y = g`` (``R`` has a nonzero diagonal)."""
    y = np.empty_like(g)
    for i in range(len(g) - 1, -1, -1):
        y[i] = (g[i] - R[i, i + 1:] @ y[i + 1:]) / R[i, i]
    return y


def _newton_direction(system: RQESystem, state: State, rtol: float = 1e-12,
                      single: bool = False) -> np.ndarray | None:
    """Solve ``F'(z) step = -F(z)``: exactly (dense LU) or to relative residual ``rtol`` (GMRES,
    with the payoff products in single precision when ``single``)."""
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
    precision = np.float32 if single else float
    return _gmres(lambda v: v - system.jvp(state, v[None, :].astype(precision, copy=False))[0], -state.F, rtol)


def newton(system: RQESystem, z0: np.ndarray, *, tol: float, max_iter: int,
           deadline: float | None = None) -> Outcome:
    """Newton's method on ``F`` with an Armijo backtracking line search on ``||F||_2``.

    Dense LU for up to ``DENSE_MAX`` unknowns: once the residual is below ``tol`` one more
    step is taken when it still reduces ``||F||`` (quadratic convergence makes it cheap).
    Above, inexact Newton: restarted GMRES (:func:`_gmres`) with analytic Jacobian-vector
    products, solved to the relative residual ``eta_k`` of Eisenstat and Walker (1996, *SIAM J.
    Sci. Comput.* 17:16-32, choice 2 with ``gamma = 0.9``, ``alpha = 2`` and their safeguard),
    but never below ``_TOL_SHARE * tol / residual``: the residual is nearly proportional to
    ``||F||``, so a step solved further would only overshoot ``tol``.  No extra step after
    convergence: each Krylov iteration costs a Jacobian-vector product (four products with the
    payoff matrices for two players).  The Krylov products are formed in single precision
    (half the memory traffic; their relative error, about ``1e-7``, only perturbs the step,
    while ``F`` and the certificate stay in double precision) as long as every full step at
    least halves ``||F||`` (``_SINGLE_PROGRESS``) and the products stay finite; otherwise the
    rest of the solve uses double precision.  While single precision is in use, the map at a
    trial point whose next step still aims above ``_SINGLE_MAP`` in residual (typically the
    first step from uniform play) is evaluated with single-precision products too; every
    outcome is re-evaluated in double precision.  Large games run with
    one BLAS thread (:mod:`rqe._threads`).
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
    single = inexact and system.analytic
    # An early trial may be evaluated with single-precision products when even the step after it aims
    # far above their error (measured at about 1e-9 in residual on 1000 x 1000 games; it grows with the
    # amplification that the rounding floor measures, hence the 1e4 floors).
    map_floor = max(_SINGLE_MAP, 1e4 * system.rounding_floor()) if single else np.inf
    for k in range(1, max_iter + 1):
        done = converged(system, state, tol)
        if state.single and (done or not single):
            state = system.evaluate(state.z)      # certificates and late steps: double precision
            norm = float(np.linalg.norm(state.F))
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
            return _double(system, Outcome(state, k - 1, 5, "Newton"))
        window = _STALL_INEXACT if inexact else _STALL
        if not done and k > window and norm > 0.5 * history[-window - 1]:
            return _double(system, Outcome(state, k - 1, 2, f"Newton (||F|| fell by less than half in {window} steps)"))
        map_single = False
        if inexact:
            # no more accuracy than tol needs: the residual is nearly proportional to ||F||
            residual = system.residual(state)
            rtol = min(_ETA_MAX, max(eta, _TOL_SHARE * tol / residual))
            step = _newton_direction(system, state, rtol, single)
            if step is None and single:
                single = False
                step = _newton_direction(system, state, rtol)
            map_single = single and _GAMMA * rtol ** 3 * residual >= map_floor
        else:
            step = _newton_direction(system, state)
        if step is None:
            return _double(system, Outcome(state, k - 1, 0 if done else 2, "Newton (singular Jacobian)"))
        a = 1.0
        while True:
            trial = system.evaluate(system.normalize(state.z + a * step), single=map_single)
            trial_norm = float(np.linalg.norm(trial.F))
            if np.isfinite(trial_norm) and trial_norm <= (1 - _ARMIJO * a) * norm:
                break
            a *= 0.5
            if done:
                return Outcome(state, k - 1, 0, "Newton")
            if a < _MIN_STEP:
                return _double(system, Outcome(state, k - 1, 2, "Newton (line search stalled)"))
        if single and (a < 1.0 or trial_norm > _SINGLE_PROGRESS * norm):
            single = False       # the rounded products may be what holds the step back
        state, norm = trial, trial_norm
        history.append(norm)
        if done:
            return Outcome(state, k, 0, "Newton")
    outcome = _double(system, Outcome(state, max_iter, 1, "Newton-GMRES" if inexact else "Newton"))
    outcome.status = 0 if converged(system, outcome.state, tol) else 1
    return outcome


def _double(system: RQESystem, outcome: Outcome) -> Outcome:
    """``outcome`` with its state evaluated in double precision (certificates are computed from it)."""
    if outcome.state.single:
        outcome.state = system.evaluate(outcome.state.z)
    return outcome
