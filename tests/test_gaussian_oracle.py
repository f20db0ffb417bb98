"""The closed-form Gaussian RQE against an independent brute-force solver on grids.

The oracle never assumes Gaussian strategies.  Each player's action space is a uniform grid
(a Cartesian grid in 2-D); strategies are probability vectors on it, and the aggregate
entropic-risk RQE (spec sections 2.2-2.3) is found by a damped fixed point of

    g_i(b)    = sum_a x_i(a) u_i(a, b)                       (own randomness inside the risk)
    p_i(b)   ~= x_{-i}(b) exp(-tau_i g_i(b))                 (the adversary's tilted, correlated law)
    x_i(a)   ~= exp(sum_b p_i(b) u_i(a, b) / epsilon_i)      (quantal response on the grid)

with ``b`` ranging over the joint grid of all other players.  ``u_i`` is evaluated from the
raw ``(H_i, h_i)`` arrays; its grid matrix ``u_i(a, b)`` is applied in factored form
(``f(a) + a^T B b + g(b)``), which is exact and avoids storing it.  Uniform grids integrate
Gaussians with spectral accuracy, so the oracle's moments match the continuous equilibrium
to far below the tolerances used here.
"""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from rqe.games.gaussian import GaussianGame
from rqe.solvers.gaussian import solve_gaussian

ORACLE_TOL = 1e-8          # closed form vs brute force: means and covariances
ORACLE_STOP = 1e-13        # the oracle's fixed point stops when its moments move less than this
ORACLE_MAX_ITER = 3000
DAMPING = 0.5


def _blocks(H, h, dims, i):
    idx = np.arange(sum(dims))
    starts = np.cumsum([0, *dims])
    own = idx[starts[i]:starts[i + 1]]
    others = np.concatenate([idx[starts[j]:starts[j + 1]] for j in range(len(dims)) if j != i])
    return H[np.ix_(own, own)], H[np.ix_(own, others)], H[np.ix_(others, others)], h[own], h[others]


def _box(lo, hi, n, d):
    axis = np.linspace(lo, hi, n)
    return np.array(list(itertools.product(axis, repeat=d)))


def brute_force_rqe(H, h, dims, tau, epsilon, grids):
    """Grid RQE; returns per-player (mean, covariance) of the grid strategies."""
    n = len(dims)
    logs = [np.full(len(g), -np.log(len(g))) for g in grids]
    players = []
    for i in range(n):
        A, B, C, h_a, h_b = _blocks(np.asarray(H[i], float), np.asarray(h[i], float), dims, i)
        X = grids[i]
        Y = np.array([np.concatenate(p) for p in itertools.product(*[grids[j] for j in range(n) if j != i])])
        fa = 0.5 * np.einsum("ka,ab,kb->k", X, A, X) + X @ h_a
        fb = 0.5 * np.einsum("ka,ab,kb->k", Y, C, Y) + Y @ h_b
        players.append((X, Y, B, fa, fb))

    def moments(log_x, X):
        x = np.exp(log_x)
        mean = x @ X
        centred = X - mean
        return mean, (centred * x[:, None]).T @ centred

    before = [moments(logs[i], grids[i]) for i in range(n)]
    for _ in range(ORACLE_MAX_ITER):
        new = []
        for i, (X, Y, B, fa, fb) in enumerate(players):
            x = np.exp(logs[i])
            log_others = sum(np.meshgrid(*[logs[j] for j in range(n) if j != i], indexing="ij")).ravel()
            g = x @ fa + fb + Y @ (B.T @ (X.T @ x))
            log_p = log_others - tau[i] * g
            p = np.exp(log_p - logsumexp(log_p))
            grad = fa + X @ (B @ (Y.T @ p)) + p @ fb
            target = grad / epsilon[i]
            mixed = (1 - DAMPING) * logs[i] + DAMPING * (target - logsumexp(target))
            new.append(mixed - logsumexp(mixed))
        logs = new
        after = [moments(logs[i], grids[i]) for i in range(n)]
        change = max(max(np.abs(a[0] - b[0]).max(), np.abs(a[1] - b[1]).max()) for a, b in zip(after, before))
        before = after
        if change < ORACLE_STOP:
            return after
    raise AssertionError(f"oracle did not converge (last change {change:.3g})")


def _compare(game, tau, epsilon, grids, record):
    res = solve_gaussian(game, tau=tau, epsilon=epsilon)
    oracle = brute_force_rqe(game.H, game.h, game.dims, np.broadcast_to(tau, game.n_players),
                             np.broadcast_to(epsilon, game.n_players), grids)
    diff = max(max(np.abs(m - om).max(), np.abs(S - oS).max())
               for m, S, (om, oS) in zip(res.means, res.covariances, oracle))
    record.append(diff)
    assert res.success and res.gap < 1e-12
    assert diff < ORACLE_TOL, diff
    return res, oracle


@pytest.fixture(scope="module")
def differences():
    found = []
    yield found
    print(f"\nlargest closed-form vs brute-force difference: {max(found):.3g}")


def _random_game(rng, dims, coupling):
    total = sum(dims)
    H, h = [], []
    starts = np.cumsum([0, *dims])
    for i, d in enumerate(dims):
        M = rng.normal(size=(total, total)) * coupling
        Hi = 0.5 * (M + M.T)
        own = slice(starts[i], starts[i + 1])
        R = rng.normal(size=(d, d))
        Hi[own, own] = -(R @ R.T / d + np.eye(d))
        H.append(Hi)
        h.append(rng.normal(size=total) * 0.5)
    return GaussianGame(np.array(H), np.array(h), dims, const=rng.normal(size=len(dims)))


def test_two_players_scalar_asymmetric_collaborative(differences):
    game = GaussianGame.collaborative(a_bar=1.0, rho=[1.0, 2.0], n_players=2)
    grid = _box(-2.5, 3.0, 301, 1)
    res, _ = _compare(game, [0.8, 1.5], [0.3, 0.2], [grid, grid], differences)
    assert abs(res.means[0][0] - res.means[1][0]) > 0.05   # genuinely asymmetric


def test_two_players_scalar_random_game(differences):
    game = _random_game(np.random.default_rng(7), [1, 1], coupling=0.6)
    grid = _box(-6.0, 6.0, 401, 1)
    _compare(game, [1.2, 0.4], [0.5, 0.25], [grid, grid], differences)


def test_two_players_two_dimensional_random_game(differences):
    game = _random_game(np.random.default_rng(11), [2, 2], coupling=0.4)
    grid = _box(-6.0, 6.0, 60, 2)
    _compare(game, [0.7, 1.1], [0.4, 0.3], [grid, grid], differences)


def test_three_players_scalar_asymmetric_collaborative(differences):
    game = GaussianGame.collaborative(a_bar=1.5, rho=[1.0, 1.5, 2.0], n_players=3)
    grid = _box(-2.5, 3.0, 111, 1)
    _compare(game, [0.5, 1.0, 1.5], [0.2, 0.3, 0.25], [grid] * 3, differences)


def test_three_players_scalar_random_game(differences):
    game = _random_game(np.random.default_rng(3), [1, 1, 1], coupling=0.5)
    grid = _box(-5.0, 5.0, 121, 1)
    _compare(game, [0.6, 0.9, 0.3], [0.3, 0.4, 0.5], [grid] * 3, differences)


def test_three_players_adversary_sees_the_others_cross_term():
    """Regression for the spec 4.2 caveat: with N = 3 the others' block is not block-diagonal.

    Dropping the a_j a_k coupling from player i's others' block (the paper's
    ``I_{N-1} (x) (-H)``) changes the risk and moves the means far beyond ``ORACLE_TOL``.
    """
    game = GaussianGame.collaborative(a_bar=1.5, rho=1.0, n_players=3)
    H = np.array(game.H)
    for i in range(3):
        others = [j for j in range(3) if j != i]
        H[i][others[0], others[1]] = H[i][others[1], others[0]] = 0.0
    decoupled = GaussianGame(H, game.h, game.dims, const=game.const)
    grid = _box(-2.5, 3.0, 111, 1)
    oracle = brute_force_rqe(game.H, game.h, game.dims, np.ones(3), np.full(3, 0.3), [grid] * 3)
    full = solve_gaussian(game, tau=1.0, epsilon=0.3)
    naive = solve_gaussian(decoupled, tau=1.0, epsilon=0.3)
    assert abs(full.means[0][0] - oracle[0][0][0]) < ORACLE_TOL
    assert abs(naive.means[0][0] - oracle[0][0][0]) > 1e-2
