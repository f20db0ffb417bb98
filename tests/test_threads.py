"""BLAS threads in the hot loops, and the matrix-free Newton-GMRES path of large games."""

import numpy as np
from scipy.special import softmax
from threadpoolctl import threadpool_info, threadpool_limits

import rqe
from conftest import CERT_TOL
from rqe._threads import MIN_SIZE, hot_loop
from rqe.solvers import _iterate
from rqe.solvers._system import RQESystem

GMRES_JVP_BUDGET = 40   # Jacobian-vector products of the whole 300 x 300 solve (exact GMRES solves took 50+)


def _blas_threads():
    return {d["filepath"]: d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}


def test_hot_loop_runs_blas_on_one_thread_and_restores_the_setting():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with hot_loop(MIN_SIZE):
            inside = _blas_threads()
        assert _blas_threads() == before
        with hot_loop(MIN_SIZE - 1):       # small matrices: left alone
            assert _blas_threads() == before
    assert set(inside.values()) == {1}


def test_large_game_is_solved_by_inexact_newton_gmres(monkeypatch):
    # 300 x 300 has 600 unknowns > DENSE_MAX: the matrix-free path with Eisenstat-Walker forcing terms.
    assert 600 > _iterate.DENSE_MAX
    products = []
    real = RQESystem.jvp
    monkeypatch.setattr(RQESystem, "jvp", lambda self, state, V: products.append(len(V)) or real(self, state, V))
    U = np.random.default_rng(5).uniform(size=(2, 300, 300))
    res = rqe.solve(rqe.NormalFormGame(U), tau=1.0, epsilon=0.1)
    assert res.success and res.residual <= CERT_TOL and res.gap <= CERT_TOL
    assert sum(products) <= GMRES_JVP_BUDGET
    # Independent check of eqs. (1)-(2) with the KL adversary in closed form, p ∝ q exp(-tau g).
    x, y = res.strategies
    A, B = U[0], U[1].T
    p1 = softmax(np.log(y) - 1.0 * (A.T @ x))
    p2 = softmax(np.log(x) - 1.0 * (B.T @ y))
    assert np.abs(x - softmax(A @ p1 / 0.1)).sum() <= CERT_TOL
    assert np.abs(y - softmax(B @ p2 / 0.1)).sum() <= CERT_TOL
