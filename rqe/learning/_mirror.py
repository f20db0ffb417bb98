"""Mirror-descent dynamics on the game of players and adversaries, with their gap curves.

The RQE of an N-player game is a Nash equilibrium of the 2N-player game in which player
``i`` minimises ``J_i = -x_i . M_i p_i + epsilon_i sum x_i log x_i`` and its adversary minimises
``Jbar_i = x_i . M_i p_i + D(p_i, q_i) / tau_i`` with ``q_i`` the product of the others'
strategies (SRPO eqs. 5-6; Mazumdar, Panaganti and Shi, ICLR 2025).  With
``tau_i = 0`` the adversary is ``q_i`` itself and the game is the one of the logit QRE.
Every block moves simultaneously, in log coordinates:

* ``"mmd"``: magnetic mirror descent (Sokota, D'Orazio, Kolter, Loizou, Lanctot, Mitliagkas,
  Brown and Kroer, ICLR 2023): the regulariser enters as a proximal term pulling towards a
  magnet, uniform for the players and ``q_i`` for the KL adversaries,
  ``log x <- (log x + lr G) / (1 + lr epsilon)``, ``log p <- (log p - lr g + (lr / tau) log q) / (1 + lr / tau)``;
  a reverse-KL adversary takes the explicit mirror step ``log p <- log p - lr (g - q / (tau p))``.
* ``"omwu"``: optimistic multiplicative weights (optimistic mirror descent with the entropy
  mirror map; Rakhlin and Sridharan 2013, Daskalakis and Panageas 2019) on the full
  gradients, ``log z <- log z - lr (2 F_t - F_{t-1})``.

In two-player zero-sum games (``tau = 0``) both converge in the last iterate to the logit QRE
for small enough steps.  With ``tau > 0`` convergence is known where the 2N-player game is
monotone: ``16 epsilon_1 epsilon_2 tau_1 tau_2 > 1`` for the reverse-KL penalty with entropy
(Zhang and Mazumdar 2026, via :func:`rqe.analysis.tractability`); for the KL penalty with
entropy no payoff-independent condition is known.  Each run reports the certificate of
:func:`rqe.solve` (fixed-point residual and duality gap) along the iterates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from rqe import risk as risks
from rqe._exceptions import ConvergenceWarning
from rqe._validation import choice, positive_float, positive_int
from rqe.analysis import tractability
from rqe.games.normal_form import NormalFormGame
from rqe.learning._tabular import normalize
from rqe.solvers._result import Result
from rqe.solvers.rqe import _initial_logs, build_system

__all__ = ["mirror_descent", "DynamicsResult"]

_FUNC = "rqe.learning.mirror_descent"
METHODS = ("mmd", "omwu")
_STALL = 5e-15          # stop once no block moves by more than this (L1)


@dataclass(frozen=True)
class DynamicsResult(Result):
    """The last iterate of a mirror-descent run on the players-and-adversaries game, with its gap curve.

    Attributes
    ----------
    message : str
    success : bool
        True when the last iterate's residual is at most ``tol``.
    status : int
        0 converged, 1 iteration limit, 2 non-finite iterate.
    strategies : tuple of ndarray
        The players' last iterates.
    adversaries : tuple of ndarray
        The adversaries' last iterates (over the others' joint actions, C order); ``q_i``
        where ``tau_i = 0``.
    residual, gap : float
        :func:`rqe.solve`'s certificate at the last iterate: ``max_i ||x_i - QR_i(x)||_1`` and
        the duality gap (for ``tau = 0``, the exact regularised exploitability).
    last_change : float
        Largest L1 move of a block in the last iteration.
    history : dict
        ``"iteration"``, ``"residual"``, ``"gap"`` at the recorded iterations: the gap curve.
    monotone : bool or None
        Whether a known monotonicity condition holds (two players; ``None``: no condition
        known for this pair of risk measure and regulariser, or more players).
    nit : int
    method : str
    params : dict
    """

    message: str
    success: bool
    status: int
    strategies: tuple
    adversaries: tuple = field(repr=False)
    residual: float = 0.0
    gap: float = 0.0
    last_change: float = 0.0
    history: dict = field(default_factory=dict, repr=False)
    monotone: bool | None = None
    nit: int = 0
    method: str = ""
    params: dict = field(default_factory=dict, repr=False)


def _monotone(tau, epsilon, risk: str):
    if len(tau) != 2:
        return None, "no monotonicity condition is known for more than two players"
    if np.all(tau == 0):
        return None, "tau = 0: the QRE dynamics are monotone in two-player zero-sum games"
    verdict = tractability(tau, epsilon, risk=risk, regularizer="entropy")
    cond = [c for c in verdict.conditions if c.name == "monotone"]
    if not cond or cond[0].holds is None:
        return None, f"no payoff-independent monotonicity condition is known for {risk} + entropy"
    c = cond[0]
    return bool(c.holds), f"monotonicity condition 16 eps1 eps2 tau1 tau2 = {c.value:.3g} {'>' if c.holds else '<='} 1"


def mirror_descent(game: NormalFormGame, *, tau=0.0, epsilon, method: str = "mmd", risk: str = "kl",
                   lr: float = 0.05, iters: int = 20_000, x0=None, tol: float = 1e-10, history: int = 200
                   ) -> DynamicsResult:
    """Run magnetic mirror descent or optimistic multiplicative weights on the players-and-adversaries game.

    Parameters
    ----------
    game : NormalFormGame
    tau : float or array_like, default 0
        Risk aversion per player (``0``: no adversary, the logit-QRE dynamics).
    epsilon : float or array_like
        Entropy temperature ``> 0``.
    method : {"mmd", "omwu"}
    risk : {"kl", "reverse_kl"}
        The adversary's penalty ``D(p, q)`` (KL or reverse KL).
    lr : float, default 0.05
        Step size (relative to the payoff scale: halve it if the gap curve oscillates).
    iters : int, default 20000
    x0 : sequence of array_like, optional
        Initial strategies (uniform by default); adversaries start at ``q_i``.
    tol : float, default 1e-10
        Residual target for ``success``.
    history : int, default 200
        Number of recorded iterates of the gap curve.

    Returns
    -------
    DynamicsResult

    Examples
    --------
    The last iterate of magnetic mirror descent is the logit QRE of a zero-sum game:

    >>> import numpy as np, rqe
    >>> game = rqe.NormalFormGame.zero_sum([[2.0, -1.0], [-1.0, 1.0]])
    >>> run = rqe.learning.mirror_descent(game, epsilon=0.5, lr=0.1, iters=5000)
    >>> qre = rqe.solve_qre(game, epsilon=0.5)
    >>> run.success, bool(np.allclose(run.strategies[0], qre.strategies[0], atol=1e-9))
    (True, True)
    >>> bool(run.history["gap"][-1] < run.history["gap"][0])
    True
    """
    system, _, _ = build_system(game, tau=tau, epsilon=epsilon, risk=risk, regularizer="entropy", func=_FUNC)
    choice(method, METHODS, name="method", func=_FUNC)
    choice(risk, tuple(risks.BUILTIN), name="risk", func=_FUNC)
    lr = positive_float(lr, name="lr", func=_FUNC)
    iters = positive_int(iters, name="iters", func=_FUNC)
    tol = positive_float(tol, name="tol", func=_FUNC)
    history = positive_int(history, name="history", func=_FUNC)
    N, n, M = system.N, system.n, tuple(np.asarray(R, float) for R in game.own_rows)   # user units
    tau, eps = system.tau, system.epsilon
    if x0 is None:
        lx = [np.full(k, -np.log(k)) for k in n]
    else:
        lx = system.blocks(_initial_logs(system, x0, _FUNC))
        lx = [normalize(b) for b in lx]

    def others(lxs, i):
        """``log q_i``: the log of the product of the others' strategies (C order over the others)."""
        total = np.zeros(())
        for j in range(N):
            if j != i:
                total = np.add.outer(total, lxs[j])
        return total.ravel()

    lp = [others(lx, i) for i in range(N)]
    records = set(np.unique(np.round(np.linspace(0, iters, min(history, iters + 1)))).astype(int).tolist())
    hist: dict[str, list] = {"iteration": [], "residual": [], "gap": []}

    def certify(lxs):
        state = system.evaluate(system.normalize(np.concatenate(lxs)))
        return system.residual(state), float(np.max(system.gaps(state)))

    def gradients(lxs, lps):
        """Full gradients of each player's and each adversary's loss, in log coordinates."""
        Fx, Fp = [], []
        for i in range(N):
            x, q_log = np.exp(lxs[i]), others(lxs, i)
            p = np.exp(lps[i]) if tau[i] > 0 else np.exp(q_log)
            Fx.append(-(M[i] @ p) + eps[i] * lxs[i])
            if tau[i] > 0:
                g = x @ M[i]
                if risk == "kl":
                    Fp.append(g + (lps[i] - q_log) / tau[i])
                else:
                    Fp.append(g - np.exp(q_log - lps[i]) / tau[i])
            else:
                Fp.append(None)
        return Fx, Fp

    prev = None
    change, nit, status = np.inf, 0, 1
    for it in range(iters + 1):
        if it in records:
            r, gp = certify(lx)
            hist["iteration"].append(it)
            hist["residual"].append(r)
            hist["gap"].append(gp)
        if it == iters:
            break
        if method == "mmd":
            new_x, new_p = [], []
            for i in range(N):
                q_log = others(lx, i)
                p = np.exp(lp[i]) if tau[i] > 0 else np.exp(q_log)
                new_x.append(normalize((lx[i] + lr * (M[i] @ p)) / (1.0 + lr * eps[i])))
                if tau[i] > 0:
                    g = np.exp(lx[i]) @ M[i]
                    if risk == "kl":
                        new_p.append(normalize((lp[i] - lr * g + (lr / tau[i]) * q_log) / (1.0 + lr / tau[i])))
                    else:
                        new_p.append(normalize(lp[i] - lr * (g - np.exp(q_log - lp[i]) / tau[i])))
                else:
                    new_p.append(q_log)
        else:
            Fx, Fp = gradients(lx, lp)
            if prev is None:
                prev = (Fx, Fp)
            new_x = [normalize(lx[i] - lr * (2 * Fx[i] - prev[0][i])) for i in range(N)]
            new_p = [normalize(lp[i] - lr * (2 * Fp[i] - prev[1][i])) if tau[i] > 0 else others(new_x, i)
                     for i in range(N)]
            prev = (Fx, Fp)
        new_p = [p if tau[i] > 0 else others(new_x, i) for i, p in enumerate(new_p)]
        change = max(max(float(np.abs(np.exp(a) - np.exp(b)).sum()) for a, b in zip(new_x, lx)),
                     max((float(np.abs(np.exp(a) - np.exp(b)).sum()) for i, (a, b) in enumerate(zip(new_p, lp))
                          if tau[i] > 0), default=0.0))
        lx, lp = new_x, new_p
        nit = it + 1
        if not all(np.all(np.isfinite(b)) for b in lx + lp):
            status = 2
            break
        if change <= _STALL:
            r, gp = certify(lx)
            hist["iteration"].append(nit)
            hist["residual"].append(r)
            hist["gap"].append(gp)
            break
    residual, gap = certify(lx) if status != 2 else (np.inf, np.inf)
    if status != 2:
        status = 0 if residual <= tol else 1
    monotone, why = _monotone(tau, eps, risk)
    if status == 0:
        message = f"Converged: residual {residual:.2e} <= tol {tol:.0e} after {nit} iterations ({why})."
    elif status == 1:
        message = (f"Not converged after {nit} iterations: residual {residual:.2e} > tol {tol:.0e}, last change "
                   f"{change:.1e} ({why}). Try a smaller lr (large steps oscillate), more iters, or the other method.")
    else:
        message = f"The iterates became non-finite after {nit} iterations ({why}); try a smaller lr."
    result = DynamicsResult(
        message=message, success=status == 0, status=status, strategies=tuple(np.exp(b) for b in lx),
        adversaries=tuple(np.exp(b) for b in lp), residual=float(residual), gap=float(gap),
        last_change=float(change), history={k: np.array(v) for k, v in hist.items()}, monotone=monotone, nit=nit,
        method=method, params={"tau": tau, "epsilon": eps, "risk": risk, "lr": lr, "iters": iters, "tol": tol})
    if not result.success:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return result
