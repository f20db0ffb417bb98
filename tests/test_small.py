"""The scalar 2x2 fast path (rqe.solvers._small), solve_all's scalar kernel and the broadcast
Gaussian solve of rqe.analysis.collaboration, each against the general code path and an
independent oracle (issue 15, item 1)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import CERT_TOL, MATCH_TOL, ORACLE_TOL
from oracles import best_response_2, max_deviation_gain

import rqe
import rqe.solvers.all as all_module
import rqe.solvers.rqe as rqe_module
from rqe.analysis import _collaboration
from rqe.games import catalog
from rqe.solvers._small import solve_2x2
from rqe.solvers.gaussian import solve_gaussian

COMBOS = [("kl", "entropy"), ("kl", "log_barrier"), ("reverse_kl", "entropy"), ("reverse_kl", "log_barrier")]


def _general(game, **kw):
    """rqe.solve with the fast path switched off."""
    saved = rqe_module.solve_2x2
    rqe_module.solve_2x2 = lambda *a, **k: None
    try:
        return rqe.solve(game, **kw)
    finally:
        rqe_module.solve_2x2 = saved


def _games():
    rng = np.random.default_rng(15)
    out = [catalog.free_riding_game(cost=0.4), catalog.stag_hunt(), catalog.matching_pennies()]
    for scale, offset in [(1.0, 0.0), (30.0, -7.0), (1e-3, 1e6)]:
        out.append(rqe.NormalFormGame.from_bimatrix(scale * rng.normal(size=(2, 2)) + offset,
                                                    scale * rng.normal(size=(2, 2)) + offset))
    return out


def _unit(game):
    return float(np.ptp(game.payoffs))


@pytest.mark.parametrize("risk, reg", COMBOS)
def test_fast_path_matches_the_general_path(risk, reg):
    """Same equilibrium, adversaries, values and certificate as the general Newton path."""
    taken = 0
    for game in _games():
        u = _unit(game)
        for tau, eps in [(0.0, 0.3), (0.5, 0.2), ([2.0, 0.1], [0.4, 1.5])]:
            kw = {"tau": np.asarray(tau) / u, "epsilon": np.asarray(eps) * u, "risk": risk, "regularizer": reg}
            fast = solve_2x2(game, method="auto", tol=1e-10, max_iter=1000, x0=None, max_time=None, **kw)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = _general(game, **kw)
            if fast is None:       # out of the fast path's scope (or its Newton failed): the general path answers
                continue
            taken += 1
            assert fast.success and fast.residual <= 1e-10 and ref.success
            assert fast.method == "newton" and fast.params == ref.params
            for a, b in zip(fast.strategies + fast.adversaries, ref.strategies + ref.adversaries):
                assert a.shape == b.shape and np.max(np.abs(a - b)) <= MATCH_TOL
            assert np.allclose(fast.values, ref.values, rtol=MATCH_TOL, atol=MATCH_TOL * u)
            assert abs(fast.gap - ref.gap) <= CERT_TOL * u
            # rqe.solve itself returns the fast answer
            assert np.array_equal(rqe.solve(game, **kw).strategies[0], fast.strategies[0])
    assert taken >= 12


@pytest.mark.parametrize("reg", ["entropy", "log_barrier"])
def test_fast_path_against_direct_maximisation(reg):
    """Each strategy is the best response found by bounded scalar maximisation of the player's
    objective (KL risk, tests/oracles.py), and no player gains by deviating."""
    game = catalog.free_riding_game(cost=0.4)
    A1, A2 = game.payoffs[0], game.payoffs[1].T
    for tau, eps in [(0.5, 0.2), (2.0, 0.5)]:
        res = rqe.solve(game, tau=tau, epsilon=eps, regularizer=reg)
        x, y = res.strategies
        assert res.success and res.method == "newton"
        assert abs(best_response_2(A1, y, tau, eps, reg) - x[0]) <= ORACLE_TOL
        assert abs(best_response_2(A2, x, tau, eps, reg) - y[0]) <= ORACLE_TOL
        assert max_deviation_gain(game.payoffs, res.strategies, tau, eps, reg, starts=2) <= ORACLE_TOL


def test_fast_path_near_the_pitchfork_and_from_warm_starts():
    """Near the fold of the free-riding game (tau* = 0.8288) warm-started fast solves stay on
    the branch the general path reaches from the same start."""
    game = catalog.free_riding_game(cost=0.4)
    free = max(rqe.solve_all(game, tau=0.5, epsilon=0.2), key=lambda e: e.strategies[1][0] - e.strategies[0][0])
    x0 = free.strategies
    for tau in [0.6, 0.75, 0.82, 0.8285]:
        fast = rqe.solve(game, tau=tau, epsilon=0.2, x0=x0)
        ref = _general(game, tau=tau, epsilon=0.2, x0=x0)
        assert fast.success and fast.method == "newton"
        assert max(np.max(np.abs(a - b)) for a, b in zip(fast.strategies, ref.strategies)) <= MATCH_TOL
        x0 = fast.strategies
    assert abs(x0[0][0] - x0[1][0]) > 1e-3          # still a free-riding equilibrium


def test_fast_path_leaves_everything_else_to_the_general_path():
    game = catalog.free_riding_game()
    assert solve_2x2(catalog.rock_paper_scissors(), tau=1.0, epsilon=0.1, risk="kl", regularizer="entropy",
                     method="auto", tol=1e-10, max_iter=100, x0=None, max_time=None) is None
    class CustomKL(rqe.risk.KL):
        pass

    class CustomEntropy(rqe.regularizers.Entropy):
        pass

    for kw in [{"method": "homotopy"}, {"method": "fixed_point"}, {"risk": CustomKL()},
               {"regularizer": CustomEntropy()}, {"risk": "KL"},
               {"tau": "1"}, {"tol": -1.0}, {"max_iter": True}, {"x0": [[1.0, 0.0]]}]:
        args = {"tau": 1.0, "epsilon": 0.1, "risk": "kl", "regularizer": "entropy", "method": "auto", "tol": 1e-10,
                "max_iter": 100, "x0": None, "max_time": None}
        args.update(kw)
        assert solve_2x2(game, **args) is None, kw
    with pytest.raises(TypeError, match="'tau' parameter of rqe.solve"):
        rqe.solve(game, tau="1")
    with pytest.raises(ValueError, match="'x0' parameter of rqe.solve"):
        rqe.solve(game, x0=[[1.0, 0.0]])
    assert rqe.solve(game, tau=0.5, epsilon=0.2, method="homotopy").method == "homotopy"


def test_solve_all_scalar_kernel_matches_the_numpy_maps(monkeypatch):
    """The 2x2 search on the scalar kernel finds the same equilibria, with the same completeness
    verdict, as on the risk and regulariser objects with finite-difference slopes and brentq."""
    rng = np.random.default_rng(7)
    cases = [(catalog.free_riding_game(cost=0.4), {"tau": 0.8288, "epsilon": 0.2})]     # three RQE near the pitchfork
    for risk, reg in COMBOS[3:]:
        game = rqe.NormalFormGame.from_bimatrix(rng.normal(size=(2, 2)), rng.normal(size=(2, 2)))
        cases.append((game, {"tau": [0.7, 2.0], "epsilon": [0.15, 0.3], "risk": risk, "regularizer": reg}))
    fast = [rqe.solve_all(g, **kw) for g, kw in cases]
    monkeypatch.setattr(all_module, "kernel_for", lambda system: None)
    slow = [rqe.solve_all(g, **kw) for g, kw in cases]
    for a, b in zip(fast, slow):
        assert a.complete == b.complete and len(a) == len(b) and a.message == b.message
        for ea, eb in zip(a, b):
            assert ea.success and max(np.max(np.abs(x - y)) for x, y in zip(ea.strategies, eb.strategies)) <= MATCH_TOL
            assert ea.residual <= 1e-10 and ea.gap <= CERT_TOL


def test_collaboration_broadcast_matches_pointwise_solves(monkeypatch):
    """J, utilities and means along the grid equal those of one solve_gaussian per point, also when
    every point is handed back to solve_gaussian."""
    cases = [(catalog.two_robots(), 1.0),
             (rqe.GaussianGame.collaborative(a_bar=[1.0, -0.5], rho=[1.0, 0.5, 2.0], H=[[2.0, 0.3], [0.3, 1.0]],
                                             n_players=3, dim=2), [0.5, 1.0, 0.7])]
    for game, eps in cases:
        taus = np.linspace(0.0, 0.99 * rqe.analysis.admissible_tau(game, epsilon=eps), 8)
        ref = [solve_gaussian(game, tau=t, epsilon=eps) for t in taus]
        res = rqe.analysis.collaboration(game, epsilon=eps, taus=taus)
        assert np.allclose(res.shared_reward, [r.shared_reward for r in ref], rtol=0, atol=1e-12)
        assert np.allclose(res.payoffs, [r.payoffs for r in ref], rtol=0, atol=1e-12)
        assert np.allclose(res.means, [np.concatenate(r.means) for r in ref], rtol=0, atol=1e-12)
        if len(game.dims) == 2:
            real = _collaboration._means_along

            def unsolved(*a, real=real, **k):
                return real(*a, **k)[0] * 0.0, np.zeros(len(a[2]), bool)

            monkeypatch.setattr(_collaboration, "_means_along", unsolved)
            again = rqe.analysis.collaboration(game, epsilon=eps, taus=taus)
            monkeypatch.undo()
            assert np.allclose(again.means, res.means, rtol=0, atol=1e-12)


@pytest.mark.parametrize("risk, reg", COMBOS)
def test_small_system_matches_rqe_system(risk, reg):
    """The likelihood's scalar system: same map, Jacobian and residuals as RQESystem, at payoff
    scales 0, -1e-6 (the tracer's central difference at s = 0) and up to 1."""
    from rqe.regularizers import get_regularizer
    from rqe.risk import get_risk
    from rqe.solvers._small import SmallSystem
    from rqe.solvers._system import RQESystem

    rng = np.random.default_rng(3)
    risk_obj, reg_obj = get_risk(risk), get_regularizer(reg)
    for game in _games()[:4]:
        tau, eps = np.array([0.8, 0.0]) / _unit(game), np.array([0.3, 0.6]) * _unit(game)
        for scale in (0.0, -1e-6, 0.4, 1.0):
            small = SmallSystem(game, tau, eps, risk_obj, reg_obj, scale=scale)
            full = RQESystem(game, tau, eps, risk_obj, reg_obj, scale=scale)
            z = full.normalize(rng.normal(size=4))
            a, b = small.evaluate(z), full.evaluate(z)
            assert np.allclose(a.Tz, b.Tz, rtol=0, atol=1e-12)
            assert np.allclose(small.jacobian(a), full.jacobian(b), rtol=0, atol=1e-9)
            assert abs(small.residual(a) - full.residual(b)) <= 1e-12
            assert abs(small.log_residual(a) - full.log_residual(b)) <= 1e-12
            assert np.allclose(small.normalize(z + 3.0), z, rtol=0, atol=1e-12)
