"""Warnings raised by :mod:`rqe`.

Errors in user input are raised as the built-in :class:`ValueError` or
:class:`TypeError`, with the parameter's name, what is accepted and what was
given.  The warnings below subclass :class:`UserWarning` so that they can be
filtered with the standard :mod:`warnings` machinery.
"""

__all__ = ["ConvergenceWarning", "TractabilityWarning"]


class ConvergenceWarning(UserWarning):
    """A solver stopped before meeting its tolerance.

    The result it returned has ``success=False`` and a message saying what
    to try (more iterations, another method, a warm start).
    """


class TractabilityWarning(UserWarning):
    """The parameters lie outside every known uniqueness/tractability region.

    The returned equilibrium is certified (see its ``gap``) but other
    equilibria may exist; :func:`rqe.solve_all` searches for them.
    """


ConvergenceWarning.__module__ = TractabilityWarning.__module__ = "rqe"
