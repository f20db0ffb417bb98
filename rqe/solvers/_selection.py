"""Selecting among the Nash equilibria of a game: components, maximum entropy, welfare, traced limits.

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
* ``"logit"``: the limit of the principal branch of logit QRE, McKelvey and Palfrey's (1995,
  *GEB* 10:6-38, Section 4) tracing procedure: the branch leaving uniform play at ``lam = 0``,
  traced by :func:`rqe.qre_path` as ``lam -> inf``;
* ``"rqe"``: the limit of a branch of RQE (Qu et al., arXiv 2602.21515, Definition 1; the
  tractability conditions of Mazumdar, Panaganti and Shi, ICLR 2025) as ``tau`` and ``epsilon``
  go to 0 together (docs/concepts.md, "The parameters and their limits": the RQE tends to Nash), along ``tau = tau_ratio * epsilon`` from
  near uniform play.  This path is a construction of ``rqe``, not one read in the papers.

A traced selection is the equilibrium of the set (or the point of a maximal Nash subset) that
the branch's last point is within l1 distance ``1e-5`` of; that distance is its certificate, and
a branch that approaches none of the equilibria found is reported as a failure.

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

from rqe._validation import choice, positive_float
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers._result import EquilibriumSet, Result, Status, _deprecated, _plain
from rqe.solvers._system import RQESystem
from rqe.solvers._tracer import trace
from rqe.solvers._tractability import tractability
from rqe.solvers.continuation import qre_path
from rqe.solvers.rqe import solve

__all__ = ["NashSet", "NashComponent", "NashSelection", "CRITERIA"]

CRITERIA = ("entropy", "welfare", "logit", "rqe")
_DEDUPE = 9          # decimals used to identify equal extreme strategies
_HULL_TOL = 1e-7     # residual of the convex-combination fit that places a point in a subset
_APPROACH_TOL = 1e-5  # l1 distance within which a traced branch's last point selects an equilibrium
_SUM_WEIGHT = 1e4    # weight of the "weights sum to 1" row when projecting on a hull
_RQE_MAX_STEPS = 5000  # continuation steps allowed along the RQE branch
_S_END = np.log(1e12)  # the RQE branch stops at epsilon = 1e-11 payoff ranges at the latest
_HANDOFF = 1e-5      # relative Nash regret at which the RQE branch passes from continuation to Newton steps
_MIN_LOG_STEP = 1e-3  # smallest Newton step in log(epsilon)
_FLOOR = 64 * np.finfo(float).eps   # rounding floor of the residual, per unit of payoff range / epsilon


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


@dataclass(frozen=True)
class NashSelection(Result):
    """One Nash equilibrium chosen by a criterion.

    Attributes
    ----------
    message : str
    success : bool
        True when the selected point's ``regret`` is within tolerance (for ``"logit"`` and
        ``"rqe"``, also when the branch was traced to its end and its last point lies within
        ``distance <= 1e-5`` of an equilibrium of the set or of a maximal Nash subset).
    status : Status
        ``SUCCESS``; ``PATH_FAILED`` when the branch was not traced to its end; ``NUMERICAL``
        when its end is near no equilibrium of the set or the selection's regret is above ``tol``.
    equilibrium : NashEquilibrium
        The selected equilibrium with its certificate.
    criterion : str
        ``"entropy"``, ``"welfare"``, ``"logit"`` or ``"rqe"``.
    criterion_value : float
        Entropy of the product law ``H(x) + H(y)`` in nats, the welfare ``sum_i u_i``, for
        ``"logit"`` the precision ``lam`` at which the branch was left, for ``"rqe"`` the
        temperature ``epsilon`` (``value`` is a deprecated alias: elsewhere ``values`` are the
        players' regularised objectives).
    component : int or None
        Index in :attr:`NashSet.components` of a maximal Nash subset containing the selection
        (``None`` for games of three or more players, or when it lies in none).
    index : int or None
        Index in the :class:`NashSet` of the equilibrium selected, when it is one of those
        found (``None`` for a non-extreme point of a continuum, or when a traced branch
        approaches none of them).
    distance : float
        For ``"logit"`` and ``"rqe"``, the certificate that the branch approaches the
        selection: ``max_i ||x_i - x_i*||_1`` between the branch's last point and the selected
        equilibrium (or, when nothing was selected, the nearest equilibrium found); ``0.0``
        for ``"entropy"`` and ``"welfare"``.
    params : dict

    Examples
    --------
    >>> import rqe
    >>> sel = rqe.solve_nash(rqe.games.catalog.battle_of_the_sexes()).select("welfare")
    >>> sel.success, sel.criterion_value, [x.tolist() for x in sel.equilibrium.strategies]
    (True, 5.0, [[1.0, 0.0], [1.0, 0.0]])
    """

    message: str
    success: bool
    status: Status
    equilibrium: object
    criterion: str
    criterion_value: float
    component: int | None = None
    index: int | None = None
    distance: float = 0.0
    params: dict = field(default_factory=dict, repr=False)

    value = _deprecated("NashSelection", "value", "criterion_value")

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
    >>> [x.round(6).tolist() for x in sel.equilibrium.strategies], round(sel.criterion_value, 6)
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
    def select(self, criterion: str = "entropy", *, tau_ratio: float = 1.0, risk="kl",
               regularizer="entropy") -> NashSelection:
        """One equilibrium: maximum entropy, maximum welfare, or the limit of a traced logit or RQE branch.

        Parameters
        ----------
        criterion : {"entropy", "welfare", "logit", "rqe"}
            ``"entropy"``: the equilibrium whose product law has the largest entropy
            ``H(x) + H(y)``, over the convex hulls of the maximal Nash subsets (two players)
            or over the equilibria found (more players).  ``"welfare"``: the largest sum of
            expected payoffs (attained at an extreme equilibrium).  ``"logit"``: the limit of
            the principal logit-QRE branch, traced by :func:`rqe.qre_path` from uniform play
            as ``lam -> inf`` (the tracing procedure of McKelvey and Palfrey 1995, Section 4).
            ``"rqe"``: the limit of the RQE branch as ``tau`` and ``epsilon`` go to 0 together
            (docs/concepts.md, "The parameters and their limits": the RQE tends to Nash), with ``tau = tau_ratio * epsilon`` for every
            player, followed from ``epsilon`` = 10 payoff ranges (near uniform play) by
            warm-started :func:`rqe.solve` with step control.  For the traced criteria the
            branch's last point is matched to the nearest equilibrium of the set (or point of
            a maximal Nash subset) within l1 distance ``1e-5``; when none is that close the
            selection fails (``success=False``) and says so.
        tau_ratio : float, default 1.0
            ``"rqe"`` only: ``tau / epsilon`` along the branch.  It is not scale-free:
            multiplying the payoffs by ``c`` is the same as multiplying ``tau_ratio`` by ``c**2``.
        risk, regularizer
            ``"rqe"`` only: as for :func:`rqe.solve`.

        Returns
        -------
        NashSelection
            For ``"logit"`` and ``"rqe"``, ``index`` says which equilibrium of the set was
            selected and ``distance`` how close the branch came to it; ``params["approach"]``
            lists ``(parameter, distance)`` over the branch's last points and, for ``"rqe"``,
            ``params["tractable"]`` the verdict of :func:`rqe.analysis.tractability` at each
            ``epsilon`` visited (``params["parameter"]``).

        Examples
        --------
        In the stag hunt ``[[5, 0], [4, 2]]`` hunting hare is risk dominant, and the logit branch
        selects it; welfare selects the stag:

        >>> import rqe
        >>> game = rqe.NormalFormGame.from_bimatrix([[5, 0], [4, 2]], [[5, 4], [0, 2]])
        >>> eqs = rqe.solve_nash(game)
        >>> [eqs.select(c).equilibrium.strategies[0].round(6).tolist() for c in ("logit", "welfare")]
        [[0.0, 1.0], [1.0, 0.0]]
        >>> sel = eqs.select("logit")
        >>> sel.index, sel.distance < 1e-6, sel.success
        (1, True, True)

        In the catalog's stag hunt ``[[4, 0], [2, 2]]`` neither equilibrium risk dominates and
        logit QRE stay at the mixed equilibrium; the risk-averse adversary breaks the tie:

        >>> eqs = rqe.solve_nash(rqe.games.catalog.stag_hunt())
        >>> [eqs.select(c).index for c in ("logit", "rqe")]
        [2, 1]
        """
        func = "rqe.NashSet.select"
        choice(criterion, CRITERIA, name="criterion", func=func)
        if criterion != "rqe" and (tau_ratio != 1.0 or risk != "kl" or regularizer != "entropy"):
            raise ValueError(f"The 'tau_ratio', 'risk' and 'regularizer' parameters of {func} apply to "
                             f"criterion='rqe' only. Got criterion={criterion!r} instead.")
        from rqe.solvers.nash import _equilibrium  # cycle: rqe.solvers.nash imports this module

        func = "rqe.NashSet.select"
        choice(criterion, CRITERIA, name="criterion", func=func)
        if criterion != "rqe" and (tau_ratio != 1.0 or risk != "kl" or regularizer != "entropy"):
            raise ValueError(f"The 'tau_ratio', 'risk' and 'regularizer' parameters of {func} apply to "
                             f"criterion='rqe' only. Got criterion={criterion!r} instead.")
        tau_ratio = positive_float(tau_ratio, name="tau_ratio", func=func)
        risk, regularizer = get_risk(risk, func=func), get_regularizer(regularizer, func=func)
        if self.game is None:
            raise ValueError("rqe.NashSet.select needs the game; this set was built without one.")
        tol = self.params.get("tol", 1e-9)
        scale = self.game.payoff_range
        two = self.game.n_players == 2
        if criterion in ("logit", "rqe"):
            return self._select_traced(criterion, tol, scale, tau_ratio=tau_ratio, risk=risk, regularizer=regularizer)
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
        index = self._match(eq.strategies)[0]
        return NashSelection(message=message, success=bool(success),
                             status=Status.SUCCESS if success else Status.NUMERICAL, equilibrium=eq,
                             criterion=criterion, criterion_value=value, component=component, index=index, params={"tol": tol})

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

    def _match(self, point) -> tuple[int | None, int | None, tuple, float]:
        """The found equilibrium, else the point of a maximal Nash subset, nearest to ``point``.

        Returns ``(index, component, strategies, distance)`` with the distance
        ``max_i ||x_i - point_i||_1``; ``strategies`` is ``None`` when neither is within
        ``_APPROACH_TOL``.
        """
        point = [np.asarray(x, float) for x in point]
        gaps = [max(float(np.abs(x - e).sum()) for x, e in zip(point, eq.strategies)) for eq in self.equilibria]
        if gaps and min(gaps) <= _APPROACH_TOL:
            k = int(np.argmin(gaps))
            strategies = self.equilibria[k].strategies
            component = self._locate(strategies) if self.game.n_players == 2 else None
            return k, component, strategies, gaps[k]
        if self.game.n_players == 2 and self.equilibria:
            for c, comp in enumerate(self.components):
                projected = [_project_on_hull(V, x) for V, x in zip(comp.vertices, point)]
                gap = max(float(np.abs(x - q).sum()) for x, q in zip(point, projected))
                if gap <= _APPROACH_TOL:
                    return None, c, tuple(projected), gap
        return None, None, None, (min(gaps) if gaps else np.inf)

    def _select_traced(self, criterion, tol, scale, *, tau_ratio, risk, regularizer) -> NashSelection:
        from rqe.solvers.nash import _equilibrium  # cycle: rqe.solvers.nash imports this module

        if criterion == "logit":
            trace = _logit_branch(self.game)
        else:
            trace = _rqe_branch(self.game, tau_ratio=tau_ratio, risk=risk, regularizer=regularizer)
        last = [x[-1] for x in trace["strategies"]]
        index, component, strategies, distance = self._match(last)
        found = strategies is not None
        eq = _equilibrium(self.game, strategies if found else last, tol)
        success = trace["success"] and found and eq.regret <= tol * scale
        count = len(trace["parameter"])
        approach = [(float(trace["parameter"][k]),
                     max(float(np.abs(x[k] - e).sum()) for x, e in zip(trace["strategies"], eq.strategies)))
                    for k in range(max(0, count - 5), count)] if found else []
        message = trace["message"] + " "
        if found:
            target = (f"a non-extreme point of maximal Nash subset {component}" if index is None else
                      f"equilibrium {index} of the set" + ("" if component is None else
                                                            f" (in maximal Nash subset {component})"))
            message += (f"Its last point is at distance {distance:.1e} (l1) from {target}, which is selected; "
                        f"max regret {eq.regret:.1e}.")
        else:
            nearest = "" if not self.equilibria else f" (the nearest is at l1 distance {distance:.2g})"
            message += (f"Its last point, with Nash max regret {eq.regret:.1e}, is near none of the "
                        f"{len(self.equilibria)} equilibria found{nearest}.")
            if not self.complete and not (self.game.n_players == 2 and self.method == "vertex_enumeration"):
                message += (f" The set was found by {self.method!r}, which may miss equilibria: try "
                            "rqe.solve_nash(game, method='vertex_enumeration') for two players.")
        params = {"tol": tol, "approach_tol": _APPROACH_TOL, "approach": approach,
                  **{k: v for k, v in trace.items() if k not in ("success", "message")}}
        status = (Status.SUCCESS if success else Status.PATH_FAILED if not trace["success"] else Status.NUMERICAL)
        return NashSelection(message=message, success=bool(success), status=status, equilibrium=eq,
                             criterion=criterion, criterion_value=float(trace["parameter"][-1]), component=component,
                             index=index, distance=float(distance), params=params)


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
    import cvxpy as cp  # optional and slow to import: on first use

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


def _project_on_hull(V: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A point of ``conv(rows of V)`` near ``x``: least squares over the weights, the sum held by a heavy row."""
    system = np.vstack([V.T, np.full(len(V), _SUM_WEIGHT)])
    weights, _ = nnls(system, np.append(x, _SUM_WEIGHT))
    return V.T @ (weights / weights.sum()) if weights.sum() > 0 else V[0]


def _logit_branch(game) -> dict:
    """The principal logit-QRE branch (:func:`rqe.qre_path`), in the form :meth:`NashSet._select_traced` reads."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = qre_path(game)
    message = ("The principal logit-QRE branch (McKelvey and Palfrey 1995), traced from uniform play to "
               f"lam = {path.parameter[-1]:.3g}." if path.success else
               f"The principal logit-QRE branch was not traced to its end: {path.message}")
    return {"success": path.success, "message": message, "parameter": np.asarray(path.parameter),
            "strategies": path.strategies, "path_message": path.message}


def _rqe_branch(game, *, tau_ratio: float, risk, regularizer, regret_tol: float = 1e-8) -> dict:
    """Trace the RQE with ``tau_i = tau_ratio * epsilon`` as ``epsilon`` falls from 10 payoff ranges to 0.

    The branch is the one through :func:`rqe.solve`'s RQE at ``epsilon_0 = 10 x`` the payoff
    range (near uniform play, where the regulariser dominates), followed in
    ``s = log(epsilon_0 / epsilon)`` by the pseudo-arclength continuation behind
    :func:`rqe.rqe_path` (:func:`rqe.solvers._tracer.trace`), so it passes through folds,
    where it turns back in ``epsilon``, until the profile's Nash max regret is ``_HANDOFF``
    times the payoff range; Newton steps from a secant predictor then take it to
    ``regret_tol`` (the continuation stalls on rounding near mixed limits).  In non-generic
    games where two RQE branches stay very close (the stag hunt with tied risk dominance and
    ``tau_ratio <= 1e-3``), the continuation can land on the other branch.
    """
    from rqe.solvers.nash import _equilibrium  # cycle: rqe.solvers.nash imports this module

    n = game.n_players
    spread = game.payoff_range
    eps0 = 10.0 * spread
    ones = np.ones(n)

    def at(s):
        eps = eps0 * np.exp(-s)
        return RQESystem(game, tau_ratio * eps * ones, eps * ones, risk, regularizer)

    def blocks(z):
        return [np.exp(b - b.max()) / np.exp(b - b.max()).sum() for b in np.split(z, np.cumsum(game.n_actions)[:-1])]

    def regret(xs):
        return _equilibrium(game, xs, 0.0).regret / spread

    first = solve(game, tau=tau_ratio * eps0, epsilon=eps0, risk=risk, regularizer=regularizer)
    path = trace(at, np.log(np.concatenate(first.strategies)), 0.0, _S_END, tol=1e-10, max_steps=_RQE_MAX_STEPS,
                 stop=lambda z, _s: regret(blocks(z)) <= _HANDOFF, s_range=(-1e-9, np.inf))
    epsilons = list(eps0 * np.exp(-np.asarray(path.s)))
    points = [blocks(z) for z in path.z]
    # Near a mixed limit the continuation stalls on rounding (``epsilon`` ~ 1e-7 payoff ranges)
    # before the regret reaches ``regret_tol``, and is slow near a pure one: finish with Newton
    # steps from a secant predictor in epsilon, accepted only when the corrector stays close to
    # the prediction (no jump to another branch).
    step, nit = np.log(10.0), path.nit
    newton = regret(points[-1]) <= _HANDOFF and len(points) > 1
    while newton and regret(points[-1]) > regret_tol and step >= _MIN_LOG_STEP and nit < _RQE_MAX_STEPS:
        trial = epsilons[-1] * np.exp(-step)
        slope = (trial - epsilons[-1]) / (epsilons[-1] - epsilons[-2])
        predicted = [np.clip(x + slope * (x - y), 0.0, None) for x, y in zip(points[-1], points[-2])]
        predicted = [x / x.sum() for x in predicted]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = solve(game, tau=tau_ratio * trial, epsilon=trial, risk=risk, regularizer=regularizer,
                        method="newton", x0=predicted, tol=max(1e-10, _FLOOR * (1.0 + spread / trial)))
        nit += 1
        moved = max(float(np.abs(x - y).sum()) for x, y in zip(points[-1], points[-2]))
        miss = max(float(np.abs(x - y).sum()) for x, y in zip(res.strategies, predicted))
        if res.success and miss <= max(0.1 * moved, 1e-9):
            epsilons.append(trial)
            points.append(res.strategies)
            step = min(2 * step, np.log(10.0))
        else:
            step /= 2
    epsilons = np.array(epsilons)
    folds = [eps0 * np.exp(-t) for kind, t, _ in path.events if kind == "fold"]
    success = first.success and regret(points[-1]) <= regret_tol
    checks = [_tractable(tau_ratio, e, risk, regularizer) for e in epsilons] if n == 2 else [None] * len(epsilons)
    product = tau_ratio ** 2                     # epsilon_1 tau_1 epsilon_2 tau_2 = (tau_ratio epsilon^2)^2
    if n != 2:
        condition = "The tractability conditions are two-player results and were not checked."
    elif checks[0] is None:
        condition = (f"No payoff-independent tractability condition is known for risk {_name(risk)!r} with "
                     f"regularizer {_name(regularizer)!r}; the product epsilon_1 tau_1 epsilon_2 tau_2 = "
                     f"(tau_ratio epsilon^2)^2 falls below 1 at epsilon = {product ** -0.25:.3g}.")
    elif not checks[0]:
        condition = (f"The tractability conditions (MPS: epsilon_1 tau_1 epsilon_2 tau_2 >= 1; monotonicity: 16 "
                     f"times it > 1) hold only for epsilon > {(16 * product) ** -0.25:.3g}, above the start: "
                     "nowhere on this branch, so the RQE it follows need not be unique anywhere.")
    else:
        condition = (f"The MPS condition epsilon_1 tau_1 epsilon_2 tau_2 >= 1 holds for epsilon >= "
                     f"{product ** -0.25:.3g} and the monotonicity condition for epsilon > "
                     f"{(16 * product) ** -0.25:.3g}; the limit is taken below, where neither holds (the "
                     "product tends to 0), on the branch continued from there.")
    turns = "" if not folds else f", through {len(folds)} fold(s) (at epsilon = {', '.join(f'{f:.3g}' for f in folds)})"
    head = (f"The RQE branch with tau = {tau_ratio:g} epsilon (risk {_name(risk)!r}, regularizer "
            f"{_name(regularizer)!r}), traced from epsilon = {eps0:.3g} (near uniform play) to "
            f"epsilon = {epsilons[-1]:.3g} in {nit} steps{turns}")
    if success:
        message = f"{head}. {condition}"
    elif not first.success:
        message = f"{head}; the starting RQE did not converge: {first.message} {condition}"
    else:
        message = (f"{head}, stopped (status {path.status}) before the Nash max regret reached {regret_tol:g} of "
                   f"the payoff range; try another tau_ratio, or criterion='logit'. {condition}")
    return {"success": success, "message": message, "parameter": epsilons,
            "strategies": tuple(np.array([p[i] for p in points]) for i in range(n)), "folds": folds,
            "tractable": checks, "tau_ratio": tau_ratio, "risk": _name(risk), "regularizer": _name(regularizer),
            "nit": nit}


def _tractable(tau_ratio, eps, risk, regularizer):
    return tractability(tau_ratio * eps, eps, risk=risk, regularizer=regularizer).holds


def _name(obj) -> str:
    return obj if isinstance(obj, str) else getattr(obj, "name", repr(obj))


def _in_hull(V: np.ndarray, x: np.ndarray) -> bool:
    system = np.vstack([V.T, np.ones(len(V))])
    _, residual = nnls(system, np.append(x, 1.0))
    return residual <= _HULL_TOL
