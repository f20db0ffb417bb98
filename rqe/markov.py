"""Tools for policies of Markov games: exact evaluation, best responses, exploitability, rollouts.

Policies are one array per player, ``(H, S, n_i)`` for a finite horizon and ``(S, n_i)`` for a
discounted game (the layout of :attr:`rqe.solvers.markov.MarkovResult.policies`).  Values use the
stage objective of :func:`rqe.solve_markov`: with ``tau = 0`` and ``epsilon = 0`` (the defaults)
they are the expected returns; with ``tau, epsilon > 0`` the regularised risk-adjusted values
of ``value="regularized"``.

* :func:`evaluate`: every player's value of a fixed profile, by dynamic programming (a sparse
  linear solve for discounted risk-neutral evaluation).
* :func:`best_response`: one player's optimal policy against the others' fixed policies, a
  single-agent risk-averse dynamic programme whose stage problem is
  ``max_x min_p x^T Q p + D(p, x_-i) / tau - epsilon nu(x)`` (concave; solved by the batched
  stage solver with the others held fixed).
* :func:`exploitability`: each player's gain from its best response at the initial law; zero
  exactly at an equilibrium of ``value="regularized"`` (one-shot deviation principle).
* :func:`rollout`: simulated episodes, vectorised over episodes.
"""

from __future__ import annotations

import concurrent.futures as cf
import warnings
from dataclasses import dataclass, field

import numpy as np

from rqe._exceptions import ConvergenceWarning
from rqe._validation import finite_array, game_of, renamed
from rqe.games.markov import MarkovGame
from rqe.solvers._result import Result, Status, _deprecated, grid_verdict
from rqe.solvers.markov import (Stages, best_response_values, check_parameters, evaluate_values, exploitability_from,
                                solve_markov)

__all__ = ["evaluate", "best_response", "exploitability", "rollout", "sweep", "Rollouts", "BestResponse",
           "MarkovSweep"]

_POLICY_TOL = 1e-8       # rows of a policy must sum to 1 within this
_NO_EPS = 1e-300         # stands for epsilon = 0 where the stage solver needs a positive value


def _check_policies(game: MarkovGame, policies, func: str) -> list:
    N, S = game.n_players, game.n_states
    lead = (game.horizon, S) if game.horizon is not None else (S,)
    if not isinstance(policies, (list, tuple)) or len(policies) != N:
        raise ValueError(f"The 'policies' parameter of {func} must be a sequence of {N} arrays, one per player, of "
                         f"shape {lead + ('n_i',)}. Got {type(policies).__name__}"
                         f"{f' of length {len(policies)}' if hasattr(policies, '__len__') else ''}.")
    out = []
    for i, pol in enumerate(policies):
        pol = np.asarray(pol, dtype=float)
        want = lead + (game.n_actions[i],)
        if pol.shape != want:
            raise ValueError(f"The 'policies' parameter of {func}: player {i}'s policy must have shape {want}. "
                             f"Got {pol.shape}.")
        if not np.all(np.isfinite(pol)) or np.any(pol < 0) or np.any(np.abs(pol.sum(-1) - 1) > _POLICY_TOL):
            raise ValueError(f"The 'policies' parameter of {func}: player {i}'s policy must hold probability "
                             "vectors (nonnegative, finite, summing to 1) over its actions.")
        if np.any(pol[..., ~game.legal[i]] > 0):
            raise ValueError(f"The 'policies' parameter of {func}: player {i}'s policy puts mass on illegal "
                             "actions (see game.legal).")
        out.append(pol / pol.sum(-1, keepdims=True))
    return out


def _stages(game, tau, epsilon, risk, regularizer, env_risk, func, tol=1e-12, max_iter=10_000):
    eps = np.asarray(epsilon, dtype=float)
    if eps.size and np.all(np.isfinite(eps)) and np.all(eps >= 0):
        epsilon = np.where(eps > 0, eps, _NO_EPS) if eps.ndim else max(float(eps), _NO_EPS)
    tau, epsilon, risk_obj, reg_obj, env, tol, max_iter = check_parameters(
        game, tau=tau, epsilon=epsilon, risk=risk, regularizer=regularizer, env_risk=env_risk, value="regularized",
        tol=tol, max_iter=max_iter, func=func)
    stages = Stages(game, tau=tau, epsilon=np.where(epsilon <= _NO_EPS, 0.0, epsilon), risk=risk_obj.name,
                    regularizer=reg_obj.name, env=env, tol=tol)
    return stages, max_iter


def evaluate(game: MarkovGame, policies, *, tau=0.0, epsilon=0.0, risk: str = "kl",
             regularizer: str = "entropy", env_risk=None, max_iter: int = 10_000) -> np.ndarray:
    """Each player's value of a policy profile, exactly, by dynamic programming.

    Parameters
    ----------
    game : MarkovGame
    policies : sequence of ndarray
        One per player: ``(H, S, n_i)`` or ``(S, n_i)``.
    tau, epsilon : float or array_like, default 0
        With both 0, the expected (discounted) return.  Otherwise the regularised risk-adjusted
        value of :func:`rqe.solve_markov` with ``value="regularized"``.
    risk, regularizer, env_risk
        As in :func:`rqe.solve_markov`.
    max_iter : int
        Cap on the sweeps of discounted evaluation when it is nonlinear.

    Returns
    -------
    ndarray
        ``(N,)``: the values at ``game.initial``.

    Examples
    --------
    Both players of the repeated stag hunt hunt stag for 4 steps:

    >>> import numpy as np, rqe
    >>> game = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt(), horizon=4)
    >>> stag = np.zeros((4, 1, 2)); stag[..., 0] = 1.0
    >>> rqe.markov.evaluate(game, [stag, stag]).tolist()
    [16.0, 16.0]
    """
    func = "rqe.markov.evaluate"
    stages, max_iter = _stages(game, tau, epsilon, risk, regularizer, env_risk, func, max_iter=max_iter)
    policies = _check_policies(game, policies, func)
    V = evaluate_values(stages, policies, max_iter)
    return game.initial @ (V[0] if game.horizon is not None else V).T


@dataclass(frozen=True)
class BestResponse(Result):
    """One player's best response to the others' fixed policies.

    Attributes
    ----------
    message : str
    success : bool
        True when every stage problem met ``tol`` (and discounted iteration converged).
    policy : ndarray
        ``(H, S, n_i)`` or ``(S, n_i)``.
    payoff : float
        The best-response value at the initial law, ``initial @ values[0]`` (the quantity of
        :attr:`rqe.solvers.markov.MarkovResult.payoffs` for this player; ``value`` is a
        deprecated alias).
    values : ndarray
        The best-response values per step and state ``(H + 1, S)``, or per state ``(S,)``.
    residual : float
        Worst stage residual.
    status : int
        0 converged, 1 iteration limit, 2 a stage problem missed ``tol``.
    method : str
    params : dict
    """

    message: str
    success: bool
    policy: np.ndarray = field(repr=False)
    payoff: float
    values: np.ndarray = field(repr=False)
    residual: float
    status: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)

    value = _deprecated("BestResponse", "value", "payoff")


def _best_response(stages: Stages, policies, player: int, max_iter: int, tol: float) -> BestResponse:
    out = best_response_values(stages, policies, player, max_iter, tol)
    message = ("Converged." if out.status == 0 else "Value iteration hit max_iter; try a larger max_iter."
               if out.status == 1 else f"A stage problem missed tol (worst residual {out.residual:.2e}).")
    return BestResponse(message=message, success=out.status == 0, policy=out.policy, payoff=out.payoff,
                        values=out.values, residual=out.residual, status=out.status, method="dynamic_programming",
                        params={"player": player, "tau": stages.tau, "epsilon": stages.epsilon})


def best_response(game: MarkovGame, policies, player: int, *, tau=1.0, epsilon=0.1, risk: str = "kl",
                  regularizer: str = "entropy", env_risk=None, tol: float = 1e-10,
                  max_iter: int = 10_000) -> BestResponse:
    """Player ``player``'s best response to the others' policies in the regularised risk-averse objective.

    A single-agent dynamic programme (backwards for a finite horizon, value iteration for a
    discounted game) whose stage problem is ``max_x min_p x^T Q p + D(p, x_-i)/tau - epsilon nu(x)``,
    with ``Q`` built from the best-response values (the objective of ``value="regularized"`` in
    :func:`rqe.solve_markov`).  ``policies[player]`` is ignored.

    Examples
    --------
    >>> import numpy as np, rqe
    >>> game = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt(), horizon=2)
    >>> stag = np.zeros((2, 1, 2)); stag[..., 0] = 1.0
    >>> br = rqe.markov.best_response(game, [stag, stag], 1, tau=0.0, epsilon=0.01)
    >>> br.success, round(float(br.policy[0, 0, 0]), 4)     # hunt stag with a stag hunter
    (True, 1.0)
    """
    func = "rqe.markov.best_response"
    stages, max_iter = _stages(game, tau, epsilon, risk, regularizer, env_risk, func, tol=tol, max_iter=max_iter)
    if np.any(stages.epsilon <= 0):
        raise ValueError(f"The 'epsilon' parameter of {func} must be > 0 (the best response is then unique).")
    policies = _check_policies(game, policies, func)
    if isinstance(player, bool) or not isinstance(player, (int, np.integer)) or not 0 <= player < game.n_players:
        raise ValueError(f"The 'player' parameter of {func} must be an int in [0, {game.n_players}). "
                         f"Got {player!r} instead.")
    return _best_response(stages, policies, int(player), max_iter, tol)


def exploitability(game: MarkovGame, policies, *, tau=1.0, epsilon=0.1, risk: str = "kl",
                   regularizer: str = "entropy", env_risk=None, tol: float = 1e-10,
                   max_iter: int = 10_000) -> np.ndarray:
    """Each player's gain from its best response, at the initial law (``>= 0``; 0 at an equilibrium).

    Examples
    --------
    >>> import numpy as np, rqe
    >>> game = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt(), horizon=2)
    >>> res = rqe.solve_markov(game, tau=0.5, epsilon=0.5)
    >>> bool(np.all(rqe.markov.exploitability(game, res.policies, tau=0.5, epsilon=0.5) < 1e-8))
    True
    >>> stag, hare = np.zeros((2, 1, 2)), np.zeros((2, 1, 2))
    >>> stag[..., 0] = hare[..., 1] = 1.0
    >>> gain = rqe.markov.exploitability(game, [stag, hare], tau=0.5, epsilon=0.5)
    >>> bool(gain[0] > 1.0)          # a stag hunter facing a hare hunter should hunt hare
    True
    """
    func = "rqe.markov.exploitability"
    stages, max_iter = _stages(game, tau, epsilon, risk, regularizer, env_risk, func, tol=tol, max_iter=max_iter)
    if np.any(stages.epsilon <= 0):
        raise ValueError(f"The 'epsilon' parameter of {func} must be > 0 (the best response is then unique).")
    policies = _check_policies(game, policies, func)
    return exploitability_from(stages, policies, None, tol, max_iter)


@dataclass(frozen=True)
class Rollouts(Result):
    """Simulated episodes.

    Attributes
    ----------
    returns : ndarray
        ``(n, N)``: each episode's (discounted) sum of rewards per player.
    lengths : ndarray
        ``(n,)``: steps until the game ended or the horizon (or ``max_steps``) was reached.
    mean, stderr : ndarray
        ``(N,)``: the mean return and its standard error.
    """

    returns: np.ndarray = field(repr=False)
    lengths: np.ndarray = field(repr=False)
    mean: np.ndarray
    stderr: np.ndarray


def rollout(game: MarkovGame, policies, n: int, *, rng: np.random.Generator, max_steps: int | None = None
            ) -> Rollouts:
    """Simulate ``n`` episodes of a policy profile (vectorised over episodes).

    Parameters
    ----------
    game : MarkovGame
    policies : sequence of ndarray
    n : int
        Number of episodes.
    rng : numpy.random.Generator
    max_steps : int, optional
        Truncation of discounted games (default: the step where ``gamma^t < 1e-10``); a
        finite horizon is never exceeded.

    Examples
    --------
    >>> import numpy as np, rqe
    >>> game = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt(), horizon=3)
    >>> half = np.full((3, 1, 2), 0.5)
    >>> sim = rqe.markov.rollout(game, [half, half], 20000, rng=np.random.default_rng(0))
    >>> exact = rqe.markov.evaluate(game, [half, half])
    >>> bool(np.all(np.abs(sim.mean - exact) < 4 * sim.stderr))
    True
    """
    func = "rqe.markov.rollout"
    game_of(game, MarkovGame, func=func)
    policies = _check_policies(game, policies, func)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"The 'n' parameter of {func} must be an int >= 1. Got {n!r} instead.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"The 'rng' parameter of {func} must be a numpy.random.Generator "
                        f"(numpy.random.default_rng(seed)). Got {type(rng).__name__} instead.")
    gamma = 1.0 if game.discount is None else game.discount
    if game.horizon is not None:
        T = game.horizon if max_steps is None else min(game.horizon, int(max_steps))
    else:
        T = int(max_steps) if max_steps is not None else int(np.ceil(np.log(1e-10) / np.log(max(gamma, 1e-300))))
        T = max(T, 1)
    N, S, A = game.n_players, game.n_states, game.n_joint
    P = game.transitions
    cum = np.cumsum(P.data)
    row_start = np.concatenate([[0.0], cum])[P.indptr[:-1]]
    state = rng.choice(S, size=n, p=game.initial)
    alive = np.ones(n, bool)
    returns = np.zeros((n, N))
    lengths = np.zeros(n, dtype=int)
    strides = np.array([int(np.prod(game.n_actions[i + 1:])) for i in range(N)])
    for t in range(T):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        s = state[idx]
        joint = np.zeros(idx.size, dtype=int)
        acts = []
        for i, pol in enumerate(policies):
            probs = pol[t, s] if game.horizon is not None else pol[s]
            a = (probs.cumsum(axis=1) < rng.random((idx.size, 1))).sum(axis=1)
            a = np.minimum(a, game.n_actions[i] - 1)
            acts.append(a)
            joint += a * strides[i]
        R = game.reward(t if game.horizon is not None else 0)
        returns[idx] += (gamma ** t) * R[(slice(None), s, *acts)].T
        lengths[idx] += 1
        row = s * A + joint
        u = rng.random(idx.size)
        k = np.searchsorted(cum, row_start[row] + u * (1.0 - 1e-15), side="right")
        ended = (k >= P.indptr[row + 1]) | (P.indptr[row] == P.indptr[row + 1])
        state[idx] = np.where(ended, 0, P.indices[np.minimum(k, P.nnz - 1)])
        alive[idx[ended]] = False
    mean = returns.mean(axis=0)
    stderr = returns.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(N, np.inf)
    return Rollouts(returns=returns, lengths=lengths, mean=mean, stderr=stderr)


@dataclass(frozen=True)
class MarkovSweep(Result):
    """Markov equilibria over a grid of ``(tau, epsilon)``, one row per point.

    Attributes
    ----------
    message : str
        How many points converged, and what to try for those that did not.
    success : bool
        True when the sweep finished and every point converged.
    status : Status
        ``SUCCESS``; ``MAX_ITER`` when some point missed ``tol``; ``INTERRUPTED`` after a
        ``KeyboardInterrupt``.
    tau, epsilon : ndarray
        ``(K, N)``: each player's parameters at each point (``tau`` varies fastest).
    payoffs : ndarray
        ``(K, N)``: values at the initial law.
    exploitability : ndarray
        ``(K, N)``; NaN where not computed (``value`` other than ``"regularized"``).
    residual : ndarray
        ``(K,)``: the worst stage residual of each point.
    bellman_residual : ndarray
        ``(K,)``.
    converged : ndarray
        ``(K,)``: each point's :attr:`rqe.MarkovResult.success`.
    policies : tuple or None
        ``policies[k]`` is point ``k``'s policies (``keep_policies=True``), else ``None``.
    finished : bool
        False when the sweep was interrupted: the rows hold the points that finished
        (``complete`` is a deprecated alias).
    method : str
        ``"serial"`` (points solved here, in order) or ``"executor"``.
    params : dict
    """

    message: str
    success: bool
    status: Status
    tau: np.ndarray
    epsilon: np.ndarray
    payoffs: np.ndarray
    exploitability: np.ndarray
    residual: np.ndarray
    bellman_residual: np.ndarray
    converged: np.ndarray
    policies: tuple | None = field(repr=False)
    finished: bool = True
    method: str = "serial"
    params: dict = field(default_factory=dict, repr=False)

    complete = _deprecated("MarkovSweep", "complete", "finished")

    def __len__(self) -> int:
        return len(self.converged)

    def __repr__(self) -> str:
        return f"MarkovSweep({self.message!r}, {len(self)} points, max residual={np.max(self.residual, initial=0):.1e})"


def _point(game, tau, epsilon, kwargs, keep):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve_markov(game, tau=tau, epsilon=epsilon, progress=False, **kwargs)
    expl = res.exploitability if res.exploitability is not None else np.full(game.n_players, np.nan)
    return (res.payoffs, expl, float(np.max(res.residual)), res.bellman_residual, res.success,
            res.policies if keep else None, res.status)


def _grid(value, N: int, name: str, func: str) -> np.ndarray:
    arr = finite_array(value, name=name, func=func)
    arr = arr[None] if arr.ndim == 0 else arr
    arr = np.repeat(arr[:, None], N, axis=1) if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != N or arr.shape[0] == 0:
        raise ValueError(f"The {name!r} parameter of {func} must be a float, a 1-D grid, or a grid of shape "
                         f"(K, {N}) with one column per player. Got shape {arr.shape} instead.")
    return arr


@renamed("rqe.markov.sweep", tau="taus", epsilon="epsilons")
def sweep(game: MarkovGame, *, taus, epsilons=0.1, executor: cf.Executor | None = None, progress: bool = True,
          keep_policies: bool = False, **options) -> MarkovSweep:
    """Solve a Markov game at every point of a ``taus`` x ``epsilons`` grid (:func:`rqe.solve_markov`).

    Parameters
    ----------
    game : MarkovGame
    taus, epsilons : float or array_like
        Grids as in :func:`rqe.sweep`: ``(K,)`` common to all players or ``(K, N)`` (formerly
        ``tau`` and ``epsilon``, deprecated aliases for one release).
    executor : concurrent.futures.Executor, optional
        Runs the points (a process pool, or a dask ``Client.get_executor()``); ``None`` runs
        them here.  An interrupted sweep (``KeyboardInterrupt``) returns the finished points
        with ``finished=False``.
    progress : bool, default True
        A progress bar over points.
    keep_policies : bool, default False
        Keep every point's policies (memory: ``H * S * sum n_i`` floats a point).
    **options
        Passed to :func:`rqe.solve_markov` (``risk``, ``env_risk``, ``value``, ``tol``...).

    Examples
    --------
    >>> import rqe
    >>> game = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt(), horizon=3)
    >>> out = rqe.markov.sweep(game, taus=[0.0, 1.0, 4.0], epsilons=0.5, progress=False)
    >>> out
    MarkovSweep('All 3 points converged.', 3 points, max residual=...)
    >>> out.payoffs.shape
    (3, 2)
    """
    func = "rqe.markov.sweep"
    game_of(game, MarkovGame, func=func)
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"The 'executor' parameter of {func} must be a concurrent.futures.Executor or None. "
                        f"Got {type(executor).__name__} instead.")
    N = game.n_players
    taus, epss = _grid(taus, N, "taus", func), _grid(epsilons, N, "epsilons", func)
    points = [(t, e) for e in epss for t in taus]
    checked = dict(risk=options.get("risk", "kl"), regularizer=options.get("regularizer", "entropy"),
                   env_risk=options.get("env_risk"), value=options.get("value", "regularized"),
                   tol=options.get("tol", 1e-10), max_iter=options.get("max_iter", 10_000))
    for t, e in points:
        check_parameters(game, tau=t, epsilon=e, func=func, **checked)
    done: dict[int, tuple] = {}
    complete = True
    bar = None
    if progress:
        from tqdm.auto import tqdm  # on first use: a progress bar only when asked for

        bar = tqdm(total=len(points), desc=func, unit="pt")
    try:
        if executor is None:
            for k, (t, e) in enumerate(points):
                done[k] = _point(game, t, e, options, keep_policies)
                if bar is not None:
                    bar.update(1)
        else:
            futures = {executor.submit(_point, game, t, e, options, keep_policies): k
                       for k, (t, e) in enumerate(points)}
            try:
                for fut in cf.as_completed(futures):
                    done[futures[fut]] = fut.result()
                    if bar is not None:
                        bar.update(1)
            except KeyboardInterrupt:
                for fut, k in futures.items():
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        done[k] = fut.result()
                    fut.cancel()
                raise
    except KeyboardInterrupt:
        complete = False
    finally:
        if bar is not None:
            bar.close()
    keys = sorted(done)
    rows = [done[k] for k in keys]
    col = (lambda j, shape: np.array([r[j] for r in rows]).reshape(shape))
    converged = col(4, (-1,)).astype(bool)
    finished = complete and len(rows) == len(points)
    message, status = grid_verdict(converged, finished, out_of_time=False, statuses=[r[6] for r in rows],
                                   advice="try a larger max_iter or max_time, or rqe.solve_markov at those points")
    return MarkovSweep(message=message, success=status == Status.SUCCESS, status=status, tau=np.array([points[k][0] for k in keys]).reshape(-1, N),
                       epsilon=np.array([points[k][1] for k in keys]).reshape(-1, N),
                       payoffs=col(0, (-1, N)), exploitability=col(1, (-1, N)), residual=col(2, (-1,)),
                       bellman_residual=col(3, (-1,)), converged=converged,
                       policies=tuple(r[5] for r in rows) if keep_policies else None, finished=finished,
                       method="serial" if executor is None else "executor",
                       params={k: v for k, v in options.items()})
