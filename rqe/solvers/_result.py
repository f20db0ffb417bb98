"""Result types shared by the normal-form solvers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["EquilibriumResult", "EquilibriumSet", "Path", "PathEvent"]


def _plain(value):
    """Convert arrays and tuples of arrays to lists for ``to_dict``."""
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
class EquilibriumResult:
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
    status : int
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

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class EquilibriumSet:
    """Several equilibria of one game, with a flag saying whether the search was exhaustive.

    Behaves as a sequence of its ``equilibria``.

    Attributes
    ----------
    message : str
    complete : bool
        True only when the method guarantees that no equilibrium was missed.
    equilibria : tuple
        The equilibria found, each with its own certificate.
    method : str
    params : dict
    """

    message: str
    complete: bool
    equilibria: tuple
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.equilibria)

    def __iter__(self) -> Iterator:
        return iter(self.equilibria)

    def __getitem__(self, k):
        return self.equilibria[k]

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "equilibria"}
        out["equilibria"] = [e.to_dict() for e in self.equilibria]
        return out


@dataclass(frozen=True)
class PathEvent:
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
class Path:
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
    status : int
        0 reached the end, 1 step limit, 3 step-size underflow, 4 left the parameter range.
    nit : int
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
    params: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.parameter)

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "events"}
        out["events"] = [{"kind": e.kind, "parameter": e.parameter, "index": e.index} for e in self.events]
        return out
