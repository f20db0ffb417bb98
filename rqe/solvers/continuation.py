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

from rqe._validation import per_player, positive_float, positive_int
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import Entropy
from rqe.risk import KL
from rqe.solvers._result import Path, PathEvent
from rqe.solvers._system import RQESystem
from rqe.solvers._tracer import trace
from rqe.solvers.rqe import build_system, solve

__all__ = ["qre_path", "rqe_path", "nash_from_qre"]

_SUPPORT = 1e-6


def _package(system_at, path, *, name: str, success: bool, message: str, params: dict) -> Path:
    n = system_at(path.s[0]).n if path.s else ()
    blocks = [[] for _ in n]
    offsets = np.concatenate([[0], np.cumsum(n)]).astype(int)
    for z in path.z:
        for i in range(len(n)):
            b = z[offsets[i]:offsets[i + 1]]
            blocks[i].append(np.exp(b - b.max()) / np.exp(b - b.max()).sum())
    events = tuple(PathEvent(kind, float(s), int(k)) for kind, s, k in path.events)
    return Path(message=message, success=success, parameter=np.array(path.s),
                strategies=tuple(np.array(b) for b in blocks), residual=np.array(path.residual),
                events=events, status=path.status, nit=path.nit, params={**params, "parameter": name})


def max_regret(game: NormalFormGame, strategies) -> float:
    """Largest gain of a pure deviation for any player (the Nash certificate)."""
    worst = 0.0
    for i, M in enumerate(game.own_rows):
        others = [strategies[j] for j in range(game.n_players) if j != i]
        q = others[0]
        for o in others[1:]:
            q = np.multiply.outer(q, o).ravel()
        u = M @ q
        worst = max(worst, float(u.max() - strategies[i] @ u))
    return worst


def qre_path(game: NormalFormGame, *, lam_max: float = 1e9, weights=None, regret_tol: float = 1e-8,
             max_steps: int = 5000, tol: float = 1e-10) -> Path:
    """Trace the principal branch of logit QRE from ``lam = 0`` towards a Nash equilibrium.

    Player ``i`` uses precision ``lam_i = lam * weights[i]``.  The trace stops when ``lam``
    reaches ``lam_max`` or when the QRE's Nash max regret falls below ``regret_tol``.

    Parameters
    ----------
    game : NormalFormGame
    lam_max : float, default 1e9
    weights : array_like, optional
        Relative precision of each player (default all 1).
    regret_tol : float, default 1e-8
    max_steps : int, default 5000
    tol : float, default 1e-10
        Corrector tolerance on the log-space fixed-point equations.

    Returns
    -------
    Path
        ``parameter`` is ``lam``; ``events`` lists folds (where the branch turns back in ``lam``).

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
    if not isinstance(game, NormalFormGame):
        raise TypeError(f"The 'game' parameter of {func} must be a rqe.NormalFormGame. Got {type(game).__name__} instead.")
    lam_max = positive_float(lam_max, name="lam_max", func=func)
    regret_tol = positive_float(regret_tol, name="regret_tol", func=func)
    max_steps = positive_int(max_steps, name="max_steps", func=func)
    weights = per_player(1.0 if weights is None else weights, game.n_players, name="weights", func=func,
                         low_inclusive=False)
    eps = 1.0 / weights
    tau = np.zeros(game.n_players)

    def at(lam):
        return RQESystem(game, tau, eps, KL(), Entropy(), scale=lam)

    offsets = np.concatenate([[0], np.cumsum(game.n_actions)]).astype(int)

    def nash_close(z, lam):
        xs = [np.exp(z[offsets[i]:offsets[i + 1]]) for i in range(game.n_players)]
        return max_regret(game, [x / x.sum() for x in xs]) <= regret_tol

    path = trace(at, at(0.0).uniform(), 0.0, lam_max, tol=tol, h0=0.05, h_max=np.inf, max_steps=max_steps,
                 stop=nash_close, s_range=(-1e-9, np.inf))
    done = path.status == 0
    final = [b[-1] for b in _package(at, path, name="lam", success=done, message="", params={}).strategies]
    regret = max_regret(game, final)
    message = (f"Traced the principal logit branch to lam = {path.s[-1]:.4g} in {path.nit} steps; "
               f"the last point's Nash max regret is {regret:.2e}." if done else
               f"The trace stopped at lam = {path.s[-1]:.4g} (status {path.status}) after {path.nit} steps; "
               "try a larger max_steps or a smaller lam_max.")
    return _package(at, path, name="lam", success=done, message=message,
                    params={"weights": tuple(map(float, weights)), "lam_max": lam_max, "regret": regret})


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


def rqe_path(game: NormalFormGame, *, tau=(0.0, 10.0), epsilon=0.1, risk="kl", regularizer="entropy",
             direction=None, x0=None, max_steps: int = 2000, tol: float = 1e-10) -> Path:
    """Trace an RQE branch as the common risk aversion ``tau`` moves from ``tau[0]`` to ``tau[1]``.

    Player ``i`` has risk aversion ``tau * direction[i]``.  The branch starts at the equilibrium
    :func:`rqe.solve` finds at ``tau[0]`` from ``x0`` (at ``tau[0] = 0`` this is a logit QRE;
    pass ``x0`` to start on another one, for example an element of :func:`rqe.solve_all`).
    Folds, where the branch turns back and equilibria merge, and branch points, where
    branches cross (the pitchfork of Example 5), are reported as ``events``.  A branch that
    folds back out of the interval ends there with ``status=4``.

    Parameters
    ----------
    game : NormalFormGame
    tau : (float, float)
        Start and end of the risk-aversion parameter, both ``>= 0``.
    epsilon, risk, regularizer
        As for :func:`rqe.solve`.
    direction : array_like, optional
        Relative risk aversion of each player (default all 1).
    x0 : sequence of array_like, optional
        Starting point for the first equilibrium.
    max_steps : int, default 2000
    tol : float, default 1e-10

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
    >>> path = rqe.rqe_path(game, tau=(0.0, 5.0), epsilon=0.2, x0=[[0.2, 0.8], [0.9, 0.1]])
    >>> [(e.kind, round(e.parameter, 3)) for e in path.events][:1]
    [('fold', 0.829)]
    """
    func = "rqe.rqe_path"
    if np.ndim(tau) != 1 or len(tau) != 2:
        raise ValueError(f"The 'tau' parameter of {func} must be a pair (start, stop). Got {tau!r} instead.")
    t0, t1 = (float(v) for v in per_player(tau, 2, name="tau", func=func))
    max_steps = positive_int(max_steps, name="max_steps", func=func)
    system, risk_obj, reg_obj = build_system(game, tau=0.0, epsilon=epsilon, risk=risk, regularizer=regularizer,
                                             func=func)
    weights = per_player(1.0 if direction is None else direction, game.n_players, name="direction", func=func)
    start = solve(game, tau=t0 * weights, epsilon=system.epsilon, risk=risk_obj, regularizer=reg_obj, x0=x0,
                  tol=tol)
    if not start.success:
        raise ValueError(f"{func} could not compute the starting RQE at tau = {t0}: {start.message}")

    def at(t):
        return RQESystem(game, t * weights, system.epsilon, risk_obj, reg_obj)

    z0 = np.log(np.concatenate(start.strategies))
    lo, hi = min(t0, t1), max(t0, t1)
    path = trace(at, z0, t0, t1, tol=tol, h0=0.02 * max(hi - lo, 1e-3), h_max=0.05 * max(hi - lo, 1e-3),
                 max_steps=max_steps, s_range=(lo, hi))
    done = path.status == 0
    folds = [e for e in path.events if e[0] == "fold"]
    if done:
        message = f"Traced the branch from tau = {t0:g} to {t1:g} in {path.nit} steps."
    elif path.status == 4:
        message = (f"The branch folded back at tau = {folds[-1][1]:.6g} and left [{lo:g}, {hi:g}] "
                   f"after {path.nit} steps." if folds else
                   f"The branch left [{lo:g}, {hi:g}] after {path.nit} steps.")
    else:
        message = f"The trace stopped (status {path.status}) after {path.nit} steps; try a larger max_steps."
    params = {"epsilon": tuple(map(float, system.epsilon)), "direction": tuple(map(float, weights)),
              "risk": risk_obj.name if hasattr(risk_obj, "name") else repr(risk_obj),
              "regularizer": reg_obj.name if hasattr(reg_obj, "name") else repr(reg_obj)}
    return _package(at, path, name="tau", success=done or (path.status == 4 and bool(folds)), message=message,
                    params=params)
