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

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # the names as IDEs and type checkers see them; at run time each loads on first use
    from rqe import (
        analysis as analysis, cooperative as cooperative, games as games, interop as interop, io as io,
        learning as learning, markov as markov, plotting as plotting, regularizers as regularizers, risk as risk,
        solvers as solvers, uncertainty as uncertainty,
    )
    from rqe._exceptions import (
        ConvergenceWarning as ConvergenceWarning, TractabilityWarning as TractabilityWarning,
    )
    from rqe.analysis._sweep import sweep as sweep, SweepResult as SweepResult
    from rqe.analysis.fitting import fit as fit, likelihood_ratio_test as likelihood_ratio_test
    from rqe.games.gaussian import GaussianGame as GaussianGame
    from rqe.games.markov import MarkovGame as MarkovGame
    from rqe.games.normal_form import NormalFormGame as NormalFormGame
    from rqe.regularizers import Entropy as Entropy, LogBarrier as LogBarrier
    from rqe.risk import KL as KL, ReverseKL as ReverseKL
    from rqe.solvers._result import (
        EquilibriumResult as EquilibriumResult, EquilibriumSet as EquilibriumSet, Path as Path, Result as Result,
        Status as Status,
    )
    from rqe.solvers._selection import (
        NashComponent as NashComponent, NashSelection as NashSelection, NashSet as NashSet,
    )
    from rqe.solvers.all import solve_all as solve_all
    from rqe.solvers.continuation import qre_path as qre_path, rqe_path as rqe_path
    from rqe.solvers.correlated import (
        CorrelatedResult as CorrelatedResult, player_adversary_cce as player_adversary_cce,
        PlayerAdversaryCCE as PlayerAdversaryCCE, solve_correlated as solve_correlated,
    )
    from rqe.solvers.gaussian import GaussianResult as GaussianResult
    from rqe.solvers.markov import MarkovResult as MarkovResult, solve_markov as solve_markov
    from rqe.solvers.nash import solve_nash as solve_nash
    from rqe.solvers.response import best_response as best_response, BestResponseResult as BestResponseResult
    from rqe.solvers.rqe import solve as solve, solve_qre as solve_qre

__getattr__, __dir__, __all__ = attach("rqe", _LAZY, _SUBMODULES)
