"""Tractability and uniqueness conditions for two-player RQE (docs/concepts.md, "Existence, uniqueness
and tractability").

Two payoff-independent conditions are known, both in the scale-free products
``epsilon_i * tau_i`` and both for the pairings (KL risk, log-barrier) and (reverse-KL risk,
negative entropy):

* **MPS**: no-regret learning reaches the RQE (Mazumdar, Panaganti and Shi, ICLR 2025,
  Theorem 3); the authors' code tests ``epsilon_1 tau_1 epsilon_2 tau_2 >= 1``.
* **Monotonicity**: the 2N-player game is monotone, so the RQE is unique and Lipschitz in the
  payoffs (Zhang and Mazumdar 2026, arXiv 2602.12386, for these two pairings):
  ``16 epsilon_1 epsilon_2 tau_1 tau_2 > 1``.

The two do not nest in the literature's general form; here the second is implied by the first.
For the paper's pairing (KL risk, negative entropy) no payoff-independent condition is known:
both are reported as not applicable.

The module sits in the solver layer because ``rqe.solve(check_tractability=True)`` and the Nash
selection consult it; its public names are re-exported as ``rqe.analysis.tractability`` and
``rqe.analysis.Tractability``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rqe._validation import per_player
from rqe.solvers._result import Result

__all__ = ["tractability", "Tractability", "Condition"]

_APPLIES = {("kl", "log_barrier"), ("reverse_kl", "entropy")}


@dataclass(frozen=True)
class Condition:
    """One sufficient condition: whether it holds, its value against its threshold, and its source."""

    name: str
    holds: bool | None
    value: float
    threshold: float
    statement: str
    source: str = field(repr=False)


@dataclass(frozen=True)
class Tractability(Result):
    """Both conditions (MPS and monotonicity, module docstring) for one parameter set.

    ``holds`` is True when at least one applicable condition holds, False when none does,
    and None when neither applies to the chosen risk and regulariser.
    """

    message: str
    holds: bool | None
    conditions: tuple


def tractability(tau, epsilon, *, risk: object = "kl", regularizer: object = "log_barrier") -> Tractability:
    """Evaluate the known tractability and uniqueness conditions for a two-player RQE.

    Parameters
    ----------
    tau, epsilon : float or array_like of shape (2,)
        Risk aversion and temperature of the two players.
    risk : {"kl", "reverse_kl"} or object
    regularizer : {"entropy", "log_barrier"} or object
        Objects are identified by their ``name`` attribute.

    Returns
    -------
    Tractability

    Examples
    --------
    The authors' fit of Selten and Chmura's game 3 sits just inside the MPS region:

    >>> from rqe.analysis import tractability
    >>> t = tractability([0.1, 56], [0.216, 0.837])
    >>> t.holds, [(c.name, c.holds, round(c.value, 3)) for c in t.conditions]
    (True, [('mps', True, 1.012), ('monotone', True, 16.199)])
    """
    func = "rqe.analysis.tractability"
    tau = per_player(tau, 2, name="tau", func=func)
    epsilon = per_player(epsilon, 2, name="epsilon", func=func, low_inclusive=False)
    pair = (getattr(risk, "name", risk), getattr(regularizer, "name", regularizer))
    applies = pair in _APPLIES
    product = float(np.prod(epsilon * tau))
    conditions = (
        Condition("mps", product >= 1.0 if applies else None, product, 1.0,
                  "epsilon_1 tau_1 epsilon_2 tau_2 >= 1",
                  "Mazumdar, Panaganti and Shi (ICLR 2025), Theorem 3, as tested by the authors' code"),
        Condition("monotone", 16.0 * product > 1.0 if applies else None, 16.0 * product, 1.0,
                  "16 epsilon_1 epsilon_2 tau_1 tau_2 > 1",
                  "Zhang and Mazumdar (arXiv 2602.12386), monotonicity of the 2N-player game"),
    )
    if not applies:
        return Tractability(f"No payoff-independent condition is known for risk={pair[0]!r} with "
                            f"regularizer={pair[1]!r}; the RQE may not be unique.", None, conditions)
    holds = any(c.holds for c in conditions)
    message = ("Tractable: " + ", ".join(c.statement for c in conditions if c.holds) + "." if holds else
               f"Neither condition holds (epsilon_1 tau_1 epsilon_2 tau_2 = {product:.3g} <= 1/16): "
               "the RQE may not be unique; rqe.solve_all searches for all of them.")
    return Tractability(message, holds, conditions)
