"""Conversion between :class:`rqe.MarkovGame` and ``sgamesolver.SGame`` (optional package).

sgamesolver (Eibelshaeuser and Poensgen; ``pip install sgamesolver``) stores a discounted
stochastic game as ``SGame(payoff_matrices, transition_matrices, discount_factors)``:
``payoff_matrices[s]`` of shape ``(N, n_1(s), ..., n_N(s))`` and ``transition_matrices[s]`` of
shape ``(n_1(s), ..., n_N(s), S)``, with per-state action counts, and one discount factor per
player; internally ``u`` is ``(S, N, m, ..., m)`` and ``phi`` is ``(S, m, ..., m, S)``,
zero-padded to ``m = max n_i(s)`` (read from ``sgamesolver/sgame.py``, version 1.0.2).  Its
values solve ``V = u + delta * phi V``, so a row of ``phi`` summing to less than 1 ends the
game with the missing mass, as in :class:`rqe.MarkovGame`.

``rqe`` gives each player the same ``n_i`` actions in every state, ``n_i = max_s n_i(s)``:
a state with fewer actions gets illegal trailing actions (reward 0, staying in the state), so
``from_sgame(to_sgame(game))`` returns ``game`` whenever its illegal actions are trailing and
padded that way (``initial`` is not part of an SGame: pass it again).  Action names come from
the state where the player has the most actions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["from_sgame", "to_sgame"]

_FROM = "rqe.MarkovGame.from_sgamesolver"
_TO = "rqe.MarkovGame.to_sgamesolver"


def from_sgame(cls, sgame, initial=None):
    """``cls`` (a MarkovGame class) built from an ``sgamesolver.SGame``; see the module docstring."""
    needed = ("u", "phi", "delta", "nums_actions", "num_states", "num_players", "player_labels", "state_labels",
              "action_labels")
    if not all(hasattr(sgame, name) for name in needed):
        raise TypeError(f"The 'sgame' parameter of {_FROM} must be an sgamesolver.SGame. "
                        f"Got {type(sgame).__name__} instead.")
    S, N = int(sgame.num_states), int(sgame.num_players)
    nums = np.asarray(sgame.nums_actions, dtype=int).reshape(S, N)
    delta = np.asarray(sgame.delta, dtype=float).reshape(-1)
    if np.ptp(delta) > 0:
        raise ValueError(f"The 'sgame' parameter of {_FROM} must have one discount factor for all players "
                         f"(rqe.MarkovGame has a single 'discount'). Got delta={delta.tolist()}.")
    if not 0 <= delta[0] < 1:
        raise ValueError(f"The 'sgame' parameter of {_FROM} must have a discount factor in [0, 1). "
                         f"Got delta={delta.tolist()}.")
    n = tuple(int(k) for k in nums.max(axis=0))
    keep = tuple(slice(0, k) for k in n)
    rewards = np.array(np.asarray(sgame.u, dtype=float)[(slice(None), slice(None)) + keep].swapaxes(0, 1))
    phi = np.array(np.asarray(sgame.phi, dtype=float)[(slice(None),) + keep + (slice(None),)])
    legal = [np.arange(n[i])[None, :] < nums[:, i:i + 1] for i in range(N)]
    grids = np.meshgrid(*[np.arange(k) for k in n], indexing="ij")
    for s in range(S):
        illegal = np.zeros(n, dtype=bool)
        for i in range(N):
            illegal |= grids[i] >= nums[s, i]
        rewards[:, s][:, illegal] = 0.0
        phi[s][illegal] = 0.0
        phi[s][illegal, s] = 1.0                      # padding actions stay put
    actions = []
    for i in range(N):
        names = [str(a) for a in sgame.action_labels[int(np.argmax(nums[:, i]))][i]][:n[i]]
        actions.append(names if len(names) == n[i] else [f"a{a}" for a in range(n[i])])
    return cls(rewards, phi, initial=initial, discount=float(delta[0]), legal=legal,
               players=[str(p) for p in sgame.player_labels], actions=actions,
               states=[str(s) for s in sgame.state_labels])


def _sgamesolver():
    try:
        import sgamesolver  # optional: on first use
    except ImportError:
        raise ImportError(f"{_TO} needs the optional package sgamesolver (pip install sgamesolver).") from None
    return sgamesolver


def to_sgame(game):
    """An ``sgamesolver.SGame`` of a discounted MarkovGame, without its illegal actions."""
    if game.discount is None:
        raise ValueError(f"{_TO} needs a discounted game: sgamesolver's stochastic games are discounted with "
                         f"stationary strategies. Got a game with horizon={game.horizon}; use "
                         "game.replace(discount=...) for a discounted version.")
    sgamesolver = _sgamesolver()
    N, S, A = game.n_players, game.n_states, game.n_joint
    R, P = game.reward(0), game.transitions
    payoffs, transitions, labels = [], [], []
    for s in range(S):
        L = [np.flatnonzero(m[s]) for m in game.legal]
        idx = np.ix_(*L)
        payoffs.append(R[:, s][(slice(None),) + idx])
        rows = P[[s * A + j for j in range(A)]].toarray().reshape(*game.n_actions, S)
        transitions.append(rows[idx])
        labels.append([[game.actions[i][a] for a in L[i]] for i in range(N)])
    sgame = sgamesolver.SGame(payoffs, transitions, game.discount)
    sgame.state_labels = list(game.states)
    sgame.player_labels = list(game.players)
    sgame.action_labels = labels
    return sgame
