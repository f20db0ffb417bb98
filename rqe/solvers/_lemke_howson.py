"""One Nash equilibrium of a bimatrix game by the Lemke-Howson algorithm.

Lemke and Howson (1964), *Equilibrium points of bimatrix games*, J. SIAM 12(2):413-423,
in the tableau form of von Stengel (2002), *Computing equilibria for two-person games*,
Handbook of Game Theory vol. 3, ch. 45, Section 4, with the lexicographic minimum-ratio test
of its Section 6.  The lexicographic rule makes every pivot well defined in degenerate
games, so the path never cycles and ends at an equilibrium after finitely many pivots.

Variables are labelled as in :mod:`rqe.solvers._vertex_enum`: ``0..m-1`` are player 1's
strategy variables ``x_i`` (tableau of ``B^T x + s = 1``) and the slacks ``r_i`` of
``A y + r = 1``; ``m..m+n-1`` are the slacks ``s_j`` and player 2's ``y_j``.

Each tableau is condensed (Tucker's form): only the columns of the nonbasic variables and the
right-hand side are stored, since a basic variable's column is a unit vector, so a pivot
updates half the entries of the full tableau ``[M | I | 1]``.  The array is column-major
(Fortran-ordered) and pivoted in place: the entering column and the right-hand side are
contiguous for the ratio test, and the elimination is one BLAS rank-one update (``dger``).
Per-call overhead dominates small games, so a pivot is seven numpy calls (a division, two
``argmax``, two copies, a ``fill`` and ``dger``), single entries go through memoryviews and the
bookkeeping through Python lists: the lexicographic test runs only when the plain ratio test
finds a tie, a tiny pivot or a right-hand side not known to be positive.  The pivots run with
one BLAS thread (:mod:`rqe._threads`).

The floor of this design on 50 x 50 (timeit, idle 2-core machine, numpy 2.4, scipy's
OpenBLAS): ``divide`` 0.25 us, each ``argmax`` 0.19, the column copy 0.16 and the strided row
copy 0.14, ``fill`` 0.11, one ndarray item write 0.11, two memoryview writes 0.10 each, and
``dger`` 0.70 (0.22 of it the f2py call itself): 2.1 us a pivot before any Python around the
calls; a whole pivot measures 3.5-3.7 us, against 1.2-1.3 us for numba-compiled QuantEcon.
The numpy calls alone are thus 1.7x QuantEcon's pivot, and writing the pivot out inline (no
method call, locals only) changed the instruction count by under 1% (callgrind).  Running
several paths in lock-step as one stacked tableau was measured too: the numpy calls of one
step for 8 paths take 85 us (the broadcast rank-one update 30 us of it), over 20x a single
pivot, which a race pays at every step even when label 0's path is the shortest; so the race
alternates paths instead (:func:`race_schedule`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dger
from scipy.linalg.lapack import dgesv

from rqe._threads import hot_loop

__all__ = ["LemkeHowsonOutcome", "lemke_howson", "race_schedule"]

PIVOT_TOL = 1e-12
"""Entries of the entering column at most this are treated as zero in the ratio test."""
_LARGE_BYTES = 1 << 17
"""Tableaux larger than this start the other paths of a race late (``_START``).  It is glibc's default mmap
threshold: a larger array is fresh memory, zero-filled page by page, each time it is made.  Measured race /
own label 0 (2-core machine): 250 x 250 seed 2 1.96-2.50 with 1 MB here, 1.20 with 128 KB; 150 x 150 seed 1
1.62 and 0.99; the price is a smaller gain where another label's path is much shorter (300 x 300 seed 0
0.59 and 1.03)."""
_BLOCK = 8
"""Paths are raced in runs of ``3 _BLOCK`` and ``_BLOCK`` pivots (see :func:`race_schedule`): one run costs a Python
call and, once the race's tableaux outgrow the cache, a reload of the path's tableaux."""
_START = 32
"""Each other path of a race of large tableaux starts after ``3 _START`` extra pivots of the first: building
a path's two tableaux in fresh memory costs about 40 pivots (measured on 500 x 500)."""
_SAFE = 1.0 - 1e-9
"""A pivot keeps the right-hand side positive when its runner-up ``column / rhs`` is at most this share of the
chosen one (every entry keeps a share ``1e-9`` of its value, far above the rounding) ..."""
_SAFE_PIVOT = 1e6
"""... and its pivot element is at most this (the pivot row's new ``rhs / c`` loses about ``c`` ulps to the
cancellation in the rank-one update)."""
_divide = np.divide
_INF = np.inf
_NEG_INF = -np.inf


@dataclass(frozen=True)
class LemkeHowsonOutcome:
    """End of the Lemke-Howson run: the equilibrium (or ``None``), its starting label, total pivots."""

    x: np.ndarray | None
    y: np.ndarray | None
    label: int | None
    nit: int
    converged: bool


class _Tableau:
    """A condensed dictionary: the nonbasic variables' columns and the right-hand side, pivoted in place.

    Row ``i`` reads ``basis[i] = rhs[i] - sum_j D[i, j] * nonbasic[j]`` in the sign convention
    of the full tableau ``[M | I | 1]``, whose basic columns are unit vectors and so are not
    stored (Tucker's condensed tableau): a pivot touches half the entries of the full one.
    The bookkeeping is in Python lists indexed by variable (``slot[v]`` is the column of a
    nonbasic ``v``, -1 for a basic one), since a numpy call costs more than a list lookup.
    """

    __slots__ = ("array", "rhs", "ratios", "ratio_items", "columns", "rows", "basis", "slot", "positive", "lex_variables")

    def __init__(self, initial: np.ndarray, identity_first: bool):
        k, d = initial.shape[0], initial.shape[1] - 1
        tab = initial.copy(order="F")
        first_body = k if identity_first else 0
        first_eye = 0 if identity_first else d
        self.array = tab
        self.rhs = tab[:, d]
        self.ratios = np.empty(k)                                 # the buffer of the ratio test
        self.ratio_items = memoryview(self.ratios)                # its entries as Python floats (faster than .item)
        self.columns: list = [None] * d                           # views of the columns (and their memoryviews)
        # and rows, made on first use
        self.rows: list = [None] * k
        self.basis = list(range(first_eye, first_eye + k))          # variable basic in each row
        self.slot = [-1] * (k + d)
        self.slot[first_body:first_body + d] = range(d)
        self.positive = True                                      # every entry of rhs is known to be > 0
        self.lex_variables = tuple(self.basis)                    # the identity's columns, in order

    @staticmethod
    def initial(M: np.ndarray) -> np.ndarray:
        """The starting tableau ``[1 + (M - min M) / (max M - min M) | 1]`` (column-major), shared by the paths.

        The payoffs are mapped onto ``[1, 2]`` in place (best responses unchanged), as
        :func:`rqe.solvers._vertex_enum.unit_range` does, without its temporaries.
        """
        tab = np.empty((M.shape[0], M.shape[1] + 1), order="F")
        body = tab[:, :-1]
        lo, hi = M.min(), M.max()
        np.subtract(M, lo, out=body)
        body *= 1.0 / (hi - lo) if hi > lo else 0.0
        body += 1.0
        tab[:, -1] = 1.0
        return tab

    def _lex_row(self, column: np.ndarray) -> int:
        """The lexicographic minimum-ratio test (von Stengel 2002, Section 6), ties within PIVOT_TOL."""
        rhs = self.rhs
        positive = column > PIVOT_TOL
        ratios = np.full(len(column), np.inf)
        np.divide(rhs, column, out=ratios, where=positive)
        rows = np.flatnonzero(ratios <= ratios.min() + PIVOT_TOL)
        for var in self.lex_variables:
            if rows.size == 1:
                break
            s = self.slot[var]
            if s >= 0:
                values = self.array[rows, s]
            else:                                                   # a basic variable: a unit column
                values = (rows == self.basis.index(var)).astype(float)
            ratios = values / column[rows]
            rows = rows[ratios <= ratios.min() + PIVOT_TOL]
        return int(rows[0])

    def pivot(self, entering: int) -> int:
        """Bring ``entering`` into the basis by the lexicographic ratio test; return the leaving variable.

        The ratio test takes the row of the largest ``column / rhs`` (the smallest ratio) and
        compares it with the second largest; only a tie within ``PIVOT_TOL``, a tiny pivot or
        a right-hand side not known to be positive goes to the full lexicographic test.  The
        right-hand side stays positive after a pivot whose runner-up ratio is a factor
        ``1 + 1e-9`` above the chosen one (every entry then keeps at least that share of its
        value, far above the rounding), so its check is skipped until a closer call.
        """
        slot = self.slot
        s = slot[entering]
        entry = self.columns[s]
        if entry is None:
            column = self.array[:, s]
            entry = self.columns[s] = column, memoryview(column)
        column, column_items = entry
        rhs, q, q_items = self.rhs, self.ratios, self.ratio_items
        _divide(column, rhs, q)                     # np.errstate is set by the caller for rhs = 0
        r = int(q.argmax())
        best, c = q_items[r], column_items[r]
        q_items[r] = _NEG_INF
        second = q_items[q.argmax()]
        if (c > PIVOT_TOL and best < _INF and second < best / (1.0 + PIVOT_TOL * best)
                and (self.positive or rhs.item(rhs.argmin()) > 0.0)):
            self.positive = second <= _SAFE * best and c <= _SAFE_PIVOT
        else:
            r = self._lex_row(column)
            c = column_items[r]
            self.positive = False
        u = column.copy()
        u[r] = c - 1.0
        column.fill(0.0)                            # this slot becomes the leaving variable's column
        column_items[r] = 1.0
        # tab -= u (tab[r] / c): rows i != r lose u_i times the scaled pivot row, row r is divided by c
        row = self.rows[r]
        if row is None:
            row = self.rows[r] = self.array[r]
        dger(-1.0 / c, u, row.copy(), 1, 1, self.array, 1, 1, 1)
        basis = self.basis
        leaving = basis[r]
        basis[r] = entering
        slot[leaving] = s
        slot[entering] = -1
        return leaving


class _Path:
    """The Lemke-Howson path that starts at the artificial equilibrium by dropping ``label``."""

    def __init__(self, initial_x: np.ndarray, initial_y: np.ndarray, label: int):
        m = initial_y.shape[0]
        self.m, self.label = m, label
        self.tab_x = _Tableau(initial_x, identity_first=False)
        self.tab_y = _Tableau(initial_y, identity_first=True)
        self.current, self.other = (self.tab_x, self.tab_y) if label < m else (self.tab_y, self.tab_x)
        self.entering = label

    def advance(self, budget: int) -> int:
        """Up to ``budget`` pivots; the number made, negated when the dropped label was picked up again."""
        current, other, entering, label = self.current, self.other, self.entering, self.label
        for k in range(1, budget + 1):
            entering = current.pivot(entering)
            current, other = other, current
            if entering == label:
                return -k
        self.current, self.other, self.entering = current, other, entering
        return budget

    def supports(self) -> tuple[np.ndarray, np.ndarray]:
        """Basic strategy variables: player 1's support and player 2's support."""
        m = self.m
        return (np.array(sorted(v for v in self.tab_x.basis if v < m), dtype=int),
                np.array(sorted(v - m for v in self.tab_y.basis if v >= m), dtype=int))


def race_schedule(n_paths: int, block: int = 1, start: int = 0):
    """Runs of pivots when ``n_paths`` paths are raced, as ``(path, pivots)``: the first path gets three in four.

    Each round gives ``3 block`` pivots to the first path and ``block`` to the next of the
    others in turn, so a race makes at most 4/3 of the pivots of the first path alone (plus
    ``block``), and it ends early when another path is shorter.  The margin to twice its time
    pays for building the other paths' tableaux and for the pivots slowed down when the
    tableaux outgrow the cache; ``block > 1`` keeps one path's tableaux in the cache for
    several pivots in a row and makes fewer Python calls per pivot (measured on 100 x 100,
    seed 0: race / label 0 alone 2.1 with ``block = 1``, 1.3 with 8).  Each other path's first run waits for
    ``3 start`` more pivots of the first path, which pay for building its tableaux.  A single
    path runs without a break.

    Examples
    --------
    >>> from itertools import islice
    >>> from rqe.solvers._lemke_howson import race_schedule
    >>> list(islice(race_schedule(3), 6))
    [(0, 3), (1, 1), (0, 3), (2, 1), (0, 3), (1, 1)]
    >>> list(islice(race_schedule(3, block=2, start=4), 6))
    [(0, 18), (1, 2), (0, 18), (2, 2), (0, 6), (1, 2)]
    >>> next(race_schedule(1)) == (0, sys.maxsize)
    True
    """
    if n_paths == 1:
        yield 0, sys.maxsize
        return
    for k in range(1, n_paths):
        yield 0, 3 * (block + start)
        yield k, block
    while True:
        for k in range(1, n_paths):
            yield 0, 3 * block
            yield k, block


def lemke_howson(A: np.ndarray, B: np.ndarray, *, labels: tuple[int, ...], max_iter: int) -> LemkeHowsonOutcome:
    """Follow the Lemke-Howson paths dropping each of ``labels``, raced by :func:`race_schedule`.

    ``A`` and ``B`` are the payoff matrices of players 1 and 2 (rows are player 1's
    actions).  Path lengths from different labels differ by orders of magnitude on random
    games, so racing a few paths often ends far sooner than the first label alone, and
    giving the first label three pivots in four bounds the race by 4/3 of its pivots.  A
    path's tableaux are copied from the shared starting ones when it first pivots.  The first
    path to end wins; ``max_iter`` bounds the pivots of all paths together.  The strategies are recomputed from the final
    basis by two square linear solves, which removes the rounding accumulated by the pivots.
    """
    paths: dict[int, _Path] = {}
    m, n = A.shape
    large = 8 * max(m * (n + 1), n * (m + 1)) > _LARGE_BYTES
    initial = _Tableau.initial(B.T), _Tableau.initial(A)      # copied by each path when it first pivots
    nit = 0
    with hot_loop(A.size), np.errstate(divide="ignore", invalid="ignore"):
        for k, budget in race_schedule(len(labels), _BLOCK, _START if large else 0):
            if nit == max_iter:
                break
            path = paths.get(k)
            if path is None:
                path = paths[k] = _Path(*initial, labels[k])
            made = path.advance(min(budget, max_iter - nit))
            if made < 0:
                S, T = path.supports()
                x = np.zeros(m)
                y = np.zeros(n)
                x[S] = _solve_ones(initial[0][np.ix_(T, S)])     # the starting tableaux hold B^T and A in [1, 2]
                y[T] = _solve_ones(initial[1][np.ix_(S, T)])
                x, y = np.clip(x, 0.0, None), np.clip(y, 0.0, None)
                return LemkeHowsonOutcome(x / x.sum(), y / y.sum(), path.label, nit - made, True)
            nit += made
    return LemkeHowsonOutcome(None, None, None, max_iter, False)


def _solve_ones(M: np.ndarray) -> np.ndarray:
    """The solution of ``M z = 1`` by LAPACK's ``dgesv`` (a tenth of ``numpy.linalg.solve``'s overhead here)."""
    _, _, z, info = dgesv(M, np.ones(M.shape[0]))
    if info != 0:
        raise np.linalg.LinAlgError(f"Lemke-Howson's final basis is singular (dgesv info {info}).")
    return z
