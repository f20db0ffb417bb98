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
from rqe.solvers._iterate import newton
from rqe.solvers._system import RQESystem
from rqe.solvers.rqe import homotopy

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


def payoff_range(game: NormalFormGame) -> float:
    """Largest minus smallest payoff of any player (1 for a constant game)."""
    r = float(np.ptp(game.payoffs))
    return r if r > 0 else 1.0


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
            s = float(np.exp(np.mean([np.log(payoff_range(games[g])) for g in {g for g, _ in slots}])))
            shift = _SCALE_POWER[kind] * np.log(s)
            params.append(Param(
                name=f"{prefix}{kind}{suffix}", kind=kind,
                log_bounds=tuple(float(np.log(b) + shift) for b in _BOUNDS[kind]),
                log_box=tuple(float(np.log(b) + shift) for b in _START_BOX[kind]),
                slots=slots))
    return params


# ------------------------------------------------------------------------------------- likelihood
class Likelihood:
    """Negative log-likelihood of one block of games whose parameters are laid out by ``params``.

    Equilibrium selection: continuation.  Each game's RQE (or QRE) is computed by Newton's
    method warm-started at the equilibrium of the previous evaluation, the first one at the
    observed frequencies (shrunk slightly towards uniform play); see :meth:`equilibrium`.
    """

    def __init__(self, games, counts, model, params, *, risk, regularizer):
        self.games, self.counts, self.model, self.params = games, counts, model, params
        self.risk = get_risk("kl" if model == "qre" else risk, func=FUNC)
        self.regularizer = get_regularizer("entropy" if model == "qre" else regularizer, func=FUNC)
        observed = [[(c / c.sum() + 1e-3) / (1 + 1e-3 * len(c)) for c in row] for row in counts]
        self.z_observed = [np.concatenate([np.log(x) for x in row]) for row in observed]
        self.z_last = list(self.z_observed)

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

    def equilibrium(self, g: int, params: dict) -> list | None:
        """The selected equilibrium of game ``g`` (``None`` if no method converges).

        Newton from the last equilibrium computed for this game (continuation along the
        optimiser's path, which starts at the observed frequencies), then Newton from the
        observed frequencies, then the payoff-scale homotopy of :func:`rqe.solve`.
        """
        system = RQESystem(self.games[g], params["tau"], params["epsilon"], self.risk, self.regularizer)
        with np.errstate(all="ignore"):
            # Trial parameters of an optimiser can be extreme; a failed solve is scored as _FAILED.
            for z0 in (self.z_last[g], self.z_observed[g]):
                out = newton(system, z0, tol=SOLVE_TOL, max_iter=50)
                if out.status == 0 and system.residual(out.state) <= SOLVE_TOL:
                    break
            else:
                out = homotopy(system, tol=SOLVE_TOL, max_iter=1000)
                if out.status != 0 or not system.residual(out.state) <= SOLVE_TOL:
                    return None
        self.z_last[g] = np.concatenate(out.state.log_x)
        return [np.exp(lx) for lx in out.state.log_x]

    def predict(self, theta: np.ndarray) -> list | None:
        """Predicted strategies ``x[g][i]`` at ``theta`` (log-parameters), or ``None`` on failure."""
        out = []
        for g, params in enumerate(self.per_player(theta)):
            x = self.equilibrium(g, params)
            if x is None:
                return None
            out.append([np.asarray(v, dtype=float) for v in x])
        return out

    def game_loglik(self, predicted: list) -> np.ndarray:
        """Log-likelihood kernel ``sum_i sum_a c log x`` of each game."""
        return np.array([sum(float(np.sum(xlogy(c, np.maximum(x, _FLOOR)))) for c, x in zip(crow, xrow))
                         for crow, xrow in zip(self.counts, predicted)])

    def nll(self, theta: np.ndarray) -> float:
        predicted = self.predict(theta)
        return _FAILED if predicted is None else -float(self.game_loglik(predicted).sum())

    def nll_and_grad(self, theta: np.ndarray, h: float = 1e-5) -> tuple[float, np.ndarray]:
        """Value and central-difference gradient (the solver's 1e-10 residual needs steps >> 1e-8)."""
        f = self.nll(theta)
        grad = np.empty_like(theta)
        for k in range(len(theta)):
            e = np.zeros_like(theta)
            e[k] = h
            grad[k] = (self.nll(theta + e) - self.nll(theta - e)) / (2 * h)
        return f, grad

    def flat_probs(self, theta: np.ndarray) -> np.ndarray | None:
        predicted = self.predict(theta)
        return None if predicted is None else np.concatenate([x for row in predicted for x in row])

    def fisher(self, theta: np.ndarray, free: np.ndarray, h: float = 1e-4) -> np.ndarray | None:
        """Expected information ``sum N_gi grad(x) grad(x)^T / x`` in the free log-parameters."""
        base = self.flat_probs(theta)
        if base is None:
            return None
        cols = []
        for k in np.flatnonzero(free):
            e = np.zeros_like(theta)
            e[k] = h
            up, down = self.flat_probs(theta + e), self.flat_probs(theta - e)
            if up is None or down is None:
                return None
            cols.append((up - down) / (2 * h))
        J = np.array(cols).T
        weights = np.concatenate([np.full(len(c), c.sum()) for row in self.counts for c in row])
        return J.T @ (J * (weights / np.maximum(base, _FLOOR))[:, None])

    def hessian(self, theta: np.ndarray, free: np.ndarray, h: float = 1e-3) -> np.ndarray:
        """Central-difference Hessian of the negative log-likelihood in the free log-parameters."""
        idx = np.flatnonzero(free)
        d = len(idx)
        H = np.empty((d, d))
        f0 = self.nll(theta)

        def at(*steps):
            t = theta.copy()
            for k, s in steps:
                t[idx[k]] += s
            return self.nll(t)

        for a in range(d):
            H[a, a] = (at((a, h)) - 2 * f0 + at((a, -h))) / h ** 2
            for b in range(a):
                H[a, b] = H[b, a] = (at((a, h), (b, h)) - at((a, h), (b, -h)) - at((a, -h), (b, h))
                                     + at((a, -h), (b, -h))) / (4 * h ** 2)
        return H
