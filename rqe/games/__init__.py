"""Game models: finite normal-form games, Gaussian (quadratic) games, Markov games and a catalog."""

from importlib import import_module

_LAZY = {"NormalFormGame": "rqe.games.normal_form", "GaussianGame": "rqe.games.gaussian",
         "MarkovGame": "rqe.games.markov"}
__all__ = ["NormalFormGame", "GaussianGame", "MarkovGame", "catalog"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name == "catalog":
        return import_module("rqe.games.catalog")
    raise AttributeError(f"module 'rqe.games' has no attribute {name!r}")
