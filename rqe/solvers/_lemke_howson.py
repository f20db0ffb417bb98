"""One Nash equilibrium of a bimatrix game by the Lemke-Howson algorithm.

Lemke and Howson (1964), *Equilibrium points of bimatrix games*, J. SIAM 12(2):413-423,
in the tableau form of von Stengel (2002), *Computing equilibria for two-person games*,
Handbook of Game Theory vol. 3, ch. 45, Section 4, with the lexicographic minimum-ratio test
of its Section 6.  The lexicographic rule makes every pivot well defined in degenerate
games, so the path never cycles and ends at an equilibrium after finitely many pivots.

Variables are labelled as in :mod:`rqe.solvers._vertex_enum`: ``0..m-1`` are player 1's
strategy variables ``x_i`` (tableau of ``B^T x + s = 1``) and the slacks ``r_i`` of
``A y + r = 1``; ``m..m+n-1`` are the slacks ``s_j`` and player 2's ``y_j``.

Each tableau is a column-major (Fortran-ordered) array pivoted in place: the entering
column and the right-hand side are contiguous for the ratio test, and the elimination is one
BLAS rank-one update (``dger``), so a pivot costs a handful of numpy calls and one pass over
the tableau.  The pivots run with one BLAS thread (:mod:`rqe._threads`).
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


@dataclass(frozen=True)
class LemkeHowsonOutcome:
    """End of the Lemke-Howson run: the equilibrium (or ``None``), its starting label, total pivots."""

    x: np.ndarray | None
    y: np.ndarray | None
    label: int | None
    nit: int
    converged: bool


class _Tableau:
    """A dictionary ``[M | I | 1]`` (basis + M nonbasic = rhs), column-major, pivoted in place."""

    def __init__(self, M: np.ndarray, identity_first: bool, basis: np.ndarray):
        k, d = M.shape
        tab = np.empty((k, d + k + 1), order="F")
        eye, body = (slice(0, k), slice(k, k + d)) if identity_first else (slice(d, d + k), slice(0, d))
        tab[:, body] = M
        tab[:, eye] = np.eye(k)
        tab[:, -1] = 1.0
        self.array = tab
        self.basis = basis
        self.lex_columns = np.arange(tab.shape[1] - 1)[eye]

    def pivot(self, entering: int) -> int:
        """Bring ``entering`` into the basis by the lexicographic ratio test; return the leaving variable."""
        tab = self.array
        column = tab[:, entering]
        positive = column > PIVOT_TOL
        ratios = np.divide(tab[:, -1], column, out=np.full(len(column), np.inf), where=positive)
        r = int(ratios.argmin())
        tied = ratios <= ratios[r] + PIVOT_TOL
        if np.count_nonzero(tied) > 1:
            rows = np.flatnonzero(tied)
            for lex in self.lex_columns:
                ratios = tab[rows, lex] / column[rows]
                rows = rows[ratios <= ratios.min() + PIVOT_TOL]
                if rows.size == 1:
                    break
            r = int(rows[0])
        pivot_row = tab[r] / column[r]
        dger(-1.0, column.copy(), pivot_row, a=tab, overwrite_a=True)
        tab[r] = pivot_row          # the update left row r at zero; it becomes the scaled pivot row
        leaving = int(self.basis[r])
        self.basis[r] = entering
        return leaving


class _Path:
    """The Lemke-Howson path that starts at the artificial equilibrium by dropping ``label``."""

    def __init__(self, A: np.ndarray, B: np.ndarray, label: int):
        m, n = A.shape
        self.m, self.label = m, label
        self.tab_x = _Tableau(B.T, identity_first=False, basis=np.arange(m, m + n))
        self.tab_y = _Tableau(A, identity_first=True, basis=np.arange(m))
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
        return np.sort(self.tab_x.basis[self.tab_x.basis < m]), np.sort(self.tab_y.basis[self.tab_y.basis >= m]) - m


def race_schedule(n_paths: int):
    """Which path pivots next when ``n_paths`` paths are raced: the first path gets three pivots in four.

    Each round gives three pivots to the first path and one to the next of the others in
    turn, so a race makes at most 4/3 of the pivots of the first path alone (the margin to
    twice its time pays for building the other paths' tableaux and for pivots slowed down
    once all the tableaux outgrow the cache), and it ends early when another path is shorter.

    Examples
    --------
    >>> from itertools import islice
    >>> from rqe.solvers._lemke_howson import race_schedule
    >>> list(islice(race_schedule(3), 12))
    [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1]
    """
    if n_paths == 1:
        while True:
            yield 0
    while True:
        for k in range(1, n_paths):
            yield from (0, 0, 0, k)


def lemke_howson(A: np.ndarray, B: np.ndarray, *, labels: tuple[int, ...], max_iter: int) -> LemkeHowsonOutcome:
    """Follow the Lemke-Howson paths dropping each of ``labels``, raced by :func:`race_schedule`.

    ``A`` and ``B`` are the payoff matrices of players 1 and 2 (rows are player 1's
    actions).  Path lengths from different labels differ by orders of magnitude on random
    games, so racing a few paths often ends far sooner than the first label alone, and
    giving the first label three pivots in four bounds the race by 4/3 of its pivots.  A path's
    tableaux are built when it first pivots.  The first path to end wins; ``max_iter``
    bounds the pivots of all paths together.  The strategies are recomputed from the final
    basis by two square linear solves, which removes the rounding accumulated by the pivots.
    """
    A, B = unit_range(A), unit_range(B)
    paths: dict[int, _Path] = {}
    schedule = race_schedule(len(labels))
    with hot_loop(A.size + max(A.shape) ** 2):
        for nit in range(1, max_iter + 1):
            k = next(schedule)
            if k not in paths:
                paths[k] = _Path(A, B, labels[k])
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
