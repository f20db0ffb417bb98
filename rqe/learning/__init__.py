"""Learning dynamics in exact form: SRPO and IPPO populations, cross-play, mirror descent.

* :func:`srpo`, :func:`ippo`: populations of tabular agents trained by exact natural or vanilla
  policy gradients, against an exact or learned KL-regularised adversary (SRPO, Qu et al.,
  arXiv 2602.21515, section 5) or against their partner (IPPO), vectorised over seeds; each
  seed's final profile is certified by the core solvers.
* :func:`cross_play`: every pairing of agents trained apart, exactly (dynamic programming) or by
  rollouts; training against cross-play performance and free-riding per agent.
* :func:`mirror_descent`: magnetic mirror descent and optimistic multiplicative weights on the
  game of players and adversaries, with their gap curves.

Examples
--------
>>> import rqe
>>> res = rqe.learning.ippo(rqe.games.catalog.matching_pennies(), epsilon=0.5, seeds=3, iters=400)
>>> res.success, res.n_seeds
(True, 3)
"""

from rqe._lazy import attach

_LAZY = {
    "srpo": "rqe.learning._srpo",
    "ippo": "rqe.learning._srpo",
    "LearningResult": "rqe.learning._srpo",
    "cross_play": "rqe.learning._cross_play",
    "CrossPlayResult": "rqe.learning._cross_play",
    "mirror_descent": "rqe.learning._mirror",
    "DynamicsResult": "rqe.learning._mirror",
}

__getattr__, __dir__, __all__ = attach("rqe.learning", _LAZY, set())
