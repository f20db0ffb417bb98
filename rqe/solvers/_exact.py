"""Exact rational verification of a bimatrix equilibrium found in floating point.

The supports and best-response sets of the floating-point profile fix the linear
equations of its vertex (``x_i = 0`` off the support, equal payoffs across the partner's
best responses, probabilities summing to one); these are solved in :class:`fractions.Fraction`
arithmetic and the equilibrium conditions checked without rounding.  Every float is an
exact binary rational, so any finite payoffs are accepted; integer payoffs keep the
numbers small.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["exact_equilibrium"]


def _solve_unique(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """The unique solution of a consistent (possibly overdetermined) system, else ``None``."""
    aug = [row + [b] for row, b in zip(rows, rhs)]
    n_cols = len(rows[0])
    for c in range(n_cols):
        pivot = next((r for r in range(c, len(aug)) if aug[r][c] != 0), None)
        if pivot is None:
            return None
        aug[c], aug[pivot] = aug[pivot], aug[c]
        lead = aug[c][c]
        aug[c] = [v / lead for v in aug[c]]
        for r in range(len(aug)):
            if r != c and aug[r][c] != 0:
                factor = aug[r][c]
                aug[r] = [v - factor * w for v, w in zip(aug[r], aug[c])]
    if any(aug[r][-1] != 0 for r in range(n_cols, len(aug))):
        return None
    return [aug[r][-1] for r in range(n_cols)]


def _strategy(M: list[list[Fraction]], support: np.ndarray, replies: np.ndarray) -> list[Fraction] | None:
    """Solve ``z_i = 0`` off ``support``, ``(M^T z)_j = v`` on ``replies``, ``sum z = 1`` for ``(z, v)``."""
    n_own = len(M)
    zero, one = Fraction(0), Fraction(1)
    rows, rhs = [], []
    for i in np.flatnonzero(~support):
        rows.append([one if k == i else zero for k in range(n_own)] + [zero])
        rhs.append(zero)
    for j in np.flatnonzero(replies):
        rows.append([M[i][j] for i in range(n_own)] + [-one])
        rhs.append(zero)
    rows.append([one] * n_own + [zero])
    rhs.append(one)
    solution = _solve_unique(rows, rhs)
    return None if solution is None else solution[:n_own]


def _payoff_vector(M: list[list[Fraction]], z: list[Fraction]) -> list[Fraction]:
    return [sum((row[j] * z[j] for j in range(len(z))), Fraction(0)) for row in M]


def exact_equilibrium(A: np.ndarray, B: np.ndarray, x: np.ndarray, y: np.ndarray, tol: float):
    """Rational strategies ``(x, y)`` verified to be an exact equilibrium, or ``None``.

    ``A`` and ``B`` are the payoff matrices of players 1 and 2 (rows are player 1's
    actions); ``tol`` decides, relative to the payoff range, which actions are in the
    support and which are best responses.
    """
    scale_a = max(float(np.ptp(A)), 1e-300)
    scale_b = max(float(np.ptp(B)), 1e-300)
    FA = [[Fraction(v) for v in row] for row in A.tolist()]
    FB = [[Fraction(v) for v in row] for row in B.tolist()]
    FAt = [list(col) for col in zip(*FA)]
    FBt = [list(col) for col in zip(*FB)]
    values_b = B.T @ x
    values_a = A @ y
    xq = _strategy(FB, x > tol, values_b >= values_b.max() - tol * scale_b)
    yq = _strategy(FAt, y > tol, values_a >= values_a.max() - tol * scale_a)
    if xq is None or yq is None or min(xq) < 0 or min(yq) < 0:
        return None
    pay_a = _payoff_vector(FA, yq)
    pay_b = _payoff_vector(FBt, xq)
    value_a = sum((p * q for p, q in zip(pay_a, xq)), Fraction(0))
    value_b = sum((p * q for p, q in zip(pay_b, yq)), Fraction(0))
    if max(pay_a) != value_a or max(pay_b) != value_b:
        return None
    return tuple(xq), tuple(yq)
