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

__getattr__, __dir__, __all__ = attach("rqe.analysis", _LAZY, _SUBMODULES)
