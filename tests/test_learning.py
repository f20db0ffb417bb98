"""rqe.learning (exact SRPO/IPPO, cross-play, mirror descent) against oracles written here."""

import itertools
import sys
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

import rqe
from rqe.games import catalog
from rqe.games.markov_catalog import volunteer_corridor
from tests.conftest import CERT_TOL, MATCH_TOL, ORACLE_TOL

ROLLOUT_Z = 4.5        # Monte Carlo against exact: |difference| below this many standard errors
LEARN_TOL = 1e-8       # a converged learner against an exact solver (solver tol 1e-10, dynamics at 5e-14)


def random_game(rng, S=3, n=(2, 3), horizon=None, discount=None, stop=0.0, legal=None):
    R = rng.normal(size=(len(n), S, *n))
    P = rng.random((S, *n, S)) ** 3
    P *= (1 - stop) / P.sum(axis=-1, keepdims=True)
    return rqe.MarkovGame(R, P, horizon=horizon, discount=discount, legal=legal, initial=rng.dirichlet(np.ones(S)))


def degree(c, x1, x2):
    """Definition 2: |E_x1 c - E_x2 c|, written out."""
    return np.abs(x1 @ c - x2 @ c)


# ------------------------------------------------------------------ fixed points
def test_npg_fixed_point_of_a_matrix_game_is_the_rqe(rng):
    game = rqe.NormalFormGame(rng.normal(size=(3, 3, 2, 2)))
    tau, eps = [0.5, 1.5, 0.0], [0.9, 1.2, 1.0]
    res = rqe.learning.srpo(game, tau=tau, epsilon=eps, seeds=3, iters=3000, rng=rng)
    ref = rqe.solve(game, tau=tau, epsilon=eps, method="homotopy")
    assert res.success and res.status == 0 and np.all(res.converged)
    for i in range(3):
        np.testing.assert_allclose(res.policies[i], np.broadcast_to(ref.strategies[i], res.policies[i].shape),
                                   atol=LEARN_TOL)
        np.testing.assert_allclose(res.adversaries[i], np.broadcast_to(ref.adversaries[i].ravel(),
                                                                       res.adversaries[i].shape), atol=LEARN_TOL)
    np.testing.assert_allclose(res.values, np.broadcast_to(ref.values, res.values.shape), atol=LEARN_TOL)
    assert np.all(res.residual <= CERT_TOL) and np.all(res.gap <= CERT_TOL)
    assert res.exploitability is None and res.history["policies"][0].shape[1:] == (3, 3)


def test_npg_fixed_point_of_a_finite_horizon_game_is_solve_markov(rng):
    legal = [np.ones((3, 2), bool), np.ones((3, 3), bool)]
    legal[1][1, 0] = legal[1][2, 2] = False
    game = random_game(rng, n=(2, 3), horizon=3, stop=0.2, legal=legal)
    tau, eps = [0.8, 0.4], [1.0, 0.7]
    res = rqe.learning.srpo(game, tau=tau, epsilon=eps, seeds=2, iters=3000, rng=rng)
    ref = rqe.solve_markov(game, tau=tau, epsilon=eps, value="regularized")
    assert res.success and res.policies[1].shape == (2, 3, 3, 3)
    for i in range(2):
        np.testing.assert_allclose(res.policies[i], np.broadcast_to(ref.policies[i], res.policies[i].shape),
                                   atol=LEARN_TOL)
    assert np.all(res.policies[1][:, :, 1, 0] == 0) and np.all(res.policies[1][:, :, 2, 2] == 0)
    np.testing.assert_allclose(res.values, np.broadcast_to(ref.payoffs, res.values.shape), atol=LEARN_TOL)
    assert np.all(res.exploitability <= CERT_TOL)


def test_discounted_game_with_stationary_policies_and_learned_adversary(rng):
    game = random_game(rng, S=2, n=(2, 2), discount=0.5)
    ref = rqe.solve_markov(game, tau=0.6, epsilon=1.0)
    res = rqe.learning.srpo(game, tau=0.6, epsilon=1.0, seeds=2, iters=3000, lr=0.5, adversary="learned",
                            adversary_lr=0.8, rng=rng)
    assert res.success and res.policies[0].shape == (2, 2, 2)
    for i in range(2):
        np.testing.assert_allclose(res.policies[i], np.broadcast_to(ref.policies[i], res.policies[i].shape),
                                   atol=LEARN_TOL)
        np.testing.assert_allclose(res.adversaries[i], np.broadcast_to(ref.adversaries[i],
                                                                       res.adversaries[i].shape), atol=LEARN_TOL)


def test_vanilla_policy_gradient_reaches_the_same_rqe(rng):
    game = rqe.NormalFormGame.from_bimatrix(rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))
    res = rqe.learning.srpo(game, tau=0.7, epsilon=1.0, seeds=3, iters=20000, lr=2.0, update="pg", rng=rng)
    ref = rqe.solve(game, tau=0.7, epsilon=1.0)
    assert res.success and res.method == "srpo/pg/exact adversary"
    np.testing.assert_allclose(res.policies[1], np.broadcast_to(ref.strategies[1], (3, 3)), atol=1e-7)


def test_policy_gradient_is_the_derivative_of_rqe_markov_evaluate(rng):
    """The PG update direction (occupancy under the tilted dynamics) against central differences of evaluate."""
    from rqe.learning._tabular import Tabular

    game = random_game(rng, S=2, n=(2, 3), horizon=2, stop=0.1)
    tau, eps = np.array([0.9, 0.3]), np.array([0.5, 0.8])
    tab = Tabular(game)
    logits = rng.normal(size=(1, 2, 2, 2, 3))
    logp = tab.initial_logp(np.where(tab.legal[:, None], logits, -np.inf))
    grad = tab.policy_gradient(logp, tab.evaluate(logp, tau, eps), eps)

    def value(lp, i):
        pols = [np.exp(lp[0, j, ..., :game.n_actions[j]]) for j in range(2)]
        return rqe.markov.evaluate(game, pols, tau=tau, epsilon=eps)[i]

    h = 1e-6
    for i, t, s, a in [(0, 0, 1, 1), (1, 1, 0, 2), (1, 0, 1, 0)]:
        up, down = logp.copy(), logp.copy()
        up[0, i, t, s, a] += h
        down[0, i, t, s, a] -= h
        fd = (value(tab.initial_logp(up), i) - value(tab.initial_logp(down), i)) / (2 * h)
        assert grad[0, i, t, s, a] == pytest.approx(fd, abs=1e-7)


# ------------------------------------------------------------------ IPPO
def _soft_policy_iteration(game, x0, epsilon, lr, iters):
    """Independent NPG (damped soft policy iteration) for one pair, loops written out: the IPPO oracle."""
    H, S, n = game.horizon, game.n_states, game.n_actions
    R, P = game.reward(0), game.transition_tensor()
    logs = [np.log(x.copy()) for x in x0]
    for _ in range(iters):
        pis = [np.exp(lg) for lg in logs]
        V = np.zeros((2, S))
        Qs = [np.zeros((H, S, n[0])), np.zeros((H, S, n[1]))]
        for h in reversed(range(H)):
            newV = np.zeros((2, S))
            for s in range(S):
                Q = [R[i, s] + P[s] @ V[i] for i in range(2)]          # (n1, n2) each
                Qs[0][h, s] = Q[0] @ pis[1][h, s]
                Qs[1][h, s] = pis[0][h, s] @ Q[1]
                for i in range(2):
                    pi = pis[i][h, s]
                    newV[i, s] = pi @ Qs[i][h, s] - epsilon * np.sum(pi * np.log(pi))
            V = newV
        for i in range(2):
            step = (1 - lr) * logs[i] + (lr / epsilon) * Qs[i]
            logs[i] = step - np.log(np.exp(step).sum(-1, keepdims=True))
    return [np.exp(lg) for lg in logs]


def test_tau_zero_is_ippo_and_reproduces_independent_soft_policy_iteration(rng):
    game = random_game(rng, S=2, n=(2, 3), horizon=3)
    x0 = [rng.dirichlet(np.ones(2), size=(3, 2)), rng.dirichlet(np.ones(3), size=(3, 2))]
    kw = dict(epsilon=0.4, seeds=1, iters=7, lr=0.3, init=x0, early_stop=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rqe.ConvergenceWarning)      # 7 iterations: not converged, on purpose
        ippo = rqe.learning.ippo(game, **kw)
        srpo0 = rqe.learning.srpo(game, tau=0.0, **kw)
        near = rqe.learning.srpo(game, tau=1e-9, **kw)
    oracle = _soft_policy_iteration(game, x0, 0.4, 0.3, 7)
    for i in range(2):
        np.testing.assert_allclose(ippo.policies[i][0], oracle[i], atol=1e-12)
        np.testing.assert_array_equal(srpo0.policies[i], ippo.policies[i])
        np.testing.assert_allclose(near.policies[i], ippo.policies[i], atol=1e-8)
    assert ippo.label == "IPPO" and ippo.method == "ippo/npg" and near.label == "SRPO"
    assert not ippo.success and "NOT converged" in ippo.message


# ------------------------------------------------------------------ the adversary
def _adversary_oracle(qbar, q, tau):
    """argmin_psi psi . qbar + KL(psi || q) / tau over the simplex, by scipy (softmax parametrisation)."""
    def f(z):
        psi = np.exp(z - z.max())
        psi /= psi.sum()
        return psi @ qbar + np.sum(psi * np.log(psi / q)) / tau
    z = minimize(f, np.zeros(len(q)), method="BFGS", options={"gtol": 1e-12}).x
    psi = np.exp(z - z.max())
    return psi / psi.sum()


def test_exact_adversary_is_the_minimiser_of_the_kl_regularised_objective(rng):
    game = rqe.NormalFormGame.from_bimatrix(rng.normal(size=(3, 3)), rng.normal(size=(3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rqe.ConvergenceWarning)
        res = rqe.learning.srpo(game, tau=[2.0, 0.5], epsilon=0.5, seeds=2, iters=3, rng=rng)
    for k in range(2):
        x, y = res.policies[0][k], res.policies[1][k]
        np.testing.assert_allclose(res.adversaries[0][k], _adversary_oracle(game.own_rows[0].T @ x, y, 2.0),
                                   atol=ORACLE_TOL)
        np.testing.assert_allclose(res.adversaries[1][k], _adversary_oracle(game.own_rows[1].T @ y, x, 0.5),
                                   atol=ORACLE_TOL)


def test_exact_adversary_in_a_markov_game_uses_the_heros_continuation_values(rng):
    """At step 0 of a two-step game: Qbar from the values of step 1 computed by rqe.markov.evaluate."""
    game = random_game(rng, S=2, n=(2, 2), horizon=2)
    tau, eps = 1.5, 0.6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rqe.ConvergenceWarning)
        res = rqe.learning.srpo(game, tau=tau, epsilon=eps, seeds=1, iters=2, rng=rng)
    pols = [p[0] for p in res.policies]
    last = [p[1:] for p in pols]
    V1 = np.array([[rqe.markov.evaluate(game.replace(horizon=1, initial=np.eye(2)[s]), last, tau=tau,
                                        epsilon=eps)[i] for s in range(2)] for i in range(2)])
    R, P = game.reward(0), game.transition_tensor()
    for s in range(2):
        Q0 = R[0, s] + P[s] @ V1[0]                                   # (a1, a2)
        psi = _adversary_oracle(pols[0][0, s] @ Q0, pols[1][0, s], tau)
        np.testing.assert_allclose(res.adversaries[0][0, 0, s], psi, atol=ORACLE_TOL)


# ------------------------------------------------------------------ free-riding and convergence
def test_learned_free_riding_degree_is_the_largest_over_all_rqe():
    game = catalog.volunteer_game()
    c = np.array([2.0, 0.0])
    for tau in (0.0, 2.0, 4.3, 6.0):                                 # tau* ~ 4.75 at epsilon = 0.3
        res = rqe.learning.srpo(game, tau=tau, epsilon=0.3, seeds=6, iters=20000, lr=0.3, rng=1)
        learned = degree(c, res.policies[0][res.converged], res.policies[1][res.converged])
        every = rqe.solve_all(game, tau=tau, epsilon=0.3)
        largest = max(degree(c, e.strategies[0], e.strategies[1]) for e in every)
        assert every.complete and res.converged.sum() >= 5
        np.testing.assert_allclose(learned, largest, atol=1e-7)
    assert largest < 1e-9 and len(every) == 1


def test_a_large_step_ends_in_a_two_cycle_that_is_flagged():
    game = catalog.volunteer_game()
    uniform = [np.array([0.5, 0.5])] * 2
    with pytest.warns(rqe.ConvergenceWarning, match="smaller lr"):
        res = rqe.learning.ippo(game, epsilon=0.3, seeds=1, iters=500, lr=1.0, init=uniform, history=500)
    assert not res.success and res.status == 1 and not res.converged[0] and res.last_change[0] > 1
    x = res.history["policies"][0][-4:, 0, 0]                       # alternates between two points
    assert x[0] == pytest.approx(x[2]) and abs(x[0] - x[1]) > 0.5
    assert "seed 0" in res.message and "not results" in res.message
    small = rqe.learning.ippo(game, epsilon=0.3, seeds=1, iters=500, lr=0.3, init=uniform)
    assert small.success


def test_population_is_one_computation_and_seeds_differ():
    res = rqe.learning.ippo(catalog.volunteer_game(), epsilon=0.3, seeds=10, iters=2000, lr=0.3, rng=3)
    assert res.n_seeds == 10 and res.success
    works = np.round(res.policies[0][:, 0])
    assert 0 < works.sum() < 10                                      # both free-riding equilibria appear
    assert res.history["change"].shape[1] == 10 and res.history["values"].shape[1:] == (10, 2)
    d = res.to_dict()
    assert d["label"] == "IPPO" and len(d["policies"][0]) == 10
    np.testing.assert_array_equal(res.profile(2)[0], res.policies[0][2])


# ------------------------------------------------------------------ cross-play
@pytest.fixture(scope="module")
def corridor_populations():
    game = volunteer_corridor(orders=1, horizon=5)
    ippo = rqe.learning.ippo(game, epsilon=0.1, seeds=3, iters=3000, lr=0.3, rng=0)
    srpo = rqe.learning.srpo(game, tau=8.0, epsilon=0.1, seeds=2, iters=3000, lr=0.3, rng=0)
    return game, ippo, srpo


def test_cross_play_is_exact_against_evaluate_and_rollouts(corridor_populations):
    game, ippo, srpo = corridor_populations
    exact = rqe.learning.cross_play([ippo, srpo], [ippo, srpo], game)
    for k, l in [(0, 1), (2, 4), (4, 0), (3, 3)]:
        a = ippo.profile(k)[0] if k < 3 else srpo.profile(k - 3)[0]
        b = ippo.profile(l)[1] if l < 3 else srpo.profile(l - 3)[1]
        np.testing.assert_allclose(exact.player_returns[k, l], rqe.markov.evaluate(game, [a, b]), atol=MATCH_TOL)
    mc = rqe.learning.cross_play(ippo, ippo, game, method="rollout", n_episodes=3000, rng=5)
    assert mc.method == "rollout" and mc.stderr.shape == (3, 3)
    z = np.abs(mc.returns - exact.returns[:3, :3]) / np.maximum(mc.stderr, 1e-12)
    assert np.all(z < ROLLOUT_Z)


def test_cross_play_summaries_recomputed_by_hand(corridor_populations):
    game, ippo, srpo = corridor_populations
    cp = rqe.learning.cross_play([ippo, srpo], [ippo, srpo], game)
    R = cp.returns
    assert cp.trained_together.sum() == 5 and np.all(np.diag(cp.trained_together))
    for g, idx in (("IPPO", [0, 1, 2]), ("SRPO", [3, 4])):
        s = next(x for x in cp.summary if x["group"] == g)
        tp = [R[k, k] for k in idx]
        cross = [R[k, l] for k in idx for l in idx if k != l]
        diff = [R[k, k] - np.mean([R[k, l] for l in idx if l != k] + [R[l, k] for l in idx if l != k]) for k in idx]
        assert s["training_mean"] == pytest.approx(np.mean(tp)) and s["cross_mean"] == pytest.approx(np.mean(cross))
        assert s["difference_mean"] == pytest.approx(np.mean(diff)) and s["difference_std"] == pytest.approx(
            np.std(diff), abs=1e-12)
    assert cp.block_groups == (("IPPO", "SRPO"), ("IPPO", "SRPO"))
    assert cp.block_means[1, 0] == pytest.approx(R[3:, :3].mean())
    # solo returns: partner always idle (action "idle"), against evaluate; best solo by brute force below
    idle = np.zeros((game.horizon, game.n_states, 3))
    idle[..., 2] = 1.0
    assert cp.solo_a[0] == pytest.approx(rqe.markov.evaluate(game, [ippo.profile(0)[0], idle])[0], abs=MATCH_TOL)
    assert cp.best_solo[0] == pytest.approx(0.6, abs=1e-12)             # deliver the order alone: 1 - 0.4
    assert "IPPO: training" in cp.message


def test_best_solo_return_by_enumerating_deterministic_policies(rng):
    game = random_game(rng, S=2, n=(2, 2), horizon=2)
    pop = rqe.learning.ippo(game, epsilon=1.0, seeds=1, iters=2000, rng=rng)
    cp = rqe.learning.cross_play(pop, pop, game, idle=1)
    idle = np.zeros((2, 2, 2))
    idle[..., 1] = 1.0
    best = -np.inf
    for choice in itertools.product(range(2), repeat=4):
        pol = np.zeros((2, 2, 2))
        pol[np.repeat([0, 1], 2), np.tile([0, 1], 2), list(choice)] = 1.0
        best = max(best, rqe.markov.evaluate(game, [pol, idle])[0])
    assert cp.best_solo[0] == pytest.approx(best, abs=MATCH_TOL)


def test_cross_play_in_the_volunteer_game_has_the_ippo_checkerboard():
    game = catalog.volunteer_game()
    ippo = rqe.learning.ippo(game, epsilon=0.3, seeds=8, iters=3000, lr=0.3, rng=2)
    srpo = rqe.learning.srpo(game, tau=9.5, epsilon=0.3, seeds=4, iters=3000, lr=0.3, rng=2)
    cp = rqe.learning.cross_play([ippo, srpo], [ippo, srpo], game)
    x1, x2 = np.concatenate([ippo.policies[0], srpo.policies[0]]), np.concatenate([ippo.policies[1], srpo.policies[1]])
    np.testing.assert_allclose(cp.free_riding, degree(np.array([2.0, 0.0]), x1[:, None], x2[None, :]), atol=1e-12)
    team = np.array([[x @ (game.payoffs[0] + game.payoffs[1]) @ y for y in x2] for x in x1])
    np.testing.assert_allclose(cp.returns, team, atol=MATCH_TOL)
    s = {x["group"]: x for x in cp.summary}
    assert s["IPPO"]["difference_mean"] > 0.5 and abs(s["SRPO"]["difference_mean"]) < 1e-9
    assert cp.solo_a is None


def test_unconverged_seeds_are_flagged_and_left_out_of_the_means():
    game = catalog.volunteer_game()
    free = [e.strategies for e in rqe.solve_all(game, tau=0.0, epsilon=0.3) if abs(e.strategies[0][0] - 0.5) > 0.3]
    x1 = np.array([[0.5, 0.5], free[0][0], free[1][0]])            # seed 0 cycles; seeds 1, 2 start at a QRE
    x2 = np.array([[0.5, 0.5], free[0][1], free[1][1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rqe.ConvergenceWarning)
        pop = rqe.learning.ippo(game, epsilon=0.3, seeds=3, iters=400, lr=1.0, init=[x1, x2])
    assert pop.converged.tolist() == [False, True, True]
    cp = rqe.learning.cross_play(pop, pop, game)
    ok = np.flatnonzero(pop.converged)
    s = cp.summary[0]
    assert s["n_converged"] == ok.size and "Unconverged agents" in cp.message and "IPPO 0" in cp.message
    assert s["training_mean"] == pytest.approx(np.mean([cp.returns[k, k] for k in ok]))


# ------------------------------------------------------------------ mirror descent
@pytest.mark.parametrize("method", ["mmd", "omwu"])
def test_mirror_descent_last_iterate_is_the_qre_of_a_zero_sum_game(rng, method):
    game = rqe.NormalFormGame.zero_sum(rng.uniform(-1, 1, size=(3, 4)))
    run = rqe.learning.mirror_descent(game, epsilon=0.3, method=method, lr=0.1, iters=20000)
    qre = rqe.solve_qre(game, epsilon=0.3)
    assert run.success and run.residual <= CERT_TOL
    for i in range(2):
        np.testing.assert_allclose(run.strategies[i], qre.strategies[i], atol=MATCH_TOL)
    gaps = run.history["gap"]
    assert gaps[-1] <= CERT_TOL < gaps[0] and len(gaps) == len(run.history["iteration"])


@pytest.mark.parametrize("risk", ["reverse_kl", "kl"])
def test_mirror_descent_on_players_and_adversaries_reaches_the_rqe(rng, risk):
    game = rqe.NormalFormGame.from_bimatrix(rng.uniform(size=(3, 3)), rng.uniform(size=(3, 3)))
    run = rqe.learning.mirror_descent(game, tau=1.0, epsilon=0.5, risk=risk, lr=0.1, iters=20000)
    ref = rqe.solve(game, tau=1.0, epsilon=0.5, risk=risk)
    assert run.success and run.monotone is (True if risk == "reverse_kl" else None)
    np.testing.assert_allclose(run.strategies[0], ref.strategies[0], atol=MATCH_TOL)
    np.testing.assert_allclose(run.adversaries[1], ref.adversaries[1].ravel(), atol=1e-7)


def test_mirror_descent_with_too_large_a_step_is_flagged():
    game = rqe.NormalFormGame.zero_sum([[4.0, -4.0], [-4.0, 4.0]])
    x0 = [np.array([0.9, 0.1]), np.array([0.3, 0.7])]
    for method in ("mmd", "omwu"):
        with pytest.warns(rqe.ConvergenceWarning, match="smaller lr"):
            run = rqe.learning.mirror_descent(game, epsilon=0.05, method=method, lr=1.0, iters=300, x0=x0)
        assert not run.success and run.status == 1 and run.residual > 1


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs, exc, words", [
    ({"tau": -1.0}, ValueError, "'tau' parameter of rqe.learning.srpo"),
    ({"epsilon": 0.0}, ValueError, "'epsilon' parameter"),
    ({"seeds": 0}, ValueError, "'seeds' parameter"),
    ({"iters": 1.5}, ValueError, "'iters' parameter"),
    ({"lr": 1.5}, ValueError, "in \\(0, 1\\] for update='npg'"),
    ({"update": "ppo"}, ValueError, "'update' parameter"),
    ({"adversary": "none"}, ValueError, "'adversary' parameter"),
    ({"adversary_lr": 2.0}, ValueError, "'adversary_lr' parameter"),
    ({"rng": "seed"}, TypeError, "'rng' parameter"),
    ({"init_scale": -1.0}, ValueError, "'init_scale' parameter"),
    ({"tol": 0.0}, ValueError, "'tol' parameter"),
    ({"init": [np.ones(2) / 2]}, ValueError, "one policy per player"),
    ({"init": [np.ones(3) / 3, np.ones(2) / 2]}, ValueError, "must have shape"),
    ({"init": [np.array([1.0, 0.0]), np.ones(2) / 2]}, ValueError, "positive on the legal actions"),
])
def test_srpo_rejects_bad_input(kwargs, exc, words):
    base = dict(tau=1.0, epsilon=0.5, seeds=2, iters=5)
    base.update(kwargs)
    with pytest.raises(exc, match=words):
        rqe.learning.srpo(catalog.stag_hunt(), **base)


def test_other_functions_reject_bad_input(corridor_populations):
    game, ippo, _ = corridor_populations
    with pytest.raises(TypeError, match="'game' parameter of rqe.learning.ippo"):
        rqe.learning.ippo("stag", epsilon=0.1)
    with pytest.warns(rqe.ConvergenceWarning, match="more iterations"):
        rqe.learning.ippo(catalog.stag_hunt(), epsilon=0.5, seeds=2, iters=10)
    with pytest.raises(TypeError, match="'population_a' parameter"):
        rqe.learning.cross_play([1, 2], ippo, game)
    with pytest.raises(ValueError, match="'method' parameter of rqe.learning.cross_play"):
        rqe.learning.cross_play(ippo, ippo, game, method="sample")
    with pytest.raises(ValueError, match="'idle' parameter"):
        rqe.learning.cross_play(ippo, ippo, game, idle="sleep")
    with pytest.raises(ValueError, match="do not fit the game"):
        rqe.learning.cross_play(ippo, ippo, volunteer_corridor(orders=1, horizon=6))
    three = rqe.NormalFormGame(np.zeros((3, 2, 2, 2)))
    pop3 = rqe.learning.ippo(three, epsilon=1.0, seeds=1, iters=200)
    with pytest.raises(ValueError, match="two-player game"):
        rqe.learning.cross_play(pop3, pop3, three)
    with pytest.raises(ValueError, match="'method' parameter of rqe.learning.mirror_descent"):
        rqe.learning.mirror_descent(catalog.stag_hunt(), epsilon=0.5, method="gda")
    with pytest.raises(ValueError, match="'risk' parameter of rqe.learning.mirror_descent"):
        rqe.learning.mirror_descent(catalog.stag_hunt(), tau=1.0, epsilon=0.5, risk="cvar")


# ------------------------------------------------------------------ Figure 2 wiring
def test_rqe_figure_2_is_registered(monkeypatch, tmp_path, capsys):
    from rqe import figures
    from rqe.cli import main

    calls = {}

    def fake(out, *, quick=False):
        calls["args"] = (out, quick)
        return {"fake": True}

    monkeypatch.setattr(figures, "figure2", fake)
    monkeypatch.setattr(figures, "describe_figure2", lambda numbers: f"described {numbers}")
    assert main(["figure", "2", "--quick", "--out", str(tmp_path)]) == 0
    assert (str(calls["args"][0]), calls["args"][1]) == (str(tmp_path), True) and "described {'fake': True}" in capsys.readouterr().out


@pytest.mark.slow
def test_paper_figure2_script_quick(tmp_path, monkeypatch, capsys):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "paper_figures" / "figure2.py"
    monkeypatch.setattr(sys, "argv", ["figure2.py", "--quick", "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    assert (tmp_path / "figure2.png").stat().st_size > 20_000 and (tmp_path / "figure2.pdf").exists()
    printed = capsys.readouterr().out
    assert "measured tau* = 4.7477" in printed and "converged 4/4" in printed
    rows = [line for line in printed.splitlines() if "solver max" in line]
    for line in rows:                                                # learned degree = the solver's maximum
        learned = float(line.split("learned ")[1].split()[0])
        solver = float(line.split("solver max ")[1])
        assert learned == pytest.approx(solver, abs=1e-6)
