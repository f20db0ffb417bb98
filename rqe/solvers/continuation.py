"""Equilibrium paths: the principal logit-QRE branch in ``lam`` and RQE branches in ``tau``.

Both are traced by pseudo-arclength continuation (:mod:`rqe.solvers._tracer`) of the
fixed-point system of :mod:`rqe.solvers._system`, so they pass through folds (turning
points), which are recorded with the bifurcations met on the way.

The logit branch follows McKelvey and Palfrey (1995, *GEB* 10:6-38) and Turocy (2005,
*GEB* 51:243-263): at ``lam = 0`` the unique QRE is uniform play, and the branch leaving it
converges, as ``lam -> inf``, to a Nash equilibrium (the limiting logit equilibrium).
"""

from __future__ import annotations


import numpy as np
from scipy.optimize import root

from rqe._validation import game_of, per_player, positive_float, positive_int, renamed
from rqe.games.normal_form import NormalFormGame
from rqe.solvers._regret import max_regret
from rqe.solvers._result import Path, PathEvent
from rqe.solvers._logit import LogitFamily
from rqe.solvers._system import RQESystem
from rqe.solvers._tracer import StepControl, newton_at, trace
from rqe.solvers.rqe import _deadline, build_system, solve

__all__ = ["qre_path", "rqe_path", "nash_from_qre"]

_SUPPORT = 1e-6


def _package(n_actions, path, *, name: str, success: bool, message: str, params: dict) -> Path:
    n = tuple(n_actions)
    offsets = np.concatenate([[0], np.cumsum(n)]).astype(int)
    Z = np.array(path.z).reshape(len(path.z), offsets[-1])
    blocks = []
    for i in range(len(n)):
        b = Z[:, offsets[i]:offsets[i + 1]]
        e = np.exp(b - b.max(axis=1, keepdims=True))
        blocks.append(e / e.sum(axis=1, keepdims=True))
    events = tuple(PathEvent(kind, float(s), int(k)) for kind, s, k in path.events)
    return Path(message=message, success=success, parameter=np.array(path.s),
                strategies=tuple(blocks), residual=np.array(path.residual),
                events=events, status=path.status, nit=path.nit, params={**params, "parameter": name})


def _accel(value, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 1:
        raise ValueError(f"The 'max_accel' parameter of {func} must be a float > 1. Got {value!r} instead.")
    return float(value)


def _budget_spent(path, name: str, max_time: float | None) -> str:
    return (f"Time budget max_time={max_time:g} s spent at {name} = {path.s[-1]:.4g} after {path.nit} steps; the "
            "points traced so far are kept. Try a larger max_time.")


_TAIL_POINTS = 3          # points of the tail whose lam * regret must agree before the jump
_TAIL_SPREAD = 0.02       # relative spread of lam * regret over those points
_TAIL_MARGIN = 1.25       # the jump aims at lam_end * this, so that the regret ends below its target
_TAIL_GAIN = 4.0          # jump only when lam_end exceeds the last lam by this factor
_TAIL_MATCH = 1e-3        # largest change of a probability between the tail model and the solved end
_TAIL_NEWTON = 8          # Newton passes allowed at the end of the jump
_TAIL_SUPPORT = 1e-4      # probabilities above this at the last point are the support (log-probability a + d / lam)
_TAIL_DROPPED = 1e-8      # ... and below this the dropped actions; none may lie in between
_LOG_SUPPORT, _LOG_DROPPED = float(np.log(_TAIL_SUPPORT)), float(np.log(_TAIL_DROPPED))


def _tail_jump(family, history, target: float, lam_max: float, tol: float):
    """Jump from the asymptotic tail of the logit branch to where its regret reaches ``target``.

    Near a regular Nash equilibrium the principal branch converges at rate ``1 / lam``
    (McKelvey and Palfrey 1995, Theorem 3; Turocy 2005, Section 3): the Nash max regret times
    ``lam`` tends to a constant, the log-probabilities of the support tend to constants as
    ``a + d / lam`` and those of the other actions fall linearly, ``a + b lam + d / lam``.
    Once ``lam * regret`` agrees within ``_TAIL_SPREAD`` over the last ``_TAIL_POINTS`` points,
    the log-probabilities are fitted by these forms (the support: probabilities above
    ``_TAIL_SUPPORT``; least squares) and the equations are
    solved by Newton's method at ``lam_end = _TAIL_MARGIN * lam * regret / target`` from the
    fit.  The tail must be settled: regret falling, and no probability between ``_TAIL_DROPPED``
    and ``_TAIL_SUPPORT``.  The end is kept only if Newton converges within ``_TAIL_NEWTON`` passes, its regret
    is below ``target`` and its probabilities are within ``_TAIL_MATCH`` of the fit's (the
    same branch).  Returns ``(y, residual, passes)``, ``False`` after a failed attempt (the
    trace goes on step by step) or ``None`` when the tail is not settled (no attempt).
    """
    if len(history) < _TAIL_POINTS:
        return None
    last = history[-_TAIL_POINTS:]
    products = [lam * regret for lam, _, regret in last]         # Python floats: this runs at every point
    if not (all(a[0] < b[0] and a[2] > b[2] for a, b in zip(last, last[1:])) and min(products) > 0
            and max(products) <= (1.0 + _TAIL_SPREAD) * min(products)):
        return None
    lam_end = min(_TAIL_MARGIN * products[-1] / target, lam_max)
    if lam_end < _TAIL_GAIN * last[-1][0]:
        return None
    z_last = last[-1][1]
    if ((z_last < _LOG_SUPPORT) & (z_last > _LOG_DROPPED)).any():
        return None                                   # unsettled: an action on its way out of the support
    lams, zs = np.array([h[0] for h in last]), np.array([h[1] for h in last])
    scale = lams[-1]
    V = np.column_stack([np.ones(len(lams)), lams / scale, scale / lams])
    coef = np.linalg.solve(V, zs)
    guess = coef[0] + coef[1] * (lam_end / scale) + coef[2] * (scale / lam_end)
    support = zs[-1] > _LOG_SUPPORT                  # no linear term: a + d / lam, by least squares
    coef2 = np.linalg.lstsq(V[:, [0, 2]], zs[:, support], rcond=None)[0]
    guess[support] = coef2[0] + coef2[1] * (scale / lam_end)
    with np.errstate(over="ignore", invalid="ignore"):
        y, res, converged, passes = newton_at(family, np.append(guess, lam_end), tol, _TAIL_NEWTON, halvings=6)
    if not converged or family.regret(y) > target:
        return False
    o = family.offsets
    for i in range(family.N):
        a, b = y[o[i]:o[i + 1]], guess[o[i]:o[i + 1]]
        xa, xb = np.exp(a - a.max()), np.exp(b - b.max())
        if np.abs(xa / xa.sum() - xb / xb.sum()).max() > _TAIL_MATCH:
            return False
    return y, res, passes


def qre_path(game: NormalFormGame, *, lam_max: float = 1e9, weights=None, regret_tol: float = 1e-8,
             max_steps: int = 5000, tol: float = 1e-10, first_step: float = 0.03, max_accel: float = 2.0,
             max_step: float | None = None, max_time: float | None = None, tail_jump: bool = True) -> Path:
    """Trace the principal branch of logit QRE from ``lam = 0`` towards a Nash equilibrium.

    Player ``i`` uses precision ``lam_i = lam * weights[i]``.  The trace stops when ``lam``
    reaches ``lam_max`` or when the QRE's Nash max regret, relative to the payoff range
    (:attr:`rqe.NormalFormGame.payoff_range`, the largest ``max - min`` of any player's payoffs;
    Gambit's ``maxregret`` takes the span of all players' payoffs together), falls below
    ``regret_tol``.  The branch is followed in ``(log x, lam)`` by pseudo-arclength
    continuation with the exact Jacobian (:mod:`rqe.solvers._tracer`).

    Parameters
    ----------
    game : NormalFormGame
    lam_max : float, default 1e9
    weights : array_like, optional
        Relative precision of each player (default all 1).
    regret_tol : float, default 1e-8
        Relative Nash max regret at which the trace ends.
    max_steps : int, default 5000
    tol : float, default 1e-10
        Target residual ``max_i ||x_i - QR_i(x)||_1`` of every recorded point.  Where rounding
        alone exceeds it (around ``lam * max|u| > 1e6``), points are accepted at the rounding
        floor, ``64 eps (1 + lam max|u|)``; ``Path.residual`` holds each point's value.
    first_step : float, default 0.03
        Arclength of the first step.
    max_accel : float, default 2.0
        Largest factor by which the step grows from one point to the next (and shrinks on a
        rejected step); ``1.1`` is Gambit's default, larger values take fewer points.
    max_step : float, optional
        Largest arclength step (default unbounded).
    max_time : float, optional
        Time budget in seconds, checked once per step; when it is spent the trace stops with
        ``status=5`` and ``success=False``, keeping the points traced so far.
    tail_jump : bool, default True
        Once the branch is in its asymptotic tail (``lam`` times the regret constant over
        three points), fit the tail and solve directly at the ``lam`` where the regret reaches
        ``regret_tol`` instead of stepping there (the end is checked: same branch, regret
        below the target; otherwise the trace goes on step by step).  The recorded path then
        has no points between the jump's two ends.

    Returns
    -------
    Path
        ``parameter`` is ``lam``; ``events`` lists folds (where the branch turns back in ``lam``)
        and branch points; ``params["regret"]`` is the last point's Nash max regret and
        ``params["relative_regret"]`` the same divided by the payoff range.

    Examples
    --------
    The principal branch of the battle of the sexes keeps the game's symmetry and ends at the
    mixed equilibrium; the other branches split off at a pitchfork:

    >>> import rqe
    >>> path = rqe.qre_path(rqe.games.catalog.battle_of_the_sexes())
    >>> path.success, [round(float(x[-1][0]), 4) for x in path.strategies]
    (True, [0.6, 0.4])
    >>> [e.kind for e in path.events]
    ['branch_point']
    """
    func = "rqe.qre_path"
    game_of(game, NormalFormGame, func=func)
    lam_max = positive_float(lam_max, name="lam_max", func=func)
    regret_tol = positive_float(regret_tol, name="regret_tol", func=func)
    max_steps = positive_int(max_steps, name="max_steps", func=func)
    tol = positive_float(tol, name="tol", func=func)
    first_step = positive_float(first_step, name="first_step", func=func)
    max_step = np.inf if max_step is None else positive_float(max_step, name="max_step", func=func)
    max_accel = _accel(max_accel, func)
    weights = per_player(1.0 if weights is None else weights, game.n_players, name="weights", func=func,
                         low_inclusive=False)
    deadline = _deadline(max_time, func)
    family = LogitFamily(game, weights)
    offsets = family.offsets
    spread = game.payoff_range

    def softmax_blocks(z):
        return [np.exp(b - b.max()) / np.exp(b - b.max()).sum()
                for b in (z[offsets[i]:offsets[i + 1]] for i in range(game.n_players))]

    target = regret_tol * spread
    history, jump, retry = [], [], [0.0]

    def nash_close(z, lam):
        regret = family.regret((z, lam))
        if regret <= target:
            return True
        if tail_jump:
            history.append((lam, z.copy(), regret))
            if lam >= retry[0]:
                end = _tail_jump(family, history, target, lam_max, tol)
                if end is False:
                    retry[0] = 2.0 * lam        # a failed jump is retried once lam has doubled
                elif end is not None:
                    jump.append(end)
                    return True
        return False

    uniform = np.concatenate([np.full(k, -np.log(k)) for k in game.n_actions])
    control = StepControl(first_step=first_step, max_step=max_step, max_accel=max_accel)
    path = trace(family, uniform, 0.0, lam_max, tol=tol, max_steps=max_steps, stop=nash_close,
                 s_range=(-1e-9, np.inf), control=control, deadline=deadline)
    if jump:
        y, res, passes = jump[0]
        path.s.append(float(y[-1]))
        path.z.append(y[:-1].copy())
        path.residual.append(res)
        path.nit += passes
    done = path.status == 0
    regret = max_regret(game, softmax_blocks(path.z[-1])) if path.z else np.nan
    relative = regret / spread if spread > 0 else 0.0
    message = (f"Traced the principal logit branch to lam = {path.s[-1]:.4g} in {path.nit} steps; "
               f"the last point's Nash max regret is {regret:.2e} ({relative:.2e} of the payoff range)."
               if done else _budget_spent(path, "lam", max_time) if path.status == 5 else
               f"The trace stopped at lam = {path.s[-1]:.4g} (status {path.status}) after {path.nit} steps; "
               "try a larger max_steps, a smaller max_accel or first_step, or a smaller lam_max.")
    return _package(game.n_actions, path, name="lam", success=done, message=message,
                    params={"weights": tuple(map(float, weights)), "lam_max": lam_max, "regret": regret,
                            "relative_regret": relative, "regret_tol": regret_tol, "tol": tol,
                            "tail_jump": bool(jump)})


def nash_from_qre(game: NormalFormGame, **path_options) -> tuple[tuple, float, Path]:
    """A Nash equilibrium as the limit of the principal logit-QRE branch, polished on its support.

    Works for any number of players.  The support is read off the end of :func:`qre_path`;
    the indifference equations on that support are then solved by Powell's hybrid method
    from the path's last point.  Returns ``(strategies, max_regret, path)``.
    """
    path = qre_path(game, **path_options)
    start = [b[-1] for b in path.strategies]
    supports = [np.flatnonzero(x > _SUPPORT) for x in start]
    N = game.n_players

    def unpack(v):
        xs, k = [], 0
        for i, S in enumerate(supports):
            x = np.zeros(game.n_actions[i])
            x[S] = v[k:k + len(S)]
            xs.append(x)
            k += len(S)
        return xs

    def equations(v):
        xs = unpack(v)
        eqs = []
        for i in range(N):
            others = [xs[j] for j in range(N) if j != i]
            q = others[0]
            for o in others[1:]:
                q = np.multiply.outer(q, o).ravel()
            u = game.own_rows[i][supports[i]] @ q
            eqs.extend(u[1:] - u[0])
            eqs.append(xs[i].sum() - 1.0)
        return np.array(eqs)

    v0 = np.concatenate([x[S] for x, S in zip(start, supports)])
    sol = root(equations, v0, method="hybr", tol=1e-15)
    polished = [np.clip(x, 0.0, None) / np.clip(x, 0.0, None).sum() for x in unpack(sol.x)]
    regret_polished, regret_path = max_regret(game, polished), max_regret(game, start)
    if sol.success and regret_polished <= regret_path:
        return tuple(polished), regret_polished, path
    return tuple(start), regret_path, path


@renamed("rqe.rqe_path", tau="tau_span")
def rqe_path(game: NormalFormGame, *, tau_span=(0.0, 10.0), epsilon=0.1, risk="kl", regularizer="entropy",
             direction=None, x0=None, max_steps: int = 2000, tol: float = 1e-10, first_step: float | None = None,
             max_step: float | None = None, max_accel: float = 2.0, max_time: float | None = None) -> Path:
    """Trace an RQE branch as the common risk aversion ``tau`` moves from ``tau_span[0]`` to ``tau_span[1]``.

    Player ``i`` has risk aversion ``tau * direction[i]``.  The branch starts at the equilibrium
    :func:`rqe.solve` finds at ``tau_span[0]`` from ``x0`` (at ``tau_span[0] = 0`` this is a logit QRE;
    pass ``x0`` to start on another one, for example an element of :func:`rqe.solve_all`).
    Folds, where the branch turns back and equilibria merge, and branch points, where
    branches cross (the pitchfork of Example 5), are reported as ``events``.  A branch that
    folds back out of the interval ends there with ``status=4``.

    Parameters
    ----------
    game : NormalFormGame
    tau_span : (float, float)
        Start and end of the risk-aversion parameter, both ``>= 0`` (formerly ``tau``, a
        deprecated alias for one release).
    epsilon, risk, regularizer
        As for :func:`rqe.solve`.
    direction : array_like, optional
        Relative risk aversion of each player (default all 1).
    x0 : sequence of array_like, optional
        Starting point for the first equilibrium.
    max_steps : int, default 2000
    tol : float, default 1e-10
        Target residual of every recorded point.
    first_step, max_step : float, optional
        Arclength of the first step and largest step, in units of ``tau`` (defaults: 2% and 5%
        of the ``tau`` range).  The branch is traced in ``(log x, tau * R)`` with ``R`` the
        largest payoff range, so that the steps do not depend on the unit of the payoffs.
    max_accel : float, default 2.0
        Largest factor by which the step grows from one point to the next.
    max_time : float, optional
        Time budget in seconds, counted from the call (the starting solve, capped by its own
        iterations, counts against it) and checked once per step of the trace; when it is
        spent the trace stops with ``status=5`` and ``success=False``, keeping the points
        traced so far.

    Returns
    -------
    Path
        ``parameter`` is ``tau``.

    Examples
    --------
    Starting from a free-riding QRE of Example 5, the branch folds back where it merges with
    the symmetric branch:

    >>> import rqe
    >>> game = rqe.games.catalog.free_riding_game()
    >>> path = rqe.rqe_path(game, tau_span=(0.0, 5.0), epsilon=0.2, x0=[[0.2, 0.8], [0.9, 0.1]])
    >>> [(e.kind, round(e.parameter, 3)) for e in path.events][:1]
    [('fold', 0.829)]
    """
    func = "rqe.rqe_path"
    if np.ndim(tau_span) != 1 or len(tau_span) != 2:
        raise ValueError(f"The 'tau_span' parameter of {func} must be a pair (start, stop). Got {tau_span!r} "
                         "instead.")
    t0, t1 = (float(v) for v in per_player(tau_span, 2, name="tau_span", func=func))
    max_steps = positive_int(max_steps, name="max_steps", func=func)
    max_accel = _accel(max_accel, func)
    tol = positive_float(tol, name="tol", func=func)
    deadline = _deadline(max_time, func)
    # The trace runs in r = tau * (payoff range), free of the payoffs' unit (docs/results.md).
    unit = game.payoff_range
    span = max(abs(t1 - t0) * unit, 1e-3)
    first_step = 0.02 * span if first_step is None else positive_float(first_step, name="first_step", func=func) * unit
    max_step = 0.05 * span if max_step is None else positive_float(max_step, name="max_step", func=func) * unit
    system, risk_obj, reg_obj = build_system(game, tau=0.0, epsilon=epsilon, risk=risk, regularizer=regularizer,
                                             func=func)
    weights = per_player(1.0 if direction is None else direction, game.n_players, name="direction", func=func)
    start = solve(game, tau=t0 * weights, epsilon=system.epsilon, risk=risk_obj, regularizer=reg_obj, x0=x0,
                  tol=tol)
    if not start.success:
        raise ValueError(f"{func} could not compute the starting RQE at tau = {t0}: {start.message}")

    def at(r):
        return RQESystem(game, r / unit * weights, system.epsilon, risk_obj, reg_obj)

    z0 = np.log(np.concatenate(start.strategies))
    lo, hi = min(t0, t1), max(t0, t1)
    control = StepControl(first_step=first_step, max_step=max_step, max_accel=max_accel)
    path = trace(at, z0, t0 * unit, t1 * unit, tol=tol, max_steps=max_steps, s_range=(lo * unit, hi * unit),
                 control=control, deadline=deadline)
    path.s, path.events = [r / unit for r in path.s], [(kind, r / unit, k) for kind, r, k in path.events]
    done = path.status == 0
    folds = [e for e in path.events if e[0] == "fold"]
    if done:
        message = f"Traced the branch from tau = {t0:g} to {t1:g} in {path.nit} steps."
    elif path.status == 4:
        message = (f"The branch folded back at tau = {folds[-1][1]:.6g} and left [{lo:g}, {hi:g}] "
                   f"after {path.nit} steps." if folds else
                   f"The branch left [{lo:g}, {hi:g}] after {path.nit} steps.")
    elif path.status == 5:
        message = _budget_spent(path, "tau", max_time)
    else:
        message = f"The trace stopped (status {path.status}) after {path.nit} steps; try a larger max_steps."
    params = {"epsilon": tuple(map(float, system.epsilon)), "direction": tuple(map(float, weights)),
              "risk": risk_obj.name if hasattr(risk_obj, "name") else repr(risk_obj),
              "regularizer": reg_obj.name if hasattr(reg_obj, "name") else repr(reg_obj)}
    return _package(game.n_actions, path, name="tau", success=done or (path.status == 4 and bool(folds)), message=message,
                    params=params)
