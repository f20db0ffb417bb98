"""Distributionally robust cooperation: robust team values and the DrIGM principle, in tabular form.

A *cooperative* game gives every agent the same (team) reward.  Decentralised execution picks,
for each agent, the action maximising an *individual* action value; the IGM principle
(individual-global-max) asks that these greedy actions together form a team-optimal joint
action.  DrIGM (Qu, Yeh, Panaganti, Mazumdar, Wierman, *Distributionally Robust Cooperative
Multi-Agent Reinforcement Learning via Robust Value Factorization*, ICLR 2026, arXiv 2602.11437;
code ``crqu/robust-coMARL``) asks the same of the *robust* team-optimal joint action, the one
maximising the worst-case value over an uncertainty set around the nominal dynamics.

Two kinds of cooperative tabular games are handled:

* :class:`TeamGame`: one step; each joint action ``a`` yields a random team reward with nominal
  law ``probs[a]`` over the listed outcomes ``values[a]`` (:func:`qtran_game` is the demo);
* :class:`rqe.MarkovGame` whose players all receive the same reward (finite horizon or
  discounted), solved by robust value iteration.

The uncertainty sets are the environment-risk operators of :mod:`rqe.uncertainty`
(``TVBall``, ``Contamination``, ``TVPenalty``, ``Entropic``, ``Expectation``): the robust
value of a joint action is ``rho[w](p)`` for its nominal law ``p`` and values ``w``.

=================================  ============================================================
function                           what it computes
=================================  ============================================================
:func:`robust_team_values`         robust team action values ``Q``, the robust team-optimal
                                   joint action, the DrIGM individual action values
:func:`check_igm`                  the (Dr)IGM property, by enumerating joint actions
:func:`worst_case_model`           the one global worst-case law (kernel) behind ``Q``
:func:`naive_individual_values`    each agent's own worst case, teammates treated as environment
:func:`fit_vdn`, :func:`fit_igm`   tabular factorisations trained on nominal or robust targets
:func:`evaluate_joint_action`      the return of a joint action (policy), e.g. out of distribution
=================================  ============================================================

What comes from where
---------------------
*From the code* (``crqu/robust-coMARL``, algorithm files read for what they define): the
factorisations VDN (sum of agent utilities), QMIX and QTRAN, each trained on robust TD
targets; rho-contamination targets ``r + gamma (1 - rho) max Q_tot(s')`` (the adversary's mass
goes to a zero-value outcome; :class:`rqe.uncertainty.Contamination` keeps the full
``rho min w`` term); a total-variation variant through a dual network ``g`` with target
``r + gamma ((1 - rho) g - (g - max Q_tot(s'))_+)``, the dual form of a TV ball whose worst
outcome has value 0; QTRAN's conditions ``sum_i u_i(a_i) - Q_jt(a) + V = 0`` at the greedy joint
action and ``>= 0`` elsewhere.

*From the paper's abstract and summaries* (the full text was not read): DrIGM requires each
agent's robust greedy action to agree with the robust team-optimal joint action; it holds for
robust individual action values anchored to the robust joint action through a *global*
worst-case model; letting each agent take its own worst case (single-agent robust RL per
agent) breaks it (their Example 1, not read).

*Reconstructed here* [derived]: the robust individual value
``Q_i(s, a_i) = Q(s, a_i, a*_-i(s))``, the robust team value of ``a_i`` with the teammates at
the robust team-optimal joint action ``a*`` (ties broken towards the first index).  For the
uncertainty *sets* (``TVBall``, ``Contamination``) ``Q`` is also the ordinary optimal action
value of the single MDP whose kernel is the worst-case law of every row
(:func:`worst_case_model`), so these are action values under one global model; for the
penalised forms (``TVPenalty``, ``Entropic``) each row adds its penalty to that value.  With
first-index tie-breaking, the agents' greedy actions are exactly ``a*``: an agent changing
only its own action to a smaller index would give a lexicographically smaller team optimum.
The naive values, the tabular least-squares VDN and the linear-programming form of the QTRAN
conditions (:func:`fit_igm`) are our constructions; the demo game is the non-monotonic matrix
of QTRAN (Son et al., ICML 2019) made stochastic.

Examples
--------
In the QTRAN matrix with a lottery at ``(A, A)`` (16 or 0, even odds), the nominal optimum
``(A, A)`` (mean 8) gives way to the safe ``(B, B) = 6`` once the total-variation radius
passes ``(8 - 6) / (16 - 0) = 1/8``:

>>> from rqe.cooperative import qtran_game, robust_team_values
>>> from rqe.uncertainty import TVBall
>>> game = qtran_game()
>>> robust_team_values(game).joint_action, robust_team_values(game, env_risk=TVBall(0.2)).joint_action
((0, 0), (1, 1))
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from rqe._exceptions import ConvergenceWarning
from rqe._validation import finite_array, game_of, positive_float, positive_int
from rqe.games.markov import MarkovGame
from rqe.solvers._result import Result, Status, _deprecated, _plain
from rqe.uncertainty import get_env_risk

__all__ = ["TeamGame", "qtran_game", "TeamValues", "robust_team_values", "IGMCheck", "check_igm",
           "worst_case_model", "naive_individual_values", "Factorization", "fit_vdn", "fit_igm",
           "evaluate_joint_action"]

_PROB_TOL = 1e-9        # outcome laws must sum to 1 within this
_TIE_TOL = 1e-9         # relative: action values this close to the maximum count as maximisers
_MOD = "rqe.cooperative"


# ============================================================================ the one-step game
class TeamGame:
    """A one-step cooperative game: every joint action draws a team reward from its own law.

    Parameters
    ----------
    values : array_like
        Shape ``(n_1, ..., n_N, K)``: the ``K`` possible team rewards of each joint action.  A
        deterministic game may pass ``(n_1, ..., n_N)`` without ``probs``.
    probs : array_like, optional
        Shape ``(n_1, ..., n_N, K)``: the nominal law of the outcome of each joint action
        (nonnegative, rows summing to 1).  An outcome listed with probability 0 is one the
        adversary may move mass to (total variation, contamination) although it never happens
        nominally.
    players, actions : sequences of str, optional
        Names (defaults ``"P1"``, ... and ``"a0"``, ...).

    Examples
    --------
    >>> from rqe.cooperative import TeamGame
    >>> game = TeamGame([[[4, 0], [1, 1]], [[1, 1], [2, 2]]], [[[.5, .5], [1, 0]], [[1, 0], [1, 0]]])
    >>> game.n_actions, game.n_outcomes, game.expected().tolist()
    ((2, 2), 2, [[2.0, 1.0], [1.0, 2.0]])
    """

    def __init__(self, values, probs=None, *, players: Sequence[str] | None = None,
                 actions: Sequence[Sequence[str]] | None = None):
        func = f"{_MOD}.TeamGame"
        values = finite_array(values, name="values", func=func)
        if probs is None:
            values = values[..., None]
            probs = np.ones_like(values)
        else:
            probs = finite_array(probs, name="probs", func=func)
        if values.ndim < 3 or probs.shape != values.shape:
            raise ValueError(f"The 'values' and 'probs' parameters of {func} must have the same shape "
                             f"(n_1, ..., n_N, K) with N >= 2 agents (or 'values' of shape (n_1, ..., n_N) "
                             f"alone). Got {values.shape} and {probs.shape}.")
        if np.any(probs < 0) or np.any(np.abs(probs.sum(-1) - 1) > _PROB_TOL):
            bad = np.argwhere((probs < 0).any(-1) | (np.abs(probs.sum(-1) - 1) > _PROB_TOL))[0]
            raise ValueError(f"The 'probs' parameter of {func} must hold probability vectors (nonnegative, "
                             f"summing to 1) over the K outcomes. Joint action {tuple(int(v) for v in bad)} "
                             f"has {probs[tuple(bad)].tolist()}.")
        probs = probs / probs.sum(-1, keepdims=True)
        for arr in (values, probs):
            arr.setflags(write=False)
        self._values, self._probs = values, probs
        n = values.shape[:-1]
        self._players = _names(players, len(n), "players", "P", 1, func)
        if actions is not None and len(actions) != len(n):
            raise ValueError(f"The 'actions' parameter of {func} must hold one list of names per agent "
                             f"({len(n)}). Got {len(actions)}.")
        self._actions = tuple(_names(None if actions is None else actions[i], k, "actions", "a", 0, func)
                              for i, k in enumerate(n))

    @property
    def n_players(self) -> int:
        return self._values.ndim - 1

    @property
    def n_actions(self) -> tuple[int, ...]:
        return tuple(self._values.shape[:-1])

    @property
    def n_outcomes(self) -> int:
        return self._values.shape[-1]

    @property
    def values(self) -> np.ndarray:
        """Read-only outcome values ``(n_1, ..., n_N, K)``."""
        return self._values

    @property
    def probs(self) -> np.ndarray:
        """Read-only nominal outcome laws ``(n_1, ..., n_N, K)``."""
        return self._probs

    @property
    def players(self) -> tuple[str, ...]:
        return self._players

    @property
    def actions(self) -> tuple[tuple[str, ...], ...]:
        return self._actions

    def expected(self) -> np.ndarray:
        """The nominal (risk-neutral) team action values ``sum_k probs * values``.

        Examples
        --------
        >>> from rqe.cooperative import qtran_game
        >>> float(qtran_game().expected()[0, 0])
        8.0
        """
        return np.sum(self._probs * self._values, axis=-1)

    def with_probs(self, probs) -> TeamGame:
        """The same outcomes under another law (a shifted environment, for out-of-distribution tests).

        Examples
        --------
        >>> import numpy as np
        >>> from rqe.cooperative import qtran_game
        >>> game = qtran_game()
        >>> probs = np.array(game.probs); probs[0, 0] = [0.3, 0.7]     # the lottery pays less often
        >>> float(game.with_probs(probs).expected()[0, 0])
        4.8
        """
        return TeamGame(self._values, probs, players=self._players, actions=self._actions)

    def __repr__(self):
        return f"TeamGame({self.n_players} agents, {'x'.join(map(str, self.n_actions))} actions, " \
               f"{self.n_outcomes} outcomes)"


def _names(names, count, what, prefix, start, func):
    if names is None:
        return tuple(f"{prefix}{k + start}" for k in range(count))
    names = tuple(str(s) for s in names)
    if len(names) != count:
        raise ValueError(f"The {what!r} parameter of {func} must hold {count} names. Got {len(names)}.")
    return names


def qtran_game(*, jackpot: float = 16.0, bust: float = 0.0, p: float = 0.5, safe: float = 6.0,
               miss: float = -12.0) -> TeamGame:
    """The non-monotonic 3x3 matrix of QTRAN with a lottery at ``(A, A)`` and a safe ``(B, B)``.

    ============  =====================================  ==========  ==========
    agent 1 \\ 2   A                                      B           C
    ============  =====================================  ==========  ==========
    A             ``jackpot`` w.p. ``p``, else ``bust``  ``miss``    ``miss``
    B             ``miss``                               ``safe``    0
    C             ``miss``                               0           0
    ============  =====================================  ==========  ==========

    With the defaults the means are QTRAN's matrix (Son et al. 2019, 8 at ``(A, A)``) with
    ``(B, B)`` raised from 0 to 6.  Every entry but ``(A, A)`` is deterministic, so only the
    lottery is exposed to the adversary.

    Switch radius [derived]: in a TV ball of radius ``r`` the adversary moves ``min(r, p)`` of
    the mass from ``jackpot`` to ``bust``, so ``(A, A)`` is worth
    ``m - r (jackpot - bust)`` with ``m = p jackpot + (1 - p) bust``, and the robust choice
    switches to ``(B, B)`` at ``r* = (m - safe) / (jackpot - bust)`` (``1/8`` by default;
    valid when ``0 <= r* <= p``).  Under rho-contamination ``(A, A)`` is worth
    ``(1 - r) m + r bust``: the switch is at ``(m - safe) / (m - bust)`` (``1/4``).

    Examples
    --------
    >>> from rqe.cooperative import qtran_game
    >>> qtran_game().expected().tolist()
    [[8.0, -12.0, -12.0], [-12.0, 6.0, 0.0], [-12.0, 0.0, 0.0]]
    """
    func = f"{_MOD}.qtran_game"
    for name, v in (("jackpot", jackpot), ("bust", bust), ("safe", safe), ("miss", miss)):
        finite_array(v, name=name, func=func)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"The 'p' parameter of {func} must be a float in [0, 1]. Got {p!r} instead.")
    values = np.zeros((3, 3, 2))
    probs = np.zeros((3, 3, 2))
    probs[..., 0] = 1.0
    values[0, :, :] = values[:, 0, :] = miss
    values[0, 0] = [jackpot, bust]
    probs[0, 0] = [p, 1 - p]
    values[1, 1] = safe
    return TeamGame(values, probs, players=["agent 1", "agent 2"], actions=[["A", "B", "C"]] * 2)


# ============================================================================ robust team values
@dataclass(frozen=True)
class TeamValues(Result):
    """Robust team action values of a cooperative game, the robust team-optimal joint action, DrIGM values.

    Attributes
    ----------
    message : str
        What happened, and what to try when ``success`` is false.
    success : bool
        True when (discounted games) robust value iteration met its tolerance.
    q : ndarray
        Robust team action values ``Q = r + gamma rho[V]``: ``(n_1..n_N)`` for a
        :class:`TeamGame`, ``(S, n_1..n_N)`` discounted, ``(H, S, n_1..n_N)`` finite horizon;
        ``-inf`` on illegal joint actions.
    values : ndarray
        The robust team value function ``V = max_a Q``: ``()``, ``(S,)`` or ``(H, S)`` (per
        state, as :attr:`rqe.solvers.markov.MarkovResult.values`).
    payoffs : ndarray
        ``(N,)``: each agent's robust payoff of the robust team-optimal joint action, the robust
        team value of the game (``V`` at the initial law), the same for every agent (``payoff``
        is a deprecated alias of ``payoffs[0]``).
    joint_action : tuple or ndarray
        The robust team-optimal joint action (first maximiser in C order): a tuple of ints, or
        an int array ``(S, N)`` / ``(H, S, N)``.
    individual : tuple of ndarray
        DrIGM individual action values ``individual[i][..., a_i] = Q(..., a_i, a*_-i)`` (module
        docstring): ``(n_i,)``, ``(S, n_i)`` or ``(H, S, n_i)``.
    igm : bool
        True when :func:`check_igm` confirms, by enumeration, that the agents' greedy actions on
        ``individual`` form a team-optimal joint action in every state.
    bellman_residual : float
        ``max |max_a (r + gamma rho[V]) - V|`` recomputed from the returned ``V`` (0 for one
        step and finite horizons, computed exactly backwards).
    status : int
        0 converged, 1 iteration limit.
    nit : int
        Value-iteration sweeps (discounted) or steps.
    method : str
    params : dict
        ``env_risk`` (the operator's repr), ``tol``, ``max_iter``.
    env_risk : object
        The operator itself (for :func:`worst_case_model`).
    """

    message: str
    success: bool
    q: np.ndarray = field(repr=False)
    values: np.ndarray = field(repr=False)
    payoffs: np.ndarray
    joint_action: tuple | np.ndarray
    individual: tuple = field(repr=False)
    igm: bool = True
    bellman_residual: float = 0.0
    status: int = 0
    nit: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)
    env_risk: object = field(default=None, repr=False)

    payoff = _deprecated("TeamValues", "payoff", "payoffs", lambda p: float(p[0]), hint="[0]")

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps`` (``env_risk`` as its repr)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        out["env_risk"] = repr(self.env_risk)
        return out


def robust_team_values(game, *, env_risk=None, tol: float = 1e-10, max_iter: int = 100_000) -> TeamValues:
    """Robust team action values, the robust team-optimal joint action and the DrIGM individual values.

    ``Q(a) = rho[values[a]](probs[a])`` for a :class:`TeamGame`; for a cooperative
    :class:`rqe.MarkovGame` the robust Bellman equation ``Q(s, a) = r(s, a) + gamma rho[V](s, a)``,
    ``V(s) = max_a Q(s, a)`` over legal joint actions (``gamma = 1`` and ``V_H = 0`` for a finite
    horizon, solved backwards; value iteration for a discounted game, a ``gamma``-contraction as
    ``rho`` is monotone and translation-equivariant).  A game that can end sends the missing mass
    to a terminal outcome of value 0, as :func:`rqe.solve_markov` does.

    Parameters
    ----------
    game : TeamGame or MarkovGame
        For a Markov game, every player's reward must be the same (the team reward).
    env_risk : None, str or operator, optional
        An operator of :mod:`rqe.uncertainty` (``TVBall(0.2)``, ``Contamination(0.1)``,
        ``Entropic(2.0)``, ...); ``None`` is the expectation (nominal values).
    tol : float
        Discounted games: stop when a sweep changes ``V`` by at most ``tol`` times the reward scale.
    max_iter : int
        Cap on value-iteration sweeps.

    Returns
    -------
    TeamValues

    Examples
    --------
    >>> from rqe.cooperative import qtran_game, robust_team_values
    >>> from rqe.uncertainty import TVBall
    >>> res = robust_team_values(qtran_game(), env_risk=TVBall(0.1))
    >>> float(res.q[0, 0]), res.joint_action, res.igm      # 8 - 0.1 * 16
    (6.4, (0, 0), True)
    >>> [v.tolist() for v in res.individual]               # Q(a_1, A) and Q(A, a_2)
    [[6.4, -12.0, -12.0], [6.4, -12.0, -12.0]]
    """
    func = f"{_MOD}.robust_team_values"
    op = get_env_risk(env_risk, func=func)
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)
    params = {"env_risk": repr(op), "tol": tol, "max_iter": max_iter}
    if isinstance(game, TeamGame):
        q = _team_game_q(game, op)
        return _finish(q, 0, np.full(q.shape, True), 0.0, 0, 1, "one-step robust values",
                       "Robust team values of a one-step game (exact).", params, op, initial=None)
    _check_cooperative(game, func)
    N, S, n = game.n_players, game.n_states, game.n_actions
    legal = _joint_legal(game)
    P = _augmented(game)
    scale = max(1.0, float(np.max(np.abs(game.rewards))))
    if game.horizon is not None:
        H = game.horizon
        q = np.empty((H, S, *n))
        V = np.zeros(S)
        for h in range(H - 1, -1, -1):
            q[h] = _bellman_q(game, op, P, V, h)
            V = _masked_max(q[h], legal, N)
        return _finish(q, 2, np.broadcast_to(legal, q.shape), 0.0, 0, H, "robust backward induction",
                       f"Robust backward induction over {H} steps (exact).", params, op, initial=game.initial)
    gamma = game.discount
    V = np.zeros(S)
    status, nit, change = 1, 0, np.inf
    for nit in range(1, max_iter + 1):
        V_new = _masked_max(_bellman_q(game, op, P, V), legal, N)
        change = float(np.max(np.abs(V_new - V)))
        V = V_new
        if change <= tol * scale:
            status = 0
            break
    q = _bellman_q(game, op, P, V)
    residual = float(np.max(np.abs(_masked_max(q, legal, N) - V)))
    if status == 0:
        message = f"Robust value iteration converged in {nit} sweeps (Bellman residual {residual:.2e})."
    else:
        message = (f"Robust value iteration stopped after max_iter={max_iter} sweeps with a last change of "
                   f"{change:.2e} > tol * scale = {tol * scale:.2e}; the error shrinks by the discount "
                   f"{gamma:g} per sweep, so raise max_iter or tol.")
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return _finish(q, 1, legal, residual, status, nit, "robust value iteration", message, params, op,
                   initial=game.initial)


def _team_game_q(game: TeamGame, op) -> np.ndarray:
    P, W = game.probs.reshape(-1, game.n_outcomes), game.values.reshape(-1, game.n_outcomes)
    q = np.array([op.evaluate(sp.csr_array(P[r:r + 1]), W[r][:, None])[0, 0] for r in range(P.shape[0])])
    return q.reshape(game.n_actions)


def _check_cooperative(game, func):
    game_of(game, MarkovGame, func=func, accepted="a rqe.cooperative.TeamGame or a rqe.MarkovGame")
    R = game.rewards
    R = R if not game.time_indexed else np.moveaxis(R, 1, 0)
    if not np.all(R == R[0]):
        i = int(np.argmax([not np.array_equal(R[j], R[0]) for j in range(len(R))]))
        raise ValueError(f"The 'game' parameter of {func} must be cooperative: every player receives the team "
                         f"reward. Player {i}'s rewards differ from player 0's by up to "
                         f"{float(np.max(np.abs(R[i] - R[0]))):.3g}.")


def _joint_legal(game: MarkovGame) -> np.ndarray:
    """``(S, n_1..n_N)``: True where every player's action is legal."""
    N = game.n_players
    out = np.ones((game.n_states, *game.n_actions), dtype=bool)
    for i, m in enumerate(game.legal):
        shape = [game.n_states] + [1] * N
        shape[i + 1] = game.n_actions[i]
        out &= m.reshape(shape)
    return out


def _augmented(game: MarkovGame) -> sp.csr_array:
    """Transitions with a terminal column of value 0 when the game can end."""
    P = game.transitions
    return sp.csr_array(sp.hstack([P, sp.csr_array(game.stop[:, None])])) if game.terminates else P


def _bellman_q(game, op, P, V, step=0):
    """``r(s, a) + gamma rho[V](s, a)``: shape ``(S, n_1..n_N)``."""
    r = np.asarray(game.reward(step)[0], dtype=float)
    gamma = 1.0 if game.discount is None else game.discount
    W = V if not game.terminates else np.append(V, 0.0)
    return r + gamma * op.evaluate(P, W[:, None])[:, 0].reshape(r.shape)


def _masked_max(q, legal, N):
    """Max over the last ``N`` axes, legal entries only."""
    return np.where(legal, q, -np.inf).reshape(*q.shape[:q.ndim - N], -1).max(-1)


def _finish(q, lead, legal, residual, status, nit, method, message, params, op, *, initial):
    """Mask, argmax, DrIGM individual values, IGM check, payoffs."""
    N = q.ndim - lead
    n = q.shape[lead:]
    q = np.where(legal, q, -np.inf)
    flat = q.reshape(-1, *n)
    best = np.array([np.unravel_index(int(np.argmax(f)), n) for f in flat])      # (states, N)
    individual = []
    for i in range(N):
        u = np.empty((flat.shape[0], n[i]))
        for s, f in enumerate(flat):
            idx = list(best[s])
            idx[i] = slice(None)
            u[s] = f[tuple(idx)]
        individual.append(u.reshape(*q.shape[:lead], n[i]))
    individual = tuple(individual)
    values = flat.reshape(flat.shape[0], -1).max(-1).reshape(q.shape[:lead])
    best = best.reshape(*q.shape[:lead], N)
    check = check_igm(q, individual)
    team = float(values) if initial is None else float(initial @ (values[0] if lead == 2 else values))
    payoffs = np.full(N, team)
    joint = tuple(int(v) for v in best) if lead == 0 else best
    for arr in (q, values, payoffs, *individual):
        arr.setflags(write=False)
    return TeamValues(message=message, success=status == 0, q=q, values=values, payoffs=payoffs, joint_action=joint,
                      individual=individual, igm=check.holds, bellman_residual=residual, status=status, nit=nit,
                      method=method, params=params, env_risk=op)


# ============================================================================ IGM by enumeration
@dataclass(frozen=True)
class IGMCheck(Result):
    """The (Dr)IGM property of individual action values against joint values, checked by enumeration.

    Attributes
    ----------
    message : str
    holds : bool
        True when in every state every combination of the agents' individual maximisers is a
        maximiser of the joint values (so decentralised greedy play cannot miscoordinate).
    joint_action : tuple or ndarray
        The agents' greedy joint action (first maximiser of each individual value).
    regret : ndarray
        Per state: ``max_a Q(a) - Q(greedy joint action)`` (``()`` for one step); 0 where it is optimal.
    n_checked : int
        Joint actions enumerated.
    """

    message: str
    holds: bool
    joint_action: tuple | np.ndarray
    regret: np.ndarray = field(repr=False)
    n_checked: int = 0


def check_igm(q, individual) -> IGMCheck:
    """Check the IGM property by enumerating every joint action of every state.

    Parameters
    ----------
    q : array_like
        Joint action values ``(..., n_1, ..., n_N)`` (leading axes: states and steps); ``-inf``
        marks illegal joint actions.
    individual : sequence of array_like
        ``individual[i]`` of shape ``(..., n_i)``.

    Returns
    -------
    IGMCheck

    Examples
    --------
    Sums of individual utilities cannot represent the QTRAN matrix: their greedy joint action
    is not the optimum.

    >>> import numpy as np
    >>> from rqe.cooperative import check_igm, qtran_game
    >>> q = qtran_game().expected()
    >>> check_igm(q, [q.mean(1), q.mean(0)]).holds, check_igm(q, [q[:, 0], q[0, :]]).holds
    (False, True)
    """
    func = f"{_MOD}.check_igm"
    q = np.asarray(q, dtype=float)
    N = len(individual)
    if N < 1 or q.ndim < N:
        raise ValueError(f"The 'q' parameter of {func} must have one axis per agent ({N}) after its leading axes. "
                         f"Got shape {q.shape}.")
    lead = q.shape[:q.ndim - N]
    n = q.shape[q.ndim - N:]
    ind = [np.asarray(u, dtype=float) for u in individual]
    for i, u in enumerate(ind):
        if u.shape != (*lead, n[i]):
            raise ValueError(f"The 'individual' parameter of {func}: agent {i}'s values must have shape "
                             f"{(*lead, n[i])}. Got {u.shape}.")
    flat = q.reshape(-1, *n)
    uflat = [u.reshape(-1, n[i]) for i, u in enumerate(ind)]
    holds, regret, greedy = True, np.empty(flat.shape[0]), np.empty((flat.shape[0], N), dtype=int)
    for s in range(flat.shape[0]):
        best = np.max(flat[s])
        tol = _TIE_TOL * max(1.0, abs(best)) if np.isfinite(best) else 0.0
        greedy[s] = [int(np.argmax(u[s])) for u in uflat]
        regret[s] = best - flat[s][tuple(greedy[s])]
        sets = [np.flatnonzero(u[s] >= np.max(u[s]) - _TIE_TOL * max(1.0, abs(np.max(u[s])))) for u in uflat]
        for a in itertools.product(*sets):
            if not flat[s][a] >= best - tol:
                holds = False
    regret = regret.reshape(lead)
    joint = tuple(int(v) for v in greedy[0]) if not lead else greedy.reshape(*lead, N)
    worst = float(np.max(regret)) if regret.size else 0.0
    message = ("IGM holds: every combination of individual maximisers is team-optimal." if holds else
               f"IGM fails: some combination of individual maximisers is not team-optimal (largest regret of the "
               f"first-index greedy joint action {worst:.4g}).")
    return IGMCheck(message=message, holds=holds, joint_action=joint, regret=regret,
                    n_checked=int(flat.size))


# ============================================================================ worst-case model
def worst_case_model(game, team: TeamValues) -> np.ndarray:
    """The global worst-case law behind robust team values: one minimising law per joint action.

    For every row (joint action, and state) the minimising law ``q`` of ``rho[V]``.  For the
    sets ``TVBall`` and ``Contamination``, ``q . V = rho[V]``: with this kernel as a fixed model,
    ``team.q`` is the ordinary optimal action value (the model the DrIGM individual values are
    anchored to); for ``TVPenalty`` and ``Entropic``, ``rho[V] = q . V`` plus the penalty of
    ``q``.  Needs an operator with a ``worst_case(p, w)`` method (all of
    :mod:`rqe.uncertainty` have one).

    Parameters
    ----------
    game : TeamGame or MarkovGame
        The game ``team`` was computed for.
    team : TeamValues

    Returns
    -------
    ndarray
        ``(n_1..n_N, K)`` for a :class:`TeamGame`; ``(S, n_1..n_N, S')`` (discounted) or
        ``(H, S, n_1..n_N, S')`` (finite horizon) for a Markov game, with ``S' = S + 1`` when the
        game can end (last column: termination).

    Examples
    --------
    >>> from rqe.cooperative import qtran_game, robust_team_values, worst_case_model
    >>> from rqe.uncertainty import TVBall
    >>> game = qtran_game()
    >>> worst_case_model(game, robust_team_values(game, env_risk=TVBall(0.2)))[0, 0].tolist()
    [0.3, 0.7]
    """
    func = f"{_MOD}.worst_case_model"
    if not isinstance(team, TeamValues):
        raise TypeError(f"The 'team' parameter of {func} must be a TeamValues (from robust_team_values). "
                        f"Got {type(team).__name__} instead.")
    op = team.env_risk
    if not callable(getattr(op, "worst_case", None)):
        raise TypeError(f"The environment risk {op!r} of {func} has no 'worst_case(p, w)' method.")
    if isinstance(game, TeamGame):
        if team.q.shape != game.n_actions:
            raise ValueError(f"The 'team' parameter of {func} does not belong to this game: q has shape "
                             f"{team.q.shape}, the game has actions {game.n_actions}.")
        P, W = game.probs.reshape(-1, game.n_outcomes), game.values.reshape(-1, game.n_outcomes)
        return np.array([op.worst_case(P[r], W[r]) for r in range(P.shape[0])]).reshape(game.probs.shape)
    _check_cooperative(game, func)
    lead = (game.horizon, game.n_states) if game.horizon is not None else (game.n_states,)
    if team.q.shape != (*lead, *game.n_actions):
        raise ValueError(f"The 'team' parameter of {func} does not belong to this game: q has shape "
                         f"{team.q.shape}, expected {(*lead, *game.n_actions)}.")
    P = _augmented(game).toarray()
    out = []
    steps = range(game.horizon) if game.horizon is not None else [None]
    for h in steps:
        if h is None:
            V = team.values
        else:
            V = team.values[h + 1] if h + 1 < game.horizon else np.zeros(game.n_states)
        W = V if not game.terminates else np.append(V, 0.0)
        out.append(np.array([op.worst_case(row, W) for row in P]).reshape(game.n_states, *game.n_actions, -1))
    return np.array(out) if game.horizon is not None else out[0]


# ============================================================================ the naive worst case
def naive_individual_values(game: TeamGame, *, env_risk, behaviour=None) -> tuple:
    """Each agent's own worst case, its teammates treated as part of the environment.

    Single-agent robust RL applied agent by agent [reconstructed]: agent ``i`` sees the law of
    ``(teammates' joint action, outcome)`` given its own action ``a_i``, with the teammates
    playing ``behaviour``, and takes the worst case of the team reward over that local law:
    ``Q_i(a_i) = rho[z(a_i, .)](mu_-i x p(. | a_i, .))``.  Its adversary may move mass to any
    local outcome, including the teammates' other actions, and each agent has its own
    adversary, so no single model explains all the values: greedy play on them need not be
    robust team-optimal (:func:`check_igm`).

    Parameters
    ----------
    game : TeamGame
    env_risk : str or operator
        As in :func:`robust_team_values`.
    behaviour : sequence of array_like, optional
        One mixed strategy per agent (``(n_i,)``), the teammates' behaviour as each agent models
        it; by default the nominal team-optimal joint action (what non-robust IGM training
        converges to).

    Returns
    -------
    tuple of ndarray
        ``(n_i,)`` per agent.

    Examples
    --------
    Both agents keep betting on the lottery, while the robust team optimum is ``(B, B)``:

    >>> from rqe.cooperative import naive_individual_values, qtran_game
    >>> from rqe.uncertainty import TVBall
    >>> [v.round(2).tolist() for v in naive_individual_values(qtran_game(), env_risk=TVBall(0.2))]
    [[2.4, -12.0, -12.0], [2.4, -12.0, -12.0]]
    """
    func = f"{_MOD}.naive_individual_values"
    game_of(game, TeamGame, func=func, accepted="a rqe.cooperative.TeamGame (one-step games only)")
    op = get_env_risk(env_risk, func=func)
    N, n = game.n_players, game.n_actions
    if behaviour is None:
        best = np.unravel_index(int(np.argmax(game.expected())), n)
        behaviour = [np.eye(n[i])[best[i]] for i in range(N)]
    if len(behaviour) != N:
        raise ValueError(f"The 'behaviour' parameter of {func} must hold one strategy per agent ({N}). "
                         f"Got {len(behaviour)}.")
    mu = []
    for i, b in enumerate(behaviour):
        b = finite_array(b, name="behaviour", func=func)
        if b.shape != (n[i],) or np.any(b < 0) or abs(b.sum() - 1) > _PROB_TOL:
            raise ValueError(f"The 'behaviour' parameter of {func}: agent {i}'s strategy must be a probability "
                             f"vector of length {n[i]}. Got {b.tolist()}.")
        mu.append(b / b.sum())
    out = []
    for i in range(N):
        others = [j for j in range(N) if j != i]
        weight = np.ones(())
        for j in others:
            weight = np.multiply.outer(weight, mu[j])
        vals = np.moveaxis(game.values, i, 0).reshape(n[i], -1)              # (n_i, A_-i * K)
        law = (np.moveaxis(game.probs, i, 0) * weight[None, ..., None]).reshape(n[i], -1)
        out.append(np.array([op.evaluate(sp.csr_array(law[a:a + 1]), vals[a][:, None])[0, 0]
                             for a in range(n[i])]))
    return tuple(out)


# ============================================================================ factorisations
@dataclass(frozen=True)
class Factorization(Result):
    """Agent utilities fitted to joint action values, and what greedy play on them achieves.

    Attributes
    ----------
    message : str
    success : bool
    utilities : tuple of ndarray
        ``utilities[i]`` of shape ``(..., n_i)`` (leading axes as the target's).
    q_tot : ndarray
        The factorised joint values: ``sum_i u_i(a_i)`` (VDN), or the joint values themselves
        (the exact IGM factorisation keeps a full joint critic, as QTRAN does).
    values : ndarray
        IGM: the state values ``V`` of the QTRAN conditions (the best joint value, as
        :attr:`TeamValues.values`); VDN: zeros (``value`` is a deprecated alias).
    joint_action : tuple or ndarray
        The greedy joint action on the utilities (first maximisers).
    regret : ndarray
        Per state: best target value minus the target value of ``joint_action`` (0 when greedy
        decentralised play is optimal for the target).
    residual : float
        The fit's certificate: VDN, the root-mean-square error of ``sum_i u_i`` against the
        target; IGM, the largest violation of the QTRAN conditions ``sum_i u_i(a_i) + V >= Q(a)``,
        with equality at ``joint_action`` (0 for an exact factorisation).
    status : Status
        ``SUCCESS``, or ``NUMERICAL`` when the IGM linear programme failed in some state.
    method : str
    params : dict
    """

    message: str
    success: bool
    utilities: tuple = field(repr=False)
    q_tot: np.ndarray = field(repr=False)
    values: np.ndarray = field(repr=False)
    joint_action: tuple | np.ndarray
    regret: np.ndarray
    residual: float = 0.0
    status: Status = Status.SUCCESS
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)

    value = _deprecated("Factorization", "value", "values")


def _targets(team, func):
    if not isinstance(team, TeamValues):
        raise TypeError(f"The 'team' parameter of {func} must be a TeamValues (from robust_team_values: the robust "
                        f"targets, or nominal ones with env_risk=None). Got {type(team).__name__} instead.")
    q = np.asarray(team.q)
    if not np.all(np.isfinite(q)):
        raise ValueError(f"{func} needs every joint action legal in every state; the targets have "
                         f"{int(np.sum(~np.isfinite(q)))} illegal (-inf) entries.")
    N = len(team.individual)
    n = q.shape[q.ndim - N:]
    return q.reshape(-1, *n), q.shape[:q.ndim - N], n, N


def _design(n):
    """One-hot design matrix ``(A, sum n_i)`` of the additive model ``sum_i u_i(a_i)``."""
    grids = np.indices(n).reshape(len(n), -1)
    offsets = np.concatenate([[0], np.cumsum(n)[:-1]])
    X = np.zeros((grids.shape[1], int(sum(n))))
    for i in range(len(n)):
        X[np.arange(grids.shape[1]), offsets[i] + grids[i]] = 1.0
    return X


def _split(u, n):
    offsets = np.concatenate([[0], np.cumsum(n)])
    return [u[..., offsets[i]:offsets[i + 1]] for i in range(len(n))]


def _fit_result(flat, lead, n, utilities, q_tot, value, residual, success, method, message, params):
    N = len(n)
    greedy = np.stack([u.argmax(-1) for u in utilities], axis=-1)              # (states, N)
    idx = (np.arange(flat.shape[0]), *greedy.T)
    regret = flat.reshape(flat.shape[0], -1).max(-1) - flat[idx]
    utilities = tuple(u.reshape(*lead, n[i]) for i, u in enumerate(utilities))
    joint = tuple(int(v) for v in greedy[0]) if not lead else greedy.reshape(*lead, N)
    return Factorization(message=message, success=success, utilities=utilities, q_tot=q_tot.reshape(*lead, *n),
                         values=value.reshape(lead), joint_action=joint, regret=regret.reshape(lead),
                         residual=float(residual), status=Status.SUCCESS if success else Status.NUMERICAL,
                         method=method, params=params)


def fit_vdn(team: TeamValues, *, weights=None) -> Factorization:
    """Tabular VDN: agent utilities whose sum fits the team's joint values by least squares.

    Minimises ``sum_a w(a) (sum_i u_i(a_i) - Q(a))^2`` in every state (the minimum-norm
    solution; the utilities are defined up to constants that sum to zero).  VDN cannot
    represent non-monotonic games, so its greedy joint action may not be optimal for the
    target: see ``regret``.  Fitting robust targets (``robust_team_values(..., env_risk=...)``)
    is the DrIGM variant; nominal targets (``env_risk=None``) the usual one.

    Parameters
    ----------
    team : TeamValues
        The targets ``team.q`` (every joint action legal).
    weights : array_like, optional
        ``w(a) >= 0``, broadcastable to ``team.q``; uniform by default.

    Returns
    -------
    Factorization

    Examples
    --------
    >>> from rqe.cooperative import fit_vdn, qtran_game, robust_team_values
    >>> vdn = fit_vdn(robust_team_values(qtran_game()))      # nominal targets
    >>> vdn.joint_action, float(vdn.regret)                  # misses the nominal optimum (A, A) = 8
    ((1, 1), 2.0)
    """
    func = f"{_MOD}.fit_vdn"
    flat, lead, n, N = _targets(team, func)
    if weights is None:
        w = np.ones(flat.shape)
    else:
        w = finite_array(weights, name="weights", func=func)
        try:
            w = np.broadcast_to(w, team.q.shape).reshape(flat.shape)
        except ValueError:
            raise ValueError(f"The 'weights' parameter of {func} must broadcast to the targets' shape "
                             f"{team.q.shape}. Got shape {w.shape}.") from None
    if np.any(w < 0) or np.any(w.reshape(w.shape[0], -1).sum(-1) <= 0):
        raise ValueError(f"The 'weights' parameter of {func} must be nonnegative with a positive total in every "
                         f"state.")
    X = _design(n)
    U = np.empty((flat.shape[0], X.shape[1]))
    for s in range(flat.shape[0]):
        sw = np.sqrt(w[s].ravel())
        U[s] = np.linalg.lstsq(X * sw[:, None], flat[s].ravel() * sw, rcond=None)[0]
    q_tot = (U @ X.T).reshape(flat.shape)
    rms = float(np.sqrt(np.sum(w * (q_tot - flat) ** 2) / np.sum(w)))
    return _fit_result(flat, lead, n, _split(U, n), q_tot, np.zeros(flat.shape[0]), rms, True,
                       "vdn least squares", f"VDN least-squares fit (root-mean-square error {rms:.4g}).",
                       {"weights": "uniform" if weights is None else "given"})


def fit_igm(team: TeamValues) -> Factorization:
    """An exact IGM factorisation: utilities meeting QTRAN's conditions, by linear programming.

    In every state, with ``a_bar`` the best joint action of the target ``Q`` (first maximiser)
    and ``V = Q(a_bar)``, find utilities with ``u_i(a_bar_i) = 0`` and

    * ``sum_i u_i(a_i) + V >= Q(a)`` for every joint action (QTRAN's second condition; the first,
      equality at ``a_bar``, holds by the normalisation),
    * ``u_i(a_i) <= -gap / (2 N)`` for ``a_i != a_bar_i`` (``gap``: the margin of ``a_bar`` over
      the next best joint action), so that ``a_bar`` is every agent's strict greedy action,

    minimising the total slack ``sum_a (sum_i u_i(a_i) + V - Q(a))`` (the tightest additive upper
    envelope) with :func:`scipy.optimize.linprog`.  The point ``u_i = -gap / N`` off ``a_bar`` is
    feasible, so the programme always has a solution [derived].  The joint values are kept
    exactly (a full joint critic, as in QTRAN), so greedy decentralised play is optimal for the
    target: ``regret`` is 0 whenever the best joint action is unique.

    Parameters
    ----------
    team : TeamValues
        The targets ``team.q`` (every joint action legal).

    Returns
    -------
    Factorization

    Examples
    --------
    >>> from rqe.cooperative import fit_igm, qtran_game, robust_team_values
    >>> from rqe.uncertainty import TVBall
    >>> game = qtran_game()
    >>> nominal, robust = robust_team_values(game), robust_team_values(game, env_risk=TVBall(0.2))
    >>> fit_igm(nominal).joint_action, fit_igm(robust).joint_action
    ((0, 0), (1, 1))
    """
    func = f"{_MOD}.fit_igm"
    flat, lead, n, N = _targets(team, func)
    X = _design(n)
    U = np.empty((flat.shape[0], X.shape[1]))
    V = np.empty(flat.shape[0])
    ok, worst = True, 0.0
    offsets = np.concatenate([[0], np.cumsum(n)[:-1]])
    for s in range(flat.shape[0]):
        q = flat[s].ravel()
        top = int(np.argmax(q))
        bar = np.unravel_index(top, n)
        V[s] = q[top]
        rest = np.delete(q, top)
        gap = float(V[s] - rest.max()) if rest.size else 0.0
        margin = gap / (2 * N)
        bounds = []
        for i in range(N):
            bounds += [(0.0, 0.0) if a == bar[i] else (None, -margin) for a in range(n[i])]
        res = linprog(X.sum(0), A_ub=-X, b_ub=V[s] - q, bounds=bounds, method="highs")
        if res.status != 0:
            ok = False
            U[s] = np.zeros(X.shape[1])
            continue
        U[s] = res.x
        U[s][offsets + np.array(bar)] = 0.0
        transformed = X @ U[s] + V[s]
        worst = max(worst, float(np.max(q - transformed)), abs(float(transformed[top] - q[top])))
    message = (f"Exact IGM factorisation (QTRAN conditions, largest violation {worst:.2e})." if ok else
               "The factorisation linear programme failed in some state; its utilities are zero there.")
    return _fit_result(flat, lead, n, _split(U, n), flat, V, worst, ok, "igm linear programme", message, {})


# ============================================================================ evaluation
def evaluate_joint_action(game, joint_action, *, env_risk=None) -> float:
    """The team return of a joint action (one step) or a deterministic joint policy (Markov game).

    Evaluate in a shifted game (:meth:`TeamGame.with_probs`, or a :class:`rqe.MarkovGame` with
    other transitions) to measure out-of-distribution performance.

    Parameters
    ----------
    game : TeamGame or MarkovGame
    joint_action : sequence of int or array_like of int
        A tuple of actions (one-step game), or an int array ``(S, N)`` (discounted) /
        ``(H, S, N)`` (finite horizon), as ``TeamValues.joint_action``.
    env_risk : None, str or operator, optional
        ``None``: the expected return; an operator: the robust return of that policy.

    Returns
    -------
    float
        The return at the game's initial law.

    Examples
    --------
    Out of distribution, the lottery pays less often: the robust choice ``(B, B)`` keeps its 6.

    >>> import numpy as np
    >>> from rqe.cooperative import evaluate_joint_action, qtran_game
    >>> game = qtran_game()
    >>> probs = np.array(game.probs); probs[0, 0] = [0.3, 0.7]
    >>> shifted = game.with_probs(probs)
    >>> evaluate_joint_action(shifted, (0, 0)), evaluate_joint_action(shifted, (1, 1))
    (4.8, 6.0)
    """
    func = f"{_MOD}.evaluate_joint_action"
    op = get_env_risk(env_risk, func=func)
    if isinstance(game, TeamGame):
        a = tuple(int(v) for v in np.asarray(joint_action).ravel())
        if len(a) != game.n_players or any(not 0 <= v < k for v, k in zip(a, game.n_actions)):
            raise ValueError(f"The 'joint_action' parameter of {func} must hold one action per agent within "
                             f"{game.n_actions}. Got {joint_action!r}.")
        p, w = game.probs[a], game.values[a]
        return float(op.evaluate(sp.csr_array(p[None]), w[:, None])[0, 0])
    _check_cooperative(game, func)
    from rqe.markov import evaluate

    lead = (game.horizon, game.n_states) if game.horizon is not None else (game.n_states,)
    ja = np.asarray(joint_action)
    if ja.shape != (*lead, game.n_players) or ja.dtype.kind not in "iu" or np.any(ja < 0) \
            or np.any(ja >= np.array(game.n_actions)):
        raise ValueError(f"The 'joint_action' parameter of {func} must be an int array of shape "
                         f"{(*lead, game.n_players)} with actions within {game.n_actions}. Got shape {ja.shape}.")
    policies = [np.eye(k)[ja[..., i]] for i, k in enumerate(game.n_actions)]
    return float(evaluate(game, policies, env_risk=op)[0])
