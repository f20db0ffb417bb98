"""Independent reference implementations used as oracles by the tests.

Nothing here imports the solver code of ``rqe``: risk-adjusted utilities are evaluated from
their definitions (paper eqs. 1-2) and best responses are found by direct numerical
maximisation of the player's objective, not by the first-order fixed point the library uses.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import logsumexp, softmax


def entropy_nu(x):
    x = np.asarray(x, dtype=float)
    keep = x > 0
    return float(np.sum(x[keep] * np.log(x[keep])))


def log_barrier_nu(x):
    return float(-np.sum(np.log(x)))


NU = {"entropy": entropy_nu, "log_barrier": log_barrier_nu}


def risk_value_kl(g, q, tau):
    """``min_p p.g + KL(p||q)/tau`` by the Donsker-Varadhan identity (or ``q.g`` at tau=0)."""
    g, q = np.asarray(g, float), np.asarray(q, float)
    if tau == 0:
        return float(q @ g)
    return float(-logsumexp(-tau * g, b=q) / tau)


def risk_value_numeric(g, q, tau, penalty):
    """``min_p p.g + penalty(p, q)/tau`` by direct minimisation over softmax-parametrised ``p``."""
    g, q = np.asarray(g, float), np.asarray(q, float)

    def obj(theta):
        p = softmax(theta)
        return p @ g + penalty(p, q) / tau

    best = None
    for start in (np.log(q), np.zeros_like(q), -tau * g):
        r = minimize(obj, start, method="BFGS", options={"gtol": 1e-12, "maxiter": 2000})
        best = r if best is None or r.fun < best.fun else best
    return float(best.fun), softmax(best.x)


def kl(p, q):
    keep = p > 0
    return float(np.sum(p[keep] * np.log(p[keep] / q[keep])))


def player_objective(A, x, q, tau, eps, nu="entropy"):
    """``U^{tau,eps}(x, q)`` for own-rows matrix ``A`` (n x m), KL risk."""
    return risk_value_kl(np.asarray(x) @ A, q, tau) - eps * NU[nu](x)


def best_response_2(A, q, tau, eps, nu="entropy"):
    """Player's best response with two actions, by bounded scalar maximisation in log-odds."""
    def neg(l):
        x = np.array([1 / (1 + np.exp(-l)), 1 / (1 + np.exp(l))])
        return -player_objective(A, x, q, tau, eps, nu)

    span = 2 * (np.ptp(A) + 1.0) / eps + 5.0
    r = minimize_scalar(neg, bounds=(-span, span), method="bounded", options={"xatol": 1e-12, "maxiter": 2000})
    return 1 / (1 + np.exp(-r.x))


def all_equilibria_2x2(R1, R2, tau, eps, nu="entropy", grid=400):
    """All RQE (KL risk) of a 2x2 bimatrix game: roots of s -> BR2(BR1(s)) - s on a grid.

    ``s`` is player 2's probability of its first action.  Returns a list of (P1 first, P2 first).
    """
    A1, A2 = np.asarray(R1, float), np.asarray(R2, float).T
    tau1, tau2 = np.broadcast_to(tau, 2)
    e1, e2 = np.broadcast_to(eps, 2)

    def br1(s):
        return best_response_2(A1, np.array([s, 1 - s]), tau1, e1, nu)

    def h(s):
        x = br1(s)
        return best_response_2(A2, np.array([x, 1 - x]), tau2, e2, nu) - s

    s_grid = np.linspace(1e-6, 1 - 1e-6, grid)
    vals = np.array([h(s) for s in s_grid])
    roots = []
    for a, b, fa, fb in zip(s_grid[:-1], s_grid[1:], vals[:-1], vals[1:]):
        if fa * fb < 0:
            s = brentq(h, a, b, xtol=1e-12)
            roots.append((br1(s), s))
    return roots


def max_deviation_gain(payoffs, strategies, tau, eps, nu="entropy", starts=6, seed=0):
    """Largest gain of any player by deviating, with KL risk, by multi-start direct maximisation.

    ``payoffs`` has shape ``(N, n_1, ..., n_N)``; the others' product distribution is built
    with ``np.einsum`` and the risk-adjusted utility by logsumexp.
    """
    rng = np.random.default_rng(seed)
    payoffs = np.asarray(payoffs, float)
    N = payoffs.shape[0]
    tau = np.broadcast_to(tau, N)
    eps = np.broadcast_to(eps, N)
    gains = []
    for i in range(N):
        A = np.moveaxis(payoffs[i], i, 0).reshape(payoffs.shape[1 + i], -1)
        others = [strategies[j] for j in range(N) if j != i]
        q = others[0]
        for o in others[1:]:
            q = np.multiply.outer(q, o).ravel()
        current = player_objective(A, strategies[i], q, tau[i], eps[i], nu)

        def neg(theta):
            return -player_objective(A, softmax(theta), q, tau[i], eps[i], nu)

        best = current
        for k in range(starts):
            start = np.log(strategies[i]) if k == 0 else rng.normal(size=len(strategies[i]))
            r = minimize(neg, start, method="BFGS", options={"gtol": 1e-11, "maxiter": 3000})
            best = max(best, -r.fun)
        gains.append(best - current)
    return max(gains)


def qre_fsolve(R1, R2, lam, x0=None):
    """Logit QRE of a bimatrix game by scipy's hybrid root finder on the log-odds equations.

    Unknowns are the log-odds of each action against the last one:
    ``v_a = lam (R y)_a - lam (R y)_last``.
    """
    from scipy.optimize import root

    R1, R2 = np.asarray(R1, float), np.asarray(R2, float)
    n, m = R1.shape
    lam1, lam2 = np.broadcast_to(lam, 2)

    def strategies(v):
        return softmax(np.append(v[:n - 1], 0.0)), softmax(np.append(v[n - 1:], 0.0))

    def F(v):
        x, y = strategies(v)
        u1, u2 = lam1 * (R1 @ y), lam2 * (R2.T @ x)
        return np.concatenate([v[:n - 1] - (u1[:-1] - u1[-1]), v[n - 1:] - (u2[:-1] - u2[-1])])

    v0 = np.zeros(n + m - 2) if x0 is None else x0
    sol = root(F, v0, method="hybr", tol=1e-14)
    x, y = strategies(sol.x)
    return x, y, bool(sol.success and np.max(np.abs(F(sol.x))) < 1e-10)


# ---------------------------------------------------------------- float certificates for the fuzz corpus
# Expected-payoff *differences* are formed entry by entry before averaging, ``U[a, b] - U[c, b]``,
# which is exact for entries of similar magnitude (Sterbenz), so an offset of 1e9 added to every
# payoff costs these certificates no digits.  Nothing here imports rqe.


def _own_rows(payoffs, i):
    """Player ``i``'s payoffs as a matrix: own actions by the others' joint actions (C order)."""
    payoffs = np.asarray(payoffs, float)
    return np.moveaxis(payoffs[i], i, 0).reshape(payoffs.shape[1 + i], -1)


def _others_joint(strategies, i):
    """The others' product distribution over their joint actions, in the order of ``_own_rows``."""
    q = np.ones(1)
    for j, x in enumerate(strategies):
        if j != i:
            q = np.multiply.outer(q, np.asarray(x, float)).ravel()
    return q


def payoff_gains(payoffs, strategies, i):
    """``g_a = u_i(a, x_-i) - u_i(x)`` for every own action ``a``, from exact entry differences."""
    A = _own_rows(payoffs, i)
    q = _others_joint(strategies, i)
    x = np.asarray(strategies[i], float)
    # g_a = sum_c x_c sum_b q_b (A[a, b] - A[c, b])
    return np.einsum("c,acb,b->a", x, A[:, None, :] - A[None, :, :], q)


def nash_regret(payoffs, strategies):
    """``max_i max_a u_i(a, x_-i) - u_i(x)``: the largest gain of a pure deviation."""
    return float(max(payoff_gains(payoffs, strategies, i).max() for i in range(len(strategies))))


def logit_residual(payoffs, strategies, lam):
    """``max_i ||x_i - softmax(lam_i u_i(., x_-i))||_1`` (McKelvey and Palfrey 1995), per-player ``lam``."""
    lam = np.broadcast_to(np.asarray(lam, float), len(strategies))
    worst = 0.0
    for i, x in enumerate(strategies):
        response = softmax(lam[i] * payoff_gains(payoffs, strategies, i))
        worst = max(worst, float(np.abs(np.asarray(x, float) - response).sum()))
    return worst


def correlated_regret(payoffs, distribution, kind="ce"):
    """Largest deviation gain of a law over joint actions, and its distance from the simplex.

    ``kind="ce"``: for each player, recommended action ``a`` and deviation ``d``,
    ``sum_b mu(a, b) (u(d, b) - u(a, b))``; ``"cce"``: ``sum_{a, b} mu(a, b) (u(d, b) - u(a, b))``.
    Returns ``(regret, infeasibility)`` with infeasibility ``max(-min mu, |sum mu - 1|)``.
    """
    payoffs = np.asarray(payoffs, float)
    mu = np.asarray(distribution, float)
    worst = -np.inf
    for i in range(payoffs.shape[0]):
        A = _own_rows(payoffs, i)
        M = np.moveaxis(mu, i, 0).reshape(A.shape)
        diff = A[None, :, :] - A[:, None, :]            # diff[a, d, b] = u(d, b) - u(a, b)
        per_pair = np.einsum("ab,adb->ad", M, diff)
        worst = max(worst, float(per_pair.max() if kind == "ce" else per_pair.sum(axis=0).max()))
    return worst, float(max(-mu.min(), abs(mu.sum() - 1.0)))
