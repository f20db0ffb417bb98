"""A stage solver for OpenSpiel's multi-agent Q-learning (``MultiagentQLearner``) built on :func:`rqe.solve`.

OpenSpiel (``open_spiel.python.algorithms.tabular_multiagent_qlearner``, version 2.0) learns
joint-action Q-tables and, at every state, asks a *joint action solver* for the mixed
strategies and values of the one-step game they define: ``solver(payoffs_array)`` with
``payoffs_array[n, a_1, ..., a_N]`` player ``n``'s Q-value of the joint action, returning
``(mixtures, values)``, a list of one mixed strategy per player and a list of one value per
player (its ``JointActionSolver`` interface; the values become the learning targets
``r + gamma * value``).  It ships Nash, correlated and Stackelberg solvers; the class below is
the RQE one.  No OpenSpiel import is needed to build or call it.
"""

from __future__ import annotations

from functools import reduce

import numpy as np

from rqe._validation import choice, positive_float, positive_int
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers.markov import VALUES
from rqe.solvers.rqe import solve

_FUNC = "rqe.interop.openspiel_stage_solver"


class RQEStageSolver:
    """Callable ``(payoffs_array) -> (mixtures, values)``: the RQE of the stage game (see the module docstring).

    Built by :func:`rqe.interop.openspiel_stage_solver`; its attributes are the arguments given there.
    """

    def __init__(self, *, tau, epsilon, risk, regularizer, value, tol, max_iter):
        for name, v, low_open in (("tau", tau, False), ("epsilon", epsilon, True)):
            arr = np.asarray(v, dtype=float) if np.ndim(v) <= 1 else None
            if arr is None or not np.all(np.isfinite(arr)) or np.any(arr <= 0 if low_open else arr < 0):
                bound = "> 0" if low_open else ">= 0"
                raise ValueError(f"The {name!r} parameter of {_FUNC} must be a float {bound} or one such value per "
                                 f"player. Got {v!r} instead.")
        self.tau, self.epsilon = tau, epsilon
        self.risk = get_risk(risk, func=_FUNC)
        self.regularizer = get_regularizer(regularizer, func=_FUNC)
        self.value = choice(value, VALUES, name="value", func=_FUNC)
        self.tol = positive_float(tol, name="tol", func=_FUNC)
        self.max_iter = positive_int(max_iter, name="max_iter", func=_FUNC)

    def solve(self, payoffs_array):
        """The :class:`rqe.EquilibriumResult` of the stage game ``payoffs_array`` (shape ``(N, n_1, ..., n_N)``)."""
        Q = np.asarray(payoffs_array, dtype=float)
        if Q.ndim < 3 or Q.shape[0] != Q.ndim - 1:
            raise ValueError(f"The payoffs array given to the solver of {_FUNC} must have shape (N, n_1, ..., n_N), "
                             f"one Q-table per player. Got shape {Q.shape}.")
        return solve(NormalFormGame(list(Q)), tau=self.tau, epsilon=self.epsilon, risk=self.risk,
                     regularizer=self.regularizer, tol=self.tol, max_iter=self.max_iter)

    def __call__(self, payoffs_array):
        Q = np.asarray(payoffs_array, dtype=float)
        res = self.solve(Q)
        x = [np.asarray(xi, dtype=float) for xi in res.strategies]
        N = len(x)
        if self.value == "regularized":
            values = np.asarray(res.values, dtype=float)
        elif self.value == "risk_adjusted":
            eps = np.broadcast_to(np.asarray(self.epsilon, dtype=float), (N,))
            with np.errstate(divide="ignore"):
                nu = np.array([self.regularizer.value(np.log(xi)) for xi in x])
            values = np.asarray(res.values, dtype=float) + eps * nu
        else:
            profile = reduce(np.multiply.outer, x)
            values = np.array([float(np.sum(Q[i] * profile)) for i in range(N)])
        return x, [float(v) for v in values]

    def __repr__(self):
        return (f"RQEStageSolver(tau={self.tau!r}, epsilon={self.epsilon!r}, risk={self.risk!r}, "
                f"regularizer={self.regularizer!r}, value={self.value!r})")
