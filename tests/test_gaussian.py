"""Gaussian games: Example 2 closed forms, the domain edge, limits, certificates and errors."""

import json
import warnings

import numpy as np
import pytest
import sympy as sp

import rqe
from rqe import ConvergenceWarning, TractabilityWarning
from rqe.analysis import admissible_tau, collaboration
from rqe.analysis.symbolic import two_robots as symbolic_two_robots
from rqe.games.catalog import two_robots
from rqe.games.gaussian import GaussianGame
from rqe.solvers.gaussian import GaussianResult, gaussian_gap, solve_gaussian, tau_bounds

CLOSED_FORM_TOL = 1e-12    # solver vs Example 2 formulas away from the domain edge
EDGE_TOL = 1e-6            # solver vs formulas at tau*epsilon = 2 - 1e-9 (ill-conditioned means game)
GAP_TOL = 1e-12            # certificate at the solution
NASH_TOL = 1e-7            # epsilon = 1e-9 against the Nash means
EDGE = 1e-9                # distance to the domain edge


def example2_mean(tau, eps, a_bar):
    return a_bar / (3 - tau * eps / 2)


def example2_utility(tau, eps, a_bar):
    x = tau * eps
    return -0.5 * (2 - x + (x / 2) ** 2) / (3 - x / 2) ** 2 * a_bar ** 2 - 3 * eps / 4


def example2_shared(tau, eps, a_bar):
    return -0.5 * (2 * example2_mean(tau, eps, a_bar) - a_bar) ** 2 - eps / 2


def random_game(rng, dims, coupling=0.5):
    total, starts = sum(dims), np.cumsum([0, *dims])
    H, h = [], []
    for i, d in enumerate(dims):
        M = rng.normal(size=(total, total)) * coupling
        Hi = 0.5 * (M + M.T)
        R = rng.normal(size=(d, d))
        Hi[starts[i]:starts[i + 1], starts[i]:starts[i + 1]] = -(R @ R.T / d + np.eye(d))
        H.append(Hi)
        h.append(rng.normal(size=total))
    return GaussianGame(np.array(H), np.array(h), dims)


# --------------------------------------------------------------------------- Example 2
@pytest.mark.parametrize("tau, eps, a_bar", [(0.0, 0.1, 1.0), (1.0, 1.0, 1.0), (3.0, 0.5, -2.0), (19.0, 0.1, 0.7)])
def test_example2_closed_forms(tau, eps, a_bar):
    res = solve_gaussian(two_robots(a_bar), tau=tau, epsilon=eps)
    assert res.success and res.status == 0
    for m, S in zip(res.means, res.covariances):
        assert m.shape == (1,) and S.shape == (1, 1)
        assert abs(m[0] - example2_mean(tau, eps, a_bar)) < CLOSED_FORM_TOL
        assert abs(S[0, 0] - eps / 2) < CLOSED_FORM_TOL
    assert np.allclose(res.payoffs, example2_utility(tau, eps, a_bar), rtol=0, atol=CLOSED_FORM_TOL)
    assert abs(res.shared_reward - example2_shared(tau, eps, a_bar)) < CLOSED_FORM_TOL
    assert res.gap < GAP_TOL and res.residual < CLOSED_FORM_TOL


def test_example2_printed_main_text_formula_is_wrong():
    res = solve_gaussian(two_robots(), tau=1.5, epsilon=1.0)
    assert abs(res.means[0][0] - 1 / (3 - 1.5)) > 0.1


def test_example2_symbolic_matches_formulas_and_solver():
    ex = symbolic_two_robots()
    t, e, a = ex.tau, ex.epsilon, ex.a_bar
    assert sp.simplify(ex.mean - a / (3 - t * e / 2)) == 0
    assert sp.simplify(ex.variance - e / 2) == 0
    assert sp.simplify(ex.expected_utility - example2_utility(t, e, a)) == 0
    assert sp.simplify(ex.shared_reward - example2_shared(t, e, a)) == 0
    assert ex.domain.subs({t: 2 - EDGE, e: 1}) == sp.true and ex.domain.subs({t: 2 + EDGE, e: 1}) == sp.false
    for tau, eps, a_bar in [(0.3, 0.4, 1.0), (2.5, 0.6, -1.5)]:
        point = {t: tau, e: eps, a: a_bar}
        res = solve_gaussian(two_robots(a_bar), tau=tau, epsilon=eps)
        assert abs(float(ex.mean.subs(point)) - res.means[1][0]) < CLOSED_FORM_TOL
        assert abs(float(ex.expected_utility.subs(point)) - res.payoffs[0]) < CLOSED_FORM_TOL
        assert abs(float(ex.shared_reward.subs(point)) - res.shared_reward) < CLOSED_FORM_TOL


def test_example2_shared_reward_strictly_increasing_on_domain():
    eps = 0.5
    grid = np.linspace(0, 2 / eps, 201)[:-1]
    res = collaboration(two_robots(), epsilon=eps, taus=grid)
    assert res.increasing and res.theorem_applies and res.min_increase > 0
    assert np.allclose(res.shared_reward, example2_shared(grid, eps, 1.0), rtol=0, atol=CLOSED_FORM_TOL)
    assert np.allclose(res.payoffs[:, 0], example2_utility(grid, eps, 1.0), rtol=0, atol=CLOSED_FORM_TOL)
    assert res.taus.shape == (200,) and res.means.shape == (200, 2)
    assert "increases" in res.message
    json.dumps(res.to_dict())


def test_collaboration_per_player_path_and_n3():
    game = GaussianGame.collaborative(a_bar=[1.0, -0.5], rho=[0.5, 1.0, 2.0], H=[[2.0, 0.3], [0.3, 1.0]],
                                      n_players=3, dim=2)
    eps = [0.3, 0.2, 0.4]
    top = tau_bounds(game, eps)
    path = np.linspace(0, 1, 30)[:, None] * (0.999 * top)[None, :]
    res = collaboration(game, epsilon=eps, taus=path)
    assert res.taus.shape == (30, 3) and res.payoffs.shape == (30, 3)
    assert res.increasing and res.theorem_applies
    zigzag = np.array([[0.1, 0.1, 0.1], [0.5, 0.1, 0.1], [0.2, 0.1, 0.1]])
    back = collaboration(game, epsilon=eps, taus=zigzag)
    assert not back.increasing and not back.theorem_applies and back.min_increase < 0
    assert "does not" in back.message


# --------------------------------------------------------------------------- domain edge
def test_domain_edge_common_tau():
    eps = 0.25
    assert admissible_tau(two_robots(), eps) == pytest.approx(2 / eps, rel=1e-14)
    res = solve_gaussian(two_robots(), tau=(2 - EDGE) / eps, epsilon=eps)
    assert res.success
    assert abs(res.means[0][0] - example2_mean((2 - EDGE) / eps, eps, 1.0)) < EDGE_TOL
    with pytest.raises(ValueError, match=r"tau < 8 for a common tau \(tau\*epsilon < 2\)"):
        solve_gaussian(two_robots(), tau=(2 + EDGE) / eps, epsilon=eps)


def test_domain_edge_per_player_tau():
    # Player 0's bound is 2 / epsilon_1 and player 1's is 2 / epsilon_0 (each tilts the other's law).
    eps = np.array([0.5, 0.25])
    assert tau_bounds(two_robots(), eps) == pytest.approx([8.0, 4.0], rel=1e-14)
    assert admissible_tau(two_robots(), eps, direction=[1.0, 0.0]) == pytest.approx(8.0, rel=1e-14)
    assert admissible_tau(two_robots(), eps, direction=[1.0, 4.0]) == pytest.approx(1.0, rel=1e-14)
    assert admissible_tau(two_robots(), eps, direction=[0.0, 1.0]) == pytest.approx(4.0, rel=1e-14)
    assert solve_gaussian(two_robots(), tau=[(2 - EDGE) / 0.25, 1.0], epsilon=eps).success
    with pytest.raises(ValueError, match=r"per player tau_i < \[8\.0, 4\.0\]"):
        solve_gaussian(two_robots(), tau=[(2 + EDGE) / 0.25, 1.0], epsilon=eps)
    with pytest.raises(ValueError, match="risk finite"):
        solve_gaussian(two_robots(), tau=[1.0, (2 + EDGE) / 0.5], epsilon=eps)


def test_unbounded_domain():
    # The others' block is positive semidefinite: no tau makes the risk infinite.
    game = GaussianGame([[[-1, 0.5], [0.5, 1]], [[1, 0.5], [0.5, -1]]], [[0, 0], [0, 0]], [1, 1])
    assert admissible_tau(game, 0.3) == np.inf
    assert solve_gaussian(game, tau=1e6, epsilon=0.3).success


# --------------------------------------------------------------------------- limits
def nash_means(game):
    """Independent closed form: own-action first-order conditions of the plain expected utilities."""
    total, starts = sum(game.dims), np.cumsum([0, *game.dims])
    M, r = np.zeros((total, total)), np.zeros(total)
    for i in range(game.n_players):
        own = slice(starts[i], starts[i + 1])
        M[own] = game.H[i][own]
        r[own] = -game.h[i][own]
    return np.linalg.solve(M, r)


def test_tau_zero_is_risk_neutral_gaussian_qre():
    rng = np.random.default_rng(5)
    game = random_game(rng, [2, 1, 1])
    eps = [0.3, 0.7, 0.2]
    res = solve_gaussian(game, tau=0.0, epsilon=eps)
    assert np.allclose(np.concatenate(res.means), nash_means(game), rtol=0, atol=CLOSED_FORM_TOL)
    for i, (e, S) in enumerate(zip(eps, res.covariances)):
        own = slice(sum(game.dims[:i]), sum(game.dims[:i + 1]))
        assert np.allclose(S, -e * np.linalg.inv(game.H[i][own, own]), rtol=0, atol=CLOSED_FORM_TOL)
    tiny = solve_gaussian(game, tau=1e-12, epsilon=eps)
    assert np.allclose(np.concatenate(tiny.means), np.concatenate(res.means), rtol=0, atol=1e-10)


def test_small_epsilon_gives_nash_means():
    game = random_game(np.random.default_rng(6), [1, 2])
    res = solve_gaussian(game, tau=[2.0, 0.5], epsilon=1e-9)
    assert np.allclose(np.concatenate(res.means), nash_means(game), rtol=0, atol=NASH_TOL)


def test_epsilon_scales_covariances_only_at_tau_zero():
    game = random_game(np.random.default_rng(8), [1, 1])
    a = solve_gaussian(game, tau=0.0, epsilon=0.1)
    b = solve_gaussian(game, tau=0.0, epsilon=0.4)
    assert np.allclose(np.concatenate(a.means), np.concatenate(b.means), rtol=0, atol=CLOSED_FORM_TOL)
    assert np.allclose(b.covariances[1], 4 * a.covariances[1], rtol=0, atol=CLOSED_FORM_TOL)


# --------------------------------------------------------------------------- properties
def test_relabelling_players_permutes_the_equilibrium():
    game = random_game(np.random.default_rng(12), [2, 1, 1], coupling=0.3)
    tau, eps = np.array([0.4, 0.9, 0.2]), np.array([0.3, 0.2, 0.5])
    perm = [2, 0, 1]
    starts = np.cumsum([0, *game.dims])
    coords = np.concatenate([np.arange(starts[j], starts[j + 1]) for j in perm])
    relabelled = GaussianGame(np.array([game.H[j][np.ix_(coords, coords)] for j in perm]),
                              np.array([game.h[j][coords] for j in perm]), [game.dims[j] for j in perm])
    a = solve_gaussian(game, tau=tau, epsilon=eps)
    b = solve_gaussian(relabelled, tau=tau[perm], epsilon=eps[perm])
    for k, j in enumerate(perm):
        assert np.allclose(b.means[k], a.means[j], rtol=0, atol=CLOSED_FORM_TOL)
        assert np.allclose(b.covariances[k], a.covariances[j], rtol=0, atol=CLOSED_FORM_TOL)


def test_constants_change_utilities_not_the_equilibrium():
    game = random_game(np.random.default_rng(13), [1, 2])
    shifted = GaussianGame(game.H, game.h, game.dims, const=[3.0, -1.0])
    a, b = solve_gaussian(game, tau=0.5, epsilon=0.2), solve_gaussian(shifted, tau=0.5, epsilon=0.2)
    assert np.allclose(np.concatenate(a.means), np.concatenate(b.means), rtol=0, atol=CLOSED_FORM_TOL)
    assert np.allclose(b.payoffs - a.payoffs, [3.0, -1.0], rtol=0, atol=CLOSED_FORM_TOL)


def test_scaling_payoffs_rescales_tau_and_epsilon():
    # RQE(c u; epsilon, tau) = RQE(u; epsilon / c, c tau) (spec section 1 conventions).
    game = random_game(np.random.default_rng(14), [1, 1, 2], coupling=0.3)
    c, tau, eps = 2.5, np.array([0.2, 0.3, 0.1]), np.array([0.4, 0.3, 0.6])
    scaled = GaussianGame(c * game.H, c * game.h, game.dims)
    a, b = solve_gaussian(scaled, tau=tau, epsilon=eps), solve_gaussian(game, tau=c * tau, epsilon=eps / c)
    assert np.allclose(np.concatenate(a.means), np.concatenate(b.means), rtol=0, atol=CLOSED_FORM_TOL)
    for Sa, Sb in zip(a.covariances, b.covariances):
        assert np.allclose(Sa, Sb, rtol=0, atol=CLOSED_FORM_TOL)


# --------------------------------------------------------------------------- certificate
def test_gap_zero_at_solution_positive_when_perturbed():
    rng = np.random.default_rng(9)
    game = random_game(rng, [2, 1, 1], coupling=0.3)
    tau, eps = [0.4, 0.8, 0.2], [0.3, 0.2, 0.5]
    res = solve_gaussian(game, tau=tau, epsilon=eps)
    assert res.gap < GAP_TOL
    assert gaussian_gap(game, res.means, res.covariances, tau=tau, epsilon=eps) < GAP_TOL
    means = [m + 0.05 * rng.normal(size=m.shape) for m in res.means]
    assert gaussian_gap(game, means, res.covariances, tau=tau, epsilon=eps) > 1e-5
    covs = [1.3 * S for S in res.covariances]
    assert gaussian_gap(game, res.means, covs, tau=tau, epsilon=eps) > 1e-5


def test_gap_is_the_best_deviation_gain():
    # Two robots, partner fixed at N(0.4, 0.5): player 0's gain from (m, v) = (0.5, 0.5) equals
    # the direct objective log(1 - s)/2 - (m + 0.4 - 1)^2 / (2 (1 - s)) - m^2/2 - v + log(2 pi e v)/2
    # maximised at m = 0.4, v = 0.5 (tau = epsilon = 1, s = 0.5).
    def objective(m, v):
        return np.log(0.5) / 2 - (m - 0.6) ** 2 - m ** 2 / 2 - v + np.log(2 * np.pi * np.e * v) / 2

    gain = gaussian_gap(two_robots(), [0.5, 0.4], [0.5, 0.5], tau=1.0, epsilon=1.0)
    assert gain == pytest.approx(objective(0.4, 0.5) - objective(0.5, 0.5), abs=GAP_TOL)


def test_risk_adjusted_utility_against_quadrature():
    from scipy.integrate import quad

    game = two_robots()
    m, s, tau = 0.3, 0.4, 1.5
    g = lambda b: -0.5 * ((0.2 + b - 1) ** 2 + 0.1) - 0.5 * (0.2 ** 2 + 0.1)   # E_{a ~ N(0.2, 0.1)} u_0(a, b)
    integrand = lambda b: np.exp(-(b - m) ** 2 / (2 * s) - tau * g(b)) / np.sqrt(2 * np.pi * s)
    integral = quad(integrand, -40, 40, epsabs=0, epsrel=1e-13, limit=200)[0]
    value = game.risk_adjusted_utility(0, [0.2, m], [0.1, s], tau=tau)
    assert value == pytest.approx(-np.log(integral) / tau, abs=1e-10)
    entropic = game.risk_adjusted_utility(0, [0.2, m], [0.1, s], tau=tau, epsilon=0.3)
    assert entropic - value == pytest.approx(0.3 * 0.5 * np.log(2 * np.pi * np.e * 0.1), abs=1e-12)
    assert game.risk_adjusted_utility(0, [0.2, m], [0.1, s], tau=1 / s) == -np.inf


# --------------------------------------------------------------------------- result and game API
def test_result_type_and_repr():
    res = solve_gaussian(two_robots(), tau=[0.5, 1.0], epsilon=0.2, tol=1e-9, max_iter=3)
    assert isinstance(res, GaussianResult)
    assert repr(res).startswith("GaussianResult(message=") and ", success=True" in repr(res)
    assert res.params == {"tau": [0.5, 1.0], "epsilon": [0.2, 0.2], "tol": 1e-9, "max_iter": 3}
    assert res.method == "linear" and res.nit == 1
    d = res.to_dict()
    assert json.loads(json.dumps(d))["means"] == [[float(res.means[0][0])], [float(res.means[1][0])]]
    with pytest.raises(AttributeError):
        res.success = False


def test_non_collaborative_has_no_shared_reward():
    game = random_game(np.random.default_rng(1), [1, 1])
    assert solve_gaussian(game, tau=0.1, epsilon=0.1).shared_reward is None
    assert not game.is_collaborative and game.shared is None
    with pytest.raises(ValueError, match="collaborative game"):
        game.expected_shared_reward([0, 0], [1, 1])


def test_game_properties_and_equality():
    game = GaussianGame.collaborative(a_bar=[1.0, 2.0], rho=[1.0, 0.5], H=2.0, n_players=2, dim=2)
    assert game.dims == (2, 2) and game.n_players == 2 and game.is_collaborative
    assert game.shared["rho"].tolist() == [1.0, 0.5] and game.shared["a_bar"].tolist() == [1.0, 2.0]
    assert game == GaussianGame.collaborative(a_bar=[1.0, 2.0], rho=[1.0, 0.5], H=2 * np.eye(2), n_players=2, dim=2)
    assert hash(game) == hash(GaussianGame(game.H, game.h, game.dims, game.const))
    assert game != two_robots() and repr(game) == "GaussianGame(2 players, action dimensions (2, 2), collaborative)"
    A, B, C, h_a, h_b = game.blocks(1)
    assert np.allclose(A, -2.5 * np.eye(2)) and np.allclose(B, -2 * np.eye(2)) and np.allclose(C, -2 * np.eye(2))
    assert not game.H.flags.writeable
    with pytest.raises(AttributeError, match="immutable"):
        game.foo = 1


def test_expected_payoffs_monte_carlo():
    rng = np.random.default_rng(2)
    game = random_game(rng, [2, 1])
    means = [np.array([0.3, -0.2]), np.array([0.5])]
    covs = [np.array([[0.4, 0.1], [0.1, 0.3]]), np.array([[0.2]])]
    draws = np.hstack([rng.multivariate_normal(m, S, size=400_000) for m, S in zip(means, covs)])
    mc = [np.mean(0.5 * np.einsum("ka,ab,kb->k", draws, H, draws) + draws @ h) for H, h in zip(game.H, game.h)]
    assert np.allclose(game.expected_payoffs(means, covs), mc, atol=0.02)


def test_rqe_namespace_and_catalog():
    assert rqe.GaussianGame is GaussianGame
    assert rqe.analysis.collaboration is collaboration and rqe.analysis.admissible_tau is admissible_tau
    assert rqe.analysis.symbolic.two_robots is symbolic_two_robots
    assert two_robots(2.0).shared["a_bar"].tolist() == [2.0]
    with pytest.raises(AttributeError):
        rqe.analysis.nothing_here
    assert "collaboration" in dir(rqe.analysis)


# --------------------------------------------------------------------------- singular games
def singular_game(h0):
    # u_i = -a_i^2/2 - a_1 a_2 + h_i a_i: at tau = 0 the means solve m_1 + m_2 = h_i for both i.
    return GaussianGame([[[-1, -1], [-1, 0]], [[0, -1], [-1, -1]]], [[h0, 0], [0, 0]], [1, 1])


def test_singular_consistent_means_game_warns_tractability():
    with pytest.warns(TractabilityWarning, match="infinitely many"):
        res = solve_gaussian(singular_game(0.0), tau=0.0, epsilon=0.5)
    assert res.success and res.status == 0 and res.gap < GAP_TOL


def test_singular_inconsistent_means_game_fails():
    with pytest.warns(ConvergenceWarning, match="no Gaussian RQE"):
        res = solve_gaussian(singular_game(1.0), tau=0.0, epsilon=0.5)
    assert not res.success and res.status == 2


def test_refinement_limit_reports_failure():
    game = random_game(np.random.default_rng(4), [2, 2])
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        res = solve_gaussian(game, tau=0.3, epsilon=0.3, tol=1e-300, max_iter=2)
    assert not res.success and res.status == 1 and res.nit == 2


# --------------------------------------------------------------------------- errors
GOOD_H = [[[-1, 0.5], [0.5, 0]], [[0, 0.5], [0.5, -1]]]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"dims": 2}, ValueError, "'dims' parameter of rqe.GaussianGame must be a sequence"),
    ({"dims": [2]}, ValueError, "at least 2 ints"),
    ({"dims": [1, 1.0]}, ValueError, "at least 2 ints"),
    ({"H": np.zeros((2, 3, 3))}, ValueError, r"shape \(N, D, D\) = \(2, 2, 2\)"),
    ({"H": [[[-1, 1], [0, 0]], [[0, 0.5], [0.5, -1]]]}, ValueError, "symmetric"),
    ({"H": [[[1, 0.5], [0.5, 0]], [[0, 0.5], [0.5, -1]]]}, ValueError, "negative definite own block"),
    ({"H": [[[-1, np.nan], [np.nan, 0]], [[0, 0.5], [0.5, -1]]]}, ValueError, "finite"),
    ({"h": [0, 0]}, ValueError, r"'h' parameter .* shape \(N, D\)"),
    ({"const": [1, 2, 3]}, ValueError, r"'const' parameter .* shape \(2,\)"),
])
def test_game_errors(kwargs, error, match):
    args = {"H": GOOD_H, "h": [[0, 0], [0, 0]], "dims": [1, 1], **kwargs}
    with pytest.raises(error, match=match):
        GaussianGame(args["H"], args["h"], args["dims"], const=args.get("const"))


@pytest.mark.parametrize("kwargs, match", [
    ({"n_players": 1}, "'n_players' parameter .* int >= 2"),
    ({"dim": 0}, "'dim' parameter .* int >= 1"),
    ({"H": -1.0}, "'H' parameter .* positive definite"),
    ({"H": [[1, 0], [0, 1]]}, r"shape \(1, 1\)"),
    ({"a_bar": [1.0, 2.0]}, "'a_bar' parameter"),
    ({"rho": -1.0}, "'rho' parameter"),
])
def test_collaborative_errors(kwargs, match):
    args = {"a_bar": 1.0, "rho": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        GaussianGame.collaborative(**args)


@pytest.mark.parametrize("means, covs, match", [
    ([0.0], [1.0, 1.0], "one entry per player"),
    ([0.0, 0.0], "ab", "one entry per player"),
    ([[0.0, 1.0], 0.0], [1.0, 1.0], r"vector of shape \(1,\)"),
    ([0.0, 0.0], [1.0, -1.0], "positive definite"),
    ([0.0, 0.0], [1.0, [[1.0, 0.0], [0.0, 1.0]]], "positive definite"),
])
def test_profile_errors(means, covs, match):
    with pytest.raises(ValueError, match=match):
        two_robots().expected_payoffs(means, covs)


def test_risk_adjusted_utility_errors():
    with pytest.raises(ValueError, match="'player' parameter"):
        two_robots().risk_adjusted_utility(2, [0, 0], [1, 1], tau=1.0)
    with pytest.raises(ValueError, match="'tau' parameter"):
        two_robots().risk_adjusted_utility(0, [0, 0], [1, 1], tau=-1.0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"tau": -0.5}, ValueError, r"'tau' parameter .* \[0, inf\)"),
    ({"tau": [1.0, 1.0, 1.0]}, ValueError, "'tau' parameter"),
    ({"epsilon": 0.0}, ValueError, r"'epsilon' parameter .* \(0, inf\)"),
    ({"tol": 0.0}, ValueError, "'tol' parameter"),
    ({"max_iter": 0}, ValueError, "'max_iter' parameter"),
])
def test_solver_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        solve_gaussian(two_robots(), **kwargs)


def test_functions_reject_non_gaussian_games():
    matrix_game = rqe.games.catalog.matching_pennies()
    for call in (lambda: solve_gaussian(matrix_game), lambda: tau_bounds(matrix_game, 0.1),
                 lambda: gaussian_gap(matrix_game, [0, 0], [1, 1])):
        with pytest.raises(TypeError, match="GaussianGame"):
            call()


def test_gap_outside_domain_raises():
    with pytest.raises(ValueError, match="risk finite against the given covariances"):
        gaussian_gap(two_robots(), [0, 0], [1.0, 1.0], tau=1.0, epsilon=1.0)


@pytest.mark.parametrize("direction", [[1.0], [-1.0, 1.0], [0.0, 0.0]])
def test_admissible_direction_errors(direction):
    with pytest.raises(ValueError, match="'direction' parameter"):
        admissible_tau(two_robots(), 0.5, direction=direction)


@pytest.mark.parametrize("game, tau, match", [
    (GaussianGame(GOOD_H, [[0, 0], [0, 0]], [1, 1]), [0.0, 1.0], "collaborative GaussianGame"),
    (two_robots(), [1.0], r"shape \(K,\) or \(K, 2\)"),
    (two_robots(), np.zeros((3, 3)), r"shape \(K,\) or \(K, 2\)"),
    (two_robots(), [0.0, -1.0], "nonnegative"),
    (two_robots(), [0.0, 1.0, 4.0], r"admissible domain .*\(common tau < 4\)\. Got 4\.0 at grid point 2"),
])
def test_collaboration_errors(game, tau, match):
    with pytest.raises(ValueError, match=match):
        collaboration(game, epsilon=0.5, taus=tau)


def test_no_runtime_warnings_at_tiny_tau():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solve_gaussian(two_robots(), tau=1e-300, epsilon=0.1)
