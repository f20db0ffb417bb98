"""SRPO and IPPO in exact form: populations of tabular learners trained by exact policy gradients.

Qu, Zhang, Lanzetti and Mazumdar, *Training Generalizable Collaborative Agents via Strategic
Risk Aversion* (arXiv 2602.21515), section 5 and Algorithm 1: each agent ``i`` is trained
against an adversary that takes its partners' seats and minimises the agent's return plus
``KL(adversary || partners) / tau_i`` (eqs. 4-6, joint form eq. 21), with an entropy bonus
``epsilon_i``.  Here every quantity is exact (derived from SRPO eqs. 4-6 and 21): tabular softmax policies (time-indexed
for a finite horizon), the critic by dynamic programming, and either the closed-form adversary
``psi ~ q exp(-tau Qbar)`` or a learned one.  IPPO is ``tau = 0`` (the adversary is the partner).

Updates of the hero's logits ``theta`` (all players simultaneously, all steps at once):

* ``"npg"``: natural policy gradient for softmax policies, i.e. damped soft policy iteration
  ``theta <- (1 - lr) theta + (lr / epsilon) Qhero`` (Cen, Cheng, Chen, Wei and Chi 2021);
* ``"pg"``: vanilla softmax policy gradient ``theta <- theta + lr d(s) pi (Qhero - epsilon log pi - V)``
  with ``d`` the state occupancy under the agent and its adversary (the exact gradient of the
  agent's value at the initial law).

A learned adversary takes KL-regularised mirror steps ``log psi <- (1 - b) log psi + b (log q - tau Qbar)``
(normalised; ``b = adversary_lr``); its fixed point is the exact adversary.  The fixed points
of the dynamics are the KL + entropy RQE (matrix games) and ``rqe.solve_markov(...,
value="regularized")`` (tabular games); whether a run reaches one is decided per seed by the
core certificates, never assumed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from rqe._exceptions import ConvergenceWarning
from rqe._validation import choice, per_player, positive_float, positive_int
from rqe.games.markov import MarkovGame
from rqe.games.normal_form import NormalFormGame
from rqe.learning._tabular import Tabular, normalize, sum_last
from rqe.markov import best_response, evaluate
from rqe.solvers._result import Result
from rqe.solvers.rqe import build_system

__all__ = ["srpo", "ippo", "LearningResult"]

UPDATES = ("npg", "pg")
ADVERSARIES = ("exact", "learned")
_STALL = 5e-14          # early stop: no seed's policy moves by more than this (L1) in an iteration
_POLICY_TOL = 1e-8      # rows of an initial policy must sum to 1 within this
_STUCK_SPAN = 20        # iterations between the compared changes before a run is called stuck
_STUCK_RATIO = 0.9      # ... and the change must have shrunk by less than this factor
_CHECK_TOL = 1e-9       # learner's values against rqe.markov.evaluate, relative to the return scale


@dataclass(frozen=True)
class LearningResult(Result):
    """A population of agents trained by exact SRPO or IPPO, one pair of policies per seed.

    Attributes
    ----------
    message : str
        How many seeds converged; which did not, and what to try.  Unconverged seeds are not
        results: every table and figure of :mod:`rqe.learning` flags them.
    success : bool
        True when every seed converged.
    status : int
        0 every seed converged, 1 some seeds did not (iteration limit or a cycle), 2 a
        discounted evaluation or the dynamics became non-finite.
    policies : tuple of ndarray
        ``policies[i]``: player ``i``'s final policy per seed, ``(K, n_i)`` for a normal-form
        game, ``(K, H, S, n_i)`` for a finite horizon, ``(K, S, n_i)`` for a discounted game.
    adversaries : tuple of ndarray
        Player ``i``'s adversary at the end (exact response to the final profile, or the
        learned one), a law over the others' joint actions: ``(K, A_-i)``, ``(K, H, S, A_-i)``
        or ``(K, S, A_-i)``.
    values : ndarray
        ``(K, N)``: each player's learning objective at the initial law, the regularised
        risk-adjusted value ``U^tau - epsilon nu`` (``value="regularized"`` of
        :func:`rqe.solve_markov`).
    returns : ndarray
        ``(K, N)``: expected returns of each seed's trained pair (no risk, no entropy).
    converged : ndarray
        ``(K,)`` booleans: the last change is at most ``tol`` and the certificate is within
        ``tol`` (``residual`` for a normal-form game; ``exploitability / scale`` for a Markov
        game, ``scale`` the largest possible return spread).
    last_change : ndarray
        ``(K,)``: ``max_i max_{h,s} ||pi_i^t - pi_i^{t-1}||_1`` at the last iteration.
    residual, gap : ndarray or None
        Normal-form games: per seed, the fixed-point residual ``max_i ||x_i - QR_i(x)||_1`` and
        the duality gap of :func:`rqe.solve`'s certificate (``build_system``), at the learner's
        ``tau`` and ``epsilon`` (KL + entropy).
    exploitability : ndarray or None
        Markov games: ``(K, N)``, :func:`rqe.markov.exploitability` of each seed's profile.
    history : dict
        Sub-sampled record: ``"iteration"`` ``(R,)``, ``"change"`` ``(R, K)``, ``"values"``
        ``(R, K, N)`` and, for normal-form games, ``"policies"`` (tuple of ``(R, K, n_i)``).
    nit : int
        Iterations run (fewer than ``iters`` when nothing moved any more).
    method : str
    label : str
        ``"IPPO"`` or ``"SRPO"`` unless given (used by :func:`rqe.learning.cross_play`).
    params : dict
    """

    message: str
    success: bool
    status: int
    policies: tuple = field(repr=False)
    adversaries: tuple = field(repr=False)
    values: np.ndarray = field(repr=False)
    returns: np.ndarray = field(repr=False)
    converged: np.ndarray = field(repr=False)
    last_change: np.ndarray = field(repr=False)
    residual: np.ndarray | None = field(default=None, repr=False)
    gap: np.ndarray | None = field(default=None, repr=False)
    exploitability: np.ndarray | None = field(default=None, repr=False)
    history: dict = field(default_factory=dict, repr=False)
    nit: int = 0
    method: str = ""
    label: str = ""
    params: dict = field(default_factory=dict, repr=False)

    @property
    def n_seeds(self) -> int:
        return int(self.converged.shape[0])

    def profile(self, k: int) -> tuple:
        """Seed ``k``'s policies, one per player, in the game's own layout."""
        return tuple(p[k] for p in self.policies)


# ------------------------------------------------------------------------------ validation
def as_markov(game, func: str) -> tuple[MarkovGame, bool]:
    """The Markov form of ``game`` and whether it was a normal-form game."""
    if isinstance(game, NormalFormGame):
        return MarkovGame.from_normal_form(game, horizon=1), True
    if isinstance(game, MarkovGame):
        return game, False
    raise TypeError(f"The 'game' parameter of {func} must be a rqe.NormalFormGame or a rqe.MarkovGame. "
                    f"Got {type(game).__name__} instead.")


def _rng(rng, func: str) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"The 'rng' parameter of {func} must be a numpy.random.Generator, an int seed or None. "
                    f"Got {type(rng).__name__} instead.")


def _initial(tab: Tabular, K: int, init, init_scale: float, rng: np.random.Generator, normal_form: bool,
             func: str) -> np.ndarray:
    """Initial log-policies ``(K, N, T, S, n)``."""
    if init is None:
        return tab.initial_logp(init_scale * rng.standard_normal((K, tab.N, tab.T, tab.S, tab.n)))
    if not isinstance(init, (list, tuple)) or len(init) != tab.N:
        raise ValueError(f"The 'init' parameter of {func} must be a sequence of {tab.N} arrays, one policy per "
                         f"player. Got {type(init).__name__}.")
    layout = (() if normal_form else ((tab.T, tab.S) if tab.finite else (tab.S,)))
    out = np.full((K, tab.N, tab.T, tab.S, tab.n), -np.inf)
    for i, pol in enumerate(init):
        pol = np.asarray(pol, dtype=float)
        want = layout + (tab.sizes[i],)
        if pol.shape == want:
            pol = np.broadcast_to(pol, (K,) + want)
        if pol.shape != (K,) + want:
            raise ValueError(f"The 'init' parameter of {func}: player {i}'s policy must have shape {want} or "
                             f"{(K,) + want} (one per seed). Got {pol.shape}.")
        pol = pol.reshape(K, tab.T, tab.S, tab.sizes[i])
        legal = np.broadcast_to(tab.legal[i, :, :tab.sizes[i]], pol.shape)
        if (not np.all(np.isfinite(pol)) or np.any(pol < 0) or np.any(pol[legal] <= 0) or np.any(pol[~legal] > 0)
                or np.any(np.abs(pol.sum(-1) - 1) > _POLICY_TOL)):
            raise ValueError(f"The 'init' parameter of {func}: player {i}'s policy must hold probability vectors "
                             "that are positive on the legal actions and zero elsewhere.")
        with np.errstate(divide="ignore"):
            out[:, i, ..., :tab.sizes[i]] = np.log(pol)
    return normalize(out)


def _lr(lr, update: str, func: str) -> float:
    lr = positive_float(lr, name="lr", func=func)
    if update == "npg" and lr > 1:
        raise ValueError(f"The 'lr' parameter of {func} must be a float in (0, 1] for update='npg' (the damping of "
                         f"soft policy iteration). Got {lr!r} instead.")
    return lr


# ------------------------------------------------------------------------------ the dynamics
def _records(iters: int, history: int) -> set:
    return set(np.unique(np.round(np.linspace(0, iters - 1, min(history, iters))).astype(int)).tolist())


def _train(tab: Tabular, logp: np.ndarray, *, tau, epsilon, iters, lr, update, adversary, adversary_lr,
           early_stop, history, keep_policies):
    """Run the dynamics on ``logp`` ``(K, N, T, S, n)``; returns the final state, its evaluation and the record."""
    K = logp.shape[0]
    legal = tab.legal[:, None]                                           # (N, 1, S, n)
    learned = adversary == "learned" and bool(np.any(tau > 0))
    logpsi = np.stack([tab.others_log(logp[:, :, t]) for t in range(tab.T)], axis=2) if learned else None
    tau_b = tau[None, :, None, None, None]
    rate = (lr / epsilon)[None, :, None, None, None]
    records = _records(iters, history)
    rec = {"iteration": [], "change": [], "values": []}
    pols = []
    change = np.full(K, np.inf)
    V0, evaluated, nit = None, True, 0
    probs = np.exp(logp)
    for it in range(iters):
        ev = tab.evaluate(logp, tau, epsilon, logpsi, V0)
        evaluated &= ev.evaluated
        if not tab.finite:
            V0 = ev.V[:, 0]
        safe = np.where(legal, logp, 0.0)
        if update == "npg":
            step = (1.0 - lr) * safe + rate * ev.qhero
        else:
            step = safe + lr * tab.policy_gradient(logp, ev, epsilon)
        logp = normalize(np.where(legal, step, -np.inf))
        if learned:
            target = ev.logq - tau_b * ev.qbar
            logpsi = np.where(tau_b > 0, normalize((1.0 - adversary_lr) * np.where(np.isfinite(logpsi), logpsi, 0.0)
                                                   + adversary_lr * target), ev.logq)
        new = np.exp(logp)
        change = sum_last(np.abs(new - probs)).max(axis=(1, 2, 3, 4))
        probs = new
        nit = it + 1
        stop = early_stop and float(np.max(change)) <= _STALL
        if it in records or stop or it == iters - 1:
            rec["iteration"].append(it)
            rec["change"].append(change)
            rec["values"].append(tab.initial_values(ev))
            if keep_policies:
                pols.append(probs[:, :, 0, 0])
        if stop or not np.all(np.isfinite(probs)):
            break
    hist = {k: np.array(v) for k, v in rec.items()}
    if keep_policies:
        stacked = np.array(pols)                                         # (R, K, N, n)
        hist["policies"] = tuple(tab.unpad(stacked[:, :, i], i) for i in range(tab.N))
    final = tab.evaluate(logp, tau, epsilon, logpsi, V0)
    evaluated &= final.evaluated
    return logp, final, change, hist, nit, evaluated


# ------------------------------------------------------------------------------ certificates
def _certify_normal_form(game: NormalFormGame, policies, tau, epsilon, func):
    system, _, _ = build_system(game, tau=tau, epsilon=epsilon, risk="kl", regularizer="entropy", func=func)
    K = policies[0].shape[0]
    residual, gap = np.empty(K), np.empty(K)
    for k in range(K):
        with np.errstate(divide="ignore"):
            z = np.concatenate([np.log(p[k]) for p in policies])
        state = system.evaluate(system.normalize(z))
        residual[k] = system.residual(state)
        gap[k] = float(np.max(system.gaps(state)))
    return residual, gap


def stacked_game(game: MarkovGame, K: int) -> MarkovGame:
    """``K`` independent copies of ``game`` as one Markov game (block-diagonal transitions, states ``k * S + s``).

    The initial law puts ``1/K`` of the mass on each copy, so per-copy quantities are read off
    per-state values.
    """
    P = sp.block_diag([game.transitions] * K, format="csr")
    axis = 2 if game.time_indexed else 1
    R = np.concatenate([np.asarray(game.rewards)] * K, axis=axis)
    legal = [np.concatenate([m] * K) for m in game.legal]
    kw = {"horizon": game.horizon} if game.horizon is not None else {"discount": game.discount}
    return MarkovGame(R, P, initial=np.concatenate([game.initial] * K) / K, legal=legal, **kw)


def _certify_markov(game: MarkovGame, policies, values, tau, epsilon, scale):
    """Per-seed exploitability ``(K, N)`` from :func:`rqe.markov.best_response` on the stacked game.

    Each seed's best-response value is read from the per-state values of one best response in
    the game of all seeds' copies (one dynamic programme per player instead of one per seed);
    the seeds' own values come from the learner's exact evaluation, whose population mean is
    checked against :func:`rqe.markov.evaluate` on the stacked game.  Returns the gains and
    whether every best response and the check succeeded.
    """
    K, S = values.shape[0], game.n_states
    big = stacked_game(game, K)
    axis = 1 if game.horizon is not None else 0
    joined = [np.concatenate(list(p), axis=axis) for p in policies]
    ok = True
    gains = np.empty((K, game.n_players))
    for i in range(game.n_players):
        br = best_response(big, joined, i, tau=tau, epsilon=epsilon)
        ok &= br.success
        per_state = br.values[0] if game.horizon is not None else br.values
        gains[:, i] = per_state.reshape(K, S) @ game.initial - values[:, i]
    check = evaluate(big, joined, tau=tau, epsilon=epsilon)
    ok &= bool(np.all(np.abs(check - values.mean(axis=0)) <= _CHECK_TOL * scale))
    return np.maximum(gains, 0.0), ok


def _stuck(history: dict, bad: np.ndarray) -> bool:
    """True when the policy change of some unconverged seed stopped shrinking (a cycle, not slow progress)."""
    change, its = history["change"], history["iteration"]
    half = len(change) // 2
    if len(change) < 4 or its[-1] - its[half] < _STUCK_SPAN:
        return False
    return bool(np.any(change[-1][bad] > _STUCK_RATIO * change[half][bad]))


def _message(label, converged, last_change, cert, cert_name, tol, nit, iters, status, update, lr, stuck):
    K = len(converged)
    bad = np.flatnonzero(~converged)
    head = f"{label}: {K - bad.size} of {K} seeds converged ({cert_name} and last change <= tol = {tol:g}; {nit} iterations)."
    if status == 2:
        return head + " The dynamics or a discounted evaluation did not stay finite/converge; try a smaller lr."
    if bad.size == 0:
        return head
    shown = ", ".join(f"{k} (change {last_change[k]:.1e}, {cert_name} {cert[k]:.1e})" for k in bad[:8])
    more = "" if bad.size <= 8 else f" and {bad.size - 8} more"
    hint = (f"a smaller lr (the change stopped shrinking: lr={lr:g} may cycle)" if stuck else
            f"more iterations (iters={iters})" + (" or update='npg' (vanilla PG is slow near the boundary)"
                                                   if update == "pg" else ""))
    return (head + f" NOT converged, not results: seed{'s' if bad.size > 1 else ''} {shown}{more}. Try {hint}.")


# ------------------------------------------------------------------------------ public API
def srpo(game, *, tau, epsilon, seeds: int = 20, iters: int = 2000, lr: float = 0.1, update: str = "npg",
         adversary: str = "exact", rng=None, adversary_lr: float | None = None, init=None, init_scale: float = 1.0,
         tol: float = 1e-6, history: int = 200, early_stop: bool = True, label: str | None = None
         ) -> LearningResult:
    """Train a population of agent pairs by exact SRPO (strategically risk-averse policy optimisation).

    Every seed starts from its own random softmax policies and runs the exact dynamics of
    the module docstring; the whole population is one array computation.  Each player's
    adversary takes its partners' seats with the KL penalty ``1 / tau`` (SRPO eqs. 4-6, 21;
    Algorithm 1), and each player has the entropy bonus ``epsilon``.

    Parameters
    ----------
    game : NormalFormGame or MarkovGame
        A normal-form game is the one-state, one-step Markov game.  Finite horizons get
        time-indexed policies ``(H, S, n_i)``; discounted games stationary ones ``(S, n_i)``.
    tau : float or array_like
        Risk aversion ``>= 0`` (scalar or per player); ``0`` is IPPO.
    epsilon : float or array_like
        Entropy temperature ``> 0`` (scalar or per player).
    seeds : int, default 20
        Population size ``K``.
    iters : int, default 2000
        Cap on the iterations.
    lr : float, default 0.1
        ``"npg"``: the damping in ``(0, 1]`` (``1`` is soft policy iteration, which can cycle);
        ``"pg"``: the gradient step.
    update : {"npg", "pg"}
    adversary : {"exact", "learned"}
        ``"learned"`` keeps its own logits and takes mirror steps of size ``adversary_lr``
        (default ``lr``, at most 1).
    rng : numpy.random.Generator or int, optional
        Draws the initial logits (standard normal times ``init_scale``); default seed 0.
    init : sequence of array_like, optional
        Initial policies instead: one per player, in the game's layout, or with a leading seed
        axis.  Must be positive on legal actions.
    tol : float, default 1e-6
        A seed converged when its last change and its certificate are within ``tol``.
    history : int, default 200
        Number of recorded iterations (evenly spaced, plus the last one).
    early_stop : bool, default True
        Stop once no seed's policy moves by more than ``1e-15`` in an iteration.
    label : str, optional
        Name of the population in cross-play tables (default ``"SRPO"``).

    Returns
    -------
    LearningResult

    Examples
    --------
    The fixed point of exact SRPO in a matrix game is the RQE (KL penalty, entropy):

    >>> import numpy as np, rqe
    >>> game = rqe.games.catalog.stag_hunt()
    >>> res = rqe.learning.srpo(game, tau=0.5, epsilon=1.0, seeds=4, iters=500, rng=1)
    >>> res.success, res.policies[0].shape
    (True, (4, 2))
    >>> eq = rqe.solve(game, tau=0.5, epsilon=1.0)
    >>> bool(np.allclose(res.policies[0], eq.strategies[0], atol=1e-9))
    True
    """
    return _run(game, "rqe.learning.srpo", tau=tau, epsilon=epsilon, seeds=seeds, iters=iters, lr=lr, update=update,
                adversary=adversary, rng=rng, adversary_lr=adversary_lr, init=init, init_scale=init_scale, tol=tol,
                history=history, early_stop=early_stop, label=label)


def _run(game, func, *, tau, epsilon, seeds, iters, lr, update, adversary, rng, adversary_lr, init, init_scale, tol,
         history, early_stop, label) -> LearningResult:
    mgame, normal_form = as_markov(game, func)
    N = mgame.n_players
    tau = per_player(tau, N, name="tau", func=func)
    epsilon = per_player(epsilon, N, name="epsilon", func=func, low_inclusive=False)
    K = positive_int(seeds, name="seeds", func=func)
    iters = positive_int(iters, name="iters", func=func)
    choice(update, UPDATES, name="update", func=func)
    choice(adversary, ADVERSARIES, name="adversary", func=func)
    lr = _lr(lr, update, func)
    if adversary_lr is None:
        adversary_lr = min(lr, 1.0)
    else:
        adversary_lr = positive_float(adversary_lr, name="adversary_lr", func=func)
        if adversary_lr > 1:
            raise ValueError(f"The 'adversary_lr' parameter of {func} must be a float in (0, 1]. "
                             f"Got {adversary_lr!r} instead.")
    init_scale = float(init_scale) if init_scale is not None else 1.0
    if not np.isfinite(init_scale) or init_scale < 0:
        raise ValueError(f"The 'init_scale' parameter of {func} must be a float in [0, inf). Got {init_scale!r}.")
    tol = positive_float(tol, name="tol", func=func)
    history = positive_int(history, name="history", func=func)
    generator = _rng(rng, func)
    tab = Tabular(mgame)
    logp0 = _initial(tab, K, init, init_scale, generator, normal_form, func)
    logp, final, change, hist, nit, evaluated = _train(
        tab, logp0, tau=tau, epsilon=epsilon, iters=iters, lr=lr, update=update, adversary=adversary,
        adversary_lr=adversary_lr, early_stop=early_stop, history=history, keep_policies=normal_form)

    probs = np.exp(logp)
    finite = bool(np.all(np.isfinite(probs)) and np.all(np.isfinite(final.V)))
    adv = np.exp(final.logpsi)

    def layout(arr, i, kind):
        a = tab.unpad(arr[:, i], i) if kind == "policy" else arr[:, i][..., tab.real_joint(i)]
        if normal_form:
            return a[:, 0, 0]
        return a if tab.finite else a[:, 0]

    policies = tuple(layout(probs, i, "policy") for i in range(tab.N))
    adversaries = tuple(layout(adv, i, "adversary") for i in range(tab.N))
    returns = tab.expected_returns(probs)
    residual = gap = expl = None
    if not finite:
        cert = np.full(K, np.inf)
    elif normal_form:
        residual, gap = _certify_normal_form(game, policies, tau, epsilon, func)
        cert = residual
    else:
        expl, checked = _certify_markov(mgame, policies, tab.initial_values(final), tau, epsilon, tab.scale)
        cert = np.max(expl, axis=1) / tab.scale
        evaluated &= checked
    converged = (change <= tol) & (cert <= tol)
    status = 2 if not (finite and evaluated) else (0 if np.all(converged) else 1)
    label = label if label is not None else ("IPPO" if np.all(tau == 0) else "SRPO")
    cert_name = "residual" if normal_form else "exploitability/scale"
    message = _message(label, converged, change, cert, cert_name, tol, nit, iters, status, update, lr,
                       _stuck(hist, ~converged))
    kind = "ippo" if np.all(tau == 0) else "srpo"
    method = f"{kind}/{update}" + (f"/{adversary} adversary" if kind == "srpo" else "")
    result = LearningResult(
        message=message, success=status == 0, status=status, policies=policies, adversaries=adversaries,
        values=tab.initial_values(final), returns=returns, converged=converged, last_change=change,
        residual=residual, gap=gap, exploitability=expl, history=hist, nit=nit, method=method, label=label,
        params={"tau": tau, "epsilon": epsilon, "seeds": K, "iters": iters, "lr": lr, "update": update,
                "adversary": adversary, "adversary_lr": adversary_lr, "init_scale": init_scale, "tol": tol,
                "normal_form": normal_form, "scale": tab.scale})
    if not result.success:
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return result


def ippo(game, *, epsilon, seeds: int = 20, iters: int = 2000, lr: float = 0.1, update: str = "npg", rng=None,
         init=None, init_scale: float = 1.0, tol: float = 1e-6, history: int = 200, early_stop: bool = True,
         label: str | None = None) -> LearningResult:
    """Train a population by exact independent policy optimisation (IPPO): :func:`srpo` with ``tau = 0``.

    Each agent best-responds (softly, temperature ``epsilon``) to its actual partner; the
    fixed points are the logit QRE (matrix games) and the entropy-regularised Markov QRE
    (``rqe.solve_markov(..., tau=0, value="regularized")``).  Parameters as in :func:`srpo`.

    Examples
    --------
    Independent learners in the stag hunt coordinate on stag or hare depending on the seed:

    >>> import numpy as np, rqe
    >>> res = rqe.learning.ippo(rqe.games.catalog.stag_hunt(), epsilon=0.2, seeds=8, iters=3000, rng=0)
    >>> res.success, sorted(set(np.round(res.policies[0][:, 0]).tolist()))
    (True, [0.0, 1.0])
    """
    return _run(game, "rqe.learning.ippo", tau=0.0, epsilon=epsilon, seeds=seeds, iters=iters, lr=lr, update=update,
                adversary="exact", rng=rng, adversary_lr=None, init=init, init_scale=init_scale, tol=tol,
                history=history, early_stop=early_stop, label=label)
