"""Environment risk: the value of an uncertain next state, ``rho[W](s, a)``.

A Markov game's continuation value at ``(s, a)`` is ``rho[W](s, a)`` for the values ``W`` of
the next states under the nominal law ``p = P(. | s, a)``.  Risk-neutral players take the
expectation ``p . W``; risk-averse ones a worst case over laws ``q`` near ``p`` (MPS:
environmental risk with its own penalty; docs/howto/markov_games.md).  Every operator here is monotone
and translation-equivariant, hence 1-Lipschitz in the sup norm, so a discounted Bellman
operator built on it contracts in the values.

================  =====================================================  ==================================
name              ``rho[W]`` for one row ``p`` (values ``w``)             closed form
================  =====================================================  ==================================
``Expectation``   ``p . w``                                              
``Entropic(t)``   ``min_q q.w + KL(q || p) / t``                          ``-(1/t) log sum_k p_k exp(-t w_k)``
``TVPenalty(t)``  ``min_q q.w + TV(q, p) / t``                            ``sum_k p_k min(w_k, min w + 1/t)``
``TVBall(r)``     ``min {q.w : TV(q, p) <= r}``                           take ``r`` of mass from the largest
                                                                         ``w_k`` and put it on ``argmin w``
``Contamination`` ``min {q.w : q = (1 - r) p + r e, e any law}``          ``(1 - r) p . w + r min w``
================  =====================================================  ==================================

``TV(q, p) = (1/2) sum_k |q_k - p_k|`` (moving a mass ``m`` costs ``m``), and ``q`` ranges over
*all* laws on the next states, so the adversary may put mass on a state the nominal law never
reaches: ``min w`` is over every column.  A game that can end contributes a terminal column of
value 0 (:func:`rqe.solvers.markov` adds it).

Derivations [derived]: for ``TVPenalty`` the adversary moves mass ``m`` from ``k`` to ``argmin w``
iff the gain ``m (w_k - min w)`` exceeds the cost ``m / t``, giving the clipped form; for
``TVBall`` the objective is linear in ``q`` over a polytope whose best vertex empties the
highest values first (a fractional knapsack); ``Contamination`` is linear in ``e``.  The
tests check every operator against :func:`scipy.optimize.linprog` (or a direct minimisation
for the entropic one) on random rows.

Protocol
--------
An operator is any object with

``name`` : str
``evaluate(P, W) -> ndarray``
    ``P`` is a row-stochastic ``scipy.sparse.csr_array`` of shape ``(rows, K)``, ``W`` an array
    ``(K, N)`` of values (one column per player); returns ``(rows, N)``, row ``r`` column ``i``
    being ``rho_i[W[:, i]]`` under the law ``P[r]``.

and, optionally, ``worst_case(p, w) -> q`` for one law ``p`` of shape ``(K,)`` and values ``w``
(the minimising law, for inspection and :mod:`rqe.cooperative`); ``params`` (a dict) for
results.  Parameters such as ``tau`` take a scalar or one value per player.

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> from rqe.uncertainty import Entropic, TVBall, TVPenalty
>>> P = sp.csr_array(np.array([[0.5, 0.5, 0.0]]))
>>> W = np.array([[1.0], [3.0], [0.0]])
>>> float(TVBall(0.2).evaluate(P, W)[0, 0])      # 0.2 of mass moves from w=3 to w=0
1.4
>>> float(TVPenalty(1.0).evaluate(P, W)[0, 0])   # values above min w + 1 = 1 are clipped
1.0
>>> round(float(Entropic(1.0).evaluate(P, W)[0, 0]), 6)
1.566219
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["Expectation", "Entropic", "TVPenalty", "TVBall", "Contamination", "get_env_risk", "NAMES"]

_RISK_NEUTRAL = 1e-10     # entropic tau below this is treated as 0 (expectation)

NAMES = ("expectation", "entropic", "tv_penalty")
"""Names accepted by :func:`get_env_risk`; ``"entropic"`` and ``"tv_penalty"`` reuse the strategic ``tau``."""


def _per_column(value, N: int, name: str, cls: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(N, float(arr))
    if arr.shape != (N,):
        raise ValueError(f"The {name!r} parameter of rqe.uncertainty.{cls} must be a float or hold one value per "
                         f"player ({N}). Got an array of shape {arr.shape}.")
    return arr


def _check_param(value, name: str, cls: str, high: float = np.inf) -> np.ndarray | float:
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    ok = arr is not None and arr.ndim <= 1 and np.all(np.isfinite(arr)) and np.all(arr >= 0) and np.all(arr <= high)
    if not ok:
        rng = "[0, inf)" if np.isinf(high) else f"[0, {high:g}]"
        raise ValueError(f"The {name!r} parameter of rqe.uncertainty.{cls} must be a float in {rng} or an array of "
                         f"one such value per player. Got {value!r} instead.")
    return float(arr) if arr.ndim == 0 else arr.copy()


def row_min(P: sp.csr_array, W: np.ndarray) -> np.ndarray:
    """``min`` of ``W`` over the support of each row of ``P``: shape ``(rows, N)`` (``+inf`` for empty rows)."""
    out = np.full((P.shape[0], W.shape[1]), np.inf)
    counts = np.diff(P.indptr)
    full = counts > 0
    if P.nnz:
        out[full] = np.minimum.reduceat(W[P.indices], P.indptr[:-1][full], axis=0)
    return out


class Expectation:
    """The risk-neutral continuation value ``p . w``."""

    name = "expectation"
    params: dict = {}

    def evaluate(self, P, W) -> np.ndarray:
        return np.asarray(P @ W)

    def worst_case(self, p, w) -> np.ndarray:
        return np.asarray(p, dtype=float).copy()

    def __repr__(self):
        return "Expectation()"


class Entropic:
    """Entropic risk ``-(1/tau) log E_p exp(-tau w)``: the KL-penalised worst case (MPS code's backup).

    ``tau`` is a scalar or one value per player; ``tau = 0`` is the expectation.  Computed with
    a shift by the smallest value in each row's support, so it never overflows.
    """

    name = "entropic"

    def __init__(self, tau=1.0):
        self.tau = _check_param(tau, "tau", "Entropic")
        self.params = {"tau": self.tau}

    def evaluate(self, P, W) -> np.ndarray:
        t = _per_column(self.tau, W.shape[1], "tau", "Entropic")
        mean = np.asarray(P @ W)
        risky = t > _RISK_NEUTRAL
        if not np.any(risky):
            return mean
        m = row_min(P, W)
        m = np.where(np.isfinite(m), m, 0.0)
        # exp(-t (W - m_row)) per stored entry, summed by row
        rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
        tt = np.where(risky, t, 1.0)
        E = np.exp(-tt * (W[P.indices] - m[rows]))
        S = sp.csr_array((np.ones(P.nnz), (rows, np.arange(P.nnz))), shape=(P.shape[0], P.nnz))
        weighted = np.asarray(S @ (P.data[:, None] * E))
        with np.errstate(divide="ignore"):
            value = m - np.log(weighted) / tt
        return np.where(risky, value, mean)

    def worst_case(self, p, w) -> np.ndarray:
        p, w = np.asarray(p, float), np.asarray(w, float)
        t = float(np.max(self.tau))
        logits = np.log(np.where(p > 0, p, 1.0)) - t * (w - w[p > 0].min())
        q = np.where(p > 0, np.exp(logits - logits[p > 0].max()), 0.0)
        return q / q.sum()

    def __repr__(self):
        return f"Entropic(tau={self.tau!r})"


class TVPenalty:
    """Total-variation penalty: ``min_q q.w + TV(q, p) / tau = sum_k p_k min(w_k, min w + 1/tau)``.

    Moving mass to the worst state costs ``1/tau`` per unit, so only values more than ``1/tau``
    above the worst are cut down.  ``tau = 0`` is the expectation.
    """

    name = "tv_penalty"

    def __init__(self, tau=1.0):
        self.tau = _check_param(tau, "tau", "TVPenalty")
        self.params = {"tau": self.tau}

    def evaluate(self, P, W) -> np.ndarray:
        t = _per_column(self.tau, W.shape[1], "tau", "TVPenalty")
        with np.errstate(divide="ignore"):
            cap = W.min(axis=0) + np.where(t > 0, 1.0 / np.maximum(t, 1e-300), np.inf)
        return np.asarray(P @ np.minimum(W, cap))

    def worst_case(self, p, w) -> np.ndarray:
        p, w = np.asarray(p, float), np.asarray(w, float)
        t = float(np.max(self.tau))
        k = int(np.argmin(w))
        moved = (w > w[k] + (1.0 / t if t > 0 else np.inf))
        q = np.where(moved, 0.0, p)
        q[k] += p[moved].sum()
        return q

    def __repr__(self):
        return f"TVPenalty(tau={self.tau!r})"


class TVBall:
    """Total-variation ball of radius ``rho``: the worst law within ``TV(q, p) <= rho``.

    Removes ``rho`` of mass from the successors with the largest values (or all of it, if
    less) and puts it on the worst state.  ``rho`` in ``[0, 1]``; ``0`` is the expectation.
    """

    name = "tv_ball"

    def __init__(self, radius=0.1):
        self.radius = _check_param(radius, "radius", "TVBall", high=1.0)
        self.params = {"radius": self.radius}

    def evaluate(self, P, W) -> np.ndarray:
        r = _per_column(self.radius, W.shape[1], "radius", "TVBall")
        base = np.asarray(P @ W)
        rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
        starts = P.indptr[:-1][rows]
        out = np.empty_like(base)
        for i in range(W.shape[1]):
            w = W[P.indices, i]
            order = np.lexsort((-w, rows))            # within each row, largest values first
            p_sorted, w_sorted = P.data[order], w[order]
            before = np.cumsum(p_sorted) - p_sorted    # mass of larger values in the same row ...
            row_start_cum = np.concatenate([[0.0], np.cumsum(p_sorted)])[starts]
            before = before - row_start_cum            # ... counted from the row's start
            taken = np.clip(r[i] - before, 0.0, p_sorted)
            loss = np.zeros(P.shape[0])
            np.add.at(loss, rows, taken * (w_sorted - W[:, i].min()))
            out[:, i] = base[:, i] - loss
        return out

    def worst_case(self, p, w) -> np.ndarray:
        p, w = np.asarray(p, float), np.asarray(w, float)
        r = float(np.max(self.radius))
        q = p.copy()
        budget = r
        for k in np.argsort(-w, kind="stable"):
            take = min(budget, q[k])
            q[k] -= take
            budget -= take
        q[int(np.argmin(w))] += r - budget
        return q

    def __repr__(self):
        return f"TVBall(radius={self.radius!r})"


class Contamination:
    """rho-contamination: ``q = (1 - rho) p + rho e`` for any law ``e``: ``(1 - rho) p.w + rho min w``.

    (The robust-coMARL code's targets keep only the ``(1 - rho) p.w`` part; this is the full
    worst case.)  ``rho`` in ``[0, 1]``.
    """

    name = "contamination"

    def __init__(self, radius=0.1):
        self.radius = _check_param(radius, "radius", "Contamination", high=1.0)
        self.params = {"radius": self.radius}

    def evaluate(self, P, W) -> np.ndarray:
        r = _per_column(self.radius, W.shape[1], "radius", "Contamination")
        return (1.0 - r) * np.asarray(P @ W) + r * W.min(axis=0)

    def worst_case(self, p, w) -> np.ndarray:
        p, w = np.asarray(p, float), np.asarray(w, float)
        r = float(np.max(self.radius))
        q = (1.0 - r) * p
        q[int(np.argmin(w))] += r
        return q

    def __repr__(self):
        return f"Contamination(radius={self.radius!r})"


def get_env_risk(env_risk, *, tau=None, func: str = "rqe.solve_markov") -> object:
    """Resolve ``env_risk``: ``None`` (expectation), a name in :data:`NAMES`, or an operator object.

    ``"entropic"`` and ``"tv_penalty"`` take the strategic ``tau`` (as the MPS code does for the
    entropic backup); pass ``Entropic(tau=...)`` for a separate environment risk aversion.

    Examples
    --------
    >>> from rqe.uncertainty import get_env_risk
    >>> get_env_risk(None), get_env_risk("entropic", tau=[0.5, 1.0])
    (Expectation(), Entropic(tau=array([0.5, 1. ])))
    """
    if env_risk is None:
        return Expectation()
    if isinstance(env_risk, str):
        if env_risk == "expectation":
            return Expectation()
        if env_risk in ("entropic", "tv_penalty") and tau is not None:
            return (Entropic if env_risk == "entropic" else TVPenalty)(tau)
        raise ValueError(f"The 'env_risk' parameter of {func} must be None, one of {list(NAMES)} or an object with "
                         f"an 'evaluate(P, W)' method (rqe.uncertainty). Got {env_risk!r} instead.")
    if not callable(getattr(env_risk, "evaluate", None)):
        raise TypeError(f"The 'env_risk' parameter of {func} must be None, one of {list(NAMES)} or an object with "
                        f"an 'evaluate(P, W)' method (rqe.uncertainty). Got {env_risk!r} instead.")
    return env_risk
