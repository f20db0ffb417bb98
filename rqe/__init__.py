"""rqe: risk-averse quantal response equilibria, logit QRE and Nash equilibria.

The public names are imported lazily, so ``import rqe`` is fast and a
subpackage is loaded only when one of its names is first used.

Examples
--------
>>> import rqe
>>> game = rqe.games.catalog.matching_pennies()
>>> res = rqe.solve(game, tau=1.0, epsilon=0.5)
>>> res.success, [round(float(v), 6) for v in res.strategies[0]]
(True, [0.5, 0.5])
"""

from rqe._lazy import attach

__version__ = "0.1.0"

_LAZY = {
    "NormalFormGame": "rqe.games.normal_form",
    "GaussianGame": "rqe.games.gaussian",
    "MarkovGame": "rqe.games.markov",
    "solve": "rqe.solvers.rqe",
    "solve_qre": "rqe.solvers.rqe",
    "solve_all": "rqe.solvers.all",
    "best_response": "rqe.solvers.response",
    "BestResponseResult": "rqe.solvers.response",
    "solve_markov": "rqe.solvers.markov",
    "solve_correlated": "rqe.solvers.correlated",
    "CorrelatedResult": "rqe.solvers.correlated",
    "player_adversary_cce": "rqe.solvers.correlated",
    "PlayerAdversaryCCE": "rqe.solvers.correlated",
    "MarkovResult": "rqe.solvers.markov",
    "solve_nash": "rqe.solvers.nash",
    "qre_path": "rqe.solvers.continuation",
    "rqe_path": "rqe.solvers.continuation",
    "sweep": "rqe.analysis._sweep",
    "SweepResult": "rqe.analysis._sweep",
    "fit": "rqe.analysis.fitting",
    "likelihood_ratio_test": "rqe.analysis.fitting",
    "Result": "rqe.solvers._result",
    "Status": "rqe.solvers._result",
    "EquilibriumResult": "rqe.solvers._result",
    "EquilibriumSet": "rqe.solvers._result",
    "NashSet": "rqe.solvers._selection",
    "NashComponent": "rqe.solvers._selection",
    "NashSelection": "rqe.solvers._selection",
    "Path": "rqe.solvers._result",
    "GaussianResult": "rqe.solvers.gaussian",
    "ConvergenceWarning": "rqe._exceptions",
    "TractabilityWarning": "rqe._exceptions",
    "KL": "rqe.risk",
    "ReverseKL": "rqe.risk",
    "Entropy": "rqe.regularizers",
    "LogBarrier": "rqe.regularizers",
}
_SUBMODULES = {"games", "analysis", "plotting", "io", "risk", "regularizers", "solvers", "markov", "uncertainty",
               "cooperative", "interop", "learning"}

__getattr__, __dir__, __all__ = attach("rqe", _LAZY, _SUBMODULES)
