"""rqe.fit: parameter recovery, independent QRE estimators, identification, input errors."""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MATCH_TOL
from scipy.optimize import minimize_scalar, root
from scipy.special import expit, xlogy

import rqe
from rqe.analysis.fitting import FitResult, likelihood_ratio_test
from rqe.games.catalog import experimental_games

RECOVERY_SE = 3.0          # estimates within this many standard errors of the truth
LAMBDA_RTOL = 1e-4         # QRE precision against the brute-force estimator and Gambit (both optimise to ~1e-6)
LOGLIK_ATOL = 1e-6         # maximised log-likelihoods of two exact estimators
NASH_ATOL = 1e-12          # trembled Nash prediction against its closed form

SC2 = rqe.NormalFormGame.from_bimatrix([[9, 0], [6, 8]], [[4, 13], [7, 5]])
SC2_COUNTS = [[22, 78], [53, 47]]


def _normalised_sc_games(k):
    out = []
    for e in experimental_games()[1:1 + k]:
        out.append(rqe.NormalFormGame(e.game.payoffs / np.ptp(e.game.payoffs)))
    return out


# ---------------------------------------------------------------- parameter recovery
def test_rqe_parameters_are_recovered_from_large_simulated_samples():
    rng = np.random.default_rng(7)
    truth = {"epsilon_1": 0.08, "epsilon_2": 0.05, "tau_1": 1.5, "tau_2": 0.7}
    games = _normalised_sc_games(6)
    n = 20_000
    data = []
    for game in games:
        res = rqe.solve(game, epsilon=(truth["epsilon_1"], truth["epsilon_2"]), tau=(truth["tau_1"], truth["tau_2"]))
        data.append([rng.multinomial(n, x) for x in res.strategies])
    fit = rqe.fit(games, data, model="rqe", n_starts=1, rng=rng)
    assert fit.success and fit.identified, fit.message
    for name, value in truth.items():
        assert abs(fit.estimates[name] - value) <= RECOVERY_SE * fit.std_errors[name], (name, fit.estimates)
        lo, hi = fit.conf_int[name]
        assert lo < fit.estimates[name] < hi
    assert fit.n_params == 4 and fit.n_obs == 2 * n * len(games)
    assert fit.aic == pytest.approx(8 - 2 * fit.loglik)
    assert fit.bic == pytest.approx(4 * np.log(fit.n_obs) - 2 * fit.loglik)


# ---------------------------------------------------------------- QRE against independent estimators
def _qre_by_root(R1, R2, lam):
    """Logit QRE of a 2x2 bimatrix game from the two logit equations (independent of rqe)."""
    R1, R2 = np.asarray(R1, float), np.asarray(R2, float)

    def eqs(v):
        p, q = expit(v)  # P(U), P(L) through log-odds
        du = (R1[0] - R1[1]) @ [q, 1 - q]
        dl = np.array([p, 1 - p]) @ (R2[:, 0] - R2[:, 1])
        return [v[0] - lam * du, v[1] - lam * dl]

    sol = root(eqs, [0.0, 0.0], tol=1e-13)
    assert np.max(np.abs(eqs(sol.x))) < 1e-12
    return expit(sol.x)


def _loglik(counts, p, q):
    x = [np.array([p, 1 - p]), np.array([q, 1 - q])]
    return float(sum(np.sum(xlogy(np.asarray(c, float), xi)) for c, xi in zip(counts, x)))


def test_qre_fit_matches_a_brute_force_grid_over_lambda():
    R1, R2 = [[9, 0], [6, 8]], [[4, 13], [7, 5]]
    grid = np.exp(np.linspace(np.log(0.01), np.log(10), 600))
    values = [_loglik(SC2_COUNTS, *_qre_by_root(R1, R2, lam)) for lam in grid]
    k = int(np.argmax(values))
    best = minimize_scalar(lambda lam: -_loglik(SC2_COUNTS, *_qre_by_root(R1, R2, lam)),
                           bounds=(grid[k - 1], grid[k + 1]), method="bounded", options={"xatol": 1e-10})
    fit = rqe.fit(SC2, SC2_COUNTS, model="qre", share="all", rng=0)
    assert fit.success, fit.message
    assert fit.estimates["lambda"] == pytest.approx(best.x, rel=LAMBDA_RTOL)
    assert fit.loglik == pytest.approx(-best.fun, abs=LOGLIK_ATOL)


def test_qre_fit_matches_gambit_logit_estimate():
    gbt = pytest.importorskip("pygambit")
    make = getattr(gbt, "StrategicGame", gbt.Game).from_arrays   # pygambit 17 moved it
    game = make(np.array([[9, 0], [6, 8]]), np.array([[4, 13], [7, 5]]))
    gambit = gbt.qre.logit_estimate(game.mixed_strategy_profile(data=SC2_COUNTS))
    fit = rqe.fit(SC2, SC2_COUNTS, model="qre", share="all", rng=0)
    assert fit.estimates["lambda"] == pytest.approx(gambit.lam, rel=LAMBDA_RTOL)
    assert fit.loglik == pytest.approx(gambit.log_like, abs=LOGLIK_ATOL)


def test_lr_test_nests_qre_in_entropy_rqe_and_refuses_log_barrier():
    games = _normalised_sc_games(3)
    data = [[[0.2, 0.8], [0.6, 0.4]], [[0.15, 0.85], [0.8, 0.2]], [[0.3, 0.7], [0.7, 0.3]]]
    qre = rqe.fit(games, data, model="qre", n_obs=100, n_starts=1, rng=0)
    start = {f"epsilon_{i}": 1 / qre.estimates[f"lambda_{i}"] for i in (1, 2)}
    full = rqe.fit(games, data, model="rqe", n_obs=100, n_starts=1, start=start, rng=0)
    test = likelihood_ratio_test(qre, full)
    assert test.df == 2 and test.statistic >= 0 and 0 <= test.pvalue <= 1
    assert full.loglik >= qre.loglik - LOGLIK_ATOL
    barrier = rqe.fit(games, data, model="rqe", regularizer="log_barrier", n_obs=100, n_starts=1, rng=0)
    with pytest.raises(ValueError, match="not nested"):
        likelihood_ratio_test(qre, barrier)
    with pytest.raises(TypeError, match="two FitResult"):
        likelihood_ratio_test(qre, test)
    other = dataclasses.replace(qre, n_obs=qre.n_obs / 2)   # a fit of half as many observations
    with pytest.raises(ValueError, match="same data"):
        likelihood_ratio_test(other, full)


# ---------------------------------------------------------------- Nash baseline, sharing, result
def test_nash_baseline_is_the_trembled_mixed_equilibrium():
    fit = rqe.fit(SC2, SC2_COUNTS, model="nash", tremble=0.01)
    # SC2: P(U) = 2/11 makes the column player indifferent, P(L) = 8/11 the row player.
    p, q = 0.99 * 2 / 11 + 0.005, 0.99 * 8 / 11 + 0.005
    assert fit.predicted[0][0][0] == pytest.approx(p, abs=NASH_ATOL)
    assert fit.predicted[0][1][0] == pytest.approx(q, abs=NASH_ATOL)
    assert fit.loglik == pytest.approx(_loglik(SC2_COUNTS, p, q), abs=LOGLIK_ATOL)
    assert fit.n_params == 0 and fit.success


def test_share_roles_and_none_name_parameters_per_game():
    games = _normalised_sc_games(2)
    data = [[[20, 80], [60, 40]], [[15, 85], [80, 20]]]
    fit = rqe.fit(games, data, model="qre", share="none", names=["A", "B"], n_starts=1, rng=0)
    assert set(fit.estimates) == {"A:lambda_1", "A:lambda_2", "B:lambda_1", "B:lambda_2"}
    fit = rqe.fit(games, data, model="qre", share="roles", names=["A", "B"], n_starts=1, rng=0)
    assert set(fit.estimates) == {"A:lambda", "B:lambda"} and fit.n_params == 2
    assert isinstance(fit, FitResult) and fit.to_dict()["names"] == ["A", "B"]
    assert repr(fit).startswith("FitResult(message=")


# ---------------------------------------------------------------- identification
def test_four_rqe_parameters_of_one_2x2_game_are_flagged_unidentified():
    fit = rqe.fit(SC2, SC2_COUNTS, model="rqe", share="none", n_starts=2, rng=0)
    assert not fit.identified and not fit.success and fit.status == rqe.Status.NUMERICAL
    assert "Not identified" in fit.message and "share" in fit.message
    assert all(np.isnan(v) for v in fit.std_errors.values())
    assert any(np.isnan(v) for v in fit.estimates.values())
    assert np.isfinite(fit.loglik)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("data, kwargs, match", [
    ([[22, -1], [53, 47]], {}, "nonnegative counts"),
    ([[22, 78, 1], [53, 47]], {}, "vector of 2 counts"),
    ([[22, 78]], {}, "2 action-count vectors"),
    ([[0, 0], [53, 47]], {}, "all zeros"),
    ([[22, np.nan], [53, 47]], {}, "finite"),
    ([[0.2, 0.8], [0.5, 0.5]], {}, "looks like frequencies"),
    ([[0.2, 0.7], [0.5, 0.5]], {"n_obs": 100}, "summing to 1"),
    ([[22, 78], [53, 47]], {"n_obs": -1}, "'n_obs'"),
    ([[22, 78], [53, 47]], {"model": "logit"}, "'model'"),
    ([[22, 78], [53, 47]], {"share": "players"}, "'share'"),
    ([[22, 78], [53, 47]], {"risk": "cvar"}, "'risk'"),
    ([[22, 78], [53, 47]], {"regularizer": "l2"}, "'regularizer'"),
    ([[22, 78], [53, 47]], {"n_starts": 0}, "'n_starts'"),
    ([[22, 78], [53, 47]], {"tremble": 1.5}, "'tremble'"),
    ([[22, 78], [53, 47]], {"start": {"tau_9": 1.0}}, "'start'"),
    ([[22, 78], [53, 47]], {"names": ["a", "b"]}, "'names'"),
])
def test_bad_input_raises_a_clear_error(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rqe.fit(SC2, data, **kwargs)


def test_bad_games_and_game_count_raise():
    with pytest.raises(TypeError, match="'games'"):
        rqe.fit([[1, 2], [3, 4]], SC2_COUNTS)
    with pytest.raises(ValueError, match="one entry per game"):
        rqe.fit([SC2, SC2], [SC2_COUNTS])
    three = rqe.NormalFormGame([np.zeros((2, 2, 2))] * 3)
    with pytest.raises(ValueError, match="same number of players"):
        rqe.fit([SC2, three], [SC2_COUNTS, [[1, 1]] * 3], share="games")


# ---------------------------------------------------------------- the example
def test_example_runs_quickly_and_writes_the_plot(tmp_path, capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    try:
        import fit_experimental_games
    finally:
        sys.path.pop(0)
    out = tmp_path / "fit.png"
    fit_experimental_games.main(["--quick", "--out", str(out)])
    text = capsys.readouterr().out
    assert out.stat().st_size > 10_000
    assert "LR test" in text and "SC12" in text and "N_OBS = 100" in text


# ---------------------------------------------------------------- a deterministic likelihood (issue 16.3)
GRAD_RTOL = 1e-5           # exact (implicit-function) gradient against central differences of the value
HISTORY_RTOL = 1e-9        # the same parameters after different histories (solver tolerance 1e-10)
BOS = rqe.games.catalog.battle_of_the_sexes()
BOS_COUNTS = [[90, 10], [80, 20]]   # coordination on (O, O): not the principal branch


def _likelihood(games, counts, model, share="all", **kw):
    from rqe.analysis._likelihood import Likelihood, check_data, check_games, layout

    game_list, _, single = check_games(games, None)
    data = check_data(counts, game_list, single, None)
    return Likelihood(game_list, data, model, layout(game_list, model, share), risk=kw.get("risk", "kl"),
                      regularizer=kw.get("regularizer", "entropy"))


def _principal_qre_by_steps(R1, R2, lam, steps=200):
    """The principal logit branch of a 2x2 game: root-finding warm-started along lam = 0 -> lam (independent)."""
    R1, R2 = np.asarray(R1, float), np.asarray(R2, float)
    v = np.zeros(2)
    for lam_k in np.linspace(0, lam, steps + 1)[1:]:
        def eqs(w):
            p, q = expit(w)
            return [w[0] - lam_k * ((R1[0] - R1[1]) @ [q, 1 - q]), w[1] - lam_k * ([p, 1 - p] @ (R2[:, 0] - R2[:, 1]))]
        v = root(eqs, v, tol=1e-13).x
    return expit(v)


def test_likelihood_is_the_same_after_different_histories():
    theta = np.array([0.0])  # lambda = 1: three QRE of the battle of the sexes
    fresh = _likelihood(BOS, BOS_COUNTS, "qre")
    value = fresh.nll_and_grad(theta)[0]
    travelled = _likelihood(BOS, BOS_COUNTS, "qre")
    for lam in (0.1, 0.5, 0.9, 5.0):     # the old continuation rule gave 82.70 fresh and 137.64 after this
        travelled.nll_and_grad(np.array([np.log(lam)]))
    assert travelled.nll_and_grad(theta)[0] == pytest.approx(value, rel=HISTORY_RTOL)
    p, q = _principal_qre_by_steps([[3, 0], [0, 2]], [[2, 0], [0, 3]], 1.0)
    assert -value == pytest.approx(_loglik(BOS_COUNTS, p, q), abs=LOGLIK_ATOL)


def test_gradient_by_the_implicit_function_theorem_matches_differences():
    games = _normalised_sc_games(2)
    lik = _likelihood(games, [[[20, 80], [60, 40]], [[15, 85], [80, 20]]], "rqe", share="games",
                      regularizer="log_barrier")
    theta = np.log([0.1, 0.3, 2.0, 0.5])   # epsilon_1, epsilon_2, tau_1, tau_2
    _, grad = lik.nll_and_grad(theta)
    h = 1e-5
    for k in range(len(theta)):
        e = np.zeros(4)
        e[k] = h
        diff = (lik.nll_and_grad(theta + e)[0] - lik.nll_and_grad(theta - e)[0]) / (2 * h)
        assert grad[k] == pytest.approx(diff, rel=GRAD_RTOL, abs=GRAD_RTOL), k
    qre = _likelihood(SC2, SC2_COUNTS, "qre")
    lam = 0.6
    _, g = qre.nll_and_grad(np.array([np.log(lam)]))
    oracle = (_loglik(SC2_COUNTS, *_qre_by_root(*SC2.payoffs, lam * np.exp(-h)))
              - _loglik(SC2_COUNTS, *_qre_by_root(*SC2.payoffs, lam * np.exp(h)))) / (2 * h)
    assert g[0] == pytest.approx(oracle, rel=GRAD_RTOL)


def test_fast_principal_branch_agrees_with_the_solver_homotopy(rng):
    from rqe.analysis._likelihood import Likelihood

    for k in range(6):
        shape = [(2, 2), (2, 3), (2, 2, 2)][k % 3]
        game = rqe.NormalFormGame(rng.normal(size=(len(shape), *shape)))
        tau, eps = 10 ** rng.uniform(-2, 1, len(shape)), 10 ** rng.uniform(-1.5, 0.5, len(shape))
        regularizer = ["entropy", "log_barrier"][k % 2]
        lik = Likelihood([game], [[np.ones(n) for n in shape]], "rqe", [], risk="kl", regularizer=regularizer)
        found = lik.equilibrium(0, {"tau": tau, "epsilon": eps})
        oracle = rqe.solve(game, tau=tau, epsilon=eps, regularizer=regularizer, method="homotopy")
        assert found is not None and oracle.success
        for x, y in zip(found[1].log_x, oracle.strategies):
            np.testing.assert_allclose(np.exp(x), y, rtol=0, atol=MATCH_TOL)


# ---------------------------------------------------------------- issue 18: scale-free optimiser, Nash offsets
def test_counts_in_tiny_units_give_the_same_estimate():
    fit = rqe.fit(SC2, (np.array(SC2_COUNTS) * 3.7e-8).tolist(), model="qre", share="all", rng=0)
    # before: lambda 0.4336 (the optimiser's tolerances were absolute) with success=True
    reference = rqe.fit(SC2, SC2_COUNTS, model="qre", share="all", rng=0)
    assert fit.success, fit.message
    assert fit.estimates["lambda"] == pytest.approx(reference.estimates["lambda"], rel=LAMBDA_RTOL)
    assert fit.std_errors["lambda"] == pytest.approx(reference.std_errors["lambda"] / np.sqrt(3.7e-8), rel=1e-3)


def test_nash_fit_of_a_game_offset_by_1e9():
    shifted = rqe.NormalFormGame(SC2.payoffs + 1e9)
    fit = rqe.fit(shifted, SC2_COUNTS, model="nash", tremble=0.01)   # before: TypeError from inside
    assert fit.success, fit.message
    assert fit.predicted[0][0][0] == pytest.approx(0.99 * 2 / 11 + 0.005, abs=NASH_ATOL)
    assert fit.predicted[0][1][0] == pytest.approx(0.99 * 8 / 11 + 0.005, abs=NASH_ATOL)


def test_max_time_reports_the_best_point_so_far(monkeypatch):
    """The clock passes the budget after 5 likelihood evaluations: the fit says so, is not a
    success, and its log-likelihood is the one of its estimates, below the full fit's optimum."""
    import types

    from rqe.analysis import fitting as module

    game = rqe.NormalFormGame.from_bimatrix([[9, 0], [6, 8]], [[4, 13], [7, 5]])
    data = [[22, 78], [53, 47]]
    full = rqe.fit(game, data, model="qre", share="all", n_starts=2, rng=0)
    readings = iter([0.0] * 6 + [100.0] * 10_000)        # the start, then one reading per evaluation
    monkeypatch.setattr(module, "time", types.SimpleNamespace(monotonic=lambda: next(readings)))
    part = rqe.fit(game, data, model="qre", share="all", n_starts=2, rng=0, max_time=10)
    assert not part.success and "max_time = 10 s ran out after 1 of 2 starts" in part.message
    assert part.status == rqe.Status.MAX_TIME and full.status == rqe.Status.SUCCESS
    assert part.loglik <= full.loglik + 1e-9
    again = rqe.fit(game, data, model="qre", share="all", n_starts=1, start=part.estimates, rng=0)
    assert again.loglik >= part.loglik - 1e-9
