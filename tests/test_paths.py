"""qre_path, rqe_path and nash_from_qre against equations written here and nashpy."""

import dataclasses
import nashpy
import numpy as np
import pytest
from scipy.special import logsumexp, softmax

import oracles
import rqe
from rqe.games import catalog
from rqe.solvers.continuation import nash_from_qre
from tests.conftest import CERT_TOL, MATCH_TOL

PATH_TOL = 1e-9       # path points satisfy their equations (issue: 1e-9)
NASH_TOL = 1e-9       # polished Nash equilibria: max regret
LIMIT_TOL = 1e-5      # end of the logit branch against nashpy's equilibria
FOLD_TOL = 1e-6       # location of the fold of Example 5 from two independent events
EXAMPLE5_EPS = 0.2


def _regret(payoffs, xs):
    """Max gain of a pure deviation, computed with einsum (independent of rqe)."""
    N = len(xs)
    worst = 0.0
    for i in range(N):
        u = payoffs[i]
        for j in reversed(range(N)):
            if j != i:
                u = np.tensordot(u, xs[j], axes=([j], [0]))
        worst = max(worst, float(u.max() - u @ xs[i]))
    return worst


def test_qre_path_points_satisfy_logit_equations(rng):
    R1, R2 = rng.random((4, 3)), rng.random((4, 3))
    path = rqe.qre_path(rqe.NormalFormGame.from_bimatrix(R1, R2))
    assert path.success
    for lam, x, y in zip(path.parameter, *path.strategies):
        if lam > 1e3:
            break
        np.testing.assert_allclose(np.log(x), lam * (R1 @ y) - logsumexp(lam * (R1 @ y)), atol=PATH_TOL)
        np.testing.assert_allclose(np.log(y), lam * (R2.T @ x) - logsumexp(lam * (R2.T @ x)), atol=PATH_TOL)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_qre_path_ends_at_a_nash_equilibrium_of_nashpy(seed):
    gen = np.random.default_rng(seed)
    R1, R2 = gen.random((4, 4)), gen.random((4, 4))
    path = rqe.qre_path(rqe.NormalFormGame.from_bimatrix(R1, R2))
    end = [s[-1] for s in path.strategies]
    assert _regret(np.array([R1, R2]), end) < 1e-6
    equilibria = list(nashpy.Game(R1, R2).support_enumeration())
    assert min(max(np.abs(end[0] - a).max(), np.abs(end[1] - b).max()) for a, b in equilibria) < LIMIT_TOL


def test_nash_from_qre_three_players(rng):
    U = rng.normal(size=(3, 3, 3, 2))
    strategies, regret, path = nash_from_qre(rqe.NormalFormGame(U))
    assert regret <= NASH_TOL and _regret(U, strategies) <= NASH_TOL
    assert all(abs(x.sum() - 1) < 1e-12 and x.min() >= 0 for x in strategies)


def test_nash_from_qre_matching_pennies_three_player_mixed():
    # Three-player game whose only equilibrium is fully mixed: player i wants to match i+1.
    U = np.zeros((3, 2, 2, 2))
    for a in np.ndindex(2, 2, 2):
        for i in range(3):
            U[(i,) + a] = 1.0 if a[i] == a[(i + 1) % 3] else -1.0
        U[(2,) + a] *= -1  # the last player mismatches: no pure equilibrium
    strategies, regret, _ = nash_from_qre(rqe.NormalFormGame(U))
    assert regret <= NASH_TOL
    assert _regret(U, strategies) <= NASH_TOL


def test_example5_rqe_paths_find_the_merge():
    game = catalog.free_riding_game(cost=0.4)
    asym = rqe.rqe_path(game, tau_span=(0.0, 5.0), epsilon=EXAMPLE5_EPS, x0=[[0.2, 0.8], [0.9, 0.1]])
    sym = rqe.rqe_path(game, tau_span=(0.0, 5.0), epsilon=EXAMPLE5_EPS)
    folds = [e.parameter for e in asym.events if e.kind == "fold"]
    branch = [e.parameter for e in sym.events if e.kind == "branch_point"]
    assert asym.success and asym.status == 4 and sym.success and sym.status == 0
    assert len(folds) == 1 and len(branch) == 1
    tau_star = folds[0]
    assert abs(branch[0] - tau_star) < FOLD_TOL
    # Independent: the brute-force enumerator counts 3 RQE just below and 1 just above.  There the
    # roots (player 2 plays C with 0.530, 0.600, 0.666) are 4 grid cells apart on a 60-point grid.
    R1, R2 = game.payoffs
    assert len(oracles.all_equilibria_2x2(R1, R2, tau_star - 0.01, EXAMPLE5_EPS, grid=60)) == 3
    assert len(oracles.all_equilibria_2x2(R1, R2, tau_star + 0.01, EXAMPLE5_EPS, grid=60)) == 1
    # Through the merge the branch comes back as the mirror free-riding branch (roles swapped),
    # and tau never exceeds the fold.
    x, y = asym.strategies
    assert x[0][0] < y[0][0] and x[-1][0] > y[-1][0]
    assert asym.parameter.max() <= tau_star + 1e-9


def test_rqe_path_points_satisfy_fixed_point_equations(rng):
    R1, R2 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    A1, A2 = R1, R2.T
    eps = np.array([0.3, 0.5])
    path = rqe.rqe_path(rqe.NormalFormGame.from_bimatrix(R1, R2), tau_span=(0.0, 3.0), epsilon=eps,
                        direction=[1.0, 0.5])
    assert path.success
    for tau, x, y in zip(path.parameter, *path.strategies):
        t1, t2 = tau, 0.5 * tau
        p1 = softmax(np.log(y) - t1 * (A1.T @ x))
        p2 = softmax(np.log(x) - t2 * (A2.T @ y))
        np.testing.assert_allclose(x, softmax(A1 @ p1 / eps[0]), atol=PATH_TOL)
        np.testing.assert_allclose(y, softmax(A2 @ p2 / eps[1]), atol=PATH_TOL)


def test_path_errors():
    game = catalog.matching_pennies()
    with pytest.raises(ValueError, match="'tau_span' parameter of rqe.rqe_path must be a pair"):
        rqe.rqe_path(game, tau_span=1.0)
    with pytest.raises(ValueError, match="'tau_span'"):
        rqe.rqe_path(game, tau_span=(-1.0, 2.0))
    with pytest.raises(ValueError, match="'direction'"):
        rqe.rqe_path(game, tau_span=(0.0, 1.0), direction=[1.0, -1.0])
    with pytest.raises(ValueError, match="'max_steps'"):
        rqe.rqe_path(game, tau_span=(0.0, 1.0), max_steps=0)
    with pytest.raises(TypeError, match="'game'"):
        rqe.qre_path("pennies")
    with pytest.raises(ValueError, match="'lam_max'"):
        rqe.qre_path(game, lam_max=-1.0)
    with pytest.raises(ValueError, match="'weights'"):
        rqe.qre_path(game, weights=[1.0, 0.0])
    with pytest.raises(ValueError, match="'regret_tol'"):
        rqe.qre_path(game, regret_tol=0.0)
    with pytest.raises(ValueError, match="'max_steps'"):
        rqe.qre_path(game, max_steps=0)
    with pytest.raises(ValueError, match="'max_accel' parameter of rqe.qre_path must be a float > 1"):
        rqe.qre_path(game, max_accel=1.0)
    with pytest.raises(ValueError, match="'first_step'"):
        rqe.qre_path(game, first_step=0.0)
    with pytest.raises(ValueError, match="'max_step'"):
        rqe.rqe_path(game, tau_span=(0.0, 1.0), max_step=-1.0)
    with pytest.raises(ValueError, match="'tol'"):
        rqe.rqe_path(game, tau_span=(0.0, 1.0), tol=0.0)


def test_path_step_limit_is_reported(rng):
    path = rqe.qre_path(rqe.NormalFormGame.from_bimatrix(rng.random((3, 3)), rng.random((3, 3))), max_steps=2)
    assert not path.success and path.status == 1 and "max_steps" in path.message


def test_rqe_path_reports_a_start_that_cannot_be_solved():
    class BrokenRisk:
        name = "broken"

        def adversary(self, g, log_q, tau):
            return np.full_like(g, np.nan)

        def penalty(self, log_p, log_q):
            return np.nan

    with pytest.raises(ValueError, match="returned non-finite values"):
        rqe.rqe_path(catalog.matching_pennies(), tau_span=(1.0, 2.0), risk=BrokenRisk(), max_steps=5)


def test_rqe_path_reports_a_start_that_does_not_converge(monkeypatch):
    import rqe.solvers.continuation as continuation

    real = continuation.solve

    def failing(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), success=False, message="Iteration limit reached.")

    monkeypatch.setattr(continuation, "solve", failing)
    with pytest.raises(ValueError, match="could not compute the starting RQE at tau = 1.0: Iteration limit"):
        rqe.rqe_path(catalog.matching_pennies(), tau_span=(1.0, 2.0))


# ---------------------------------------------------------------- issue 18 regressions
SCALED_RESIDUAL_TOL = 1e-6   # every recorded point of a path on payoffs ~1e4 (was up to 1.9)


def _logit_residual(R1, R2, lam, x, y):
    """``max_i ||x_i - softmax(lam u_i)||_1`` written out with scipy (independent of rqe)."""
    return max(np.abs(x - softmax(lam * (R1 @ y))).sum(), np.abs(y - softmax(lam * (R2.T @ x))).sum())


@pytest.mark.parametrize("seed", [2, 10])
def test_qre_path_on_payoffs_scaled_by_1e4_records_only_solved_points(seed):
    # Issue 18: integer payoffs times 1e4 gave recorded points with residual up to 1.9 and success=True.
    gen = np.random.default_rng(seed)
    R = gen.integers(-5, 6, size=(2, 5, 5)).astype(float)
    scaled = rqe.qre_path(rqe.NormalFormGame(1e4 * R))
    plain = rqe.qre_path(rqe.NormalFormGame(R))
    assert scaled.success and plain.success
    R1, R2 = 1e4 * R
    for lam, x, y, recorded in zip(scaled.parameter, *scaled.strategies, scaled.residual):
        independent = _logit_residual(R1, R2, lam, x, y)
        assert independent <= SCALED_RESIDUAL_TOL and recorded <= SCALED_RESIDUAL_TOL
    # The end test is on the regret relative to the payoff range, so scaling the payoffs by c
    # divides the end lam by c and leaves the end point (a Nash equilibrium of both) unchanged.
    end_scaled = [s[-1] for s in scaled.strategies]
    end_plain = [s[-1] for s in plain.strategies]
    assert _regret(1e4 * R, end_scaled) <= 1e-8 * np.ptp(1e4 * R)
    assert _regret(R, end_plain) <= 1e-8 * np.ptp(R)
    assert abs(scaled.parameter[-1] * 1e4 / plain.parameter[-1] - 1) < 0.5
    assert max(np.abs(a - b).max() for a, b in zip(end_scaled, end_plain)) < LIMIT_TOL


def _reverse_kl_rqe_gap(A, B, tau, eps, x, y):
    """Fixed-point gap of the reverse-KL RQE of a 2x2 game, with the adversary solved by brentq.

    The adversary of player i minimises ``p . g + KL(q || p) / tau`` with ``g = A_i^T x_i``:
    ``p_b = q_b / (tau g_b + w)`` with ``w`` such that ``sum p = 1`` (stationarity of the
    Lagrangian; spec 2.2, written here independently of rqe.risk).
    """
    from scipy.optimize import brentq

    def adversary(g, q):
        lo = -tau * g.min() + 1e-15
        w = brentq(lambda w: np.sum(q / (tau * g + w)) - 1.0, lo, lo + 10.0 + tau * np.ptp(g), xtol=1e-15)
        return q / (tau * g + w)

    p1 = adversary(A.T @ x, y)          # player 1's adversary perturbs player 2's play
    p2 = adversary(B.T @ y, x)
    return max(np.abs(x - softmax(A @ p1 / eps)).sum(), np.abs(y - softmax(B @ p2 / eps)).sum())


def test_reverse_kl_example5_branch_folds_back_instead_of_jumping():
    # Issue 18: from a free-riding RQE the reverse-KL branch jumped onto the symmetric branch near
    # tau = 0.724 and went on to tau = 5 without an event.  It must fold back where it merges.
    game = catalog.free_riding_game(cost=0.4)
    asym = rqe.rqe_path(game, tau_span=(0.0, 5.0), epsilon=EXAMPLE5_EPS, risk="reverse_kl", x0=[[0.2, 0.8], [0.9, 0.1]])
    sym = rqe.rqe_path(game, tau_span=(0.0, 5.0), epsilon=EXAMPLE5_EPS, risk="reverse_kl")
    folds = [e.parameter for e in asym.events if e.kind == "fold"]
    branch = [e.parameter for e in sym.events if e.kind == "branch_point"]
    assert asym.success and asym.status == 4 and sym.status == 0
    assert len(folds) == 1 and len(branch) == 1 and abs(folds[0] - branch[0]) < FOLD_TOL
    tau_star = folds[0]
    assert 0.72 < tau_star < 0.73 and asym.parameter.max() <= tau_star + 1e-9
    x, y = asym.strategies
    assert x[0][0] < y[0][0] and x[-1][0] > y[-1][0]       # it comes back as the mirror branch
    A, B = game.own_rows
    for tau, xk, yk in zip(asym.parameter, x, y):
        assert _reverse_kl_rqe_gap(A, B, tau, EXAMPLE5_EPS, xk, yk) < PATH_TOL
    # A second algorithm counts the equilibria on either side of the merge.
    counts = [len(rqe.solve_all(game, tau=t, epsilon=EXAMPLE5_EPS, risk="reverse_kl")) for t in
              (tau_star - 0.01, tau_star + 0.01)]
    assert counts == [3, 1]


@pytest.mark.parametrize("seed,shape", [(0, (2, 5, 5)), (2, (2, 4, 6)), (0, (3, 4, 4, 4))])
def test_qre_path_tail_jump_ends_where_stepping_ends(seed, shape):
    # The jump from the asymptotic tail must land on the same branch as stepping all the way:
    # the same Nash limit (a mixed one: pure limits end before any tail), a solved QRE at its
    # lam, and a regret below the target.
    U = np.random.default_rng(seed).random(shape)
    game = rqe.NormalFormGame(U)
    jumped = rqe.qre_path(game)
    stepped = rqe.qre_path(game, tail_jump=False)
    assert jumped.success and stepped.success and not stepped.params["tail_jump"]
    assert jumped.params["tail_jump"] and len(jumped) < len(stepped)
    end = [s[-1] for s in jumped.strategies]
    assert _regret(U, end) <= 1e-8 * np.ptp(U)
    assert max(np.abs(a[-1] - b[-1]).max() for a, b in zip(jumped.strategies, stepped.strategies)) < LIMIT_TOL
    if len(shape) == 3:
        R1, R2 = U
        lam = jumped.parameter[-1]
        floor = 64 * np.finfo(float).eps * (1 + lam * np.abs(U).max())   # the documented rounding floor
        assert _logit_residual(R1, R2, lam, *end) <= max(PATH_TOL, floor)


def _gambit_qre(payoffs, lam):
    """The principal-branch logit QRE at ``lam`` from pygambit (skipped when it is not installed)."""
    gbt = pytest.importorskip("pygambit")
    game = getattr(gbt, "StrategicGame", None) or gbt.Game
    game = game.from_arrays(*payoffs)
    found = gbt.qre.logit_solve_lambda(game, lam=lam)
    profile = (found[0] if isinstance(found, list) else found).profile
    if hasattr(next(iter(game.players)), "strategies"):          # pygambit 16.x
        return [np.array([float(profile[s]) for s in player.strategies]) for player in game.players]
    return [np.array([float(p) for _, p in profile[player]]) for player in game.players]


@pytest.mark.parametrize("seed,n,lam,route", [(0, 3, 10.0, "newton+homotopy"), (1, 3, 10.0, "newton+homotopy"),
                                              (0, 5, 100.0, "newton+homotopy"), (0, 5, 10.0, "newton")])
def test_solve_qre_logit_fast_path_matches_the_homotopy_and_gambit(seed, n, lam, route):
    # solve_qre solves the logit equations directly: Newton from uniform play, and the principal
    # branch traced to lam where that fails (the games here are chosen to take both routes).  Its
    # answer must satisfy the logit equations written here, equal the general solver's payoff-scale
    # homotopy (a separate implementation of the same branch) and Gambit's logit_solve_lambda.
    gen = np.random.default_rng(seed)
    R1, R2 = gen.random((n, n)), gen.random((n, n))
    game = rqe.NormalFormGame.from_bimatrix(R1, R2)
    res = rqe.solve_qre(game, lam=lam)
    assert res.success and res.method == route
    assert res.residual <= CERT_TOL and _logit_residual(R1, R2, lam, *res.strategies) <= CERT_TOL
    homotopy = rqe.solve(game, tau=0.0, epsilon=1.0 / lam, method="homotopy")
    assert homotopy.success
    assert max(np.abs(a - b).max() for a, b in zip(res.strategies, homotopy.strategies)) <= MATCH_TOL
    theirs = _gambit_qre(np.array([R1, R2]), lam)
    assert max(np.abs(a - b).max() for a, b in zip(res.strategies, theirs)) <= MATCH_TOL


def test_solve_qre_logit_fast_path_three_players_and_per_player_precision(rng):
    # Three players, one precision each: the logit equations written out with tensordot.
    U = rng.normal(size=(3, 3, 3, 3))
    lam = np.array([2.0, 0.7, 1.3])
    res = rqe.solve_qre(rqe.NormalFormGame(U), lam=lam)
    assert res.success and res.method.startswith("newton")
    xs = res.strategies
    for i in range(3):
        u = U[i]
        for j in reversed(range(3)):
            if j != i:
                u = np.tensordot(u, xs[j], axes=([j], [0]))
        assert np.abs(xs[i] - softmax(lam[i] * u)).sum() <= CERT_TOL


@pytest.mark.parametrize("lam", [10.0, 30.0])
def test_solve_qre_branch_route_stays_on_the_principal_branch(lam):
    # A 10x10 game whose principal branch turns sharply before lam = 10: a looser step control
    # (first step 0.3, turns of 0.3 rad) landed on another QRE there.  The answer must be the
    # general homotopy's and Gambit's.
    gen = np.random.default_rng(3)
    R1, R2 = gen.normal(size=(10, 10)), gen.normal(size=(10, 10))
    game = rqe.NormalFormGame.from_bimatrix(R1, R2)
    res = rqe.solve_qre(game, lam=lam)
    assert res.success and res.method == "newton+homotopy"
    assert _logit_residual(R1, R2, lam, *res.strategies) <= CERT_TOL
    homotopy = rqe.solve(game, tau=0.0, epsilon=1.0 / lam, method="homotopy")
    assert max(np.abs(a - b).max() for a, b in zip(res.strategies, homotopy.strategies)) <= MATCH_TOL
    theirs = _gambit_qre(np.array([R1, R2]), lam)
    assert max(np.abs(a - b).max() for a, b in zip(res.strategies, theirs)) <= MATCH_TOL


def test_solve_qre_on_a_2x2_game_where_the_scalar_newton_fails_follows_the_principal_branch(monkeypatch):
    # Seed 11 of uniform 2x2 games at lam = 10: Newton from uniform play misses, so solve_qre takes the
    # logit route (Newton, then the branch from lam = 0) rather than solve's general homotopy.  Oracle:
    # the two logit equations followed from lam = 0 in 4000 small steps of scipy's root, written here.
    from scipy.optimize import root
    from scipy.special import expit

    import rqe.solvers.rqe as rqe_module

    rng = np.random.default_rng(11)
    A, B = rng.random((2, 2)), rng.random((2, 2))
    lam = 10.0

    def logit(v, s):
        p, q = expit(v)
        return [v[0] - s * (A[0] - A[1]) @ [q, 1 - q], v[1] - s * np.array([p, 1 - p]) @ (B[:, 0] - B[:, 1])]

    v = np.zeros(2)
    for s in np.linspace(0.0, lam, 4001)[1:]:
        v = root(logit, v, args=(s,), tol=1e-14).x
    p, q = expit(v)
    monkeypatch.setattr(rqe_module, "solve", lambda *a, **k: pytest.fail("fell back to rqe.solve"))
    res = rqe.solve_qre(rqe.NormalFormGame.from_bimatrix(A, B), lam=lam)
    assert res.success and "homotopy" in res.method, res.message
    np.testing.assert_allclose([res.strategies[0][0], res.strategies[1][0]], [p, q], atol=MATCH_TOL)
