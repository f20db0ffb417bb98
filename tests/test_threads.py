"""BLAS threads in the hot loops, and the matrix-free Newton-GMRES path of large games."""

import numpy as np
import pytest
from scipy.special import softmax
from threadpoolctl import threadpool_info, threadpool_limits

import rqe
from conftest import CERT_TOL, MATCH_TOL
from rqe._threads import MIN_SIZE, hot_loop
from rqe.regularizers import get_regularizer
from rqe.risk import get_risk
from rqe.solvers import _iterate, _system
from rqe.solvers._system import RQESystem

GMRES_JVP_BUDGET = 40   # Jacobian-vector products of the whole 300 x 300 solve (exact GMRES solves took 50+)
SOLVE_TOL = 1e-10       # rqe.solve's default tol
ORACLE_ITERS = 200      # cap of the oracle's plain iteration (these games contract by about 0.1 a step)
ORACLE_FP_RESIDUAL = 1e-13      # max |u - T(u)| the oracle iteration reaches
ORACLE_NEWTON_RESIDUAL = 1e-12  # ... and the oracle's dense Newton
SINGLE_JVP_RTOL = 1e-5  # single-precision products: relative error of a Jacobian-vector product
SINGLE_MAP_ATOL = 1e-5  # ||F|| of a single-precision evaluation against the double one (50 x 50 game)
FD_RTOL = 1e-6          # analytic Jacobian-vector product against central differences
GMRES_SLACK = 1.01      # GMRES's rotated residual against the residual recomputed from x


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


# ---------------------------------------------------------------- Newton-GMRES against independent oracles

def _kl_entropy_map(A, B, tau, eps):
    """The two-player KL/entropy RQE map on log-strategies, written from eqs. (1)-(2) (independent of rqe)."""
    def T(u):
        x, y = softmax(u[:len(A)]), softmax(u[len(A):])
        p1 = softmax(np.log(y) - tau[0] * (A.T @ x))
        p2 = softmax(np.log(x) - tau[1] * (B.T @ y))
        return np.concatenate([np.log(softmax(A @ p1 / eps[0])), np.log(softmax(B @ p2 / eps[1]))])
    return T


def _oracle_fixed_point(A, B, tau, eps, iters=ORACLE_ITERS):
    """Plain iteration of the map from uniform play (a contraction on these games), to rounding."""
    T = _kl_entropy_map(A, B, tau, eps)
    u = np.concatenate([np.full(len(A), -np.log(len(A))), np.full(len(B), -np.log(len(B)))])
    for _ in range(iters):
        u_next = T(u)
        if np.max(np.abs(u_next - u)) < 1e-15:
            break
        u = u_next
    return np.exp(u[:len(A)]), np.exp(u[len(A):]), float(np.max(np.abs(T(u) - u)))


def _oracle_dense_newton(A, B, tau, eps, iters=30):
    """Newton's method on u - T(u) with a central-difference Jacobian, from uniform play."""
    T = _kl_entropy_map(A, B, tau, eps)
    n = len(A) + len(B)
    u = np.concatenate([np.full(len(A), -np.log(len(A))), np.full(len(B), -np.log(len(B)))])
    h = 1e-6
    for _ in range(iters):
        F = u - T(u)
        if np.max(np.abs(F)) < 1e-14:
            break
        J = np.empty((n, n))
        for k in range(n):
            e = np.zeros(n)
            e[k] = h
            J[:, k] = ((u + e) - T(u + e) - (u - e) + T(u - e)) / (2 * h)
        u = u + np.linalg.lstsq(J, -F, rcond=None)[0]     # singular along the normalisations: least squares
        u = np.concatenate([u[:len(A)] - np.log(np.exp(u[:len(A)]).sum()),
                            u[len(A):] - np.log(np.exp(u[len(A):]).sum())])
    return np.exp(u[:len(A)]), np.exp(u[len(A):]), float(np.max(np.abs(u - T(u))))


def _game(n, seed):
    U = np.random.default_rng(seed).uniform(size=(2, n, n))
    return rqe.NormalFormGame(U), U[0], U[1].T


@pytest.mark.parametrize("n, seed, tau, eps", [(500, 0, (1.0, 1.0), (0.1, 0.1)),
                                              (700, 1, (3.0, 0.0), (0.05, 0.2)),
                                              (1000, 2, (1.0, 1.0), (0.1, 0.1)),
                                              (1000, 3, (10.0, 0.5), (0.2, 0.08))])
def test_newton_gmres_matches_an_independent_fixed_point(n, seed, tau, eps):
    game, A, B = _game(n, seed)
    res = rqe.solve(game, tau=tau, epsilon=eps)
    assert res.success and res.residual <= SOLVE_TOL and res.gap <= CERT_TOL
    assert "Newton-GMRES" in res.message
    x, y, oracle_residual = _oracle_fixed_point(A, B, tau, eps)
    assert oracle_residual < ORACLE_FP_RESIDUAL
    assert np.abs(res.strategies[0] - x).sum() <= MATCH_TOL
    assert np.abs(res.strategies[1] - y).sum() <= MATCH_TOL


@pytest.mark.parametrize("seed", [0, 1])
def test_newton_gmres_on_200x200_matches_a_dense_newton(monkeypatch, seed):
    # 400 unknowns: forced onto the matrix-free path, checked against a Newton with a dense difference Jacobian.
    monkeypatch.setattr(_iterate, "DENSE_MAX", 100)
    game, A, B = _game(200, seed)
    res = rqe.solve(game, tau=2.0, epsilon=0.05)
    assert res.success and res.residual <= SOLVE_TOL and "Newton-GMRES" in res.message
    x, y, oracle_residual = _oracle_dense_newton(A, B, (2.0, 2.0), (0.05, 0.05))
    assert oracle_residual < ORACLE_NEWTON_RESIDUAL
    assert np.abs(res.strategies[0] - x).sum() <= MATCH_TOL
    assert np.abs(res.strategies[1] - y).sum() <= MATCH_TOL


@pytest.mark.parametrize("tol", [1e-6, 1e-9, 1e-12])
def test_newton_gmres_meets_every_tol(tol):
    # The Krylov solves stop at the share of tol each step needs: the certificate must still meet tol.
    game, A, B = _game(600, 4)
    res = rqe.solve(game, tau=1.0, epsilon=0.1, tol=tol)
    assert res.success and res.residual <= tol
    x, y, _ = _oracle_fixed_point(A, B, (1.0, 1.0), (0.1, 0.1))
    assert np.abs(res.strategies[0] - x).sum() <= 10 * tol


def test_single_precision_products_fall_back_to_double(monkeypatch):
    # Non-finite single-precision matrices make every single-precision Krylov solve fail: Newton must
    # redo the step in double precision and return the same certified answer.
    game, A, B = _game(400, 5)
    clean = rqe.solve(game, tau=1.0, epsilon=0.1)
    nan_rows = tuple(np.full(M.shape, np.nan, dtype=np.float32) for M in game.own_rows)
    monkeypatch.setattr(_system, "single_rows", lambda g: nan_rows)
    res = rqe.solve(game, tau=1.0, epsilon=0.1)
    assert res.success and res.residual <= SOLVE_TOL
    assert np.abs(res.strategies[0] - clean.strategies[0]).sum() <= MATCH_TOL


@pytest.mark.parametrize("risk, regularizer", [("kl", "entropy"), ("reverse_kl", "log_barrier")])
def test_single_precision_jvp_agrees_with_double(risk, regularizer):
    game, _, _ = _game(300, 6)
    system = RQESystem(game, np.array([1.0, 0.0]), np.array([0.1, 0.2]), get_risk(risk, func="t"),
                       get_regularizer(regularizer, func="t"))
    z = system.normalize(np.random.default_rng(7).normal(size=system.size) * 0.1)
    state = system.evaluate(z)
    V = np.random.default_rng(8).standard_normal((3, system.size))
    double = system.jvp(state, V)
    single = system.jvp(state, V.astype(np.float32))
    assert single.dtype == np.float64
    assert np.linalg.norm(single - double) <= SINGLE_JVP_RTOL * np.linalg.norm(double)
    # ... and the double-precision JVP against central differences of the map
    h = 1e-6
    fd = (system.evaluate(z + h * V[0]).Tz - system.evaluate(z - h * V[0]).Tz) / (2 * h)
    assert np.linalg.norm(double[0] - fd) <= FD_RTOL * np.linalg.norm(fd)


def test_gmres_solves_to_rtol_with_one_product_per_krylov_vector(monkeypatch):
    rng = np.random.default_rng(9)
    n = 210
    b = rng.standard_normal(n)
    # three distinct eigenvalues: the Krylov space is exact after three vectors, so three products in all
    D = np.repeat([1.0, 2.0, 3.0], n // 3)
    products = []
    x = _iterate._gmres(lambda v: products.append(1) or D * v, b, 1e-12)
    assert len(products) == 3
    assert np.abs(x - b / D).max() <= 1e-12 * GMRES_SLACK
    # a general matrix, with restarts every four vectors
    monkeypatch.setattr(_iterate, "_RESTART", 4)
    A = np.eye(n) + 0.5 * rng.standard_normal((n, n)) / np.sqrt(n)
    x = _iterate._gmres(lambda v: A @ v, b, 1e-10)
    assert np.linalg.norm(b - A @ x) <= 1e-10 * np.linalg.norm(b) * GMRES_SLACK
    assert np.abs(x - np.linalg.solve(A, b)).max() <= 1e-8
    assert _iterate._gmres(lambda v: np.full(n, np.nan), b, 1e-6) is None
    assert np.all(_iterate._gmres(lambda v: A @ v, np.zeros(n), 1e-6) == 0.0)


def test_evaluate_reuses_its_last_state_only_for_an_equal_point():
    game, _, _ = _game(50, 10)
    system = RQESystem(game, np.ones(2), np.full(2, 0.1), get_risk("kl", func="t"), get_regularizer("entropy", func="t"))
    z = system.uniform()
    first = system.evaluate(z)
    assert system.evaluate(z.copy()) is first
    z[0] += 0.5                     # the caller's array changes: the state must not
    assert first.z[0] == system.uniform()[0]
    second = system.evaluate(z)
    assert second is not first and second.z[0] == z[0]
    assert system.evaluate(z, single=True) is second           # a double-precision state serves both
    rounded = system.evaluate(z + 0.1, single=True)
    exact = system.evaluate(z + 0.1)
    assert rounded.single and not exact.single and exact is not rounded
    assert np.linalg.norm(rounded.F - exact.F) <= SINGLE_MAP_ATOL


def test_newton_returns_a_double_precision_state():
    # Early trials may be evaluated in single precision; the outcome (and so the certificate) never is.
    game, _, _ = _game(600, 11)
    system = RQESystem(game, np.ones(2), np.full(2, 0.1), get_risk("kl", func="t"), get_regularizer("entropy", func="t"))
    seen = []
    real = system.evaluate
    system.evaluate = lambda z, single=False: seen.append(single) or real(z, single)
    for max_iter in (1, 2, 50):
        outcome = _iterate.newton(system, system.uniform(), tol=SOLVE_TOL, max_iter=max_iter)
        assert not outcome.state.single
    assert any(seen)
    assert outcome.status == 0 and system.residual(outcome.state) <= SOLVE_TOL


def test_nested_hot_loops_keep_the_limit_and_restore_on_exit():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with hot_loop(MIN_SIZE):
            with hot_loop(MIN_SIZE):
                inner = _blas_threads()
            between = _blas_threads()
        assert _blas_threads() == before
    assert set(inner.values()) == {1} and set(between.values()) == {1}


@pytest.mark.parametrize("seed", range(6))
def test_cached_spreads_equal_the_normalised_matrices_extremes(seed):
    # rounding_floor reads the spread of each normalised matrix from the cache, derived from the payoff
    # extremes without another pass: it must equal max - min of the matrix exactly, at any scale and offset.
    rng = np.random.default_rng(seed)
    U = rng.normal(size=(3, 7, 5, 6)) * 10.0 ** int(rng.integers(-200, 200)) + (1e12 if seed % 2 else 0.0)
    game = rqe.NormalFormGame(U)
    mats, shift, unit = _system.normalised_rows(game)
    spreads = _system.normalised_spreads(game)
    for i, M in enumerate(mats):
        assert float(M.max()) - float(M.min()) == spreads[i]
        assert np.array_equal(M, (game.own_rows[i] - shift[i]) / unit[i])
