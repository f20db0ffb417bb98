"""rqe.cooperative against independent oracles: linprog worst cases, enumeration of joint actions and of
deterministic policies, closed forms of the QTRAN demo, the additive (ANOVA) projection."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.optimize import linprog

import rqe
from rqe.cooperative import (TeamGame, check_igm, evaluate_joint_action, fit_igm, fit_vdn, naive_individual_values,
                             qtran_game, robust_team_values, worst_case_model)
from rqe.uncertainty import Contamination, Entropic, TVBall, TVPenalty
from tests.conftest import CERT_TOL, MATCH_TOL, ORACLE_TOL


# ---------------------------------------------------------------- oracles
def lp_worst(p, w, op):
    """min q.w over laws q on the listed outcomes: TV ball, TV penalty or contamination, by linprog."""
    K = len(p)
    if isinstance(op, Contamination):
        e = linprog(w, A_eq=[np.ones(K)], b_eq=[1.0], bounds=[(0, None)] * K, method="highs").fun
        return (1 - op.radius) * p @ w + op.radius * e
    # variables (q, d), d >= |q - p|
    penalty = np.zeros(K) if isinstance(op, TVBall) else np.full(K, 0.5 / op.tau)
    A = np.block([[np.eye(K), -np.eye(K)], [-np.eye(K), -np.eye(K)]])
    b = np.concatenate([p, -p])
    if isinstance(op, TVBall):
        A = np.vstack([A, np.concatenate([np.zeros(K), np.full(K, 0.5)])])
        b = np.append(b, op.radius)
    res = linprog(np.concatenate([w, penalty]), A_ub=A, b_ub=b, A_eq=[np.concatenate([np.ones(K), np.zeros(K)])],
                  b_eq=[1.0], bounds=[(0, None)] * (2 * K), method="highs")
    assert res.status == 0
    return res.fun


def tv_ball_dense(P, W, radius):
    """Worst law within TV distance ``radius``, row-wise on dense arrays: move up to ``radius`` of mass from the
    highest values to the lowest one (a fractional knapsack; the operator itself is checked against linprog)."""
    W = np.broadcast_to(W, P.shape)
    order = np.argsort(-W, axis=-1, kind="stable")
    p, w = np.take_along_axis(P, order, -1), np.take_along_axis(W, order, -1)
    before = np.cumsum(p, -1) - p
    taken = np.clip(radius - before, 0.0, p)
    return (p * w).sum(-1) - (taken * (w - W.min(-1, keepdims=True))).sum(-1)


def random_team_game(rng, n=(2, 3, 2), K=4):
    values = rng.normal(size=(*n, K)) * 3
    probs = rng.random((*n, K)) * (rng.random((*n, K)) < 0.7)
    probs[..., 0] += 0.05
    return TeamGame(values, probs / probs.sum(-1, keepdims=True))


def random_team_markov(rng, S=3, n=(2, 2), *, discount=0.8, horizon=None, stop=0.1, legal=False):
    r = rng.normal(size=(S, *n))
    P = rng.random((S, *n, S)) * (rng.random((S, *n, S)) < 0.8) + 1e-3
    P = P / P.sum(-1, keepdims=True) * (1 - stop * rng.random((S, *n, 1)))
    masks = None
    if legal:
        masks = [np.ones((S, k), dtype=bool) for k in n]
        masks[0][0, -1] = False
    return rqe.MarkovGame(np.stack([r] * len(n)), P, discount=None if horizon else discount, horizon=horizon,
                          legal=masks, initial=np.full(S, 1.0 / S))


OPERATORS = [TVBall(0.15), Contamination(0.3), TVPenalty(0.8)]


# ---------------------------------------------------------------- robust team values
@pytest.mark.parametrize("op", OPERATORS, ids=repr)
def test_team_game_values_match_linprog_and_igm_holds(op, rng):
    game = random_team_game(rng)
    res = robust_team_values(game, env_risk=op)
    want = np.empty(game.n_actions)
    for a in np.ndindex(*game.n_actions):
        want[a] = lp_worst(game.probs[a], game.values[a], op)
    np.testing.assert_allclose(res.q, want, atol=ORACLE_TOL)
    best = max(np.ndindex(*game.n_actions), key=lambda a: (want[a], tuple(-v for v in a)))
    assert res.joint_action == best and abs(res.payoffs[0] - want[best]) < ORACLE_TOL
    # DrIGM by enumeration: each agent's greedy action on its individual values is its part of a*
    assert res.igm and check_igm(res.q, res.individual).holds
    assert tuple(int(np.argmax(u)) for u in res.individual) == best
    # the global worst-case model attains every robust value
    wc = worst_case_model(game, res)
    assert np.all(wc >= -1e-12) and np.allclose(wc.sum(-1), 1)
    penalty = 0.5 * np.abs(wc - game.probs).sum(-1) / op.tau if isinstance(op, TVPenalty) else 0.0
    np.testing.assert_allclose((wc * game.values).sum(-1) + penalty, want, atol=ORACLE_TOL)


@pytest.mark.parametrize("seed", range(2))
def test_discounted_robust_value_iteration_against_linprog_and_policy_enumeration(seed):
    rng = np.random.default_rng(seed)
    game = random_team_markov(rng, legal=seed == 1)
    op = TVBall(0.2)
    res = robust_team_values(game, env_risk=op, tol=1e-12)
    assert res.success and res.bellman_residual < CERT_TOL and res.igm
    # the robust Bellman equation, row by row, with linprog worst cases (terminal outcome of value 0)
    P = game.transitions.toarray()
    W = np.append(res.values, 0.0)
    legal = np.ones((game.n_states, *game.n_actions), dtype=bool)
    legal[0, -1, :] = seed != 1
    for row, (s, *a) in enumerate(itertools.product(range(game.n_states), *map(range, game.n_actions))):
        p = np.append(P[row], game.stop[row])
        want = game.reward()[0][(s, *a)] + game.discount * lp_worst(p, W, op)
        got = res.q[(s, *a)]
        assert (abs(got - want) < ORACLE_TOL) if legal[(s, *a)] else got == -np.inf
    # a second algorithm: every deterministic stationary joint policy, each evaluated by iterating its own
    # robust Bellman equation, all at once (s,a-rectangular sets: deterministic policies suffice)
    A, S = game.n_joint, game.n_states
    picks = np.array([pk for pk in itertools.product(range(A), repeat=S)
                      if all(legal.reshape(S, A)[s, a] for s, a in enumerate(pk))])
    rows = np.arange(S) * A + picks                                     # (policies, S)
    Pa = np.hstack([P, game.stop[:, None]])[rows]                       # (policies, S, S + 1)
    r = game.reward()[0].reshape(-1)[rows]
    V = np.zeros(rows.shape)
    for _ in range(200):                                                # 0.8^200: far below the tolerance
        V = r + game.discount * tv_ball_dense(Pa, np.append(V, np.zeros((len(V), 1)), 1)[:, None, :], op.radius)
    best = float(np.max(V @ game.initial))
    assert abs(best - res.payoffs[0]) < ORACLE_TOL
    assert abs(evaluate_joint_action(game, res.joint_action, env_risk=op) - res.payoffs[0]) < ORACLE_TOL


def test_robust_values_are_optimal_under_the_global_worst_case_model(rng):
    """Q is the ordinary optimal action value of the one MDP whose kernel is the worst-case law of each row
    (uncertainty sets); for a penalised form, the worst law's value plus its penalty."""
    game = random_team_markov(rng, S=4, n=(2, 3))
    for op in (Contamination(0.25), TVBall(0.3)):
        res = robust_team_values(game, env_risk=op, tol=1e-13)
        Pw = worst_case_model(game, res).reshape(-1, game.n_states + 1)[:, :-1]      # termination has value 0
        # policy evaluation of the greedy joint policy under the fixed model, by a linear solve
        S, A = game.n_states, game.n_joint
        pick = np.ravel_multi_index(res.joint_action.T, game.n_actions)
        rows = np.arange(S) * A + pick
        r = game.reward()[0].reshape(S, A)
        V = np.linalg.solve(np.eye(S) - game.discount * Pw[rows], r[np.arange(S), pick])
        np.testing.assert_allclose(V, res.values, atol=1e-8)
        Q = r + game.discount * (Pw @ V).reshape(S, A)
        np.testing.assert_allclose(Q.reshape(res.q.shape), res.q, atol=1e-8)      # and no improvement exists
        assert np.all(Q.max(1) <= V + 1e-8)
    op = Entropic(1.5)
    res = robust_team_values(game, env_risk=op)
    q = worst_case_model(game, res).reshape(-1, game.n_states + 1)
    p = np.hstack([game.transitions.toarray(), game.stop[:, None]])
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(q > 0, q * np.log(q / p), 0.0).sum(1)
    cont = q @ np.append(res.values, 0.0) + kl / op.tau
    np.testing.assert_allclose(game.reward()[0].ravel() + game.discount * cont, res.q.ravel(), atol=1e-8)


def test_finite_horizon_backward_induction_against_linprog(rng):
    game = random_team_markov(rng, horizon=3)
    op = TVPenalty(0.5)
    res = robust_team_values(game, env_risk=op)
    assert res.q.shape == (3, 3, 2, 2) and res.joint_action.shape == (3, 3, 2) and res.igm
    P = np.hstack([game.transitions.toarray(), game.stop[:, None]])
    for h in range(3):
        W = np.append(res.values[h + 1] if h < 2 else np.zeros(3), 0.0)
        want = game.reward()[0].ravel() + np.array([lp_worst(p, W, op) for p in P])
        np.testing.assert_allclose(res.q[h].ravel(), want, atol=ORACLE_TOL)
    assert abs(evaluate_joint_action(game, res.joint_action, env_risk=op) - res.payoffs[0]) < ORACLE_TOL
    assert worst_case_model(game, res).shape == (3, 3, 2, 2, 4)


def test_nominal_values_and_matrix_game_markov_equivalence():
    """A TeamGame and the one-state, one-step Markov game of its expected rewards agree without risk."""
    game = qtran_game()
    mg = rqe.MarkovGame(np.stack([game.expected()[None]] * 2), np.ones((1, 3, 3, 1)), horizon=1)
    a, b = robust_team_values(game), robust_team_values(mg)
    np.testing.assert_allclose(a.q, b.q[0, 0])
    assert a.joint_action == tuple(b.joint_action[0, 0]) == (0, 0) and a.payoffs.tolist() == b.payoffs.tolist() == [8.0, 8.0]


# ---------------------------------------------------------------- the demo: QTRAN with a lottery
@pytest.mark.parametrize("kw", [{}, dict(jackpot=20.0, bust=-2.0, p=0.4, safe=5.0)])
def test_switch_radius_closed_form(kw):
    game = qtran_game(**kw)
    hi, lo, p, safe = kw.get("jackpot", 16.0), kw.get("bust", 0.0), kw.get("p", 0.5), kw.get("safe", 6.0)
    m = p * hi + (1 - p) * lo
    switches = {TVBall: (m - safe) / (hi - lo), Contamination: (m - safe) / (m - lo)}
    for cls, r_star in switches.items():
        assert 0 < r_star <= p
        assert robust_team_values(game, env_risk=cls(r_star - 1e-6)).joint_action == (0, 0)
        assert robust_team_values(game, env_risk=cls(r_star + 1e-6)).joint_action == (1, 1)
        # at the switch the lottery's worst case (linprog) is worth exactly the safe entry
        assert abs(lp_worst(game.probs[0, 0], game.values[0, 0], cls(r_star)) - safe) < ORACLE_TOL
    tau_star = p / (safe - lo)                                      # TV penalty: p (lo + 1/tau) + (1 - p) lo = safe
    assert robust_team_values(game, env_risk=TVPenalty(tau_star * (1 - 1e-6))).joint_action == (0, 0)
    assert robust_team_values(game, env_risk=TVPenalty(tau_star * (1 + 1e-6))).joint_action == (1, 1)
    if not kw:
        assert switches[TVBall] == 1 / 8 and switches[Contamination] == 1 / 4 and tau_star == 1 / 12


def test_naive_per_agent_worst_case_disagrees_on_the_counterexample():
    game = qtran_game()
    op = TVBall(0.2)
    team = robust_team_values(game, env_risk=op)
    naive = naive_individual_values(game, env_risk=op)
    # oracle: agent 1's local law given a_1 mixes the teammate at its nominal action A (index 0) with the outcome
    for i in range(2):
        for a in range(3):
            joint = [(a, b) if i == 0 else (b, a) for b in range(3)]
            p = np.concatenate([game.probs[j] * (j[1 - i] == 0) for j in joint])
            w = np.concatenate([game.values[j] for j in joint])
            assert abs(naive[i][a] - lp_worst(p, w, op)) < ORACLE_TOL
    greedy = tuple(int(np.argmax(u)) for u in naive)
    assert greedy == (0, 0) != team.joint_action == (1, 1)
    igm = check_igm(team.q, naive)
    assert not igm.holds and abs(float(igm.regret) - (6.0 - (8 - 0.2 * 16))) < MATCH_TOL
    # with the teammates modelled at the robust joint action instead, the naive agents do coordinate
    assert tuple(int(np.argmax(u)) for u in naive_individual_values(game, env_risk=op,
                                                                     behaviour=[[0, 1, 0]] * 2)) == (1, 1)


def test_factorisations_on_nominal_and_robust_targets_and_ood_returns():
    game = qtran_game()
    nominal, robust = robust_team_values(game), robust_team_values(game, env_risk=TVBall(0.2))
    q = game.expected()
    additive = q.mean(1, keepdims=True) + q.mean(0, keepdims=True) - q.mean()      # the ANOVA projection
    for team in (nominal, robust):
        vdn = fit_vdn(team)
        target = np.asarray(team.q)
        proj = target.mean(1, keepdims=True) + target.mean(0, keepdims=True) - target.mean()
        np.testing.assert_allclose(vdn.q_tot, proj, atol=MATCH_TOL)
        assert vdn.joint_action == (1, 1)
        igm = fit_igm(team)
        u1, u2 = igm.utilities
        transformed = u1[:, None] + u2[None, :] + igm.values
        assert np.all(transformed >= target - CERT_TOL) and abs(transformed[igm.joint_action] - target.max()) < CERT_TOL
        assert igm.residual < CERT_TOL and float(igm.regret) == 0.0
        assert igm.joint_action == team.joint_action
    np.testing.assert_allclose(fit_vdn(nominal).q_tot, additive, atol=MATCH_TOL)
    assert float(fit_vdn(nominal).regret) == 2.0 and float(fit_vdn(robust).regret) == 0.0
    # out of distribution: the lottery pays with probability p' instead of 1/2
    for p_new in (0.5, 0.4, 0.3, 0.2):
        probs = np.array(game.probs)
        probs[0, 0] = [p_new, 1 - p_new]
        shifted = game.with_probs(probs)
        assert abs(evaluate_joint_action(shifted, fit_igm(nominal).joint_action) - 16 * p_new) < MATCH_TOL
        assert evaluate_joint_action(shifted, fit_igm(robust).joint_action) == 6.0


def test_vdn_weights_and_markov_factorisations(rng):
    game = random_team_game(rng, n=(2, 3, 2))
    team = robust_team_values(game, env_risk=TVBall(0.1))
    w = rng.random(game.n_actions) + 0.1
    vdn = fit_vdn(team, weights=w)
    X = np.array([[float(a[i] == k) for i in range(3) for k in range(game.n_actions[i])]
                  for a in np.ndindex(*game.n_actions)])
    sw = np.sqrt(w.ravel())
    oracle = X @ np.linalg.pinv(X * sw[:, None]) @ (team.q.ravel() * sw)          # weighted least squares
    np.testing.assert_allclose(vdn.q_tot.ravel(), oracle, atol=1e-8)
    mg = random_team_markov(rng, S=3, n=(3, 2))
    team = robust_team_values(mg, env_risk=Contamination(0.2))
    igm, vdn = fit_igm(team), fit_vdn(team)
    assert igm.utilities[0].shape == (3, 3) and np.all(igm.regret == 0) and igm.residual < CERT_TOL
    np.testing.assert_array_equal(igm.joint_action, team.joint_action)
    assert vdn.regret.shape == (3,) and np.all(vdn.regret >= 0)


def test_check_igm_ties_and_result_dicts():
    q = np.array([[1.0, 1.0], [1.0, 0.0]])
    check = check_igm(q, [np.array([1.0, 1.0]), np.array([1.0, 1.0])])   # (1, 1) combines two maximisers
    assert not check.holds and check.joint_action == (0, 0) and float(check.regret) == 0.0
    assert check.n_checked == 4 and "fails" in check.to_dict()["message"]
    res = robust_team_values(qtran_game(), env_risk=TVBall(0.2))
    d = res.to_dict()
    assert d["env_risk"] == "TVBall(radius=0.2)" and d["joint_action"] == [1, 1]
    assert fit_vdn(res).to_dict()["method"] == "vdn least squares"


# ---------------------------------------------------------------- non-convergence and bad input
def test_iteration_cap_is_reported(rng):
    game = random_team_markov(rng, discount=0.99)
    with pytest.warns(rqe.ConvergenceWarning, match="max_iter"):
        res = robust_team_values(game, env_risk=TVBall(0.1), max_iter=5)
    assert not res.success and res.status == 1 and res.nit == 5 and res.bellman_residual > 0


def test_bad_input_raises(rng):
    f = "rqe.cooperative.TeamGame"
    with pytest.raises(ValueError, match=f"'values' and 'probs' parameters of {f}"):
        TeamGame(np.zeros((2, 2, 2)), np.ones((2, 2, 3)) / 3)
    with pytest.raises(ValueError, match="'probs'.*Joint action \\(0, 1\\)"):
        TeamGame(np.zeros((2, 2, 2)), [[[1, 0], [0.5, 0.6]], [[1, 0], [1, 0]]])
    with pytest.raises(ValueError, match="'players'"):
        TeamGame(np.zeros((2, 2)), players=["a"])
    with pytest.raises(ValueError, match="'actions'.*one list"):
        TeamGame(np.zeros((2, 2)), actions=[["x", "y"]])
    with pytest.raises(ValueError, match="'p' parameter of rqe.cooperative.qtran_game"):
        qtran_game(p=1.5)
    with pytest.raises(ValueError, match="'jackpot'"):
        qtran_game(jackpot=np.inf)
    g = rqe.MarkovGame(rng.normal(size=(2, 2, 2, 2)), np.full((2, 2, 2, 2), 0.5), discount=0.5)
    with pytest.raises(ValueError, match="must be cooperative.*Player 1"):
        robust_team_values(g)
    with pytest.raises(TypeError, match="'game' parameter of rqe.cooperative.robust_team_values"):
        robust_team_values(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="'tol'"):
        robust_team_values(qtran_game(), tol=0)
    with pytest.raises(ValueError, match="'env_risk'"):
        robust_team_values(qtran_game(), env_risk="worst")
    with pytest.raises(ValueError, match="one axis per agent"):
        check_igm(np.zeros(3), [np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match="agent 1's values must have shape"):
        check_igm(np.zeros((2, 3)), [np.zeros(2), np.zeros(2)])
    team = robust_team_values(qtran_game())
    with pytest.raises(TypeError, match="'team' parameter of rqe.cooperative.worst_case_model"):
        worst_case_model(qtran_game(), team.q)
    with pytest.raises(ValueError, match="does not belong to this game"):
        worst_case_model(TeamGame(np.zeros((2, 2))), team)
    coop = random_team_markov(rng)
    with pytest.raises(ValueError, match="does not belong to this game"):
        worst_case_model(coop, team)

    class NoWorst:
        name = "no_worst"

        def evaluate(self, P, W):
            return np.asarray(P @ W)

    with pytest.raises(TypeError, match="no 'worst_case"):
        worst_case_model(qtran_game(), robust_team_values(qtran_game(), env_risk=NoWorst()))
    with pytest.raises(TypeError, match="one-step games only"):
        naive_individual_values(coop, env_risk=TVBall(0.1))
    with pytest.raises(ValueError, match="'behaviour'.*one strategy per agent"):
        naive_individual_values(qtran_game(), env_risk=TVBall(0.1), behaviour=[[1, 0, 0]])
    with pytest.raises(ValueError, match="agent 1's strategy"):
        naive_individual_values(qtran_game(), env_risk=TVBall(0.1), behaviour=[[1, 0, 0], [0.5, 0.6, 0]])
    illegal = robust_team_values(random_team_markov(rng, legal=True))
    with pytest.raises(ValueError, match="every joint action legal"):
        fit_igm(illegal)
    with pytest.raises(TypeError, match="'team' parameter of rqe.cooperative.fit_vdn"):
        fit_vdn(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="'weights'.*broadcast"):
        fit_vdn(team, weights=np.ones(4))
    with pytest.raises(ValueError, match="'weights'.*nonnegative"):
        fit_vdn(team, weights=-np.ones((3, 3)))
    with pytest.raises(ValueError, match="'joint_action'.*one action per agent"):
        evaluate_joint_action(qtran_game(), (0, 3))
    with pytest.raises(ValueError, match="'joint_action'.*int array of shape \\(3, 2\\)"):
        evaluate_joint_action(coop, np.zeros((3, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert evaluate_joint_action(coop, np.zeros((3, 2), dtype=int)) == pytest.approx(
            rqe.markov.evaluate(coop, [np.eye(2)[np.zeros(3, int)]] * 2)[0])
