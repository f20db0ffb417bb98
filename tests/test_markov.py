"""rqe.solve_markov and rqe.markov against oracles written here (never the code checking itself)."""

import itertools

import numpy as np
import pytest

import rqe
from rqe.uncertainty import Entropic, TVBall
from tests.conftest import CERT_TOL, MATCH_TOL, ORACLE_TOL


def random_game(rng, S=4, n=(2, 3), horizon=None, discount=None, stop=0.0, legal=None):
    R = rng.normal(size=(len(n), S, *n))
    P = rng.random((S, *n, S)) ** 3
    P *= (1 - stop) / P.sum(axis=-1, keepdims=True)
    return rqe.MarkovGame(R, P, horizon=horizon, discount=discount, legal=legal,
                          initial=rng.dirichlet(np.ones(S)))


def _entropic(p, w, t):
    """-(1/t) log E_p exp(-t w), written directly."""
    return -np.log(np.sum(p * np.exp(-t * w))) / t


# ------------------------------------------------------------------ oracles
@pytest.mark.parametrize("risk, regularizer", [("kl", "entropy"), ("reverse_kl", "log_barrier")])
def test_horizon_one_is_the_matrix_rqe(rng, risk, regularizer):
    game = random_game(rng, S=3, n=(2, 2, 3), horizon=1)
    tau, eps = [0.5, 1.0, 0.2], [0.4, 0.8, 0.5]
    res = rqe.solve_markov(game, tau=tau, epsilon=eps, risk=risk, regularizer=regularizer)
    assert res.success
    for s in range(3):
        one = rqe.solve(game.stage_game(s), tau=tau, epsilon=eps, risk=risk, regularizer=regularizer)
        for i in range(3):
            np.testing.assert_allclose(res.policies[i][0, s], one.strategies[i], atol=MATCH_TOL)
            np.testing.assert_allclose(res.adversaries[i][0, s], one.adversaries[i].ravel(), atol=MATCH_TOL)
        np.testing.assert_allclose(res.values[0, :, s], one.values, atol=MATCH_TOL)
    assert np.all(res.residual <= CERT_TOL) and np.all(res.gap <= CERT_TOL)


@pytest.mark.parametrize("risk, regularizer", [("kl", "entropy"), ("reverse_kl", "log_barrier")])
def test_legal_masks_solve_the_reduced_stage_games(rng, risk, regularizer):
    """States with fewer legal actions share one padded batch; each equals rqe.solve on its reduced game."""
    legal = [np.ones((4, 3), bool), np.ones((4, 2), bool)]
    legal[0][1, 2] = legal[0][2, 0] = legal[0][3, :2] = legal[1][2, 1] = False
    game = random_game(rng, S=4, n=(3, 2), horizon=1, legal=legal)
    res = rqe.solve_markov(game, tau=0.7, epsilon=0.3, risk=risk, regularizer=regularizer)
    assert res.success
    for s in range(4):
        one = rqe.solve(game.stage_game(s), tau=0.7, epsilon=0.3, risk=risk, regularizer=regularizer)
        for i in range(2):
            np.testing.assert_allclose(res.policies[i][0, s][legal[i][s]], one.strategies[i], atol=MATCH_TOL)
            assert np.all(res.policies[i][0, s][~legal[i][s]] == 0)
        np.testing.assert_allclose(res.values[0, :, s], one.values, atol=MATCH_TOL)


@pytest.mark.parametrize("risk", ["kl", "reverse_kl"])
@pytest.mark.parametrize("regularizer", ["entropy", "log_barrier"])
def test_batched_jacobian_is_the_derivative_of_the_map(rng, risk, regularizer):
    """The stage solver's analytic Jacobian against central differences of its map (padded and held entries too)."""
    from rqe.solvers._batch import _Map

    for n, fixed_partners in [((3, 2), False), ((2, 3, 2), False), ((3, 2), True)]:
        B, N, m = 6, len(n), sum(n)
        Q = rng.normal(size=(B, N) + n)
        tau = rng.uniform(0, 2, size=(B, N))
        tau[0] = 0.0
        legal = np.ones((B, m), bool)
        legal[1, 0] = legal[2, m - 1] = False              # padded actions
        free = np.ones((B, N), bool)
        free[3, 0] = False                                  # a held player
        with np.errstate(all="ignore"):
            partners = np.where(legal, rng.normal(size=(B, m)), -np.inf) if fixed_partners else None
            T = _Map(Q, tau, rng.uniform(0.3, 1.0, size=(B, N)), risk, regularizer, free, legal,
                     None if partners is None else _Map(Q, tau, 1.0, risk, regularizer, free, legal).normalize(partners))
            z = T.normalize(np.where(legal, rng.normal(size=(B, m)), -np.inf))
            J = T.jacobian(T.evaluate(z))
            h, fd = 1e-6, np.zeros_like(J)
            for c in range(m):
                e = np.zeros(m)
                e[c] = h
                up, down = (T.F(z + s * e, T.evaluate(T.normalize(z + s * e))[-1]) for s in (1, -1))
                fd[:, :, c] = (up - down) / (2 * h)
        live = ~T.fixed
        for b in range(B):
            rows, cols = np.flatnonzero(live[b]), np.flatnonzero(legal[b])
            np.testing.assert_allclose(J[b][np.ix_(rows, cols)], fd[b][np.ix_(rows, cols)], atol=1e-7)
            np.testing.assert_array_equal(J[b][~live[b]], np.eye(m)[~live[b]])     # held rows: identity


def test_one_pass_exploitability_equals_separate_best_responses(rng):
    """solve_markov's batched certificate equals evaluate + best_response run one player at a time."""
    legal = [np.ones((4, 2), bool), np.ones((4, 3), bool)]
    legal[1][0, 2] = legal[1][3, 0] = legal[0][2, 1] = False
    game = random_game(rng, S=4, n=(2, 3), horizon=4, stop=0.1, legal=legal)
    res = rqe.solve_markov(game, tau=0.6, epsilon=0.4)
    bent = [p.copy() for p in res.policies]
    bent[1][1, 1] = [0.6, 0.3, 0.1]
    kw = dict(tau=0.6, epsilon=0.4)
    gain = rqe.markov.exploitability(game, bent, **kw)
    base = rqe.markov.evaluate(game, bent, **kw)
    separate = [rqe.markov.best_response(game, bent, i, **kw).payoff - base[i] for i in range(2)]
    np.testing.assert_allclose(gain, separate, atol=MATCH_TOL)
    assert gain[1] > 1e-4 and np.all(res.exploitability < 1e-8)


def test_a_partner_with_one_action_gives_soft_value_iteration(rng):
    """With one action for the partner the adversary is trivial: V = eps log sum exp(Q / eps) for any tau."""
    S, H, eps = 4, 5, 0.3
    game = random_game(rng, S=S, n=(3, 1), horizon=H, stop=0.1)
    res = rqe.solve_markov(game, tau=2.0, epsilon=eps)
    R, P = game.reward(0)[0][..., 0], game.transition_tensor()[:, :, 0]      # (S, 3), (S, 3, S)
    V = np.zeros(S)
    for h in reversed(range(H)):
        Q = R + P @ V
        V = eps * np.log(np.exp(Q / eps).sum(axis=1))
        np.testing.assert_allclose(res.values[h, 0], V, atol=MATCH_TOL)
        np.testing.assert_allclose(res.policies[0][h], np.exp((Q - V[:, None]) / eps), atol=MATCH_TOL)


def test_nested_entropic_risk_is_the_entropic_risk_of_the_total_return(rng):
    """One action for everyone: the value is -(1/t) log E exp(-t * return) over enumerated trajectories."""
    S, H, t = 3, 3, 0.8
    game = random_game(rng, S=S, n=(1, 1), horizon=H)
    res = rqe.solve_markov(game, tau=t, epsilon=1.0, env_risk="entropic", value="risk_adjusted")
    R, P = game.reward(0)[:, :, 0, 0], game.transition_tensor()[:, 0, 0]
    for i in range(2):
        for s0 in range(S):
            probs, totals = [], []
            for path in itertools.product(range(S), repeat=H - 1):
                states = (s0,) + path
                probs.append(np.prod([P[a, b] for a, b in zip(states, states[1:])]))
                totals.append(sum(R[i, s] for s in states))
            want = _entropic(np.array(probs), np.array(totals), t)
            assert abs(res.values[0, i, s0] - want) < MATCH_TOL


def test_one_absorbing_state_gives_the_matrix_rqe_scaled_by_the_horizon_of_discounting():
    stag = rqe.games.catalog.stag_hunt()
    gamma = 0.8
    game = rqe.MarkovGame.from_normal_form(stag).replace(discount=gamma)
    res = rqe.solve_markov(game, tau=0.5, epsilon=0.5)
    one = rqe.solve(stag, tau=0.5, epsilon=0.5)
    assert res.success and res.bellman_residual <= 1e-9
    for i in range(2):
        np.testing.assert_allclose(res.policies[i][0], one.strategies[i], atol=1e-8)
    np.testing.assert_allclose(res.values[:, 0], one.values / (1 - gamma), atol=1e-7)


def _per_state_value_iteration(game, tau, eps, value, sweeps=400):
    """An independent discounted solver: value iteration with rqe.solve on every stage game."""
    S, N = game.n_states, game.n_players
    R, P = game.reward(0), game.transition_tensor()
    W = np.zeros((N, S))
    x = [None] * S
    for _ in range(sweeps):
        new = np.empty_like(W)
        for s in range(S):
            Q = [R[i, s] + game.discount * P[s] @ W[i] for i in range(N)]
            r = rqe.solve(rqe.NormalFormGame(Q), tau=tau, epsilon=eps, x0=x[s])
            x[s] = r.strategies
            if value == "regularized":
                new[:, s] = r.values
            else:
                new[:, s] = [r.strategies[0] @ Q[i] @ r.strategies[1] for i in range(N)]
        if np.max(np.abs(new - W)) < 1e-12:
            break
        W = new
    return W, x


@pytest.mark.parametrize("value", ["regularized", "expected"])
def test_discounted_equals_per_state_value_iteration(rng, value):
    game = random_game(rng, S=3, n=(2, 2), discount=0.6)
    res = rqe.solve_markov(game, tau=0.5, epsilon=0.5, value=value)
    W, x = _per_state_value_iteration(game, 0.5, 0.5, value)
    assert res.success
    np.testing.assert_allclose(res.values, W, atol=1e-8)
    for s in range(3):
        np.testing.assert_allclose(res.policies[0][s], x[s][0], atol=1e-8)


def test_scaling_rewards_scales_epsilon_and_tau(rng):
    c = 3.0
    game = random_game(rng, S=3, n=(2, 2), horizon=4)
    scaled = rqe.MarkovGame(c * game.rewards, game.transitions, horizon=4, initial=game.initial)
    a = rqe.solve_markov(game, tau=0.6, epsilon=0.4, env_risk=Entropic(0.6))
    b = rqe.solve_markov(scaled, tau=0.6 / c, epsilon=0.4 * c, env_risk=Entropic(0.6 / c))
    for i in range(2):
        np.testing.assert_allclose(a.policies[i], b.policies[i], atol=MATCH_TOL)
    np.testing.assert_allclose(c * a.values, b.values, atol=1e-7)


def test_relabelling_states_permutes_the_answer(rng):
    game = random_game(rng, S=4, n=(2, 3), discount=0.5)
    perm = rng.permutation(4)
    inv = np.argsort(perm)                                       # new state k is old state perm[k]
    P = game.transition_tensor()[perm][..., perm]
    relabelled = rqe.MarkovGame(game.rewards[:, perm], P, discount=0.5, initial=game.initial[perm])
    a = rqe.solve_markov(game, tau=0.3, epsilon=0.6)
    b = rqe.solve_markov(relabelled, tau=0.3, epsilon=0.6)
    np.testing.assert_allclose(b.values, a.values[:, perm], atol=1e-8)
    np.testing.assert_allclose(b.policies[1], a.policies[1][perm], atol=1e-8)
    np.testing.assert_allclose(a.values[:, inv][:, perm], a.values, atol=0)
    np.testing.assert_allclose(a.payoffs, b.payoffs, atol=1e-8)


@pytest.mark.parametrize("horizon, discount", [(6, None), (None, 0.7)])
def test_exploitability_is_zero_at_equilibria_and_positive_after_a_perturbation(rng, horizon, discount):
    game = random_game(rng, S=3, n=(2, 2), horizon=horizon, discount=discount, stop=0.05)
    res = rqe.solve_markov(game, tau=0.4, epsilon=0.3, env_risk=TVBall(0.1))
    assert res.success and np.all(res.exploitability < 1e-8)
    bent = [p.copy() for p in res.policies]
    target = bent[0][0, 1] if horizon else bent[0][1]
    target[:] = [0.95, 0.05] if target[0] < 0.5 else [0.05, 0.95]
    gain = rqe.markov.exploitability(game, bent, tau=0.4, epsilon=0.3, env_risk=TVBall(0.1))
    assert gain[0] > 1e-3      # (player 1 may gain too: its policy answered the unbent one)


def test_best_response_against_a_brute_force_grid(rng):
    """Horizon 1, one state: the best response maximises the objective over a grid of mixed strategies."""
    game = random_game(rng, S=1, n=(2, 2), horizon=1)
    other = np.array([[[0.3, 0.7]]])
    br = rqe.markov.best_response(game, [other, other], 0, tau=0.8, epsilon=0.2)
    M, q = game.reward(0)[0, 0], other[0, 0]
    x = np.linspace(0, 1, 400001)[1:-1, None] * [1, -1] + [0, 1]         # (x0, 1 - x0) on a grid
    U = -np.log(np.exp(-0.8 * (x @ M)) @ q) / 0.8                       # KL: closed-form inner minimum
    best = np.max(U - 0.2 * np.sum(x * np.log(x), axis=1))
    assert abs(br.payoff - best) < ORACLE_TOL


def test_evaluate_by_enumeration_and_by_rollouts(rng):
    game = random_game(rng, S=3, n=(2, 2), horizon=3, stop=0.2)
    pol = [rng.dirichlet(np.ones(2), size=(3, 3)) for _ in range(2)]
    exact = rqe.markov.evaluate(game, pol)
    # enumeration over states and joint actions
    R, P = game.reward(0), game.transition_tensor()
    total = np.zeros(2)
    for s0 in range(3):
        frontier = [(game.initial[s0], s0)]
        for h in range(3):
            nxt = []
            for w, s in frontier:
                for a, b in itertools.product(range(2), range(2)):
                    pa = w * pol[0][h, s, a] * pol[1][h, s, b]
                    total += pa * R[:, s, a, b]
                    nxt += [(pa * P[s, a, b, t], t) for t in range(3)]
            frontier = nxt
    np.testing.assert_allclose(exact, total, atol=1e-12)
    sim = rqe.markov.rollout(game, pol, 40000, rng=rng)
    assert np.all(np.abs(sim.mean - exact) < 4 * sim.stderr)
    assert sim.lengths.max() <= 3 and sim.lengths.min() >= 1


def test_discounted_evaluation_is_a_linear_solve(rng):
    game = random_game(rng, S=4, n=(2, 2), discount=0.9, stop=0.1)
    pol = [rng.dirichlet(np.ones(2), size=4) for _ in range(2)]
    P = game.transition_tensor()
    joint = pol[0][:, :, None] * pol[1][:, None, :]
    r = np.einsum("sab,isab->is", joint, game.reward(0))
    Ppi = np.einsum("sab,sabt->st", joint, P)
    V = np.linalg.solve(np.eye(4) - 0.9 * Ppi, r.T).T
    np.testing.assert_allclose(rqe.markov.evaluate(game, pol), V @ game.initial, atol=1e-12)
    sim = rqe.markov.rollout(game, pol, 20000, rng=rng)
    assert np.all(np.abs(sim.mean - V @ game.initial) < 4 * sim.stderr)


# ------------------------------------------------------------------ results and errors
def test_result_fields_and_dict(rng):
    game = random_game(rng, S=2, n=(2, 2), horizon=2)
    res = rqe.solve_markov(game, tau=0.5, epsilon=0.5, value="expected")
    assert res.exploitability is None and res.values.shape == (3, 2, 2)
    assert res.residual.shape == (2, 2) and res.gap.shape == (2, 2, 2)
    d = res.to_dict()
    assert d["params"]["value"] == "expected" and repr(res).startswith("MarkovResult(message=")


def test_unconverged_value_iteration_is_reported(rng):
    game = random_game(rng, S=3, n=(2, 2), discount=0.99)
    with pytest.warns(rqe.ConvergenceWarning, match="max_iter"):
        res = rqe.solve_markov(game, tau=0.5, epsilon=0.5, max_iter=3)
    assert not res.success and res.status == 1 and res.bellman_residual > 1e-9


@pytest.mark.parametrize("horizon, discount", [(6, None), (None, 0.9)])
def test_max_time_keeps_what_was_solved(rng, monkeypatch, horizon, discount):
    """The budget runs out after two steps (sweeps): the solved steps equal an unlimited solve's."""
    import rqe.solvers.markov as solver

    game = random_game(rng, S=3, n=(2, 2), horizon=horizon, discount=discount)
    full = rqe.solve_markov(game, tau=0.5, epsilon=0.5)
    calls = iter(range(1000))
    monkeypatch.setattr(solver, "expired", lambda deadline: deadline is not None and next(calls) >= 2)
    with pytest.warns(rqe.ConvergenceWarning, match="max_time = 10 s ran out after 2 of"):
        res = rqe.solve_markov(game, tau=0.5, epsilon=0.5, max_time=10)
    assert not res.success and res.status == 5 and res.exploitability is None
    if horizon:
        assert res.nit == 2 and np.all(np.isinf(res.residual[:-2])) and np.all(res.residual[-2:] <= CERT_TOL)
        np.testing.assert_allclose(res.policies[0][-2:], full.policies[0][-2:], atol=MATCH_TOL)
        np.testing.assert_allclose(res.policies[1][:-2], 0.5)
    else:
        assert res.nit == 2 and res.bellman_residual > 1e-9   # two sweeps of value iteration from W = 0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"max_time": 0}, ValueError, "'max_time' parameter of rqe.solve_markov"),
    ({"value": "nash"}, ValueError, "'value' parameter of rqe.solve_markov"),
    ({"tau": -1}, ValueError, "'tau' parameter of rqe.solve_markov"),
    ({"epsilon": 0}, ValueError, "'epsilon' parameter of rqe.solve_markov"),
    ({"env_risk": "worst"}, ValueError, "'env_risk'"),
    ({"risk": rqe.risk.KL()}, None, None),
    ({"max_iter": 0}, ValueError, "'max_iter'"),
    ({"bellman_tol": -1}, ValueError, "'bellman_tol'"),
])
def test_bad_parameters(rng, kwargs, error, match):
    game = random_game(rng, S=2, n=(2, 2), horizon=1)
    if error is None:
        assert rqe.solve_markov(game, **kwargs).success
        return
    with pytest.raises(error, match=match):
        rqe.solve_markov(game, **kwargs)


def test_bad_games_and_policies(rng):
    with pytest.raises(TypeError, match="rqe.MarkovGame.from_normal_form"):
        rqe.solve_markov(rqe.games.catalog.stag_hunt())
    with pytest.raises(ValueError, match="'risk' parameter"):
        rqe.solve_markov(random_game(rng, horizon=1), risk=type("R", (), {"name": "mine", "adversary": len,
                                                                          "penalty": len})())
    game = random_game(rng, S=2, n=(2, 2), horizon=2)
    good = [np.full((2, 2, 2), 0.5)] * 2
    with pytest.raises(ValueError, match="shape"):
        rqe.markov.evaluate(game, [np.full((2, 2), 0.5)] * 2)
    with pytest.raises(ValueError, match="probability"):
        rqe.markov.evaluate(game, [np.full((2, 2, 2), 0.7)] * 2)
    with pytest.raises(ValueError, match="2 arrays"):
        rqe.markov.evaluate(game, good[:1])
    with pytest.raises(ValueError, match="'player'"):
        rqe.markov.best_response(game, good, 2)
    with pytest.raises(ValueError, match="'epsilon'"):
        rqe.markov.exploitability(game, good, epsilon=0.0)
    with pytest.raises(TypeError, match="'rng'"):
        rqe.markov.rollout(game, good, 10, rng=0)
    with pytest.raises(ValueError, match="'n'"):
        rqe.markov.rollout(game, good, 0, rng=rng)
    legal = [np.array([[True, False], [True, True]]), np.ones((2, 2), bool)]
    masked = random_game(rng, S=2, n=(2, 2), horizon=2, legal=legal)
    with pytest.raises(ValueError, match="illegal"):
        rqe.markov.evaluate(masked, good)
    with pytest.raises(TypeError, match="rqe.MarkovGame"):
        rqe.markov.rollout(rqe.games.catalog.stag_hunt(), good, 10, rng=rng)


def test_sweep_matches_single_solves_in_process_and_in_a_pool(rng):
    from concurrent.futures import ProcessPoolExecutor

    game = random_game(rng, S=2, n=(2, 2), horizon=3)
    taus = [0.0, 0.5, 2.0]
    out = rqe.markov.sweep(game, taus=taus, epsilons=[0.3, 0.6], progress=False, keep_policies=True)
    assert out.finished and len(out) == 6 and np.all(out.converged) and out.success
    assert out.status == rqe.Status.SUCCESS and out.message == "All 6 points converged."
    for k in range(6):
        one = rqe.solve_markov(game, tau=out.tau[k], epsilon=out.epsilon[k])
        np.testing.assert_allclose(out.payoffs[k], one.payoffs, atol=1e-12)
        np.testing.assert_allclose(out.policies[k][0], one.policies[0], atol=1e-12)
    with ProcessPoolExecutor(max_workers=2) as pool:
        par = rqe.markov.sweep(game, taus=taus, epsilons=[0.3, 0.6], progress=False, executor=pool)
    np.testing.assert_allclose(par.payoffs, out.payoffs, atol=1e-12)
    with pytest.raises(ValueError, match="'taus' parameter of rqe.markov.sweep"):
        rqe.markov.sweep(game, taus=[[0.1, 0.2, 0.3]], progress=False)
    with pytest.raises(TypeError, match="'executor'"):
        rqe.markov.sweep(game, taus=0.1, executor=1, progress=False)


def test_interrupted_sweep_keeps_finished_points(rng, monkeypatch):
    import rqe.markov as mk

    game = random_game(rng, S=2, n=(2, 2), horizon=2)
    real, calls = mk._point, []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(mk, "_point", flaky)
    out = rqe.markov.sweep(game, taus=[0.1, 0.2, 0.3, 0.4], progress=False)
    assert not out.finished and len(out) == 2
    assert not out.success and out.status == rqe.Status.INTERRUPTED and "interrupted" in out.message


def test_tau_zero_expected_value_equals_sgamesolver_qre(rng, monkeypatch):
    """sgamesolver's stationary logit QRE at lambda = 1/epsilon is rqe's tau = 0, value="expected" equilibrium."""
    sgamesolver = pytest.importorskip("sgamesolver")
    monkeypatch.setattr(np, "NaN", np.nan, raising=False)       # sgamesolver 1.0.2 still uses the NumPy 1 alias
    S, eps, gamma = 3, 0.5, 0.7
    R = rng.normal(size=(2, S, 2, 3))
    P = rng.random((S, 2, 3, S))
    P /= P.sum(axis=-1, keepdims=True)
    sg = sgamesolver.SGame([R[:, s] for s in range(S)], [P[s] for s in range(S)], gamma)
    hom = sgamesolver.homotopy.QRE(sg)
    hom.solver_setup(target_lambda=1 / eps)
    hom.solve()
    theirs = np.asarray(hom.equilibrium.strategies)                  # (S, N, max actions)
    ours = rqe.solve_markov(rqe.MarkovGame(R, P, discount=gamma), tau=0.0, epsilon=eps, value="expected")
    assert ours.success
    np.testing.assert_allclose(ours.policies[0], theirs[:, 0, :2], atol=1e-6)
    np.testing.assert_allclose(ours.policies[1], theirs[:, 1, :3], atol=1e-6)
    np.testing.assert_allclose(ours.values.T, np.asarray(hom.equilibrium.values), atol=1e-5)
