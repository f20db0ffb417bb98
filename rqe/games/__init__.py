"""Game models: finite normal-form games, Gaussian (quadratic) games, Markov games and their catalogs."""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names as IDEs and type checkers see them; at run time each loads on first use
    from rqe.games import catalog as catalog, markov_catalog as markov_catalog
    from rqe.games.gaussian import GaussianGame as GaussianGame
    from rqe.games.markov import MarkovGame as MarkovGame
    from rqe.games.normal_form import NormalFormGame as NormalFormGame

_LAZY = {"NormalFormGame": "rqe.games.normal_form", "GaussianGame": "rqe.games.gaussian",
         "MarkovGame": "rqe.games.markov"}
_SUBMODULES = ("catalog", "markov_catalog")
__all__ = ["NormalFormGame", "GaussianGame", "MarkovGame", "catalog", "markov_catalog"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return import_module(f"rqe.games.{name}")
    raise AttributeError(f"module 'rqe.games' has no attribute {name!r}")
