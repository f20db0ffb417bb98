"""One Nash equilibrium of a bimatrix game by the Lemke-Howson algorithm.

Lemke and Howson (1964), *Equilibrium points of bimatrix games*, J. SIAM 12(2):413-423,
in the tableau form of von Stengel (2002), *Computing equilibria for two-person games*,
Handbook of Game Theory vol. 3, ch. 45, Section 4, with the lexicographic minimum-ratio test
of its Section 6.  The lexicographic rule makes every pivot well defined in degenerate
games, so the path never cycles and ends at an equilibrium after finitely many pivots.

Variables are labelled as in :mod:`rqe.solvers._vertex_enum`: ``0..m-1`` are player 1's
strategy variables ``x_i`` (tableau of ``B^T x + s = 1``) and the slacks ``r_i`` of
``A y + r = 1``; ``m..m+n-1`` are the slacks ``s_j`` and player 2's ``y_j``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rqe.solvers._vertex_enum import unit_range

__all__ = ["LemkeHowsonOutcome", "lemke_howson"]

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
    """A dictionary ``basis + N nonbasic = rhs`` kept as a dense array, pivoted in place."""

    def __init__(self, array: np.ndarray, basis: np.ndarray, lex_columns: np.ndarray):
        self.array = array
        self.basis = basis
        self.lex_columns = lex_columns

    def pivot(self, entering: int) -> int:
        """Bring ``entering`` into the basis by the lexicographic ratio test; return the leaving variable."""
        tab = self.array
        column = tab[:, entering].copy()
        rows = np.flatnonzero(column > PIVOT_TOL)
        ratios = tab[rows, -1] / column[rows]
        rows = rows[ratios <= ratios.min() + PIVOT_TOL]
        for lex in self.lex_columns:
            if rows.size == 1:
                break
            ratios = tab[rows, lex] / column[rows]
            rows = rows[ratios <= ratios.min() + PIVOT_TOL]
        r = rows[0]
        tab[r] /= column[r]
        column[r] = 0.0
        tab -= np.outer(column, tab[r])
        leaving = int(self.basis[r])
        self.basis[r] = entering
        return leaving


class _Path:
    """The Lemke-Howson path that starts at the artificial equilibrium by dropping ``label``."""

    def __init__(self, A: np.ndarray, B: np.ndarray, label: int):
        m, n = A.shape
        self.m, self.label = m, label
        self.tab_x = _Tableau(np.hstack([B.T, np.eye(n), np.ones((n, 1))]), np.arange(m, m + n), np.arange(m, m + n))
        self.tab_y = _Tableau(np.hstack([np.eye(m), A, np.ones((m, 1))]), np.arange(m), np.arange(m))
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


def lemke_howson(A: np.ndarray, B: np.ndarray, *, labels: tuple[int, ...], max_iter: int) -> LemkeHowsonOutcome:
    """Follow the Lemke-Howson paths dropping each of ``labels``, one pivot each in turn.

    ``A`` and ``B`` are the payoff matrices of players 1 and 2 (rows are player 1's
    actions).  Path lengths from different labels differ by orders of magnitude on random
    games, so racing a few paths bounds the work by a multiple of the shortest one.  The
    first path to end wins; ``max_iter`` bounds the pivots of all paths together.  The
    strategies are recomputed from the final basis by two square linear solves, which
    removes the rounding accumulated by the pivots.
    """
    A, B = unit_range(A), unit_range(B)
    paths = [_Path(A, B, label) for label in labels]
    for nit in range(1, max_iter + 1):
        path = paths[(nit - 1) % len(paths)]
        if path.step():
            S, T = path.supports()
            x = np.zeros(A.shape[0])
            y = np.zeros(A.shape[1])
            x[S] = np.linalg.solve(B[np.ix_(S, T)].T, np.ones(len(S)))
            y[T] = np.linalg.solve(A[np.ix_(S, T)], np.ones(len(T)))
            x, y = np.clip(x, 0.0, None), np.clip(y, 0.0, None)
            return LemkeHowsonOutcome(x / x.sum(), y / y.sum(), path.label, nit, True)
    return LemkeHowsonOutcome(None, None, None, max_iter, False)
