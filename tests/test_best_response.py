"""rqe.best_response against oracles written here: brute-force maximisation of the player's
regularised risk-adjusted objective over a grid of the simplex (2 and 3 actions, 2 and 3
players), the closed-form logit response, and the argmax of the expected payoffs."""

import itertools
import warnings

import numpy as np
import pytest

import rqe
from rqe.games import catalog

GRID_2 = 200_001        # points of the grid on the 2-action simplex
GRID_3 = 600            # steps per side of the grid on the 3-action simplex
GRID_2_TOL = 2e-5       # distance from the best response to the best grid point (2 actions)
GRID_3_TOL = 5e-3       # the same on the coarser 3-action grid
VALUE_TOL = 1e-12       # the best response may undercut the best grid point by rounding only
CERT_TOL = 1e-9         # residual and gap of a converged best response
CLOSED_TOL = 1e-13      # against a closed form
BISECTIONS = 80         # of the reverse-KL adversary's scalar in the oracle


# ---------------------------------------------------------------- the oracle

def _risk_value(g, q, tau, risk):
    """``min_p p . g + D(p, q) / tau`` for each row of ``g`` (one row per grid point)."""
    if tau == 0:
        return g @ q
    live = q > 0
    if risk == "kl":            # -(1/tau) log E_q exp(-tau g)
        s = -tau * g[:, live] + np.log(q[live])
        m = s.max(axis=1, keepdims=True)
        return -(m[:, 0] + np.log(np.exp(s - m).sum(axis=1))) / tau
    gl, ql = g[:, live], q[live]         # reverse KL: p_b = q_b / (tau (g_b + mu)), sum p = 1
    lo = -gl.min(axis=1, keepdims=True)  # the sum falls from +inf at mu = lo to below 1 at hi
    hi = lo + 1.0 / tau + 1.0
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = (ql / (tau * (gl + mid))).sum(axis=1, keepdims=True) > 1.0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    p = ql / (tau * (gl + hi))
    p /= p.sum(axis=1, keepdims=True)
    return (p * gl).sum(axis=1) + (ql * np.log(ql / p)).sum(axis=1) / tau


def _objective(X, A, q, tau, eps, risk, reg):
    """``U^{tau,eps}`` at each row of ``X``: ``A`` is the player's payoffs against the others' joint actions."""
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = np.where(X > 0, X * np.log(X), 0.0).sum(axis=1) if reg == "entropy" else -np.log(X).sum(axis=1)
    return _risk_value(X @ A, q, tau, risk) - eps * nu


def _simplex_grid(n):
    if n == 2:
        t = np.linspace(0.0, 1.0, GRID_2)[1:-1]
        return np.column_stack([t, 1 - t])
    k = np.array([(a, b) for a in range(1, GRID_3) for b in range(1, GRID_3 - a)])
    return np.column_stack([k[:, 0], k[:, 1], GRID_3 - k.sum(axis=1)]) / GRID_3


def _own_and_joint(game, strategies, i):
    """Player ``i``'s payoffs against the others' joint actions, and their product distribution."""
    A = np.moveaxis(game.payoffs[i], i, 0).reshape(game.n_actions[i], -1)
    others = [strategies[j] for j in range(game.n_players) if j != i]
    q = np.array([np.prod(c) for c in itertools.product(*others)])
    return A, q


def _random_game(rng, shape):
    return rqe.NormalFormGame(rng.uniform(-1.0, 1.0, size=(len(shape),) + shape))


CASES = [  # (shape of the game, tau, epsilon, risk, regularizer)
    ((2, 2), 2.0, 0.3, "kl", "entropy"),
    ((2, 3), 8.0, 0.1, "kl", "entropy"),
    ((2, 2), 3.0, 0.2, "reverse_kl", "entropy"),
    ((2, 2), 1.5, 0.2, "kl", "log_barrier"),
    ((3, 2), 4.0, 0.25, "kl", "entropy"),
    ((3, 3), 2.0, 0.2, "reverse_kl", "log_barrier"),
    ((3, 2, 2), 3.0, 0.3, "kl", "entropy"),
    ((2, 2, 3), 5.0, 0.2, "kl", "log_barrier"),
    ((3, 3), 40.0, 0.02, "kl", "entropy"),          # sharp: tau / epsilon = 2000
    ((2, 2), 60.0, 0.01, "reverse_kl", "entropy"),
]


@pytest.mark.parametrize("k, case", list(enumerate(CASES)))
def test_best_response_maximises_the_objective_on_a_grid(k, case):
    shape, tau, eps, risk, reg = case
    rng = np.random.default_rng(100 + k)
    game = _random_game(rng, shape)
    strategies = [rng.dirichlet(np.ones(n)) for n in shape]
    i = 0
    res = rqe.best_response(game, strategies, player=i, tau=tau, epsilon=eps, risk=risk, regularizer=reg)
    assert res.success and res.residual < CERT_TOL and res.gap < CERT_TOL, res.message
    A, q = _own_and_joint(game, strategies, i)
    X = _simplex_grid(shape[i])
    f = _objective(X, A, q, tau, eps, risk, reg)
    best = X[np.argmax(f)]
    mine = _objective(res.strategy[None, :], A, q, tau, eps, risk, reg)[0]
    assert mine >= f.max() - VALUE_TOL * (1 + abs(f.max()))
    assert abs(mine - res.value) < 1e-10 * (1 + abs(mine))
    assert res.value + res.gap >= f.max() - VALUE_TOL * (1 + abs(f.max()))    # gap bounds the gain
    assert np.abs(res.strategy - best).max() < (GRID_2_TOL if shape[i] == 2 else GRID_3_TOL)
    assert abs(res.payoff - res.strategy @ A @ q) < 1e-12
    assert res.adversary.shape == tuple(n for j, n in enumerate(shape) if j != i)


class _PlainKL:
    """The KL adversary written here, without derivatives: the solver differentiates numerically."""

    name = "plain_kl"

    def adversary(self, g, log_q, tau):
        s = log_q - tau * g
        return s - (s.max() + np.log(np.exp(s - s.max()).sum()))

    def penalty(self, log_p, log_q):
        p = np.exp(log_p)
        return float(np.sum(p[p > 0] * (log_p - log_q)[p > 0]))


@pytest.mark.parametrize("shape", [(2, 2), (3, 2)])
def test_a_risk_object_without_derivatives_gives_the_same_response(shape):
    rng = np.random.default_rng(5)
    game = _random_game(rng, shape)
    strategies = [rng.dirichlet(np.ones(n)) for n in shape]
    plain = rqe.best_response(game, strategies, player=0, tau=3.0, epsilon=0.2, risk=_PlainKL())
    built = rqe.best_response(game, strategies, player=0, tau=3.0, epsilon=0.2)
    assert plain.success and plain.params["risk"] == "plain_kl"
    np.testing.assert_allclose(plain.strategy, built.strategy, atol=1e-9)
    A, q = _own_and_joint(game, strategies, 0)
    f = _objective(_simplex_grid(shape[0]), A, q, 3.0, 0.2, "kl", "entropy")
    assert plain.value >= f.max() - VALUE_TOL * (1 + abs(f.max()))


def test_best_response_to_a_pure_partner():
    game = catalog.stag_hunt()
    y = np.array([1.0, 0.0])
    res = rqe.best_response(game, [None, y], player=0, tau=3.0, epsilon=0.2)
    # under KL the adversary cannot move mass off a pure partner: the objective is the logit one
    A, q = _own_and_joint(game, [None, y], 0)
    X = _simplex_grid(2)
    f = _objective(X, A, q, 3.0, 0.2, "kl", "entropy")
    assert res.success and abs(res.strategy[0] - X[np.argmax(f), 0]) < GRID_2_TOL
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # log 0 of the partner's dead action stays silent
        for partner in ([1.0, 0.0], [0.0, 1.0]):
            rev = rqe.best_response(game, [None, partner], player=0, tau=3.0, epsilon=0.2, risk="reverse_kl")
            assert rev.success and rev.residual < CERT_TOL and rev.gap < CERT_TOL


def test_tau_zero_is_the_closed_form_logit_response():
    rng = np.random.default_rng(7)
    game = _random_game(rng, (3, 4, 2))
    strategies = [rng.dirichlet(np.ones(n)) for n in (3, 4, 2)]
    for i, eps in [(0, 0.05), (1, 0.7), (2, 3.0)]:
        A, q = _own_and_joint(game, strategies, i)
        u = A @ q / eps
        logit = np.exp(u - u.max()) / np.exp(u - u.max()).sum()
        res = rqe.best_response(game, strategies, player=i, tau=0.0, epsilon=eps)
        assert res.method == "closed_form" and res.success
        np.testing.assert_allclose(res.strategy, logit, rtol=0, atol=CLOSED_TOL)
        np.testing.assert_allclose(res.adversary.ravel(), q, atol=CLOSED_TOL)


def test_tau_and_epsilon_zero_is_the_nash_best_response():
    game = catalog.rock_paper_scissors()
    A, q = _own_and_joint(game, [None, np.array([0.5, 0.3, 0.2])], 0)
    res = rqe.best_response(game, [None, [0.5, 0.3, 0.2]], player=0, tau=0.0, epsilon=0.0)
    expected = np.zeros(3)
    expected[np.argmax(A @ q)] = 1.0
    np.testing.assert_array_equal(res.strategy, expected)
    assert res.method == "nash" and res.gap == 0.0 and abs(res.payoff - (A @ q).max()) < CLOSED_TOL
    tie = rqe.best_response(catalog.matching_pennies(), [None, [0.5, 0.5]], player=0, tau=0.0, epsilon=0.0)
    np.testing.assert_array_equal(tie.strategy, [0.5, 0.5])     # the epsilon -> 0 limit of the logit response


def test_small_epsilon_logit_tends_to_the_nash_best_response():
    game = catalog.stag_hunt()
    y = [0.6, 0.4]
    nash = rqe.best_response(game, [None, y], player=0, tau=0.0, epsilon=0.0).strategy
    logit = rqe.best_response(game, [None, y], player=0, tau=0.0, epsilon=1e-3).strategy
    assert np.abs(nash - logit).max() < 1e-10


def test_rqe_strategies_are_mutual_best_responses():
    rng = np.random.default_rng(11)
    game = _random_game(rng, (3, 2, 2))
    eq = rqe.solve(game, tau=[1.0, 2.0, 0.5], epsilon=[0.3, 0.4, 0.5])
    for i in range(3):
        res = rqe.best_response(game, list(eq.strategies), player=i, tau=[1.0, 2.0, 0.5], epsilon=[0.3, 0.4, 0.5])
        np.testing.assert_allclose(res.strategy, eq.strategies[i], atol=1e-9)
        np.testing.assert_allclose(res.adversary, eq.adversaries[i], atol=1e-9)
        assert abs(res.value - eq.values[i]) < 1e-9


def test_best_response_is_scale_invariant():
    game = catalog.free_riding_game()
    big = rqe.NormalFormGame(game.payoffs * 1e6 + 3e9)
    y = [0.3, 0.7]
    a = rqe.best_response(game, [None, y], player=1 - 1, tau=2.0, epsilon=0.1)
    b = rqe.best_response(big, [None, y], player=0, tau=2.0e-6, epsilon=0.1e6)
    np.testing.assert_allclose(a.strategy, b.strategy, atol=1e-9)


def test_result_is_in_the_family():
    res = rqe.best_response(catalog.stag_hunt(), [[0.5, 0.5], [0.6, 0.4]], player=1, tau=1.0, epsilon=0.5)
    assert isinstance(res, rqe.Result) and isinstance(res, rqe.BestResponseResult)
    assert res.status is rqe.Status.SUCCESS and repr(res).startswith("BestResponseResult(message=")
    assert res.params["player"] == 1 and res.params["tau"] == (1.0, 1.0)
    with pytest.raises(AttributeError):
        res.strategy = np.zeros(2)


def test_front_door():
    game = catalog.stag_hunt()
    y = [0.6, 0.4]
    for bad in (-1, 2, True, 0.5, "0"):
        with pytest.raises(ValueError, match="'player' parameter of rqe.best_response"):
            rqe.best_response(game, [None, y], player=bad, tau=1.0, epsilon=0.5)
    with pytest.raises(TypeError):
        rqe.best_response(game, [None, y], tau=1.0, epsilon=0.5)      # player is required, keyword-only
    with pytest.raises(TypeError):
        rqe.best_response(game, [None, y], 0)
    with pytest.raises(ValueError, match="sequence of 2 mixed strategies"):
        rqe.best_response(game, [y], player=0)
    with pytest.raises(ValueError, match="sequence of 2"):
        rqe.best_response(game, np.array([y, y]), player=0)
    with pytest.raises(ValueError, match=r"entry 1 must have shape \(2,\)"):
        rqe.best_response(game, [None, [0.2, 0.3, 0.5]], player=0)
    with pytest.raises(ValueError, match=r"entry 0 must have shape \(2,\)"):
        rqe.best_response(game, [None, y], player=1)                  # the partner's entry may not be None
    for off in ([0.7, 0.4], [1.2, -0.2], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="probability vector"):
            rqe.best_response(game, [None, off], player=0)
    with pytest.raises(ValueError, match="probability vector"):
        rqe.best_response(game, [[0.9, 0.3], y], player=1)           # a given own entry is checked too
    with pytest.raises(TypeError, match="array of numbers"):
        rqe.best_response(game, [None, ["a", "b"]], player=0)
    with pytest.raises(TypeError, match="rqe.NormalFormGame"):
        rqe.best_response(catalog.two_robots(), [None, y], player=0)
    with pytest.raises(ValueError, match="'epsilon' parameter of rqe.best_response must be > 0"):
        rqe.best_response(game, [None, y], player=0, tau=1.0, epsilon=0.0)
    with pytest.raises(ValueError, match="'tau' parameter of rqe.best_response"):
        rqe.best_response(game, [None, y], player=0, tau=-1.0)
    with pytest.raises(ValueError, match="'risk' parameter"):
        rqe.best_response(game, [None, y], player=0, risk="cvar")


def test_a_closed_form_that_is_not_finite_is_not_a_success():
    # epsilon = 1e-310 overflows the logit response: the closed form must not claim success.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rqe.best_response(catalog.stag_hunt(), [None, [0.6, 0.4]], player=0, tau=0.0, epsilon=1e-310)
    assert not res.success and res.status == rqe.Status.NUMERICAL and "Numerical failure" in res.message
