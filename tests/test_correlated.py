"""Correlated and coarse correlated equilibria against closed forms, linprog and brute-force deviation checks."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

import rqe
from rqe.games.catalog import battle_of_the_sexes, matching_pennies, rock_paper_scissors
from tests.conftest import ORACLE_TOL

LP_TOL = 1e-6          # interior-point / simplex optimum against linprog (HiGHS) built here


def brute_gain(game, mu, kind):
    """Largest deviation gain of the law mu, by looping over players, recommendations and deviations."""
    n = game.n_actions
    best = -np.inf
    for i, k in enumerate(n):
        u = np.asarray(game.payoffs[i], float)
        for alt in range(k):
            if kind == "cce":
                total = 0.0
                for a in itertools.product(*map(range, n)):
                    b = list(a); b[i] = alt
                    total += mu[a] * (u[tuple(b)] - u[a])
                best = max(best, total)
                continue
            for rec in range(k):
                if rec == alt:
                    continue
                total = 0.0
                for a in itertools.product(*map(range, n)):
                    if a[i] != rec:
                        continue
                    b = list(a); b[i] = alt
                    total += mu[a] * (u[tuple(b)] - u[a])
                best = max(best, total)
    return best


def linprog_ce(game, c, kind="ce"):
    """min c . mu over the CE (CCE) polytope, constraints written out with loops."""
    n = game.n_actions
    cells = list(itertools.product(*map(range, n)))
    rows = []
    for i, k in enumerate(n):
        u = np.asarray(game.payoffs[i], float)
        recs = [None] if kind == "cce" else range(k)
        for rec in recs:
            for alt in range(k):
                if rec == alt:
                    continue
                row = np.zeros(len(cells))
                for j, a in enumerate(cells):
                    if rec is not None and a[i] != rec:
                        continue
                    b = list(a); b[i] = alt
                    row[j] = u[tuple(b)] - u[a]
                rows.append(row)
    res = linprog(c, A_ub=np.array(rows), b_ub=np.zeros(len(rows)), A_eq=np.ones((1, len(cells))), b_eq=[1.0],
                  bounds=[(0, None)] * len(cells), method="highs")
    return res


def test_aumann_chicken_welfare_and_the_cce_relaxation():
    chicken = rqe.NormalFormGame([[[6, 2], [7, 0]], [[6, 7], [2, 0]]])
    ce = rqe.solve_correlated(chicken)
    np.testing.assert_allclose(ce.distribution, [[0.5, 0.25], [0.25, 0.0]], atol=LP_TOL)
    cce = rqe.solve_correlated(chicken, kind="cce")
    assert cce.payoffs.sum() >= ce.payoffs.sum() - LP_TOL and cce.success


def test_matching_pennies_and_rps_have_only_the_uniform_ce():
    for game in (matching_pennies(), rock_paper_scissors()):
        k = game.n_actions[0]
        for objective in ("welfare", "none", "entropy"):
            res = rqe.solve_correlated(game, objective=objective)
            assert res.success
            np.testing.assert_allclose(res.distribution, np.full((k, k), 1 / k ** 2), atol=1e-5)


def test_battle_of_the_sexes_polytope_against_linprog():
    game = battle_of_the_sexes()
    for cell in range(4):
        for sign in (1, -1):                       # the range of mu(cell) over the polytope
            oracle = linprog_ce(game, -sign * np.eye(4)[cell])
            res = rqe.solve_correlated(game, objective=lambda mu, g, c=cell, s=sign: s * mu[c])
            assert res.success
            assert abs(res.distribution.ravel()[cell] - (-sign * oracle.fun)) < LP_TOL


@pytest.mark.parametrize("shape, kind", [((3, 3), "ce"), ((3, 4), "cce"), ((2, 2, 3), "ce"), ((2, 2, 2), "cce")])
def test_welfare_optimum_matches_linprog_and_brute_force(rng, shape, kind):
    game = rqe.NormalFormGame(list(rng.normal(size=(len(shape), *shape))))
    res = rqe.solve_correlated(game, kind=kind)
    oracle = linprog_ce(game, -np.sum([np.ravel(p) for p in game.payoffs], axis=0), kind=kind)
    assert res.success
    assert abs(res.payoffs.sum() + oracle.fun) < LP_TOL
    gain = brute_gain(game, res.distribution, kind)
    assert gain < LP_TOL and abs(max(gain, 0.0) - res.regret) < 1e-12
    for i, m in enumerate(res.marginals):
        np.testing.assert_allclose(m, res.distribution.sum(axis=tuple(j for j in range(len(shape)) if j != i)))


def test_every_nash_equilibrium_is_a_correlated_equilibrium(rng):
    for _ in range(3):
        game = rqe.NormalFormGame(list(rng.integers(-5, 6, size=(2, 3, 3)).astype(float)))
        for eq in rqe.solve_nash(game):
            x, y = eq.strategies
            assert brute_gain(game, np.outer(x, y), "ce") < ORACLE_TOL


def test_max_entropy_ce_is_feasible_and_beats_any_other_point(rng):
    game = battle_of_the_sexes()
    ent = rqe.solve_correlated(game, objective="entropy")
    wel = rqe.solve_correlated(game, objective="welfare")

    def H(p):
        p = p[p > 0]
        return -np.sum(p * np.log(p))
    assert ent.success and ent.regret < 1e-7
    assert H(ent.distribution.ravel()) >= H(wel.distribution.ravel()) - 1e-9
    for eq in rqe.solve_nash(game):                 # Nash products are CE: none has more entropy
        assert H(np.outer(*eq.strategies).ravel()) <= H(ent.distribution.ravel()) + 1e-6


def test_bad_input_is_named(monkeypatch):
    game = matching_pennies()
    with pytest.raises(ValueError, match="'kind' parameter of rqe.solve_correlated"):
        rqe.solve_correlated(game, kind="nash")
    with pytest.raises(ValueError, match="'objective' parameter of rqe.solve_correlated"):
        rqe.solve_correlated(game, objective="fairness")
    with pytest.raises(ValueError, match="'solver' parameter of rqe.solve_correlated"):
        rqe.solve_correlated(game, solver="NOT_A_SOLVER")
    with pytest.raises(TypeError, match="'game' parameter"):
        rqe.solve_correlated([[1, 2], [3, 4]])
    import rqe.solvers.correlated as corr

    monkeypatch.setattr(corr, "_MAX_JOINT", 3)
    with pytest.raises(ValueError, match="joint actions"):
        rqe.solve_correlated(game)
