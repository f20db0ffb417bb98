"""Equilibrium paths: the principal logit-QRE branch in ``lam`` and RQE branches in ``tau``.

Both are traced by pseudo-arclength continuation (:mod:`rqe.solvers._tracer`) of the
fixed-point system of :mod:`rqe.solvers._system`, so they pass through folds (turning
points), which are recorded with the bifurcations met on the way.

The logit branch follows McKelvey and Palfrey (1995, *GEB* 10:6-38) and Turocy (2005,
*GEB* 51:243-263): at ``lam = 0`` the unique QRE is uniform play, and the branch leaving it
converges, as ``lam -> inf``, to a Nash equilibrium (the limiting logit equilibrium).
"""

from __future__ import annotations


import numpy as np
from scipy.optimize import root

from rqe._validation import per_player, positive_float, positive_int, renamed
from rqe.games.normal_form import NormalFormGame
from rqe.solvers._result import Path, PathEvent
from rqe.solvers._system import RQESystem
from rqe.solvers._tracer import _FLOOR, StepControl, newton_at, trace
from rqe.solvers.rqe import _deadline, build_system, solve

__all__ = ["qre_path", "rqe_path", "nash_from_qre"]

_SUPPORT = 1e-6
_EXP_SAFE = 700.0     # exp(a) neither overflows nor underflows to zero for |a| below this


def _package(n_actions, path, *, name: str, success: bool, message: str, params: dict) -> Path:
    n = tuple(n_actions)
    blocks = [[] for _ in n]
    offsets = np.concatenate([[0], np.cumsum(n)]).astype(int)
    for z in path.z:
        for i in range(len(n)):
            b = z[offsets[i]:offsets[i + 1]]
            blocks[i].append(np.exp(b - b.max()) / np.exp(b - b.max()).sum())
    events = tuple(PathEvent(kind, float(s), int(k)) for kind, s, k in path.events)
    return Path(message=message, success=success, parameter=np.array(path.s),
                strategies=tuple(np.array(b) for b in blocks), residual=np.array(path.residual),
                events=events, status=path.status, nit=path.nit, params={**params, "parameter": name})


def max_regret(game: NormalFormGame, strategies) -> float:
    """Largest gain of a pure deviation for any player (the Nash certificate)."""
    worst = 0.0
    for i, M in enumerate(game.own_rows):
        others = [strategies[j] for j in range(game.n_players) if j != i]
        q = others[0]
        for o in others[1:]:
            q = np.multiply.outer(q, o).ravel()
        u = M @ q
        worst = max(worst, float(u.max() - strategies[i] @ u))
    return worst


class _LogitFamily:
    """The logit-QRE equations ``F(z; lam) = z - T(z; lam)`` with their exact Jacobian in ``(z, lam)``.

    ``T_i(z) = log softmax(lam w_i u_i)`` where ``u_i`` is player ``i``'s expected payoff of
    each action against ``x_j = softmax(z_j)``, ``j != i`` (the system of
    :mod:`rqe.solvers._system` at ``tau = 0`` with the entropy, written out for speed).  With
    ``sigma_i = exp(T_i)`` and ``D_ij`` the payoff of player ``i`` contracted with every
    ``x_k``, ``k != i, j`` (an ``n_i x n_j`` matrix),
    ``dT_i/dz_j = lam w_i (I - 1 sigma_i^T) D_ij (diag x_j - x_j x_j^T)`` and
    ``dT_i/dlam = w_i (u_i - sigma_i . u_i)``.

    Players' vectors are stored as the rows of an ``N x max_i n_i`` array (``mask`` marks the
    real entries), so that each operation is one numpy call for all players.
    """

    def __init__(self, game: NormalFormGame, weights: np.ndarray):
        self.game = game
        self.N = N = game.n_players
        self.n = n = game.n_actions
        self.offsets = np.concatenate([[0], np.cumsum(n)]).astype(int)
        self.size = int(self.offsets[-1])
        m = max(n)
        self.mask = np.arange(m)[None, :] < np.array(n)[:, None]
        self.w = np.asarray(weights, dtype=float)[:, None]
        P = np.asarray(game.payoffs, dtype=float)
        # Subtract each player's smallest payoff (the logit response ignores it): exact for
        # payoffs sharing a large offset (Sterbenz), so 1e9 + u keeps all of u's digits.
        self.P = P - P.reshape(N, -1).min(axis=1).reshape((N,) + (1,) * N)
        if N == 2:
            S = np.zeros((2, m, m))
            S[0, :n[0], :n[1]] = self.P[0]
            S[1, :n[1], :n[0]] = self.P[1].T
            self.S = S            # S[i] = D_ij with j the other player, padded with zeros
            self.other = np.array([1, 0])
        self.pairs = {}           # (i, j) -> payoff of i with axes (i, j, the others flattened)
        for i in range(N):
            for j in range(N):
                if j != i:
                    rest = [k for k in range(N) if k not in (i, j)]
                    arranged = np.moveaxis(self.P[i], [i, j], [0, 1])
                    self.pairs[i, j] = (np.ascontiguousarray(arranged).reshape(n[i], n[j], -1), rest)
        self.eye = np.eye(self.size)
        self.square = bool(self.mask.all())
        self.fast = self.square
        if self.fast:
            self.ones = np.ones(m)
            self.unit_weights = bool(np.all(self.w == 1.0))
            self.players = np.arange(N)
            self.template = np.zeros((self.size, self.size + 1))
            self.template[:, :-1] = self.eye
        if self.fast and N > 2:
            # Every ordered pair (i, j) at once: D_ij = stack[p] @ (product of the others' x).
            order = [(i, j) for i in range(N) for j in range(N) if j != i]
            self.pair_i = np.array([i for i, _ in order])
            self.pair_j = np.array([j for _, j in order])
            self.pair_rest = np.array([self.pairs[p][1] for p in order])
            self.stack = np.stack([self.pairs[p][0] for p in order])
            self.first = np.array([order.index((i, 1 if i == 0 else 0)) for i in range(N)])
            ar, shape = np.arange(m), (len(order), m, m)
            self.block_rows = np.broadcast_to((m * self.pair_i)[:, None, None] + ar[None, :, None], shape)
            self.block_cols = np.broadcast_to((m * self.pair_j)[:, None, None] + ar[None, None, :], shape)
        self.bound = float(np.abs(self.P).max()) * float(self.w.max())
        self.entries = int(self.P[0].size)
        self.cache = None

    def _pair(self, X, i, j):
        """``D_ij``: player i's payoff averaged over every player but i and j, an ``n_i x n_j`` matrix."""
        arranged, rest = self.pairs[i, j]
        q = X[rest[0], :self.n[rest[0]]]
        for k in rest[1:]:
            q = np.multiply.outer(q, X[k, :self.n[k]]).ravel()
        return arranged @ q

    def _parts_square2(self, y):
        """:meth:`_parts` for two players with equally many actions, in as few numpy calls as possible.

        On the branch ``z`` holds log-probabilities, so ``exp(z)`` needs no shift (and is the
        ``exp(z)`` of the residual); the row sums are checked, and the shifted form is used
        where they under- or overflow.  ``lam u`` is shifted by its row maxima only where
        ``|lam u|`` can exceed ``_EXP_SAFE``.  Row sums are products with a vector of ones.
        """
        z, lam = y[:-1], float(y[-1])
        Z = z.reshape(2, -1)
        E, X = self._rows(Z)
        U = (self.S @ X[::-1, :, None])[:, :, 0]
        return self._respond(y, Z, E, X, U, lam)

    def _rows(self, Z):
        """``exp(Z)`` and its rows normalised (shifted by the row maxima only where the sums under- or overflow)."""
        E = np.exp(Z)
        sums = E @ self.ones
        if np.all((sums > 0.0) & (sums < np.inf)):
            return E, E / sums[:, None]
        shifted = np.exp(Z - Z[self.players, Z.argmax(axis=1)][:, None])
        return E, shifted / (shifted @ self.ones)[:, None]

    def _respond(self, y, Z, E, X, U, lam):
        """The logit response to the payoffs ``U`` and what :meth:`_parts` returns from it."""
        a = U * lam if self.unit_weights else (lam * self.w) * U
        if abs(lam) * self.bound > _EXP_SAFE:
            a -= a[self.players, a.argmax(axis=1)][:, None]
        ea = np.exp(a)
        total = (ea @ self.ones)[:, None]
        sigma = ea / total
        F = (Z - a + np.log(total)).ravel()
        gaps = np.abs(E - sigma) @ self.ones
        res = float(gaps.max()) if np.all(gaps == gaps) else float("nan")
        floor = _FLOOR * (1.0 + abs(lam) * self.bound)
        self.cache = (y, X, U)
        return F, res, floor, X, U, sigma

    def _parts_square_n(self, y):
        """:meth:`_parts` for three or more players with equally many actions: every ``D_ij`` by one batched product."""
        z, lam = y[:-1], float(y[-1])
        Z = z.reshape(self.N, -1)
        E, X = self._rows(Z)
        rest = self.pair_rest
        Q = X[rest[:, 0]]
        for k in range(1, rest.shape[1]):
            Q = (Q[:, :, None] * X[rest[:, k]][:, None, :]).reshape(len(Q), -1)
        D = (self.stack @ Q[:, None, :, None])[..., 0]
        self.pair_cache = D
        U = (D[self.first] @ X[self.pair_j[self.first]][:, :, None])[:, :, 0]
        return self._respond(y, Z, E, X, U, lam)

    def _parts(self, y):
        if self.fast:
            return self._parts_square2(y) if self.N == 2 else self._parts_square_n(y)
        z, lam = y[:-1], y[-1]
        if self.square:
            Z = z.reshape(self.mask.shape)
        else:
            Z = np.full(self.mask.shape, -np.inf)
            Z[self.mask] = z
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        X = E / E.sum(axis=1, keepdims=True)
        if self.N == 2:
            U = np.einsum("pij,pj->pi", self.S, X[::-1])
        else:
            U = np.zeros(self.mask.shape)
            D = {}
            for i in range(self.N):
                j = 1 if i == 0 else 0
                D[i, j] = self._pair(X, i, j)
                U[i, :self.n[i]] = D[i, j] @ X[j, :self.n[j]]
            self.pair_cache = D
        a = (lam * self.w) * U
        if not self.square:
            a[~self.mask] = -np.inf
        a -= a.max(axis=1, keepdims=True)
        ea = np.exp(a)
        total = ea.sum(axis=1, keepdims=True)
        T = a - np.log(total)
        sigma = ea / total
        if self.square:
            F = z - T.ravel()
            res = float(np.abs(np.exp(Z) - sigma).sum(axis=1).max())
        else:
            F = z - T[self.mask]
            res = float(np.add.reduceat(np.abs(np.exp(z) - sigma[self.mask]), self.offsets[:-1]).max())
        floor = _FLOOR * (1.0 + abs(lam) * self.bound)
        self.cache = (y, X, U)
        return F, res, floor, X, U, sigma

    def evaluate(self, y):
        F, res, floor, *_ = self._parts(y)
        return F, res, floor

    def jacobian(self, y):
        F, res, floor, X, U, sigma = self._parts(y)
        lam, o, n = y[-1], self.offsets, self.n
        if self.fast and self.N > 2:
            Cx = U - (sigma * U) @ self.ones[:, None]
            D, pi = self.pair_cache, self.pair_i
            B = ((D - sigma[pi][:, None, :] @ D - Cx[pi][:, :, None])
                 * (-lam * self.w[pi] * X[self.pair_j])[:, None, :])
            J = self.template.copy()
            J[self.block_rows, self.block_cols] = B
            J[:, -1] = (-self.w * Cx).ravel()
            return F, J, res, floor
        if self.fast:
            # C_i = (I - 1 sigma_i^T) D_ij and C_i x_j = u_i - sigma_i . u_i, so that
            # dT_i/dz_j = lam w_i (C_i - (C_i x_j) 1^T) diag(x_j) and dT_i/dlam = w_i C_i x_j.
            Cx = U - (sigma * U) @ self.ones[:, None]
            B = (self.S - (sigma[:, None, :] @ self.S) - Cx[:, :, None]) * (-lam * self.w * X[::-1])[:, None, :]
            J = self.template.copy()
            J[o[0]:o[1], o[1]:o[2]] = B[0]
            J[o[1]:o[2], o[0]:o[1]] = B[1]
            J[:, -1] = (-self.w * Cx).ravel()
            return F, J, res, floor
        J = np.empty((self.size, self.size + 1))
        J[:, :-1] = self.eye
        col = -self.w * (U - (sigma * U).sum(axis=1, keepdims=True))
        J[:, -1] = col.ravel() if self.square else col[self.mask]
        scale = lam * self.w[:, :, None]
        if self.N == 2:
            C = self.S - sigma[:, None, :] @ self.S
            Xo = X[::-1, None, :]
            B = -scale * (C * Xo - (C @ Xo.transpose(0, 2, 1)) * Xo)
            J[o[0]:o[1], o[1]:o[2]] = B[0, :n[0], :n[1]]
            J[o[1]:o[2], o[0]:o[1]] = B[1, :n[1], :n[0]]
            return F, J, res, floor
        for i in range(self.N):
            s_i = sigma[i, :n[i]]
            for j in range(self.N):
                if j != i:
                    D = self.pair_cache.get((i, j))
                    if D is None:
                        D = self._pair(X, i, j)
                    C = D - s_i @ D
                    x = X[j, :n[j]]
                    J[o[i]:o[i + 1], o[j]:o[j + 1]] = -scale[i, 0, 0] * (C * x - np.outer(C @ x, x))
        return F, J, res, floor

    def regret(self, y) -> float:
        """Nash max regret of ``softmax(z)``, from the last evaluation when it was at ``y``."""
        if self.cache is None or not np.array_equal(self.cache[0], y):
            self._parts(y)
        _, X, U = self.cache
        if not self.square:
            U = np.where(self.mask, U, -np.inf)
            return float(np.max(U.max(axis=1) - (X * np.where(self.mask, U, 0.0)).sum(axis=1)))
        return float(np.max(U.max(axis=1) - (X * U).sum(axis=1)))


def _accel(value, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 1:
        raise ValueError(f"The 'max_accel' parameter of {func} must be a float > 1. Got {value!r} instead.")
    return float(value)


def _payoff_range(game: NormalFormGame) -> float:
    """``max - min`` of all payoffs: the unit of the relative regret (as in Gambit's ``maxregret``)."""
    return float(np.ptp(game.payoffs))


def _budget_spent(path, name: str, max_time: float) -> str:
    return (f"Time budget max_time={max_time:g} s spent at {name} = {path.s[-1]:.4g} after {path.nit} steps; the "
            "points traced so far are kept. Try a larger max_time.")


_TAIL_POINTS = 3          # points of the tail whose lam * regret must agree before the jump
_TAIL_SPREAD = 0.02       # relative spread of lam * regret over those points
_TAIL_MARGIN = 1.25       # the jump aims at lam_end * this, so that the regret ends below its target
_TAIL_GAIN = 4.0          # jump only when lam_end exceeds the last lam by this factor
_TAIL_MATCH = 1e-3        # largest change of a probability between the tail model and the solved end
_TAIL_NEWTON = 8          # Newton passes allowed at the end of the jump
_TAIL_SUPPORT = 1e-4      # probabilities above this at the last point are the support (log-probability a + d / lam)
_TAIL_DROPPED = 1e-8      # ... and below this the dropped actions; none may lie in between


def _tail_jump(family, history, target: float, lam_max: float, tol: float):
    """Jump from the asymptotic tail of the logit branch to where its regret reaches ``target``.

    Near a regular Nash equilibrium the principal branch converges at rate ``1 / lam``
    (McKelvey and Palfrey 1995, Theorem 3; Turocy 2005, Section 3): the Nash max regret times
    ``lam`` tends to a constant, the log-probabilities of the support tend to constants as
    ``a + d / lam`` and those of the other actions fall linearly, ``a + b lam + d / lam``.
    Once ``lam * regret`` agrees within ``_TAIL_SPREAD`` over the last ``_TAIL_POINTS`` points,
    the log-probabilities are fitted by these forms (the support: probabilities above
    ``_TAIL_SUPPORT``; least squares) and the equations are
    solved by Newton's method at ``lam_end = _TAIL_MARGIN * lam * regret / target`` from the
    fit.  The tail must be settled: regret falling, and no probability between ``_TAIL_DROPPED``
    and ``_TAIL_SUPPORT``.  The end is kept only if Newton converges within ``_TAIL_NEWTON`` passes, its regret
    is below ``target`` and its probabilities are within ``_TAIL_MATCH`` of the fit's (the
    same branch).  Returns ``(y, residual, passes)``, ``False`` after a failed attempt (the
    trace goes on step by step) or ``None`` when the tail is not settled (no attempt).
    """
    if len(history) < _TAIL_POINTS:
        return None
    last = history[-_TAIL_POINTS:]
    products = [lam * regret for lam, _, regret in last]         # Python floats: this runs at every point
    if not (all(a[0] < b[0] and a[2] > b[2] for a, b in zip(last, last[1:])) and min(products) > 0
            and max(products) <= (1.0 + _TAIL_SPREAD) * min(products)):
        return None
    lams, zs = np.array([h[0] for h in last]), np.array([h[1] for h in last])
    products = np.array(products)
    lam_end = min(_TAIL_MARGIN * products[-1] / target, lam_max)
    unsettled = (zs[-1] < np.log(_TAIL_SUPPORT)) & (zs[-1] > np.log(_TAIL_DROPPED))
    if lam_end < _TAIL_GAIN * lams[-1] or unsettled.any():
        return None
    scale = lams[-1]
    V = np.column_stack([np.ones(len(lams)), lams / scale, scale / lams])
    coef = np.linalg.solve(V, zs)
    guess = coef[0] + coef[1] * (lam_end / scale) + coef[2] * (scale / lam_end)
    support = zs[-1] > np.log(_TAIL_SUPPORT)         # no linear term: a + d / lam, by least squares
    coef2 = np.linalg.lstsq(V[:, [0, 2]], zs[:, support], rcond=None)[0]
    guess[support] = coef2[0] + coef2[1] * (scale / lam_end)
    with np.errstate(over="ignore", invalid="ignore"):
        y, res, converged, passes = newton_at(family, np.append(guess, lam_end), tol, _TAIL_NEWTON, halvings=6)
    if not converged or family.regret(y) > target:
        return False
    o = family.offsets
    for i in range(family.N):
        a, b = y[o[i]:o[i + 1]], guess[o[i]:o[i + 1]]
        xa, xb = np.exp(a - a.max()), np.exp(b - b.max())
        if np.abs(xa / xa.sum() - xb / xb.sum()).max() > _TAIL_MATCH:
            return False
    return y, res, passes


def qre_path(game: NormalFormGame, *, lam_max: float = 1e9, weights=None, regret_tol: float = 1e-8,
             max_steps: int = 5000, tol: float = 1e-10, first_step: float = 0.03, max_accel: float = 2.0,
             max_step: float | None = None, max_time: float | None = None, tail_jump: bool = True) -> Path:
    """Trace the principal branch of logit QRE from ``lam = 0`` towards a Nash equilibrium.

    Player ``i`` uses precision ``lam_i = lam * weights[i]``.  The trace stops when ``lam``
    reaches ``lam_max`` or when the QRE's Nash max regret, relative to the range of the
    payoffs (``max - min`` over all players and profiles, as Gambit's ``maxregret``), falls
    below ``regret_tol``.  The branch is followed in ``(log x, lam)`` by pseudo-arclength
    continuation with the exact Jacobian (:mod:`rqe.solvers._tracer`).

    Parameters
    ----------
    game : NormalFormGame
    lam_max : float, default 1e9
    weights : array_like, optional
        Relative precision of each player (default all 1).
    regret_tol : float, default 1e-8
        Relative Nash max regret at which the trace ends.
    max_steps : int, default 5000
    tol : float, default 1e-10
        Target residual ``max_i ||x_i - QR_i(x)||_1`` of every recorded point.  Where rounding
        alone exceeds it (around ``lam * max|u| > 1e6``), points are accepted at the rounding
        floor, ``64 eps (1 + lam max|u|)``; ``Path.residual`` holds each point's value.
    first_step : float, default 0.03
        Arclength of the first step.
    max_accel : float, default 2.0
        Largest factor by which the step grows from one point to the next (and shrinks on a
        rejected step); ``1.1`` is Gambit's default, larger values take fewer points.
    max_step : float, optional
        Largest arclength step (default unbounded).
    max_time : float, optional
        Time budget in seconds, checked once per step; when it is spent the trace stops with
        ``status=5`` and ``success=False``, keeping the points traced so far.
    tail_jump : bool, default True
        Once the branch is in its asymptotic tail (``lam`` times the regret constant over
        three points), fit the tail and solve directly at the ``lam`` where the regret reaches
        ``regret_tol`` instead of stepping there (the end is checked: same branch, regret
        below the target; otherwise the trace goes on step by step).  The recorded path then
        has no points between the jump's two ends.

    Returns
    -------
    Path
        ``parameter`` is ``lam``; ``events`` lists folds (where the branch turns back in ``lam``)
        and branch points; ``params["regret"]`` is the last point's Nash max regret and
        ``params["relative_regret"]`` the same divided by the payoff range.

    Examples
    --------
    The principal branch of the battle of the sexes keeps the game's symmetry and ends at the
    mixed equilibrium; the other branches split off at a pitchfork:

    >>> import rqe
    >>> path = rqe.qre_path(rqe.games.catalog.battle_of_the_sexes())
    >>> path.success, [round(float(x[-1][0]), 4) for x in path.strategies]
    (True, [0.6, 0.4])
    >>> [e.kind for e in path.events]
    ['branch_point']
    """
    func = "rqe.qre_path"
    if not isinstance(game, NormalFormGame):
        raise TypeError(f"The 'game' parameter of {func} must be a rqe.NormalFormGame. Got {type(game).__name__} instead.")
    lam_max = positive_float(lam_max, name="lam_max", func=func)
    regret_tol = positive_float(regret_tol, name="regret_tol", func=func)
    max_steps = positive_int(max_steps, name="max_steps", func=func)
    tol = positive_float(tol, name="tol", func=func)
    first_step = positive_float(first_step, name="first_step", func=func)
    max_step = np.inf if max_step is None else positive_float(max_step, name="max_step", func=func)
    max_accel = _accel(max_accel, func)
    weights = per_player(1.0 if weights is None else weights, game.n_players, name="weights", func=func,
                         low_inclusive=False)
    deadline = _deadline(max_time, func)
    family = _LogitFamily(game, weights)
    offsets = family.offsets
    spread = _payoff_range(game)

    def softmax_blocks(z):
        return [np.exp(b - b.max()) / np.exp(b - b.max()).sum()
                for b in (z[offsets[i]:offsets[i + 1]] for i in range(game.n_players))]

    target = regret_tol * spread
    history, jump, retry = [], [], [0.0]

    def nash_close(z, lam):
        regret = family.regret(np.append(z, lam))
        if regret <= target:
            return True
        if tail_jump:
            history.append((lam, z.copy(), regret))
            if lam >= retry[0]:
                end = _tail_jump(family, history, target, lam_max, tol)
                if end is False:
                    retry[0] = 2.0 * lam        # a failed jump is retried once lam has doubled
                elif end is not None:
                    jump.append(end)
                    return True
        return False

    uniform = np.concatenate([np.full(k, -np.log(k)) for k in game.n_actions])
    control = StepControl(first_step=first_step, max_step=max_step, max_accel=max_accel)
    path = trace(family, uniform, 0.0, lam_max, tol=tol, max_steps=max_steps, stop=nash_close,
                 s_range=(-1e-9, np.inf), control=control, deadline=deadline)
    if jump:
        y, res, passes = jump[0]
        path.s.append(float(y[-1])), path.z.append(y[:-1].copy()), path.residual.append(res)
        path.nit += passes
    done = path.status == 0
    regret = max_regret(game, softmax_blocks(path.z[-1])) if path.z else np.nan
    relative = regret / spread if spread > 0 else 0.0
    message = (f"Traced the principal logit branch to lam = {path.s[-1]:.4g} in {path.nit} steps; "
               f"the last point's Nash max regret is {regret:.2e} ({relative:.2e} of the payoff range)."
               if done else _budget_spent(path, "lam", max_time) if path.status == 5 else
               f"The trace stopped at lam = {path.s[-1]:.4g} (status {path.status}) after {path.nit} steps; "
               "try a larger max_steps, a smaller max_accel or first_step, or a smaller lam_max.")
    return _package(game.n_actions, path, name="lam", success=done, message=message,
                    params={"weights": tuple(map(float, weights)), "lam_max": lam_max, "regret": regret,
                            "relative_regret": relative, "regret_tol": regret_tol, "tol": tol,
                            "tail_jump": bool(jump)})


def nash_from_qre(game: NormalFormGame, **path_options) -> tuple[tuple, float, Path]:
    """A Nash equilibrium as the limit of the principal logit-QRE branch, polished on its support.

    Works for any number of players.  The support is read off the end of :func:`qre_path`;
    the indifference equations on that support are then solved by Powell's hybrid method
    from the path's last point.  Returns ``(strategies, max_regret, path)``.
    """
    path = qre_path(game, **path_options)
    start = [b[-1] for b in path.strategies]
    supports = [np.flatnonzero(x > _SUPPORT) for x in start]
    N = game.n_players

    def unpack(v):
        xs, k = [], 0
        for i, S in enumerate(supports):
            x = np.zeros(game.n_actions[i])
            x[S] = v[k:k + len(S)]
            xs.append(x)
            k += len(S)
        return xs

    def equations(v):
        xs = unpack(v)
        eqs = []
        for i in range(N):
            others = [xs[j] for j in range(N) if j != i]
            q = others[0]
            for o in others[1:]:
                q = np.multiply.outer(q, o).ravel()
            u = game.own_rows[i][supports[i]] @ q
            eqs.extend(u[1:] - u[0])
            eqs.append(xs[i].sum() - 1.0)
        return np.array(eqs)

    v0 = np.concatenate([x[S] for x, S in zip(start, supports)])
    sol = root(equations, v0, method="hybr", tol=1e-15)
    polished = [np.clip(x, 0.0, None) / np.clip(x, 0.0, None).sum() for x in unpack(sol.x)]
    regret_polished, regret_path = max_regret(game, polished), max_regret(game, start)
    if sol.success and regret_polished <= regret_path:
        return tuple(polished), regret_polished, path
    return tuple(start), regret_path, path


@renamed("rqe.rqe_path", tau="tau_span")
def rqe_path(game: NormalFormGame, *, tau_span=(0.0, 10.0), epsilon=0.1, risk="kl", regularizer="entropy",
             direction=None, x0=None, max_steps: int = 2000, tol: float = 1e-10, first_step: float | None = None,
             max_step: float | None = None, max_accel: float = 2.0, max_time: float | None = None) -> Path:
    """Trace an RQE branch as the common risk aversion ``tau`` moves from ``tau_span[0]`` to ``tau_span[1]``.

    Player ``i`` has risk aversion ``tau * direction[i]``.  The branch starts at the equilibrium
    :func:`rqe.solve` finds at ``tau_span[0]`` from ``x0`` (at ``tau_span[0] = 0`` this is a logit QRE;
    pass ``x0`` to start on another one, for example an element of :func:`rqe.solve_all`).
    Folds, where the branch turns back and equilibria merge, and branch points, where
    branches cross (the pitchfork of Example 5), are reported as ``events``.  A branch that
    folds back out of the interval ends there with ``status=4``.

    Parameters
    ----------
    game : NormalFormGame
    tau_span : (float, float)
        Start and end of the risk-aversion parameter, both ``>= 0`` (formerly ``tau``, a
        deprecated alias for one release).
    epsilon, risk, regularizer
        As for :func:`rqe.solve`.
    direction : array_like, optional
        Relative risk aversion of each player (default all 1).
    x0 : sequence of array_like, optional
        Starting point for the first equilibrium.
    max_steps : int, default 2000
    tol : float, default 1e-10
        Target residual of every recorded point.
    first_step, max_step : float, optional
        Arclength of the first step and largest step, in units of ``tau`` (defaults: 2% and 5%
        of the ``tau`` range).  The branch is traced in ``(log x, tau * R)`` with ``R`` the
        largest payoff range, so that the steps do not depend on the unit of the payoffs.
    max_accel : float, default 2.0
        Largest factor by which the step grows from one point to the next.
    max_time : float, optional
        Time budget in seconds, counted from the call (the starting solve, capped by its own
        iterations, counts against it) and checked once per step of the trace; when it is
        spent the trace stops with ``status=5`` and ``success=False``, keeping the points
        traced so far.

    Returns
    -------
    Path
        ``parameter`` is ``tau``.

    Examples
    --------
    Starting from a free-riding QRE of Example 5, the branch folds back where it merges with
    the symmetric branch:

    >>> import rqe
    >>> game = rqe.games.catalog.free_riding_game()
    >>> path = rqe.rqe_path(game, tau_span=(0.0, 5.0), epsilon=0.2, x0=[[0.2, 0.8], [0.9, 0.1]])
    >>> [(e.kind, round(e.parameter, 3)) for e in path.events][:1]
    [('fold', 0.829)]
    """
    func = "rqe.rqe_path"
    if np.ndim(tau_span) != 1 or len(tau_span) != 2:
        raise ValueError(f"The 'tau_span' parameter of {func} must be a pair (start, stop). Got {tau_span!r} "
                         "instead.")
    t0, t1 = (float(v) for v in per_player(tau_span, 2, name="tau_span", func=func))
    max_steps = positive_int(max_steps, name="max_steps", func=func)
    max_accel = _accel(max_accel, func)
    tol = positive_float(tol, name="tol", func=func)
    deadline = _deadline(max_time, func)
    # The trace runs in r = tau * (payoff range), free of the payoffs' unit (docs/results.md).
    unit = max(float(np.ptp(p)) for p in game.payoffs) or 1.0
    span = max(abs(t1 - t0) * unit, 1e-3)
    first_step = 0.02 * span if first_step is None else positive_float(first_step, name="first_step", func=func) * unit
    max_step = 0.05 * span if max_step is None else positive_float(max_step, name="max_step", func=func) * unit
    system, risk_obj, reg_obj = build_system(game, tau=0.0, epsilon=epsilon, risk=risk, regularizer=regularizer,
                                             func=func)
    weights = per_player(1.0 if direction is None else direction, game.n_players, name="direction", func=func)
    start = solve(game, tau=t0 * weights, epsilon=system.epsilon, risk=risk_obj, regularizer=reg_obj, x0=x0,
                  tol=tol)
    if not start.success:
        raise ValueError(f"{func} could not compute the starting RQE at tau = {t0}: {start.message}")

    def at(r):
        return RQESystem(game, r / unit * weights, system.epsilon, risk_obj, reg_obj)

    z0 = np.log(np.concatenate(start.strategies))
    lo, hi = min(t0, t1), max(t0, t1)
    control = StepControl(first_step=first_step, max_step=max_step, max_accel=max_accel)
    path = trace(at, z0, t0 * unit, t1 * unit, tol=tol, max_steps=max_steps, s_range=(lo * unit, hi * unit),
                 control=control, deadline=deadline)
    path.s, path.events = [r / unit for r in path.s], [(kind, r / unit, k) for kind, r, k in path.events]
    done = path.status == 0
    folds = [e for e in path.events if e[0] == "fold"]
    if done:
        message = f"Traced the branch from tau = {t0:g} to {t1:g} in {path.nit} steps."
    elif path.status == 4:
        message = (f"The branch folded back at tau = {folds[-1][1]:.6g} and left [{lo:g}, {hi:g}] "
                   f"after {path.nit} steps." if folds else
                   f"The branch left [{lo:g}, {hi:g}] after {path.nit} steps.")
    elif path.status == 5:
        message = _budget_spent(path, "tau", max_time)
    else:
        message = f"The trace stopped (status {path.status}) after {path.nit} steps; try a larger max_steps."
    params = {"epsilon": tuple(map(float, system.epsilon)), "direction": tuple(map(float, weights)),
              "risk": risk_obj.name if hasattr(risk_obj, "name") else repr(risk_obj),
              "regularizer": reg_obj.name if hasattr(reg_obj, "name") else repr(reg_obj)}
    return _package(game.n_actions, path, name="tau", success=done or (path.status == 4 and bool(folds)), message=message,
                    params=params)
