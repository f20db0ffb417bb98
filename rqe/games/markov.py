"""Finite Markov (stochastic) games with N players.

Conventions
-----------
States ``s = 0..S-1``; player ``i`` has ``n_i`` actions in every state, with a legality mask
``legal[i][s, a_i]`` where action sets differ by state.  A *joint action* ``a = (a_1..a_N)``
is also indexed by its position ``ravel(a)`` in C order over ``(n_1, ..., n_N)``; there are
``A = n_1 * ... * n_N`` of them.

* ``rewards[i, s, a_1, ..., a_N]``: player ``i``'s reward (maximised); time-indexed games give
  ``rewards[h, i, s, ...]`` for the steps ``h = 0..H-1``.
* ``transitions``: ``P(s' | s, a)`` as a dense array ``(S, n_1, ..., n_N, S)`` or a
  ``scipy.sparse`` matrix of shape ``(S * A, S)`` whose row ``s * A + ravel(a)`` is the law of
  the next state.  Rows sum to at most 1: the missing mass ``1 - sum_s' P(s' | s, a)`` ends
  the game (every later reward is 0).
* Either a finite ``horizon`` ``H`` (steps ``h = 0..H-1``, time-indexed policies) or a
  ``discount`` ``gamma`` in ``[0, 1)`` (stationary policies).
* ``initial``: the law of the first state.

Policies are one array per player: ``(H, S, n_i)`` for a finite horizon, ``(S, n_i)`` for a
discounted game.  A normal-form game is the Markov game with one state and horizon 1
(:meth:`MarkovGame.from_normal_form`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from rqe._validation import finite_array
from rqe.games._sgamesolver import from_sgame, to_sgame
from rqe.games.normal_form import NormalFormGame

__all__ = ["MarkovGame"]

_FUNC = "rqe.MarkovGame"
_ROW_TOL = 1e-9        # a transition row may exceed 1 by this much (rounding), and is then rescaled
_STOP_TOL = 1e-12      # missing mass below this is rounding, not termination


def _names(names, count: int, what: str, prefix: str, start: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"{prefix}{k + start}" for k in range(count))
    names = tuple(str(s) for s in names)
    if len(names) != count:
        raise ValueError(f"The {what!r} parameter of {_FUNC} must hold {count} names. Got {len(names)}.")
    return names


class MarkovGame:
    """An immutable N-player Markov game with finite states and actions (rewards are maximised).

    Parameters
    ----------
    rewards : array_like
        Shape ``(N, S, n_1, ..., n_N)``, or ``(H, N, S, n_1, ..., n_N)`` for rewards that
        depend on the step (finite horizon only).
    transitions : array_like or scipy.sparse matrix
        Dense ``(S, n_1, ..., n_N, S)`` or sparse ``(S * A, S)`` (module docstring).  Entries
        are nonnegative and each row sums to at most 1.
    initial : array_like, optional
        Law of the first state, shape ``(S,)``; uniform by default.
    horizon : int, optional
        Number of steps ``H >= 1``.  Give exactly one of ``horizon`` and ``discount``.
    discount : float, optional
        Discount factor ``gamma`` in ``[0, 1)``.
    legal : sequence of array_like, optional
        ``legal[i]`` is a boolean array ``(S, n_i)``: the actions player ``i`` may take in each
        state (every state needs at least one).  All actions are legal by default.
    players, actions, states : sequences of str, optional
        Names (defaults ``"P1"``..., ``"a0"``..., ``"s0"``...).

    Examples
    --------
    A two-state game in which the players coordinate to stay in the good state:

    >>> import numpy as np, rqe
    >>> r = np.zeros((2, 2, 2, 2))
    >>> r[:, 0] = [[1, 0], [0, 0]]             # state 0: both get 1 when both play action 0
    >>> P = np.zeros((2, 2, 2, 2))
    >>> P[:, :, :, 1] = 1.0                     # any joint action leads to state 1 ...
    >>> P[0, 0, 0] = [1.0, 0.0]                 # ... except (0, 0) in state 0
    >>> game = rqe.MarkovGame(r, P, initial=[1, 0], discount=0.9)
    >>> game.n_players, game.n_states, game.n_actions, game.discount
    (2, 2, (2, 2), 0.9)
    >>> game.transitions.shape                  # (S * A, S), sparse
    (8, 2)
    """

    __slots__ = ("_rewards", "_time_indexed", "_P", "_stop", "_initial", "_horizon", "_discount", "_legal",
                 "_players", "_actions", "_states", "_shape", "_frozen", "__dict__")

    def __init__(self, rewards, transitions, *, initial=None, horizon: int | None = None,
                 discount: float | None = None, legal: Sequence | None = None,
                 players: Sequence[str] | None = None, actions: Sequence[Sequence[str]] | None = None,
                 states: Sequence[str] | None = None):
        self._horizon, self._discount = self._check_time(horizon, discount)
        R = finite_array(rewards, name="rewards", func=_FUNC)
        self._rewards, self._time_indexed, N, S, n = self._check_rewards(R, transitions)
        self._shape = (N, S, n)
        self._P, self._stop = self._check_transitions(transitions, S, n)
        self._initial = self._check_initial(initial, S)
        self._legal = self._check_legal(legal, S, n)
        self._players = _names(players, N, "players", "P", 1)
        if actions is not None and len(actions) != N:
            raise ValueError(f"The 'actions' parameter of {_FUNC} must hold one list of names per player ({N}). "
                             f"Got {len(actions)}.")
        self._actions = tuple(_names(None if actions is None else actions[i], k, "actions", "a", 0)
                              for i, k in enumerate(n))
        self._states = _names(states, S, "states", "s", 0)
        self._frozen = True

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(f"rqe.MarkovGame is immutable: cannot set {name!r}. Use MarkovGame.replace(...) or "
                                 "build a new game.")
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ validation
    @staticmethod
    def _check_time(horizon, discount):
        if (horizon is None) == (discount is None):
            raise ValueError(f"{_FUNC} needs exactly one of 'horizon' (an int >= 1) and 'discount' (a float in "
                             f"[0, 1)). Got horizon={horizon!r} and discount={discount!r}.")
        if horizon is not None:
            if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
                raise ValueError(f"The 'horizon' parameter of {_FUNC} must be an int >= 1. Got {horizon!r} instead.")
            return int(horizon), None
        if (isinstance(discount, bool) or not isinstance(discount, (int, float, np.integer, np.floating))
                or not np.isfinite(discount) or not 0 <= discount < 1):
            raise ValueError(f"The 'discount' parameter of {_FUNC} must be a float in [0, 1). "
                             f"Got {discount!r} instead.")
        return None, float(discount)

    def _check_rewards(self, R, transitions):
        dense_P = not sp.issparse(transitions)
        P_ndim = np.ndim(transitions) if dense_P else None
        # number of players: from the dense transition tensor when there is one, else from rewards
        if dense_P:
            N = P_ndim - 2
            if N < 1:
                raise ValueError(f"The 'transitions' parameter of {_FUNC} must have shape (S, n_1, ..., n_N, S) "
                                 f"or be a scipy.sparse matrix (S * A, S). Got shape {np.shape(transitions)}.")
        else:
            N = R.shape[0] if R.ndim == R.shape[0] + 2 else (R.shape[1] if R.ndim >= 2 else 0)
        time_indexed = R.ndim == N + 3
        if R.ndim not in (N + 2, N + 3) or N < 2:
            raise ValueError(f"The 'rewards' parameter of {_FUNC} must have shape (N, S, n_1, ..., n_N) or "
                             f"(H, N, S, n_1, ..., n_N) with N >= 2 players. Got shape {R.shape}.")
        if time_indexed and self._horizon is None:
            raise ValueError(f"Time-indexed 'rewards' (shape (H, N, S, ...)) of {_FUNC} need a finite horizon; "
                             f"a discounted game has stationary rewards (N, S, ...). Got shape {R.shape}.")
        if time_indexed and R.shape[0] != self._horizon:
            raise ValueError(f"The 'rewards' parameter of {_FUNC} is time-indexed with {R.shape[0]} steps but "
                             f"horizon={self._horizon}.")
        R = R if time_indexed else R[None]
        if R.shape[1] != N:
            raise ValueError(f"The 'rewards' parameter of {_FUNC} must hold one reward array per player "
                             f"({N}, from the transitions). Got shape {R.shape[int(not time_indexed):]}.")
        S, n = R.shape[2], tuple(R.shape[3:])
        if S < 1 or min(n) < 1:
            raise ValueError(f"{_FUNC} needs at least one state and one action per player. Got rewards of shape "
                             f"{R.shape[int(not time_indexed):]}.")
        R = np.ascontiguousarray(R)
        R.setflags(write=False)
        return R, time_indexed, N, S, n

    @staticmethod
    def _check_transitions(transitions, S, n):
        A = int(np.prod(n))
        expected = (S, *n, S)
        if sp.issparse(transitions):
            P = sp.csr_array(transitions, dtype=float, copy=True)
            if P.shape != (S * A, S):
                raise ValueError(f"The sparse 'transitions' parameter of {_FUNC} must have shape (S * A, S) = "
                                 f"{(S * A, S)} for {S} states and joint actions {n}. Got {P.shape}.")
            data = P.data
        else:
            dense = finite_array(transitions, name="transitions", func=_FUNC)
            if dense.shape != expected:
                raise ValueError(f"The 'transitions' parameter of {_FUNC} must have shape (S, n_1, ..., n_N, S) = "
                                 f"{expected} to match the rewards. Got {dense.shape}.")
            P = sp.csr_array(dense.reshape(S * A, S))
            data = P.data
        if not np.all(np.isfinite(data)):
            raise ValueError(f"The 'transitions' parameter of {_FUNC} must contain only finite numbers. "
                             f"Got {int(np.sum(~np.isfinite(data)))} non-finite entries.")
        if np.any(data < 0):
            row = int(np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))[np.argmax(data < 0)])
            raise ValueError(f"The 'transitions' parameter of {_FUNC} must be nonnegative. Got a negative "
                             f"probability in row {row} (state {row // A}, joint action "
                             f"{np.unravel_index(row % A, n)}).")
        P.eliminate_zeros()
        P.sort_indices()
        sums = np.asarray(P.sum(axis=1)).ravel()
        over = sums > 1 + _ROW_TOL
        if np.any(over):
            row = int(np.argmax(over))
            raise ValueError(f"The 'transitions' parameter of {_FUNC} must have rows summing to at most 1 (the "
                             f"missing mass ends the game). Row {row} (state {row // A}, joint action "
                             f"{tuple(int(v) for v in np.unravel_index(row % A, n))}) sums to {sums[row]:.12g}.")
        if np.any(sums > 1):
            P = sp.csr_array(sp.diags(1.0 / np.maximum(sums, 1.0)) @ P)
        stop = np.clip(1.0 - np.minimum(sums, 1.0), 0.0, 1.0)
        stop[stop <= _STOP_TOL] = 0.0
        P.data.setflags(write=False)
        stop.setflags(write=False)
        return P, stop

    @staticmethod
    def _check_initial(initial, S):
        if initial is None:
            mu = np.full(S, 1.0 / S)
        else:
            mu = finite_array(initial, name="initial", func=_FUNC)
            if mu.shape != (S,) or np.any(mu < 0) or abs(mu.sum() - 1.0) > 1e-9:
                raise ValueError(f"The 'initial' parameter of {_FUNC} must be a probability vector of length {S} "
                                 f"(nonnegative, summing to 1). Got {np.round(mu, 6).tolist()}.")
            mu = mu / mu.sum()
        mu.setflags(write=False)
        return mu

    @staticmethod
    def _check_legal(legal, S, n):
        if legal is None:
            masks = [np.ones((S, k), dtype=bool) for k in n]
        else:
            if len(legal) != len(n):
                raise ValueError(f"The 'legal' parameter of {_FUNC} must hold one (S, n_i) mask per player "
                                 f"({len(n)}). Got {len(legal)}.")
            masks = []
            for i, m in enumerate(legal):
                m = np.asarray(m)
                if m.shape != (S, n[i]) or m.dtype.kind not in "bui":
                    raise ValueError(f"The 'legal' parameter of {_FUNC} must hold boolean arrays; entry {i} must "
                                     f"have shape {(S, n[i])}. Got shape {m.shape} and dtype {m.dtype}.")
                m = m.astype(bool)
                empty = ~m.any(axis=1)
                if np.any(empty):
                    raise ValueError(f"Every player of {_FUNC} needs a legal action in every state. Player {i} has "
                                     f"none in state {int(np.argmax(empty))}.")
                masks.append(m)
        for m in masks:
            m.setflags(write=False)
        return tuple(masks)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_normal_form(cls, game: NormalFormGame, *, horizon: int = 1) -> MarkovGame:
        """The one-state game that repeats ``game`` for ``horizon`` steps.

        Examples
        --------
        >>> import rqe
        >>> mg = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt())
        >>> mg.n_states, mg.horizon, mg.terminates
        (1, 1, False)
        """
        if not isinstance(game, NormalFormGame):
            raise TypeError(f"The 'game' parameter of {_FUNC}.from_normal_form must be a rqe.NormalFormGame. "
                            f"Got {type(game).__name__} instead.")
        n = game.n_actions
        P = np.ones((1, *n, 1))
        return cls(np.asarray(game.payoffs)[:, None], P, initial=[1.0], horizon=horizon, players=game.players,
                   actions=game.actions)

    def replace(self, *, horizon: int | None = None, discount: float | None = None, initial=None) -> MarkovGame:
        """A copy with another horizon or discount (give one) and/or another initial law.

        Examples
        --------
        >>> import rqe
        >>> g = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt())
        >>> g.replace(discount=0.5).discount
        0.5
        """
        if horizon is None and discount is None:
            horizon, discount = self._horizon, self._discount
        if self._time_indexed and horizon != self._horizon:
            raise ValueError("A game with time-indexed rewards keeps its horizon; got "
                             f"horizon={horizon!r}, discount={discount!r}.")
        rewards = self._rewards if self._time_indexed else self._rewards[0]
        return MarkovGame(rewards, self._P, initial=self._initial if initial is None else initial, horizon=horizon,
                          discount=discount, legal=self._legal, players=self._players, actions=self._actions,
                          states=self._states)

    # ------------------------------------------------------------------ properties
    @property
    def n_players(self) -> int:
        return self._shape[0]

    @property
    def n_states(self) -> int:
        return self._shape[1]

    @property
    def n_actions(self) -> tuple[int, ...]:
        return self._shape[2]

    @property
    def n_joint(self) -> int:
        """Number of joint actions ``A = n_1 * ... * n_N``."""
        return int(np.prod(self._shape[2]))

    @property
    def horizon(self) -> int | None:
        return self._horizon

    @property
    def discount(self) -> float | None:
        return self._discount

    @property
    def time_indexed(self) -> bool:
        """True when the rewards depend on the step."""
        return self._time_indexed

    @property
    def rewards(self) -> np.ndarray:
        """Read-only rewards as given: ``(N, S, n_1..n_N)`` or ``(H, N, S, n_1..n_N)``."""
        return self._rewards if self._time_indexed else self._rewards[0]

    def reward(self, step: int = 0) -> np.ndarray:
        """Rewards at step ``step``: shape ``(N, S, n_1, ..., n_N)`` (the same at every step unless time-indexed)."""
        return self._rewards[step if self._time_indexed else 0]

    @property
    def transitions(self) -> sp.csr_array:
        """``P`` as a CSR matrix ``(S * A, S)``; row ``s * A + ravel(a)`` (do not modify)."""
        return self._P

    def transition_tensor(self) -> np.ndarray:
        """``P`` as a dense array ``(S, n_1, ..., n_N, S)``."""
        return self._P.toarray().reshape(self.n_states, *self.n_actions, self.n_states)

    @property
    def stop(self) -> np.ndarray:
        """Probability ``1 - sum_s' P(s' | s, a)`` that the game ends, per row of :attr:`transitions`."""
        return self._stop

    @property
    def terminates(self) -> bool:
        """True when some state and joint action can end the game."""
        return bool(np.any(self._stop > 0))

    @property
    def initial(self) -> np.ndarray:
        return self._initial

    @property
    def legal(self) -> tuple[np.ndarray, ...]:
        """``legal[i]`` of shape ``(S, n_i)``: player ``i``'s legal actions in each state."""
        return self._legal

    @cached_property
    def all_legal(self) -> bool:
        """True when every action is legal in every state."""
        return all(bool(m.all()) for m in self._legal)

    @property
    def players(self) -> tuple[str, ...]:
        return self._players

    @property
    def actions(self) -> tuple[tuple[str, ...], ...]:
        return self._actions

    @property
    def states(self) -> tuple[str, ...]:
        return self._states

    def stage_game(self, state: int, step: int = 0) -> NormalFormGame:
        """The one-shot game of immediate rewards at ``state`` (legal actions only).

        Examples
        --------
        >>> import rqe
        >>> mg = rqe.MarkovGame.from_normal_form(rqe.games.catalog.stag_hunt())
        >>> mg.stage_game(0) == rqe.games.catalog.stag_hunt()
        True
        """
        idx = np.ix_(*[np.flatnonzero(m[state]) for m in self._legal])
        payoffs = [self.reward(step)[i, state][idx] for i in range(self.n_players)]
        return NormalFormGame(payoffs, players=self._players,
                              actions=[[self._actions[i][a] for a in np.flatnonzero(m[state])]
                                       for i, m in enumerate(self._legal)])

    # ------------------------------------------------------------------ interop
    @classmethod
    def from_sgamesolver(cls, sgame, *, initial=None) -> MarkovGame:
        """Convert an ``sgamesolver.SGame`` (discounted, one discount for all players).

        ``SGame(u, phi, delta)`` holds, per state, payoffs ``u[s]`` of shape ``(N, n_1..n_N)`` and
        transitions ``phi[s]`` of shape ``(n_1..n_N, S)``; ``rqe`` needs the same number of actions
        in every state (smaller action sets are padded with illegal actions) and one discount.
        """
        return from_sgame(cls, sgame, initial=initial)

    def to_sgamesolver(self) -> Any:
        """Convert a discounted game to an ``sgamesolver.SGame`` (illegal actions are dropped)."""
        return to_sgame(self)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other):
        return (isinstance(other, MarkovGame) and self._shape == other._shape
                and self._horizon == other._horizon and self._discount == other._discount
                and np.array_equal(self._rewards, other._rewards)
                and (self._P != other._P).nnz == 0 and np.array_equal(self._initial, other._initial)
                and all(np.array_equal(a, b) for a, b in zip(self._legal, other._legal)))

    __hash__ = None  # type: ignore[assignment]  # equal games compare equal; arrays are not hashed

    def __repr__(self):
        shape = "x".join(map(str, self.n_actions))
        time = f"horizon {self._horizon}" if self._horizon is not None else f"discount {self._discount:g}"
        return f"MarkovGame({self.n_players} players, {self.n_states} states, {shape} actions, {time})"
