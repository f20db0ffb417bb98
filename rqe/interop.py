"""Bridges to other game-theory libraries (optional packages, imported only when used).

* OpenSpiel's tabular multi-agent Q-learning (``MultiagentQLearner``, the Nash-Q / CE-Q
  family): :func:`openspiel_stage_solver` is a joint-action solver whose stage solution is
  the RQE of :func:`rqe.solve`, so the learner becomes a risk-averse quantal Q-learner.
* sgamesolver's stochastic games: :meth:`rqe.MarkovGame.from_sgamesolver` and
  :meth:`rqe.MarkovGame.to_sgamesolver`.

Examples
--------
>>> import rqe
>>> rqe.interop.openspiel_stage_solver(tau=0.5, epsilon=0.2)
RQEStageSolver(tau=0.5, epsilon=0.2, risk=KL(), regularizer=Entropy(), value='regularized')
"""

from __future__ import annotations

from rqe._openspiel import RQEStageSolver

__all__ = ["openspiel_stage_solver"]


def openspiel_stage_solver(*, tau=1.0, epsilon=0.1, risk="kl", regularizer="entropy", value: str = "regularized",
                           tol: float = 1e-10, max_iter: int = 1000) -> RQEStageSolver:
    """A joint-action solver for OpenSpiel's ``MultiagentQLearner`` that plays the stage RQE.

    OpenSpiel's multi-agent Q-learner
    (``open_spiel.python.algorithms.tabular_multiagent_qlearner.MultiagentQLearner``) takes a
    ``joint_action_solver``: a callable mapping the Q-values of one state,
    ``payoffs_array[n, a_1, ..., a_N]``, to ``(mixtures, values)``.  The returned solver
    computes the RQE of that stage game with :func:`rqe.solve` (SRPO eqs. 1-2, from uniform
    play each call, so it equals ``rqe.solve`` on the same matrices) and returns its
    strategies and each player's stage value under ``value``, the convention of
    :func:`rqe.solve_markov`: ``"regularized"`` (``U_i^tau - epsilon_i nu(x_i)``, the
    ``values`` of :class:`rqe.EquilibriumResult`), ``"risk_adjusted"`` (``U_i^tau``) or
    ``"expected"`` (``x^T Q_i`` under actual play, the value OpenSpiel's Nash solver returns).
    A stage solve that misses ``tol`` warns with :class:`rqe.ConvergenceWarning`.

    Parameters
    ----------
    tau, epsilon : float or array_like
        Risk aversion (``>= 0``) and bounded rationality (``> 0``), scalar or per player.
    risk, regularizer : str or object
        As in :func:`rqe.solve`.
    value : {"regularized", "risk_adjusted", "expected"}
    tol : float, default 1e-10
    max_iter : int, default 1000

    Returns
    -------
    RQEStageSolver
        Call it on a payoffs array; its ``solve`` method returns the full
        :class:`rqe.EquilibriumResult` (certificate included).

    Examples
    --------
    >>> import numpy as np, rqe
    >>> solver = rqe.interop.openspiel_stage_solver(tau=1.0, epsilon=0.5)
    >>> pennies = np.array([[[1, -1], [-1, 1]], [[-1, 1], [1, -1]]])   # (player, a_1, a_2)
    >>> mixtures, values = solver(pennies)
    >>> [m.round(6).tolist() for m in mixtures]
    [[0.5, 0.5], [0.5, 0.5]]

    With OpenSpiel installed it drops into the Q-learner in place of ``TwoPlayerNashSolver()``:

    >>> from open_spiel.python.algorithms.tabular_multiagent_qlearner import MultiagentQLearner  # doctest: +SKIP
    >>> learner = MultiagentQLearner(0, 2, [3, 3], solver)                                   # doctest: +SKIP
    """
    return RQEStageSolver(tau=tau, epsilon=epsilon, risk=risk, regularizer=regularizer, value=value, tol=tol,
                          max_iter=max_iter)
