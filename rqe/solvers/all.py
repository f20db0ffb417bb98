"""All RQE (and, at ``tau = 0``, all logit QRE) of a normal-form game.

For two players with two actions each the search is complete: with ``l`` the log-odds of
player 2's first action, every equilibrium is a root of the scalar map
``h(l) = BR_2(BR_1(l)) - l``, where each risk-averse quantal best response ``BR_i`` is the
unique root of a monotone scalar equation.  ``h`` is nonnegative at the lower end of the range
of ``BR_2`` and nonpositive at the upper end.  Its roots are bracketed on a grid uniform both
in probability and in log-odds, refined adaptively:

* every grid cell is halved until the cubic Hermite model built from ``h`` and its slope
  ``h'`` (implicit differentiation of the best responses) predicts ``h`` at the cell's
  midpoint, and the model's critical points are added to the grid, so two roots that a fold
  squeezes into one cell are separated (the pitchfork of the free-riding game near
  ``tau = 0.8288`` puts three roots within 0.02 in a cell 0.05 wide);
* where ``h'`` changes sign without ``h`` doing so, the extremum is located and ``h`` tested
  there: two roots if it crosses zero, a double root (a fold) if it is zero to rounding;
* the index check: ``h`` runs from ``>= 0`` to ``<= 0``, so a root where ``h`` goes down must
  have ``h' <= 0`` and the indices ``-sign h'`` of simple roots sum to one (the parity of a
  nondegenerate 2x2 game: an odd number of equilibria).  A bracket that fails it is refined.

The result claims ``complete=True`` only when every cell met the model test, every root passed
the index check, no root is a double root to within rounding and every equilibrium met ``tol``.
Other games use multi-start Newton plus the homotopy solution, deduplicated, and say that the
search is not exhaustive.
"""

from __future__ import annotations

import math

import numpy as np

from rqe._numeric import log_probs_of_odds
from rqe._validation import positive_float, positive_int
from rqe.solvers._iterate import DENSE_MAX, expired, newton
from rqe.solvers._result import EquilibriumSet
from rqe.solvers._small import SCALAR_FAILURES, kernel_for, player_map
from rqe.solvers._system import RQESystem
from rqe.solvers.rqe import _deadline, build_system, homotopy, result_from_state

__all__ = ["solve_all"]

_GRID = 64
_DEDUP = 1e-7
_DEPTH = 12             # halvings of a grid cell in the adaptive scan
_MODEL_RTOL = 1e-2      # accepted midpoint error of the cubic Hermite model, relative to the cell's |h|
_NOISE = 1e-12          # rounding noise of h, relative to max(1, |l|)
_FD = 1e-5              # relative step of the central differences in the slopes of the best responses
_INDEX_ROUNDS = 8       # refinements of brackets that fail the index check
_BR_STEPS = 200         # cap on the safeguarded Newton steps of one scalar best response
_BR_XTOL = 1e-10        # its relative step tolerance: the error after that last (quadratic) step is ~1e-20


def _hermite_critical_points(a: float, b: float, ha: float, hb: float, da: float, db: float) -> list:
    """Critical points inside ``(a, b)`` of the cubic with values ``ha, hb`` and slopes ``da, db`` at the ends."""
    w = b - a
    c3 = 2 * ha + w * da - 2 * hb + w * db
    c2 = -3 * ha - 2 * w * da + 3 * hb - w * db
    c1 = w * da
    return [a + w * t for t in _quadratic_roots(3 * c3, 2 * c2, c1) if 0 < t < 1]


def _quadratic_roots(A: float, B: float, C: float) -> list:
    """Real roots of ``A t^2 + B t + C`` (as ``numpy.roots``, keeping a complex pair whose imaginary
    part is below 1e-12 as a double root), in closed form."""
    if A == 0:
        return [-C / B] if B != 0 else []
    disc = B * B - 4.0 * A * C
    if disc < 0:
        return [-B / (2.0 * A)] * 2 if math.sqrt(-disc) / (2.0 * abs(A)) <= 1e-12 else []
    q = -0.5 * (B + math.copysign(math.sqrt(disc), B))
    return [q / A, C / q] if q != 0 else [0.0, 0.0]


def _bracketed(brentq, f, a: float, b: float, fa: float, fb: float) -> float:
    """Brent's root of ``f`` on ``[a, b]``, where ``fa`` and ``fb`` (opposite signs) were computed earlier.

    The best responses are warm-started, so ``f`` at an end point can differ from the earlier
    value at the level of the response tolerance; an end point whose sign no longer differs
    is then itself a root to that level, and the one with the smaller ``|f|`` is returned.
    """
    try:
        return brentq(f, a, b, xtol=1e-14, rtol=1e-15, maxiter=200)
    except ValueError:
        return a if abs(fa) <= abs(fb) else b


class _TwoByTwo:
    """Scalar best responses of a 2x2 game in log-odds coordinates.

    With the built-in risk measures and regularizers the maps and their derivatives are the
    scalar closed forms of :mod:`rqe.solvers._small` (no numpy call per evaluation); otherwise,
    or where those leave their range, the system's own risk and regulariser objects, with
    central differences for the slopes.
    """

    def __init__(self, system: RQESystem):
        self.s = system
        self.kernel = kernel_for(system)
        self.bounds = [self._range(i) for i in range(2)]
        # (l_partner, best response, its slope) at the last scalar best response, and
        # (l_partner, kernel output) at the last Newton point, of each player
        self._warm: list[tuple[float, float, float] | None] = [None, None]
        self._slope: list[tuple[float, tuple] | None] = [None, None]

    def _response_logit(self, i: int, G: np.ndarray) -> float:
        z = self.s.regularizer.response(G, self.s.eps_n[i])
        return float(z[0] - z[1])

    def _range(self, i: int) -> tuple[float, float]:
        diff = self.s.M[i][0] - self.s.M[i][1]
        return (self._response_logit(i, np.array([diff.min(), 0.0])),
                self._response_logit(i, np.array([diff.max(), 0.0])))

    def _scalar(self, i: int, l_own: float, l_partner: float):
        """The kernel's ``(image, d image / d l_own, d image / d l_partner)``, or ``None`` out of its range."""
        if self.kernel is None:
            return None
        try:
            return self.kernel.player(i, l_own, l_partner)
        except SCALAR_FAILURES:
            return None

    def _image(self, i: int, l_own: float, l_partner: float) -> float:
        """Log-odds of player i's quantal response to the adversary's reply to ``(l_own, l_partner)``."""
        fast = self._scalar(i, l_own, l_partner)
        if fast is not None:
            return fast[0]
        s = self.s
        log_partner = log_probs_of_odds(l_partner)
        if s.tau_n[i] > 0:
            g = np.exp(log_probs_of_odds(l_own)) @ s.M[i]
            lp = s.risk.adversary(g, log_partner, s.tau_n[i])
        else:
            lp = log_partner
        return self._response_logit(i, s.M[i] @ np.exp(lp))

    def _newton_response(self, i: int, l_partner: float, lo: float, hi: float) -> float | None:
        """The root of ``k(l) = image(l) - l`` in ``[lo, hi]`` by Newton's method on the kernel's slope,
        safeguarded by bisection, from the tangent of the last root found (``None`` if the kernel fails)."""
        kernel, warm = self.kernel, self._warm[i]
        if kernel is None:
            return None
        a, b = lo, hi
        if warm is None:
            x = 0.5 * (lo + hi)
        else:
            l_prev, x_prev, slope = warm
            x = x_prev + slope * (l_partner - l_prev)
            x = x if lo < x < hi else x_prev
        m, tau, eps, risk, reg = kernel.M[i], kernel.tau_n[i], kernel.eps_n[i], kernel.risk, kernel.reg
        try:
            for _ in range(_BR_STEPS):
                fast = player_map(x, l_partner, m, tau, eps, risk, reg)
                k = fast[0] - x
                if k == 0:
                    break
                if k > 0:
                    a = x
                else:
                    b = x
                dk = fast[1] - 1.0
                new = x - k / dk if dk < 0 else a
                if a < new < b:             # a Newton step: the error after it is about its square
                    done = abs(new - x) <= _BR_XTOL * (1.0 + abs(x))
                else:
                    new = 0.5 * (a + b)
                    done = b - a <= 1e-15 * (1.0 + abs(new))
                x = new
                if done:
                    break
            else:
                return None
        except SCALAR_FAILURES:
            return None
        self._slope[i] = (l_partner, fast)
        slope = fast[2] / (1.0 - fast[1])
        self._warm[i] = (l_partner, x, slope if math.isfinite(slope) else 0.0)
        return x

    def best_response(self, i: int, l_partner: float) -> float:
        self._slope[i] = None
        lo, hi = self.bounds[i]
        if hi - lo <= 1e-14 * max(1.0, abs(lo)):
            return lo
        if self.kernel is not None:
            fast = self._newton_response(i, l_partner, lo, hi)
            if fast is not None:
                return fast
        from scipy.optimize import brentq  # on first use (import cost)

        def k(l):
            return self._image(i, l, l_partner) - l

        k_lo, k_hi = k(lo), k(hi)
        if k_lo <= 0:
            return lo
        if k_hi >= 0:
            return hi
        return brentq(k, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=200)

    def _response_and_slope(self, i: int, l_partner: float) -> tuple[float, float]:
        """``BR_i(l_partner)`` and its derivative, by implicit differentiation of ``image(l) = l``."""
        l = self.best_response(i, l_partner)
        lo, hi = self.bounds[i]
        if not lo < l < hi:
            return l, 0.0
        last = self._slope[i]
        fast = last[1] if last is not None and last[0] == l_partner else self._scalar(i, l, l_partner)
        if fast is not None:
            return l, fast[2] / (1.0 - fast[1])
        d, dp = _FD * max(1.0, abs(l)), _FD * max(1.0, abs(l_partner))
        k_own = (self._image(i, l + d, l_partner) - self._image(i, l - d, l_partner)) / (2 * d)
        k_partner = (self._image(i, l, l_partner + dp) - self._image(i, l, l_partner - dp)) / (2 * dp)
        return l, k_partner / (1.0 - k_own)

    def h(self, l2: float) -> float:
        return self.best_response(1, self.best_response(0, l2)) - l2

    def h_and_slope(self, l2: float) -> tuple[float, float]:
        l1, s1 = self._response_and_slope(0, l2)
        image, s2 = self._response_and_slope(1, l1)
        return image - l2, s2 * s1 - 1.0

    def roots(self, deadline: float | None = None) -> tuple[list, list]:
        """The roots of ``h`` and the reasons (empty when the search is certified) why some may be missing.

        Returns ``(roots, doubts)``; see the module docstring.
        """
        from scipy.optimize import brentq  # on first use (import cost)

        lo, hi = self.bounds[1]
        if hi - lo <= 1e-14 * max(1.0, abs(lo)):
            return [lo], []
        probs = np.linspace(0.0, 1.0, _GRID + 2)[1:-1]
        prob_grid = np.log(probs) - np.log1p(-probs)
        grid = np.unique(np.concatenate([np.linspace(lo, hi, _GRID), np.clip(prob_grid, lo, hi)]))
        pts = {float(l): self.h_and_slope(float(l)) for l in grid}
        doubts = []

        def noise(x):
            return _NOISE * max(1.0, abs(x))

        def refine(a, b, depth):
            (ha, da), (hb, db) = pts[a], pts[b]
            m = 0.5 * (a + b)
            pts[m] = self.h_and_slope(m)
            hm = pts[m][0]
            model = 0.5 * (ha + hb) + (b - a) / 8 * (da - db)
            if abs(hm - model) <= _MODEL_RTOL * max(abs(ha), abs(hb), abs(hm)) + noise(m):
                for c in _hermite_critical_points(a, b, ha, hb, da, db):
                    pts[c] = self.h_and_slope(c)
            elif depth >= _DEPTH or expired(deadline):
                doubts.append(f"the cubic model of h did not converge on [{a:.6g}, {b:.6g}]")
            else:
                refine(a, m, depth + 1)
                refine(m, b, depth + 1)

        for a, b in zip(grid[:-1], grid[1:]):
            refine(float(a), float(b), 0)
        for _ in range(_INDEX_ROUNDS):
            xs = sorted(pts)
            found, bad, folds, slopes = [], [], [], {}
            for x0, x1 in zip(xs[:-1], xs[1:]):
                (h0, s0), (h1, s1) = pts[x0], pts[x1]
                if h0 == 0:
                    found.append(x0)
                    continue
                if h0 * h1 < 0:
                    r = _bracketed(brentq, self.h, x0, x1, h0, h1)
                    slope = self.h_and_slope(r)[1]
                    found.append(r)
                    slopes[r] = slope
                    if slope * (h1 - h0) <= 0:     # a root whose slope disagrees with its bracket
                        bad.append((x0, x1))
                elif s0 * s1 < 0:                   # an extremum of h between two points of one sign
                    e = _bracketed(brentq, lambda l: self.h_and_slope(l)[1], x0, x1, s0, s1)
                    he = self.h(e)
                    if he * h0 < 0:
                        for a, b in ((x0, e), (e, x1)):
                            r = _bracketed(brentq, self.h, a, b, h0 if a == x0 else he, he if a == x0 else h1)
                            found.append(r)
                            slopes[r] = self.h_and_slope(r)[1]
                    elif abs(he) <= noise(e):
                        found.append(e)
                        folds.append(e)
            if pts[xs[-1]][0] == 0:
                found.append(xs[-1])
            if not bad or expired(deadline):
                break
            for x0, x1 in bad:
                for k in range(1, 8):
                    x = x0 + (x1 - x0) * k / 8
                    pts[x] = self.h_and_slope(x)
        doubts += [f"the root in [{x0:.6g}, {x1:.6g}] failed the index check" for x0, x1 in bad]
        # Two roots closer than rounding can place them (noise / |h'| each) may be one double
        # root, or two that a perturbation of the payoffs in the last digit would merge.
        found = sorted(found)
        for r0, r1 in zip(found[:-1], found[1:]):
            blur = sum(noise(r) / max(abs(slopes.get(r, 0.0)), 1e-300) for r in (r0, r1))
            if r1 - r0 <= 10 * blur and r0 not in folds and r1 not in folds:
                doubts.append(f"the roots at log-odds {r0:.9g} and {r1:.9g} are closer than rounding can "
                              "separate (a fold)")
        doubts += [f"h has a double root (a fold) at log-odds {e:.6g}, where equilibria closer than rounding "
                   "cannot be told apart" for e in folds]
        return found, doubts


def _dedupe(results: list) -> list:
    kept: list = []
    for r in results:
        if not any(max(np.max(np.abs(a - b)) for a, b in zip(r.strategies, k.strategies)) <= _DEDUP for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: tuple(float(x[0]) for x in r.strategies))


def solve_all(game, *, tau=1.0, epsilon=0.1, risk="kl", regularizer="entropy", n_starts: int = 32,
              rng=None, tol: float = 1e-10, max_iter: int = 200, max_time: float | None = None) -> EquilibriumSet:
    """Compute all RQE of a game (all logit QRE when ``tau = 0`` with the entropy regulariser).

    For 2x2 games the search is exhaustive and says so (``complete=True``) only when its
    checks pass (module docstring); otherwise, or when an equilibrium misses ``tol``,
    ``complete=False`` and the message says why.  For larger games the equilibria reached by
    Newton from ``n_starts`` random starts and by the homotopy (up to 500 unknowns) are
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
    max_time : float, optional
        Time budget in seconds for the whole search; when it runs out the equilibria found so
        far are returned with ``complete=False``.

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
    deadline = _deadline(max_time, func)
    pack: dict = dict(tol=tol, max_iter=max_iter, risk=risk_obj, regularizer=reg_obj)
    if game.n_actions == (2, 2):
        tbt = _TwoByTwo(system)
        with np.errstate(over="ignore", under="ignore"):
            roots, doubts = tbt.roots(deadline)
            results = []
            for l2 in roots:
                l1 = tbt.best_response(0, l2)
                fast = None if tbt.kernel is None else tbt.kernel.solve(
                    l1, l2, tol=tol, max_iter=max_iter, deadline=deadline, method="root_bracketing")
                if fast is not None:
                    results.append(fast)
                    continue
                z = np.concatenate([log_probs_of_odds(l1), log_probs_of_odds(l2)])
                outcome = newton(system, z, tol=tol, max_iter=max_iter, deadline=deadline)
                results.append(result_from_state(system, outcome, method="root_bracketing", **pack))
        found = _dedupe(results)
        if len(found) % 2 == 0 and not doubts:
            doubts.append(f"an even number ({len(found)}) of distinct equilibria was found, but a nondegenerate "
                          "2x2 game has an odd number: a fold (double root) within rounding")
        if expired(deadline):
            doubts.append(f"the time budget max_time={max_time:g} s ran out")
        if not all(r.success for r in found):
            doubts.append("some equilibria did not meet tol (see their messages)")
        ok = not doubts
        count = f"all {len(found)} equilibria" if len(found) != 1 else "the only equilibrium"
        msg = (f"Found {count} by bracketing every root of the composed best response."
               if ok else f"Found {len(found)} equilibria by root bracketing, but the search is not certified "
               f"complete: {'; '.join(doubts)}.")
        return EquilibriumSet(message=msg, complete=ok, equilibria=tuple(found), method="root_bracketing",
                              params=found[0].params if found else {})
    gen = np.random.default_rng(rng)
    with np.errstate(over="ignore", under="ignore"):
        outcomes = ([homotopy(system, tol=tol, max_iter=max(max_iter, 1000), deadline=deadline)]
                    if system.size <= DENSE_MAX else [])
        for _ in range(n_starts):
            if expired(deadline):
                break
            z0 = np.concatenate([np.log(gen.dirichlet(np.ones(k))) for k in system.n])
            outcomes.append(newton(system, z0, tol=tol, max_iter=max_iter, deadline=deadline))
    results = [result_from_state(system, o, method="multistart", **pack) for o in outcomes if o.status == 0]
    found = [r for r in _dedupe(results) if r.success]
    starts = len(outcomes) - (system.size <= DENSE_MAX)
    msg = (f"Found {len(found)} distinct equilibria from {starts} random starts"
           f"{' and the homotopy' if system.size <= DENSE_MAX else ''}; the search is not exhaustive for games "
           "larger than 2x2.")
    return EquilibriumSet(message=msg, complete=False, equilibria=tuple(found), method="multistart",
                          params=found[0].params if found else {})

