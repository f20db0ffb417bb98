"""Regularizers ``nu``: the strictly convex penalty of a boundedly rational player.

Player ``i`` maximises ``U_i^tau(x_i, x_-i) - epsilon_i nu(x_i)`` (paper eq. 2); its quantal
response to the gradient ``G = M_i p`` is ``argmax_x x . G - epsilon nu(x)`` (docs/concepts.md, "Closed forms").

Protocol
--------
A regularizer is any object with

``name`` : str
``response(G, epsilon) -> log_x``
    Log of ``argmax_{x in simplex} x . G - epsilon nu(x)`` for a 1-D payoff vector ``G``.
``value(log_x) -> float``
    ``nu(x)``.

and optionally ``response_jvp(log_x, epsilon, dG) -> dlogx``, the derivative of ``log x``
along the rows of ``dG`` (finite differences are used without it).  Pass the object as
``regularizer=`` to the solvers.

Examples
--------
>>> import numpy as np
>>> from rqe.regularizers import Entropy, LogBarrier
>>> [round(float(v), 4) for v in np.exp(Entropy().response(np.array([1.0, 0.0]), 1.0))]
[0.7311, 0.2689]
>>> [round(float(v), 4) for v in np.exp(LogBarrier().response(np.array([1.0, 0.0]), 1.0))]
[0.618, 0.382]
"""

from __future__ import annotations

import numpy as np

from rqe._numeric import log_inverse_sum_root, logsumexp, spread_about_weighted_mean
from rqe._validation import protocol_object

__all__ = ["Entropy", "LogBarrier", "get_regularizer"]


class Entropy:
    """Negative entropy ``nu(x) = sum x log x``: the logit quantal response ``x = softmax(G / epsilon)``."""

    name = "entropy"

    def response(self, G, epsilon) -> np.ndarray:
        s = G / epsilon
        return s - logsumexp(s)

    def value(self, log_x) -> float:
        x = np.exp(log_x)
        return float(np.sum(x * log_x))

    def response_jvp(self, log_x, epsilon, dG) -> np.ndarray:
        x = np.exp(log_x)
        return (dG - (dG @ x)[:, None]) / epsilon

    def __repr__(self):
        return "Entropy()"


class LogBarrier:
    """Log-barrier ``nu(x) = -sum log x``: ``x_a = epsilon / (lambda - G_a)``, ``lambda > max G`` (derived)."""

    name = "log_barrier"

    def response(self, G, epsilon) -> np.ndarray:
        d = np.max(G) - G
        log_c = np.full_like(G, np.log(epsilon))
        return log_c - log_inverse_sum_root(log_c, d)

    def value(self, log_x) -> float:
        return float(-np.sum(log_x))

    def response_jvp(self, log_x, epsilon, dG) -> np.ndarray:
        # x_a = epsilon / (lambda - G_a): dlog x_a = (dG_a - dlambda) / (lambda - G_a) with
        # dlambda the r-weighted mean of dG, r_a = x_a^2 / epsilon.
        x = np.exp(log_x)
        spread, _ = spread_about_weighted_mean(2.0 * log_x - np.log(epsilon), dG)
        # spread_a = r_a A_a, and A_a / (lambda - G_a) = r_a A_a / x_a
        return spread / x

    def __repr__(self):
        return "LogBarrier()"


BUILTIN = {"entropy": Entropy, "log_barrier": LogBarrier}
"""The built-in regularisers by name; fast paths accept exactly these (``rqe._validation.builtin_name``)."""


def get_regularizer(regularizer, *, func: str = "rqe.solve"):
    """Resolve ``regularizer`` (a name or a protocol object) to a regularizer object."""
    return protocol_object(regularizer, BUILTIN, ("response", "value"), name="regularizer", func=func)
