"""Environment-risk operators against independent oracles (linprog, direct minimisation)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog, minimize

from rqe.uncertainty import Contamination, Entropic, Expectation, TVBall, TVPenalty, get_env_risk
from tests.conftest import ORACLE_TOL


def _rows(rng, rows=6, K=5):
    P = rng.random((rows, K)) * (rng.random((rows, K)) < 0.7)
    P[:, 0] += 0.1
    P /= P.sum(axis=1, keepdims=True)
    W = rng.normal(size=(K, 2)) * 3
    return P, W


def _lp_tv(p, w, radius=None, tau=None):
    """min q.w over laws q, with TV(q,p) <= radius or penalised by TV/tau; variables (q, d) with d >= |q - p|."""
    K = len(p)
    c = np.concatenate([w, np.zeros(K) if radius is not None else np.full(K, 0.5 / tau)])
    A = np.block([[np.eye(K), -np.eye(K)], [-np.eye(K), -np.eye(K)]])
    b = np.concatenate([p, -p])
    if radius is not None:
        A = np.vstack([A, np.concatenate([np.zeros(K), np.full(K, 0.5)])])
        b = np.append(b, radius)
    res = linprog(c, A_ub=A, b_ub=b, A_eq=[np.concatenate([np.ones(K), np.zeros(K)])], b_eq=[1.0],
                  bounds=[(0, None)] * (2 * K), method="highs")
    return res.fun


def _lp_contamination(p, w, radius):
    K = len(p)
    res = linprog(w, A_eq=[np.ones(K)], b_eq=[1.0], bounds=[(0, None)] * K, method="highs")
    return (1 - radius) * p @ w + radius * res.fun


@pytest.mark.parametrize("seed", range(3))
def test_tv_and_contamination_match_linprog(seed):
    rng = np.random.default_rng(seed)
    P, W = _rows(rng)
    Ps = sp.csr_array(P)
    for op, oracle in [(TVBall(0.3), lambda p, w: _lp_tv(p, w, radius=0.3)),
                       (TVPenalty(0.7), lambda p, w: _lp_tv(p, w, tau=0.7)),
                       (Contamination(0.25), lambda p, w: _lp_contamination(p, w, 0.25))]:
        got = op.evaluate(Ps, W)
        want = np.array([[oracle(P[r], W[:, i]) for i in range(W.shape[1])] for r in range(P.shape[0])])
        np.testing.assert_allclose(got, want, atol=ORACLE_TOL, err_msg=repr(op))
        for r in range(P.shape[0]):      # the reported worst law attains the value and is a law
            q = op.worst_case(P[r], W[:, 0])
            assert q.min() >= -1e-12 and abs(q.sum() - 1) < 1e-12
            penalty = 0.5 * np.abs(q - P[r]).sum() / op.tau if isinstance(op, TVPenalty) else 0.0
            assert abs(q @ W[:, 0] + penalty - want[r, 0]) < ORACLE_TOL


def test_entropic_matches_direct_minimisation(rng):
    P, W = _rows(rng, rows=4)
    tau = np.array([0.5, 2.0])
    got = Entropic(tau).evaluate(sp.csr_array(P), W)
    for r in range(P.shape[0]):
        sup = P[r] > 0
        for i in range(2):
            def objective(z, p=P[r][sup], w=W[sup, i], t=tau[i]):
                q = np.exp(z - z.max()); q /= q.sum()
                return q @ w + np.sum(q * np.log(q / p)) / t
            best = minimize(objective, np.zeros(sup.sum()), method="BFGS", options={"gtol": 1e-10}).fun
            assert abs(got[r, i] - best) < ORACLE_TOL


def test_zero_radius_is_the_expectation(rng):
    P, W = _rows(rng)
    Ps = sp.csr_array(P)
    mean = Expectation().evaluate(Ps, W)
    for op in (TVBall(0.0), TVPenalty(0.0), Contamination(0.0), Entropic(0.0)):
        np.testing.assert_allclose(op.evaluate(Ps, W), mean, atol=1e-12)


def test_entropic_is_stable_for_huge_tau():
    P = sp.csr_array(np.array([[0.5, 0.5]]))
    W = np.array([[0.0], [1000.0]])
    assert np.isfinite(Entropic(1e6).evaluate(P, W)).all()


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="'radius' parameter of rqe.uncertainty.TVBall"):
        TVBall(1.5)
    with pytest.raises(ValueError, match="'tau' parameter of rqe.uncertainty.Entropic"):
        Entropic(-1)
    with pytest.raises(ValueError, match="'env_risk' parameter of rqe.solve_markov"):
        get_env_risk("worst")
    with pytest.raises(TypeError, match="'env_risk'"):
        get_env_risk(3)
