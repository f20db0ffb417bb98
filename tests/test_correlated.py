"""Correlated and coarse correlated equilibria against closed forms, linprog and brute-force deviation checks;
the CCE of the player-adversary game against rqe.solve and a brute-force deviation search."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog, minimize_scalar

import rqe
from rqe.games.catalog import battle_of_the_sexes, matching_pennies, rock_paper_scissors, stag_hunt
from tests.conftest import MATCH_TOL, ORACLE_TOL

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
    with pytest.raises(ValueError, match=r"must have shape \(2, 2\)"):
        rqe.solve_correlated(game, objective=np.ones(3))
    with pytest.raises(ValueError, match="concave"):
        rqe.solve_correlated(game, objective=lambda mu, g: __import__("cvxpy").square(mu[0]))
    with pytest.raises(TypeError, match="must return a cvxpy expression"):
        rqe.solve_correlated(game, objective=lambda mu, g: "best")
    with pytest.raises(ValueError, match="'solver' parameter of rqe.solve_correlated.*not installed"):
        rqe.solve_correlated(game, solver="NOT_A_SOLVER")
    with pytest.raises(ValueError, match="'solver' parameter.*exponential cone"):
        rqe.solve_correlated(game, objective="entropy", solver="HIGHS")
    with pytest.raises(TypeError, match="'game' parameter"):
        rqe.solve_correlated([[1, 2], [3, 4]])
    too_large = rqe.NormalFormGame(list(np.zeros((3, 40, 40, 40))))      # 64,000 joint actions x 117 deviations
    for kind in ("ce", "cce"):
        with pytest.raises(ValueError, match="too large.*MAX_NONZEROS"):
            rqe.solve_correlated(too_large, kind=kind)
    import cvxpy

    monkeypatch.setattr(cvxpy, "installed_solvers", lambda: ["OSQP"])
    with pytest.raises(ImportError, match="needs a cvxpy solver for linear programs.*none is installed"):
        rqe.solve_correlated(game)
    with pytest.raises(ImportError, match="exponential-cone"):
        rqe.solve_correlated(game, objective="entropy")


# Battle of the sexes (rows Opera, Football; payoffs (3, 2), (0, 0), (0, 0), (2, 3)): with
# mu = (OO, OF, FO, FF) the CE constraints are 3 OO >= 2 OF, 2 FF >= 3 FO (player 1 told O, F) and
# 2 OO >= 3 FO, 3 FF >= 2 OF (player 2).  Intersecting three of the eight facets with sum(mu) = 1
# by hand gives five vertices: the two pure equilibria, the mixed one (x = (3/5, 2/5),
# y = (2/5, 3/5)) and two vertices where one miscoordinated outcome is never recommended.
BOS_CE_VERTICES = [(1, 0, 0, 0), (0, 0, 0, 1),
                   (Fraction(6, 25), Fraction(9, 25), Fraction(4, 25), Fraction(6, 25)),
                   (Fraction(2, 7), Fraction(3, 7), 0, Fraction(2, 7)),
                   (Fraction(3, 8), 0, Fraction(1, 4), Fraction(3, 8))]


def _exact_vertices(facets):
    """Vertices of {mu >= 0, sum mu = 1, facets @ mu >= 0} in 4 dimensions, by Fraction elimination."""
    rows = [list(r) for r in facets] + [[int(i == j) for j in range(4)] for i in range(4)]
    found = set()
    for tight in itertools.combinations(range(len(rows)), 3):
        M = [[Fraction(v) for v in rows[t]] + [Fraction(0)] for t in tight] + [[Fraction(1)] * 4 + [Fraction(1)]]
        for c in range(4):
            pivot = next((r for r in range(c, 4) if M[r][c] != 0), None)
            if pivot is None:
                break
            M[c], M[pivot] = M[pivot], M[c]
            M[c] = [v / M[c][c] for v in M[c]]
            M = [row if r == c else [v - row[c] * w for v, w in zip(row, M[c])] for r, row in enumerate(M)]
        else:
            mu = tuple(M[r][4] for r in range(4))
            if all(sum(a * b for a, b in zip(row, mu)) >= 0 for row in rows):
                found.add(mu)
    return found


def test_battle_of_the_sexes_ce_polytope_is_the_closed_form(rng):
    facets = [(3, -2, 0, 0), (0, 0, -3, 2), (2, 0, -3, 0), (0, -2, 0, 3)]
    assert _exact_vertices(facets) == {tuple(Fraction(v) for v in vert) for vert in BOS_CE_VERTICES}
    vertices = np.array(BOS_CE_VERTICES, dtype=float)
    for _ in range(12):                           # the support function of the polytope in random directions
        w = rng.normal(size=4)
        res = rqe.solve_correlated(battle_of_the_sexes(), objective=w.reshape(2, 2))
        assert res.success
        assert abs(w @ res.distribution.ravel() - (vertices @ w).max()) < LP_TOL
        np.testing.assert_allclose(res.distribution.ravel(), vertices[np.argmax(vertices @ w)], atol=LP_TOL)


def test_large_programs_are_assembled_sparse_and_right():
    """A 50x50 game: the sparse deviation matrix has one row per (player, recommendation, deviation),
    only the entries of the recommended action's joint actions, and sampled rows equal gains written
    out here.  (Build speed is measured in benchmarks/bench_correlated.py, not asserted.)"""
    from rqe.solvers.correlated import deviation_matrix

    rng = np.random.default_rng(0)
    game = rqe.NormalFormGame(list(rng.random((2, 50, 50))))
    D = deviation_matrix(game, kind="ce")
    assert D.shape == (2 * 50 * 49, 2500) and D.nnz <= 2 * 50 * 49 * 50
    mu = rng.dirichlet(np.ones(2500))
    got = D @ mu
    u1, u2 = (np.asarray(p, float) for p in game.payoffs)
    M = mu.reshape(50, 50)
    for rec, alt in [(0, 1), (7, 3), (49, 48)]:          # player 1's rows come first, in (rec, alt) order
        row = rec * 49 + (alt if alt < rec else alt - 1)
        assert abs(got[row] - M[rec] @ (u1[alt] - u1[rec])) < 1e-12
        row2 = 50 * 49 + row                              # player 2: recommended column rec, deviation alt
        assert abs(got[row2] - M[:, rec] @ (u2[:, alt] - u2[:, rec])) < 1e-12


def test_solve_correlated_never_prints(capfd):
    rqe.solve_correlated(matching_pennies())
    assert capfd.readouterr().out == ""


def test_failed_solve_is_reported_not_silent(monkeypatch):
    import cvxpy

    def broken(self, *args, **kwargs):
        raise cvxpy.error.SolverError("simulated failure")

    monkeypatch.setattr(cvxpy.Problem, "solve", broken)
    with pytest.warns(rqe.ConvergenceWarning, match="returned no point"):
        res = rqe.solve_correlated(matching_pennies())
    assert not res.success and res.status == 2 and "simulated failure" in res.params["solver_status"]


# --------------------------------------------------------------------------- the player-adversary game
# Payoffs of the four agents of a 2x2 game written from spec 2.4, independently of rqe's code:
# player i: x . A_i p_i - eps nu(x); adversary i: -x_i . A_i p - D(p, x_j) / tau.
def _nu(x, reg):
    return float(np.sum(x * np.log(x))) if reg == "entropy" else float(-np.sum(np.log(x)))


def _D(p, q, risk):
    return float(np.sum(p * np.log(p / q))) if risk == "kl" else float(np.sum(q * np.log(q / p)))


def _agent_payoff(game, agent, own, s, tau, eps, risk, reg):
    i, adversary = divmod(agent, 2)
    A = game.own_rows[i]
    x_i, p_i, x_j = s[2 * i], s[2 * i + 1], s[2 * (1 - i)]
    if not adversary:
        return own @ A @ p_i - eps * _nu(own, reg)
    return -x_i @ A @ own - _D(own, x_j, risk) / tau


def _brute_cce_gain(game, res, tau, eps, risk, reg):
    """Largest gain of a deviation t in (0, 1) -> (t, 1 - t) of any agent, by bounded scalar search."""
    cells = [(idx, m) for idx, m in np.ndenumerate(res.distribution) if m > 1e-12]
    profiles = [([res.support[a][k] for a, k in enumerate(idx)], m) for idx, m in cells]
    worst = -np.inf
    for agent in range(4):
        now = sum(m * _agent_payoff(game, agent, s[agent], s, tau, eps, risk, reg) for s, m in profiles)

        def minus(t, agent=agent):
            d = np.array([t, 1.0 - t])
            return -sum(m * _agent_payoff(game, agent, d, s, tau, eps, risk, reg) for s, m in profiles)
        grid = np.linspace(1e-6, 1 - 1e-6, 201)
        t0 = grid[np.argmin([minus(t) for t in grid])]
        best = minimize_scalar(minus, bounds=(max(t0 - 0.01, 1e-9), min(t0 + 0.01, 1 - 1e-9)), method="bounded",
                               options={"xatol": 1e-12})
        worst = max(worst, -best.fun - now)
    return worst


PAIRINGS = [("kl", "log_barrier"), ("reverse_kl", "entropy"), ("kl", "entropy")]


@pytest.mark.parametrize("risk, reg", PAIRINGS)
def test_player_adversary_cce_collapses_to_the_rqe_where_the_mps_condition_holds(risk, reg):
    game = stag_hunt()
    tau, eps = 4.0, 0.5                                     # eps1 tau1 eps2 tau2 = 4 >= 1
    res = rqe.player_adversary_cce(game, tau=tau, epsilon=eps, risk=risk, regularizer=reg, resolution=3)
    ref = rqe.solve(game, tau=tau, epsilon=eps, risk=risk, regularizer=reg)
    assert res.success and res.spread <= 1e-9 and res.distance <= 1e-9
    for x, y in zip(res.strategies, ref.strategies):
        np.testing.assert_allclose(x, y, atol=MATCH_TOL)
    assert _brute_cce_gain(game, res, tau, eps, risk, reg) < ORACLE_TOL


@pytest.mark.parametrize("risk, reg", PAIRINGS)
def test_player_adversary_cce_spreads_where_the_condition_fails_and_is_a_genuine_cce(risk, reg):
    game = stag_hunt()
    tau, eps = 0.5, 0.5                                     # eps1 tau1 eps2 tau2 = 1/16
    res = rqe.player_adversary_cce(game, tau=tau, epsilon=eps, risk=risk, regularizer=reg, resolution=3)
    assert res.success and res.spread > 0.5 and res.distance > 0.5
    gain = _brute_cce_gain(game, res, tau, eps, risk, reg)
    assert gain < 10 * res.params["tol"] * 4 and abs(max(gain, 0.0) - res.regret) < ORACLE_TOL


def test_cce_collapse_grid_against_rqe_solve():
    game = stag_hunt()
    taus, eps = np.array([0.2, 0.6, 2.5, 5.0]), np.array([0.5])
    res = rqe.analysis.cce_collapse(game, taus=taus, epsilons=eps, risk="kl", regularizer="log_barrier", resolution=3)
    assert res.success and res.spread.shape == (4, 1)
    np.testing.assert_allclose(res.product[:, 0], (taus * 0.5) ** 2)
    assert res.collapsed[res.product >= 1].all()           # collapse wherever the MPS condition holds
    assert not res.collapsed[0, 0] and res.spread[0, 0] > 0.5
    for t, d in zip(taus[2:], res.distance[2:, 0]):         # collapsed cells: the marginals are rqe.solve's RQE
        assert d <= 1e-9
    assert "where epsilon_1 tau_1 epsilon_2 tau_2 >= 1: 2 of 2" in res.message


def test_player_adversary_bad_input():
    game = stag_hunt()
    with pytest.raises(ValueError, match="two-player game"):
        rqe.player_adversary_cce(rqe.games.catalog.free_riding_game(n_players=3), tau=1.0, epsilon=0.5)
    with pytest.raises(ValueError, match="'tau' parameter of rqe.player_adversary_cce"):
        rqe.player_adversary_cce(game, tau=0.0, epsilon=0.5)
    with pytest.raises(ValueError, match="'risk' parameter of rqe.player_adversary_cce"):
        rqe.player_adversary_cce(game, tau=1.0, epsilon=0.5, risk=type("R", (), {
            "name": "mine", "adversary": lambda *a: None, "penalty": lambda *a: 0.0})())
    with pytest.raises(ValueError, match="MAX_SUPPORT"):
        rqe.player_adversary_cce(game, tau=1.0, epsilon=0.5, resolution=40)
    with pytest.raises(ValueError, match="'taus' parameter of rqe.analysis.cce_collapse"):
        rqe.analysis.cce_collapse(game, taus=[-1.0], epsilons=0.5)
