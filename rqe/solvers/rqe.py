"""Risk-averse quantal response equilibria (RQE) and logit QRE of normal-form games.

Implements the equilibrium of Mazumdar, Panaganti and Shi (ICLR 2025, Definition 5) as used
by Qu, Zhang, Lanzetti and Mazumdar, *Training Generalizable Collaborative Agents via
Strategic Risk Aversion* (arXiv 2602.21515), eqs. (1)-(2): each player ``i`` maximises

    U_i^{tau,epsilon}(x_i, x_-i) = min_p E_{x_i, p}[u_i] + (1/tau_i) D(p, x_-i) - epsilon_i nu(x_i),

with the adversary's minimiser in closed form and the quantal response of docs/concepts.md
("Closed forms"), solved as the fixed point ``F(z) = z - T(z) = 0`` in log-probabilities.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, overload

import numpy as np

from rqe._exceptions import ConvergenceWarning, TractabilityWarning
from rqe._frontdoor import gaussian_options
from rqe._threads import hot_loop
from rqe._validation import choice, game_of, is_gaussian, per_player, positive_float, positive_int
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers._anneal import anneal, representable
from rqe.solvers._homotopy import homotopy
from rqe.solvers._iterate import DENSE_MAX, Outcome, expired, fixed_point, newton
from rqe.solvers._logit import LogitFamily
from rqe.solvers._result import EquilibriumResult
from rqe.solvers._small import solve_2x2
from rqe.solvers._system import RQESystem
from rqe.solvers._tracer import StepControl, newton_at, trace
from rqe.solvers._tractability import tractability

if TYPE_CHECKING:
    from rqe.games.gaussian import GaussianGame
    from rqe.solvers.gaussian import GaussianResult

__all__ = ["solve", "solve_qre"]

METHODS = ("auto", "newton", "fixed_point", "homotopy")
_TINY = 1e-300
_FIXED_POINT_ITER = 20      # fixed-point iterations per max_iter unit in the automatic fallback
# What to try next, by method; a message never suggests a method that was just tried.
_REMEDIES = {
    "homotopy": "method='homotopy' (follows the branch from uniform play; globally convergent for generic games; "
                "for large games give it a max_time)",
    "fixed_point": "method='fixed_point' (damped iteration: slow, but robust where the response map is nearly kinked)",
    "newton": "method='newton' from a warm start x0 at nearby parameters (rqe.sweep does this)",
}
_STATUS = {1: "Iteration limit max_iter={max_iter} reached", 2: "Numerical failure", 3: "Path tracing failed",
           5: "Time budget max_time={max_time:g} s spent"}


def _initial_logs(system: RQESystem, x0, func: str) -> np.ndarray:
    if x0 is None:
        return system.uniform()
    if len(x0) != system.N:
        raise ValueError(f"The 'x0' parameter of {func} must hold {system.N} strategies, one per player. "
                         f"Got {len(x0)}.")
    logs = []
    for i, x in enumerate(x0):
        x = np.asarray(x, dtype=float)
        if x.shape != (system.n[i],) or not np.all(np.isfinite(x)) or np.any(x < 0) or x.sum() <= 0:
            raise ValueError(f"The 'x0' parameter of {func} must hold nonnegative vectors; entry {i} must have "
                             f"length {system.n[i]} and a positive sum. Got {x.tolist()}.")
        logs.append(np.log(np.maximum(x / x.sum(), _TINY)))
    return np.concatenate(logs)


def _advice(tried: tuple, status: int, floor: float, tol: float, residual: float) -> str:
    """What to try after a failure: never a method in ``tried``."""
    hints = []
    if floor > 0.1 * tol and residual < 100 * floor:
        hints.append(f"a larger tol (rounding limits the attainable residual to about {floor:.0e} here)")
    if status == 1:
        hints.append("a larger max_iter")
    if status == 5:
        hints.append("a larger max_time")
    hints += [text for name, text in _REMEDIES.items() if name not in tried]
    if "newton" in tried:
        hints.append("a warm start x0 from nearby parameters (rqe.sweep does this)")
    return "Try " + ", or ".join(hints) + "."


def _message(outcome: Outcome, residual: float, tol: float, max_iter: int, *, tried: tuple = (),
             floor: float = 0.0, max_time: float | None = None) -> str:
    if outcome.status == 0 and residual <= tol:
        return f"Converged: residual {residual:.2e} <= tol {tol:.0e} ({outcome.detail}, {outcome.nit} iterations)."
    head = _STATUS.get(outcome.status, "Stopped").format(max_iter=max_iter, max_time=max_time or 0.0)
    if outcome.status == 0:
        head = "Stopped"
    return (f"{head} with residual {residual:.2e} > tol {tol:.0e} ({outcome.detail}). "
            f"{_advice(tried, outcome.status, floor, tol, residual)}")


def _params(system: RQESystem, risk, regularizer, tol) -> dict:
    return {"tau": tuple(float(t) for t in system.tau), "epsilon": tuple(float(e) for e in system.epsilon),
            "risk": getattr(risk, "name", repr(risk)), "regularizer": getattr(regularizer, "name", repr(regularizer)),
            "tol": tol}


def result_from_state(system: RQESystem, outcome: Outcome, *, method: str, tol: float, max_iter: int,
                      risk, regularizer, tried: tuple = (), max_time: float | None = None) -> EquilibriumResult:
    """Package a state of ``system`` as an :class:`EquilibriumResult` with its certificate.

    ``tried`` names the methods already run (the message suggests none of them).  The
    certificate is that of the returned strategies, whose probabilities below the smallest
    double are zero (:func:`rqe.solvers._anneal.representable`).
    """
    state = representable(system, outcome.state)
    residual = system.residual(state)
    if state is not outcome.state and outcome.status == 0 and residual > tol:
        outcome = Outcome(state, outcome.nit, 2, outcome.detail + "; probabilities that underflow to 0 in the "
                          "returned strategies change the residual")
    success = outcome.status == 0 and residual <= tol
    status = outcome.status if outcome.status != 0 or success else 1
    floor = system.rounding_floor()
    adversaries = tuple(
        np.exp(state.log_p[i]).reshape(tuple(system.n[j] for j in system.others[i])) for i in range(system.N))
    message = _message(Outcome(state, outcome.nit, status, outcome.detail), residual, tol, max_iter,
                       tried=tried or (method,), floor=floor, max_time=max_time)
    if not success:
        message = " ".join(filter(None, [message, system.diagnosis(state)]))
    return EquilibriumResult(
        message=message,
        success=success,
        strategies=tuple(np.exp(lx) for lx in state.log_x),
        adversaries=adversaries,
        values=system.values(state),
        residual=residual,
        gap=float(np.max(system.gaps(state))),
        status=status,
        nit=outcome.nit,
        method=method,
        params=_params(system, risk, regularizer, tol),
    )


def _auto(system: RQESystem, z0: np.ndarray, *, tol: float, max_iter: int, deadline: float | None):
    """Newton, then the homotopy, then annealing, then the damped fixed point from the best point so far.

    Above ``DENSE_MAX`` unknowns the homotopy and annealing are skipped (each of their steps
    costs a few Krylov solves, so they can take minutes); the message then suggests the
    homotopy, with ``max_time``.  Every attempt is judged at the strategies it would return
    (:func:`rqe.solvers._anneal.representable`: probabilities that underflow are zero).

    Returns ``(outcome, method, tried)``: the first outcome that converges, else the one with
    the smallest residual (whatever produced it), with every attempt summarised in its detail.
    """
    def certified(outcome: Outcome) -> Outcome:
        state = representable(system, outcome.state)
        if outcome.status == 0 and system.residual(state) > tol:
            return Outcome(state, outcome.nit, 2, f"{outcome.detail} converged only in log-probabilities: "
                           "some are below the smallest double, 0 in the returned strategies")
        return Outcome(state, outcome.nit, outcome.status, outcome.detail)

    attempts = [("newton", certified(newton(system, z0, tol=tol, max_iter=max_iter, deadline=deadline)))]
    if attempts[-1][1].status != 0 and system.size <= DENSE_MAX:
        attempts.append(("homotopy", certified(homotopy(system, tol=tol, max_iter=max_iter, deadline=deadline))))
    if attempts[-1][1].status != 0 and system.size <= DENSE_MAX and not expired(deadline):
        attempts.append(("annealing", certified(anneal(system, tol=tol, max_iter=max_iter, deadline=deadline))))
    if attempts[-1][1].status != 0:
        best = min((o for _, o in attempts), key=lambda o: system.residual(o.state))
        attempts.append(("fixed_point", certified(fixed_point(system, best.state.z, tol=tol,
                                                              max_iter=_FIXED_POINT_ITER * max_iter,
                                                              deadline=deadline))))
    tried = tuple(name for name, _ in attempts)
    nit = sum(o.nit for _, o in attempts)
    name, outcome = attempts[-1]
    detail = outcome.detail
    if outcome.status != 0:
        name, outcome = min(attempts, key=lambda a: system.residual(a[1].state))
        summary = "; ".join(f"{n}: {o.detail}, residual {system.residual(o.state):.1e}" for n, o in attempts)
        detail = f"tried {summary}; kept the point of {name}"
    return Outcome(outcome.state, nit, outcome.status, detail), "+".join(tried), tried


def _deadline(max_time, func: str) -> float | None:
    """The :func:`time.monotonic` value at which a ``max_time`` budget (seconds) runs out."""
    if max_time is None:
        return None
    return time.monotonic() + positive_float(max_time, name="max_time", func=func)


def build_system(game, *, tau, epsilon, risk, regularizer, func: str) -> tuple[RQESystem, object, object]:
    """Validate the common arguments and build the fixed-point system."""
    if is_gaussian(game):      # rqe.solve sends these to solve_gaussian before this point
        raise TypeError(f"{func} does not apply to a rqe.GaussianGame: its RQE is in closed form and unique "
                        f"on the admissible domain; use rqe.solve(game, tau=..., epsilon=...).")
    if not isinstance(game, NormalFormGame):
        accepted = "a rqe.NormalFormGame or rqe.GaussianGame" if func == "rqe.solve" else "a rqe.NormalFormGame"
        raise TypeError(f"The 'game' parameter of {func} must be {accepted}. Got {type(game).__name__} instead.")
    n = game.n_players
    tau = per_player(tau, n, name="tau", func=func)
    epsilon = per_player(epsilon, n, name="epsilon", func=func, low_inclusive=False)
    risk_obj = get_risk(risk, func=func)
    reg_obj = get_regularizer(regularizer, func=func)
    return RQESystem(game, tau, epsilon, risk_obj, reg_obj), risk_obj, reg_obj


@overload
def solve(game: NormalFormGame, *, tau=..., epsilon=..., risk=..., regularizer=..., method: str = ...,
          tol: float = ..., max_iter: int = ..., x0=..., check_tractability: bool = ...,
          max_time: float | None = ...) -> EquilibriumResult: ...


@overload
def solve(game: GaussianGame, *, tau=..., epsilon=..., risk=..., regularizer=..., method: str = ...,
          tol: float = ..., max_iter: int = ..., x0=..., check_tractability: bool = ...,
          max_time: float | None = ...) -> GaussianResult: ...


def solve(game, *, tau=1.0, epsilon=0.1, risk="kl", regularizer="entropy", method: str = "auto",
          tol: float = 1e-10, max_iter: int = 1000, x0=None, check_tractability: bool = False,
          max_time: float | None = None) -> EquilibriumResult | GaussianResult:
    """Compute a risk-averse quantal response equilibrium (RQE).

    Implements Definition 1 of Qu et al. (arXiv 2602.21515), eqs. (1)-(2), for any number of
    players: every player ``i`` plays the regularised best response to an adversary that
    perturbs the *joint* play of the others, penalised by ``D(p, x_-i) / tau_i``.  The
    adversary and the quantal response are in closed form (docs/concepts.md, "Closed forms"), so an RQE is a
    zero of ``F(z) = z - T(z)`` in log-probabilities.

    Parameters
    ----------
    game : NormalFormGame or GaussianGame
        Payoffs are maximised.  A :class:`rqe.GaussianGame` is solved in closed form by
        :func:`rqe.solvers.gaussian.solve_gaussian` (only ``tau``, ``epsilon``, ``tol`` and
        ``max_iter`` apply) and returns a :class:`rqe.solvers.gaussian.GaussianResult`.
    tau : float or array_like, default 1.0
        Degree of risk aversion, ``>= 0``, scalar or one per player; ``0`` is risk-neutral.
    epsilon : float or array_like, default 0.1
        Degree of bounded rationality (temperature), ``> 0``, scalar or one per player.
    risk : {"kl", "reverse_kl"} or object
        The adversary's penalty ``D(p, q)`` (see :mod:`rqe.risk` for the protocol).
    regularizer : {"entropy", "log_barrier"} or object
        The player's regulariser ``nu`` (see :mod:`rqe.regularizers`).
    method : {"auto", "newton", "fixed_point", "homotopy"}
        ``"newton"``: Newton's method with a line search from ``x0`` (uniform play by default).
        ``"fixed_point"``: damped iteration of the response map.  ``"homotopy"``:
        pseudo-arclength continuation from payoff scale 0 (uniform play, unique) to the game,
        which anneals ``epsilon`` from infinity and ``tau`` from 0 to their values; globally
        convergent for generic games.  ``"auto"``: Newton; if it fails, the homotopy, then
        annealing (each player's ``epsilon`` from a common large value down to its own and
        ``tau`` from 0 up to its own, Newton warm-started at every stage; both only up to 500
        unknowns: above, each step costs Krylov solves and can take minutes, so the homotopy is
        left to an explicit ``method="homotopy"``); if those fail too, the damped fixed point
        from the best point so far.  If nothing converges the point with the smallest residual
        is returned.
    tol : float, default 1e-10
        Target for the residual ``max_i ||x_i - QR_i(x)||_1``.
    max_iter : int, default 1000
        Cap on the iterations of each phase (Newton steps, fixed-point steps, path steps); the
        homotopy may add a fixed number of polishing steps (``rqe.solvers._homotopy.EXTRA_ITER``),
        annealing takes at most ``min(max_iter, 150)`` Newton steps and the fixed point of
        ``"auto"`` may take ``20 * max_iter`` cheap steps.
    x0 : sequence of array_like, optional
        Starting strategies (a warm start).
    check_tractability : bool, default False
        For two-player games, warn with a :class:`rqe.TractabilityWarning` when no known
        uniqueness condition holds, or none is known for the risk measure and regulariser
        (:func:`rqe.analysis.tractability`).
    max_time : float, optional
        Time budget in seconds for the whole call (checked once per iteration, so the call
        can overrun it by one iteration).  When it is spent the result has ``status=5`` and
        ``success=False`` unless ``tol`` was already reached.

    Notes
    -----
    Each player's payoffs are centred and rescaled by a power of two before solving, with
    ``tau`` and ``epsilon`` changed to match (``RQE(cA; epsilon, tau) = RQE(A; epsilon / c,
    c tau)``), so that constant offsets (even ``1e12``) and payoff scales cost no accuracy;
    ``values`` and ``gap`` are reported in the game's own units.  The certificate is that of
    the returned strategies: a probability too small for a double (below about ``1e-308``) is
    zero there, and the residual is computed with it at zero, although the solver works with
    log-probabilities that could hold it.

    Two-player games with two actions each and the built-in risk measures and regularizers
    take a scalar fast path (:mod:`rqe.solvers._small`): the same Newton iteration in the two
    log-odds, with the certificate recomputed at the end; anything it does not cover, or a
    Newton run that misses ``tol``, goes to the general path above.

    Returns
    -------
    EquilibriumResult
        ``strategies``, ``adversaries``, ``values`` and the certificate ``residual`` and
        ``gap``; ``success=False`` (with a :class:`rqe.ConvergenceWarning`) if ``tol`` was
        not reached.

    Examples
    --------
    >>> import rqe
    >>> game = rqe.games.catalog.free_riding_game(cost=0.4)
    >>> res = rqe.solve(game, tau=5.0, epsilon=0.2)
    >>> res.success, [round(float(x[0]), 4) for x in res.strategies]
    (True, [0.7268, 0.7268])
    >>> res.residual < 1e-10 and res.gap < 1e-10
    True
    """
    if is_gaussian(game):
        from rqe.solvers.gaussian import solve_gaussian   # loaded with its game only (scipy.linalg)

        gaussian_options("rqe.solve", risk=risk, regularizer=regularizer, method=method, x0=x0,
                         check_tractability=check_tractability, max_time=max_time)
        return solve_gaussian(game, tau=tau, epsilon=epsilon, tol=tol, max_iter=max_iter)
    start = time.monotonic()        # max_time covers the fast path and the general path together
    if not check_tractability:      # 2x2 games with the built-in measures: scalar Newton (rqe.solvers._small)
        fast = solve_2x2(game, tau=tau, epsilon=epsilon, risk=risk, regularizer=regularizer, method=method,
                         tol=tol, max_iter=max_iter, x0=x0, max_time=max_time)
        if fast is not None:
            return fast
    func = "rqe.solve"
    system, risk_obj, reg_obj = build_system(game, tau=tau, epsilon=epsilon, risk=risk,
                                             regularizer=regularizer, func=func)
    choice(method, METHODS, name="method", func=func)
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)
    deadline = None if max_time is None else start + positive_float(max_time, name="max_time", func=func)
    z0 = _initial_logs(system, x0, func)
    # one BLAS thread for the whole solve of a large game (rqe._threads), certificate included
    with hot_loop(max(M.size for M in system.M)), np.errstate(over="ignore", under="ignore"):
        if not np.all(np.isfinite(system.evaluate(system.normalize(z0)).Tz)):
            raise ValueError(f"{func}: the risk measure {risk_obj!r} or the regularizer {reg_obj!r} returned "
                             "non-finite values at the starting point; check their 'adversary' and 'response' methods.")
        if method == "fixed_point":
            outcome = fixed_point(system, z0, tol=tol, max_iter=max_iter, deadline=deadline)
        elif method == "homotopy":
            outcome = homotopy(system, tol=tol, max_iter=max_iter, deadline=deadline)
        elif method == "newton":
            outcome = newton(system, z0, tol=tol, max_iter=max_iter, deadline=deadline)
        if method == "auto":
            outcome, used, tried = _auto(system, z0, tol=tol, max_iter=max_iter, deadline=deadline)
        else:
            used, tried = method, (method,)
        result = result_from_state(system, outcome, method=used, tol=tol, max_iter=max_iter,
                                   risk=risk_obj, regularizer=reg_obj, tried=tried, max_time=max_time)
    if not result.success:
        warnings.warn(result.message, ConvergenceWarning, stacklevel=2)
    if check_tractability and game.n_players == 2:
        verdict = tractability(system.tau, system.epsilon, risk=risk_obj, regularizer=reg_obj)
        if verdict.holds is not True:   # None: no known condition applies to this risk and regulariser
            warnings.warn(verdict.message, TractabilityWarning, stacklevel=2)
    return result


def solve_qre(game, *, epsilon=None, lam=None, method: str = "auto", tol: float = 1e-10,
              max_iter: int = 1000, x0=None, max_time: float | None = None) -> EquilibriumResult:
    """Compute a logit quantal response equilibrium (McKelvey and Palfrey 1995).

    ``x_i = softmax(lam_i * U_i(., x_-i))``: an RQE of ``solve(game, tau=0, epsilon=1/lam,
    regularizer="entropy")`` (SRPO §3).  Where a game has several QRE at ``lam`` the two may
    return different ones: when Newton's method from ``x0`` does not converge within 12 steps,
    ``solve_qre`` returns the end of the principal logit branch (Notes), ``solve`` the first
    equilibrium its own Newton and homotopy reach.

    Parameters
    ----------
    game : NormalFormGame
    epsilon : float or array_like, optional
        Temperature ``> 0`` (scalar or per player).  Give exactly one of ``epsilon``, ``lam``.
    lam : float or array_like, optional
        Precision ``lambda = 1/epsilon > 0`` (scalar or per player).
    method, tol, max_iter, x0, max_time
        As for :func:`solve`.

    Notes
    -----
    With ``method="auto"`` or ``"newton"``, a 2x2 game is first solved by :func:`solve`'s scalar
    Newton; games with up to 500 unknowns (2x2 games where that fails too) are then solved on the
    logit equations written out
    (:mod:`rqe.solvers._logit`, exact Jacobian): Newton's method from ``x0`` (uniform play by
    default) for at most 12 steps and, for ``"auto"``, if it has not converged, the principal
    logit branch traced from ``lam = 0`` (the homotopy of :func:`solve` at ``tau = 0``).  The
    answer is certified by the residual of :func:`solve`'s own system; anything that misses
    ``tol`` goes to :func:`solve` unchanged, with what is left of ``max_time``.

    Examples
    --------
    >>> import rqe
    >>> res = rqe.solve_qre(rqe.games.catalog.battle_of_the_sexes(), lam=2.0)
    >>> [round(float(v), 4) for v in res.strategies[0]]
    [0.5713, 0.4287]
    """
    func = "rqe.solve_qre"
    start = time.monotonic()
    if (epsilon is None) == (lam is None):
        raise ValueError(f"{func} needs exactly one of 'epsilon' and 'lam'. "
                         f"Got epsilon={epsilon!r} and lam={lam!r}.")
    game_of(game, NormalFormGame, func=func)
    if lam is not None:
        epsilon = 1.0 / per_player(lam, game.n_players, name="lam", func=func, low_inclusive=False)
    else:
        epsilon = per_player(epsilon, game.n_players, name="epsilon", func=func, low_inclusive=False)
    if method in ("auto", "newton") and game.n_actions == (2, 2):
        result = solve_2x2(game, tau=0.0, epsilon=epsilon, risk="kl", regularizer="entropy", method=method, tol=tol,
                           max_iter=max_iter, x0=x0, max_time=max_time)
        if result is not None:
            return result
    if method in ("auto", "newton") and sum(game.n_actions) <= DENSE_MAX:
        result = _logit_at(game, epsilon, method=method, tol=tol, max_iter=max_iter, x0=x0, max_time=max_time,
                           start=start)
        if result is not None:
            return result
        if max_time is not None:
            max_time = max(start + max_time - time.monotonic(), _TINY_BUDGET)
    return solve(game, tau=0.0, epsilon=epsilon, risk="kl", regularizer="entropy", method=method, tol=tol,
                 max_iter=max_iter, x0=x0, max_time=max_time)


_QRE_NEWTON = 12          # Newton passes of the logit fast path of solve_qre ...
_QRE_HALVINGS = 4         # ... each halving its step at most this many times
_QRE_POLISH = 1e-3        # one more Newton step when the residual is above this fraction of tol
_QRE_POINT_TOL = 1e-6     # residual of the points on the way to lam when the branch is traced (the end meets tol)
_QRE_STEPS = StepControl(first_step=0.1, max_angle=0.1)   # that trace's steps, in lam * (payoff range)
_TINY_BUDGET = 1e-9       # the budget left to the general path when the fast path spent it all


def _logit_at(game: NormalFormGame, epsilon: np.ndarray, *, method: str, tol, max_iter, x0, max_time,
              start: float) -> EquilibriumResult | None:
    """:func:`solve_qre` on the logit equations of :mod:`rqe.solvers._logit` (Notes there), or ``None``.

    Newton's method from ``x0`` at ``s = max_i lam_i`` times the payoff range (player ``i``'s
    precision is ``s w_i``); for ``"auto"``, if it fails, the branch from ``s = 0`` (its points on
    the way to ``s`` corrected to ``_QRE_POINT_TOL``, its end to ``tol``).  Where the residual
    ends above ``_QRE_POLISH * tol`` one more Newton step is taken if it reduces ``||F||`` (as
    :func:`solve`'s Newton does).  The point is certified
    by :class:`RQESystem`'s residual.  Returns ``None`` when that misses ``tol`` with time left
    (the caller then runs :func:`solve`), a status-5 result once ``max_time`` is spent.
    """
    func = "rqe.solve_qre"
    risk_obj, reg_obj = get_risk("kl", func=func), get_regularizer("entropy", func=func)
    system = RQESystem(game, np.zeros(game.n_players), epsilon, risk_obj, reg_obj)   # epsilon checked by the caller
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)
    deadline = None if max_time is None else start + positive_float(max_time, name="max_time", func=func)
    z0 = _initial_logs(system, x0, func)
    # The equations in s = lam * (payoff range), free of the payoffs' unit: player i's precision is s w_i.
    lam = 1.0 / system.epsilon
    unit = game.payoff_range
    s = float(lam.max()) * unit
    family = LogitFamily(game, lam / s)
    tried: tuple[str, ...] = ("newton",)
    detail = "Newton on the logit equations"
    with hot_loop(family.entries), np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        y, res, converged, nit = newton_at(family, np.append(z0, s), tol, min(max_iter, _QRE_NEWTON),
                                           halvings=_QRE_HALVINGS, deadline=deadline)
        if not converged and method == "auto" and not expired(deadline):
            uniform = np.concatenate([np.full(k, -np.log(k)) for k in game.n_actions])
            path = trace(family, uniform, 0.0, s, tol=tol, max_steps=max_iter, record=False, locate_events=False,
                         control=_QRE_STEPS, deadline=deadline, point_tol=max(tol, _QRE_POINT_TOL))
            tried, detail = ("newton", "homotopy"), "principal logit branch traced from lam = 0"
            nit += path.nit
            if path.status == 0:
                y, res, converged = np.append(path.z[-1], s), path.residual[-1], True
        if converged and res > _QRE_POLISH * tol:
            y = _polish(family, y)
        spent = expired(deadline)
        if not (converged or spent):
            return None
        state = system.evaluate(system.normalize(y[:-1]))
        outcome = Outcome(state, nit, 0 if converged else 5, detail)
        result = result_from_state(system, outcome, method="+".join(tried), tol=tol, max_iter=max_iter,
                                   risk=risk_obj, regularizer=reg_obj, tried=tried, max_time=max_time)
    if result.success:
        return result
    if not spent:
        return None
    warnings.warn(result.message, ConvergenceWarning, stacklevel=3)
    return result


def _polish(family: LogitFamily, y: np.ndarray) -> np.ndarray:
    """One more Newton step in ``z`` at fixed ``s``, kept if it reduces ``||F||``."""
    F, J, _, _ = family.jacobian(y, evaluated=True)
    try:
        delta = np.linalg.solve(J[:, :-1], -F)
    except np.linalg.LinAlgError:
        return y
    trial = y.copy()
    trial[:-1] += delta
    F_t = family.evaluate(trial)[0]
    return trial if np.all(np.isfinite(F_t)) and F_t @ F_t < F @ F else y
