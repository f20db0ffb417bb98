"""Risk measures: the adversary's penalty ``D(p, q)`` in the risk-adjusted utility.

Player ``i``'s risk-adjusted utility (paper eq. 1) is

    U_i^tau(x_i, x_-i) = min_p  p . g  +  (1/tau_i) D(p, q),      g = M_i^T x_i,

where ``q = x_-i`` is the product distribution of the other players over their *joint*
actions and ``p`` ranges over all (possibly correlated) joint distributions.

Protocol
--------
A risk measure is any object with

``name`` : str
    Used in results and messages.
``adversary(g, log_q, tau) -> log_p``
    Log of the minimiser ``p`` of ``p . g + (1/tau) D(p, q)`` over the simplex, for
    ``tau > 0``; ``g`` and ``log_q`` are 1-D arrays of the same length.
``penalty(log_p, log_q) -> float``
    ``D(p, q)``.

and optionally ``adversary_jvp(log_p, log_q, tau, dlogq, dg) -> dp``, the derivative of
``p`` along directions ``dlogq`` (of ``log q``) and ``dg`` (of ``g``), given as 2-D arrays
with one direction per row.  Without it, :func:`rqe.solve` differentiates by finite
differences.  Pass the object as ``risk=`` to the solvers.

Examples
--------
>>> import numpy as np
>>> from rqe.risk import KL
>>> p = np.exp(KL().adversary(np.array([1.0, 0.0]), np.log([0.5, 0.5]), tau=np.log(3)))
>>> [round(float(v), 6) for v in p]
[0.25, 0.75]
"""

from __future__ import annotations

import numpy as np

from rqe._numeric import log_inverse_sum_root, logsumexp, spread_about_weighted_mean
from rqe._validation import protocol_object

__all__ = ["KL", "ReverseKL", "get_risk"]


def _kl(log_a: np.ndarray, log_b: np.ndarray) -> float:
    """``KL(a || b) = sum a (log a - log b)`` from logs, with ``0 log 0 = 0``."""
    a = np.exp(log_a)
    keep = a > 0
    return float(np.sum(a[keep] * (log_a[keep] - log_b[keep])))


class KL:
    """Entropic risk: ``D(p, q) = KL(p || q)`` (paper eq. 1).

    The adversary tilts the others' play towards what hurts the player:
    ``p = softmax(log q - tau g)``, and ``U^tau = -(1/tau) log E_q exp(-tau g)``.
    """

    name = "kl"

    def adversary(self, g, log_q, tau) -> np.ndarray:
        s = log_q - tau * g
        return s - logsumexp(s)

    def penalty(self, log_p, log_q) -> float:
        return _kl(log_p, log_q)

    def adversary_jvp(self, log_p, log_q, tau, dlogq, dg) -> np.ndarray:
        p = np.exp(log_p)
        ds = dlogq - tau * dg
        return p * (ds - (ds @ p)[:, None])

    def __repr__(self):
        return "KL()"


class ReverseKL:
    """Reverse-KL risk: ``D(p, q) = KL(q || p)`` (MPS code; docs/concepts.md).

    The adversary is ``p_b = q_b / (tau (g_b + mu))`` with the scalar ``mu > -min g``
    fixed by ``sum p = 1``.  ``KL(q || p)`` does not charge for mass on actions with
    ``q_b = 0``, so when such an action has the smallest ``g`` and the others cannot absorb
    all the mass (``sum_{q_b > 0} q_b / (tau (g_b - min g)) < 1``), ``mu = -min g`` and the
    remainder goes there; this is the limit of ``q_b -> 0+``, so ``p`` is continuous in ``q``.
    """

    name = "reverse_kl"

    def adversary(self, g, log_q, tau) -> np.ndarray:
        log_c = log_q - np.log(tau)
        live = log_c > -np.inf
        g_live = np.min(g[live])
        log_den = log_inverse_sum_root(log_c, g - g_live)     # log(g_b + mu) on the live actions
        gap = g_live - np.min(g)
        if gap > 0 and np.min(log_den[live]) < np.log(gap):    # mu would fall below -min g: clip it
            with np.errstate(divide="ignore"):
                log_p = np.where(live, log_c - np.log(g - np.min(g)), -np.inf)
            floor = ~live & (g == np.min(g))
            log_p[floor] = np.log1p(-np.exp(logsumexp(log_p[live]))) - np.log(np.count_nonzero(floor))
            return log_p
        return log_c - log_den

    def penalty(self, log_p, log_q) -> float:
        return _kl(log_q, log_p)

    def adversary_jvp(self, log_p, log_q, tau, dlogq, dg) -> np.ndarray:
        # log p_b = log q_b - log tau - log(g_b + mu) with mu fixed by sum p = 1, so with
        # r_b = p_b / (g_b + mu):  dp_b = p_b dlogq_b - r_b (dg_b + dmu),
        # dmu = (p . dlogq - r . dg) / R.  r_b can reach 1e17 (module docstring of _numeric).
        p = np.exp(log_p)
        with np.errstate(invalid="ignore"):
            log_r = np.where(p > 0, 2.0 * log_p - log_q + np.log(tau), -np.inf)  # g + mu = q / (tau p)
        spread, share = spread_about_weighted_mean(log_r, dg)
        return p * dlogq - spread - share * (dlogq @ p)[:, None]

    def __repr__(self):
        return "ReverseKL()"


BUILTIN = {"kl": KL, "reverse_kl": ReverseKL}
"""The built-in risk measures by name; fast paths accept exactly these (``rqe._validation.builtin_name``)."""


def get_risk(risk, *, func: str = "rqe.solve"):
    """Resolve ``risk`` (a name or a protocol object) to a risk-measure object."""
    return protocol_object(risk, BUILTIN, ("adversary", "penalty"), name="risk", func=func)
