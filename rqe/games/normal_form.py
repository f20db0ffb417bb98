"""Finite games in normal form with any number of players.

Conventions
-----------
``payoffs[i]`` is an array of shape ``(n_1, ..., n_N)``: entry ``payoffs[i][a_1, ..., a_N]``
is the payoff of player ``i`` when player ``j`` plays action ``a_j``.  Payoffs are
maximised.  For a two-player game given as a bimatrix ``(R1, R2)`` (rows are player
1's actions, columns player 2's), ``payoffs = (R1, R2)``.

For player ``i`` the solvers use the *own-rows* matrix ``M_i`` of shape
``(n_i, prod_{j != i} n_j)``: axis ``i`` moved to the front and the other players'
axes flattened in increasing player order.  For two players ``M_1 = R1`` and
``M_2 = R2.T`` (docs/concepts.md, "Conventions").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from rqe._validation import finite_array

if TYPE_CHECKING:
    import nashpy

__all__ = ["NormalFormGame"]


class NormalFormGame:
    """An immutable N-player normal-form game (payoffs are maximised).

    Parameters
    ----------
    payoffs : sequence of array_like
        ``payoffs[i]`` has shape ``(n_1, ..., n_N)`` and holds player ``i``'s payoff,
        with ``N = len(payoffs) >= 2`` and every ``n_j >= 1``.  A single array of shape
        ``(N, n_1, ..., n_N)`` is accepted too.
    players : sequence of str, optional
        Player names (default ``"P1"``, ``"P2"``, ...).
    actions : sequence of sequence of str, optional
        Action names per player (default ``"a0"``, ``"a1"``, ...).
    name : str, optional
        A name for the game (metadata: it does not enter equality or hashing).
    description : str, default ""
        A free-text description (metadata, as ``name``).

    The game is immutable: its payoff array is read-only and setting any attribute raises
    ``AttributeError``; build a new game to change names or metadata.

    Examples
    --------
    >>> import rqe
    >>> pennies = rqe.NormalFormGame.zero_sum([[1, -1], [-1, 1]])
    >>> pennies.n_players, pennies.n_actions
    (2, (2, 2))
    >>> [float(v) for v in pennies.expected_payoffs([[0.5, 0.5], [0.5, 0.5]])]
    [0.0, 0.0]
    >>> pennies.name = "pennies"
    Traceback (most recent call last):
    ...
    AttributeError: rqe.NormalFormGame is immutable: cannot set 'name'; ...
    >>> rqe.NormalFormGame.zero_sum([[1, -1], [-1, 1]], name="pennies").name
    'pennies'
    """

    __slots__ = ("_payoffs", "_players", "_actions", "_name", "_description", "_frozen", "__dict__")

    def __init__(self, payoffs, *, players: Sequence[str] | None = None,
                 actions: Sequence[Sequence[str]] | None = None, name: str | None = None,
                 description: str = ""):
        func = "rqe.NormalFormGame"
        for key, text in (("name", name), ("description", description)):
            if text is not None and not isinstance(text, str):
                raise TypeError(f"The {key!r} parameter of {func} must be a string. Got {type(text).__name__} instead.")
        if isinstance(payoffs, np.ndarray):
            arrays = [payoffs[i] for i in range(payoffs.shape[0])] if payoffs.ndim >= 3 else None
            if arrays is None:
                raise ValueError(
                    f"The 'payoffs' parameter of {func} must be a sequence of N >= 2 arrays of shape "
                    f"(n_1, ..., n_N), or one array of shape (N, n_1, ..., n_N). Got an array of shape "
                    f"{payoffs.shape} instead.")
        elif isinstance(payoffs, Sequence) and not isinstance(payoffs, (str, bytes)):
            arrays = list(payoffs)
        else:
            raise TypeError(
                f"The 'payoffs' parameter of {func} must be a sequence of arrays, one per player. "
                f"Got {type(payoffs).__name__} instead.")
        arrays = [finite_array(p, name="payoffs", func=func) for p in arrays]
        n = len(arrays)
        if n < 2:
            raise ValueError(f"The 'payoffs' parameter of {func} must hold at least 2 players' payoffs. Got {n}.")
        shape = arrays[0].shape
        for i, a in enumerate(arrays):
            if a.shape != shape:
                raise ValueError(
                    f"The 'payoffs' parameter of {func} must hold arrays of one shape. "
                    f"Player 0's payoffs have shape {shape}, player {i}'s have shape {a.shape}.")
        if len(shape) != n:
            raise ValueError(
                f"The 'payoffs' parameter of {func} must hold, for N = {n} players, arrays with N = {n} axes "
                f"(one per player). Got arrays of shape {shape}.")
        if min(shape) < 1:
            raise ValueError(
                f"Every player of {func} must have at least one action. Got action counts {shape}.")
        stacked = np.stack(arrays)
        stacked.setflags(write=False)
        self._payoffs = stacked
        self._players = self._names(players, n, "players", "P", 1)
        if actions is not None and len(actions) != n:
            raise ValueError(
                f"The 'actions' parameter of {func} must hold one list of names per player ({n}). "
                f"Got {len(actions)}.")
        self._actions = tuple(
            self._names(None if actions is None else actions[i], k, "actions", "a", 0) for i, k in enumerate(shape))
        self._name, self._description = name, description
        self._frozen = True

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(f"rqe.NormalFormGame is immutable: cannot set {name!r}; pass names and metadata "
                                 "to the constructor (name=, description=, players=, actions=).")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        raise AttributeError(f"rqe.NormalFormGame is immutable: cannot delete {name!r}.")

    def __reduce__(self):
        return (_rebuild, (type(self), self._payoffs, self._players, self._actions, self._name, self._description))

    @staticmethod
    def _names(names, count, what, prefix, start):
        if names is None:
            return tuple(f"{prefix}{k + start}" for k in range(count))
        names = tuple(str(s) for s in names)
        if len(names) != count:
            raise ValueError(
                f"The {what!r} parameter of rqe.NormalFormGame must hold {count} names. Got {len(names)}.")
        return names

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_bimatrix(cls, R1, R2, **names) -> NormalFormGame:
        """Two-player game from payoff matrices with rows = player 1's actions.

        Examples
        --------
        >>> import rqe
        >>> g = rqe.NormalFormGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])
        >>> g.n_actions
        (2, 2)
        """
        func = "rqe.NormalFormGame.from_bimatrix"
        R1 = finite_array(R1, name="R1", func=func)
        R2 = finite_array(R2, name="R2", func=func)
        for nm, R in (("R1", R1), ("R2", R2)):
            if R.ndim != 2:
                raise ValueError(f"The {nm!r} parameter of {func} must be a 2-D matrix. Got shape {R.shape}.")
        if R1.shape != R2.shape:
            raise ValueError(
                f"The 'R1' and 'R2' parameters of {func} must have the same shape. Got {R1.shape} and {R2.shape}.")
        return cls([R1, R2], **names)

    @classmethod
    def zero_sum(cls, A, **names) -> NormalFormGame:
        """Two-player zero-sum game: player 1 receives ``A``, player 2 receives ``-A``.

        Examples
        --------
        >>> import rqe
        >>> rqe.NormalFormGame.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]).is_zero_sum
        True
        """
        A = finite_array(A, name="A", func="rqe.NormalFormGame.zero_sum")
        if A.ndim != 2:
            raise ValueError(f"The 'A' parameter of rqe.NormalFormGame.zero_sum must be a 2-D matrix. Got shape {A.shape}.")
        return cls([A, -A], **names)

    @classmethod
    def from_nashpy(cls, game) -> NormalFormGame:
        """Convert a :class:`nashpy.Game` (its ``payoff_matrices``)."""
        mats = getattr(game, "payoff_matrices", None)
        if mats is None or len(mats) != 2:
            raise TypeError(
                "The 'game' parameter of rqe.NormalFormGame.from_nashpy must be a nashpy.Game. "
                f"Got {type(game).__name__} instead.")
        return cls.from_bimatrix(mats[0], mats[1])

    def to_nashpy(self) -> nashpy.Game:
        """Convert a two-player game to a :class:`nashpy.Game`."""
        if self.n_players != 2:
            raise ValueError(f"Only two-player games convert to nashpy. This game has {self.n_players} players.")
        import nashpy  # optional: on first use

        return nashpy.Game(np.array(self._payoffs[0]), np.array(self._payoffs[1]))

    # ------------------------------------------------------------------ properties
    @property
    def payoffs(self) -> np.ndarray:
        """Read-only array of shape ``(N, n_1, ..., n_N)``."""
        return self._payoffs

    @property
    def n_players(self) -> int:
        return self._payoffs.shape[0]

    @property
    def n_actions(self) -> tuple[int, ...]:
        return tuple(self._payoffs.shape[1:])

    @property
    def players(self) -> tuple[str, ...]:
        return self._players

    @property
    def actions(self) -> tuple[tuple[str, ...], ...]:
        return self._actions

    @property
    def name(self) -> str | None:
        """The game's name (constructor metadata), or ``None``."""
        return self._name

    @property
    def description(self) -> str:
        """The game's description (constructor metadata), ``""`` when none was given."""
        return self._description

    @cached_property
    def own_rows(self) -> tuple[np.ndarray, ...]:
        """``M_i`` of shape ``(n_i, prod_{j != i} n_j)`` for each player (module docstring)."""
        mats = []
        for i in range(self.n_players):
            M = np.ascontiguousarray(np.moveaxis(self._payoffs[i], i, 0).reshape(self.n_actions[i], -1))
            M.setflags(write=False)
            mats.append(M)
        return tuple(mats)

    @cached_property
    def payoff_range(self) -> float:
        """The unit of every tolerance in payoff units: ``max_i (max u_i - min u_i)``, 1 for a constant game.

        Regret tolerances are relative to it, as pygambit's ``maxregret`` is relative to the span of
        all payoffs together (docs/results.md); unlike that span, it does not change when a constant
        is added to one player's payoffs, which changes no equilibrium.
        """
        spread = max(float(np.ptp(p)) for p in self._payoffs)
        return spread if spread > 0 else 1.0

    @cached_property
    def is_zero_sum(self) -> bool:
        """True when the payoffs sum to a constant over all action profiles."""
        total = self._payoffs.sum(axis=0)
        return bool(np.allclose(total, total.flat[0], rtol=0, atol=1e-12 * max(1.0, np.abs(self._payoffs).max())))

    def expected_payoffs(self, strategies) -> np.ndarray:
        """Expected payoff of each player at the mixed profile ``strategies``.

        ``strategies[i]`` is a probability vector of length ``n_i``.
        """
        xs = self._check_profile(strategies, "rqe.NormalFormGame.expected_payoffs")
        out = self._payoffs
        for x in reversed(xs):
            out = out @ x
        return np.asarray(out)

    def _check_profile(self, strategies, func):
        if len(strategies) != self.n_players:
            raise ValueError(
                f"The 'strategies' parameter of {func} must hold {self.n_players} strategies. Got {len(strategies)}.")
        xs = []
        for i, x in enumerate(strategies):
            x = finite_array(x, name="strategies", func=func)
            if x.shape != (self.n_actions[i],) or np.any(x < -1e-12) or abs(x.sum() - 1) > 1e-8:
                raise ValueError(
                    f"The 'strategies' parameter of {func} must hold probability vectors; entry {i} must have "
                    f"length {self.n_actions[i]}, be nonnegative and sum to 1. Got {np.round(x, 6).tolist()}.")
            xs.append(x)
        return xs

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other):
        return isinstance(other, NormalFormGame) and np.array_equal(self._payoffs, other._payoffs)

    def __hash__(self):
        return hash((self._payoffs.shape, self._payoffs.tobytes()))

    def __repr__(self):
        shape = "x".join(map(str, self.n_actions))
        return f"NormalFormGame({self.n_players} players, {shape} actions)"


def _rebuild(cls, payoffs, players, actions, name, description):
    """Unpickle a game through its constructor (which validates and freezes it)."""
    return cls(payoffs, players=players, actions=actions, name=name, description=description)
