"""Nash equilibria of normal-form games.

One front door, :func:`solve_nash`, with a registry of methods:

``"vertex_enumeration"``
    All extreme equilibria of a two-player game: vertex enumeration of the best-response
    polytopes (Avis, Rosenberg, Savani and von Stengel 2010, *Enumeration of Nash
    equilibria for two-player games*, Economic Theory 42:9-37).  Degenerate games are
    detected and said so.
``"lemke_howson"``
    One equilibrium of a two-player game by the Lemke-Howson algorithm (Lemke and Howson
    1964, J. SIAM 12:413-423) with the lexicographic ratio test, which cannot cycle.
``"lp"``
    Two-player zero-sum (constant-sum) games by linear programming (von Neumann's minimax
    theorem; :func:`scipy.optimize.linprog` with HiGHS), with a check of uniqueness.
``"pure"``
    All pure equilibria of an N-player game by vectorised enumeration of the profiles.
``"qre_limit"``
    One equilibrium of an N-player game as the limit of the principal logit-QRE branch
    (McKelvey and Palfrey 1995; :func:`rqe.solvers.continuation.nash_from_qre`), polished on
    its support and certified by its max regret.
``"auto"``
    ``"lp"`` for zero-sum two-player games, ``"vertex_enumeration"`` for two-player games
    of moderate size (see :data:`ENUMERATION_BUDGET`), ``"lemke_howson"`` for larger ones,
    and, for three or more players, every pure equilibrium plus the limit of the logit-QRE
    branch (method ``"pure+qre_limit"``, not exhaustive).

Every equilibrium carries its certificate ``regret``: the largest gain any player gets
by a pure deviation, in payoff units.  Tolerances are relative to the payoff range.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, fields
from fractions import Fraction
from math import comb

import numpy as np
from scipy.optimize import linprog

from rqe._exceptions import ConvergenceWarning
from rqe._validation import choice, game_of, positive_float, positive_int
from rqe.games.normal_form import NormalFormGame
from rqe.solvers._exact import exact_equilibrium
from rqe.solvers._lemke_howson import lemke_howson
from rqe.solvers._regret import action_values, shifts_of
from rqe.solvers._result import Result, _deprecated
from rqe.solvers._selection import NashSet
from rqe.solvers._vertex_enum import enumerate_extreme_equilibria
from rqe.solvers.continuation import nash_from_qre

__all__ = ["NashEquilibrium", "solve_nash", "METHODS", "DEFAULT_TOL", "ENUMERATION_BUDGET"]

METHODS = ("auto", "vertex_enumeration", "lemke_howson", "lp", "pure", "qre_limit")
DEFAULT_TOL = 1e-9
"""Default tolerance on the equilibrium conditions, relative to the payoff range."""
ENUMERATION_BUDGET = 1_000_000
"""``"auto"`` enumerates vertices when the upper-bound-theorem count of the smaller polytope is at most this."""
LH_RACE = 8
"""Number of Lemke-Howson paths raced when no ``initial_dropped_label`` is given."""
LH_MAX_ITER = 100_000
"""Default pivot budget of ``"lemke_howson"`` (all raced paths together)."""

_FUNC = "rqe.solve_nash"


@dataclass(frozen=True)
class NashEquilibrium(Result):
    """One Nash equilibrium with its certificate.

    Attributes
    ----------
    strategies : tuple of ndarray
        ``strategies[i]`` is player ``i``'s mixed strategy.
    payoffs : ndarray
        Each player's expected payoff at the equilibrium.
    regret : float
        The largest gain any player obtains by switching to a pure strategy (zero at an
        exact equilibrium); anyone can recompute it from the payoffs.  (``max_regret`` is a
        deprecated alias.)
    support : tuple of tuple of int
        The actions each player uses with positive probability.
    exact : tuple of tuple of Fraction or None
        The strategies in rational arithmetic when ``exact=True`` verified them exactly
        (then ``regret`` is exactly zero), else ``None``.

    Examples
    --------
    >>> import rqe
    >>> eq = rqe.solve_nash(rqe.games.catalog.matching_pennies())[0]
    >>> eq
    NashEquilibrium(strategies=([0.5, 0.5], [0.5, 0.5]), payoffs=[0.0, 0.0], regret=0)
    >>> eq.to_dict()["support"]
    [[0, 1], [0, 1]]
    """

    strategies: tuple
    payoffs: np.ndarray
    regret: float
    support: tuple
    exact: tuple | None = field(default=None)

    max_regret = _deprecated("NashEquilibrium", "max_regret", "regret")

    def __repr__(self) -> str:
        strategies = ", ".join(str(_rounded(x)) for x in self.strategies)
        return (f"NashEquilibrium(strategies=({strategies}), payoffs={_rounded(self.payoffs)}, "
                f"regret={self.regret:.2g})")

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps`` (rationals as strings such as ``"1/3"``)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "exact":
                value = None if value is None else [[str(q) for q in x] for x in value]
            elif f.name in ("strategies", "support"):
                value = [np.asarray(x).tolist() for x in value]
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            out[f.name] = value
        return out


def _rounded(x) -> list[float]:
    return [round(float(v), 4) + 0.0 for v in x]


# --------------------------------------------------------------------------- certificates
def _equilibrium(game: NormalFormGame, xs, tol: float, exact=None) -> NashEquilibrium:
    if exact is not None:
        xs = [np.array([float(q) for q in x]) for x in exact]
    xs = tuple(np.asarray(x, dtype=float) for x in xs)
    for x in xs:
        x.setflags(write=False)
    shifts = shifts_of(game)                   # exact for payoffs sharing a large offset (rqe.solvers._regret)
    values = action_values(game, xs, shifts)
    centred = [float(v @ x) for v, x in zip(values, xs)]
    payoffs = np.array([c + shift for c, shift in zip(centred, shifts)])
    regret = 0.0 if exact is not None else max(0.0, max(float(v.max()) - c for v, c in zip(values, centred)))
    support = tuple(tuple(int(a) for a in np.flatnonzero(x > tol)) for x in xs)
    return NashEquilibrium(xs, payoffs, regret, support, exact)


def _sort(equilibria: list[NashEquilibrium]) -> tuple[NashEquilibrium, ...]:
    def key(eq):
        return (sum(len(s) for s in eq.support), eq.support, tuple(-np.round(np.concatenate(eq.strategies), 12)))
    return tuple(sorted(equilibria, key=key))


def _verify(game, candidates, tol, exact):
    """Build certified equilibria; return them with the counts of rejected and unverified candidates."""
    A, B = (game.payoffs[0], game.payoffs[1]) if game.n_players == 2 else (None, None)
    accepted, rejected, unverified = [], 0, 0
    for xs in candidates:
        rational = None
        if exact:
            rational = exact_equilibrium(A, B, xs[0], xs[1], tol)
            unverified += rational is None
        eq = _equilibrium(game, xs, tol, rational)
        if eq.regret <= tol * game.payoff_range:
            accepted.append(eq)
        else:
            rejected += 1
    return accepted, rejected, unverified


def _verification_note(rejected: int, unverified: int) -> str:
    note = ""
    if rejected:
        note += f" {rejected} candidate(s) failed the regret check and were discarded (numerical trouble)."
    if unverified:
        note += f" {unverified} equilibrium(s) could not be verified in exact arithmetic."
    return note


# --------------------------------------------------------------------------- methods
def _vertex_enumeration(game, tol, exact):
    A, B = game.payoffs
    found = enumerate_extreme_equilibria(np.asarray(A), np.asarray(B), tol)
    equilibria, rejected, unverified = _verify(game, found.pairs, tol, exact)
    k = len(equilibria)
    shared = _components_with_continua(equilibria)
    if not found.degenerate:
        complete = k % 2 == 1 and not rejected and not unverified
        message = f"Found {k} equilibria by vertex enumeration; the game is nondegenerate, so there are no others."
        if k % 2 == 0:
            message = (f"Found {k} equilibria by vertex enumeration, an even number although the game looks "
                       "nondegenerate (which has an odd number): numerical trouble is likely; "
                       "rescale the payoffs or change tol.")
    elif shared:
        complete = False
        message = (f"The game is degenerate (some strategy has more pure best responses than its support size). "
                   f"Found all {k} extreme equilibria; {shared} group(s) of them share a strategy, so the "
                   "equilibrium set contains continua (convex combinations within each maximal Nash subset) "
                   "that are not listed.")
    else:
        complete = not rejected and not unverified
        message = (f"The game is degenerate (some strategy has more pure best responses than its support size). "
                   f"Found {k} extreme equilibria; no two share a strategy, so the equilibrium set has no "
                   "non-extreme points and these are all the equilibria.")
    return _sort(equilibria), complete, message + _verification_note(rejected, unverified)


def _components_with_continua(equilibria) -> int:
    """Number of groups of extreme equilibria linked by a shared strategy (each spans a continuum)."""
    parent = list(range(len(equilibria)))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for player in (0, 1):
        first: dict[tuple, int] = {}
        for k, eq in enumerate(equilibria):
            key = tuple(np.round(eq.strategies[player], 9))
            if key in first:
                parent[find(k)] = find(first[key])
            else:
                first[key] = k
    roots = [find(k) for k in range(len(equilibria))]
    return sum(1 for r in set(roots) if roots.count(r) > 1)


def _lemke_howson(game, tol, exact, label, max_iter):
    A, B = (np.asarray(p) for p in game.payoffs)
    labels = (label,) if label is not None else tuple(range(min(LH_RACE, sum(game.n_actions))))
    outcome = lemke_howson(A, B, labels=labels, max_iter=max_iter)
    if not outcome.converged:
        message = (f"Lemke-Howson did not finish within max_iter={max_iter} pivots (paths from labels "
                   f"{list(labels)}); raise max_iter or try another initial_dropped_label.")
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
        return (), False, message
    equilibria, rejected, unverified = _verify(game, [(outcome.x, outcome.y)], tol, exact)
    message = (f"Found one equilibrium by Lemke-Howson from dropped label {outcome.label} after "
               f"{outcome.nit} pivots; other equilibria may exist.")
    if rejected:
        message = (f"Lemke-Howson ended after {outcome.nit} pivots but its point failed the regret check "
                   "(numerical trouble); try another initial_dropped_label.")
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return tuple(equilibria), False, message + _verification_note(0, unverified)


def _maxmin(M: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Player 1's maxmin strategy and value in the zero-sum game with payoff matrix ``M`` (None if HiGHS fails)."""
    m, n = M.shape
    res = linprog(
        np.r_[np.zeros(m), -1.0],
        A_ub=np.hstack([-M.T, np.ones((n, 1))]), b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(m), 0.0][None, :], b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)], method="highs")
    if res.x is None or not np.all(np.isfinite(res.x)) or res.x[:m].sum() <= 0:
        return None
    x = np.clip(res.x[:m], 0.0, None)
    return x / x.sum(), -res.fun


def _polish(M: np.ndarray, x: np.ndarray, replies: np.ndarray, tol: float) -> np.ndarray:
    """Re-solve ``x`` from its support and the partner's indifference on ``replies`` (least squares)."""
    m = M.shape[0]
    off = np.flatnonzero(x <= tol)
    system = np.vstack([np.eye(m + 1)[off], np.hstack([M[:, replies].T, -np.ones((replies.sum(), 1))]),
                        np.r_[np.ones(m), 0.0]])
    rhs = np.r_[np.zeros(len(off) + replies.sum()), 1.0]
    z = np.clip(np.linalg.lstsq(system, rhs, rcond=None)[0][:m], 0.0, None)
    return z / z.sum() if z.sum() > 0 else x


def _unique_on(M: np.ndarray, own_replies: np.ndarray, partner_support: np.ndarray) -> bool:
    """True when ``{z : supp z within own_replies, (M^T z) equal on partner_support, sum z = 1}`` is a point."""
    k = int(own_replies.sum())
    block = M[np.ix_(own_replies, partner_support)].T
    system = np.vstack([block - block[:1], np.ones((1, k))])
    return np.linalg.matrix_rank(system) == k


def _lp(game, tol, exact):
    # Player 1's payoffs less their smallest entry: exact for payoffs sharing a large offset
    # (Sterbenz), so the linear program sees the game's digits and not the offset (1e9 + u).
    raw = np.asarray(game.payoffs[0])
    shift = float(raw.min())
    A = raw - shift
    scale = game.payoff_range
    first, second = _maxmin(A), _maxmin(-A.T)
    if first is None or second is None:
        message = "The linear program failed (HiGHS found no optimum); use method='vertex_enumeration'."
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
        return (), False, message
    (x, value), (y, _) = first, second
    value += shift
    cols, rows = A.T @ x, A @ y
    x_new = _polish(A, x, cols <= cols.min() + tol * scale, tol)
    y_new = _polish(A.T, y, rows >= rows.max() - tol * scale, tol)
    candidates = [(x, y)]
    if np.all(np.isfinite(x_new)) and np.all(np.isfinite(y_new)):
        candidates.insert(0, (x_new, y_new))
    best = min((_equilibrium(game, c, tol) for c in candidates), key=lambda eq: eq.regret)
    equilibria, rejected, unverified = _verify(game, [best.strategies], tol, exact)
    x, y = best.strategies
    cols, rows = A.T @ x, A @ y
    unique = (_unique_on(A, rows >= rows.max() - tol * scale, y > tol)
              and _unique_on(A.T, cols <= cols.min() + tol * scale, x > tol))
    message = f"Solved the zero-sum game by linear programming (HiGHS); value for player 1 = {value:.6g}."
    if unique:
        message += " The equilibrium is unique."
    else:
        message += (" Uniqueness was not proven (the game is degenerate); use method='vertex_enumeration' "
                    "for all extreme equilibria.")
    complete = unique and not rejected and not unverified
    return tuple(equilibria), complete, message + _verification_note(rejected, unverified)


def _pure(game, tol, exact):
    payoffs = game.payoffs
    slack = 0.0 if exact else tol * game.payoff_range
    is_equilibrium = np.ones(game.n_actions, dtype=bool)
    for i in range(game.n_players):
        is_equilibrium &= payoffs[i] >= payoffs[i].max(axis=i, keepdims=True) - slack
    equilibria = []
    for profile in np.argwhere(is_equilibrium):
        xs = [np.eye(n)[a] for n, a in zip(game.n_actions, profile)]
        rational = tuple(tuple(Fraction(int(a == b)) for b in range(n)) for n, a in zip(game.n_actions, profile))
        equilibria.append(_equilibrium(game, xs, tol, rational if exact else None))
    k = len(equilibria)
    message = f"Found all {k} pure equilibria by enumerating the action profiles; mixed equilibria were not searched"
    if game.n_players >= 3:
        message += " (for N >= 3 players, trace them as limits of the logit QRE branch with rqe.qre_path)."
    else:
        message += " (use method='vertex_enumeration')."
    return _sort(equilibria), False, message


def _qre_limit(game, tol):
    """The end of the principal logit-QRE branch, polished on its support (any number of players)."""
    strategies, _, path = nash_from_qre(game)
    eq = _equilibrium(game, strategies, tol, None)
    if eq.regret <= tol * game.payoff_range:
        message = (f"Found one equilibrium as the limit of the principal logit-QRE branch (traced to "
                   f"lam = {path.parameter[-1]:.3g}), polished on its support; max regret {eq.regret:.1e}.")
        return (eq,), message
    return (), (f"The limit of the logit-QRE branch (traced to lam = {path.parameter[-1]:.3g}) did not polish to an "
                f"equilibrium: max regret {eq.regret:.1e} > tol. {path.message}")


def _upper_bound_vertices(game) -> int:
    """McMullen's upper bound on the vertex count of the smaller best-response polytope."""
    d = min(game.n_actions)
    f = sum(game.n_actions)
    return comb(f - (d + 1) // 2, d // 2) + comb(f - d // 2 - 1, (d + 1) // 2 - 1)


# --------------------------------------------------------------------------- front door
def solve_nash(
    game: NormalFormGame,
    *,
    method: str = "auto",
    tol: float = DEFAULT_TOL,
    exact: bool = False,
    initial_dropped_label: int | None = None,
    max_iter: int | None = None,
) -> NashSet:
    """Nash equilibria of a normal-form game.

    Parameters
    ----------
    game : NormalFormGame
    method : {"auto", "vertex_enumeration", "lemke_howson", "lp", "pure", "qre_limit"}
        See the module docstring.  ``"auto"`` records the method it chose in ``method``.
    tol : float, default 1e-9
        Tolerance on the equilibrium conditions relative to the largest payoff range: a
        candidate is accepted when its ``regret`` is at most ``tol`` times that range.
        Also the threshold for support membership and for tight constraints.
    exact : bool, default False
        Re-solve each two-player equilibrium from its supports in rational arithmetic and
        check it exactly (``NashEquilibrium.exact``); for ``"pure"``, compare payoffs
        without tolerance.
    initial_dropped_label : int, optional
        ``"lemke_howson"`` only: the label dropped to start the path, ``0..n_1-1`` for
        player 1's actions and ``n_1..n_1+n_2-1`` for player 2's.  By default the paths
        from the first eight labels are raced and the first to end is returned; label 0
        gets three pivots in four, so the race costs at most 4/3 of label 0's pivots.
    max_iter : int, optional
        ``"lemke_howson"`` only: pivot budget (default 100000).

    Returns
    -------
    NashSet
        An :class:`rqe.EquilibriumSet`: ``equilibria`` are :class:`NashEquilibrium` objects
        (pure ones first); ``complete`` is true only when no equilibrium can have been missed;
        ``message`` says what was searched, and flags degenerate games.  For two-player games
        ``components`` lists the maximal Nash subsets (the continua of degenerate games), and
        ``select("entropy" | "welfare" | "logit")`` picks one equilibrium.

    Raises
    ------
    TypeError
        If ``game`` is not a :class:`~rqe.NormalFormGame`.
    ValueError
        For an unknown method, an option the method does not use, a method that does not
        apply to the game (two-player methods on N players, ``"lp"`` on a non-zero-sum
        game), or an option out of range.

    Examples
    --------
    >>> import rqe
    >>> res = rqe.solve_nash(rqe.games.catalog.stag_hunt())
    >>> res.method, res.complete, len(res)
    ('vertex_enumeration', True, 3)
    >>> [[round(float(p), 4) for p in eq.strategies[0]] for eq in res]
    [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    >>> res = rqe.solve_nash(rqe.games.catalog.rock_paper_scissors(), exact=True)
    >>> res.method, res.complete, [str(q) for q in res[0].exact[0]]
    ('lp', True, ['1/3', '1/3', '1/3'])
    """
    game_of(game, NormalFormGame, func=_FUNC)
    choice(method, METHODS, name="method", func=_FUNC)
    tol = positive_float(tol, name="tol", func=_FUNC)
    if not isinstance(exact, (bool, np.bool_)):
        raise ValueError(f"The 'exact' parameter of {_FUNC} must be a bool. Got {exact!r} instead.")
    two_player = game.n_players == 2
    if method == "auto":
        if not two_player:
            method = "pure+qre_limit"
        elif game.is_zero_sum:
            method = "lp"
        elif _upper_bound_vertices(game) <= ENUMERATION_BUDGET:
            method = "vertex_enumeration"
        else:
            method = "lemke_howson"
    for name, value in (("initial_dropped_label", initial_dropped_label), ("max_iter", max_iter)):
        if value is not None and method != "lemke_howson":
            raise ValueError(f"The {name!r} parameter of {_FUNC} applies to method='lemke_howson' only. "
                             f"Got {name}={value!r} with method={method!r}.")
    if method not in ("pure", "qre_limit", "pure+qre_limit") and not two_player:
        raise ValueError(f"The 'method' parameter of {_FUNC} must be 'pure', 'qre_limit' or 'auto' for a game "
                         f"with {game.n_players} players. Got {method!r} instead.")
    if method == "lp" and not game.is_zero_sum:
        raise ValueError(f"The 'method' parameter of {_FUNC} can be 'lp' only for zero-sum (constant-sum) games. "
                         "Got method='lp' for a game whose payoffs do not sum to a constant.")
    params: dict = {"tol": tol, "exact": bool(exact)}
    if method == "vertex_enumeration":
        equilibria, complete, message = _vertex_enumeration(game, tol, exact)
    elif method == "lemke_howson":
        n_labels = sum(game.n_actions)
        if initial_dropped_label is not None:
            if (isinstance(initial_dropped_label, bool) or not isinstance(initial_dropped_label, (int, np.integer))
                    or not 0 <= initial_dropped_label < n_labels):
                raise ValueError(f"The 'initial_dropped_label' parameter of {_FUNC} must be an int in "
                                 f"[0, {n_labels - 1}]. Got {initial_dropped_label!r} instead.")
            initial_dropped_label = int(initial_dropped_label)
        max_iter = LH_MAX_ITER if max_iter is None else positive_int(max_iter, name="max_iter", func=_FUNC)
        params.update(initial_dropped_label=initial_dropped_label, max_iter=max_iter)
        equilibria, complete, message = _lemke_howson(game, tol, exact, initial_dropped_label, max_iter)
    elif method == "lp":
        equilibria, complete, message = _lp(game, tol, exact)
    elif method == "qre_limit":
        equilibria, message = _qre_limit(game, tol)
        complete = False
        if not equilibria:
            warnings.warn(message, ConvergenceWarning, stacklevel=2)
    elif method == "pure":
        equilibria, complete, message = _pure(game, tol, exact)
    else:
        pure, _, pure_message = _pure(game, tol, exact)
        limit, limit_message = _qre_limit(game, tol)
        fresh = [e for e in limit if not any(
            max(np.abs(a - b).max() for a, b in zip(e.strategies, p.strategies)) <= 1e-6 for p in pure)]
        equilibria, complete = _sort(list(pure) + fresh), False
        message = (f"{pure_message.split(';')[0]}; {limit_message} Other mixed equilibria were not searched "
                   "(not exhaustive for N >= 3 players).")
    return NashSet(message=message, complete=complete, equilibria=equilibria, method=method, params=params,
                   game=game)
