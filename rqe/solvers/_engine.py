"""The solver engine as the layers above see it: the one door from analysis and plotting into the
solver internals (private).

:func:`rqe.solve` is built for a single call: it validates, picks a method, falls back from
Newton to the fixed point and the homotopy, and wraps the outcome in a result.  Fitting, sweeps
and plotting need the pieces beneath it, on stated terms; this module names those pieces, and
the modules above import the solver internals only from here (``tests/test_layers.py``).

Contract
--------
The public front doors (:func:`rqe.solve`, :func:`rqe.solve_all`, :func:`rqe.solve_nash`) are
imported from their own modules; everything else comes from here.

Warm start
    :func:`rqe.solve` with ``x0`` starts Newton's method at ``x0`` (a sweep passes the previous
    point's equilibrium, so a line follows one branch while Newton converges).
    :func:`solve_batch` takes warm starts ``z0`` in normalised log coordinates, one row per
    point, and :func:`normalised_rows` gives the per-player payoff shift and unit that its
    parameters are measured in (``tau * unit``, ``epsilon / unit``).
No fallback
    :func:`solve_batch` is plain Newton from the given start and nothing else: a point that
    misses ``tol`` is reported in ``converged``, never re-solved by another method, so two runs
    that agree certify that the sweep stays on the branch of its warm start (``rqe.analysis._sweep``
    then re-solves the point itself with :func:`rqe.solve`).  :func:`homotopy_end` is the
    payoff-scale homotopy alone, from uniform play at scale 0 to scale 1: ``None`` when that
    trace fails, so the equilibrium that the likelihood selects depends on the parameters only,
    never on which method happened to succeed.
Certificates
    Every equilibrium handed up is certified by the solver's own residual (``max_i ||x_i -
    QR_i(x)||_1`` in probabilities, :meth:`RQESystem.residual`) against ``tol``; batched rows carry
    ``residual`` and the duality ``gap`` of each player's max-min problem, like
    :class:`rqe.EquilibriumResult`.
The map itself
    :func:`system_for` gives the fixed-point system ``F(z) = z - T(z)`` of one parameter set
    (the scalar :class:`SmallSystem` for 2x2 games with the built-in measures, else
    :class:`RQESystem`), and :func:`with_parameters` the same system at other ``tau``,
    ``epsilon`` or payoff scale.  Both have the same coordinates and methods: ``uniform``,
    ``normalize``, ``evaluate(z)`` (a state with ``z``, ``Tz``, ``F``, ``log_x``), ``jacobian``,
    ``residual``, ``log_residual``, ``size``.  The likelihood differentiates ``T`` at a fixed ``z``
    and solves with ``F_z`` (implicit function theorem) without re-solving any equilibrium.  A
    :class:`SmallSystem` raises one of :data:`SCALAR_FAILURES` where its scalar formulas leave
    their range; the caller then asks for ``general=True``.
Best responses
    :class:`TwoByTwo` gives each player's scalar best response (in log-odds) of a 2x2 game to
    any partner strategy, as drawn by :func:`rqe.plotting.best_response_curves`; best
    responses to fixed partners in Markov games are :func:`solve_batch` with ``free`` and
    ``partners`` (through :mod:`rqe.solvers.markov`).
Validation
    :func:`build_system` checks the arguments shared by every solver (game, ``tau``,
    ``epsilon``, ``risk``, ``regularizer``) and returns the system with the risk and regulariser
    objects.
"""

from __future__ import annotations

import numpy as np

from rqe.games.normal_form import NormalFormGame
from rqe.solvers._batch import solve_batch
from rqe.solvers._small import SCALAR_FAILURES, SmallSystem
from rqe.solvers._system import RQESystem, State, normalised_rows
from rqe.solvers.all import _TwoByTwo as TwoByTwo
from rqe.solvers.rqe import build_system, homotopy

__all__ = ["SCALAR_FAILURES", "RQESystem", "SmallSystem", "TwoByTwo", "build_system", "homotopy_end",
           "normalised_rows", "solve_batch", "system_for", "with_parameters"]


def system_for(game: NormalFormGame, tau, epsilon, risk, regularizer, *,
               general: bool = False) -> RQESystem | SmallSystem:
    """The fixed-point system of ``game`` at ``(tau, epsilon)`` with risk and regulariser objects.

    The scalar :class:`SmallSystem` (the same map in the same coordinates, much cheaper per
    evaluation) for a 2x2 game with the built-in measures, unless ``general``; else
    :class:`RQESystem`.
    """
    if not general and SmallSystem.supports(game, risk, regularizer):
        return SmallSystem(game, tau, epsilon, risk, regularizer)
    return RQESystem(game, tau, epsilon, risk, regularizer)


def with_parameters(system: RQESystem | SmallSystem, *, tau=None, epsilon=None,
                    scale: float = 1.0) -> RQESystem | SmallSystem:
    """The system of the same kind and game at other ``tau``/``epsilon`` (``None``: unchanged) and
    payoff ``scale``."""
    return type(system)(system.game, system.tau if tau is None else tau,
                        system.epsilon if epsilon is None else epsilon, system.risk, system.regularizer,
                        scale=scale)


def homotopy_end(system: RQESystem, *, tol: float, max_iter: int) -> State | None:
    """The end at payoff scale 1 of the homotopy branch through uniform play at scale 0, or ``None``.

    No fallback: ``None`` when the trace stops short, meets a singular augmented Jacobian, or
    ends with a residual above ``tol``.
    """
    try:
        out = homotopy(system, tol=tol, max_iter=max_iter)
    except np.linalg.LinAlgError:  # a singular augmented Jacobian on the way
        return None
    if out.status != 0 or not system.residual(out.state) <= tol:
        return None
    return out.state
