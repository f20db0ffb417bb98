"""Private pieces of :func:`rqe.fit`: input checks, the parameter layout and the likelihood.

The likelihood of a model is the product over games ``g`` and players ``i`` of the
multinomial probabilities of the observed action counts ``c[g][i]`` under the predicted
strategy ``x[g][i](theta)``; only its kernel ``sum c log x`` is computed (the multinomial
coefficient is the same for every model of the same data).  Parameters are optimised in
logarithms, inside bounds that scale with each game's payoff range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

from rqe._validation import finite_array
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers._engine import SCALAR_FAILURES, RQESystem, SmallSystem, homotopy_end, system_for, with_parameters

FUNC = "rqe.fit"
MODELS = ("rqe", "qre", "nash")
SHARES = ("none", "roles", "games", "all")

# Bounds and starting box in units of the payoff range ``s`` of the games a parameter governs:
# epsilon in [1e-2 s, 1e3 s], lambda = 1/epsilon in [1e-3/s, 1e2/s], tau in [1e-4/s, 1e3/s].
# tau * s = 1e-4 is risk-neutral for every practical purpose (the RQE is then the QRE up to ~1e-4).
_BOUNDS = {"epsilon": (1e-2, 1e3), "lambda": (1e-3, 1e2), "tau": (1e-4, 1e3)}
_START_BOX = {"epsilon": (3e-2, 3.0), "lambda": (0.3, 30.0), "tau": (1e-2, 10.0)}
_SCALE_POWER = {"epsilon": 1.0, "lambda": -1.0, "tau": -1.0}
_FAILED = 1e12           # negative log-likelihood returned when an equilibrium cannot be computed
_FLOOR = 1e-300          # probabilities are floored here before taking logarithms
SOLVE_TOL = 1e-10        # residual of every equilibrium computed for the likelihood
_FREQ_ATOL = 1e-6        # frequencies (with n_obs) must sum to one within this
_TRACE_STEPS = 1000      # cap on the steps of each principal-branch trace
_PARAM_STEP = 1e-5       # central-difference step in a log-parameter for dT/dtheta (map only, no solve)
_MEMO_SIZE = 64          # parameter points whose equilibria are kept
# principal_branch: natural continuation in the payoff scale s (falls back to the homotopy)
_FIRST_STEP = 0.25       # first step in s
_MIN_STEP = 1.0 / 64     # smallest step in s before giving up
_BRANCH_STEPS = 200      # cap on continuation steps
_CORRECTOR_ITERS = 6     # cap on Newton steps per corrector
_CONTRACTION = 0.5       # each Newton step at most this fraction of the previous one
_MAX_CORRECTION = 0.25   # corrector displacement (max |log x| change) at most this fraction of the
_NEAR = 0.5             # predictor's, or at most this
_SCALE_STEP = 1e-6       # central-difference step in s for dT/ds
_LOG_TOL = 1e-7          # corrector tolerance (max |F|, log space) at intermediate scales


# ------------------------------------------------------------------------------------- inputs
def check_games(games, names) -> tuple[list[NormalFormGame], list[str], bool]:
    """Return the games as a list, their labels, and whether a single game was given."""
    single = isinstance(games, NormalFormGame)
    seq = [games] if single else games
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__") or len(seq) == 0 or not all(
            isinstance(g, NormalFormGame) for g in seq):
        raise TypeError(f"The 'games' parameter of {FUNC} must be a rqe.NormalFormGame or a non-empty sequence "
                        f"of them. Got {type(games).__name__} instead.")
    seq = list(seq)
    if names is None:
        labels = [f"game{k + 1}" for k in range(len(seq))] if len(seq) > 1 else ["game"]
    else:
        labels = [str(n) for n in names] if not isinstance(names, str) else [names]
        if len(labels) != len(seq) or len(set(labels)) != len(labels):
            raise ValueError(f"The 'names' parameter of {FUNC} must hold {len(seq)} distinct labels, one per game. "
                             f"Got {names!r} instead.")
    return seq, labels, single


def check_data(data, games: list[NormalFormGame], single: bool, n_obs) -> list[list[np.ndarray]]:
    """Validate the observations and return action counts ``counts[g][i]`` as float arrays."""
    per_game = [data] if single else data
    expected = ("[counts_1, counts_2, ...] (one vector of action counts per player)" if single else
                "one entry per game, each a sequence of per-player action-count vectors")
    if isinstance(per_game, (str, bytes)) or not hasattr(per_game, "__len__") or len(per_game) != len(games):
        got = f"{len(per_game)} entries for {len(games)} games" if hasattr(per_game, "__len__") else repr(data)
        raise ValueError(f"The 'data' parameter of {FUNC} must be {expected}. Got {got} instead.")
    counts = []
    for g, (game, obs) in enumerate(zip(games, per_game)):
        if isinstance(obs, (str, bytes)) or not hasattr(obs, "__len__") or len(obs) != game.n_players:
            raise ValueError(f"The 'data' parameter of {FUNC} must hold {game.n_players} action-count vectors for "
                             f"game {g} (one per player). Got {obs!r} instead.")
        row = []
        for i, c in enumerate(obs):
            c = finite_array(c, name="data", func=FUNC)
            if c.shape != (game.n_actions[i],):
                raise ValueError(f"The 'data' parameter of {FUNC} must hold, for player {i} of game {g}, a vector "
                                 f"of {game.n_actions[i]} counts. Got an array of shape {c.shape} instead.")
            if np.any(c < 0):
                raise ValueError(f"The 'data' parameter of {FUNC} must hold nonnegative counts. "
                                 f"Got {c.tolist()} for player {i} of game {g} instead.")
            if c.sum() <= 0:
                raise ValueError(f"The 'data' parameter of {FUNC} must hold at least one observation per player. "
                                 f"Got all zeros for player {i} of game {g} instead.")
            row.append(c)
        counts.append(row)
    flat = [c for row in counts for c in row]
    if n_obs is None:
        if all(abs(c.sum() - 1.0) <= _FREQ_ATOL for c in flat) and any(np.any(c != np.round(c)) for c in flat):
            raise ValueError(f"The 'data' parameter of {FUNC} looks like frequencies (every vector sums to 1). "
                             f"Pass counts, or frequencies with a stated sample size n_obs (e.g. n_obs=100).")
        return counts
    if isinstance(n_obs, bool) or not isinstance(n_obs, (int, float, np.integer, np.floating)) or not (
            np.isfinite(n_obs) and n_obs > 0):
        raise ValueError(f"The 'n_obs' parameter of {FUNC} must be None or a float in (0, inf). Got {n_obs!r} instead.")
    bad = [c.tolist() for c in flat if abs(c.sum() - 1.0) > _FREQ_ATOL]
    if bad:
        raise ValueError(f"With n_obs given, the 'data' parameter of {FUNC} must hold frequencies, each vector "
                         f"summing to 1. Got {bad[0]} instead.")
    return [[float(n_obs) * c for c in row] for row in counts]


# ------------------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Param:
    """One free parameter: its name, kind, bounds (in logs) and the (game, player) slots it sets."""

    name: str
    kind: str
    log_bounds: tuple[float, float]
    log_box: tuple[float, float]
    slots: tuple[tuple[int, int], ...]


def layout(games: list[NormalFormGame], model: str, share: str, prefix: str = "") -> list[Param]:
    """Parameters of ``model`` for ``games`` when shared across roles and games as ``share`` says.

    ``share`` here is ``"games"`` (one set per player role) or ``"all"`` (one set); ``fit`` reduces
    ``"none"`` and ``"roles"`` to these on one game at a time.
    """
    kinds = {"rqe": ("epsilon", "tau"), "qre": ("lambda",), "nash": ()}[model]
    n_players = games[0].n_players
    groups = ([(f"_{i + 1}", tuple((g, i) for g in range(len(games)))) for i in range(n_players)]
              if share == "games" else
              [("", tuple((g, i) for g in range(len(games)) for i in range(games[g].n_players)))])
    params = []
    for kind in kinds:
        for suffix, slots in groups:
            s = float(np.exp(np.mean([np.log(games[g].payoff_range) for g in {g for g, _ in slots}])))
            shift = _SCALE_POWER[kind] * np.log(s)
            params.append(Param(
                name=f"{prefix}{kind}{suffix}", kind=kind,
                log_bounds=tuple(float(np.log(b) + shift) for b in _BOUNDS[kind]),
                log_box=tuple(float(np.log(b) + shift) for b in _START_BOX[kind]),
                slots=slots))
    return params


# ------------------------------------------------------------------------------------- selection
def _corrector(system: RQESystem | SmallSystem, z: np.ndarray, tol: float):
    """Plain Newton steps from ``z``; the state and its Jacobian, or ``None`` unless they contract fast."""
    state = system.evaluate(system.normalize(z))
    previous = np.inf
    for _ in range(_CORRECTOR_ITERS):
        J = system.jacobian(state)
        if system.log_residual(state) <= tol:
            return state, J
        try:
            step = np.linalg.solve(J, -state.F)
        except np.linalg.LinAlgError:
            return None
        size = float(np.max(np.abs(step)))
        if not np.isfinite(size) or size > _CONTRACTION * previous:
            return None
        previous = size
        state = system.evaluate(system.normalize(state.z + step))
    return None


def principal_branch(system: RQESystem | SmallSystem):
    """End at payoff scale 1 of the branch through uniform play at scale 0, or ``None``.

    Natural continuation in the scale ``s``: a predictor from the tangent ``dz/ds = F_z^{-1} dT/ds``
    (with the curvature of the last step) and
    plain Newton correctors that must contract quickly and move little (at most ``_NEAR`` in any
    log-probability, or a quarter of the predictor's move).  The Jacobian
    determinant is 1 at ``s = 0`` and changes sign only at a fold or branch point, so a branch
    whose determinant stays positive at every accepted point has no fold there.  ``None`` (then
    the caller uses the pseudo-arclength homotopy) when the determinant turns nonpositive, a
    corrector fails at the smallest step, or the end is not certified to ``SOLVE_TOL``.
    """
    s, h = 0.0, _FIRST_STEP
    current = with_parameters(system, scale=0.0)
    state = current.evaluate(current.uniform())
    J = current.jacobian(state)
    curvature = np.zeros(system.size)
    previous = None  # (s, dz/ds) at the last accepted point
    for _ in range(_BRANCH_STEPS):
        dTds = (with_parameters(system, scale=s + _SCALE_STEP).evaluate(state.z).Tz
                - with_parameters(system, scale=s - _SCALE_STEP).evaluate(state.z).Tz) / (2 * _SCALE_STEP)
        try:
            dzds = np.linalg.solve(J, dTds)
        except np.linalg.LinAlgError:
            return None
        if previous is not None:
            curvature = (dzds - previous[1]) / (s - previous[0])
        while True:
            h = min(h, 1.0 - s)
            target = 1.0 if h >= 1.0 - s else s + h
            trial = with_parameters(system, scale=target) if target < 1.0 else system
            predicted = state.z + h * dzds + 0.5 * h * h * curvature
            found = _corrector(trial, predicted, _LOG_TOL if target < 1.0 else 0.1 * SOLVE_TOL)
            moved = None if found is None else float(np.max(np.abs(found[0].z - predicted)))
            if found is not None and moved <= max(_MAX_CORRECTION * h * float(np.max(np.abs(dzds))), _NEAR):
                break
            h *= 0.5
            if h < _MIN_STEP:
                return None
        state, J = found
        if np.linalg.slogdet(J)[0] <= 0:
            return None
        previous = (s, dzds)
        s = target
        if s >= 1.0:
            return state if trial.residual(state) <= SOLVE_TOL else None
        h *= 2.0
    return None


# ------------------------------------------------------------------------------------- likelihood
@dataclass(frozen=True)
class Evaluation:
    """The selected equilibria at one parameter point and their derivatives.

    ``predicted[g][i]`` is player ``i``'s strategy in game ``g``; ``dlogx[g]`` has shape
    ``(n_g, k)``: the derivative of the concatenated log-strategies of game ``g`` with respect
    to the ``k`` log-parameters (implicit function theorem).
    """

    predicted: list
    dlogx: list


class Likelihood:
    """Negative log-likelihood of one block of games whose parameters are laid out by ``params``.

    Equilibrium selection (a rule that depends only on the parameters, never on the order of
    evaluation): each game's equilibrium is the end of the *principal branch*, traced by the
    payoff-scale homotopy of :func:`rqe.solve` (``method="homotopy"``) from uniform play at
    scale 0 to the game at scale 1.  Scaling the payoffs by ``s`` is the same as using
    ``(s tau_i, epsilon_i / s)``, so the branch starts at infinite noise and no risk aversion;
    for the logit QRE it is the principal branch of McKelvey and Palfrey (1995) in
    ``lambda``, the rule of Gambit's ``logit_estimate``.

    Derivatives come from the implicit function theorem: at a solution of
    ``F(z; theta) = z - T(z; theta) = 0`` the log-strategies move as
    ``dz/dtheta = F_z^{-1} dT/dtheta``, with ``F_z`` the solver's Jacobian and ``dT/dtheta``
    central differences of the closed-form map at fixed ``z`` (no equilibrium is re-solved).
    """

    def __init__(self, games, counts, model, params, *, risk, regularizer):
        self.games, self.counts, self.model, self.params = games, counts, model, params
        self.risk = get_risk("kl" if model == "qre" else risk, func=FUNC)
        self.regularizer = get_regularizer("entropy" if model == "qre" else regularizer, func=FUNC)
        self.flat_counts = [np.concatenate(row) for row in counts]
        self.total = float(sum(c.sum() for c in self.flat_counts))
        self._memo: dict[bytes, Evaluation | None] = {}

    def per_player(self, theta: np.ndarray) -> list[dict]:
        """Per-game ``{"epsilon": array, "tau": array}`` (``lambda`` becomes ``epsilon = 1/lambda``)."""
        out = [{"epsilon": np.ones(g.n_players), "tau": np.zeros(g.n_players)} for g in self.games]
        for p, t in zip(self.params, theta):
            value = float(np.exp(t))
            for g, i in p.slots:
                if p.kind == "lambda":
                    out[g]["epsilon"][i] = 1.0 / value
                else:
                    out[g][p.kind][i] = value
        return out

    def _system(self, g: int, tau, epsilon, general: bool = False) -> RQESystem | SmallSystem:
        """Game ``g``'s system (:func:`rqe.solvers._engine.system_for`): the scalar one for 2x2 games
        with the built-in measures unless ``general``."""
        return system_for(self.games[g], tau, epsilon, self.risk, self.regularizer, general=general)

    def equilibrium(self, g: int, params: dict):
        """The selected equilibrium of game ``g``: ``(system, state)``, or ``None`` if the trace fails.

        The principal branch is first followed by :func:`principal_branch` (cheap while the
        branch is monotone in the payoff scale); where that declines, by the pseudo-arclength
        homotopy of :func:`rqe.solve`, which passes folds.
        """
        system = self._system(g, params["tau"], params["epsilon"])
        try:
            state = principal_branch(system)
        except SCALAR_FAILURES:         # the scalar map left its range: the same trace on RQESystem
            system = self._system(g, params["tau"], params["epsilon"], general=True)
            state = principal_branch(system)
        if state is not None:
            return system, state
        system = self._system(g, params["tau"], params["epsilon"], general=True)
        state = homotopy_end(system, tol=SOLVE_TOL, max_iter=_TRACE_STEPS)
        return None if state is None else (system, state)

    def _dlogx(self, g: int, params: dict, system: RQESystem | SmallSystem, state) -> np.ndarray | None:
        """``dz/dtheta`` of game ``g`` by the implicit function theorem (``None`` if ``F_z`` is singular)."""
        dT = np.zeros((system.size, len(self.params)))
        for k, p in enumerate(self.params):
            players = [i for gg, i in p.slots if gg == g]
            if not players:
                continue
            sides = []
            for sign in (1.0, -1.0):
                tau, eps = params["tau"].copy(), params["epsilon"].copy()
                factor = np.exp(sign * _PARAM_STEP)
                for i in players:
                    if p.kind == "tau":
                        tau[i] *= factor
                    elif p.kind == "epsilon":
                        eps[i] *= factor
                    else:  # lambda = 1 / epsilon
                        eps[i] /= factor
                try:
                    sides.append(with_parameters(system, tau=tau, epsilon=eps).evaluate(state.z).Tz)
                except SCALAR_FAILURES:
                    sides.append(self._system(g, tau, eps, general=True).evaluate(state.z).Tz)
            dT[:, k] = (sides[0] - sides[1]) / (2 * _PARAM_STEP)
        try:
            out = np.linalg.solve(system.jacobian(state), dT)
        except np.linalg.LinAlgError:
            return None
        return out if np.all(np.isfinite(out)) else None

    def evaluate(self, theta: np.ndarray) -> Evaluation | None:
        """Selected equilibria and their derivatives at ``theta`` (log-parameters); ``None`` on failure.

        A pure function of ``theta`` (results are memoised by value).
        """
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        if key in self._memo:
            return self._memo[key]
        predicted, dlogx = [], []
        with np.errstate(all="ignore"):
            # Trial parameters of an optimiser can be extreme; a failed trace is scored as _FAILED.
            for g, params in enumerate(self.per_player(theta)):
                found = self.equilibrium(g, params)
                d = None if found is None else self._dlogx(g, params, *found)
                if d is None:
                    predicted = None
                    break
                predicted.append([np.exp(lx) for lx in found[1].log_x])
                dlogx.append(d)
        result = None if predicted is None else Evaluation(predicted, dlogx)
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = result
        return result

    def predict(self, theta: np.ndarray) -> list | None:
        """Predicted strategies ``x[g][i]`` at ``theta`` (log-parameters), or ``None`` on failure."""
        ev = self.evaluate(theta)
        return None if ev is None else ev.predicted

    def game_loglik(self, predicted: list) -> np.ndarray:
        """Log-likelihood kernel ``sum_i sum_a c log x`` of each game."""
        return np.array([sum(float(np.sum(xlogy(c, np.maximum(x, _FLOOR)))) for c, x in zip(crow, xrow))
                         for crow, xrow in zip(self.counts, predicted)])

    def nll_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-likelihood kernel and its exact gradient (implicit function theorem)."""
        ev = self.evaluate(theta)
        if ev is None:
            return _FAILED, np.zeros(len(theta))
        grad = -sum(c @ d for c, d in zip(self.flat_counts, ev.dlogx))
        return -float(self.game_loglik(ev.predicted).sum()), np.asarray(grad, dtype=float)

    def mean_nll_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """:meth:`nll_and_grad` per observed choice: the optimiser's objective, free of the data's scale."""
        f, grad = self.nll_and_grad(theta)
        return (f, grad) if f == _FAILED else (f / self.total, grad / self.total)

    def fisher(self, theta: np.ndarray, free: np.ndarray) -> np.ndarray | None:
        """Expected information ``sum N_gi grad(x) grad(x)^T / x`` in the free log-parameters."""
        ev = self.evaluate(theta)
        if ev is None:
            return None
        x = np.concatenate([v for row in ev.predicted for v in row])
        J = x[:, None] * np.vstack(ev.dlogx)[:, free]
        weights = np.concatenate([np.full(len(c), c.sum()) for row in self.counts for c in row])
        return J.T @ (J * (weights / np.maximum(x, _FLOOR))[:, None])

    def hessian(self, theta: np.ndarray, free: np.ndarray, h: float = 1e-4) -> np.ndarray | None:
        """Observed information: central differences of the exact gradient in the free log-parameters."""
        idx = np.flatnonzero(free)
        cols = []
        for k in idx:
            e = np.zeros_like(theta)
            e[k] = h
            (fp, gp), (fm, gm) = self.nll_and_grad(theta + e), self.nll_and_grad(theta - e)
            if _FAILED in (fp, fm):
                return None
            cols.append((gp[idx] - gm[idx]) / (2 * h))
        H = np.array(cols)
        return 0.5 * (H + H.T)
