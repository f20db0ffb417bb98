"""Maximum-likelihood fits of RQE, logit QRE and Nash to observed play.

Model
-----
In game ``g`` player ``i`` chose action ``a`` ``c[g][i][a]`` times.  A model predicts the
strategies ``x[g][i](theta)`` of one equilibrium and the choices are independent draws from
them, so the log-likelihood is ``sum_{g,i,a} c[g][i][a] log x[g][i][a](theta)`` (the kernel: the
multinomial coefficient, equal for every model of the same data, is left out).

* ``model="rqe"``: per-player ``(epsilon_i, tau_i)`` of :func:`rqe.solve`.
* ``model="qre"``: logit precision ``lambda_i = 1/epsilon_i`` (:func:`rqe.solve_qre`).
* ``model="nash"``: a Nash equilibrium trembled towards uniform play,
  ``(1 - tremble) x + tremble / n_i``, so that the likelihood is finite; no free parameters.
  The game's equilibrium of highest likelihood is used (from :func:`rqe.solve_nash`).

Equilibrium selection (RQE and QRE may have several equilibria): the principal branch.  Each
game's equilibrium is the end of the branch that the payoff-scale homotopy of :func:`rqe.solve`
(``method="homotopy"``) traces from uniform play at payoff scale 0 to the game at scale 1;
scaling payoffs by ``s`` is the same as using ``(s tau_i, epsilon_i / s)``, so the branch leaves
infinite noise without risk aversion.  For the logit QRE this is the principal branch in
``lambda`` (McKelvey and Palfrey 1995), the rule of Gambit's ``logit_estimate``.  The rule
depends only on the parameters, so the likelihood is a function of them: the same parameters
give the same value whatever was evaluated before.  Where the equilibrium is unique the rule
does not matter: at the estimate every equilibrium of each 2x2 game is computed with
:func:`rqe.solve_all`, their number is reported in ``n_equilibria`` and the message says when
another equilibrium would fit a game better.

The gradient is exact up to the solver's tolerance: the implicit function theorem gives the
derivative of the equilibrium, ``dz/dtheta = F_z^{-1} dT/dtheta`` for the fixed-point system
``F(z) = z - T(z) = 0`` of :func:`rqe.solve`, with ``F_z`` its Jacobian.  The optimiser
(L-BFGS-B) works on the log-likelihood per observed choice, so its tolerances do not depend on
how many observations there are (or on counts given in arbitrary units).

Sharing (``share``), for two-action-per-player data from ``G`` games with ``N`` players:

* ``"none"``: every game and every player role has its own parameters (``G * N`` sets);
* ``"roles"``: one set per game, shared by its players (``G`` sets);
* ``"games"``: one set per player role, shared across the games (``N`` sets);
* ``"all"``: one set for every game and role.

A 2x2 game gives two observed frequencies, so the four RQE parameters of ``share="none"`` are
never identified from one game.  Identification is checked at the optimum (Rothenberg 1971:
local identification iff the information matrix is nonsingular): when the smallest eigenvalue of
the expected information in log-parameters is below ``IDENTIFICATION_RTOL`` times the largest,
the fit reports ``identified=False``, the parameters along the flat directions get ``NaN``
estimates, every standard error is ``NaN`` and the message says which parameters to share.

Standard errors come from the observed information (central differences of the exact gradient
of the negative log-likelihood in log-parameters, delta method back to the parameters); ``conf_int`` holds 95%
Wald intervals computed in logs (so they stay positive).  A parameter that ends on its bound
(e.g. ``tau`` at its risk-neutral floor ``1e-4 / s``, ``s`` the payoff range) is reported in
``at_bound`` and has no standard error.

With frequencies instead of counts pass ``n_obs``, the number of observations per player and
game; standard errors shrink like ``1 / sqrt(n_obs)``, so with a pseudo sample size they are
only as meaningful as that number.

References: McKelvey and Palfrey (1995) for the logit QRE likelihood; Rothenberg (1971),
*Identification in parametric models*, Econometrica 39(3); Self and Liang (1987) for the
likelihood-ratio test with a parameter on the boundary.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import block_diag
from scipy.optimize import OptimizeResult, minimize
from scipy.special import xlogy
from scipy.stats import chi2

from rqe._validation import choice, positive_float, positive_int
from rqe.analysis._likelihood import (FUNC, MODELS, SHARES, Likelihood, Param, check_data, check_games,
                                      layout)
from rqe.games.normal_form import NormalFormGame
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers._result import Result, Status
from rqe.solvers.all import solve_all
from rqe.solvers.nash import solve_nash

__all__ = ["fit", "FitResult", "likelihood_ratio_test", "LikelihoodRatioTest"]

IDENTIFICATION_RTOL = 1e-8   # smallest / largest eigenvalue of the information below this: not identified
BOUND_ATOL = 1e-6            # a log-parameter this close to its bound is "at the bound"
GRADIENT_ATOL = 1e-5         # projected gradient of the mean negative log-likelihood accepted at the optimum
SAME_OPTIMUM_ATOL = 1e-6     # starts whose log-likelihoods differ by less reached the same optimum
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class FitResult(Result):
    """A maximum-likelihood fit of an equilibrium model to observed play.

    Attributes
    ----------
    message : str
        What happened: convergence, identification, parameters on bounds, equilibrium multiplicity.
    success : bool
        True when the optimiser converged, the parameters are identified and the observed
        information is positive definite (standard errors available).
    status : Status
        ``SUCCESS``; ``MAX_TIME`` when ``max_time`` ran out; ``MAX_ITER`` when the optimiser
        stopped unconverged; ``NUMERICAL`` when no equilibrium was predicted for some game or the
        parameters are not identified (or their standard errors are not available).
    model, share : str
        As passed to :func:`fit`.
    identified : bool
        False when the information matrix is (near-)singular at the optimum.
    estimates : dict
        Parameter name -> estimate (``NaN`` for parameters along an unidentified direction).
        Names are ``epsilon_1``, ``tau_2``, ``lambda`` ... (``_i`` = player role ``i``, no suffix when
        shared across roles), prefixed by ``"<game>:"`` when free per game.
    std_errors : dict
        Parameter name -> standard error from the observed information (delta method).
    conf_int : dict
        Parameter name -> 95% Wald interval computed in logs.
    loglik : float
        Maximised log-likelihood kernel ``sum c log x``.
    aic, bic : float
        ``2 k - 2 loglik`` and ``k log(n) - 2 loglik`` with ``n`` the total number of observed choices.
    n_params : int
        Number of free parameters ``k``.
    n_obs : float
        Total number of observed choices (counts summed over games and players).
    predicted, observed : tuple
        ``[g][i]``: predicted strategy and observed frequencies of player ``i`` in game ``g``.
    game_loglik : ndarray
        Log-likelihood kernel of each game.
    names : tuple of str
        Labels of the games.
    game_params : tuple of dict
        Per game ``{"epsilon": (...), "tau": (...)}`` at the estimate (empty for Nash), ready for
        :func:`rqe.solve`.
    at_bound : dict
        Parameter name -> ``"lower"`` or ``"upper"`` for estimates on a bound.
    n_equilibria : tuple
        Per game, the number of equilibria at the estimate (2x2 games; ``None`` otherwise).
    start_logliks : tuple
        Per block of jointly fitted parameters, the log-likelihoods reached from each start
        (best first): a spread reveals a multi-modal likelihood.
    cov : ndarray
        Covariance of the identified, interior log-parameters, in the order of ``cov_names``.
    cov_names : tuple of str
    settings : dict
        ``risk``, ``regularizer``, ``tremble``, ``n_obs`` (pseudo sample size or ``None``),
        ``n_starts`` and the equilibrium-selection rule.
    """

    message: str
    success: bool
    status: Status
    model: str
    share: str
    identified: bool
    estimates: dict
    std_errors: dict
    loglik: float
    aic: float
    bic: float
    n_params: int
    n_obs: float
    conf_int: dict = field(repr=False)
    predicted: tuple = field(repr=False)
    observed: tuple = field(repr=False)
    game_loglik: np.ndarray = field(repr=False)
    names: tuple = field(repr=False)
    game_params: tuple = field(repr=False)
    at_bound: dict = field(repr=False)
    n_equilibria: tuple = field(repr=False)
    start_logliks: tuple = field(repr=False)
    cov: np.ndarray = field(repr=False)
    cov_names: tuple = field(repr=False)
    settings: dict = field(repr=False)


@dataclass
class _Block:
    """The fit of one block of games that share parameters."""

    params: list[Param]
    theta: np.ndarray
    lik: Likelihood
    predicted: list | None          # None when some game has no equilibrium at the estimate
    start_logliks: list
    notes: list = field(default_factory=list)
    converged: bool = True
    identified: bool = True
    se_ok: bool = True
    estimates: dict = field(default_factory=dict)
    std_errors: dict = field(default_factory=dict)
    conf_int: dict = field(default_factory=dict)
    at_bound: dict = field(default_factory=dict)
    cov_names: list = field(default_factory=list)
    cov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


class _OutOfTime(Exception):
    """Raised by the objective once ``max_time`` has passed."""


def _minimise(lik: Likelihood, start: np.ndarray, bounds: list, deadline: float | None) -> OptimizeResult:
    """L-BFGS-B from ``start``; past ``deadline`` it stops at the best point evaluated so far."""
    best = {"fun": np.inf, "x": start}

    def objective(theta):
        if deadline is not None and time.monotonic() > deadline:
            raise _OutOfTime
        value, grad = lik.mean_nll_and_grad(theta)
        if value < best["fun"]:
            best.update(fun=value, x=np.array(theta, float))
        return value, grad

    try:
        return minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                        options={"maxiter": 300, "ftol": 1e-13, "gtol": 1e-7})
    except _OutOfTime:
        return OptimizeResult(x=best["x"], fun=best["fun"], success=False, message="max_time ran out")


def _optimise(lik: Likelihood, params: list[Param], first: np.ndarray, n_starts: int, rng,
              deadline: float | None = None) -> tuple:
    lo = np.array([p.log_bounds[0] for p in params])
    hi = np.array([p.log_bounds[1] for p in params])
    box_lo = np.array([p.log_box[0] for p in params])
    box_hi = np.array([p.log_box[1] for p in params])
    starts = [first] + [rng.uniform(box_lo, box_hi) for _ in range(n_starts - 1)]
    runs: list[OptimizeResult] = []
    for s in starts:
        if runs and deadline is not None and time.monotonic() > deadline:
            break
        runs.append(_minimise(lik, s, list(zip(lo, hi)), deadline))
    timed_out = len(runs) < len(starts) or runs[-1].message == "max_time ran out"
    runs.sort(key=lambda r: r.fun)
    return runs[0], [-r.fun * lik.total for r in runs], lo, hi, timed_out


def _fit_block(games, counts, labels, model, params, *, risk, regularizer, first, n_starts, rng,
               deadline: float | None = None, max_time: float | None = None) -> _Block:
    lik = Likelihood(games, counts, model, params, risk=risk, regularizer=regularizer)
    best, logliks, lo, hi, timed_out = _optimise(lik, params, first, n_starts, rng, deadline)
    theta = np.clip(best.x, lo, hi)
    predicted = lik.predict(theta)
    block = _Block(params, theta, lik, predicted, logliks)
    where = f" ({', '.join(labels)})" if len(labels) < 4 else ""
    if predicted is None:
        block.converged = block.identified = block.se_ok = False
        block.notes.append(f"No equilibrium could be computed at the best parameters found{where}.")
        block.estimates = {p.name: np.nan for p in params}
        return block
    names = [p.name for p in params]
    block.estimates = {n: float(np.exp(t)) for n, t in zip(names, theta)}
    low, high = theta - lo <= BOUND_ATOL, hi - theta <= BOUND_ATOL
    block.at_bound = {n: "lower" for n, b in zip(names, low) if b} | {n: "upper" for n, b in zip(names, high) if b}
    free = ~(low | high)
    _, grad = lik.mean_nll_and_grad(theta)
    projected = np.where(low, np.minimum(grad, 0), np.where(high, np.maximum(grad, 0), grad))
    if np.max(np.abs(projected), initial=0.0) > GRADIENT_ATOL:
        block.converged = False
        block.notes.append(f"The optimiser stopped with gradient {np.max(np.abs(projected)):.1e} > "
                           f"{GRADIENT_ATOL:g} per observation{where}: {best.message}. Try more starts "
                           f"(n_starts).")
    if timed_out:
        block.converged = False
        block.notes.append(f"max_time = {max_time:g} s ran out after {len(logliks)} of {n_starts} starts{where}: "
                           "the estimates are the best point found so far. Give it more time.")
    if block.at_bound:
        shown = ", ".join(f"{n} at its {side} bound {block.estimates[n]:.3g}" for n, side in block.at_bound.items())
        block.notes.append(f"{shown}{where}: no standard error (for tau, the lower bound is the risk-neutral limit).")
    block.std_errors = {n: np.nan for n in names}
    block.conf_int = {n: (np.nan, np.nan) for n in names}
    if not free.any():
        return block
    info = lik.fisher(theta, free)
    eig, vec = np.linalg.eigh(info) if info is not None else (np.zeros(1), np.ones((1, 1)))
    free_names = [n for n, f in zip(names, free) if f]
    if eig[0] <= IDENTIFICATION_RTOL * max(eig[-1], 0.0) or eig[-1] <= 0:
        null = vec[:, eig <= IDENTIFICATION_RTOL * max(eig[-1], 0.0)]
        flat = [n for n, row in zip(free_names, null) if np.linalg.norm(row) > 0.01] or free_names
        block.identified = block.se_ok = False
        for n in flat:
            block.estimates[n] = np.nan
        n_data = sum(len(c) - 1 for row in counts for c in row)
        block.notes.append(
            f"Not identified{where}: the information matrix is singular (smallest/largest eigenvalue "
            f"{max(eig[0], 0.0) / max(eig[-1], 1e-300):.1e} <= {IDENTIFICATION_RTOL:g}); {int(free.sum())} free "
            f"parameters for {n_data} independent observed frequencies. Flat directions involve "
            f"{', '.join(flat)} (estimates set to NaN). Share parameters across games (share='games' or 'all') "
            f"or roles (share='roles').")
        return block
    H = lik.hessian(theta, free)
    if H is None:
        block.se_ok = False
        block.notes.append(f"No equilibrium could be computed next to the estimate{where}: no standard errors.")
        return block
    h_eig = np.linalg.eigvalsh(H)
    if h_eig[0] <= 0:
        block.se_ok = False
        block.notes.append(f"The observed information is not positive definite (smallest eigenvalue "
                           f"{h_eig[0]:.2e}){where}: no standard errors.")
        return block
    cov = np.linalg.inv(H)
    se_log = np.sqrt(np.diag(cov))
    for n, t, s in zip(free_names, theta[free], se_log):
        with np.errstate(over="ignore"):  # a tiny sample gives intervals up to inf
            block.std_errors[n] = float(np.exp(t) * s)
            block.conf_int[n] = (float(np.exp(t - _Z95 * s)), float(np.exp(t + _Z95 * s)))
    block.cov_names, block.cov = free_names, cov
    return block


def _equilibrium_check(lik: Likelihood, theta: np.ndarray, game_ll: np.ndarray, labels) -> tuple[list, list]:
    """Count all equilibria of each 2x2 game at the estimate; note better-fitting ones."""
    counts: list[int | None] = []
    notes: list[str] = []
    for g, params in enumerate(lik.per_player(theta)):
        game = lik.games[g]
        if game.n_actions != (2, 2):
            counts.append(None)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eqs = solve_all(game, tau=params["tau"], epsilon=params["epsilon"],
                            risk=lik.risk, regularizer=lik.regularizer)
        counts.append(len(eqs))
        if len(eqs) > 1:
            best = max(_loglik(lik.counts[g], e.strategies) for e in eqs)
            if best > game_ll[g] + SAME_OPTIMUM_ATOL:
                notes.append(f"{labels[g]} has {len(eqs)} equilibria at the estimate; another one fits better "
                             f"(log-likelihood {best:.3f} vs {game_ll[g]:.3f} for the selected one).")
    return counts, notes


def _loglik(counts: list, strategies) -> float:
    """Log-likelihood kernel of one game's counts under ``strategies``."""
    return sum(float(np.sum(xlogy(c, np.maximum(np.asarray(x, dtype=float), 1e-300))))
               for c, x in zip(counts, strategies))


def _normalised(game: NormalFormGame) -> NormalFormGame:
    """The game with each player's payoffs centred and divided by their range.

    Nash equilibria are invariant to a positive affine change of each player's payoffs; this
    keeps the LP and support-enumeration tolerances meaningful for offsets such as ``1e9``.
    """
    payoffs = []
    for u in game.payoffs:
        span = float(np.ptp(u))
        payoffs.append((u - u.mean()) / (span if span > 0 else 1.0))
    return NormalFormGame(payoffs, players=game.players, actions=game.actions)


def _fit_nash(games, counts, tremble, labels):
    predicted, n_eq, notes = [], [], []
    for g, game in enumerate(games):
        eqs = solve_nash(_normalised(game))
        if not eqs.complete:
            notes.append(f"{labels[g]}: {eqs.message}")
        best, best_ll = None, -np.inf
        for e in eqs:
            x = [(1 - tremble) * np.asarray(s, dtype=float) + tremble / len(s) for s in e.strategies]
            ll = _loglik(counts[g], x)
            if ll > best_ll:
                best, best_ll = x, ll
        if best is None:
            notes.append(f"rqe.solve_nash found no equilibrium of {labels[g]}, so it has no likelihood.")
        predicted.append(best)
        n_eq.append(len(eqs))
    return predicted, n_eq, notes


def fit(games, data, *, model: str = "rqe", risk="kl", regularizer="entropy", share: str = "games",
        n_obs=None, tremble: float = 1e-3, n_starts: int = 4, rng=None, start: dict | None = None,
        names=None, max_time: float | None = None) -> FitResult:
    """Fit RQE, logit QRE or Nash to observed play by maximum likelihood.

    See the module docstring (:mod:`rqe.analysis.fitting`) for the likelihood, the equilibrium
    selection rule, the meaning of ``share`` and the identification test.

    Parameters
    ----------
    games : NormalFormGame or sequence of NormalFormGame
    data : sequence
        Action counts: for one game ``[c_1, c_2, ...]`` with ``c_i`` player ``i``'s count vector;
        for several games one such entry per game.  Counts may be non-integer (weights); with
        ``n_obs`` they are frequencies instead (each vector summing to 1).
    model : {"rqe", "qre", "nash"}, default "rqe"
    risk, regularizer
        As for :func:`rqe.solve` (RQE only; the QRE is the entropy-regularised, risk-neutral case).
    share : {"none", "roles", "games", "all"}, default "games"
        Which parameters are common (module docstring).  Ignored by ``model="nash"``.
    n_obs : float, optional
        Observations per player and game behind frequency data: the pseudo sample size.  Counts
        are ``n_obs * frequency``; standard errors, AIC and BIC depend on it.
    tremble : float, default 1e-3
        Nash only: weight of uniform play mixed into the equilibrium, in ``(0, 1)``.
    n_starts : int, default 4
        Optimiser starts per block of jointly fitted parameters: a central point (or ``start``)
        and ``n_starts - 1`` random points, log-uniform in a box scaled by the payoff range.
    rng : numpy.random.Generator or int, optional
        Seed or generator for the random starts.
    start : dict, optional
        Parameter name -> value for the first start (other parameters start at the centre).
    names : sequence of str, optional
        Labels for the games (default ``game1``, ``game2``, ...).
    max_time : float, optional
        Budget in seconds for the optimisation, checked at every likelihood evaluation; when it
        runs out the best point found so far is reported with ``success=False`` and a note.

    Returns
    -------
    FitResult

    Raises
    ------
    TypeError
        If ``games`` is not a game or a sequence of games.
    ValueError
        For malformed data (wrong number of games, players or actions; negative or non-finite
        counts; a player with no observation; frequencies without ``n_obs``) and for invalid options.

    Examples
    --------
    Logit QRE with one precision for both players of Selten and Chmura's game 2, from action
    counts (Gambit's ``logit_estimate`` gives the same lambda):

    >>> import rqe
    >>> game = rqe.NormalFormGame.from_bimatrix([[9, 0], [6, 8]], [[4, 13], [7, 5]])
    >>> res = rqe.fit(game, [[22, 78], [53, 47]], model="qre", share="all", rng=0)
    >>> res.success, round(res.estimates["lambda"], 4), round(res.std_errors["lambda"], 3)
    (True, 0.5717, 0.181)

    Four RQE parameters (two per player) are not identified from the two frequencies of one
    2x2 game; one (epsilon, tau) shared by the players is:

    >>> rqe.fit(game, [[22, 78], [53, 47]], share="none", n_starts=2, rng=0).identified
    False
    >>> res = rqe.fit(game, [[22, 78], [53, 47]], share="all", n_starts=2, rng=0)
    >>> res.identified, {k: round(v, 3) for k, v in res.estimates.items()}
    (True, {'epsilon': 1.875, 'tau': 0.176})

    Frequencies need a stated sample size, e.g. a pseudo sample of 100 choices per player:

    >>> rqe.fit(game, [[0.22, 0.78], [0.53, 0.47]], model="qre", share="all", n_obs=100, rng=0).loglik
    -122.458...
    """
    game_list, labels, single = check_games(games, names)
    choice(model, MODELS, name="model", func=FUNC)
    choice(share, SHARES, name="share", func=FUNC)
    counts = check_data(data, game_list, single, n_obs)
    risk_name = getattr(get_risk(risk, func=FUNC), "name", repr(risk))
    reg_name = getattr(get_regularizer(regularizer, func=FUNC), "name", repr(regularizer))
    n_starts = positive_int(n_starts, name="n_starts", func=FUNC)
    deadline = None if max_time is None else time.monotonic() + positive_float(max_time, name="max_time", func=FUNC)
    if isinstance(tremble, bool) or not isinstance(tremble, (int, float, np.floating)) or not 0 < tremble < 1:
        raise ValueError(f"The 'tremble' parameter of {FUNC} must be a float in (0, 1). Got {tremble!r} instead.")
    if share in ("games", "all") and len({g.n_players for g in game_list}) > 1:
        raise ValueError(f"The 'share' parameter of {FUNC} can be 'games' or 'all' only when every game has the "
                         f"same number of players. Got games with {sorted({g.n_players for g in game_list})} players.")
    generator = np.random.default_rng(rng)
    settings = {"risk": risk_name, "regularizer": reg_name, "tremble": float(tremble),
                "n_obs": None if n_obs is None else float(n_obs), "n_starts": n_starts,
                "selection": "principal branch: payoff-scale homotopy from uniform play"}
    observed = tuple(tuple(c / c.sum() for c in row) for row in counts)
    total = float(sum(c.sum() for row in counts for c in row))

    if model == "nash":
        predicted, n_eq, notes = _fit_nash(game_list, counts, float(tremble), labels)
        found = all(x is not None for x in predicted)
        game_ll = np.array([_loglik(crow, xrow) if xrow is not None else -np.inf
                            for crow, xrow in zip(counts, predicted)])
        loglik = float(game_ll.sum())
        settings["selection"] = "Nash equilibrium of highest likelihood"
        return FitResult(
            message=" ".join([f"Nash equilibrium with tremble {tremble:g} (no free parameters)."] + notes),
            success=found, status=Status.SUCCESS if found else Status.NUMERICAL, model=model, share=share,
            identified=True, estimates={}, std_errors={},
            loglik=loglik, aic=-2 * loglik, bic=-2 * loglik, n_params=0, n_obs=total, conf_int={},
            predicted=tuple(None if x is None else tuple(x) for x in predicted), observed=observed,
            game_loglik=game_ll, names=tuple(labels), game_params=tuple({} for _ in game_list), at_bound={},
            n_equilibria=tuple(n_eq), start_logliks=(), cov=np.zeros((0, 0)), cov_names=(), settings=settings)

    if share in ("none", "roles"):
        blocks_spec = [([g], layout([game_list[g]], model, "games" if share == "none" else "all",
                                    prefix=f"{labels[g]}:")) for g in range(len(game_list))]
    else:
        blocks_spec = [(list(range(len(game_list))), layout(game_list, model, share))]
    known = {p.name for _, ps in blocks_spec for p in ps}
    if start is not None and (not isinstance(start, dict) or not set(start) <= known
                              or not all(np.isfinite(v) and v > 0 for v in start.values())):
        raise ValueError(f"The 'start' parameter of {FUNC} must map parameter names among {sorted(known)} to "
                         f"positive values. Got {start!r} instead.")

    blocks, predicted, game_ll, n_eq = [], [None] * len(game_list), np.zeros(len(game_list)), [None] * len(game_list)
    notes = []
    for idx, params in blocks_spec:
        first = np.array([np.log(start[p.name]) if start and p.name in start else np.mean(p.log_box)
                          for p in params])
        block = _fit_block([game_list[g] for g in idx], [counts[g] for g in idx], [labels[g] for g in idx],
                           model, params, risk=risk, regularizer=regularizer, first=first, n_starts=n_starts,
                           rng=generator, deadline=deadline, max_time=max_time)
        blocks.append(block)
        notes += block.notes
        if block.predicted is None:
            continue
        ll = block.lik.game_loglik(block.predicted)
        eq_counts, eq_notes = _equilibrium_check(block.lik, block.theta, ll, [labels[g] for g in idx])
        notes += eq_notes
        for k, g in enumerate(idx):
            predicted[g], game_ll[g], n_eq[g] = tuple(block.predicted[k]), ll[k], eq_counts[k]

    failed = any(b.predicted is None for b in blocks)
    converged = all(b.converged for b in blocks)
    identified = all(b.identified for b in blocks)
    success = converged and identified and all(b.se_ok for b in blocks) and not failed
    status = (Status.SUCCESS if success else Status.NUMERICAL if failed else
              Status.MAX_TIME if not converged and deadline is not None and time.monotonic() > deadline else
              Status.MAX_ITER if not converged else Status.NUMERICAL)
    k = sum(len(b.params) for b in blocks)
    loglik = -np.inf if failed else float(game_ll.sum())
    spread = [f"{sum(abs(ll - b.start_logliks[0]) <= SAME_OPTIMUM_ATOL for ll in b.start_logliks)}/{n_starts}"
              for b in blocks]
    head = (f"Maximum-likelihood {model.upper()} fit, share={share!r}, {k} parameters: "
            f"{'converged' if converged else 'NOT converged'}"
            + ("" if identified else ", NOT identified")
            + f"; starts reaching the best log-likelihood: {', '.join(spread) if len(spread) < 4 else 'per game ' + ' '.join(spread)}.")
    game_params: list[dict | None] = [None] * len(game_list)
    for block, (idx, _) in zip(blocks, blocks_spec):
        for g, pp in zip(idx, block.lik.per_player(block.theta)):
            game_params[g] = {"epsilon": tuple(map(float, pp["epsilon"])), "tau": tuple(map(float, pp["tau"]))}
    return FitResult(
        message=" ".join([head] + notes), success=success, status=status, model=model, share=share, identified=identified,
        estimates={n: v for b in blocks for n, v in b.estimates.items()},
        std_errors={n: v for b in blocks for n, v in b.std_errors.items()},
        loglik=loglik, aic=2 * k - 2 * loglik, bic=float(k * np.log(total) - 2 * loglik), n_params=k, n_obs=total,
        conf_int={n: v for b in blocks for n, v in b.conf_int.items()},
        predicted=tuple(predicted), observed=observed, game_loglik=game_ll, names=tuple(labels),
        game_params=tuple(game_params), at_bound={n: v for b in blocks for n, v in b.at_bound.items()},
        n_equilibria=tuple(n_eq), start_logliks=tuple(tuple(b.start_logliks) for b in blocks),
        cov=block_diag(*[b.cov for b in blocks]), cov_names=tuple(n for b in blocks for n in b.cov_names),
        settings=settings)


@dataclass(frozen=True)
class LikelihoodRatioTest(Result):
    """Likelihood-ratio test of the logit QRE against the RQE that nests it.

    Attributes
    ----------
    message : str
    statistic : float
        ``2 (loglik_rqe - loglik_qre)`` (clipped at 0).
    df : int
        Difference in the number of free parameters.
    pvalue : float
        ``chi2(df)`` tail probability: conservative, because ``tau = 0`` lies on the boundary
        (the exact null law is a chi-bar-squared mixture of ``chi2(0..df)``, Self and Liang 1987).
    """

    message: str
    statistic: float
    df: int
    pvalue: float


def likelihood_ratio_test(restricted: FitResult, general: FitResult) -> LikelihoodRatioTest:
    """Test a logit QRE fit against an RQE fit of the same data that nests it.

    The RQE nests the logit QRE only with the entropy regulariser (``tau -> 0`` gives
    ``lambda_i = 1/epsilon_i``); with the log-barrier it does not (its ``tau -> 0`` limit is a
    non-logit quantal response), and the test raises: compare such fits by AIC/BIC.  The RQE's
    ``tau`` has a small positive floor (module docstring), so the nesting holds up to that floor.

    Parameters
    ----------
    restricted : FitResult
        ``model="qre"``.
    general : FitResult
        ``model="rqe"`` with ``regularizer="entropy"``, the same data, games and ``share``.

    Returns
    -------
    LikelihoodRatioTest

    Examples
    --------
    >>> import rqe
    >>> from rqe.analysis.fitting import likelihood_ratio_test
    >>> game = rqe.NormalFormGame.from_bimatrix([[9, 0], [6, 8]], [[4, 13], [7, 5]])
    >>> qre = rqe.fit(game, [[22, 78], [53, 47]], model="qre", share="all", rng=0)
    >>> full = rqe.fit(game, [[22, 78], [53, 47]], model="rqe", share="all", rng=0)
    >>> test = likelihood_ratio_test(qre, full)
    >>> test.df, round(test.statistic, 3), round(test.pvalue, 2)
    (1, 1.267, 0.26)
    """
    if not (isinstance(restricted, FitResult) and isinstance(general, FitResult)):
        raise TypeError("rqe.analysis.fitting.likelihood_ratio_test needs two FitResult objects. "
                        f"Got {type(restricted).__name__} and {type(general).__name__} instead.")
    if restricted.model != "qre" or general.model != "rqe" or general.settings["regularizer"] != "entropy":
        raise ValueError(
            "rqe.analysis.fitting.likelihood_ratio_test needs a 'qre' fit nested in an 'rqe' fit with "
            f"regularizer='entropy'. Got model={restricted.model!r} against model={general.model!r} with "
            f"regularizer={general.settings['regularizer']!r}: these are not nested; compare their AIC and BIC.")
    same = (restricted.share == general.share and restricted.names == general.names
            and restricted.n_obs == general.n_obs
            and all(np.allclose(a, b) for ra, rb in zip(restricted.observed, general.observed)
                    for a, b in zip(ra, rb)))
    if not same:
        raise ValueError("rqe.analysis.fitting.likelihood_ratio_test needs fits of the same data, games and share. "
                         f"Got share={restricted.share!r} and {general.share!r}, {restricted.n_obs:g} and "
                         f"{general.n_obs:g} observations.")
    stat = max(0.0, 2.0 * (general.loglik - restricted.loglik))
    df = general.n_params - restricted.n_params
    pvalue = float(chi2.sf(stat, df))
    return LikelihoodRatioTest(
        message=(f"LR test of QRE (tau = 0) within RQE: statistic {stat:.3f} on {df} df, p = {pvalue:.3g} "
                 f"(chi2({df}); conservative since tau = 0 is on the boundary)."),
        statistic=stat, df=df, pvalue=pvalue)
