"""One player's risk-averse quantal best response to fixed strategies of the others.

Player ``i``'s best response to ``x_-i`` maximises its regularised risk-adjusted utility
(Qu, Zhang, Lanzetti and Mazumdar, arXiv 2602.21515, eqs. 1-2; docs/concepts.md,
"Risk-averse quantal response equilibrium (RQE)"):

    U_i^tau(x_i, x_-i)       = min_p  x_i . M_i p + (1/tau_i) D(p, x_-i),
    U_i^{tau,eps}(x_i, x_-i) = U_i^tau(x_i, x_-i) - epsilon_i nu(x_i),

where ``M_i`` holds player ``i``'s payoffs against the others' joint actions.  ``U_i^tau`` is
concave in ``x_i`` (a minimum of linear functions) and ``nu`` strictly convex, so for
``epsilon_i > 0`` the maximiser is unique.  With the adversary's minimiser ``p*(x_i)`` in closed
form (:mod:`rqe.risk`) and ``G = M_i p*`` the gradient of ``U_i^tau`` (Danskin), it is the
fixed point ``x_i = QR(G(x_i))`` of the quantal response (:mod:`rqe.regularizers`): the
one-player block of the map that :func:`rqe.solve` solves for all players at once.

Three cases:

* ``tau_i = 0``: ``p* = x_-i``, so the response is in closed form: the logit response
  ``softmax(M_i x_-i / epsilon_i)`` for the entropy (McKelvey and Palfrey's logit QRE has each
  player play it, ``lambda = 1 / epsilon``), ``epsilon_i / (lambda - M_i x_-i)`` for the log-barrier.
* ``tau_i > 0``: Newton's method on ``F(z) = z - T(z)`` in the log-probabilities ``z`` with a
  backtracking line search on ``||F||``; where the line search fails, a damped step
  ``z + a (T(z) - z)`` (mirror ascent on the objective for the entropy) with ``a`` halved until
  the objective rises.  In 2x2 games with the built-in risk measures and regularisers (and a
  fully mixed partner) the root is found first in the one log-odds, by Newton's method on the
  scalar closed forms of :func:`rqe.solvers._small.player_map` safeguarded by bisection on the
  bracket that the response's range gives; the certificate is then recomputed in numpy.
* ``epsilon_i = 0`` and ``tau_i = 0``: the Nash best response.  Every mixture of the
  maximisers of ``M_i x_-i`` is one; the one returned is uniform over them, the limit of the
  logit response as ``epsilon_i -> 0``.

Payoffs are centred and rescaled per player as in :mod:`rqe.solvers._system` (the response is
invariant to the offset, and ``(tau, epsilon)`` move with the scale), and the value and the
certificate are reported in the game's units.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from rqe._exceptions import ConvergenceWarning
from rqe._numeric import log_probs_of_odds, logsumexp
from rqe._validation import game_of, per_player, plain, positive_float, positive_int
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers._result import Result
from rqe.solvers._small import SCALAR_FAILURES, SmallSystem, player_map
from rqe.solvers._system import joint_sum, normalised_rows

__all__ = ["BestResponseResult", "best_response"]

_FUNC = "rqe.best_response"
_SIMPLEX_TOL = 1e-8       # a strategy must sum to 1 within this
_TIE_TOL = 1e-12          # Nash best response: actions within this (times the payoff range) of the best
_ARMIJO = 1e-4
_HALVINGS = 30            # line-search halvings of a Newton step, and of a damped step
_FD_STEP = 1e-7
_SCALAR_STEPS = 200       # cap of the safeguarded scalar Newton iteration (2x2 games)


@dataclass(frozen=True)
class BestResponseResult(Result):
    """One player's best response to fixed strategies of the others, with its certificate.

    Attributes
    ----------
    message : str
        What happened, and what to try when ``success`` is false.
    success : bool
        True when ``residual <= tol`` (always for the closed forms).
    strategy : ndarray
        The best response ``x_i``, length ``n_i``.
    adversary : ndarray
        The adversary's distribution over the *joint* actions of the others (one axis per
        other player, in increasing order) in reply to ``strategy``; the product of the
        others' strategies when ``tau_i = 0``.
    value : float
        The objective ``U_i^{tau,epsilon}(strategy, x_-i)`` (a regularised risk-adjusted value,
        not a payoff).
    payoff : float
        The expected payoff ``E[u_i]`` of ``strategy`` against the others' actual strategies.
    residual : float
        ``||x_i - QR_i(x)||_1``: the distance from ``strategy`` to the quantal response to its
        adversary (0 for the Nash best response, which is exact).
    gap : float
        Upper bound on ``max_x U_i^{tau,epsilon}(x, x_-i) - value``: the duality gap of the
        player's max-min problem, in payoff units (for the Nash best response, the regret of
        ``strategy``).
    status : Status
        0 solved, 1 iteration limit, 2 numerical failure (the line search stalled, a singular
        Jacobian or a non-finite iterate).
    nit : int
        Newton and damped steps taken (0 for the closed forms).
    method : str
        ``"closed_form"`` (``tau_i = 0``), ``"nash"`` (``tau_i = epsilon_i = 0``) or ``"newton"``.
    params : dict
        ``player``, ``tau``, ``epsilon`` (per player, as validated), ``risk``, ``regularizer``, ``tol``.
    """

    message: str
    success: bool
    strategy: np.ndarray
    adversary: np.ndarray = field(repr=False)
    value: float = 0.0
    payoff: float = 0.0
    residual: float = 0.0
    gap: float = 0.0
    status: int = 0
    nit: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)


@dataclass
class _Point:
    """One evaluation of player ``i``'s response map at ``z`` (normalised units)."""

    z: np.ndarray
    log_x: np.ndarray
    log_p: np.ndarray
    G: np.ndarray
    Tz: np.ndarray

    @property
    def F(self) -> np.ndarray:
        return self.z - self.Tz


class _Response:
    """Player ``i``'s response map against fixed others, its derivative and its objective."""

    def __init__(self, M, log_q, tau, epsilon, risk, regularizer):
        self.M, self.log_q, self.tau, self.eps = M, log_q, tau, epsilon
        self.risk, self.reg = risk, regularizer
        self.analytic = hasattr(risk, "adversary_jvp") and hasattr(regularizer, "response_jvp")

    def evaluate(self, z: np.ndarray) -> _Point:
        log_x = z - logsumexp(z)
        log_p = self.risk.adversary(np.exp(log_x) @ self.M, self.log_q, self.tau)
        G = self.M @ np.exp(log_p)
        return _Point(z, log_x, log_p, G, self.reg.response(G, self.eps))

    def jacobian(self, pt: _Point) -> np.ndarray:
        """``dF/dz`` with ``F(z) = z - T(z)`` (nonsingular along ``z + c``, where ``T`` is constant)."""
        n = len(pt.z)
        if self.analytic:
            x = np.exp(pt.log_x)
            du = np.eye(n) - x[:, None]                 # row k: derivative of log x along e_k
            dg = (du * x) @ self.M
            dp = self.risk.adversary_jvp(pt.log_p, self.log_q, self.tau, np.zeros((n, len(self.log_q))), dg)
            dT = self.reg.response_jvp(pt.Tz, self.eps, dp @ self.M.T)
        else:
            h = _FD_STEP
            dT = np.array([(self.evaluate(pt.z + h * e).Tz - self.evaluate(pt.z - h * e).Tz) / (2 * h)
                           for e in np.eye(n)])
        return np.eye(n) - dT.T

    def objective(self, pt: _Point) -> float:
        """``U^{tau,eps}`` at ``pt`` in normalised units."""
        x = np.exp(pt.log_x)
        penalty = self.risk.penalty(pt.log_p, self.log_q) / self.tau if self.tau > 0 else 0.0
        return float(x @ pt.G + penalty - self.eps * self.reg.value(pt.log_x))

    def residual(self, pt: _Point) -> float:
        return float(np.abs(np.exp(pt.log_x) - np.exp(pt.Tz)).sum())


def _step(system: _Response, pt: _Point, norm: float) -> tuple[_Point, str] | None:
    """A Newton step with backtracking on ``||F||``, else a damped step that raises the objective."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            J = system.jacobian(pt)
        direction = np.linalg.solve(J, -pt.F) if np.all(np.isfinite(J)) else None
    except np.linalg.LinAlgError:
        direction = None
    if direction is not None and np.all(np.isfinite(direction)):
        a = 1.0
        for _ in range(_HALVINGS):
            trial = system.evaluate(pt.z + a * direction)
            trial_norm = float(np.linalg.norm(trial.F))
            if np.isfinite(trial_norm) and trial_norm <= (1 - _ARMIJO * a) * norm:
                return trial, "newton"
            a *= 0.5
    base = system.objective(pt)
    a = 1.0
    for _ in range(_HALVINGS):
        trial = system.evaluate(pt.z + a * (pt.Tz - pt.z))
        if np.all(np.isfinite(trial.Tz)) and system.objective(trial) > base:
            return trial, "damped"
        a *= 0.5
    return None


def _solve(system: _Response, z0: np.ndarray, tol: float, max_iter: int) -> tuple[_Point, int, int, str]:
    """``(point, nit, status, detail)``: Newton's method with the damped fallback (module docstring)."""
    pt = system.evaluate(z0)
    norm = float(np.linalg.norm(pt.F))
    damped = 0
    for k in range(max_iter):
        done = system.residual(pt) <= tol
        taken = _step(system, pt, norm)
        if taken is None:
            detail = "the line search stalled" if not done else ""
            return pt, k, 0 if done else 2, detail
        trial, kind = taken
        trial_norm = float(np.linalg.norm(trial.F))
        if done:            # one more step while it still reduces ||F||: converged Newton makes it cheap
            return (trial, k + 1, 0, "") if kind == "newton" and trial_norm < norm else (pt, k, 0, "")
        damped += kind == "damped"
        pt, norm = trial, trial_norm
    status = 0 if system.residual(pt) <= tol else 1
    return pt, max_iter, status, f"{damped} damped steps" if damped else ""


def _scalar_response(small: SmallSystem, i: int, l_partner: float, lo: float,
                     hi: float) -> tuple[float, int] | None:
    """2x2 games: ``(l, steps)`` with ``l`` the response log-odds, the root of ``k(l) = T(l) - l`` on
    ``[lo, hi]``, or ``None``.

    ``T`` maps into ``[lo, hi]`` (the responses to the extreme payoff differences), so
    ``k(lo) >= 0 >= k(hi)`` and the root is bracketed; Newton's method on the scalar closed
    forms of :func:`rqe.solvers._small.player_map`, safeguarded by bisection.  ``None`` where those
    formulas leave their range (the general iteration then takes over).
    """
    if hi - lo <= 1e-14 * max(1.0, abs(lo)):
        return lo, 0
    m, tau, eps, (risk, reg) = small.M[i], small.tau_n[i], small.eps_n[i], small.names
    a, b = lo, hi
    x = min(max(0.0, lo), hi)
    try:
        for step in range(1, _SCALAR_STEPS + 1):
            T, dT, _, _ = player_map(x, l_partner, m, tau, eps, risk, reg)
            k = T - x
            if k == 0:
                return x, step
            if k > 0:
                a = x
            else:
                b = x
            dk = dT - 1.0
            new = x - k / dk if dk < 0 else a
            if a < new < b:
                done = abs(new - x) <= 4e-16 * (1.0 + abs(x))
            else:
                new = 0.5 * (a + b)
                done = b - a <= 1e-15 * (1.0 + abs(new))
            x = new
            if done:
                return x, step
    except SCALAR_FAILURES:
        return None
    return None


def _strategies(game: NormalFormGame, strategies, player: int) -> list:
    """The others' strategies as float arrays, checked (``strategies[player]`` may be ``None``)."""
    N, n = game.n_players, game.n_actions
    if not isinstance(strategies, (list, tuple)) or len(strategies) != N:
        got = f"{type(strategies).__name__}" + (f" of length {len(strategies)}" if hasattr(strategies, "__len__")
                                                else "")
        raise ValueError(f"The 'strategies' parameter of {_FUNC} must be a sequence of {N} mixed strategies, one "
                         f"per player (None allowed at the responding player). Got {got} instead.")
    out: list[np.ndarray | None] = []
    for j, x in enumerate(strategies):
        if j == player and x is None:
            out.append(None)
            continue
        try:
            arr = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"The 'strategies' parameter of {_FUNC}: entry {j} must be an array of numbers. "
                            f"Got {plain(x)!r} instead.") from None
        if arr.shape != (n[j],):
            raise ValueError(f"The 'strategies' parameter of {_FUNC}: entry {j} must have shape ({n[j]},), one "
                             f"probability per action of player {j}. Got shape {arr.shape} instead.")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0) or abs(arr.sum() - 1.0) > _SIMPLEX_TOL:
            raise ValueError(f"The 'strategies' parameter of {_FUNC}: entry {j} must be a probability vector "
                             f"(finite, nonnegative, summing to 1 within {_SIMPLEX_TOL:g}). Got {arr.tolist()} "
                             "instead.")
        out.append(arr / arr.sum())
    return out


def best_response(game: NormalFormGame, strategies, *, player: int, tau=1.0, epsilon=0.1, risk="kl",
                  regularizer="entropy", tol: float = 1e-10, max_iter: int = 100) -> BestResponseResult:
    """Player ``player``'s risk-averse quantal best response to the others' mixed strategies.

    Maximises ``U_i^{tau,epsilon}(x_i, x_-i) = min_p x_i . M_i p + D(p, x_-i) / tau_i -
    epsilon_i nu(x_i)`` over the simplex (Qu et al., arXiv 2602.21515, eqs. 1-2): the map whose
    fixed points are the RQE of :func:`rqe.solve`.  ``tau_i = 0`` gives the regularised
    (quantal) response in closed form: with the entropy, the logit response
    ``softmax(M_i x_-i / epsilon_i)`` of the logit QRE (``lambda = 1/epsilon``);
    ``tau_i = epsilon_i = 0`` gives the Nash best response (uniform over the best actions, the
    ``epsilon -> 0`` limit of the logit response).  ``tau_i > 0`` is solved by Newton's method
    with a line search (:mod:`rqe.solvers.response`).

    Parameters
    ----------
    game : NormalFormGame
        Payoffs are maximised.
    strategies : sequence of array_like
        One mixed strategy per player; ``strategies[player]`` is not used (it may be ``None``;
        if given it is checked like the others).
    player : int
        The responding player, ``0 <= player < game.n_players``.
    tau : float or array_like, default 1.0
        Degree of risk aversion, ``>= 0``, scalar or one per player (only ``tau[player]`` is used).
    epsilon : float or array_like, default 0.1
        Temperature, ``>= 0``, scalar or one per player (only ``epsilon[player]`` is used);
        ``0`` only with ``tau[player] = 0`` (otherwise the maximiser need not be unique).
    risk : {"kl", "reverse_kl"} or object
        The adversary's penalty ``D`` (:mod:`rqe.risk`).
    regularizer : {"entropy", "log_barrier"} or object
        The player's regulariser ``nu`` (:mod:`rqe.regularizers`).
    tol : float, default 1e-10
        Target for ``residual`` (``tau[player] > 0``).
    max_iter : int, default 100
        Cap on the Newton and damped steps.

    Returns
    -------
    BestResponseResult
        ``strategy``, ``adversary``, ``value``, ``payoff`` and the certificate ``residual`` and
        ``gap``; ``success=False`` (with a :class:`rqe.ConvergenceWarning`) if ``tol`` was not reached.

    Raises
    ------
    TypeError
        If ``game`` is not a :class:`rqe.NormalFormGame`, or for non-numeric strategies.
    ValueError
        For a bad ``player``, strategies of the wrong number or shape or off the simplex, or
        invalid ``tau``, ``epsilon``, ``risk``, ``regularizer``, ``tol`` or ``max_iter``.

    Examples
    --------
    In the stag hunt, against a partner who hunts stag with probability 0.6, a risk-neutral
    logit player hunts stag more often than a risk-averse one:

    >>> import rqe
    >>> game = rqe.games.catalog.stag_hunt()
    >>> logit = rqe.best_response(game, [None, [0.6, 0.4]], player=0, tau=0.0, epsilon=0.5)
    >>> averse = rqe.best_response(game, [None, [0.6, 0.4]], player=0, tau=2.0, epsilon=0.5)
    >>> averse.success, bool(averse.strategy[0] < logit.strategy[0]), averse.gap < 1e-9
    (True, True, True)
    >>> rqe.best_response(game, [None, [0.6, 0.4]], player=0, tau=0.0, epsilon=0.0).strategy.tolist()
    [1.0, 0.0]
    """
    game_of(game, NormalFormGame, func=_FUNC)
    N = game.n_players
    if isinstance(player, bool) or not isinstance(player, (int, np.integer)) or not 0 <= player < N:
        raise ValueError(f"The 'player' parameter of {_FUNC} must be an int in [0, {N - 1}]. Got {plain(player)!r} "
                         "instead.")
    i = int(player)
    taus = per_player(tau, N, name="tau", func=_FUNC)
    epsilons = per_player(epsilon, N, name="epsilon", func=_FUNC)
    risk_obj = get_risk(risk, func=_FUNC)
    reg_obj = get_regularizer(regularizer, func=_FUNC)
    tol = positive_float(tol, name="tol", func=_FUNC)
    max_iter = positive_int(max_iter, name="max_iter", func=_FUNC)
    if epsilons[i] == 0 and taus[i] > 0:
        raise ValueError(f"The 'epsilon' parameter of {_FUNC} must be > 0 for player {i} when its tau is > 0 "
                         f"(without the regulariser the risk-averse best response need not be unique). Got "
                         f"epsilon={epsilons[i]:g} with tau={taus[i]:g}.")
    xs = _strategies(game, strategies, i)
    others = [j for j in range(N) if j != i]
    with np.errstate(divide="ignore"):
        log_q = joint_sum([None if x is None else np.log(x) for x in xs], others, game.n_actions)
    mats, shift, unit = normalised_rows(game)
    M, R = mats[i], game.own_rows[i]
    params = {"player": i, "tau": tuple(float(t) for t in taus), "epsilon": tuple(float(e) for e in epsilons),
              "risk": getattr(risk_obj, "name", repr(risk_obj)),
              "regularizer": getattr(reg_obj, "name", repr(reg_obj)), "tol": tol}
    shape = tuple(game.n_actions[j] for j in others)
    q = np.exp(log_q)
    if epsilons[i] == 0:
        G = M @ q
        best = G >= G.max() - _TIE_TOL
        x = best / np.count_nonzero(best)
        payoff = float(x @ R @ q)
        return BestResponseResult(
            message=f"Nash best response: uniform over the {np.count_nonzero(best)} best of {len(x)} actions.",
            success=True, strategy=x, adversary=q.reshape(shape), value=payoff, payoff=payoff, residual=0.0,
            gap=float(unit[i] * max(G.max() - x @ G, 0.0)), method="nash", params=params)
    tau_n, eps_n = taus[i] * unit[i], epsilons[i] / unit[i]
    if tau_n == 0:
        system = _Response(M, log_q, 0.0, eps_n, _Neutral(), reg_obj)
        pt = system.evaluate(system.reg.response(M @ q, eps_n))
        nit, status, detail, method = 0, 0, "", "closed_form"
    else:
        system = _Response(M, log_q, tau_n, eps_n, risk_obj, reg_obj)
        # partners' zero probabilities reach the closed forms as log 0; a non-finite result shows in the residual
        with np.errstate(all="ignore"):
            scalar = None
            if SmallSystem.supports(game, risk_obj, reg_obj) and np.all(q > 0):
                diff = M[0] - M[1]
                bounds = [float(np.subtract(*reg_obj.response(np.array([d, 0.0]), eps_n))) for d in diff]
                small = SmallSystem(game, taus, epsilons, risk_obj, reg_obj)
                scalar = _scalar_response(small, i, float(log_q[0] - log_q[1]), min(bounds), max(bounds))
            if scalar is not None:
                l, nit = scalar
                start = log_probs_of_odds(l)
            else:
                start, nit = reg_obj.response(M @ q, eps_n), 0       # the risk-neutral response
            pt = system.evaluate(start)
            if scalar is not None and system.residual(pt) <= tol:
                status, detail = 0, "scalar Newton in the log-odds"
            else:
                pt, more, status, detail = _solve(system, start, tol, max_iter)
                nit += more
        method = "newton"
    residual = system.residual(pt)
    x = np.exp(pt.log_x)
    h_best = float(np.exp(pt.Tz) @ pt.G) - eps_n * reg_obj.value(pt.Tz)
    h_x = float(x @ pt.G) - eps_n * reg_obj.value(pt.log_x)
    success = status == 0 and residual <= tol
    if method == "closed_form" and success:
        message = "Closed form (tau = 0): the quantal response to the others' strategies."
    elif success:
        message = f"Converged: residual {residual:.2e} <= tol {tol:.0e} ({nit} steps{', ' + detail if detail else ''})."
    else:
        status = status or (1 if np.isfinite(residual) else 2)
        head = f"Iteration limit max_iter={max_iter} reached" if status == 1 else "Numerical failure"
        message = (f"{head} with residual {residual:.2e} > tol {tol:.0e}{' (' + detail + ')' if detail else ''}. "
                   "Try a larger max_iter or tol.")
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return BestResponseResult(
        message=message, success=success, strategy=x, adversary=np.exp(pt.log_p).reshape(shape),
        value=float(unit[i] * system.objective(pt) + shift[i]), payoff=float(x @ R @ q), residual=residual,
        gap=float(unit[i] * max(h_best - h_x, 0.0)), status=status, nit=nit, method=method, params=params)


class _Neutral:
    """The risk-neutral adversary (``tau = 0``): the others' own play, at no penalty."""

    name = "none"

    def adversary(self, g, log_q, tau):
        return log_q

    def penalty(self, log_p, log_q):
        return 0.0
