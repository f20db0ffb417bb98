"""Symbolic derivation of Example 2 ("two robots") with sympy, from the utilities.

Qu, Zhang, Lanzetti and Mazumdar (arXiv 2602.21515, section 4.1, Example 2): two players
with scalar actions, shared reward ``R = -1/2 (a_1 + a_2 - a_bar)^2`` and costs
``c_i = a_i^2 / 2``, so ``u_i = R - c_i``; common ``tau`` and ``epsilon``.

:func:`two_robots` derives the Gaussian RQE step by step, nothing typed in but the utilities:

1. ``g_i(b) = E_{a ~ N(m_i, v_i)} u_i(a, b)`` (own randomness inside the risk, aggregate form);
2. the entropic risk ``-(1/tau) log E_{b ~ N(m_j, v_j)} exp(-tau g_i(b))`` by a Gaussian
   integral ``int exp(-p b^2 + q b) db`` (sympy integrates it for ``p > 0``); here
   ``p = (1/v_j - tau)/2``, so the risk is finite iff ``tau v_j < 1``;
3. ``U_i = risk + epsilon/2 log(2 pi e v_i)`` and its first-order conditions in ``v_i`` and
   ``m_i`` (strictly concave), solved jointly for both players;
4. ``E[u_i]`` and ``J = E[R]`` at the equilibrium.

The result is ``v = epsilon/2``, ``m* = a_bar / (3 - tau epsilon / 2)``, admissible iff
``tau epsilon < 2`` (step 2 with ``v_j = epsilon/2``).

Erratum.  The paper's main text prints ``m* = a_bar / (3 - tau epsilon)``.  The correct mean
is ``a_bar / (3 - tau epsilon / 2)``: step 2 gives
``U_i = log(1 - tau s)/(2 tau) - (m_i + m_j - a_bar)^2 / (2 (1 - tau s)) - m_i^2/2 - v_i``
with ``s = v_j``; its first-order condition is ``m_i = (a_bar - m_j) / (2 - tau s)``, and
with ``s = epsilon/2`` the symmetric solution is ``a_bar / (3 - tau epsilon / 2)``.  It agrees
with the paper's appendix, its Lemma (App. B.1.1) and a discretised solver; the printed
formula would make ``J`` decrease for ``tau epsilon`` in ``(1, 2)``, contradicting Theorem 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.stats import E, Normal

__all__ = ["TwoRobots", "two_robots"]


@dataclass(frozen=True)
class TwoRobots:
    """Sympy expressions for Example 2 as functions of ``tau``, ``epsilon``, ``a_bar``.

    Attributes
    ----------
    tau, epsilon, a_bar : sympy.Symbol
    mean : sympy.Expr
        Equilibrium mean ``m*`` of each robot.
    variance : sympy.Expr
        Equilibrium variance of each robot.
    expected_utility : sympy.Expr
        ``E[u_i]`` at the equilibrium (equal for both robots).
    shared_reward : sympy.Expr
        ``J = E[R]`` at the equilibrium.
    domain : sympy.Rel
        Where the risk is finite (eq. 14).
    """

    tau: sp.Symbol
    epsilon: sp.Symbol
    a_bar: sp.Symbol
    mean: sp.Expr
    variance: sp.Expr
    expected_utility: sp.Expr
    shared_reward: sp.Expr
    domain: sp.Rel


@lru_cache(maxsize=1)
def two_robots() -> TwoRobots:
    """Derive Example 2 of the paper with sympy (steps in the module docstring).

    Examples
    --------
    >>> from rqe.analysis.symbolic import two_robots
    >>> ex = two_robots()
    >>> ex.mean, ex.variance, ex.domain
    (-2*a_bar/(epsilon*tau - 6), epsilon/2, tau < 2/epsilon)
    >>> ex.mean.subs({ex.tau: 1, ex.epsilon: 1, ex.a_bar: 1})
    2/5
    """
    tau, eps = sp.symbols("tau epsilon", positive=True)
    a_bar = sp.Symbol("a_bar", real=True)
    m = sp.symbols("m1 m2", real=True)
    v = sp.symbols("v1 v2", positive=True)
    b = sp.Symbol("b", real=True)
    actions = [Normal(f"a{k + 1}", m[k], sp.sqrt(v[k])) for k in range(2)]

    def reward(a1, a2):
        return -(a1 + a2 - a_bar) ** 2 / 2

    def utility(i, own, other):
        joint = (own, other) if i == 0 else (other, own)
        return reward(*joint) - own ** 2 / 2

    p_, q_ = sp.Symbol("p", positive=True), sp.Symbol("q", real=True)
    gaussian_integral = sp.simplify(sp.integrate(sp.exp(-p_ * b ** 2 + q_ * b), (b, -sp.oo, sp.oo)))

    objectives, conditions = [], []
    for i in range(2):
        j = 1 - i
        g = sp.expand(E(utility(i, actions[i], b)))
        exponent = sp.expand(-tau * g - (b - m[j]) ** 2 / (2 * v[j]))
        poly = sp.Poly(exponent, b)
        p, q, r = -poly.coeff_monomial(b ** 2), poly.coeff_monomial(b), poly.coeff_monomial(1)
        conditions.append(sp.simplify(p) > 0)
        integral = gaussian_integral.subs({p_: p, q_: q}) * sp.exp(r) / sp.sqrt(2 * sp.pi * v[j])
        risk = -sp.expand_log(sp.log(integral), force=True) / tau
        objectives.append(risk + eps * sp.log(2 * sp.pi * sp.E * v[i]) / 2)

    variances = [sp.solve(sp.diff(objectives[i], v[i]), v[i])[0] for i in range(2)]
    at_variances = dict(zip(v, variances))
    first_order = [sp.numer(sp.together(sp.diff(objectives[i], m[i]).subs(at_variances))) for i in range(2)]
    means = sp.solve(first_order, m, dict=True)[0]
    at_equilibrium = {**at_variances, **means}

    expected_utility = sp.factor(sp.simplify(E(utility(0, *actions)).subs(at_equilibrium)))
    shared_reward = sp.factor(sp.simplify(E(reward(*actions)).subs(at_equilibrium)))
    return TwoRobots(
        tau=tau, epsilon=eps, a_bar=a_bar,
        mean=sp.simplify(means[m[0]]),
        variance=sp.simplify(variances[0]),
        expected_utility=expected_utility,
        shared_reward=shared_reward,
        domain=sp.solve(conditions[0].subs(at_variances), tau),
    )
