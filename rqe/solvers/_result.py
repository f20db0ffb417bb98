"""The result family: one base, one status enumeration, and the normal-form solvers' results.

Every public result of ``rqe`` is a frozen dataclass deriving from :class:`Result`, with
``message`` first, then ``success``, the answer, its certificate, ``status`` (a
:class:`Status`), ``nit``, ``method`` and ``params``, and a ``to_dict()`` of plain Python types.  The
convention and the vocabulary (``strategies``/``policies``, ``payoffs``, ``residual``,
``gap``, ``regret``, ``exploitability``, ``complete``) are written down in ``docs/results.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any, Generic, TypeVar

import numpy as np

__all__ = ["Result", "Status", "EquilibriumResult", "EquilibriumSet", "Path", "PathEvent"]


class Status(IntEnum):
    """Status codes shared by every result (an ``IntEnum``: ``Status.SUCCESS == 0``).

    ``SUCCESS`` (0) converged or solved; ``MAX_ITER`` (1) an iteration, step or refinement
    limit was reached; ``NUMERICAL`` (2) a numerical failure (singular system, non-finite
    iterate, a sub-solver that failed); ``PATH_FAILED`` (3) path tracing failed (step-size
    underflow); ``OUT_OF_RANGE`` (4) a path left its parameter range; ``MAX_TIME`` (5) the
    time budget ``max_time`` was spent; ``INTERRUPTED`` (6) a ``KeyboardInterrupt`` stopped
    a long run, which kept what it had computed.  Each result's docstring says which codes it uses.
    ``repr`` is the integer, so printed results read as before.

    Examples
    --------
    >>> from rqe import Status
    >>> Status(1).name, Status.SUCCESS == 0
    ('MAX_ITER', True)
    """

    SUCCESS = 0
    MAX_ITER = 1
    NUMERICAL = 2
    PATH_FAILED = 3
    OUT_OF_RANGE = 4
    MAX_TIME = 5
    INTERRUPTED = 6

    def __repr__(self) -> str:
        return int.__repr__(self)


@dataclass(frozen=True)
class Result:
    """Base of every public result: a frozen dataclass with ``message`` first.

    Subclasses declare their fields in the order ``message``, ``success``, the answer
    (``strategies``, ``policies``, ...), its certificate (``residual``, ``gap``, ``regret``,
    ``exploitability``), ``status``, ``nit``, ``method``, ``params`` (see
    ``docs/results.md``).  The base converts an integer ``status`` into a :class:`Status`
    and provides :meth:`to_dict`.

    Examples
    --------
    >>> import rqe
    >>> from rqe import Result, Status
    >>> res = rqe.solve(rqe.games.catalog.matching_pennies(), tau=0.5, epsilon=0.5)
    >>> isinstance(res, Result), res.status is Status.SUCCESS, sorted(res.to_dict())[:3]
    (True, True, ['adversaries', 'gap', 'message'])
    """

    def __post_init__(self) -> None:
        status = getattr(self, "status", None)
        if (isinstance(status, (int, np.integer)) and not isinstance(status, (bool, np.bool_, Status))
                and int(status) in Status._value2member_map_):
            object.__setattr__(self, "status", Status(int(status)))

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _deprecated(cls_name: str, old: str, new: str, convert=None, *, hint: str = "") -> property:
    """A read-only property ``old`` that returns ``self.new`` with a ``DeprecationWarning``.

    ``convert``, when given, maps ``self.new`` to what ``old`` used to hold (for a field whose
    rename also changed its shape), and ``hint`` then says how to get it from ``new``.
    """
    use = f"{cls_name}.{new}{hint}"

    def getter(self):
        warnings.warn(f"{cls_name}.{old} is deprecated and will be removed in the next release; "
                      f"use {use}.", DeprecationWarning, stacklevel=2)
        value = getattr(self, new)
        return value if convert is None else convert(value)

    getter.__doc__ = f"Deprecated alias of ``{new}{hint}``."
    return property(getter)


def grid_verdict(converged, finished: bool, *, out_of_time: bool, advice: str,
                 statuses=None) -> tuple[str, Status]:
    """The ``message`` and ``status`` of a table of solves (a sweep) from its points' flags.

    ``finished`` is False when the run stopped early, because ``max_time`` was spent
    (``out_of_time``) or a ``KeyboardInterrupt`` came; ``advice`` says what to try for points that
    did not converge.  A finished table whose points failed takes the largest status of those
    points (``statuses``, one per point; ``MAX_ITER`` when not given).
    """
    flags = np.asarray(converged, dtype=bool)
    done, failed = flags.size, int(np.count_nonzero(~flags))
    if not finished:
        why = "max_time was spent" if out_of_time else "it was interrupted"
        again = "with a larger max_time, or on the remaining grid" if out_of_time else "on the remaining grid"
        return (f"The sweep stopped after {done} points because {why}; the rows hold the points solved "
                f"({failed} did not converge). Run it again {again}.",
                Status.MAX_TIME if out_of_time else Status.INTERRUPTED)
    if failed:
        worst = (Status.MAX_ITER if statuses is None else
                 Status(max(int(s) for s, ok in zip(statuses, flags) if not ok)))
        if worst == Status.SUCCESS:                      # a point short of tol with a status of 0
            worst = Status.MAX_ITER
        return (f"{failed} of {done} points did not converge to tol (their converged flag is False; worst status "
                f"{worst.name}): {advice}.", worst)
    return f"All {done} points converged.", Status.SUCCESS


def _plain(value):
    """Convert arrays and tuples of arrays to lists for ``to_dict``."""
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class EquilibriumResult(Result):
    """One equilibrium of a normal-form game with its certificate.

    Attributes
    ----------
    message : str
        What happened, and what to try when ``success`` is false.
    success : bool
        True when ``residual <= tol`` was reached.
    strategies : tuple of ndarray
        ``strategies[i]`` is player ``i``'s mixed strategy (length ``n_i``).
    adversaries : tuple of ndarray
        ``adversaries[i]`` is the distribution over the *joint* actions of the players other
        than ``i`` chosen by player ``i``'s adversary, with one axis per other player in
        increasing order (for two players, a vector over the partner's actions).  Equal to
        the product of the others' strategies when ``tau[i] = 0``.
    values : ndarray
        Each player's regularised risk-adjusted value ``U_i^{tau,epsilon}`` at the equilibrium.
    residual : float
        Fixed-point residual ``max_i ||x_i - QR_i(x)||_1``: distance between each strategy and
        the risk-averse quantal response to the profile.
    gap : float
        Upper bound on the largest gain any player can obtain by deviating in its own
        regularised risk-adjusted objective (the duality gap of its max-min problem, computed
        from the payoffs in closed form; zero exactly at an equilibrium).
    status : Status
        0 converged, 1 iteration limit, 2 numerical failure, 3 path tracing failed,
        5 time budget ``max_time`` spent.
    nit : int
        Iterations used (Newton steps plus fixed-point steps plus path steps).
    method : str
        The method that produced the answer.
    params : dict
        ``tau``, ``epsilon`` (per player), ``risk``, ``regularizer``, ``tol``.
    """

    message: str
    success: bool
    strategies: tuple
    adversaries: tuple = field(repr=False)
    values: np.ndarray = field(repr=False)
    residual: float = 0.0
    gap: float = 0.0
    status: int = 0
    nit: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)


E = TypeVar("E", bound=Result)


@dataclass(frozen=True)
class EquilibriumSet(Result, Generic[E]):
    """Several equilibria of one game, with a flag saying whether the search was exhaustive.

    Behaves as a sequence of its ``equilibria``, which all have one type:
    :class:`EquilibriumResult` for :func:`rqe.solve_all`, :class:`rqe.solvers.nash.NashEquilibrium`
    for :func:`rqe.solve_nash` (whose :class:`rqe.solvers.NashSet` derives from this class).

    Attributes
    ----------
    message : str
    complete : bool
        True only when the method guarantees that no equilibrium was missed.
    equilibria : tuple
        The equilibria found, each with its own certificate, all of one type.
    method : str
    params : dict
    """

    message: str
    complete: bool
    equilibria: tuple[E, ...]
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        kinds = {type(e).__name__ for e in self.equilibria}
        if len(kinds) > 1:
            raise TypeError(f"An EquilibriumSet holds equilibria of one type; got {sorted(kinds)}.")

    @property
    def success(self) -> bool:
        """True when at least one equilibrium was found."""
        return len(self.equilibria) > 0

    def __len__(self) -> int:
        return len(self.equilibria)

    def __iter__(self) -> Iterator:
        return iter(self.equilibria)

    def __getitem__(self, k: Any) -> Any:
        return self.equilibria[k]

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "equilibria"}
        out["equilibria"] = [e.to_dict() for e in self.equilibria]
        return out


@dataclass(frozen=True)
class PathEvent(Result):
    """A special point met along an equilibrium path.

    ``kind`` is ``"fold"`` (the path turns back in its parameter: equilibria appear or merge
    there) or ``"branch_point"`` (another branch crosses: a pitchfork or transcritical
    bifurcation).  ``parameter`` is where it happens; ``index`` is the position in the path's
    arrays of the first point recorded after it.
    """

    kind: str
    parameter: float
    index: int


@dataclass(frozen=True)
class Path(Result):
    """An equilibrium branch traced in one parameter.

    Attributes
    ----------
    message : str
    success : bool
        True when the branch reached the requested end of the parameter range.
    parameter : ndarray
        The parameter (``lam`` for :func:`rqe.qre_path`, ``tau`` for :func:`rqe.rqe_path`)
        at each recorded point, in the order of the path (it goes back on itself at folds).
    strategies : tuple of ndarray
        ``strategies[i][k]`` is player ``i``'s strategy at point ``k``.
    residual : ndarray
        Fixed-point residual at each point.
    events : tuple of PathEvent
    status : Status
        0 reached the end, 1 step limit, 3 step-size underflow, 4 left the parameter range.
    nit : int
    method : str
        ``"pseudo-arclength continuation"`` (:mod:`rqe.solvers._tracer`).
    params : dict
    """

    message: str
    success: bool
    parameter: np.ndarray = field(repr=False)
    strategies: tuple = field(repr=False)
    residual: np.ndarray = field(repr=False)
    events: tuple = ()
    status: int = 0
    nit: int = 0
    method: str = "pseudo-arclength continuation"
    params: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.parameter)

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "events"}
        out["events"] = [{"kind": e.kind, "parameter": e.parameter, "index": e.index} for e in self.events]
        return out
