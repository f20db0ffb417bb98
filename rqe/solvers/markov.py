"""Risk-averse quantal response equilibria of Markov games: backward induction and value iteration.

At every state ``s`` (and step ``h``) the players face the stage game with payoffs

    Q_i(s, a) = r_i(s, a) + gamma * rho_i[W_i](s, a)

where ``W_i`` are player ``i``'s continuation values of the next states, ``rho_i`` the
environment risk (:mod:`rqe.uncertainty`; the expectation by default) and ``gamma = 1`` for a
finite horizon.  Its matrix RQE (:func:`rqe.solve`'s map, solved for all states of a step at
once by :mod:`rqe.solvers._batch`) gives the stage policies; the stage value that continues
backwards is chosen by ``value=``:

* ``"regularized"``: ``U_i^tau(x; Q_i(s)) - epsilon_i nu(x_i)``, SRPO App. C eq. (19), the
  fixed point of exact SRPO learning (:mod:`rqe.learning`); with it every player's policy is a
  best response in the game's own objective, so the **exploitability** is defined;
* ``"risk_adjusted"``: ``U_i^tau(x; Q_i(s))`` (the value of the MPS authors' code, without
  the regulariser);
* ``"expected"``: ``x^T Q_i(s)`` under actual play (sgamesolver's logit Markov QRE).

Finite horizon: MPS Algorithm 1 (Mazumdar, Panaganti and Shi, ICLR 2025), with ``W = 0`` after
the last step.  Discounted: a stationary RQE, the fixed point of the same map, computed by value
iteration with warm starts and then damped (Krasnoselskii-Mann) iteration; no contraction is
assumed: the Bellman residual ``max |B(W) - W|`` is reported.

Exploitability (the certificate of ``value="regularized"``): a profile is evaluated with nobody
free in the stage problem, a best response is the same dynamic programme with one player free
against the others' fixed policies, and a player's exploitability is its best-response value
minus its value of the profile at the initial law (zero exactly at an equilibrium, by the
one-shot deviation principle).  These programmes, on the stage games of :class:`Stages`, also
serve the public tools of :mod:`rqe.markov`, which validate the arguments and wrap them in results.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rqe._exceptions import ConvergenceWarning
from rqe._validation import choice, per_player, positive_float, positive_int
from rqe.games.markov import MarkovGame
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers._batch import BUILTIN_REGULARIZERS, BUILTIN_RISKS, solve_batch
from rqe.solvers._iterate import expired
from rqe.solvers._result import Result
from rqe.solvers.rqe import solve
from rqe.uncertainty import get_env_risk

__all__ = ["solve_markov", "MarkovResult", "VALUES"]

VALUES = ("regularized", "risk_adjusted", "expected")
"""Stage-value conventions accepted by ``value=`` (module docstring)."""

_FUNC = "rqe.solve_markov"
_DAMPING = 0.5          # weight of the new iterate in the damped value iteration
_LONG = 50_000          # steps x states above which the progress bar is shown by default
_EVAL_TOL = 1e-12       # discounted evaluation by iteration stops at this sup-norm change


@dataclass(frozen=True)
class MarkovResult(Result):
    """A risk-averse quantal response equilibrium of a Markov game, with its certificates.

    Attributes
    ----------
    message : str
        What happened, and what to try when ``success`` is false.
    success : bool
        True when every stage residual is below ``tol`` and (discounted) the Bellman residual
        is below ``bellman_tol``.
    policies : tuple of ndarray
        ``policies[i]``: ``(H, S, n_i)`` for a finite horizon (step, state, action), ``(S, n_i)``
        for a discounted game; zero on illegal actions.
    adversaries : tuple of ndarray
        ``adversaries[i]``: the law over the others' joint actions (C order over the other
        players) chosen by player ``i``'s adversary, ``(H, S, A_-i)`` or ``(S, A_-i)``.
    values : ndarray
        Continuation values under ``params["value"]``: ``(H + 1, N, S)`` (the last step is 0)
        or ``(N, S)``.
    payoffs : ndarray
        ``(N,)``: each player's value at the initial law, ``initial @ values[0]``.
    residual : ndarray
        Stage fixed-point residual ``max_i ||x_i - QR_i(x)||_1`` per (step, state) or state.
    gap : ndarray
        Duality gap of each player's stage max-min problem: ``(H, S, N)`` or ``(S, N)``.
    exploitability : ndarray or None
        For ``value="regularized"``: each player's gain from a best response (a single-agent
        risk-averse dynamic programme against the others' policies) at the initial law;
        ``None`` for the other conventions, where the profile is not a best-response fixed point.
    bellman_residual : float
        ``max |B(W) - W|`` over players and states (0 for a finite horizon, where the values
        are computed exactly backwards).
    status : int
        0 converged, 1 iteration limit, 2 numerical failure (a stage game missed ``tol``).
    nit : int
        Value-iteration sweeps (discounted) or steps (finite horizon).
    method : str
    params : dict
        ``tau``, ``epsilon``, ``risk``, ``regularizer``, ``env_risk``, ``value``, ``tol``,
        ``n_fallback`` (stage games handed to :func:`rqe.solve`).
    """

    message: str
    success: bool
    policies: tuple = field(repr=False)
    adversaries: tuple = field(repr=False)
    values: np.ndarray = field(repr=False)
    payoffs: np.ndarray
    residual: np.ndarray = field(repr=False)
    gap: np.ndarray = field(repr=False)
    exploitability: np.ndarray | None
    bellman_residual: float = 0.0
    status: int = 0
    nit: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)


# ---------------------------------------------------------------------------------------- stages
@dataclass
class _StageOut:
    strategies: list      # (S, n_i), zero on illegal actions
    adversaries: list     # (S, A_-i)
    values: dict          # convention -> (N, S)
    residual: np.ndarray  # (S,)
    gap: np.ndarray       # (S, N)
    z: np.ndarray         # (S, sum n_i) warm start (log strategies, -inf on illegal actions)
    n_fallback: int
    jinv: np.ndarray | None = None   # (S, m, m) inverse Jacobians of the last Newton steps (warm start)


class Stages:
    """The stage games of one Markov game: continuation values and batched solves of all states of a step.

    States whose legal action sets differ are solved in one batch, padded to the full action
    counts with the illegal actions held at probability zero.  Private engine shared by
    :func:`solve_markov` and :mod:`rqe.markov`.
    """

    def __init__(self, game: MarkovGame, *, tau, epsilon, risk: str, regularizer: str, env, tol: float,
                 max_iter: int = 50, value: str = "regularized"):
        self.game = game
        self.value = value                                       # the stage value computed
        self.N, self.S, self.n = game.n_players, game.n_states, game.n_actions
        self.A = game.n_joint
        self.tau = np.asarray(tau, float)
        self.epsilon = np.asarray(epsilon, float)
        self.risk, self.reg, self.env = risk, regularizer, env
        self.tol, self.max_iter = tol, max_iter
        self.gamma = 1.0 if game.discount is None else game.discount
        P = game.transitions
        self.P = sp.csr_array(sp.hstack([P, sp.csr_array(game.stop[:, None])])) if game.terminates else P
        self.legal = np.concatenate([np.asarray(m, bool) for m in game.legal], axis=1)     # (S, m)
        self.offsets = np.concatenate([[0], np.cumsum(self.n)])

    def q_values(self, W: np.ndarray, step: int = 0) -> np.ndarray:
        """``Q_i(s, a) = r_i(s, a) + gamma rho_i[W_i](s, a)``: shape ``(N, S, n_1..n_N)``."""
        R = self.game.reward(step)
        if not np.any(W):
            return np.array(R, dtype=float)
        Wx = W.T if not self.game.terminates else np.vstack([W.T, np.zeros((1, self.N))])
        cont = self.env.evaluate(self.P, Wx)                   # (S * A, N)
        return R + self.gamma * cont.T.reshape(R.shape)

    def uniform_z(self) -> np.ndarray:
        """Uniform play over each state's legal actions, in log coordinates ``(S, m)``."""
        counts = np.concatenate([np.repeat(m.sum(1, keepdims=True), k, axis=1) for m, k in zip(self.game.legal,
                                                                                               self.n)], axis=1)
        return np.where(self.legal, -np.log(np.maximum(counts, 1)), -np.inf)

    def z_from_policies(self, policies) -> np.ndarray:
        """Log-coordinates ``(S, m)`` of full policies ``(S, n_i)`` (``-inf`` on zero and illegal entries)."""
        with np.errstate(divide="ignore"):
            return np.where(self.legal, np.log(np.concatenate(policies, axis=1)), -np.inf)

    def solve(self, Q: np.ndarray, z0: np.ndarray, *, free=None, jinv=None) -> _StageOut:
        """Stage RQE of every state (``free``: players solved for; the others keep ``z0``).

        ``jinv``: the ``jinv`` of the previous step's output, reused for chord steps (a warm start).
        """
        return self.solve_stack([Q], [z0], [free], jinv=jinv)[0]

    def solve_stack(self, Qs: list, z0s: list, frees: list, partners=None, jinv=None) -> list:
        """Several stage problems over all states (``Qs[k]``: ``(N, S, ...)``) in one batched solve.

        ``partners`` (``(S, m)`` log policies, optional): every problem's players answer these
        strategies of the others (best responses to a fixed profile) instead of each other.
        """
        N, S = self.N, self.S
        K = len(Qs)
        Qb = np.concatenate([np.moveaxis(Q, 0, 1) for Q in Qs]) if K > 1 else np.moveaxis(Qs[0], 0, 1)
        free = np.concatenate([np.broadcast_to(np.ones(N, bool) if f is None else np.asarray(f, bool), (S, N))
                               for f in frees])
        legal = None if self.legal.all() else np.tile(self.legal, (K, 1))
        z0 = np.concatenate(z0s) if K > 1 else z0s[0]
        if partners is not None:
            partners = np.tile(partners, (K, 1))
        kw: dict[str, Any] = dict(tau=self.tau, epsilon=self.epsilon, risk=self.risk, regularizer=self.reg,
                                  tol=self.tol, values=(self.value,))
        out = solve_batch(Qb, z0=z0, free=free, legal=legal, partners=partners, max_iter=self.max_iter, jinv0=jinv,
                          **kw)
        bad = np.flatnonzero(~out.converged)
        if bad.size:
            z = out.z.copy()
            z[bad] = self._fallback(Qb[bad], out.z[bad], free[bad], self.legal[bad % S],
                                    None if partners is None else partners[bad], kw)
            out = solve_batch(Qb, z0=z, free=free, legal=legal, partners=partners, max_iter=0, **kw)
        results = []
        for k in range(K):
            rows = slice(k * S, (k + 1) * S)
            values = {self.value: getattr(out, self.value)[rows].T}
            n_fallback = int(np.sum((bad >= k * S) & (bad < (k + 1) * S)))
            results.append(_StageOut([x[rows] for x in out.strategies], [p[rows] for p in out.adversaries], values,
                                     out.residual[rows], out.gap[rows], out.z[rows], n_fallback,
                                     None if out.jinv is None else out.jinv[rows]))
        return results

    def _fallback(self, Qb, zb, free, legal, partners, kw):
        """Stage games the batch missed: :func:`rqe.solve` (all free, no fixed partners) or a longer batched
        Newton run."""
        out = np.array(zb)
        for b, (Q1, z1, f, ok) in enumerate(zip(Qb, zb, free, legal)):
            if not np.all(f) or partners is not None:
                out[b] = solve_batch(Q1[None], z0=z1[None], free=f, legal=ok[None], max_iter=20 * self.max_iter,
                                     partners=None if partners is None else partners[b:b + 1], **kw).z[0]
                continue
            L = [np.flatnonzero(ok[self.offsets[i]:self.offsets[i + 1]]) for i in range(self.N)]
            sub = Q1[(slice(None),) + np.ix_(*L)]
            x0 = [np.exp(z1[self.offsets[i] + L[i]]) for i in range(self.N)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                res = solve(NormalFormGame(list(sub)), tau=self.tau, epsilon=self.epsilon, risk=self.risk,
                            regularizer=self.reg, tol=self.tol, x0=x0)
            with np.errstate(divide="ignore"):
                for i in range(self.N):
                    out[b, self.offsets[i] + L[i]] = np.log(res.strategies[i])
        return out


def check_parameters(game, *, tau, epsilon, risk, regularizer, env_risk, value, tol, max_iter, func):
    """Validate the common parameters of the Markov solvers and tools; returns resolved objects."""
    if not isinstance(game, MarkovGame):
        raise TypeError(f"The 'game' parameter of {func} must be a rqe.MarkovGame. Got {type(game).__name__} "
                        "instead (a normal-form game converts with rqe.MarkovGame.from_normal_form).")
    N = game.n_players
    tau = per_player(tau, N, name="tau", func=func)
    epsilon = per_player(epsilon, N, name="epsilon", func=func, low_inclusive=False)
    risk_obj = get_risk(risk, func=func)
    reg_obj = get_regularizer(regularizer, func=func)
    if getattr(risk_obj, "name", None) not in BUILTIN_RISKS:
        raise ValueError(f"The 'risk' parameter of {func} must be one of {list(BUILTIN_RISKS)} (the batched stage "
                         f"solver has their closed forms). Got {risk!r} instead.")
    if getattr(reg_obj, "name", None) not in BUILTIN_REGULARIZERS:
        raise ValueError(f"The 'regularizer' parameter of {func} must be one of {list(BUILTIN_REGULARIZERS)}. "
                         f"Got {regularizer!r} instead.")
    env = get_env_risk(env_risk, tau=tau, func=func)
    choice(value, VALUES, name="value", func=func)
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)
    return tau, epsilon, risk_obj, reg_obj, env, tol, max_iter


def _bar(total: int | None, progress, desc: str, work: int, unit: str):
    """A tqdm bar over ``total`` units (``None``: unknown), shown by default when ``work >= _LONG``."""
    if progress is None:
        progress = work >= _LONG
    if not progress:
        return None
    from tqdm.auto import tqdm  # on first use: a progress bar only when asked for

    return tqdm(total=total, desc=desc, unit=unit, leave=False)


# ---------------------------------------------------------------------------------------- solver
def solve_markov(game: MarkovGame, *, tau=1.0, epsilon=0.1, risk: str = "kl", regularizer: str = "entropy",
                 env_risk=None, value: str = "regularized", tol: float = 1e-10, bellman_tol: float = 1e-9,
                 max_iter: int = 10_000, progress: bool | None = None, exploitability: bool = True,
                 max_time: float | None = None) -> MarkovResult:
    """Compute a risk-averse quantal response equilibrium of a Markov game.

    Finite horizon: backward induction (MPS Algorithm 1) with the matrix RQE of the stage game
    ``Q_i(s, .)`` at every (step, state), giving time-indexed policies.  Discounted: a
    stationary RQE by value iteration (warm-started stage solves), then damped iteration if
    it has not converged; never assumed to converge: the Bellman residual is reported.
    Stage games are solved for all states of a step at once (vectorised Newton), with a
    fallback to :func:`rqe.solve` for any state that misses ``tol``.

    Parameters
    ----------
    game : MarkovGame
    tau, epsilon : float or array_like
        Strategic risk aversion (``>= 0``) and bounded rationality (``> 0``), scalar or per player,
        as in :func:`rqe.solve` (paper eqs. 1-2).
    risk : {"kl", "reverse_kl"}
    regularizer : {"entropy", "log_barrier"}
    env_risk : None, str or object, optional
        Risk over the next state (:mod:`rqe.uncertainty`): ``None`` (expectation),
        ``"entropic"`` or ``"tv_penalty"`` with the strategic ``tau`` (the MPS code's backup
        is the entropic one), or an operator such as ``rqe.uncertainty.TVBall(0.1)``.
    value : {"regularized", "risk_adjusted", "expected"}
        Which stage value continues backwards (module docstring; they give different answers).
    tol : float, default 1e-10
        Stage residual target.
    bellman_tol : float, default 1e-9
        Discounted games: target for ``max |B(W) - W|``.
    max_iter : int, default 10000
        Cap on value-iteration sweeps (discounted).
    progress : bool, optional
        Show a progress bar over steps or sweeps; by default only for long runs.
    exploitability : bool, default True
        Compute each player's best-response gain (``value="regularized"`` only).
    max_time : float, optional
        Budget in seconds, checked between steps (sweeps).  When it runs out the result has
        ``status=5`` and ``success=False``: a finite horizon keeps the steps solved so far (the
        last ones: backward induction starts at the end) with ``residual = inf`` on the others
        and uniform play there; a discounted game keeps its last sweep.  No exploitability is
        computed then.

    Returns
    -------
    MarkovResult

    Examples
    --------
    A one-state game repeated three times: the last step is the stage RQE.

    >>> import numpy as np, rqe
    >>> stag = rqe.games.catalog.stag_hunt()
    >>> game = rqe.MarkovGame.from_normal_form(stag, horizon=3)
    >>> res = rqe.solve_markov(game, tau=0.5, epsilon=0.5)
    >>> res.success, res.policies[0].shape
    (True, (3, 1, 2))
    >>> one = rqe.solve(stag, tau=0.5, epsilon=0.5)
    >>> bool(np.allclose(res.policies[0][-1, 0], one.strategies[0]))
    True
    >>> bool(np.all(res.exploitability < 1e-8))
    True
    """
    tau, epsilon, risk_obj, reg_obj, env, tol, max_iter = check_parameters(
        game, tau=tau, epsilon=epsilon, risk=risk, regularizer=regularizer, env_risk=env_risk, value=value,
        tol=tol, max_iter=max_iter, func=_FUNC)
    bellman_tol = positive_float(bellman_tol, name="bellman_tol", func=_FUNC)
    deadline = None if max_time is None else time.monotonic() + positive_float(max_time, name="max_time", func=_FUNC)
    stages = Stages(game, tau=tau, epsilon=epsilon, risk=risk_obj.name, regularizer=reg_obj.name, env=env, tol=tol,
                    value=value)
    params = {"tau": tau, "epsilon": epsilon, "risk": risk_obj.name, "regularizer": reg_obj.name,
              "env_risk": repr(env), "value": value, "tol": tol}
    if game.horizon is not None:
        out, nit = _backward(stages, value, progress, deadline)
        bellman, status, method = 0.0, 0 if nit == game.horizon else 5, "backward_induction"
    else:
        out, bellman, nit, status, method = _value_iteration(stages, value, bellman_tol, max_iter, progress,
                                                             deadline)
    policies, adversaries, values, residual, gap, n_fallback = out
    params["n_fallback"] = n_fallback
    payoffs = game.initial @ (values[0] if game.horizon is not None else values).T
    stage_ok = bool(np.all(residual <= tol))
    if not stage_ok and status == 0:
        status = 2
    expl = None
    if value == "regularized" and exploitability and status != 5:
        expl = exploitability_from(stages, policies, None if game.horizon is not None else values, bellman_tol,
                                   max_iter)
    success = status == 0
    worst = float(np.max(residual))
    if success:
        message = (f"Converged: worst stage residual {worst:.2e}"
                   + (f", Bellman residual {bellman:.2e}" if game.horizon is None else "")
                   + (f", exploitability {np.max(expl):.2e}" if expl is not None else "") + ".")
    elif status == 5:
        message = (f"max_time = {max_time:g} s ran out after {nit} of "
                   + ((f"{game.horizon} steps (steps {game.horizon - nit} to {game.horizon - 1} are solved; the "
                       "earlier ones have residual inf)" if nit else f"{game.horizon} steps") if game.horizon is not None else
                      f"at most {max_iter} sweeps, with Bellman residual {bellman:.2e}")
                   + ". Give it more time, or a larger epsilon (faster stage solves).")
    elif status == 1:
        message = (f"Value iteration stopped after {nit} sweeps with Bellman residual {bellman:.2e} > bellman_tol = "
                   f"{bellman_tol:g}. Try a larger max_iter, a smaller discount, or a larger epsilon (the stage map "
                   "contracts for large epsilon).")
    else:
        bad = int(np.sum(residual > tol))
        message = (f"{bad} stage games missed tol = {tol:g} (worst residual {worst:.2e}) even with rqe.solve. Try a "
                   "larger epsilon or a looser tol.")
    result = MarkovResult(message=message, success=success, policies=tuple(policies),
                          adversaries=tuple(adversaries), values=values, payoffs=payoffs, residual=residual, gap=gap,
                          exploitability=expl, bellman_residual=float(bellman), status=status, nit=nit,
                          method=method, params=params)
    if not success:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return result


def _backward(stages: Stages, value: str, progress, deadline: float | None):
    """Backward induction; returns the solution and the number of steps solved (all unless ``deadline`` passed)."""
    game = stages.game
    H, N, S = game.horizon, stages.N, stages.S
    assert H is not None, "backward induction needs a finite horizon"
    policies = [np.zeros((H, S, k)) for k in stages.n]
    adversaries = [np.zeros((H, S, stages.A // k)) for k in stages.n]
    values = np.zeros((H + 1, N, S))
    residual = np.full((H, S), np.inf)
    gap = np.full((H, S, N), np.inf)
    z = stages.uniform_z()
    n_fallback, out, solved = 0, None, 0
    bar = _bar(H, progress, _FUNC, H * S, "step")
    for h in reversed(range(H)):
        if expired(deadline):
            for i in range(N):           # uniform legal play on the steps left unsolved
                legal = np.asarray(stages.game.legal[i], float)
                policies[i][:h + 1] = legal / legal.sum(-1, keepdims=True)
            break
        solved += 1
        out = stages.solve(stages.q_values(values[h + 1], h), z, jinv=None if out is None else out.jinv)
        z = out.z
        for i in range(N):
            policies[i][h] = out.strategies[i]
            adversaries[i][h] = out.adversaries[i]
        values[h] = out.values[value]
        residual[h], gap[h] = out.residual, out.gap
        n_fallback += out.n_fallback
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return (policies, adversaries, values, residual, gap, n_fallback), solved


def _value_iteration(stages: Stages, value: str, bellman_tol: float, max_iter: int, progress,
                     deadline: float | None):
    W = np.zeros((stages.N, stages.S))
    z = stages.uniform_z()
    n_fallback, method = 0, "value_iteration"
    bar = _bar(None, progress, _FUNC, 100 * stages.S, "sweep")
    history = []
    out, bellman, nit = None, np.inf, 0
    weight = 1.0
    timed_out = False
    for nit in range(1, max_iter + 1):
        if expired(deadline) and nit > 1:      # at least one sweep
            timed_out, nit = True, nit - 1
            break
        out = stages.solve(stages.q_values(W), z, jinv=None if out is None else out.jinv)
        z = out.z
        n_fallback += out.n_fallback
        new = out.values[value]
        bellman = float(np.max(np.abs(new - W)))
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"Bellman residual {bellman:.1e}", refresh=False)
        if bellman <= bellman_tol:
            W = new
            break
        history.append(bellman)
        # no progress over the last 50 sweeps: switch to damped (Krasnoselskii-Mann) iteration once
        if weight == 1.0 and len(history) > 100 and history[-1] > 0.9 * history[-51]:
            weight, method = _DAMPING, "value_iteration+damped"
        W = (1 - weight) * W + weight * new
    if bar is not None:
        bar.close()
    assert out is not None, "max_iter >= 1 makes at least one sweep"
    status = 0 if bellman <= bellman_tol else 5 if timed_out else 1
    if status == 0:
        # policies and certificates at the final values (one more stage solve: B(W) = W up to bellman_tol)
        out = stages.solve(stages.q_values(W), z, jinv=out.jinv)
        bellman = float(np.max(np.abs(out.values[value] - W)))
        W = out.values[value]
    return ((out.strategies, out.adversaries, W, out.residual, out.gap, n_fallback + out.n_fallback), bellman,
            nit, status, method)


# ---------------------------------------------------------------------------------------- exploitability
def evaluate_values(stages: Stages, policies, max_iter: int, init=None) -> np.ndarray:
    """Values ``(H + 1, N, S)`` or ``(N, S)`` of a fixed profile (the stage value with nobody free)."""
    game = stages.game
    free = np.zeros(stages.N, bool)
    if game.horizon is not None:
        V = np.zeros((game.horizon + 1, stages.N, stages.S))
        for h in reversed(range(game.horizon)):
            z = stages.z_from_policies([p[h] for p in policies])
            V[h] = stages.solve(stages.q_values(V[h + 1], h), z, free=free).values["regularized"]
        return V
    z = stages.z_from_policies(policies)
    linear = np.all(stages.tau == 0) and stages.env.name == "expectation"
    if linear:
        r = stages.solve(stages.q_values(np.zeros((stages.N, stages.S))), z, free=free).values["regularized"]
        joint = _joint_policy(policies)                                    # (S, A)
        rows = np.arange(stages.S).repeat(stages.A)
        D = sp.csr_array((joint.ravel(), (rows, np.arange(stages.S * stages.A))),
                         shape=(stages.S, stages.S * stages.A))
        P_pi = sp.csc_array(sp.eye(stages.S) - game.discount * (D @ game.transitions))
        return np.asarray(spla.spsolve(P_pi, r.T)).reshape(stages.S, stages.N).T
    V = np.zeros((stages.N, stages.S)) if init is None else np.array(init, dtype=float)
    for _ in range(max_iter):
        new = stages.solve(stages.q_values(V), z, free=free).values["regularized"]
        change = float(np.max(np.abs(new - V)))
        V = new
        if change <= _EVAL_TOL * max(1.0, float(np.max(np.abs(V)))):
            break
    return V


def _joint_policy(policies) -> np.ndarray:
    """``(..., S, A)``: the product of the players' policies over joint actions (C order)."""
    joint = policies[0]
    for pol in policies[1:]:
        joint = (joint[..., :, None] * pol[..., None, :]).reshape(*pol.shape[:-1], -1)
    return joint


@dataclass(frozen=True)
class BestResponseOutcome:
    """One player's best response: what :class:`rqe.markov.BestResponse` reports.

    ``policy`` ``(H, S, n_i)`` or ``(S, n_i)``; ``payoff`` the best-response value at the
    initial law; ``values`` per step and state ``(H + 1, S)`` or per state ``(S,)``;
    ``residual`` the worst stage residual; ``status`` 0 converged, 1 iteration limit, 2 a stage
    problem missed ``tol``.
    """

    policy: np.ndarray
    payoff: float
    values: np.ndarray
    residual: float
    status: int


def best_response_values(stages: Stages, policies, player: int, max_iter: int, tol: float,
                         init=None) -> BestResponseOutcome:
    """Player ``player``'s best response to the others' policies, by dynamic programming.

    Backwards for a finite horizon; value iteration for a discounted game, warm-started at the
    values ``init`` ``(N, S)`` when given, stopped when a sweep changes the player's values by at
    most ``tol`` (at most ``max_iter`` sweeps).
    """
    game = stages.game
    free = np.zeros(stages.N, bool)
    free[player] = True

    def start(p):
        return _br_start(game, player, p)

    status, worst = 0, 0.0
    if game.horizon is not None:
        H = game.horizon
        W = np.zeros((H + 1, stages.N, stages.S))
        policy = np.zeros((H, stages.S, game.n_actions[player]))
        for h in reversed(range(H)):
            z = stages.z_from_policies([p[h] if j != player else start(p[h]) for j, p in enumerate(policies)])
            out = stages.solve(stages.q_values(W[h + 1], h), z, free=free)
            W[h, player] = out.values["regularized"][player]
            policy[h] = out.strategies[player]
            worst = max(worst, float(out.residual.max()))
        values = W[:, player]
        payoff = float(game.initial @ values[0])
    else:
        W = np.zeros((stages.N, stages.S)) if init is None else np.array(init, dtype=float)
        z = stages.z_from_policies([p if j != player else start(p) for j, p in enumerate(policies)])
        status, out = 1, None
        for _ in range(max_iter):
            out = stages.solve(stages.q_values(W), z, free=free, jinv=None if out is None else out.jinv)
            z = out.z
            new = out.values["regularized"][player]
            change = float(np.max(np.abs(new - W[player])))
            W[player] = new
            if change <= tol:
                status = 0
                break
        assert out is not None, "max_iter >= 1 makes at least one sweep"
        policy, values = out.strategies[player], W[player]
        worst = float(out.residual.max())
        payoff = float(game.initial @ values)
    if status == 0 and worst > stages.tol:
        status = 2
    return BestResponseOutcome(policy=policy, payoff=payoff, values=values, residual=worst, status=status)


def exploitability_from(stages: Stages, policies, values, tol: float, max_iter: int) -> np.ndarray:
    """Best-response gains at the initial law (the certificate of :func:`rqe.solve_markov`).

    The profile is re-evaluated and every best response recomputed; for discounted games
    ``values`` (the solver's, or ``None``) only warm-starts those fixed-point iterations.
    """
    if stages.game.horizon is not None:
        return _exploitability_finite(stages, policies)
    V = evaluate_values(stages, policies, max_iter, init=values)
    base = stages.game.initial @ V.T
    gains = np.array([best_response_values(stages, policies, i, max_iter, tol, init=V).payoff
                      for i in range(stages.N)]) - base
    return np.maximum(gains, 0.0)


def _exploitability_finite(stages: Stages, policies) -> np.ndarray:
    """Finite horizon: the profile's values and every player's best response in one backward pass.

    At each step one batch holds the evaluation of the profile (nobody free, ``Q`` from its
    values) and, for every state, all players' best responses at once (each player free against
    the others' fixed policies, ``Q_i`` from its own best-response values): the recursions of
    :func:`evaluate_values` and :func:`best_response_values`, with the best responses of the
    players solved side by side instead of one player at a time.
    """
    game = stages.game
    N = stages.N
    V = np.zeros((N, stages.S))            # the profile's values at the next step
    W = np.zeros((N, stages.S))            # W[i]: player i's best-response values at the next step
    frees = [np.zeros(N, bool), np.ones(N, bool)]
    assert game.horizon is not None, "the finite-horizon recursion"
    for h in reversed(range(game.horizon)):
        profile = stages.z_from_policies([p[h] for p in policies])
        start = stages.z_from_policies([_br_start(game, i, p[h]) for i, p in enumerate(policies)])
        outs = stages.solve_stack([stages.q_values(V, h), stages.q_values(W, h)], [profile, start], frees,
                                  partners=profile)
        V, W = outs[0].values["regularized"], outs[1].values["regularized"]
    return np.maximum(game.initial @ W.T - game.initial @ V.T, 0.0)


def _br_start(game, player, p):
    """Warm start of the free player: its own policy where it is interior, else half-way to uniform."""
    legal = game.legal[player]
    uniform = legal / legal.sum(1, keepdims=True)
    interior = np.all(np.where(legal, p, 1.0) > 0, axis=-1, keepdims=True)
    return np.where(interior, p, 0.5 * p + 0.5 * uniform)
