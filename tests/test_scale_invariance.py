"""Every solver is invariant to the unit of the payoffs (docs/results.md, "one unit").

The oracle is an identity of the model, not the code: with payoffs multiplied by ``c > 0``
the risk-adjusted objective is ``U^{tau,eps}(c u) = c U^{c tau, eps/c}(u)`` (the adversary's
penalty ``D / tau`` and the regulariser ``eps * nu`` scale with the payoffs), so

    RQE(c u; tau / c, c eps) = RQE(u; tau, eps),   QRE(c u; lam / c) = QRE(u; lam),

and Nash and correlated equilibria do not depend on ``c`` at all.  Each solver is run on the
game and on its payoffs times ``1e-6`` and ``1e6`` with the parameters mapped by the identity;
the answers must agree and the certificates (recomputed here in numpy) must scale with ``c``.
"""

import warnings

import numpy as np
import pytest

import rqe
from tests.conftest import CERT_TOL, MATCH_TOL

SCALES = (1e-6, 1e6)
PATH_TOL = 1e-7
"""Two traces of one branch, compared point by point (their corrector tolerance is 1e-10)."""


_BASELINE: dict = {}


def _baseline(key, compute):
    """The unscaled answer, computed once for both scales."""
    if key not in _BASELINE:
        _BASELINE[key] = compute()
    return _BASELINE[key]


def _scaled(game: rqe.NormalFormGame, c: float) -> rqe.NormalFormGame:
    return rqe.NormalFormGame(game.payoffs * c, players=game.players, actions=game.actions)


def _close(xs, ys, tol=MATCH_TOL) -> float:
    gap = max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(xs, ys))
    assert gap <= tol, gap
    return gap


def _regret(game, xs) -> float:
    """Largest gain of a pure deviation, written out here (not the package's certificate)."""
    worst = 0.0
    for i in range(game.n_players):
        u = game.payoffs[i]
        for j in reversed(range(game.n_players)):
            if j != i:
                u = np.tensordot(u, xs[j], axes=([j], [0]))
        worst = max(worst, float(u.max() - u @ xs[i]))
    return worst


@pytest.fixture(scope="module")
def games():
    rng = np.random.default_rng(20261204)
    two = rqe.NormalFormGame([rng.normal(size=(3, 3)), rng.normal(size=(3, 3))])
    three = rqe.NormalFormGame([rng.normal(size=(2, 2, 2)) for _ in range(3)])
    return {"two": two, "three": three, "zero_sum": rqe.NormalFormGame.zero_sum(rng.normal(size=(3, 4))),
            "stag_hunt": rqe.games.catalog.stag_hunt()}


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("name, risk, regularizer", [("two", "kl", "entropy"), ("three", "kl", "entropy"),
                                                     ("two", "reverse_kl", "log_barrier")])
def test_solve(games, c, name, risk, regularizer):
    game, tau, eps = games[name], 0.7, 0.4
    a = _baseline(("solve", name, risk), lambda: rqe.solve(game, tau=tau, epsilon=eps, risk=risk,
                                                           regularizer=regularizer))
    b = rqe.solve(_scaled(game, c), tau=tau / c, epsilon=eps * c, risk=risk, regularizer=regularizer)
    assert a.success and b.success, b.message
    _close(a.strategies, b.strategies)
    assert b.residual <= CERT_TOL and b.gap <= CERT_TOL * c
    np.testing.assert_allclose(b.values, c * a.values, rtol=MATCH_TOL, atol=0)


@pytest.mark.parametrize("c", SCALES)
def test_solve_qre_and_solve_all(games, c):
    game = games["two"]
    _close(rqe.solve_qre(game, lam=3.0).strategies, rqe.solve_qre(_scaled(game, c), lam=3.0 / c).strategies)
    game = games["stag_hunt"]
    a = _baseline("solve_all", lambda: rqe.solve_all(game, tau=0.3, epsilon=0.3))
    b = rqe.solve_all(_scaled(game, c), tau=0.3 / c, epsilon=0.3 * c)
    assert a.complete and b.complete and len(a) == len(b) == 3
    for x, y in zip(a, b):
        _close(x.strategies, y.strategies)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("name, method", [("two", "auto"), ("two", "vertex_enumeration"), ("two", "lemke_howson"),
                                          ("two", "pure"), ("two", "qre_limit"), ("zero_sum", "lp"),
                                          ("three", "auto"), ("three", "pure"), ("three", "qre_limit")])
def test_solve_nash(games, c, name, method):
    game = games[name]
    a = _baseline(("nash", name, method), lambda: rqe.solve_nash(game, method=method))
    b = rqe.solve_nash(_scaled(game, c), method=method)
    assert len(a) == len(b) >= 1 and a.complete == b.complete, (a.message, b.message)
    spread = max(float(np.ptp(p)) for p in game.payoffs)
    for x, y in zip(a, b):
        _close(x.strategies, y.strategies)
        assert _regret(game, y.strategies) <= 1e-8 * spread


def test_qre_limit_warns_when_it_finds_nothing(monkeypatch):
    # A branch end that does not polish (here: moved off the equilibrium by 1e-3) is reported, not returned.
    # (Asking for tol=1e-300 instead depends on the rounding of the platform: the regret may come out exactly 0.)
    import rqe.solvers.nash as nash

    trace = nash.nash_from_qre

    def off_equilibrium(game, **options):
        strategies, lam, path = trace(game, **options)
        return tuple(np.abs(x - 1e-3 * (x - 0.5)) / np.abs(x - 1e-3 * (x - 0.5)).sum() for x in strategies), lam, path

    monkeypatch.setattr(nash, "nash_from_qre", off_equilibrium)
    rng = np.random.default_rng(1)
    game = rqe.NormalFormGame([rng.normal(size=(2, 2, 2)) for _ in range(3)])
    with pytest.warns(rqe.ConvergenceWarning, match="did not polish to an equilibrium: max regret"):
        res = rqe.solve_nash(game, method="qre_limit")
    assert len(res) == 0 and not res.success


@pytest.mark.parametrize("c", SCALES)
def test_paths(games, c):
    game = games["two"]
    a, b = _baseline("qre_path", lambda: rqe.qre_path(game)), rqe.qre_path(_scaled(game, c))
    assert a.success and b.success
    _close([x[-1] for x in a.strategies], [y[-1] for y in b.strategies], tol=PATH_TOL)
    a = _baseline("rqe_path", lambda: rqe.rqe_path(game, tau_span=(0.0, 3.0), epsilon=0.3))
    b = rqe.rqe_path(_scaled(game, c), tau_span=(0.0, 3.0 / c), epsilon=0.3 * c)
    assert a.success and b.success and len(a) == len(b), b.message
    np.testing.assert_allclose(b.parameter * c, a.parameter, rtol=PATH_TOL, atol=PATH_TOL)
    _close(a.strategies, b.strategies, tol=PATH_TOL)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("kind", ["ce", "cce"])
def test_solve_correlated(games, c, kind):
    game = games["stag_hunt"]
    a = _baseline(("correlated", kind), lambda: rqe.solve_correlated(game, kind=kind))
    b = rqe.solve_correlated(_scaled(game, c), kind=kind)
    assert a.success and b.success, b.message
    np.testing.assert_allclose(b.distribution, a.distribution, atol=1e-6)
    np.testing.assert_allclose(b.payoffs, c * a.payoffs, rtol=1e-6, atol=0)


@pytest.mark.parametrize("c", SCALES)
def test_gaussian_and_markov(c):
    g = rqe.games.catalog.two_robots()
    scaled = rqe.GaussianGame(g.H * c, g.h * c, g.dims, g.const * c)
    a, b = rqe.solve(g, tau=0.5, epsilon=0.5), rqe.solve(scaled, tau=0.5 / c, epsilon=0.5 * c)
    assert a.success and b.success
    _close(a.means, b.means)
    _close(a.covariances, b.covariances)   # -eps H_ii^{-1} is unit-free
    m = rqe.games.markov_catalog.random_markov_game(3, (2, 2), horizon=3, rng=np.random.default_rng(7))
    big = rqe.MarkovGame(m.rewards * c, m.transitions, initial=m.initial, horizon=m.horizon)
    with warnings.catch_warnings():
        warnings.simplefilter("error", rqe.ConvergenceWarning)
        a = rqe.solve_markov(m, tau=0.5, epsilon=0.4, progress=False)
        b = rqe.solve_markov(big, tau=0.5 / c, epsilon=0.4 * c, progress=False)
    _close(a.policies, b.policies)
    np.testing.assert_allclose(b.payoffs, c * a.payoffs, rtol=MATCH_TOL, atol=0)


@pytest.mark.parametrize("c", SCALES)
def test_sweep(games, c):
    game, taus, epsilons = games["two"], np.array([0.2, 0.7, 1.5]), np.array([0.3, 0.6])
    a = _baseline("sweep", lambda: rqe.sweep(game, taus=taus, epsilons=epsilons, progress=False))
    b = rqe.sweep(_scaled(game, c), taus=taus / c, epsilons=epsilons * c, progress=False)
    assert a.success and b.success and len(a.strategies[0]) == len(b.strategies[0]) == 6, b.message
    _close(a.strategies, b.strategies)
    np.testing.assert_allclose(b.values, c * a.values, rtol=MATCH_TOL, atol=0)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("criterion", ["entropy", "welfare", "logit", "rqe"])
def test_nash_selection(games, c, criterion):
    # tau_ratio = tau / epsilon maps to tau_ratio / c**2 (its docstring); the other criteria have no parameter.
    game = games["stag_hunt"]
    ratio = {"tau_ratio": 3.0} if criterion == "rqe" else {}
    a = _baseline(("select", criterion), lambda: rqe.solve_nash(game).select(criterion, **ratio))
    scaled = {"tau_ratio": 3.0 / c ** 2} if criterion == "rqe" else {}
    b = rqe.solve_nash(_scaled(game, c)).select(criterion, **scaled)
    assert a.success and b.success and a.index == b.index, (a.message, b.message)
    _close(a.equilibrium.strategies, b.equilibrium.strategies)


@pytest.mark.parametrize("c", SCALES)
def test_player_adversary_cce(games, c):
    game = games["stag_hunt"]
    a = _baseline("pa_cce", lambda: rqe.player_adversary_cce(game, tau=0.5, epsilon=0.5))
    b = rqe.player_adversary_cce(_scaled(game, c), tau=0.5 / c, epsilon=0.5 * c)
    assert a.success and b.success, b.message
    assert b.spread == pytest.approx(a.spread, abs=1e-6)
    assert b.regret <= 1e-6 * c * game.payoff_range


@pytest.mark.parametrize("c", SCALES)
def test_fit(c):
    # The maximum-likelihood lambda of the logit model maps to lambda / c; the likelihood does not move.
    game = rqe.NormalFormGame.from_bimatrix([[9, 0], [6, 8]], [[4, 13], [7, 5]])
    data = [[22, 78], [53, 47]]
    a = _baseline("fit", lambda: rqe.fit(game, data, model="qre", share="all", rng=0))
    b = rqe.fit(_scaled(game, c), data, model="qre", share="all", rng=0)
    assert a.success and b.success, b.message
    assert b.estimates["lambda"] * c == pytest.approx(a.estimates["lambda"], rel=1e-6)
    assert b.loglik == pytest.approx(a.loglik, abs=1e-8)


@pytest.mark.parametrize("c", SCALES)
def test_markov_sweep(c):
    m = rqe.games.markov_catalog.random_markov_game(2, (2, 2), horizon=2, rng=np.random.default_rng(3))
    big = rqe.MarkovGame(m.rewards * c, m.transitions, initial=m.initial, horizon=m.horizon)
    taus, epsilons = np.array([0.2, 1.0]), np.array([0.5])
    a = _baseline("markov_sweep", lambda: rqe.markov.sweep(m, taus=taus, epsilons=epsilons, progress=False))
    b = rqe.markov.sweep(big, taus=taus / c, epsilons=epsilons * c, progress=False)
    assert a.success and b.success, b.message
    np.testing.assert_allclose(b.payoffs, c * a.payoffs, rtol=MATCH_TOL, atol=0)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("method", ["mmd", "omwu"])
def test_mirror_descent(games, c, method):
    # Steps of lr on payoffs times c are steps of lr * c on the payoffs: lr maps to lr / c.
    game = games["two"]
    a = _baseline(("mirror", method), lambda: rqe.learning.mirror_descent(
        game, tau=0.5, epsilon=0.6, method=method, lr=0.05, iters=4000))
    b = rqe.learning.mirror_descent(_scaled(game, c), tau=0.5 / c, epsilon=0.6 * c, method=method, lr=0.05 / c,
                                    iters=4000)
    # The same iterates up to rounding: the stopping test may fire a few iterations apart.
    assert a.success and b.success and abs(a.nit - b.nit) <= 0.01 * a.nit, (a.message, b.message)
    _close(a.strategies, b.strategies, tol=PATH_TOL)


@pytest.mark.parametrize("c", SCALES)
def test_cooperative(c):
    rng = np.random.default_rng(11)
    values = rng.normal(size=(2, 3, 4)) * 3
    probs = rng.random((2, 3, 4)) + 0.05
    probs /= probs.sum(-1, keepdims=True)
    team, big = rqe.cooperative.TeamGame(values, probs), rqe.cooperative.TeamGame(values * c, probs)
    a = _baseline("team", lambda: rqe.cooperative.robust_team_values(team))
    b = rqe.cooperative.robust_team_values(big)
    assert a.success and b.success and a.joint_action == b.joint_action
    np.testing.assert_allclose(b.q, c * a.q, rtol=MATCH_TOL, atol=0)
    for fit in (rqe.cooperative.fit_vdn, rqe.cooperative.fit_igm):
        fa, fb = fit(a), fit(b)
        assert fa.success and fb.success and np.array_equal(fa.joint_action, fb.joint_action)
        for ua, ub in zip(fa.utilities, fb.utilities):
            np.testing.assert_allclose(ub, c * ua, rtol=1e-6, atol=1e-9 * c)
