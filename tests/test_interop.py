"""Interop with sgamesolver (MarkovGame conversion, its logit QRE) and OpenSpiel (stage RQE in Q-learning).

Tests that need a package skip when it is absent.  Oracles: sgamesolver's own homotopy QRE,
checked against the logit stage map, a value iteration written here and
``rqe.solve_markov``; OpenSpiel's learner checked against ``rqe.solve`` and against the
closed-form value of a uniform stage.
"""

import sys

import numpy as np
import pytest

import rqe
from rqe.games import markov_catalog as mc
from rqe.interop import openspiel_stage_solver

from conftest import CERT_TOL, MATCH_TOL

SGAME_TOL = 1e-6     # sgamesolver's path tracer stops at convergence_tol = 1e-7 (its default) in its own metric
ROUND_TOL = 1e-15    # rqe rescales rows summing to 1 + O(1e-16): the round trip may move the last bit


@pytest.fixture
def sgamesolver(monkeypatch):
    sgs = pytest.importorskip("sgamesolver")
    # sgamesolver 1.0.2 still calls np.NaN, which NumPy 2 removed (only its solvers need it)
    monkeypatch.setattr(np, "NaN", np.nan, raising=False)
    return sgs


# ------------------------------------------------------------------------------------------ sgamesolver
def _padded_game(rng):
    """A discounted game whose illegal actions are trailing, with reward 0 and staying put."""
    S, n = 4, (2, 3)
    base = mc.random_markov_game(S, n, discount=0.7, stop=0.1, rng=rng)
    R, P = np.array(base.rewards), base.transition_tensor()
    legal = [np.ones((S, 2), bool), np.ones((S, 3), bool)]
    legal[1][1, 2] = False
    legal[0][3, 1] = False
    legal[1][3, 1:] = False
    for s in range(S):
        illegal = ~(legal[0][s][:, None] & legal[1][s][None, :])
        R[:, s][:, illegal] = 0.0
        P[s][illegal] = 0.0
        P[s][illegal, s] = 1.0
    return rqe.MarkovGame(R, P, initial=rng.dirichlet(np.ones(S)), discount=0.7, legal=legal,
                          players=["row", "col"], actions=[["u", "d"], ["l", "c", "r"]],
                          states=["w", "x", "y", "z"])


def test_round_trip_markov_game_to_sgame_and_back(sgamesolver, rng):
    game = _padded_game(rng)
    sg = game.to_sgamesolver()
    assert isinstance(sg, sgamesolver.SGame)
    assert sg.nums_actions.tolist() == [[2, 3], [2, 2], [2, 3], [1, 1]]
    assert sg.state_labels == ["w", "x", "y", "z"] and sg.player_labels == ["row", "col"]
    assert sg.action_labels[1][1] == ["l", "c"] and sg.action_labels[3][0] == ["u"]
    assert np.all(sg.delta == 0.7)
    back = rqe.MarkovGame.from_sgamesolver(sg, initial=game.initial)
    assert back == game
    assert (back.players, back.actions, back.states) == (game.players, game.actions, game.states)


def test_round_trip_sgame_to_markov_game_and_back(sgamesolver):
    sg = sgamesolver.SGame.random_game(5, 3, [1, 3], delta=0.8, seed=3)
    game = rqe.MarkovGame.from_sgamesolver(sg)
    assert game.n_players == 3 and game.discount == 0.8
    assert [m.sum(axis=1).tolist() for m in game.legal] == sg.nums_actions.T.tolist()
    again = game.to_sgamesolver()
    assert np.array_equal(again.nums_actions, sg.nums_actions)
    assert np.array_equal(again.u, sg.u)
    assert np.allclose(again.phi, sg.phi, rtol=0, atol=ROUND_TOL)


def test_states_with_leading_illegal_actions_keep_their_stage_games(sgamesolver):
    game = mc.volunteer_corridor(horizon=None, discount=0.9)
    sg = game.to_sgamesolver()
    for s in range(game.n_states):
        stage = game.stage_game(s)
        n = stage.n_actions
        assert sg.nums_actions[s].tolist() == list(n)
        assert np.array_equal(sg.u[s][:, :n[0], :n[1]], np.asarray(stage.payoffs))
        assert sg.action_labels[s] == [list(a) for a in stage.actions]


def _stage_logit(Q1, Q2, eps, x=None, sweeps=2000):
    """Logit QRE of the bimatrix stage (Q1, Q2 indexed [a1, a2]) by damped iteration."""
    x = [np.full(Q1.shape[0], 1 / Q1.shape[0]), np.full(Q1.shape[1], 1 / Q1.shape[1])] if x is None else x
    for _ in range(sweeps):
        g1, g2 = Q1 @ x[1] / eps, Q2.T @ x[0] / eps
        new = [np.exp(g1 - g1.max()), np.exp(g2 - g2.max())]
        new = [v / v.sum() for v in new]
        x = [0.5 * a + 0.5 * b for a, b in zip(x, new)]
    return x


def test_sgamesolver_qre_is_the_logit_markov_qre_of_rqe(sgamesolver):
    """Its QRE at lambda = 1/epsilon is a fixed point of the logit stage map with expected values."""
    eps, gamma = 0.8, 0.6
    sg = sgamesolver.SGame.random_game(3, 2, [2, 3], delta=gamma, seed=11)
    qre = sgamesolver.homotopy.QRE(sg)
    qre.solver_setup(target_lambda=1 / eps)
    qre.solver.verbose = 0
    qre.solve()
    sigma, V = np.nan_to_num(qre.equilibrium.strategies), np.asarray(qre.equilibrium.values)   # (S, N, m), (S, N)
    game = rqe.MarkovGame.from_sgamesolver(sg)
    R, P = game.reward(0), game.transition_tensor()
    nums = sg.nums_actions

    def q_values(W):                       # W: (S, N) -> Q: (N, S, n1, n2)
        return R + gamma * np.einsum("sabt,ti->isab", P, W)

    Q = q_values(V)
    for s in range(game.n_states):
        n1, n2 = nums[s]
        Q1, Q2 = Q[0, s, :n1, :n2], Q[1, s, :n1, :n2]
        x1, x2 = sigma[s, 0, :n1], sigma[s, 1, :n2]
        # the logit map, by hand, and rqe.solve's stage RQE at tau = 0
        for x, g in ((x1, Q1 @ x2), (x2, Q2.T @ x1)):
            logit = np.exp((g - g.max()) / eps)
            assert np.allclose(x, logit / logit.sum(), atol=SGAME_TOL)
        stage = rqe.solve(rqe.NormalFormGame([Q1, Q2]), tau=0.0, epsilon=eps)
        assert np.allclose(stage.strategies[0], x1, atol=SGAME_TOL)
        assert np.allclose(stage.strategies[1], x2, atol=SGAME_TOL)
        assert V[s] == pytest.approx([x1 @ Q1 @ x2, x1 @ Q2 @ x2], abs=SGAME_TOL)   # expected value of play
    # a tiny value iteration written here converges to the same profile
    W = np.zeros((game.n_states, 2))
    xs = [None] * game.n_states
    for _ in range(60):                    # gamma^60 < 1e-13
        Q = q_values(W)
        new = np.zeros_like(W)
        for s in range(game.n_states):
            n1, n2 = nums[s]
            Q1, Q2 = Q[0, s, :n1, :n2], Q[1, s, :n1, :n2]
            xs[s] = _stage_logit(Q1, Q2, eps, xs[s], sweeps=40)
            new[s] = [xs[s][0] @ Q1 @ xs[s][1], xs[s][0] @ Q2 @ xs[s][1]]
        W = new
    assert np.allclose(W, V, atol=SGAME_TOL)
    res = rqe.solve_markov(game, tau=0.0, epsilon=eps, value="expected", progress=False)
    assert res.success and np.allclose(res.values, V.T, atol=SGAME_TOL)
    for i in range(2):
        assert np.allclose(res.policies[i], sigma[:, i, :game.n_actions[i]], atol=SGAME_TOL)


def test_sgamesolver_errors(sgamesolver):
    horizon_game = mc.random_markov_game(3, 2, horizon=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs a discounted game.*horizon=2"):
        horizon_game.to_sgamesolver()
    with pytest.raises(TypeError, match="'sgame' parameter .* sgamesolver.SGame"):
        rqe.MarkovGame.from_sgamesolver(horizon_game)
    two = sgamesolver.SGame.random_game(2, 3, 2, delta=[0.5, 0.9, 0.9], seed=0)
    with pytest.raises(ValueError, match="one discount factor for all players.*0.5, 0.9, 0.9"):
        rqe.MarkovGame.from_sgamesolver(two)
    undiscounted = sgamesolver.SGame.random_game(2, 2, 2, delta=1.0, seed=0)
    with pytest.raises(ValueError, match="discount factor in \\[0, 1\\)"):
        rqe.MarkovGame.from_sgamesolver(undiscounted)


def test_to_sgamesolver_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "sgamesolver", None)
    game = mc.random_markov_game(3, 2, discount=0.5, rng=np.random.default_rng(0))
    with pytest.raises(ImportError, match="optional package sgamesolver \\(pip install sgamesolver\\)"):
        game.to_sgamesolver()


# ------------------------------------------------------------------------------------------ OpenSpiel
def test_stage_solver_is_rqe_solve_with_each_value_convention(rng):
    Q = rng.normal(size=(3, 2, 3, 2))
    kw = dict(tau=[0.5, 1.0, 2.0], epsilon=0.7)
    oracle = rqe.solve(rqe.NormalFormGame(list(Q)), **kw)
    mixtures, regularized = openspiel_stage_solver(**kw)(Q)
    for a, b in zip(mixtures, oracle.strategies):
        assert np.allclose(a, b, atol=MATCH_TOL)
    assert np.allclose(regularized, oracle.values, atol=MATCH_TOL)
    _, expected = openspiel_stage_solver(**kw, value="expected")(Q)
    joint = np.einsum("a,b,c->abc", *oracle.strategies)
    assert np.allclose(expected, [np.sum(Q[i] * joint) for i in range(3)], atol=MATCH_TOL)
    # a stage of zeros: uniform play, U^tau = 0, so the regularised value is epsilon log n
    zeros = np.zeros((2, 4, 3))
    for value, want in (("regularized", [0.7 * np.log(4), 0.7 * np.log(3)]), ("risk_adjusted", [0, 0]),
                        ("expected", [0, 0])):
        mix, vals = openspiel_stage_solver(tau=1.0, epsilon=0.7, value=value)(zeros)
        assert np.allclose(vals, want, atol=CERT_TOL) and np.allclose(mix[0], 0.25)
    full = openspiel_stage_solver(tau=1.0, epsilon=0.7).solve(Q[:2, :, :, 0])
    assert full.success and full.residual < CERT_TOL


@pytest.mark.parametrize("kwargs, match", [
    ({"tau": -1.0}, "'tau' parameter of rqe.interop.openspiel_stage_solver"),
    ({"epsilon": 0.0}, "'epsilon' parameter"),
    ({"epsilon": [[1.0]]}, "'epsilon' parameter"),
    ({"value": "mean"}, "'value' parameter"),
    ({"tol": 0}, "'tol' parameter"),
    ({"max_iter": 0}, "'max_iter' parameter"),
    ({"risk": "cvar"}, "'risk' parameter"),
])
def test_stage_solver_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        openspiel_stage_solver(**kwargs)


def test_stage_solver_bad_payoffs():
    with pytest.raises(ValueError, match="shape \\(N, n_1, ..., n_N\\)"):
        openspiel_stage_solver()(np.zeros((3, 2, 2)))


def _learners(env, solver):
    from open_spiel.python.algorithms.tabular_multiagent_qlearner import MultiagentQLearner

    n = env.game.num_distinct_actions()
    return [MultiagentQLearner(p, 2, [n, n], solver) for p in range(2)]


def test_openspiel_q_learning_plays_the_stage_rqe():
    pytest.importorskip("pyspiel")
    rl_environment = pytest.importorskip("open_spiel.python.rl_environment")
    env = rl_environment.Environment("matrix_pd")
    kw = dict(tau=0.5, epsilon=0.5)
    learners = _learners(env, openspiel_stage_solver(**kw))
    for _ in range(15):
        ts, actions = env.reset(), [None, None]
        actions = [agent.step(ts, actions).action for agent in learners]
        ts = env.step(actions)
        for agent in learners:
            agent.step(ts, actions)
    ts = env.reset()
    Q = learners[0]._get_payoffs_array(str(ts.observations["info_state"]))
    assert np.any(Q != 0)
    oracle = rqe.solve(rqe.NormalFormGame(list(Q)), **kw)
    probs = [agent.step(ts, [None, None], is_evaluation=True).probs for agent in learners]
    assert np.allclose(probs[0], oracle.strategies[0], atol=MATCH_TOL)
    assert np.allclose(probs[1], oracle.strategies[1], atol=MATCH_TOL)


@pytest.mark.parametrize("value", ["regularized", "expected"])
def test_openspiel_markov_game_targets_use_the_stage_value(value):
    """First update on a grid game: the next state's Q-table is zero, whose stage value is known."""
    pytest.importorskip("pyspiel")
    rl_environment = pytest.importorskip("open_spiel.python.rl_environment")
    env = rl_environment.Environment("pathfinding", grid="B.A\n...\na.b", players=2, step_reward=-1.0, horizon=6)
    eps = 0.3
    learners = _learners(env, openspiel_stage_solver(tau=1.0, epsilon=eps, value=value))
    n = env.game.num_distinct_actions()
    ts, actions = env.reset(), [None, None]
    first = str(ts.observations["info_state"])
    actions = [agent.step(ts, actions).action for agent in learners]
    ts = env.step(actions)
    for agent in learners:
        agent.step(ts, actions)
    stage_value = eps * np.log(n) if value == "regularized" else 0.0
    for p in range(2):
        target = ts.rewards[p] + stage_value               # discount_factor = 1, step_size = 0.1
        assert learners[0]._q_values[p][first][tuple(actions)] == pytest.approx(0.1 * target, abs=CERT_TOL)
    steps = 1
    while not ts.last():
        actions = [agent.step(ts, actions).action for agent in learners]
        ts = env.step(actions)
        steps += 1
    assert steps <= 6
