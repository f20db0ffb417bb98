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
Per-pivot Python overhead dominates small games, so a pivot is a dozen numpy calls: the
lexicographic test runs only when the plain ratio test finds a tie or a degenerate row.
The pivots run with one BLAS thread (:mod:`rqe._threads`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dger

from rqe._threads import hot_loop
from rqe.solvers._vertex_enum import unit_range

__all__ = ["LemkeHowsonOutcome", "lemke_howson", "race_schedule"]

PIVOT_TOL = 1e-12
"""Entries of the entering column at most this are treated as zero in the ratio test."""
_CACHE_BYTES = 1 << 20
"""Tableaux larger than this are raced in blocks of ``_BLOCK`` pivots per path (see :func:`race_schedule`)."""
_BLOCK = 8


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
    """

    def __init__(self, initial: np.ndarray, identity_first: bool):
        k, d = initial.shape[0], initial.shape[1] - 1
        tab = initial.copy(order="F")
        first_body = k if identity_first else 0
        first_eye = 0 if identity_first else d
        self.array = tab
        self.rhs = tab[:, d]
        self.columns = {}                                         # views of the columns and rows, made on first use
        self.rows = {}
        self.basis = list(range(first_eye, first_eye + k))          # variable basic in each row
        self.slot = dict(zip(range(first_body, first_body + d), range(d)))   # nonbasic variable -> column
        self.row = dict(zip(self.basis, range(k)))                # basic variable -> row
        self.lex_variables = tuple(self.basis)                    # the identity's columns, in order

    @staticmethod
    def initial(M: np.ndarray) -> np.ndarray:
        """The starting tableau ``[M | 1]`` (column-major), shared by every path of a race."""
        tab = np.empty((M.shape[0], M.shape[1] + 1), order="F")
        tab[:, :-1] = M
        tab[:, -1] = 1.0
        return tab

    def _column(self, s: int) -> np.ndarray:
        column = self.columns.get(s)
        if column is None:
            column = self.columns[s] = self.array[:, s]
        return column

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
            if var in self.slot:
                values = self._column(self.slot[var])[rows]
            else:                                                   # a basic variable: a unit column
                values = (rows == self.row[var]).astype(float)
            ratios = values / column[rows]
            rows = rows[ratios <= ratios.min() + PIVOT_TOL]
        return int(rows[0])

    def pivot(self, entering: int) -> int:
        """Bring ``entering`` into the basis by the lexicographic ratio test; return the leaving variable.

        The ratio test first takes the row of the largest ``column / rhs`` (the smallest
        ratio) and compares it with the second largest; only a tie within ``PIVOT_TOL``, a
        degenerate row (``rhs <= 0``) or a tiny pivot goes to the full lexicographic test.
        (``argmax`` and ``argmin`` cost a fraction of ``max`` and ``min`` on short arrays.)
        """
        s = self.slot[entering]
        column, rhs = self._column(s), self.rhs
        q = column / rhs                            # np.errstate is set by the caller for rhs = 0
        r = q.argmax()
        best, c = q[r], column[r]
        q[r] = -np.inf
        second = q[q.argmax()]
        if not (c > PIVOT_TOL and best < np.inf and second < best / (1.0 + PIVOT_TOL * best)
                and rhs[rhs.argmin()] > 0.0):
            r = self._lex_row(column)
            c = column[r]
        u = column.copy()
        u[r] = c - 1.0
        column.fill(0.0)                            # this slot becomes the leaving variable's column
        column[r] = 1.0
        # tab -= u (tab[r] / c): rows i != r lose u_i times the scaled pivot row, row r is divided by c
        row = self.rows.get(r)
        if row is None:
            row = self.rows[r] = self.array[r]
        dger(-1.0 / c, u, row.copy(), 1, 1, self.array, 1, 1, 1)
        leaving = self.basis[r]
        self.basis[r] = entering
        del self.row[leaving], self.slot[entering]
        self.row[entering] = r
        self.slot[leaving] = s
        return leaving


class _Path:
    """The Lemke-Howson path that starts at the artificial equilibrium by dropping ``label``."""

    def __init__(self, initial_x: np.ndarray, initial_y: np.ndarray, label: int):
        m = initial_y.shape[0]
        self.m, self.label = m, label
        self.tab_x = _Tableau(initial_x, identity_first=False)
        self.tab_y = _Tableau(initial_y, identity_first=True)
        self.current = self.tab_x if label < m else self.tab_y
        self.entering = label

    def step(self) -> bool:
        """One pivot; true when the dropped label was picked up again (an equilibrium)."""
        leaving = self.current.pivot(self.entering)
        self.current = self.tab_y if self.current is self.tab_x else self.tab_x
        self.entering = leaving
        return leaving == self.label

    def supports(self) -> tuple[np.ndarray, np.ndarray]:
        """Basic strategy variables: player 1's support and player 2's support."""
        m = self.m
        return (np.array(sorted(v for v in self.tab_x.basis if v < m), dtype=int),
                np.array(sorted(v - m for v in self.tab_y.basis if v >= m), dtype=int))


def race_schedule(n_paths: int, block: int = 1):
    """Which path pivots next when ``n_paths`` paths are raced: the first path gets three pivots in four.

    Each round gives ``3 block`` pivots to the first path and ``block`` to the next of the
    others in turn, so a race makes at most 4/3 of the pivots of the first path alone (plus
    ``block``), and it ends early when another path is shorter.  The margin to twice its time
    pays for building the other paths' tableaux and for the pivots slowed down when the
    tableaux outgrow the cache; ``block > 1`` (used for large tableaux) keeps one path's
    tableaux in the cache for several pivots in a row.

    Examples
    --------
    >>> from itertools import islice
    >>> from rqe.solvers._lemke_howson import race_schedule
    >>> list(islice(race_schedule(3), 12))
    [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1]
    >>> list(islice(race_schedule(3, block=2), 16))
    [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2]
    """
    if n_paths == 1:
        while True:
            yield 0
    first, other = (0,) * (3 * block), (1,) * block
    while True:
        for k in range(1, n_paths):
            yield from first
            yield from (k * v for v in other)


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
    A, B = unit_range(A), unit_range(B)
    paths: dict[int, _Path] = {}
    m, n = A.shape
    large = 8 * max(m * (n + 1), n * (m + 1)) > _CACHE_BYTES
    schedule = race_schedule(len(labels), _BLOCK if large else 1)
    initial = _Tableau.initial(B.T), _Tableau.initial(A)      # copied by each path when it first pivots
    with hot_loop(A.size), np.errstate(divide="ignore", invalid="ignore"):
        for nit in range(1, max_iter + 1):
            k = next(schedule)
            if k not in paths:
                paths[k] = _Path(*initial, labels[k])
            path = paths[k]
            if path.step():
                S, T = path.supports()
                x = np.zeros(A.shape[0])
                y = np.zeros(A.shape[1])
                x[S] = np.linalg.solve(B[np.ix_(S, T)].T, np.ones(len(S)))
                y[T] = np.linalg.solve(A[np.ix_(S, T)], np.ones(len(T)))
                x, y = np.clip(x, 0.0, None), np.clip(y, 0.0, None)
                return LemkeHowsonOutcome(x / x.sum(), y / y.sum(), path.label, nit, True)
    return LemkeHowsonOutcome(None, None, None, max_iter, False)
