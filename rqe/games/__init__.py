"""Game models: finite normal-form games, Gaussian (quadratic) games, Markov games and their catalogs."""

from importlib import import_module

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
