"""Cross-play: every pairing of agents trained apart, and free-riding per agent.

The evaluation protocol of Qu et al. (arXiv 2602.21515, App. D.1): train populations with
independent seeds, then pair every seat-1 agent with every seat-2 agent without further
learning and record the team return (the sum of both players' expected returns).  Pairs
trained together give the *training* performance, all other pairs of the same population the
*cross-play* performance; free-riders show as a checkerboard.  Here the returns are exact
(dynamic programming over the tabular policies) or, on request, Monte Carlo rollouts with
:func:`rqe.markov.rollout`.

Aggregation (the paper does not spell it out; reconstructed): for each seed ``k`` of a
population, ``TP_k`` is the return of its own pair and ``CP_k`` the mean return of every
other pairing of the same population that involves one of its two agents; the reported
difference is ``TP_k - CP_k``, mean and standard deviation over the converged seeds.
Unconverged seeds stay in the matrix, flagged, and are left out of every mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rqe._validation import choice, positive_int
from rqe.analysis._free_riding import shared_reward_form
from rqe.games.markov import MarkovGame
from rqe.learning._srpo import LearningResult, _rng, as_markov
from rqe.learning._tabular import Tabular
from rqe.markov import rollout
from rqe.solvers._result import Result

__all__ = ["cross_play", "CrossPlayResult"]

_FUNC = "rqe.learning.cross_play"
_CHUNK = 2_000_000      # pairs x steps x states x actions evaluated at once
_SOLO_SWEEPS = 100_000  # cap on value iteration for the best solo return of a discounted game


@dataclass(frozen=True)
class CrossPlayResult(Result):
    """Team returns of every (seat-1 agent, seat-2 agent) pairing, with training vs cross-play summaries.

    Attributes
    ----------
    message : str
        The summary per population, and which agents did not converge (flagged, left out
        of every mean).
    returns : ndarray
        ``(Ka, Kb)``: team return (sum of both players' expected returns) of seat-1 agent ``k``
        of ``population_a`` with seat-2 agent ``l`` of ``population_b``.
    player_returns : ndarray
        ``(Ka, Kb, 2)``: each player's expected return.
    stderr : ndarray or None
        ``(Ka, Kb)``: standard error of the team return (rollouts only).
    labels_a, labels_b : tuple of str
        ``"<label> <seed>"`` per agent.
    groups_a, groups_b : tuple of str
        The population label of each agent.
    converged_a, converged_b : ndarray
        Whether the agent's training seed converged.
    trained_together : ndarray
        ``(Ka, Kb)`` booleans: the two agents are the pair of one training seed.
    summary : tuple of dict
        Per population present on both sides: ``group``, ``n_seeds``, ``n_converged``,
        ``training_mean``, ``training_std``, ``cross_mean``, ``cross_std``,
        ``difference_mean``, ``difference_std`` (module docstring).
    block_means : ndarray
        ``(Ga, Gb)``: mean team return over the converged pairings (not trained together) of
        each pair of populations.
    block_groups : tuple
        ``(population labels of side a, of side b)``, the rows and columns of ``block_means``.
    free_riding : ndarray or None
        Normal-form games with payoffs ``u_i = R - c(a_i)``: ``(Ka, Kb)``, the free-riding degree
        ``|E_x1 c - E_x2 c|`` of each pairing (Definition 2).
    solo_a, solo_b : ndarray or None
        Each agent's own expected return when its partner always takes the idle action.
    best_solo : ndarray or None
        ``(2,)``: the best own return a seat can get alone (partner idle), by dynamic programming.
    method : str
        ``"exact"`` or ``"rollout"``.
    params : dict
    """

    message: str
    returns: np.ndarray = field(repr=False)
    player_returns: np.ndarray = field(repr=False)
    stderr: np.ndarray | None = field(repr=False)
    labels_a: tuple = field(repr=False)
    labels_b: tuple = field(repr=False)
    groups_a: tuple = field(repr=False)
    groups_b: tuple = field(repr=False)
    converged_a: np.ndarray = field(repr=False)
    converged_b: np.ndarray = field(repr=False)
    trained_together: np.ndarray = field(repr=False)
    summary: tuple = field(repr=False)
    block_means: np.ndarray = field(repr=False)
    block_groups: tuple = field(repr=False)
    free_riding: np.ndarray | None = field(default=None, repr=False)
    solo_a: np.ndarray | None = field(default=None, repr=False)
    solo_b: np.ndarray | None = field(default=None, repr=False)
    best_solo: np.ndarray | None = field(default=None, repr=False)
    method: str = "exact"
    params: dict = field(default_factory=dict, repr=False)


def _population(pop, name: str) -> list[LearningResult]:
    runs = [pop] if isinstance(pop, LearningResult) else (list(pop) if isinstance(pop, Sequence) else None)
    if not runs or not all(isinstance(r, LearningResult) for r in runs):
        raise TypeError(f"The {name!r} parameter of {_FUNC} must be a rqe.learning.LearningResult or a sequence of "
                        f"them (populations to concatenate). Got {type(pop).__name__} instead.")
    return runs


def _agents(runs: list[LearningResult], seat: int, tab: Tabular, normal_form: bool, name: str):
    """Seat ``seat``'s policies of every seed of every run, padded ``(K, T, S, n)``, with labels and flags."""
    pols, labels, groups, conv, ident = [], [], [], [], []
    want = ((1, 1) if normal_form else ((tab.T, tab.S) if tab.finite else (1, tab.S)))
    for r in runs:
        p = np.asarray(r.policies[seat], float)
        K = p.shape[0]
        layout = (() if normal_form else ((tab.T, tab.S) if tab.finite else (tab.S,))) + (tab.sizes[seat],)
        if p.shape[1:] != layout:
            raise ValueError(f"The {name!r} parameter of {_FUNC}: the policies of {r.label!r} (shape {p.shape[1:]}) do "
                             f"not fit the game ({tab.T} steps, {tab.S} states, {tab.sizes[seat]} actions).")
        shaped = p.reshape(K, *want, p.shape[-1])
        padded = np.zeros((K, tab.T, tab.S, tab.n))
        padded[..., :tab.sizes[seat]] = shaped
        pols.append(padded)
        labels += [f"{r.label} {k}" for k in range(K)]
        groups += [r.label] * K
        conv.append(np.asarray(r.converged, bool))
        ident += [(id(r), k) for k in range(K)]
    return np.concatenate(pols), tuple(labels), tuple(groups), np.concatenate(conv), ident


def _idle(game: MarkovGame, idle, normal_form: bool):
    """Index of the idle action of each player, or ``None`` when there is none."""
    if idle is None:
        if normal_form:
            return None
        found = [a.index("idle") if "idle" in a else None for a in game.actions]
        return None if any(f is None for f in found) else found
    values = list(idle) if isinstance(idle, (list, tuple)) else [idle] * game.n_players
    out = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            if v not in game.actions[i]:
                raise ValueError(f"The 'idle' parameter of {_FUNC} must name an action of player {i} "
                                 f"({list(game.actions[i])}). Got {v!r} instead.")
            v = game.actions[i].index(v)
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < game.n_actions[i]:
            raise ValueError(f"The 'idle' parameter of {_FUNC} must be an action index or name per player. "
                             f"Got {idle!r} instead.")
        out.append(int(v))
    for i, v in enumerate(out):
        if not np.all(game.legal[i][:, v]):
            raise ValueError(f"The 'idle' parameter of {_FUNC}: action {game.actions[i][v]!r} of player {i} must be "
                             "legal in every state.")
    return out


def _solo(tab: Tabular, agents: np.ndarray, seat: int, idle: list):
    """Own returns of each agent with an idle partner, and the best such return (dynamic programming)."""
    partner = np.zeros((1, tab.T, tab.S, tab.n))
    partner[..., idle[1 - seat]] = 1.0
    K = agents.shape[0]
    pair = np.zeros((K, 2, tab.T, tab.S, tab.n))
    pair[:, seat] = agents
    pair[:, 1 - seat] = partner
    solo = tab.expected_returns(pair)[:, seat]
    # best own return alone: V_t(s) = max_a [r(s, a, idle) + gamma sum P(s' | s, a, idle) V_{t+1}(s')]
    sizes = (tab.n,) * 2
    A = tab.A
    cols = [np.ravel_multi_index((a, idle[1]) if seat == 0 else (idle[0], a), sizes) for a in range(tab.n)]
    P = tab.P
    legal = tab.legal[seat]
    V = np.zeros(tab.S)
    steps = range(tab.T - 1, -1, -1) if tab.finite else range(_SOLO_SWEEPS)
    for t in steps:
        R = tab.rewards[t if len(tab.rewards) > 1 else 0][seat].reshape(tab.S, A)[:, cols]     # (S, n)
        cont = (P @ V).reshape(tab.S, A)[:, cols]
        Q = np.where(legal, R + tab.gamma * cont, -np.inf)
        new = Q.max(axis=1)
        if not tab.finite and np.max(np.abs(new - V)) <= 1e-13 * tab.scale:
            V = new
            break
        V = new
    return solo, float(tab.mu @ V)


def _summary(R, conv_a, conv_b, groups_a, groups_b, together):
    rows = []
    for g in dict.fromkeys(groups_a):
        if g not in groups_b:
            continue
        ia = np.array([k for k, x in enumerate(groups_a) if x == g])
        ib = np.array([k for k, x in enumerate(groups_b) if x == g])
        sub = R[np.ix_(ia, ib)]
        ok = conv_a[ia][:, None] & conv_b[ib][None, :]
        tog = together[np.ix_(ia, ib)]
        train = sub[tog & ok]
        cross = sub[~tog & ok]
        diffs = []
        for r, c in zip(*np.nonzero(tog & ok)):
            mask = ok.copy() & ~tog
            involved = np.zeros_like(mask)
            involved[r, :] = True
            involved[:, c] = True
            vals = sub[mask & involved]
            if vals.size:
                diffs.append(sub[r, c] - vals.mean())
        diffs = np.array(diffs)

        def stat(x, f):
            return float(f(x)) if x.size else float("nan")

        rows.append({"group": g, "n_seeds": int(tog.sum()), "n_converged": int((tog & ok).sum()),
                     "training_mean": stat(train, np.mean), "training_std": stat(train, np.std),
                     "cross_mean": stat(cross, np.mean), "cross_std": stat(cross, np.std),
                     "difference_mean": stat(diffs, np.mean), "difference_std": stat(diffs, np.std)})
    ga, gb = tuple(dict.fromkeys(groups_a)), tuple(dict.fromkeys(groups_b))
    blocks = np.full((len(ga), len(gb)), np.nan)
    for x, g in enumerate(ga):
        for y, h in enumerate(gb):
            ia = np.array([k for k, v in enumerate(groups_a) if v == g])
            ib = np.array([k for k, v in enumerate(groups_b) if v == h])
            ok = conv_a[ia][:, None] & conv_b[ib][None, :] & ~together[np.ix_(ia, ib)]
            if ok.any():
                blocks[x, y] = float(R[np.ix_(ia, ib)][ok].mean())
    return tuple(rows), blocks, (ga, gb)


def cross_play(population_a, population_b, game, *, method: str = "exact", n_episodes: int = 1000, rng=None,
               idle=None) -> CrossPlayResult:
    """Pair every seat-1 agent of ``population_a`` with every seat-2 agent of ``population_b``.

    Parameters
    ----------
    population_a, population_b : LearningResult or sequence of LearningResult
        Trained populations (:func:`rqe.learning.srpo`, :func:`rqe.learning.ippo`); a sequence
        is concatenated (for example ``[ippo_result, srpo_result]`` on both sides gives the
        paper's square matrix with blocks IPPO-IPPO, IPPO-SRPO, ...).
    game : NormalFormGame or MarkovGame
        A two-player game with the layout the populations were trained in.
    method : {"exact", "rollout"}
        ``"exact"``: expected returns by dynamic programming; ``"rollout"``: ``n_episodes``
        Monte Carlo episodes per pairing (:func:`rqe.markov.rollout`), with standard errors.
    n_episodes : int, default 1000
    rng : numpy.random.Generator or int, optional
        For rollouts (default seed 0).
    idle : int, str or sequence, optional
        The idle action of each player (index or name) for the solo returns; Markov games
        default to an action named ``"idle"`` when every player has one.

    Returns
    -------
    CrossPlayResult

    Examples
    --------
    Independent learners in the stag hunt coordinate seed by seed; paired across seeds they
    can miscoordinate:

    >>> import numpy as np, rqe
    >>> game = rqe.games.catalog.stag_hunt()
    >>> pop = rqe.learning.ippo(game, epsilon=0.2, seeds=6, iters=3000, rng=0)
    >>> cp = rqe.learning.cross_play(pop, pop, game)
    >>> cp.returns.shape, bool(np.all(np.diag(cp.returns) >= 3.9))
    ((6, 6), True)
    >>> s = cp.summary[0]
    >>> s["group"], s["training_mean"] > s["cross_mean"]
    ('IPPO', True)
    """
    runs_a, runs_b = _population(population_a, "population_a"), _population(population_b, "population_b")
    mgame, normal_form = as_markov(game, _FUNC)
    if mgame.n_players != 2:
        raise ValueError(f"The 'game' parameter of {_FUNC} must be a two-player game. Got {mgame.n_players} players.")
    choice(method, ("exact", "rollout"), name="method", func=_FUNC)
    n_episodes = positive_int(n_episodes, name="n_episodes", func=_FUNC, low=2)
    tab = Tabular(mgame)
    A, labels_a, groups_a, conv_a, id_a = _agents(runs_a, 0, tab, normal_form, "population_a")
    B, labels_b, groups_b, conv_b, id_b = _agents(runs_b, 1, tab, normal_form, "population_b")
    Ka, Kb = A.shape[0], B.shape[0]
    together = np.array([[x == y for y in id_b] for x in id_a], dtype=bool).reshape(Ka, Kb)
    stderr = None
    if method == "exact":
        per = max(1, _CHUNK // max(1, tab.T * tab.S * tab.n))
        flat_a = np.repeat(np.arange(Ka), Kb)
        flat_b = np.tile(np.arange(Kb), Ka)
        out = np.empty((Ka * Kb, 2))
        for start in range(0, Ka * Kb, per):
            sl = slice(start, start + per)
            out[sl] = tab.expected_returns(np.stack([A[flat_a[sl]], B[flat_b[sl]]], axis=1))
        player = out.reshape(Ka, Kb, 2)
    else:
        gen = _rng(rng, _FUNC)
        player = np.empty((Ka, Kb, 2))
        stderr = np.empty((Ka, Kb))

        def layout(p, seat):
            p = p[..., :tab.sizes[seat]]
            return p if tab.finite else p[0]

        for k in range(Ka):
            for l in range(Kb):
                sim = rollout(mgame, [layout(A[k], 0), layout(B[l], 1)], n_episodes, rng=gen)
                player[k, l] = sim.mean
                team = sim.returns.sum(axis=1)
                stderr[k, l] = team.std(ddof=1) / np.sqrt(n_episodes)
    returns = player.sum(axis=2)
    summary, blocks, block_groups = _summary(returns, conv_a, conv_b, groups_a, groups_b, together)

    free = None
    if normal_form:
        try:
            _, c = shared_reward_form(game)
        except ValueError:
            c = None
        if c is not None:
            free = np.abs((A[:, 0, 0, :tab.sizes[0]] @ c)[:, None] - (B[:, 0, 0, :tab.sizes[1]] @ c)[None, :])
    idle_idx = _idle(mgame, idle, normal_form)
    solo_a = solo_b = best = None
    if idle_idx is not None:
        solo_a, best_a = _solo(tab, A, 0, idle_idx)
        solo_b, best_b = _solo(tab, B, 1, idle_idx)
        best = np.array([best_a, best_b])

    bad_a = [labels_a[k] for k in np.flatnonzero(~conv_a)]
    bad_b = [labels_b[k] for k in np.flatnonzero(~conv_b)]
    parts = [f"{s['group']}: training {s['training_mean']:.4g} +- {s['training_std']:.2g}, cross-play "
             f"{s['cross_mean']:.4g} +- {s['cross_std']:.2g}, difference {s['difference_mean']:.4g} +- "
             f"{s['difference_std']:.2g} ({s['n_converged']} of {s['n_seeds']} seeds converged)" for s in summary]
    message = "; ".join(parts) if parts else "No population appears on both sides (no training pairs)."
    if bad_a or bad_b:
        message += (f". Unconverged agents (flagged, excluded from every mean): {', '.join(bad_a + bad_b)}")
    message += "."
    return CrossPlayResult(
        message=message, returns=returns, player_returns=player, stderr=stderr, labels_a=labels_a,
        labels_b=labels_b, groups_a=groups_a, groups_b=groups_b, converged_a=conv_a, converged_b=conv_b,
        trained_together=together, summary=summary, block_means=blocks, block_groups=block_groups,
        free_riding=free, solo_a=solo_a, solo_b=solo_b, best_solo=best, method=method,
        params={"n_episodes": n_episodes if method == "rollout" else None, "idle": idle_idx})
