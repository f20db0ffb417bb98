"""Small numerical kernels: softplus, two-action log-probabilities, a fast 1-D log-sum-exp and the scalar root of ``sum_b c_b / (d_b + w) = 1`` for ``w > 0``, in log coordinates.

Both the reverse-KL adversary and the log-barrier quantal response (docs/concepts.md, table of risk measures)
reduce to this equation, with ``d_b >= 0`` and ``min_b d_b = 0``.  The left-hand side is
decreasing in ``w``; we solve ``F(u) = logsumexp(log c - log(d + e^u)) = 0`` for
``u = log w`` by Newton's method safeguarded by bisection on the bracket

    u_lo = max_{b: d_b = 0} log c_b   (that term alone is >= 1, so F >= 0)
    u_hi = logsumexp(log c)           (every term is <= c_b / w, so F <= 0).

Working with ``log c`` keeps the answer exact when some ``c_b`` underflow (weights 1e-300).
"""

from __future__ import annotations

import math

import numpy as np

_MAX_STEPS = 200


def softplus(t: float) -> float:
    """``log(1 + e^t)`` without overflow."""
    return t + math.log1p(math.exp(-t)) if t > 0 else math.log1p(math.exp(t))


def log_probs_of_odds(l: float) -> np.ndarray:
    """Log-probabilities ``(-softplus(-l), -softplus(l))`` of a two-action strategy with log-odds ``l``."""
    return np.array([-softplus(-l), -softplus(l)])


def logsumexp(a: np.ndarray) -> float:
    """``log(sum(exp(a)))`` of a 1-D array without overflow (faster than scipy's for small arrays)."""
    if len(a) == 2:                      # two actions: scalar arithmetic, no ufunc overhead
        x, y = a.tolist()
        m = max(x, y)
        if not math.isfinite(m):
            return m
        return m + math.log1p(math.exp(-abs(x - y)))
    m = a.max()
    if not np.isfinite(m):
        return float(m)
    return float(m + np.log(np.exp(a - m).sum()))


def spread_about_weighted_mean(log_r: np.ndarray, dv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(r_b A_b, r_b / R)`` with ``A_b = dv_b - sum_c (r_c / R) dv_c`` for each row of ``dv``; ``R = sum r``.

    Written as ``A_b = (dv_b - dv_k) + sum_{c != k} (r_c / R)(dv_k - dv_c)`` with ``k`` the
    largest weight, and ``r_k A_k = (r_k / R) sum_{c != k} r_c (dv_k - dv_c)``, so no term
    multiplies a huge ``r_k`` by a difference of nearly equal numbers (the reverse-KL adversary
    has ``r_k`` near ``1e17`` when it loads an action the partner plays with probability
    ``1e-17``).  ``log_r`` may hold ``-inf`` (zero weights; all of them when ``tau`` underflows,
    which gives zeros) and ``+inf`` (the limit of weights that dominate all others, which then
    share ``R`` equally); ``r_k`` itself is never formed.
    """
    k = int(np.argmax(log_r))
    if np.isneginf(log_r[k]):           # every weight 0 (tau underflowed to 0): no spread and no share
        return np.zeros_like(dv), np.zeros(len(log_r))
    infinite = np.isposinf(log_r)
    if infinite.any():                  # infinite weights (reverse-KL mass on zero-probability actions) share R
        share = infinite / np.count_nonzero(infinite)
    else:
        share = np.exp(log_r - logsumexp(log_r))
    gap = dv[:, k:k + 1] - dv                     # dv_k - dv_c
    B = gap @ np.where(np.arange(len(share)) == k, 0.0, share)
    # A weight below the largest may still overflow (log_r above ~709): its terms are then
    # +-inf, and exactly 0 where they multiply a zero difference (not inf * 0 = nan).
    with np.errstate(over="ignore", invalid="ignore"):
        rest = np.exp(log_r)
        rest[k] = 0.0
        factor = B[:, None] - gap
        out = np.where(factor == 0.0, 0.0, rest * factor)
        total = np.where(gap == 0.0, 0.0, gap * rest).sum(axis=1)
    out[:, k] = share[k] * total
    return out, share


def log_inverse_sum_root(log_c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Return ``log(d + w)`` where ``w > 0`` solves ``sum exp(log_c) / (d + w) = 1``.

    Parameters
    ----------
    log_c : ndarray
        Logs of the positive weights ``c_b`` (may be very negative).
    d : ndarray
        Nonnegative offsets with ``min(d) == 0``.
    """
    if len(d) == 2 and -500.0 < np.min(log_c) and np.max(log_c) < 300.0 and np.max(d) < 1e100:
        # the closed form squares c (and d): only where that cannot overflow (tau down to ~1e-130)
        return np.log(d + _two_term_root(np.exp(log_c), d))
    log_d = np.log(d, where=d > 0, out=np.full_like(d, -np.inf))
    u_lo = float(np.max(log_c[d <= 0]))
    u_hi = float(logsumexp(log_c))
    u = u_hi
    for _ in range(_MAX_STEPS):
        log_den = np.logaddexp(log_d, u)
        terms = log_c - log_den
        F = float(logsumexp(terms))
        if F > 0:
            u_lo = u
        else:
            u_hi = u
        slope = -float(np.sum(np.exp(terms - F + u - log_den)))
        step = -F / slope if slope < 0 else u_lo - u
        if abs(step) <= 4e-16 * max(1.0, abs(u)):
            u += step
            break
        u = u + step if u_lo < u + step < u_hi else 0.5 * (u_lo + u_hi)
    return np.logaddexp(log_d, u)


def _two_term_root(c: np.ndarray, d: np.ndarray) -> float:
    """Closed form for two terms: ``w^2 + B w - C = 0`` with ``C >= 0`` (stable branch)."""
    k = int(np.argmax(d))
    D = float(d[k])
    B = D - c[0] - c[1]
    C = float(c[1 - k]) * D
    disc = np.sqrt(B * B + 4.0 * C)
    return (disc - B) / 2.0 if B <= 0 else 2.0 * C / (B + disc)
