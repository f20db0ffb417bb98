"""Analyses built on the solvers: sweeps, collaboration (Theorem 1), free-riding (Theorem 4),
tractability, admissible risk aversion, collapse of the player-adversary CCE, fitting to data,
symbolic checks.

Names are imported lazily (PEP 562), so ``import rqe.analysis`` loads nothing heavy.  A public
function never shares its name with the module that defines it (``collaboration`` lives in
``_collaboration``): importing a submodule binds its name on the package, which would shadow
the function.

Examples
--------
>>> import rqe
>>> round(rqe.analysis.admissible_tau(rqe.games.catalog.two_robots(), epsilon=0.5), 6)
4.0
"""

from typing import TYPE_CHECKING

from rqe._lazy import attach

_LAZY = {
    "admissible_tau": "rqe.analysis.admissible",
    "collaboration": "rqe.analysis._collaboration",
    "CollaborationResult": "rqe.analysis._collaboration",
    "tractability": "rqe.solvers._tractability",
    "cce_collapse": "rqe.analysis._collapse",
    "CollapseResult": "rqe.analysis._collapse",
    "Tractability": "rqe.solvers._tractability",
    "sweep": "rqe.analysis._sweep",
    "SweepResult": "rqe.analysis._sweep",
    "free_riding": "rqe.analysis._free_riding",
    "FreeRidingResult": "rqe.analysis._free_riding",
    "fit": "rqe.analysis.fitting",
    "FitResult": "rqe.analysis.fitting",
    "likelihood_ratio_test": "rqe.analysis.fitting",
    "LikelihoodRatioTest": "rqe.analysis.fitting",
}
_SUBMODULES = {"symbolic"}

if TYPE_CHECKING:  # the names as IDEs and type checkers see them; at run time each loads on first use
    from rqe.analysis import symbolic as symbolic
    from rqe.analysis._collaboration import (
        collaboration as collaboration, CollaborationResult as CollaborationResult,
    )
    from rqe.analysis._collapse import cce_collapse as cce_collapse, CollapseResult as CollapseResult
    from rqe.analysis._free_riding import free_riding as free_riding, FreeRidingResult as FreeRidingResult
    from rqe.analysis._sweep import sweep as sweep, SweepResult as SweepResult
    from rqe.analysis.admissible import admissible_tau as admissible_tau
    from rqe.analysis.fitting import (
        fit as fit, FitResult as FitResult, likelihood_ratio_test as likelihood_ratio_test,
        LikelihoodRatioTest as LikelihoodRatioTest,
    )
    from rqe.solvers._tractability import tractability as tractability, Tractability as Tractability

__getattr__, __dir__, __all__ = attach("rqe.analysis", _LAZY, _SUBMODULES)
