"""Correlated and coarse correlated equilibria of N-player normal-form games, on cvxpy.

A *correlated equilibrium* (CE; Aumann 1974) is a law ``mu`` over joint actions such that no
player, told its recommended action ``a_i``, gains by playing ``a_i'`` instead:

    sum_{a_-i} mu(a_i, a_-i) [u_i(a_i', a_-i) - u_i(a_i, a_-i)] <= 0     for all i, a_i != a_i'.

A *coarse correlated equilibrium* (CCE; Moulin and Vial 1978) only asks that no player gains by
committing to ``a_i'`` before seeing the recommendation:

    sum_a mu(a) [u_i(a_i', a_-i) - u_i(a)] <= 0                          for all i, a_i'.

Both sets are polytopes; :func:`solve_correlated` picks a point of them by an objective: the
largest expected welfare (a linear program), the largest entropy (an exponential-cone program:
the max-entropy CE is the "least informative" recommendation device), none (feasibility), or
any concave cvxpy expression.  The constraint matrices are assembled sparse and vectorised, and
the certificate (the largest deviation gain) is recomputed in numpy from the returned law, never
read from the solver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
import scipy.sparse as sp

from rqe._validation import choice, positive_float
from rqe.games.normal_form import NormalFormGame
from rqe.solvers._result import _plain

__all__ = ["solve_correlated", "CorrelatedResult", "deviation_matrix"]

KINDS = ("ce", "cce")
OBJECTIVES = ("welfare", "entropy", "none")
_MAX_JOINT = 2_000_000      # joint actions above which the program is refused (memory of the sparse rows)
_FUNC = "rqe.solve_correlated"


@dataclass(frozen=True)
class CorrelatedResult:
    """A correlated (or coarse correlated) equilibrium with its certificate.

    Attributes
    ----------
    message : str
    success : bool
        True when the solver reported an optimum and ``regret <= tol * payoff range``.
    distribution : ndarray
        The law over joint actions, shape ``(n_1, ..., n_N)``.
    marginals : tuple of ndarray
        Each player's marginal law over its own actions.
    payoffs : ndarray
        ``(N,)``: each player's expected payoff under ``distribution``.
    regret : float
        The largest gain of any deviation in the constraints (``<= 0`` means exactly feasible;
        reported as ``max(0, .)``), recomputed in numpy from ``distribution``.
    status : int
        0 solved, 2 solver failure or infeasible answer.
    method : str
        ``"ce"`` or ``"cce"``.
    params : dict
        ``objective``, ``solver``, ``solver_status``, ``tol``.
    """

    message: str
    success: bool
    distribution: np.ndarray = field(repr=False)
    marginals: tuple
    payoffs: np.ndarray
    regret: float
    status: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def deviation_matrix(game: NormalFormGame, *, kind: str = "ce") -> sp.csr_array:
    """The sparse matrix ``D`` whose rows are the deviation gains: ``mu`` is a CE (CCE) iff ``D @ mu <= 0``.

    Columns are joint actions in C order.  CE rows are ``(i, a_i, a_i')`` with ``a_i != a_i'``;
    CCE rows are ``(i, a_i')``.

    Examples
    --------
    >>> import numpy as np, rqe
    >>> from rqe.solvers.correlated import deviation_matrix
    >>> D = deviation_matrix(rqe.games.catalog.matching_pennies(), kind="ce")
    >>> D.shape, bool(np.all(D @ np.full(4, 0.25) <= 1e-12))
    ((4, 4), True)
    """
    choice(kind, KINDS, name="kind", func="rqe.solvers.correlated.deviation_matrix")
    n = game.n_actions
    A = int(np.prod(n))
    joint = np.arange(A).reshape(n)
    rows, cols, vals = [], [], []
    offset = 0
    for i, k in enumerate(n):
        U = np.moveaxis(np.asarray(game.payoffs[i], float), i, 0).reshape(k, -1)      # (n_i, A_-i)
        J = np.moveaxis(joint, i, 0).reshape(k, -1)                                     # joint index of (a_i, rest)
        gain = U[None, :, :] - U[:, None, :]           # gain[a_i, a_i', rest] = u(a_i', rest) - u(a_i, rest)
        if kind == "ce":
            ai, alt = np.nonzero(~np.eye(k, dtype=bool))
            r = offset + np.arange(ai.size)
            rows.append(np.repeat(r, J.shape[1]))
            cols.append(J[ai].ravel())
            vals.append(gain[ai, alt].ravel())
            offset += ai.size
        else:
            alt, ai = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
            rows.append(np.repeat(offset + alt.ravel(), J.shape[1]))
            cols.append(J[ai.ravel()].ravel())
            vals.append(gain[ai.ravel(), alt.ravel()].ravel())
            offset += k
    D = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(offset, A))
    D.sum_duplicates()
    return D


def _pick_solver(cp, solver, conic: bool) -> str:
    installed = cp.installed_solvers()
    if solver is not None:
        if not isinstance(solver, str) or solver.upper() not in installed:
            raise ValueError(f"The 'solver' parameter of {_FUNC} must be one of the installed cvxpy solvers "
                             f"{installed}. Got {solver!r} instead.")
        return solver.upper()
    order = ("CLARABEL", "SCS") if conic else ("HIGHS", "CLARABEL", "SCS")
    for name in order:
        if name in installed:
            return name
    raise ValueError(f"{_FUNC} needs one of the cvxpy solvers {list(order)} for this program; installed: "
                     f"{installed}. Install one, e.g. pip install clarabel.")


def solve_correlated(game: NormalFormGame, *, kind: str = "ce", objective: str | Callable = "welfare",
                     solver: str | None = None, tol: float = 1e-7) -> CorrelatedResult:
    """A correlated (``kind="ce"``) or coarse correlated (``"cce"``) equilibrium, chosen by an objective.

    Parameters
    ----------
    game : NormalFormGame
        Any number of players; payoffs are maximised.
    kind : {"ce", "cce"}
    objective : {"welfare", "entropy", "none"} or callable
        ``"welfare"``: maximise the sum of expected payoffs (a linear program).  ``"entropy"``:
        maximise the entropy of the law (exponential cone).  ``"none"``: any feasible point.
        A callable ``f(mu, game)`` receives the cvxpy variable ``mu`` (joint actions in C order)
        and returns a concave expression to maximise.
    solver : str, optional
        A cvxpy solver name; by default HiGHS for linear objectives and Clarabel for conic ones
        (recorded in ``params["solver"]``).
    tol : float, default 1e-7
        ``success`` needs the largest deviation gain below ``tol`` times the payoff range.

    Returns
    -------
    CorrelatedResult

    Examples
    --------
    Aumann's chicken (row payoffs ``[[6, 2], [7, 0]]``, chicken first): the welfare-maximising
    CE recommends (chicken, chicken) half the time and each asymmetric outcome a quarter, above
    every Nash equilibrium's welfare:

    >>> import numpy as np, rqe
    >>> chicken = rqe.NormalFormGame([[[6, 2], [7, 0]], [[6, 7], [2, 0]]])
    >>> res = rqe.solve_correlated(chicken)
    >>> res.success, np.round(res.distribution, 4).tolist(), round(float(res.payoffs.sum()), 4)
    (True, [[0.5, 0.25], [0.25, 0.0]], 10.5)
    >>> res.regret < 1e-7
    True
    """
    import cvxpy as cp

    if not isinstance(game, NormalFormGame):
        raise TypeError(f"The 'game' parameter of {_FUNC} must be a rqe.NormalFormGame. Got "
                        f"{type(game).__name__} instead.")
    choice(kind, KINDS, name="kind", func=_FUNC)
    if not callable(objective):
        choice(objective, OBJECTIVES, name="objective", func=_FUNC)
    tol = positive_float(tol, name="tol", func=_FUNC)
    n = game.n_actions
    A = int(np.prod(n))
    if A > _MAX_JOINT:
        raise ValueError(f"{_FUNC}: the game has {A} joint actions; the program is limited to {_MAX_JOINT} "
                         "(its variables and constraints grow with the number of joint actions).")
    D = deviation_matrix(game, kind=kind)
    U = np.stack([np.asarray(p, float).ravel() for p in game.payoffs])          # (N, A)
    scale = max(float(np.ptp(U)), 1e-300)
    mu = cp.Variable(A, nonneg=True)
    constraints = [cp.sum(mu) == 1, (D / scale) @ mu <= 0]
    if callable(objective):
        target, name, conic = objective(mu, game), getattr(objective, "__name__", "callable"), True
    elif objective == "welfare":
        target, name, conic = (U.sum(axis=0) / scale) @ mu, "welfare", False
    elif objective == "entropy":
        target, name, conic = cp.sum(cp.entr(mu)), "entropy", True
    else:
        target, name, conic = cp.Constant(0.0), "none", False
    used = _pick_solver(cp, solver, conic)
    problem = cp.Problem(cp.Maximize(target), constraints)
    try:
        problem.solve(solver=used)
        solver_status = problem.status
    except cp.error.SolverError as exc:
        solver_status = f"solver error: {exc}"
    raw = mu.value
    params = {"objective": name, "solver": used, "solver_status": solver_status, "tol": tol}
    if raw is None:
        return CorrelatedResult(message=f"The solver {used} returned no point ({solver_status}). Try another "
                                "solver (solver=...).", success=False, distribution=np.full(n, np.nan),
                                marginals=tuple(np.full(k, np.nan) for k in n), payoffs=np.full(len(n), np.nan),
                                regret=np.inf, status=2, method=kind, params=params)
    dist = np.clip(np.asarray(raw, float), 0.0, None)
    dist /= dist.sum()
    regret = max(float(np.max(D @ dist, initial=0.0)), 0.0)
    payoffs = U @ dist
    shaped = dist.reshape(n)
    marginals = tuple(shaped.sum(axis=tuple(j for j in range(len(n)) if j != i)) for i in range(len(n)))
    ok = solver_status in ("optimal", "optimal_inaccurate") and regret <= tol * scale
    if ok:
        message = f"Solved by {used}: largest deviation gain {regret:.1e} (payoff range {scale:.3g})."
    else:
        message = (f"{used} returned status {solver_status!r} and a largest deviation gain {regret:.1e} > tol * range "
                   f"= {tol * scale:.1e}. Try another solver (solver=...) or a looser tol.")
    return CorrelatedResult(message=message, success=bool(ok), distribution=shaped, marginals=marginals,
                            payoffs=payoffs, regret=regret, status=0 if ok else 2, method=kind, params=params)
