"""Selecting among the Nash equilibria of a game: components, maximum entropy, welfare, the logit limit.

The Nash equilibria of a two-player game are a finite union of *maximal Nash subsets*
(Winkels 1979; Avis, Rosenberg, Savani and von Stengel 2010, *Economic Theory* 42:9-37,
Section 7): products ``conv(X) x conv(Y)`` of sets of extreme strategies in which every pair
``(x, y)`` is an equilibrium, i.e. the supports are compatible (``supp x`` within player 1's
best responses to ``y`` and ``supp y`` within player 2's best responses to ``x``).  In the
bipartite graph whose edges are the extreme equilibria, they are the maximal bicliques; the
connected components of that graph are the topological components of the equilibrium set.
A nondegenerate game has one single-point subset per equilibrium.

On that description, selection is exact and cheap:

* ``"welfare"``: ``x^T (A + B) y`` is bilinear, so its maximum over ``conv(X) x conv(Y)`` is at
  a pair of vertices, an extreme equilibrium;
* ``"entropy"``: the entropy of the product law, ``H(x) + H(y)``, is separable and strictly
  concave: its maximum over each subset is one small exponential-cone program per player
  (cvxpy), and the selection is the best subset (the maximum-entropy Nash equilibrium; it may
  be a non-extreme point of a continuum);
* ``"logit"``: the limit of the principal branch of logit QRE (McKelvey and Palfrey 1995;
  :func:`rqe.qre_path`), i.e. the limiting logit equilibrium as the temperature goes to zero,
  located in the subset that contains it.

Compatibility is decided in rational arithmetic when every equilibrium carries its exact
rational form (``solve_nash(..., exact=True)``), otherwise with the set's tolerance relative to
the payoff range.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, fields
from fractions import Fraction
from functools import cached_property

import numpy as np
from scipy.optimize import nnls

from rqe._validation import choice
from rqe.solvers._result import EquilibriumSet, Result, _plain

__all__ = ["NashSet", "NashComponent", "NashSelection", "CRITERIA"]

CRITERIA = ("entropy", "welfare", "logit")
_DEDUPE = 9          # decimals used to identify equal extreme strategies
_HULL_TOL = 1e-7     # residual of the convex-combination fit that places a point in a subset


@dataclass(frozen=True)
class NashComponent(Result):
    """A maximal Nash subset ``conv(X) x conv(Y)`` of a two-player game.

    Attributes
    ----------
    vertices : tuple of ndarray
        ``(X, Y)``: player 1's extreme strategies (rows of ``X``) and player 2's; every pair
        ``(X[k], Y[l])`` is an extreme equilibrium, hence every point of the product of their
        convex hulls is an equilibrium.
    equilibria : tuple of int
        Indices, in the parent :class:`NashSet`, of the extreme equilibria it contains.
    connected : int
        Label of the connected component of the equilibrium set it belongs to (subsets with the
        same label share an extreme strategy).

    Examples
    --------
    >>> import rqe
    >>> comps = rqe.solve_nash(rqe.games.catalog.stag_hunt()).components
    >>> len(comps), comps[0].equilibria, comps[0].vertices[0].tolist()
    (3, (0,), [[1.0, 0.0]])
    """

    vertices: tuple
    equilibria: tuple
    connected: int

    def __repr__(self) -> str:
        X, Y = self.vertices
        return (f"NashComponent({len(X)} x {len(Y)} extreme strategies, equilibria={list(self.equilibria)}, "
                f"connected={self.connected})")

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class NashSelection(Result):
    """One Nash equilibrium chosen by a criterion.

    Attributes
    ----------
    message : str
    success : bool
        True when the selected point's ``regret`` is within tolerance (for ``"logit"``, also
        when the branch was traced to its end).
    equilibrium : NashEquilibrium
        The selected equilibrium with its certificate.
    criterion : str
        ``"entropy"``, ``"welfare"`` or ``"logit"``.
    value : float
        Entropy of the product law ``H(x) + H(y)`` in nats, the welfare ``sum_i u_i``, or, for
        ``"logit"``, the precision ``lam`` at which the branch was left.
    component : int or None
        Index in :attr:`NashSet.components` of a maximal Nash subset containing the selection
        (``None`` for games of three or more players, or when it lies in none).
    params : dict

    Examples
    --------
    >>> import rqe
    >>> sel = rqe.solve_nash(rqe.games.catalog.battle_of_the_sexes()).select("welfare")
    >>> sel.success, sel.value, [x.tolist() for x in sel.equilibrium.strategies]
    (True, 5.0, [[1.0, 0.0], [1.0, 0.0]])
    """

    message: str
    success: bool
    equilibrium: object
    criterion: str
    value: float
    component: int | None = None
    params: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "equilibrium"}
        out["equilibrium"] = self.equilibrium.to_dict()
        return out


@dataclass(frozen=True)
class NashSet(EquilibriumSet):
    """The Nash equilibria returned by :func:`rqe.solve_nash`, with their components and a selection.

    An :class:`rqe.EquilibriumSet` (a sequence of :class:`rqe.solvers.nash.NashEquilibrium`)
    that also knows its game, so that it can describe the whole equilibrium set of a
    two-player game (:attr:`components`) and pick one equilibrium (:meth:`select`).  Both work
    on the equilibria found: when ``complete`` is false because the method finds one
    equilibrium (Lemke-Howson, the logit limit), other equilibria may exist.

    Examples
    --------
    A degenerate game: player 2 is indifferent, so every ``y`` with ``y_1 = 1/2`` leaves player 1
    free, and the maximum-entropy equilibrium is the interior point of a continuum:

    >>> import rqe
    >>> game = rqe.NormalFormGame.from_bimatrix([[1, 0], [0, 1]], [[0, 0], [0, 0]])
    >>> eqs = rqe.solve_nash(game)
    >>> len(eqs), len(eqs.components), [c.connected for c in eqs.components]
    (4, 3, [0, 0, 0])
    >>> sel = eqs.select("entropy")
    >>> [x.round(6).tolist() for x in sel.equilibrium.strategies], round(sel.value, 6)
    ([[0.5, 0.5], [0.5, 0.5]], 1.386294)
    """

    game: object = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps`` (without the game)."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name not in ("equilibria", "game")}
        out["equilibria"] = [e.to_dict() for e in self.equilibria]
        return out

    # ------------------------------------------------------------------ components
    @cached_property
    def _graph(self):
        """Distinct extreme strategies of each player and the compatibility matrix between them."""
        if self.game is None or self.game.n_players != 2:
            n = "no game" if self.game is None else f"{self.game.n_players} players"
            raise ValueError(f"Nash components are computed for two-player games only. This set has {n}.")
        X, Y, exact_x, exact_y, pairs = [], [], [], [], []
        for eq in self.equilibria:
            ids = []
            for player, (store, exact_store) in enumerate(((X, exact_x), (Y, exact_y))):
                key = np.round(eq.strategies[player], _DEDUPE)
                found = next((k for k, s in enumerate(store) if np.array_equal(np.round(s, _DEDUPE), key)), None)
                if found is None:
                    store.append(np.asarray(eq.strategies[player], float))
                    exact_store.append(None if eq.exact is None else eq.exact[player])
                    found = len(store) - 1
                ids.append(found)
            pairs.append(tuple(ids))
        compatible = np.zeros((len(X), len(Y)), dtype=bool)
        exact = all(e is not None for e in exact_x + exact_y)
        A, B = (np.asarray(p, float) for p in self.game.payoffs)
        for k in range(len(X)):
            for m in range(len(Y)):
                compatible[k, m] = (_compatible_exact(A, B, exact_x[k], exact_y[m]) if exact else
                                    _compatible(A, B, X[k], Y[m], self.params.get("tol", 1e-9)))
        for k, m in pairs:
            compatible[k, m] = True
        return np.array(X), np.array(Y), compatible, pairs, exact

    @cached_property
    def components(self) -> tuple:
        """The maximal Nash subsets (tuple of :class:`NashComponent`), largest first.

        Raises ``ValueError`` for games with three or more players.
        """
        X, Y, compatible, pairs, _ = self._graph
        columns = set()        # closed sets of player-2 vertices: intersections of neighbourhoods
        for k in range(len(X)):
            neighbours = frozenset(np.flatnonzero(compatible[k]).tolist())
            columns |= {c for c in {neighbours, *(neighbours & c for c in columns)} if c}
        labels = _connected(compatible)
        out = []
        for cols in columns:
            rows = [k for k in range(len(X)) if all(compatible[k, m] for m in cols)]
            members = tuple(e for e, (k, m) in enumerate(pairs) if k in rows and m in cols)
            out.append(NashComponent((X[rows], Y[sorted(cols)]), members, labels[rows[0]]))
        out.sort(key=lambda c: (-len(c.equilibria), c.equilibria))
        return tuple(out)

    # ------------------------------------------------------------------ selection
    def select(self, criterion: str = "entropy") -> NashSelection:
        """One equilibrium: maximum entropy, maximum welfare, or the limit of the logit branch.

        Parameters
        ----------
        criterion : {"entropy", "welfare", "logit"}
            ``"entropy"``: the equilibrium whose product law has the largest entropy
            ``H(x) + H(y)``, over the convex hulls of the maximal Nash subsets (two players)
            or over the equilibria found (more players).  ``"welfare"``: the largest sum of
            expected payoffs (attained at an extreme equilibrium).  ``"logit"``: the limit of
            the principal logit-QRE branch (:func:`rqe.qre_path`, polished on its support),
            the Nash equilibrium that logit QRE select as the temperature goes to zero.

        Returns
        -------
        NashSelection

        Examples
        --------
        In the stag hunt ``[[5, 0], [4, 2]]`` hunting hare is risk dominant, and the logit branch
        selects it; welfare selects the stag:

        >>> import rqe
        >>> game = rqe.NormalFormGame.from_bimatrix([[5, 0], [4, 2]], [[5, 4], [0, 2]])
        >>> eqs = rqe.solve_nash(game)
        >>> [eqs.select(c).equilibrium.strategies[0].round(6).tolist() for c in ("logit", "welfare")]
        [[0.0, 1.0], [1.0, 0.0]]
        """
        choice(criterion, CRITERIA, name="criterion", func="rqe.NashSet.select")
        from rqe.solvers.nash import _equilibrium, _scale

        if self.game is None:
            raise ValueError("rqe.NashSet.select needs the game; this set was built without one.")
        tol = self.params.get("tol", 1e-9)
        scale = _scale(self.game)
        two = self.game.n_players == 2
        if criterion == "logit":
            return self._select_logit(tol, scale)
        if not self.equilibria:
            raise ValueError(f"rqe.NashSet.select has no equilibria to choose from ({self.message}).")
        if criterion == "welfare":
            if two:
                X, Y, compatible, _, _ = self._graph
                W = np.asarray(self.game.payoffs[0], float) + np.asarray(self.game.payoffs[1], float)
                values = np.where(compatible, X @ W @ Y.T, -np.inf)
                k, m = np.unravel_index(np.argmax(values), values.shape)
                strategies, value = (X[k], Y[m]), float(values[k, m])
            else:
                best = max(self.equilibria, key=lambda e: float(np.sum(e.payoffs)))
                strategies, value = best.strategies, float(np.sum(best.payoffs))
        elif two:
            strategies, value = self._max_entropy()
        else:
            best = max(self.equilibria, key=lambda e: sum(_entropy(x) for x in e.strategies))
            strategies, value = best.strategies, sum(_entropy(x) for x in best.strategies)
        eq = _equilibrium(self.game, strategies, tol)
        component = self._locate(eq.strategies) if two else None
        success = eq.regret <= tol * scale
        scope = ("the convex hulls of the maximal Nash subsets" if two and criterion == "entropy" else
                 "the extreme equilibria of the maximal Nash subsets" if two else "the equilibria found")
        message = (f"Selected by {criterion} ({value:.6g}) over {scope}; max regret {eq.regret:.1e}."
                   + ("" if self.complete or (two and self.method == "vertex_enumeration") else
                      f" The set was found by {self.method!r} and may miss equilibria."))
        return NashSelection(message=message, success=bool(success), equilibrium=eq, criterion=criterion,
                             value=value, component=component, params={"tol": tol})

    def _max_entropy(self):
        best = None
        for comp in self.components:
            parts = [_max_entropy_hull(V) for V in comp.vertices]
            value = parts[0][1] + parts[1][1]
            if best is None or value > best[1] + 1e-12:
                best = ((parts[0][0], parts[1][0]), value)
        return best

    def _locate(self, strategies) -> int | None:
        for k, comp in enumerate(self.components):
            if all(_in_hull(V, x) for V, x in zip(comp.vertices, strategies)):
                return k
        return None

    def _select_logit(self, tol, scale) -> NashSelection:
        from rqe.solvers.continuation import nash_from_qre
        from rqe.solvers.nash import _equilibrium

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            strategies, _, path = nash_from_qre(self.game)
        eq = _equilibrium(self.game, strategies, tol)
        component = self._locate(eq.strategies) if self.game.n_players == 2 and self.equilibria else None
        success = path.success and eq.regret <= tol * scale
        where = "" if component is None else f", in maximal Nash subset {component}"
        message = (f"The principal logit-QRE branch, traced to lam = {path.parameter[-1]:.3g}, ends at this "
                   f"equilibrium{where}; max regret {eq.regret:.1e}.")
        if not success:
            message += f" {path.message}"
        return NashSelection(message=message, success=bool(success), equilibrium=eq, criterion="logit",
                             value=float(path.parameter[-1]), component=component,
                             params={"tol": tol, "path_message": path.message})


# --------------------------------------------------------------------------- helpers
def _compatible(A, B, x, y, tol) -> bool:
    """``(x, y)`` is an equilibrium: each support within the best responses (tolerance relative to the range)."""
    scale = max(float(np.ptp(A)), float(np.ptp(B)), 1e-300)
    rows, cols = A @ y, x @ B
    return bool(np.all(rows[x > tol] >= rows.max() - tol * scale) and np.all(cols[y > tol] >= cols.max() - tol * scale))


def _compatible_exact(A, B, x, y) -> bool:
    """The same test in rational arithmetic on rational strategies."""
    FA = [[Fraction(v) for v in row] for row in A.tolist()]
    FB = [[Fraction(v) for v in row] for row in B.tolist()]
    rows = [sum((a * q for a, q in zip(row, y)), Fraction(0)) for row in FA]
    cols = [sum((FB[i][j] * x[i] for i in range(len(x))), Fraction(0)) for j in range(len(y))]
    return all(rows[i] == max(rows) for i in range(len(x)) if x[i] > 0) and \
        all(cols[j] == max(cols) for j in range(len(y)) if y[j] > 0)


def _connected(compatible: np.ndarray) -> list[int]:
    """Connected-component label of each player-1 vertex in the bipartite compatibility graph."""
    k1, k2 = compatible.shape
    parent = list(range(k1 + k2))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for k, m in zip(*np.nonzero(compatible)):
        parent[find(int(k))] = find(k1 + int(m))
    roots = [find(k) for k in range(k1)]
    order = {r: n for n, r in enumerate(dict.fromkeys(roots))}
    return [order[r] for r in roots]


def _entropy(x) -> float:
    x = np.asarray(x, float)
    x = x[x > 0]
    return float(-np.sum(x * np.log(x)))


def _max_entropy_hull(V: np.ndarray) -> tuple[np.ndarray, float]:
    """The point of ``conv(rows of V)`` with the largest entropy.

    An exponential-cone program (cvxpy) finds the face of the maximiser; Newton's method on
    the affine hull of that face then makes the point accurate to rounding (the entropy is
    flat at its maximum, so the conic solver's point is only accurate to about 1e-6).
    """
    if len(V) == 1:
        return V[0], _entropy(V[0])
    import cvxpy as cp

    lam = cp.Variable(len(V), nonneg=True)
    problem = cp.Problem(cp.Maximize(cp.sum(cp.entr(V.T @ lam))), [cp.sum(lam) == 1])
    problem.solve(solver="CLARABEL" if "CLARABEL" in cp.installed_solvers() else None)
    weights = np.clip(np.asarray(lam.value, float), 0.0, None)
    point = V.T @ (weights / weights.sum())
    face = V[weights > 1e-6 * weights.max()]
    candidates = [point, _newton_on_face(face, point), *V]     # never worse than a vertex
    best = max((c for c in candidates if c is not None and _in_hull(V, c)), key=_entropy)
    return best, _entropy(best)


def _newton_on_face(face: np.ndarray, start: np.ndarray, steps: int = 50) -> np.ndarray | None:
    """Maximise the entropy on the affine hull of ``face`` from ``start`` (``None`` if it leaves the simplex)."""
    used = face.max(axis=0) > 0                 # coordinates that no point of the face can move off zero
    directions = (face[1:] - face[0])[:, used]
    if directions.size == 0:
        return start
    _, sv, vt = np.linalg.svd(directions, full_matrices=False)
    basis = vt[sv > 1e-12 * sv.max()]
    x = start[used].copy()
    if np.any(x <= 0):
        return None
    for _ in range(steps):
        grad = basis @ (-np.log(x) - 1.0)
        hess = -(basis / x) @ basis.T
        step = basis.T @ np.linalg.solve(hess, -grad)
        t = 1.0
        while np.any(x + t * step <= 0) and t > 1e-12:
            t /= 2
        x = x + t * step
        if np.abs(t * step).max() <= 1e-15:
            break
    out = np.zeros_like(start)
    out[used] = x
    return out / out.sum()


def _in_hull(V: np.ndarray, x: np.ndarray) -> bool:
    system = np.vstack([V.T, np.ones(len(V))])
    _, residual = nnls(system, np.append(x, 1.0))
    return residual <= _HULL_TOL
