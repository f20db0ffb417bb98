"""Correlated and coarse correlated equilibria of N-player normal-form games, on cvxpy.

A *correlated equilibrium* (CE; Aumann 1974, *J. Math. Econ.* 1:67-96) is a law ``mu`` over
joint actions such that no player, told its recommended action ``a_i``, gains by playing
``a_i'`` instead:

    sum_{a_-i} mu(a_i, a_-i) [u_i(a_i', a_-i) - u_i(a_i, a_-i)] <= 0     for all i, a_i != a_i'.

A *coarse correlated equilibrium* (CCE; Moulin and Vial 1978, *Int. J. Game Theory*
7:201-221) only asks that no player gains by committing to ``a_i'`` before seeing the
recommendation:

    sum_a mu(a) [u_i(a_i', a_-i) - u_i(a)] <= 0                          for all i, a_i'.

Both sets are polytopes; :func:`solve_correlated` picks a point of them by an objective: the
largest expected welfare (a linear program), the largest entropy (an exponential-cone program:
the max-entropy CE is the "least informative" recommendation device), none (feasibility), a
linear weight per joint action, or any concave cvxpy expression.  The constraint matrix is
assembled sparse and vectorised (:func:`deviation_matrix`), and the certificate (the largest
deviation gain) is recomputed in numpy from the returned law by a second, dense computation,
never read from the solver.

:func:`player_adversary_cce` computes coarse correlated equilibria of the 2N-player game of
players and adversaries behind the RQE (SRPO eqs. 5-6), whose strategies are mixed
strategies, to check numerically the statement of Mazumdar, Panaganti and Shi (ICLR 2025) that
these CCE collapse to the RQE when their tractability condition holds.
"""

from __future__ import annotations

import itertools
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from rqe._exceptions import ConvergenceWarning
from rqe._validation import choice, finite_array, game_of, per_player, positive_float, positive_int
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import get_regularizer
from rqe.risk import KL, ReverseKL, get_risk
from rqe.solvers._result import EquilibriumResult, Result, _plain
from rqe.solvers.rqe import solve

__all__ = ["solve_correlated", "CorrelatedResult", "deviation_matrix", "deviation_gains", "player_adversary_cce",
           "PlayerAdversaryCCE", "simplex_grid", "KINDS", "OBJECTIVES", "MAX_NONZEROS", "MAX_SUPPORT"]

KINDS = ("ce", "cce")
OBJECTIVES = ("welfare", "entropy", "none")
MAX_NONZEROS = 5_000_000
"""Largest number of nonzero deviation coefficients :func:`solve_correlated` accepts (memory of the program)."""
MAX_SUPPORT = 250_000
"""Largest joint grid of the 2N-player game :func:`player_adversary_cce` accepts."""
_LP_SOLVERS = ("HIGHS", "CLARABEL", "SCS", "GUROBI", "MOSEK", "CPLEX", "XPRESS", "COPT", "GLPK", "CBC", "ECOS",
               "SCIPY")
_EXP_SOLVERS = ("CLARABEL", "MOSEK", "SCS", "ECOS", "COPT")
_SCIPY_BACKEND = 100_000   # deviation coefficients above which cvxpy's SciPy canonicalisation backend is used
_FUNC = "rqe.solve_correlated"
_PA_FUNC = "rqe.player_adversary_cce"


@dataclass(frozen=True)
class CorrelatedResult(Result):
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
    nit : int
        Iterations reported by the solver (0 when it reports none).
    method : str
        ``"ce"`` or ``"cce"``.
    params : dict
        ``objective``, ``solver``, ``solver_status``, ``tol``.

    Examples
    --------
    >>> import rqe
    >>> res = rqe.solve_correlated(rqe.games.catalog.matching_pennies())
    >>> res.success, res.method, res.params["solver"], res.distribution.round(4).tolist()
    (True, 'ce', 'HIGHS', [[0.25, 0.25], [0.25, 0.25]])
    """

    message: str
    success: bool
    distribution: np.ndarray = field(repr=False)
    marginals: tuple
    payoffs: np.ndarray
    regret: float
    status: int = 0
    nit: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)


def _nonzeros(n: tuple, kind: str) -> int:
    """Number of coefficients of the deviation matrix before zeros are dropped."""
    joint = int(np.prod(n, dtype=np.int64))
    return joint * int(sum(k - 1 for k in n) if kind == "ce" else sum(n))


def deviation_matrix(game: NormalFormGame, *, kind: str = "ce") -> sp.csr_array:
    """The sparse matrix ``D`` whose rows are the deviation gains: ``mu`` is a CE (CCE) iff ``D @ mu <= 0``.

    Columns are joint actions in C order.  CE rows are ``(i, a_i, a_i')`` with ``a_i != a_i'``
    (``sum_i n_i (n_i - 1)`` rows, each with ``prod_{j != i} n_j`` entries); CCE rows are
    ``(i, a_i')``.  Exact zeros are dropped.

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
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    offset = 0
    for i, k in enumerate(n):
        U = np.asarray(game.own_rows[i], float)                                          # (n_i, A_-i)
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
            alt_grid, ai_grid = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
            rows.append(np.repeat(offset + alt_grid.ravel(), J.shape[1]))
            cols.append(J[ai_grid.ravel()].ravel())
            vals.append(gain[ai_grid.ravel(), alt_grid.ravel()].ravel())
            offset += k
    v, r, c = np.concatenate(vals), np.concatenate(rows), np.concatenate(cols)
    keep = v != 0
    D = sp.csr_array((v[keep], (r[keep], c[keep])), shape=(offset, A))
    D.sum_duplicates()
    return D


def deviation_gains(game: NormalFormGame, distribution, *, kind: str = "ce") -> list[np.ndarray]:
    """Each player's deviation gains under a law over joint actions (the certificate of a CE or CCE).

    Computed densely, independently of :func:`deviation_matrix`.  The law is a CE (CCE) iff no
    gain is positive.

    Parameters
    ----------
    game : NormalFormGame
    distribution : array_like of shape ``game.n_actions``
    kind : {"ce", "cce"}

    Returns
    -------
    list of ndarray
        CE: ``gains[i][a, b]`` is player ``i``'s gain of playing ``b`` when told ``a`` (zero on
        the diagonal); CCE: ``gains[i][b]`` is the gain of committing to ``b``.

    Examples
    --------
    In the prisoner's dilemma, recommending (C, C) is not a CE: told C, defecting gains 2.

    >>> import numpy as np, rqe
    >>> from rqe.solvers.correlated import deviation_gains
    >>> gains = deviation_gains(rqe.games.catalog.prisoners_dilemma(), [[1, 0], [0, 0]])
    >>> gains[0].tolist()
    [[0.0, 2.0], [0.0, 0.0]]
    """
    func = "rqe.solvers.correlated.deviation_gains"
    choice(kind, KINDS, name="kind", func=func)
    distribution = finite_array(distribution, name="distribution", func=func)
    if distribution.shape != game.n_actions:
        raise ValueError(f"The 'distribution' parameter of {func} must have shape {game.n_actions}. "
                         f"Got shape {distribution.shape} instead.")
    out = []
    for i, U in enumerate(game.own_rows):
        mu = np.moveaxis(distribution, i, 0).reshape(U.shape)          # mu[a, rest]
        if kind == "ce":
            M = mu @ U.T                                               # M[a, b] = sum_rest mu[a, rest] u(b, rest)
            out.append(M - np.diag(M)[:, None])
        else:
            out.append(U @ mu.sum(axis=0) - float(np.sum(mu * U)))
    return out


def _supports_exp_cone(name: str) -> bool:
    """Whether the cvxpy solver ``name`` handles exponential cones (True when cvxpy cannot tell)."""
    try:  # cvxpy is optional and slow to import: on first use
        from cvxpy.constraints import ExpCone
        from cvxpy.reductions.solvers.defines import SOLVER_MAP_CONIC
    except ImportError:  # pragma: no cover - depends on cvxpy internals
        return True
    solver = SOLVER_MAP_CONIC.get(name)
    return solver is None or ExpCone in solver.SUPPORTED_CONSTRAINTS


@cache
def _quiet_highs() -> None:
    """Create the process's first ``highspy.Highs`` object with the C-level stdout sent to ``os.devnull``.

    highspy prints a copyright banner the first time a solver object is created in a process
    (before any option such as ``output_flag`` can be set); rqe's solvers never print.
    """
    try:
        import highspy  # optional: on first use
    except ImportError:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _pick_solver(cp, solver, conic: bool) -> str:
    installed = cp.installed_solvers()
    needs = "exponential-cone programs (objective='entropy' or a callable)" if conic else "linear programs"
    order = _EXP_SOLVERS if conic else _LP_SOLVERS
    if solver is not None:
        if not isinstance(solver, str):
            raise TypeError(f"The 'solver' parameter of {_FUNC} must be a cvxpy solver name (str) or None. "
                            f"Got {type(solver).__name__} instead.")
        name = solver.upper()
        if name not in installed:
            raise ValueError(f"The 'solver' parameter of {_FUNC} must be one of the installed cvxpy solvers "
                             f"{installed}. Got {solver!r}, which is not installed.")
        if conic and not _supports_exp_cone(name):
            usable = [s for s in installed if s in _EXP_SOLVERS]
            raise ValueError(f"The 'solver' parameter of {_FUNC} must be a solver for {needs}, such as "
                             f"{usable or list(_EXP_SOLVERS)}. Got {solver!r}, which handles no exponential cone.")
        return name
    for name in order:
        if name in installed:
            return name
    raise ImportError(f"{_FUNC} needs a cvxpy solver for {needs}: one of {list(order)}; none is installed "
                      f"(installed: {installed}). Install one, for example `pip install clarabel` or "
                      "`pip install highspy`.")


def _objective(cp, objective, mu, game, U, scale):
    """The cvxpy expression to maximise, its name, and whether it needs a conic solver."""
    if callable(objective):
        target = objective(mu, game)
        if not isinstance(target, cp.Expression):
            try:
                target = cp.Constant(float(target))
            except (TypeError, ValueError):
                raise TypeError(f"The 'objective' callable of {_FUNC} must return a cvxpy expression. "
                                f"Got {type(target).__name__} instead.") from None
        if target.size != 1 or not target.is_concave():
            raise ValueError(f"The 'objective' callable of {_FUNC} must return a scalar concave cvxpy expression "
                             f"(it is maximised). Got an expression of shape {target.shape} that is "
                             f"{'concave' if target.is_concave() else 'not concave'}.")
        return target, getattr(objective, "__name__", "callable"), not target.is_affine()
    if isinstance(objective, str):
        choice(objective, OBJECTIVES, name="objective", func=_FUNC)
        if objective == "welfare":
            return (U.sum(axis=0) / scale) @ mu, "welfare", False
        if objective == "entropy":
            return cp.sum(cp.entr(mu)), "entropy", True
        return cp.Constant(0.0), "none", False
    weights = np.asarray(objective) if isinstance(objective, (np.ndarray, list, tuple)) else None
    if weights is None:
        raise ValueError(f"The 'objective' parameter of {_FUNC} must be one of {list(OBJECTIVES)}, an array of "
                         f"shape {game.n_actions} (weights per joint action) or a callable. Got {objective!r} "
                         "instead.")
    weights = finite_array(weights, name="objective", func=_FUNC)
    if weights.shape != game.n_actions:
        raise ValueError(f"The 'objective' parameter of {_FUNC}, given as weights, must have shape "
                         f"{game.n_actions} (one per joint action). Got shape {weights.shape} instead.")
    return weights.ravel() @ mu, "weights", False


@dataclass(frozen=True)
class _Program:
    problem: Any     # a cvxpy Problem and Variable (cvxpy is imported on first use)
    mu: Any
    solver: str
    objective: str
    backend: str | None
    scale: float


def build_program(game: NormalFormGame, *, kind: str, objective, solver) -> _Program:
    """The cvxpy problem of :func:`solve_correlated` (arguments already validated), with its solver.

    Large programs are canonicalised with cvxpy's SciPy backend, which compiles a sparse
    deviation matrix of a quarter of a million coefficients about a third faster than the
    default.
    """
    import cvxpy as cp  # optional and slow to import: on first use

    U = np.stack([np.asarray(p, float).ravel() for p in game.payoffs])          # (N, A)
    scale = game.payoff_range
    mu = cp.Variable(U.shape[1], nonneg=True)
    target, name, conic = _objective(cp, objective, mu, game, U, scale)
    used = _pick_solver(cp, solver, conic)
    D = deviation_matrix(game, kind=kind)
    constraints = [cp.sum(mu) == 1]
    if D.nnz:
        constraints.append((D / scale) @ mu <= 0)
    backend = "SCIPY" if D.nnz > _SCIPY_BACKEND else None
    return _Program(cp.Problem(cp.Maximize(target), constraints), mu, used, name, backend, scale)


def solve_correlated(game: NormalFormGame, *, kind: str = "ce", objective: str | Callable | np.ndarray = "welfare",
                     solver: str | None = None, tol: float = 1e-7) -> CorrelatedResult:
    """A correlated (``kind="ce"``) or coarse correlated (``"cce"``) equilibrium, chosen by an objective.

    Parameters
    ----------
    game : NormalFormGame
        Any number of players; payoffs are maximised.
    kind : {"ce", "cce"}
    objective : {"welfare", "entropy", "none"}, array_like or callable
        ``"welfare"``: maximise the sum of expected payoffs (a linear program).  ``"entropy"``:
        maximise the entropy of the law (exponential cone; the maximiser is unique).
        ``"none"``: any feasible point (the solver's).  An array of shape ``game.n_actions``:
        maximise ``sum_a w(a) mu(a)``.  A callable ``f(mu, game)`` receives the cvxpy variable
        ``mu`` (joint actions in C order: ``mu[np.ravel_multi_index(a, game.n_actions)]``) and
        returns a scalar concave cvxpy expression to maximise.
    solver : str, optional
        A cvxpy solver name; by default the first installed of HiGHS, Clarabel, SCS, ... for
        linear objectives and of Clarabel, MOSEK, SCS, ... for conic ones (recorded in
        ``params["solver"]``).
    tol : float, default 1e-7
        ``success`` needs the largest deviation gain below ``tol`` times the payoff range.

    Returns
    -------
    CorrelatedResult
        ``success=False`` (with a :class:`rqe.ConvergenceWarning`) when the solver failed or its
        point violates the constraints by more than ``tol``.

    Raises
    ------
    TypeError
        If ``game`` is not a :class:`~rqe.NormalFormGame`, or a callable objective does not
        return a cvxpy expression.
    ValueError
        For an unknown ``kind`` or ``objective``, weights of the wrong shape, a non-concave
        objective, a solver that is not installed or cannot handle the program, or a game whose
        program has more than :data:`MAX_NONZEROS` deviation coefficients.
    ImportError
        When no installed cvxpy solver can handle the program.

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
    >>> res = rqe.solve_correlated(chicken, objective="entropy")
    >>> res.params["solver"], np.round(res.distribution, 3).tolist()
    ('CLARABEL', [[0.258, 0.297], [0.297, 0.148]])
    """
    import cvxpy as cp  # optional and slow to import: on first use

    game_of(game, NormalFormGame, func=_FUNC)
    choice(kind, KINDS, name="kind", func=_FUNC)
    tol = positive_float(tol, name="tol", func=_FUNC)
    n = game.n_actions
    size = _nonzeros(n, kind)
    if size > MAX_NONZEROS:
        raise ValueError(f"The 'game' parameter of {_FUNC} is too large for the {kind.upper()} program: "
                         f"{int(np.prod(n))} joint actions give {size} deviation coefficients, above the limit "
                         f"MAX_NONZEROS = {MAX_NONZEROS}. Use kind='cce' (fewer constraints) or a smaller game."
                         if kind == "ce" else
                         f"The 'game' parameter of {_FUNC} is too large for the CCE program: {int(np.prod(n))} "
                         f"joint actions give {size} deviation coefficients, above the limit MAX_NONZEROS = "
                         f"{MAX_NONZEROS}.")
    program = build_program(game, kind=kind, objective=objective, solver=solver)
    problem, mu, used, scale = program.problem, program.mu, program.solver, program.scale
    if used == "HIGHS":
        _quiet_highs()
    try:
        problem.solve(solver=used, canon_backend=program.backend)
        solver_status = problem.status
    except cp.error.SolverError as exc:
        solver_status = f"solver error: {exc}"
    raw = mu.value
    stats = getattr(problem, "solver_stats", None)
    nit = int(getattr(stats, "num_iters", None) or 0)
    params = {"objective": program.objective, "solver": used, "solver_status": solver_status, "tol": tol}
    if raw is None:
        message = f"The solver {used} returned no point ({solver_status}). Try another solver (solver=...)."
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
        return CorrelatedResult(message=message, success=False, distribution=np.full(n, np.nan),
                                marginals=tuple(np.full(k, np.nan) for k in n), payoffs=np.full(len(n), np.nan),
                                regret=np.inf, status=2, nit=nit, method=kind, params=params)
    dist = np.clip(np.asarray(raw, float), 0.0, None)
    dist = (dist / dist.sum()).reshape(n)
    regret = max(0.0, max(float(g.max()) for g in deviation_gains(game, dist, kind=kind)))
    payoffs = np.array([float(np.sum(p * dist)) for p in game.payoffs])
    marginals = tuple(dist.sum(axis=tuple(j for j in range(len(n)) if j != i)) for i in range(len(n)))
    ok = solver_status in ("optimal", "optimal_inaccurate") and regret <= tol * scale
    if ok:
        message = (f"Solved by {used} ({solver_status}): largest deviation gain {regret:.1e} "
                   f"(payoff range {scale:.3g}).")
    else:
        message = (f"{used} returned status {solver_status!r} and a largest deviation gain {regret:.1e} > tol * "
                   f"range = {tol * scale:.1e}. Try another solver (solver=...) or a looser tol.")
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return CorrelatedResult(message=message, success=bool(ok), distribution=dist, marginals=marginals,
                            payoffs=payoffs, regret=regret, status=0 if ok else 2, nit=nit, method=kind,
                            params=params)


# --------------------------------------------------------------------------- the 2N-player game
@dataclass(frozen=True)
class PlayerAdversaryCCE(Result):
    """A coarse correlated equilibrium of the game of players and adversaries, against the RQE.

    The four agents of a two-player game are, in this order, player 1 (strategy ``x_1``), its
    adversary (``p_1``, over player 2's actions), player 2 (``x_2``) and its adversary (``p_2``).

    Attributes
    ----------
    message : str
    success : bool
        True when the RQE solve succeeded and ``regret <= tol * payoff range``.
    distribution : ndarray
        The CCE: a law over the joint grid, shape ``(k_1, k_2, k_3, k_4)``, one axis per agent.
    support : tuple of ndarray
        ``support[a]`` of shape ``(k_a, n)``: the mixed strategies agent ``a`` may be told to
        play (a grid of the simplex plus the agent's RQE strategy, which comes last).
    strategies : tuple of ndarray
        Mean of each player's marginal, ``E[x_i]``.
    adversaries : tuple of ndarray
        Mean of each adversary's marginal, ``E[p_i]``.
    spread : float
        ``E[(|x_1 - x_1*|_1 + |x_2 - x_2*|_1) / 2]`` under ``distribution``, where ``x*`` is the
        RQE: the objective maximised over the CCE (0 exactly when the only CCE found is the
        point mass on the RQE).
    distance : float
        ``max_i |E[x_i] - x_i*|_1``: distance of the players' marginals to the RQE.
    regret : float
        Largest gain any of the four agents gets by deviating to *any* mixed strategy (not only
        the grid), recomputed in numpy from ``distribution``.
    equilibrium : EquilibriumResult
        The RQE from :func:`rqe.solve`.
    status : int
        0 solved, 1 cutting-plane iteration limit, 2 LP failure or failed RQE solve.
    nit : int
        Cutting-plane rounds (linear programs solved).
    method : str
    params : dict
        ``tau``, ``epsilon``, ``risk``, ``regularizer``, ``resolution``, ``tol``.

    Examples
    --------
    >>> import rqe
    >>> res = rqe.player_adversary_cce(rqe.games.catalog.stag_hunt(), tau=4.0, epsilon=0.5,
    ...                                risk="kl", regularizer="log_barrier", resolution=3)
    >>> res.success, res.spread < 1e-9, res.distribution.shape
    (True, True, (5, 5, 5, 5))
    """

    message: str
    success: bool
    distribution: np.ndarray = field(repr=False)
    support: tuple = field(repr=False)
    strategies: tuple
    adversaries: tuple = field(repr=False)
    spread: float
    distance: float
    regret: float
    equilibrium: EquilibriumResult = field(repr=False)
    status: int = 0
    nit: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """Plain Python types, ready for ``json.dumps``."""
        return {f.name: (getattr(self, f.name).to_dict() if f.name == "equilibrium" else _plain(getattr(self, f.name)))
                for f in fields(self)}


def simplex_grid(n: int, resolution: int) -> np.ndarray:
    """Interior grid of the simplex: ``(c + 1/2) / (resolution + n/2)`` over the compositions ``c`` of ``resolution``.

    Every point is strictly positive (the penalties and regularisers are finite there).

    Examples
    --------
    >>> from rqe.solvers.correlated import simplex_grid
    >>> simplex_grid(2, 3).tolist()
    [[0.875, 0.125], [0.625, 0.375], [0.375, 0.625], [0.125, 0.875]]
    """
    comps = [c for c in itertools.product(range(resolution + 1), repeat=n) if sum(c) == resolution]
    comps.sort(reverse=True)
    return (np.array(comps, float) + 0.5) / (resolution + n / 2)


class _AgentGame:
    """Payoffs of the four agents on the joint grid, their deviation rows and best responses.

    Spec 2.4: player ``i`` gets ``x_i . A_i p_i - epsilon_i nu(x_i)``; adversary ``i`` gets
    ``-x_i . A_i p_i - D(p_i, x_j) / tau_i``, ``j`` the other player, ``A_i`` player ``i``'s
    own-rows matrix.  Agent ``2i`` is player ``i``, agent ``2i + 1`` its adversary.
    """

    def __init__(self, game, tau, epsilon, risk, regularizer, support):
        self.A = game.own_rows
        self.tau, self.epsilon = tau, epsilon
        self.risk, self.reg = risk, regularizer
        self.support = support
        self.shape = tuple(len(s) for s in support)
        self.F = [self.payoff(a, support[a]) for a in range(4)]

    def _place(self, arr, axes):
        """Broadcast ``arr`` (one dimension per entry of ``axes``, in increasing axis order) to 4-D."""
        shape = [1] * 4
        for ax, size in zip(axes, arr.shape):
            shape[ax] = size
        return arr.reshape(shape)

    def _penalty(self, Q, X):
        """``D(q, x)`` for every row ``q`` of ``Q`` and ``x`` of ``X``: shape ``(len(Q), len(X))``."""
        logQ, logX = np.log(Q), np.log(X)
        return np.array([[self.risk.penalty(lq, lx) for lx in logX] for lq in logQ])

    def payoff(self, agent: int, own: np.ndarray) -> np.ndarray:
        """Agent's payoff when it plays each row of ``own`` (on its axis) and the others the grid."""
        i, adversary = divmod(agent, 2)
        j = 1 - i
        A, S = self.A[i], self.support
        if not adversary:                                         # axes (2i, 2i + 1)
            nu = np.array([self.reg.value(np.log(x)) for x in own])
            value = own @ A @ S[2 * i + 1].T - self.epsilon[i] * nu[:, None]
            return self._place(value, (2 * i, 2 * i + 1))
        bilinear = -self._place(S[2 * i] @ A @ own.T, (2 * i, 2 * i + 1))
        penalty = self._penalty(own, S[2 * j]) / self.tau[i]      # (r, k_xj)
        if 2 * i + 1 < 2 * j:
            return bilinear - self._place(penalty, (2 * i + 1, 2 * j))
        return bilinear - self._place(penalty.T, (2 * j, 2 * i + 1))

    def row(self, agent: int, point: np.ndarray) -> np.ndarray:
        """Gain of switching agent to ``point`` at every joint grid cell (a dense LP row)."""
        return np.broadcast_to(self.payoff(agent, point[None]) - self.F[agent], self.shape).ravel()

    def best_response(self, agent: int, mu: np.ndarray) -> np.ndarray:
        """Agent's best mixed strategy against the law ``mu`` (closed forms of docs/concepts.md)."""
        i, adversary = divmod(agent, 2)
        j = 1 - i
        mean = [np.tensordot(mu.sum(axis=tuple(b for b in range(4) if b != a)), self.support[a], axes=1)
                for a in range(4)]
        if not adversary:
            return np.exp(self.reg.response(self.A[i] @ mean[2 * i + 1], self.epsilon[i]))
        g = mean[2 * i] @ self.A[i]
        marginal = mu.sum(axis=tuple(b for b in range(4) if b != 2 * j))
        # E_mu D(q, x_j) as a function of q: KL(q || exp E log x_j) up to a constant; reverse KL:
        # KL(E x_j || q) up to a constant.
        log_ref = marginal @ np.log(self.support[2 * j]) if isinstance(self.risk, KL) else np.log(mean[2 * j])
        return np.exp(self.risk.adversary(g, log_ref, self.tau[i]))

    def gains(self, mu: np.ndarray) -> tuple[np.ndarray, list]:
        """Each agent's gain from its best response, evaluated directly from the payoffs."""
        best = [self.best_response(a, mu) for a in range(4)]
        return np.array([float(np.sum(self.row(a, b).reshape(self.shape) * mu)) for a, b in enumerate(best)]), best


def player_adversary_cce(game: NormalFormGame, *, tau, epsilon, risk="kl", regularizer="entropy",
                         resolution: int = 4, tol: float = 1e-6, max_iter: int = 100) -> PlayerAdversaryCCE:
    """The coarse correlated equilibrium of the player-adversary game farthest from the RQE.

    The RQE of a two-player game is a Nash equilibrium of a four-agent game (SRPO
    eqs. 5-6): player ``i`` maximises ``x_i . A_i p_i - epsilon_i nu(x_i)`` and its adversary
    ``-x_i . A_i p_i - D(p_i, x_j) / tau_i``.  Mazumdar, Panaganti and Shi (ICLR 2025; read from
    the abstract and the authors' code) state that the coarse correlated
    equilibria of this game collapse to the RQE under their tractability condition, so that
    no-regret learning finds it.  This function measures that claim: it searches, among the
    laws over a grid of mixed strategies (plus the RQE's own strategies) that are CCE against
    deviations to *any* mixed strategy, for the one whose players are farthest from the RQE,
    and reports that spread and the distance of the marginals.

    The program is linear in the law; the continuum of deviations is handled by cutting planes
    (Kelley's method): a linear program (HiGHS) with one constraint per deviation found so
    far (initially every grid point, which includes the RQE strategy), then each agent's exact
    best response to the law (closed forms of docs/concepts.md) is added while it gains more than
    ``tol``.  A cutting-plane LP rather than the equivalent exponential-cone program is used
    because, when the CCE do collapse, the feasible set is a single point and interior-point
    solvers stall.  Since the RQE strategies are deviations from the start, a collapse shows as
    a spread of exactly zero.

    Parameters
    ----------
    game : NormalFormGame
        A two-player game.
    tau : float or array_like of shape (2,)
        Risk aversion, ``> 0`` (the adversary's penalty is ``D / tau``).
    epsilon : float or array_like of shape (2,)
        Temperature, ``> 0``.
    risk : {"kl", "reverse_kl"} or KL or ReverseKL
        Other risk measures have no closed-form best response to a law and are refused.
    regularizer : {"entropy", "log_barrier"} or object
        Any regularizer with the protocol of :mod:`rqe.regularizers`.
    resolution : int, default 4
        Grid of each simplex: the points ``(c + 1/2) / (resolution + n/2)`` for the
        compositions ``c`` of ``resolution`` (:func:`simplex_grid`); 2x2 games get
        ``resolution + 2`` strategies per agent, ``(resolution + 2)^4`` joint cells.
    tol : float, default 1e-6
        Cutting planes stop when no agent gains more than ``tol`` times the payoff range.
    max_iter : int, default 100
        Cap on the linear programs solved.

    Returns
    -------
    PlayerAdversaryCCE

    Raises
    ------
    ValueError
        For a game without two players, a ``tau`` or ``epsilon`` that is not positive, an
        unsupported risk, or a joint grid larger than :data:`MAX_SUPPORT`.

    Examples
    --------
    In the stag hunt with the KL penalty and the log-barrier regulariser the CCE collapse to the
    RQE when ``epsilon * tau = 2`` and spread out when ``epsilon * tau = 0.1``:

    >>> import rqe
    >>> game = rqe.games.catalog.stag_hunt()
    >>> for tau in (4.0, 0.2):
    ...     res = rqe.player_adversary_cce(game, tau=tau, epsilon=0.5, risk="kl",
    ...                                    regularizer="log_barrier", resolution=3)
    ...     print(res.success, round(res.spread, 3), res.regret < 1e-6)
    True 0.0 True
    True 1.077 True
    """
    func = _PA_FUNC
    game_of(game, NormalFormGame, func=func)
    if game.n_players != 2:
        raise ValueError(f"The 'game' parameter of {func} must be a two-player game (its player-adversary game has "
                         f"four agents). Got a game with {game.n_players} players.")
    tau = per_player(tau, 2, name="tau", func=func, low_inclusive=False)
    epsilon = per_player(epsilon, 2, name="epsilon", func=func, low_inclusive=False)
    risk_obj = get_risk(risk, func=func)
    if not isinstance(risk_obj, (KL, ReverseKL)):
        raise ValueError(f"The 'risk' parameter of {func} must be 'kl' or 'reverse_kl' (or rqe.KL() / "
                         f"rqe.ReverseKL()): only they have a closed-form best response to a law. Got {risk!r} "
                         "instead.")
    reg_obj = get_regularizer(regularizer, func=func)
    resolution = positive_int(resolution, name="resolution", func=func)
    tol = positive_float(tol, name="tol", func=func)
    max_iter = positive_int(max_iter, name="max_iter", func=func)
    n1, n2 = game.n_actions
    sizes = [len(simplex_grid(k, resolution)) + 1 for k in (n1, n2, n2, n1)]
    cells = int(np.prod(sizes, dtype=np.int64))
    if cells > MAX_SUPPORT:
        raise ValueError(f"The 'resolution' parameter of {func} gives {cells} joint grid cells for a {n1}x{n2} game, "
                         f"above the limit MAX_SUPPORT = {MAX_SUPPORT}. Use a smaller resolution.")
    params = {"tau": tuple(map(float, tau)), "epsilon": tuple(map(float, epsilon)), "risk": risk_obj.name,
              "regularizer": getattr(reg_obj, "name", repr(reg_obj)), "resolution": resolution, "tol": tol}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        eq = solve(game, tau=tau, epsilon=epsilon, risk=risk_obj, regularizer=reg_obj)
    star = [eq.strategies[0], eq.adversaries[0], eq.strategies[1], eq.adversaries[1]]
    support = tuple(np.vstack([simplex_grid(len(s), resolution), s[None]]) for s in star)
    agents = _AgentGame(game, tau, epsilon, risk_obj, reg_obj, support)
    scale = game.payoff_range
    spread = 0.5 * (np.abs(support[0] - star[0]).sum(axis=1)[:, None, None, None]
                    + np.abs(support[2] - star[2]).sum(axis=1)[None, None, :, None])
    cost = -np.broadcast_to(spread, agents.shape).ravel()
    rows = [agents.row(a, point) / scale for a in range(4) for point in support[a]]
    status, nit, mu, gains = 1, 0, None, np.full(4, np.inf)
    while nit < max_iter:
        nit += 1
        lp = linprog(cost, A_ub=np.array(rows), b_ub=np.zeros(len(rows)), A_eq=np.ones((1, cost.size)), b_eq=[1.0],
                     bounds=(0, None), method="highs")
        if lp.x is None:
            status = 2
            break
        mu = np.clip(lp.x, 0.0, None)
        mu = (mu / mu.sum()).reshape(agents.shape)
        gains, best = agents.gains(mu)
        if gains.max() <= tol * scale:
            status = 0
            break
        rows.extend(agents.row(a, best[a]) / scale for a in range(4) if gains[a] > tol * scale)
    if mu is None:
        mu = np.zeros(agents.shape)
        mu[(-1,) * 4] = 1.0
        gains, _ = agents.gains(mu)
    regret = max(0.0, float(gains.max()))
    means = [np.tensordot(mu.sum(axis=tuple(b for b in range(4) if b != a)), support[a], axes=1) for a in range(4)]
    spread_value = float(np.sum(spread * mu))
    distance = max(float(np.abs(means[0] - star[0]).sum()), float(np.abs(means[2] - star[2]).sum()))
    success = status == 0 and eq.success
    if not eq.success:
        status = 2
        message = f"The RQE solve failed ({eq.message}); the CCE is measured against an uncertified point."
    elif status == 0:
        message = (f"CCE farthest from the RQE on a {'x'.join(map(str, agents.shape))} grid after {nit} cutting-plane "
                   f"round(s): spread {spread_value:.3g}, marginal distance {distance:.3g}, largest deviation gain "
                   f"{regret:.1e}.")
    elif status == 1:
        message = (f"Cutting planes stopped at max_iter={max_iter} with a deviation gain {regret:.1e} > tol * range; "
                   "raise max_iter or tol.")
    else:
        message = f"The linear program failed ({lp.message}); try a smaller resolution."
    if not success:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return PlayerAdversaryCCE(message=message, success=success, distribution=mu, support=support,
                              strategies=(means[0], means[2]), adversaries=(means[1], means[3]), spread=spread_value,
                              distance=distance, regret=regret, equilibrium=eq, status=status, nit=nit,
                              method="cutting_plane/highs", params=params)
