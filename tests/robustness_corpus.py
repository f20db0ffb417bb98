"""A seeded corpus of hard RQE problems and an independent high-precision residual.

Shared by ``tests/test_robustness.py`` (quick mode in the default run) and
``benchmarks/bench_robustness.py`` (the full corpus, per regime).  Issue 17 asks for payoff
scales 1e-6 to 1e4, constant offsets up to 1e12, tau 0 to 1e4, epsilon 1e-4 to 100, games with
identical rows, constant-sum, zero and dominated structures, every risk and regulariser, and
per-player parameters far apart.  Each regime below draws from one corner of that box
("extreme": every epsilon in [1e-4, 1e-3] with tau up to 1e4; "degenerate_extreme": the
degenerate structures with epsilon down to 1e-4 and tau up to 1e4); every case has an *offset twin*, the same game with a constant of magnitude 1e3 to 1e12 added to each
player's payoffs (which changes no equilibrium).

The residual oracle :func:`oracle_residual` imports nothing from ``rqe``: it rebuilds each
player's adversary and quantal response from their closed forms (theory notes 2.2-2.3) in
``mpmath`` at 40 significant digits, from the exact binary values of the float payoffs, so an
offset of 1e12 costs it nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import mpmath
import numpy as np

REGIMES = ("moderate", "small_epsilon", "large_tau", "payoff_scale", "far_apart", "degenerate", "extreme",
           "degenerate_extreme")
SHAPES = ((2, 2), (2, 2), (2, 3), (3, 3), (4, 4), (3, 5), (6, 6), (2, 2, 2), (3, 2, 2))
DEGENERATE = ("zero", "constant_player", "identical_rows", "constant_sum", "dominated", "ties")
BASE_TOL = 1e-10
# Rounding floor of a fixed point stored in double precision: moving one probability by one
# unit in the last place moves the quantal response by about u * (1 + tau_eff) / eps_eff, with
# tau_eff and eps_eff relative to the payoff spread.  The corpus asks for tol above 1e-14 times
# that amplification (a factor of about 100 above the unit roundoff).
FLOOR = 1e-14
_SEED = 20260117


@dataclass(frozen=True)
class Case:
    name: str
    regime: str
    payoffs: np.ndarray
    tau: np.ndarray
    epsilon: np.ndarray
    risk: str
    regularizer: str
    tol: float
    twin: str | None = None      # name of the offset-free twin of an offset case

    def kwargs(self) -> dict:
        return dict(tau=self.tau, epsilon=self.epsilon, risk=self.risk, regularizer=self.regularizer, tol=self.tol)


def _log_uniform(rng, lo, hi, size=None):
    return 10.0 ** rng.uniform(np.log10(lo), np.log10(hi), size)


def _taus(rng, n, lo, hi, p_zero=0.25):
    return np.where(rng.random(n) < p_zero, 0.0, _log_uniform(rng, lo, hi, n))


def _degenerate_payoffs(rng, kind, shape):
    N = len(shape)
    U = rng.normal(size=(N,) + shape)
    if kind == "zero":
        return np.zeros_like(U)
    if kind == "constant_player":
        U[0] = rng.normal()
    elif kind == "identical_rows":
        for i in range(N):
            if shape[i] > 1:
                idx = [slice(None)] * N
                idx[i] = 1
                src = [slice(None)] * N
                src[i] = 0
                U[i][tuple(idx)] = U[i][tuple(src)]
    elif kind == "constant_sum":
        U[1:] = (rng.normal() - U[0]) / (N - 1)
    elif kind == "dominated":
        for i in range(N):
            idx = [slice(None)] * N
            idx[i] = 0
            U[i][tuple(idx)] -= 10.0
    elif kind == "ties":
        U = rng.integers(0, 2, size=U.shape).astype(float)
    return U


def tolerance(payoffs: np.ndarray, tau: np.ndarray, epsilon: np.ndarray) -> float:
    """The corpus's requested tol: ``1e-10``, or the rounding floor when that is larger (see FLOOR)."""
    spread = np.array([np.ptp(p) for p in payoffs])
    live = spread > 0
    if not live.any():
        return BASE_TOL
    eps_eff = epsilon[live] / spread[live]
    tau_eff = tau[live] * spread[live]
    return float(max(BASE_TOL, FLOOR * (1.0 + tau_eff.max()) / eps_eff.min()))


def make_case(regime: str, k: int) -> Case:
    """The ``k``-th offset-free case of ``regime`` (deterministic)."""
    rng = np.random.default_rng([_SEED, REGIMES.index(regime), k])
    shape = SHAPES[rng.integers(len(SHAPES))]
    N = len(shape)
    U = rng.normal(size=(N,) + shape) if rng.random() < 0.6 else rng.integers(-5, 6, size=(N,) + shape) * 1.0
    tau = _taus(rng, N, 1e-2, 10.0)
    eps = _log_uniform(rng, 1e-2, 1.0, N)
    if regime == "small_epsilon":
        eps = _log_uniform(rng, 1e-4, 1e-2, N)
    elif regime == "large_tau":
        tau = _log_uniform(rng, 10.0, 1e4, N)
        eps = _log_uniform(rng, 1e-3, 1.0, N)
    elif regime == "payoff_scale":
        c = 10.0 ** rng.uniform(-6, 4)
        U = U * c
        tau = _taus(rng, N, 1e-3, 1e4) / c
        eps = _log_uniform(rng, 1e-4, 100.0, N) * c
    elif regime == "far_apart":
        eps = _log_uniform(rng, 1e-4, 100.0, N)
        eps[rng.permutation(N)[:2]] = [_log_uniform(rng, 1e-4, 1e-2), _log_uniform(rng, 1.0, 100.0)]
        tau = _log_uniform(rng, 1e-3, 1e4, N)
        tau[rng.permutation(N)[:2]] = [0.0, _log_uniform(rng, 100.0, 1e4)]
    elif regime == "degenerate":
        kind = DEGENERATE[k % len(DEGENERATE)]
        U = _degenerate_payoffs(rng, kind, shape)
        eps = _log_uniform(rng, 1e-3, 1.0, N)
        tau = _taus(rng, N, 1e-2, 100.0)
    elif regime == "extreme":
        eps = _log_uniform(rng, 1e-4, 1e-3, N)
        tau = _taus(rng, N, 10.0, 1e4)
    elif regime == "degenerate_extreme":
        U = _degenerate_payoffs(rng, DEGENERATE[k % len(DEGENERATE)], shape)
        eps = _log_uniform(rng, 1e-4, 1e-2, N)
        tau = _taus(rng, N, 1e-2, 1e4)
    risk = ("kl", "reverse_kl")[rng.integers(2)]
    reg = ("entropy", "log_barrier")[rng.integers(2)]
    return Case(f"{regime}-{k}", regime, U, tau, eps, risk, reg, tolerance(U, tau, eps))


def offset_twin(case: Case, k: int) -> Case:
    """``case`` with a constant of magnitude 1e3 to 1e12 added to each player's payoffs."""
    rng = np.random.default_rng([_SEED, 99, REGIMES.index(case.regime), k])
    N = case.payoffs.shape[0]
    offsets = rng.choice([-1.0, 1.0], N) * 10.0 ** rng.uniform(3, 12, N)
    payoffs = case.payoffs + offsets.reshape((N,) + (1,) * N)
    return Case(f"offset/{case.name}", "offset", payoffs, case.tau, case.epsilon, case.risk, case.regularizer,
                case.tol, twin=case.name)


def corpus(per_regime: int | dict) -> list[Case]:
    """``per_regime`` cases of each regime (an int, or a dict by regime) followed by their offset twins."""
    counts = per_regime if isinstance(per_regime, dict) else dict.fromkeys(REGIMES, per_regime)
    base = [make_case(r, k) for r in REGIMES for k in range(counts.get(r, 0))]
    return base + [offset_twin(c, k) for k, c in enumerate(base)]


# The quick corpus of the default test run: two cases of each regime, and one of each
# degenerate structure in both degenerate regimes (cheap: their median solve takes 30 ms).
QUICK = {**dict.fromkeys(REGIMES, 2), "degenerate": len(DEGENERATE), "degenerate_extreme": len(DEGENERATE)}


# ---------------------------------------------------------------- the independent residual
def _root(weights, offsets, upper):
    """``w > 0`` with ``sum weights / (offsets + w) = 1`` (decreasing in ``w``), by bisection in log w."""
    def f(w):
        return mpmath.fsum(c / (d + w) for c, d in zip(weights, offsets) if c > 0) - 1

    lo, hi = mpmath.mpf(upper) * mpmath.mpf(10) ** -60, mpmath.mpf(upper)
    while f(lo) < 0:
        lo /= mpmath.mpf(10) ** 60
    for _ in range(400):
        mid = mpmath.sqrt(lo * hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= hi * mpmath.mpf(10) ** (-mpmath.mp.dps + 3):
            break
    return (lo + hi) / 2


def _reverse_kl_adversary(q, g, t):
    """Minimiser of ``p . g + KL(q || p) / t``: ``p_b = q_b / (t (g_b + mu))`` from the KKT conditions.

    Actions with ``q_b = 0`` cost nothing under ``KL(q || p)``; they take mass only at
    ``mu = -min g``, and only if the others cannot absorb it all.
    """
    live = [b for b in range(len(q)) if q[b] > 0]
    g_live = min(g[b] for b in live)
    c = [qb / t for qb in q]
    w = _root(c, [gb - g_live for gb in g], 1 / t)           # w = g_live + mu
    gap = g_live - min(g)
    if gap > 0 and w < gap:                                    # mu = -min g: the remainder goes below
        p = [c[b] / (g[b] - min(g)) if q[b] > 0 else mpmath.mpf(0) for b in range(len(q))]
        floor = [b for b in range(len(q)) if q[b] == 0 and g[b] == min(g)]
        rest = 1 - mpmath.fsum(p)
        for b in floor:
            p[b] = rest / len(floor)
        return p
    return [c[b] / (g[b] - g_live + w) if q[b] > 0 else mpmath.mpf(0) for b in range(len(q))]


def oracle_residual(payoffs, strategies, tau, epsilon, risk: str, regularizer: str, dps: int = 40) -> float:
    """``max_i ||x_i - R_i(x)||_1`` with ``R_i`` the risk-averse quantal response, in mpmath.

    ``R_i(x) = response(M_i p_i)`` with ``p_i`` the adversary's minimiser against
    ``g_i = M_i^T x_i`` and the others' product distribution ``q_i`` (the first-order
    characterisation of the best response, theory notes 2.3).
    """
    payoffs = np.asarray(payoffs, dtype=float)
    N = payoffs.shape[0]
    shape = payoffs.shape[1:]
    with mpmath.workdps(dps):
        xs = []
        for x in strategies:
            v = [mpmath.mpf(float(a)) for a in x]
            total = mpmath.fsum(v)
            xs.append([a / total for a in v])
        worst = mpmath.mpf(0)
        for i in range(N):
            others = [j for j in range(N) if j != i]
            joint = list(itertools.product(*(range(shape[j]) for j in others)))
            q = [mpmath.fprod(xs[j][b[k]] for k, j in enumerate(others)) for b in joint]

            def payoff(a, b):
                idx = list(b)
                idx.insert(i, a)
                return mpmath.mpf(float(payoffs[i][tuple(idx)]))

            M = [[payoff(a, b) for b in joint] for a in range(shape[i])]
            t, e = mpmath.mpf(float(tau[i])), mpmath.mpf(float(epsilon[i]))
            if t == 0:
                p = q
            else:
                g = [mpmath.fsum(xs[i][a] * M[a][b] for a in range(shape[i])) for b in range(len(joint))]
                if risk == "kl":
                    g_min = min(g)
                    w = [qb * mpmath.exp(-t * (gb - g_min)) for qb, gb in zip(q, g)]
                    total = mpmath.fsum(w)
                    p = [wb / total for wb in w]
                else:
                    p = _reverse_kl_adversary(q, g, t)
            G = [mpmath.fsum(M[a][b] * p[b] for b in range(len(joint))) for a in range(shape[i])]
            G_max = max(G)
            if regularizer == "entropy":
                w = [mpmath.exp((Ga - G_max) / e) for Ga in G]
                total = mpmath.fsum(w)
                r = [wa / total for wa in w]
            else:
                dG = [G_max - Ga for Ga in G]
                lam = _root([e] * len(G), dG, len(G) * e)
                r = [e / (da + lam) for da in dG]
            worst = max(worst, mpmath.fsum(abs(a - b) for a, b in zip(xs[i], r)))
        return float(worst)
