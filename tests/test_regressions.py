"""Regressions found while closing issues 16 and 18, each against an oracle written here.

The reproductions listed in the issues themselves are tested next to the code they exercise
(tests/test_robustness.py, test_cli.py, test_io.py, test_paths.py, test_fitting.py,
test_inputs.py, test_catalog.py); this file holds the cases found on the way (by the fuzz
corpus of tests/test_fuzz.py or by checking the issues' claims again).
"""

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import oracles
import rqe
from robustness_corpus import oracle_residual
from rqe.cli import main
from rqe.games import catalog

ROOT = Path(__file__).resolve().parents[1]
NASH_TOL = 1e-9          # solve_nash's default, relative to the payoff range


def _sc2_equilibrium():
    """SC2's unique equilibrium from the two indifference conditions, in rationals."""
    (A, B) = [[[Fraction(int(v)) for v in row] for row in p] for p in catalog.get("SC2").payoffs]
    # P1 mixes x to make P2 indifferent between its columns; P2 mixes y for P1's rows.
    x = (B[1][1] - B[1][0]) / (B[0][0] - B[0][1] - B[1][0] + B[1][1])
    y = (A[1][1] - A[0][1]) / (A[0][0] - A[0][1] - A[1][0] + A[1][1])
    return [np.array([float(x), float(1 - x)]), np.array([float(y), float(1 - y)])]


@pytest.mark.parametrize("offset", [1e9, -1e9, 1e12])
@pytest.mark.parametrize("method", ["auto", "vertex_enumeration", "lemke_howson"])
def test_solve_nash_on_sc2_with_a_large_offset(offset, method):
    # SC2 is constant-sum, so "auto" takes the linear program.  With 1e9 added it returned no
    # equilibrium (the linear program saw 1e9 + u); with 1e12 a TypeError from inside (HiGHS
    # returned no point).  Regrets are now taken on payoffs less their smallest entry, so the
    # rounding of 1e9 cannot fail the 1e-9 regret check either.
    game = rqe.NormalFormGame(np.asarray(catalog.get("SC2").payoffs) + offset)
    found = rqe.solve_nash(game, method=method)
    expected = _sc2_equilibrium()
    assert expected[0][0] == pytest.approx(2 / 11) and expected[1][0] == pytest.approx(8 / 11)
    assert len(found) == 1 and (found.complete or method == "lemke_howson"), found.message
    np.testing.assert_allclose(np.concatenate(found[0].strategies), np.concatenate(expected), atol=1e-12)
    assert found[0].regret <= NASH_TOL * 13
    assert oracles.nash_regret(game.payoffs, found[0].strategies) <= NASH_TOL * 13
    np.testing.assert_allclose(found[0].payoffs, [72 / 11 + offset, 71 / 11 + offset], rtol=1e-15)


def test_qre_path_of_a_game_offset_by_1e9_is_the_path_of_the_game():
    # Before: the path of U + 1e9 stopped after 2 points, or recorded points whose logit
    # residual was 2e-8 (tol 1e-10), because lam * (1e9 + u) lost u's digits.
    U = np.array([[[3.0, 0.0, 1.0], [0.0, 2.0, 1.0]], [[2.0, 0.0, 1.0], [0.0, 3.0, 2.0]]])
    plain = rqe.qre_path(rqe.NormalFormGame(U))
    shifted = rqe.qre_path(rqe.NormalFormGame(U + 1e9))
    assert plain.success and shifted.success
    assert len(shifted.parameter) == len(plain.parameter)
    np.testing.assert_allclose(shifted.parameter, plain.parameter, rtol=1e-12)
    for lam, *xs in zip(shifted.parameter, *shifted.strategies):
        assert oracles.logit_residual(U + 1e9, xs, lam) <= 1e-9
    end = [s[-1] for s in shifted.strategies]
    assert oracles.nash_regret(U + 1e9, end) <= shifted.params["regret_tol"] * np.ptp(U)


def test_tiny_offset_game_path_points_are_certified():
    # The fuzz corpus's case: payoffs 1e9 apart from each other by one unit in the last place.
    V = np.full((2, 2, 2), 1e9)
    V[0] += np.array([[0.0, 1.0], [0.0, -1.0]]) * np.spacing(1e9)
    path = rqe.qre_path(rqe.NormalFormGame(V))
    assert path.success and len(path.parameter) > 2
    for lam, *xs in zip(path.parameter, *path.strategies):
        assert oracles.logit_residual(V, xs, lam) <= 1e-9     # before: 1.8e-9 at lam = 0.03


def test_cli_counts_one_equilibrium_in_the_singular(capsys):
    # "1 equilibria found" before.
    assert main(["solve", "rock_paper_scissors", "--all"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert re.match(r"^1 equilibrium found; complete=False", first), first


_SPEC = re.compile(r"\bspec (?:sections? )?\d|\bthe spec\b|mathematical\s+specification")


def test_no_docstring_or_page_cites_the_unshipped_spec():
    # Issue 16 item 7: cite the paper or a docs page that ships, not the project's private spec.
    sources = list((ROOT / "rqe").rglob("*.py")) + list((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
    hits = [f"{p.relative_to(ROOT)}:{k}: {line.strip()}" for p in sources
            for k, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if _SPEC.search(line)]
    assert not hits, hits
    cited = {"docs/concepts.md", "docs/howto/markov_games.md"}
    assert all((ROOT / page).exists() for page in cited)
    assert "Closed forms" in (ROOT / "docs/concepts.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- issue 16 item 2: budgets on the paths
@pytest.mark.parametrize("trace", ["qre_path", "rqe_path"])
def test_paths_take_a_time_budget(trace):
    # Before: qre_path and rqe_path had no max_time (only the step cap).
    game = catalog.battle_of_the_sexes()
    kwargs = {"tau_span": (0.0, 5.0), "epsilon": 0.2} if trace == "rqe_path" else {}
    spent = getattr(rqe, trace)(game, max_time=1e-9, **kwargs)
    assert spent.status == 5 and not spent.success and "max_time" in spent.message
    assert len(spent.parameter) >= 1 and spent.nit <= 1
    full = getattr(rqe, trace)(game, max_time=600.0, **kwargs)
    assert full.success and full.status in (0, 4)
    # a spent budget keeps the points already traced: they are the start of the full path
    np.testing.assert_allclose(spent.parameter, full.parameter[:len(spent.parameter)], rtol=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), "1"])
def test_path_max_time_is_validated(bad):
    with pytest.raises(ValueError, match="'max_time' parameter of rqe.qre_path"):
        rqe.qre_path(catalog.stag_hunt(), max_time=bad)
    with pytest.raises(ValueError, match="'max_time' parameter of rqe.rqe_path"):
        rqe.rqe_path(catalog.stag_hunt(), max_time=bad)


def test_solve_all_on_a_gaussian_game_points_to_rqe_solve():
    with pytest.raises(TypeError, match=r"rqe.solve_all does not apply to a rqe.GaussianGame.*rqe.solve\(game"):
        rqe.solve_all(rqe.games.catalog.two_robots(), tau=1.0, epsilon=0.5)


def test_no_success_claimed_where_rounding_hides_the_residual():
    """tau * range = 6e4 and epsilon / range = 1e-8 (rounding floor 0.1): Newton converged in
    log-probabilities on a point whose probabilities underflow to 0, where the 40-digit residual
    of the returned strategies is 1.  Found by h16's fuzz corpus; it used to report success."""
    U = np.array([[[-5.65537682e6, -6.9e-159], [2.87466154e6, -2.34089442e6]],
                  [[-5.13081184e6, -5.13081184e6], [-5.13081184e6, -9.56395994e5]]])
    tau, eps = [0.0, 0.01443155], [0.11514894, 0.07446126]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rqe.solve(rqe.NormalFormGame(U), tau=tau, epsilon=eps)
    true = oracle_residual(U, res.strategies, tau, eps, "kl", "entropy")
    assert res.success == (true <= res.params["tol"]), (res.success, true)


def test_solve_all_survives_a_bracket_whose_sign_moves_with_warm_starts():
    """Matching pennies at tau = 2, epsilon = 0.5: h is ~0 at a grid point, and the warm-started
    best responses gave it the other sign when Brent's method re-evaluated it (ValueError)."""
    found = rqe.solve_all(catalog.matching_pennies(), tau=2.0, epsilon=0.5)
    assert found.complete and len(found) == 1 and "the only equilibrium" in found.message
    x, y = found.equilibria[0].strategies
    assert oracle_residual(np.asarray(catalog.matching_pennies().payoffs), (x, y), [2.0, 2.0], [0.5, 0.5],
                           "kl", "entropy") <= 1e-9


@pytest.mark.parametrize("tau", [5e-324, 1e-300, 1e-200, 1e-120])
def test_reverse_kl_with_a_vanishing_tau_is_the_risk_neutral_limit(tau):
    """The reverse-KL adversary's two-action closed form squared q / tau: at tau = 1e-200 it
    overflowed and the adversary put no mass anywhere, and rqe.solve reported a wrong RQE with
    success=True (40-digit residual 0.08); at 5e-324 the Jacobian raised (inf - inf)."""
    U = np.random.default_rng(0).normal(size=(2, 2, 2))
    q = np.array([0.4, 0.6])
    p = np.exp(rqe.ReverseKL().adversary(np.array([0.3, -0.2]), np.log(q), tau))
    np.testing.assert_allclose(p, q, atol=1e-12)
    game = rqe.NormalFormGame(U)
    res = rqe.solve(game, tau=[0.0, tau], epsilon=1.0, risk="reverse_kl")
    assert res.success
    assert oracle_residual(U, res.strategies, [0.0, tau], [1.0, 1.0], "reverse_kl", "entropy") <= 1e-9
    if tau == 5e-324:        # tau_n underflows to 0 here: the risk-neutral map, certified complete
        found = rqe.solve_all(game, tau=[0.0, tau], epsilon=1.0, risk="reverse_kl")
        assert found.complete and len(found) == 1


def test_max_time_is_counted_from_the_call_not_from_the_general_path(monkeypatch):
    """A 2x2 solve tries the scalar fast path first; the general path's budget must start when
    rqe.solve was called.  A stand-in fast path spends 15 s of a 10 s budget on a frozen clock and
    gives up: the general path must stop at once (status 5), not start a fresh 10 s."""
    import types

    import rqe.solvers._iterate as iterate
    import rqe.solvers.rqe as module

    clock = [0.0]
    fake = types.SimpleNamespace(monotonic=lambda: clock[0])
    monkeypatch.setattr(module, "time", fake)
    monkeypatch.setattr(iterate, "time", fake)

    def slow_fast_path(game, **kwargs):
        clock[0] = 15.0
        return None

    monkeypatch.setattr(module, "solve_2x2", slow_fast_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rqe.solve(catalog.stag_hunt(), tau=1.0, epsilon=0.1, max_time=10)
    assert res.status == 5 and not res.success and "max_time" in res.message
