"""rqe.solve and rqe.solve_qre against independent oracles."""

import warnings

import numpy as np
import pytest
from conftest import CERT_TOL, DATA_KL_LB, DATA_RKL_ENT, MATCH_TOL, ORACLE_TOL
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import softmax

import oracles
import rqe
from rqe.games import catalog
from rqe.regularizers import Entropy, LogBarrier
from rqe.risk import KL, ReverseKL
from rqe.solvers._system import RQESystem


def _strategies(res):
    return np.concatenate(res.strategies)


# ---------------------------------------------------------------- closed forms of the pieces
@pytest.mark.parametrize("risk, penalty", [(KL(), oracles.kl), (ReverseKL(), lambda p, q: oracles.kl(q, p))])
def test_adversary_is_the_numerical_minimiser(risk, penalty, rng):
    for tau in (0.05, 1.0, 7.0):
        g, q = rng.normal(size=5), rng.dirichlet(np.ones(5))
        log_p = risk.adversary(g, np.log(q), tau)
        p = np.exp(log_p)
        closed = p @ g + risk.penalty(log_p, np.log(q)) / tau
        numeric, p_num = oracles.risk_value_numeric(g, q, tau, penalty)
        assert closed == pytest.approx(numeric, abs=1e-9)
        np.testing.assert_allclose(p, p_num, atol=1e-5)
        assert p.sum() == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("reg", [Entropy(), LogBarrier()])
def test_quantal_response_is_the_numerical_maximiser(reg, rng):
    for eps in (0.01, 0.3, 5.0):
        G = rng.normal(size=4)

        def neg(theta):
            x = softmax(theta)
            return -(x @ G - eps * reg.value(np.log(x)))

        r = minimize(neg, np.zeros(4), method="BFGS", options={"gtol": 1e-12})
        x = np.exp(reg.response(G, eps))
        assert -neg(np.log(x)) >= -r.fun - 1e-10
        np.testing.assert_allclose(x, softmax(r.x), atol=1e-4)


@pytest.mark.parametrize("risk", [KL(), ReverseKL()])
@pytest.mark.parametrize("reg", [Entropy(), LogBarrier()])
def test_analytic_derivative_matches_finite_differences(risk, reg, rng):
    game = rqe.NormalFormGame(rng.normal(size=(3, 2, 3, 2)))
    system = RQESystem(game, np.array([0.7, 0.0, 2.0]), np.array([0.4, 1.0, 0.3]), risk, reg)
    z = system.normalize(rng.normal(size=system.size))
    state = system.evaluate(z)
    V = rng.normal(size=(4, system.size))
    h = 1e-6
    fd = np.array([(system.evaluate(z + h * v).Tz - system.evaluate(z - h * v).Tz) / (2 * h) for v in V])
    np.testing.assert_allclose(system.jvp(state, V), fd, atol=1e-7)


# ---------------------------------------------------------------- equilibria against oracles
def test_qre_matches_independent_root_finder(rng):
    for n, m in [(2, 2), (3, 4), (5, 3)]:
        R1, R2 = rng.random((n, m)), rng.random((n, m))
        res = rqe.solve_qre(rqe.NormalFormGame.from_bimatrix(R1, R2), lam=[1.5, 0.8])
        x, y, ok = oracles.qre_fsolve(R1, R2, [1.5, 0.8])
        assert ok and res.success
        np.testing.assert_allclose(res.strategies[0], x, atol=MATCH_TOL)
        np.testing.assert_allclose(res.strategies[1], y, atol=MATCH_TOL)


def test_tau_zero_is_logit_qre(rng):
    game = rqe.NormalFormGame.from_bimatrix(rng.random((3, 3)), rng.random((3, 3)))
    a = rqe.solve(game, tau=0.0, epsilon=[0.2, 0.5])
    b = rqe.solve_qre(game, epsilon=[0.2, 0.5])
    c = rqe.solve_qre(game, lam=[5.0, 2.0])
    np.testing.assert_allclose(_strategies(a), _strategies(b), atol=1e-13)
    np.testing.assert_allclose(_strategies(a), _strategies(c), atol=1e-12)


def test_small_epsilon_and_tau_approach_closed_form_mixed_nash():
    R1 = np.array([[3.0, -1.0], [-2.0, 1.0]])
    R2 = np.array([[-1.0, 2.0], [1.0, -1.0]])
    # Mixed Nash (spec 3): P(partner first) makes the player indifferent, using its own matrix.
    A1, A2 = R1, R2.T
    y = (A1[1, 1] - A1[0, 1]) / ((A1[0, 0] - A1[0, 1]) - (A1[1, 0] - A1[1, 1]))
    x = (A2[1, 1] - A2[0, 1]) / ((A2[0, 0] - A2[0, 1]) - (A2[1, 0] - A2[1, 1]))
    res = rqe.solve(rqe.NormalFormGame.from_bimatrix(R1, R2), tau=1e-5, epsilon=1e-5)
    assert res.success
    assert res.strategies[0][0] == pytest.approx(x, abs=1e-4)
    assert res.strategies[1][0] == pytest.approx(y, abs=1e-4)


@pytest.mark.parametrize("regularizer", ["entropy", "log_barrier"])
def test_2x2_rqe_sets_match_brute_force(regularizer, rng):
    for _ in range(2):
        R1, R2 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        tau, eps = rng.uniform(0.2, 3.0, 2), rng.uniform(0.05, 0.5, 2)
        found = rqe.solve_all(rqe.NormalFormGame.from_bimatrix(R1, R2), tau=tau, epsilon=eps,
                              regularizer=regularizer)
        expected = oracles.all_equilibria_2x2(R1, R2, tau, eps, nu=regularizer)
        assert found.complete and len(found) == len(expected)
        for e, (x, y) in zip(found, sorted(expected)):
            assert e.strategies[0][0] == pytest.approx(x, abs=ORACLE_TOL)
            assert e.strategies[1][0] == pytest.approx(y, abs=ORACLE_TOL)


def test_n_player_equilibrium_condition_by_direct_maximisation(rng):
    U = rng.normal(size=(3, 2, 3, 2))
    tau, eps = [0.5, 1.5, 0.0], [0.3, 0.2, 0.5]
    res = rqe.solve(rqe.NormalFormGame(U), tau=tau, epsilon=eps)
    assert res.success and res.residual <= CERT_TOL and res.gap <= CERT_TOL
    assert oracles.max_deviation_gain(U, res.strategies, tau, eps) <= 1e-9
    np.testing.assert_allclose(res.adversaries[0].sum(), 1.0)
    assert res.adversaries[0].shape == (3, 2)


def test_gap_bounds_the_true_deviation_gain_away_from_equilibrium(rng):
    U = rng.normal(size=(2, 3, 3))
    game = rqe.NormalFormGame(U)
    tau, eps = [1.0, 2.0], [0.2, 0.4]
    system = RQESystem(game, np.array(tau), np.array(eps), KL(), Entropy())
    for _ in range(3):
        xs = [rng.dirichlet(np.ones(3)) for _ in range(2)]
        state = system.evaluate(np.log(np.concatenate(xs)))
        gain = oracles.max_deviation_gain(U, xs, tau, eps)
        assert 0 < gain <= system.gaps(state).max() + 1e-9


# ---------------------------------------------------------------- invariances (hypothesis)
def _random_game(seed, shape):
    return np.random.default_rng(seed).normal(size=(len(shape),) + shape)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), c=st.floats(0.05, 20.0))
@example(seed=150, c=13.0)   # the lifted trace reversed at a fold here (it now retries on the composed map)
def test_payoff_scale_invariance(seed, c):
    U = _random_game(seed, (3, 2))
    tau, eps = np.array([0.8, 1.3]), np.array([0.4, 0.25])
    a = rqe.solve(rqe.NormalFormGame(c * U), tau=tau, epsilon=eps, method="homotopy")
    b = rqe.solve(rqe.NormalFormGame(U), tau=c * tau, epsilon=eps / c, method="homotopy")
    assert a.success and b.success
    np.testing.assert_allclose(_strategies(a), _strategies(b), atol=MATCH_TOL)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), shift=st.floats(-100, 100), risk=st.sampled_from(["kl", "reverse_kl"]),
       reg=st.sampled_from(["entropy", "log_barrier"]))
def test_adding_a_constant_changes_nothing(seed, shift, risk, reg):
    U = _random_game(seed, (2, 3))
    V = U.copy()
    V[1] += shift
    kw = dict(tau=[1.0, 0.5], epsilon=[0.5, 0.3], risk=risk, regularizer=reg, method="homotopy")
    a, b = rqe.solve(rqe.NormalFormGame(U), **kw), rqe.solve(rqe.NormalFormGame(V), **kw)
    np.testing.assert_allclose(_strategies(a), _strategies(b), atol=MATCH_TOL)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), data=st.data())
def test_relabelling_actions_and_players_permutes_the_answer(seed, data):
    shape = (2, 3, 2)
    U = _random_game(seed, shape)
    tau, eps = np.array([0.5, 1.0, 0.2]), np.array([0.5, 0.4, 0.6])
    players = data.draw(st.permutations(range(3)))
    actions = [data.draw(st.permutations(range(k))) for k in shape]
    V = U[:, actions[0]][:, :, actions[1]][:, :, :, actions[2]]
    V = np.transpose(V[list(players)], [0] + [1 + p for p in players])
    a = rqe.solve(rqe.NormalFormGame(U), tau=tau, epsilon=eps, method="homotopy")
    b = rqe.solve(rqe.NormalFormGame(V), tau=tau[list(players)], epsilon=eps[list(players)], method="homotopy")
    for k, p in enumerate(players):
        np.testing.assert_allclose(b.strategies[k], a.strategies[p][actions[p]], atol=MATCH_TOL)


# ---------------------------------------------------------------- experimental data
@pytest.mark.parametrize("eg", catalog.experimental_games(), ids=lambda g: g.name)
def test_experimental_games_kl_log_barrier_reproduce_observed_play(eg):
    fit = eg.fit_kl_log_barrier
    res = rqe.solve(eg.game, tau=fit["tau"], epsilon=fit["epsilon"], risk="kl", regularizer="log_barrier")
    assert res.success and res.residual <= CERT_TOL
    assert abs(res.strategies[0][0] - eg.observed[0]) <= DATA_KL_LB
    assert abs(res.strategies[1][0] - eg.observed[1]) <= DATA_KL_LB


@pytest.mark.parametrize("eg", catalog.experimental_games(), ids=lambda g: g.name)
def test_experimental_games_reverse_kl_entropy_reach_goals(eg):
    fit = eg.fit_reverse_kl_entropy
    res = rqe.solve(fit["game"], tau=fit["tau"], epsilon=fit["epsilon"], risk="reverse_kl", regularizer="entropy")
    assert res.success
    assert abs(res.strategies[0][0] - fit["goal"][0]) <= DATA_RKL_ENT
    assert abs(res.strategies[1][1] - fit["goal"][1]) <= DATA_RKL_ENT


# ---------------------------------------------------------------- robustness
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_payoff_scales_from_1e_minus_3_to_1e4(scale, rng):
    U = rng.normal(size=(2, 4, 4))
    base = rqe.solve(rqe.NormalFormGame(U), tau=[0.001, 100.0], epsilon=[0.05, 0.5], method="homotopy")
    scaled = rqe.solve(rqe.NormalFormGame(scale * U), tau=[0.001 / scale, 100.0 / scale],
                       epsilon=[0.05 * scale, 0.5 * scale])
    assert base.success and scaled.success
    np.testing.assert_allclose(_strategies(scaled), _strategies(base), atol=MATCH_TOL)


def test_probabilities_down_to_1e_minus_200_are_exact():
    # Player 1's payoff difference is 1 whatever player 2 does, so its response is
    # softmax([1, 0] / epsilon) for any tau: with epsilon = 1/500, P(second) = 1/(1 + e^500).
    R1 = np.array([[5.0, 2.0], [4.0, 1.0]])
    R2 = np.array([[0.0, 1.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rqe.solve(rqe.NormalFormGame.from_bimatrix(R1, R2), tau=[3.0, 0.5], epsilon=[1 / 500, 0.3])
    assert res.success
    p = res.strategies[0][1]
    assert 1e-220 < p < 1e-200
    assert np.log(p) == pytest.approx(-np.logaddexp(0.0, 500.0), rel=1e-12)


def test_homotopy_and_newton_agree_where_unique(rng):
    game = rqe.NormalFormGame.from_bimatrix(rng.random((4, 4)), rng.random((4, 4)))
    a = rqe.solve(game, tau=0.5, epsilon=1.0, method="newton")
    b = rqe.solve(game, tau=0.5, epsilon=1.0, method="homotopy")
    c = rqe.solve(game, tau=0.5, epsilon=1.0, method="fixed_point")
    np.testing.assert_allclose(_strategies(a), _strategies(b), atol=MATCH_TOL)
    np.testing.assert_allclose(_strategies(a), _strategies(c), atol=1e-9)
    assert b.method == "homotopy" and c.method == "fixed_point"


def test_custom_protocol_objects_without_derivatives(rng):
    class PlainKL:
        name = "plain_kl"

        def adversary(self, g, log_q, tau):
            s = log_q - tau * g
            return s - np.log(np.exp(s - s.max()).sum()) - s.max()

        def penalty(self, log_p, log_q):
            return float(np.sum(np.exp(log_p) * (log_p - log_q)))

    game = rqe.NormalFormGame.from_bimatrix(rng.random((3, 2)), rng.random((3, 2)))
    a = rqe.solve(game, tau=1.0, epsilon=0.3, risk=PlainKL())
    b = rqe.solve(game, tau=1.0, epsilon=0.3, risk="kl")
    assert a.success and a.params["risk"] == "plain_kl"
    np.testing.assert_allclose(_strategies(a), _strategies(b), atol=1e-9)


def test_non_convergence_is_reported_not_silent():
    game = catalog.matching_pennies()
    with pytest.warns(rqe.ConvergenceWarning, match="Try"):
        res = rqe.solve(game, tau=0.5, epsilon=0.01, method="fixed_point", max_iter=3, x0=[[0.9, 0.1], [0.2, 0.8]])
    assert not res.success and res.status == 1 and res.residual > res.params["tol"]


def test_result_is_frozen_and_serialisable():
    import json

    res = rqe.solve(catalog.stag_hunt(), tau=1.0, epsilon=0.5)
    with pytest.raises(AttributeError):
        res.success = False
    d = json.loads(json.dumps(res.to_dict()))
    assert d["success"] is True and len(d["strategies"]) == 2
    assert repr(res).startswith("EquilibriumResult(message=")


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(tau=-1.0), ValueError, "'tau' parameter of rqe.solve must be a float in [0, inf)"),
    (dict(tau=[1.0, 2.0, 3.0]), ValueError, "shape (2,)"),
    (dict(tau=float("inf")), ValueError, "'tau'"),
    (dict(tau="big"), TypeError, "'tau'"),
    (dict(epsilon=0.0), ValueError, "'epsilon' parameter of rqe.solve must be a float in (0, inf)"),
    (dict(risk="cvar"), ValueError, "'risk'"),
    (dict(risk=object()), TypeError, "'adversary' and 'penalty'"),
    (dict(regularizer="l2"), ValueError, "'regularizer'"),
    (dict(regularizer=object()), TypeError, "'response' and 'value'"),
    (dict(method="magic"), ValueError, "'method'"),
    (dict(tol=0.0), ValueError, "'tol'"),
    (dict(max_iter=0), ValueError, "'max_iter'"),
    (dict(x0=[[1, 0]]), ValueError, "'x0'.*2 strategies"),
    (dict(x0=[[1, 0], [-1, 2]]), ValueError, "'x0'.*nonnegative"),
])
def test_solve_rejects_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        rqe.solve(catalog.matching_pennies(), **kwargs)


def test_other_entry_points_reject_bad_arguments():
    with pytest.raises(TypeError, match="'game'"):
        rqe.solve([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="exactly one of 'epsilon' and 'lam'"):
        rqe.solve_qre(catalog.matching_pennies())
    with pytest.raises(ValueError, match="exactly one"):
        rqe.solve_qre(catalog.matching_pennies(), epsilon=1.0, lam=1.0)
    with pytest.raises(ValueError, match="'lam'"):
        rqe.solve_qre(catalog.matching_pennies(), lam=-2.0)
    with pytest.raises(ValueError, match="'epsilon'"):
        rqe.solve_qre(catalog.matching_pennies(), epsilon=0.0)
    with pytest.raises(TypeError, match="'game'"):
        rqe.solve_qre("game", lam=1.0)
    with pytest.raises(ValueError, match="'n_starts'"):
        rqe.solve_all(catalog.rock_paper_scissors(), n_starts=-1)
