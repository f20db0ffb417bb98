"""All RQE (and, at ``tau = 0``, all logit QRE) of a normal-form game.

For two players with two actions each the search is complete: with ``l`` the log-odds of
player 2's first action, every equilibrium is a root of the scalar map
``h(l) = BR_2(BR_1(l)) - l`` (spec 2.5, recipe S3), where each risk-averse quantal best
response ``BR_i`` is the unique root of a monotone scalar equation.  ``h`` is positive at
the lower end of the range of ``BR_2`` and negative at the upper end; its roots are bracketed
on a grid that is uniform both in probability and in log-odds, with every local minimum of
``|h|`` checked for a double root.  Other games use multi-start Newton plus the homotopy
solution, deduplicated, and say that the search is not exhaustive.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from rqe._validation import positive_float, positive_int
from rqe.solvers._iterate import newton
from rqe.solvers._result import EquilibriumSet
from rqe.solvers._system import RQESystem
from rqe.solvers.rqe import build_system, homotopy, result_from_state

__all__ = ["solve_all"]

_GRID = 96
_DEDUP = 1e-7
_DOUBLE_ROOT = 1e-9


def _log_probs(l: float) -> np.ndarray:
    """Log-probabilities of a two-action strategy with log-odds ``l``."""
    return np.array([-np.logaddexp(0.0, -l), -np.logaddexp(0.0, l)])


class _TwoByTwo:
    """Scalar best responses of a 2x2 game in log-odds coordinates."""

    def __init__(self, system: RQESystem):
        self.s = system
        self.bounds = [self._range(i) for i in range(2)]

    def _response_logit(self, i: int, G: np.ndarray) -> float:
        z = self.s.regularizer.response(G, self.s.epsilon[i])
        return float(z[0] - z[1])

    def _range(self, i: int) -> tuple[float, float]:
        diff = self.s.M[i][0] - self.s.M[i][1]
        return (self._response_logit(i, np.array([diff.min(), 0.0])),
                self._response_logit(i, np.array([diff.max(), 0.0])))

    def _image(self, i: int, l_own: float, log_partner: np.ndarray) -> float:
        """Log-odds of player i's quantal response to the adversary's reply to ``(l_own, partner)``."""
        s = self.s
        if s.tau[i] > 0:
            g = np.exp(_log_probs(l_own)) @ s.M[i]
            lp = s.risk.adversary(g, log_partner, s.tau[i])
        else:
            lp = log_partner
        return self._response_logit(i, s.M[i] @ np.exp(lp))

    def best_response(self, i: int, l_partner: float) -> float:
        lo, hi = self.bounds[i]
        if hi - lo <= 1e-14 * max(1.0, abs(lo)):
            return lo
        log_partner = _log_probs(l_partner)

        def k(l):
            return self._image(i, l, log_partner) - l

        k_lo, k_hi = k(lo), k(hi)
        if k_lo <= 0:
            return lo
        if k_hi >= 0:
            return hi
        return brentq(k, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=200)

    def h(self, l2: float) -> float:
        return self.best_response(1, self.best_response(0, l2)) - l2

    def roots(self) -> list[float]:
        lo, hi = self.bounds[1]
        if hi - lo <= 1e-14 * max(1.0, abs(lo)):
            return [lo]
        probs = np.linspace(0.0, 1.0, _GRID + 2)[1:-1]
        prob_grid = np.log(probs) - np.log1p(-probs)
        grid = np.unique(np.concatenate([np.linspace(lo, hi, _GRID), np.clip(prob_grid, lo, hi)]))
        values = np.array([self.h(l) for l in grid])
        found = []
        for a, b, fa, fb in zip(grid[:-1], grid[1:], values[:-1], values[1:]):
            if fa == 0:
                found.append(a)
            elif fa * fb < 0:
                found.append(brentq(self.h, a, b, xtol=1e-14, rtol=1e-15, maxiter=200))
        if values[-1] == 0:
            found.append(grid[-1])
        absval = np.abs(values)
        for k in range(1, len(grid) - 1):
            if absval[k] <= absval[k - 1] and absval[k] <= absval[k + 1] and values[k - 1] * values[k + 1] > 0:
                opt = minimize_scalar(lambda l: abs(self.h(l)), bounds=(grid[k - 1], grid[k + 1]),
                                      method="bounded", options={"xatol": 1e-13})
                if opt.fun <= _DOUBLE_ROOT:
                    found.append(float(opt.x))
        return sorted(found)


def _dedupe(results: list) -> list:
    kept = []
    for r in results:
        if not any(max(np.max(np.abs(a - b)) for a, b in zip(r.strategies, k.strategies)) <= _DEDUP for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: tuple(float(x[0]) for x in r.strategies))


def solve_all(game, *, tau=1.0, epsilon=0.1, risk="kl", regularizer="entropy", n_starts: int = 32,
              rng=None, tol: float = 1e-10, max_iter: int = 200) -> EquilibriumSet:
    """Compute all RQE of a game (all logit QRE when ``tau = 0`` with the entropy regulariser).

    For 2x2 games the result is complete (module docstring).  For larger games the
    equilibria reached by Newton from ``n_starts`` random starts and by the homotopy are
    returned, deduplicated, with ``complete=False``.

    Parameters
    ----------
    game : NormalFormGame
    tau, epsilon, risk, regularizer
        As for :func:`rqe.solve`.
    n_starts : int, default 32
        Random starting profiles for games larger than 2x2.
    rng : numpy.random.Generator or int, optional
        Seed or generator for the random starts.
    tol, max_iter
        As for :func:`rqe.solve`, applied to each equilibrium.

    Returns
    -------
    EquilibriumSet
        Each equilibrium is an :class:`rqe.EquilibriumResult` with its own certificate.

    Examples
    --------
    Example 5 of the paper has one symmetric and two free-riding RQE at small ``tau``:

    >>> import rqe
    >>> eqs = rqe.solve_all(rqe.games.catalog.free_riding_game(), tau=0.5, epsilon=0.2)
    >>> eqs.complete, len(eqs)
    (True, 3)
    >>> [[round(float(x[0]), 3) for x in e.strategies] for e in eqs]
    [[0.28, 0.843], [0.584, 0.584], [0.843, 0.28]]
    """
    func = "rqe.solve_all"
    system, risk_obj, reg_obj = build_system(game, tau=tau, epsilon=epsilon, risk=risk,
                                             regularizer=regularizer, func=func)
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)
    n_starts = positive_int(n_starts, name="n_starts", func=func, low=0)
    pack = dict(tol=tol, max_iter=max_iter, risk=risk_obj, regularizer=reg_obj)
    if game.n_actions == (2, 2):
        tbt = _TwoByTwo(system)
        results = []
        for l2 in tbt.roots():
            l1 = tbt.best_response(0, l2)
            z = np.concatenate([_log_probs(l1), _log_probs(l2)])
            outcome = newton(system, z, tol=tol, max_iter=max_iter)
            results.append(result_from_state(system, outcome, method="root_bracketing", **pack))
        found = _dedupe(results)
        ok = all(r.success for r in found)
        msg = (f"Found all {len(found)} equilibria by bracketing every root of the composed best response."
               if ok else "Bracketed every root, but some equilibria did not meet tol: see their messages.")
        return EquilibriumSet(message=msg, complete=ok, equilibria=tuple(found), method="root_bracketing",
                              params=found[0].params if found else {})
    gen = np.random.default_rng(rng)
    outcomes = [homotopy(system, tol=tol, max_iter=max(max_iter, 1000))]
    for _ in range(n_starts):
        z0 = np.concatenate([np.log(gen.dirichlet(np.ones(k))) for k in system.n])
        outcomes.append(newton(system, z0, tol=tol, max_iter=max_iter))
    results = [result_from_state(system, o, method="multistart", **pack) for o in outcomes if o.status == 0]
    found = [r for r in _dedupe(results) if r.success]
    msg = (f"Found {len(found)} distinct equilibria from {n_starts} random starts and the homotopy; "
           "the search is not exhaustive for games larger than 2x2.")
    return EquilibriumSet(message=msg, complete=False, equilibria=tuple(found), method="multistart",
                          params=found[0].params if found else {})

