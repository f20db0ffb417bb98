"""Sweeps, free-riding (Theorem 4), tractability and the Figure 1 script."""

import gc
import os
import runpy
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import CERT_TOL, MATCH_TOL, ORACLE_TOL
from scipy.special import softmax

import oracles
import rqe
from rqe.analysis import free_riding, tractability
from rqe.analysis._free_riding import shared_reward_form, theorem4_bound
from rqe.games import catalog

ROOT = Path(__file__).resolve().parents[1]
EQ_TOL = 1e-9
EPS5 = 0.2
# Root-scan grid of the brute-force oracle: at tau* - 0.01 the three RQE of Example 5 lie 0.07 apart in
# P2(C), so 80 points (spacing 0.0125) separate them; the oracle's default 400 took 4x as long.
ROOT_GRID = 80


def _check_rqe_kl_entropy(game, tau, eps, x, y):
    """The KL + entropy fixed point written out for two players (spec 2.3)."""
    A1, A2 = game.own_rows
    p1 = softmax(np.log(y) - tau[0] * (A1.T @ x))
    p2 = softmax(np.log(x) - tau[1] * (A2.T @ y))
    np.testing.assert_allclose(x, softmax(A1 @ p1 / eps[0]), atol=EQ_TOL)
    np.testing.assert_allclose(y, softmax(A2 @ p2 / eps[1]), atol=EQ_TOL)


# ---------------------------------------------------------------- sweep
def test_sweep_rows_are_equilibria_and_follow_the_grid(rng):
    game = rqe.NormalFormGame.from_bimatrix(rng.random((3, 3)), rng.random((3, 3)))
    taus = np.linspace(0, 3, 7)
    res = rqe.sweep(game, taus=taus, epsilons=[0.3, 0.6], progress=False)
    assert res.finished and len(res) == 14 and res.converged.all() and res.success
    np.testing.assert_array_equal(res.line, np.repeat([0, 1], 7))
    np.testing.assert_allclose(res.tau[:7, 0], taus)
    for k in range(len(res)):
        _check_rqe_kl_entropy(game, res.tau[k], res.epsilon[k], res.strategies[0][k], res.strategies[1][k])


def test_sweep_per_player_grids(rng):
    game = rqe.NormalFormGame.from_bimatrix(rng.random((2, 3)), rng.random((2, 3)))
    taus = np.column_stack([np.linspace(0, 2, 4), np.linspace(1, 0, 4)])
    res = rqe.sweep(game, taus=taus, epsilons=np.array([[0.5, 0.2]]), progress=False)
    np.testing.assert_allclose(res.tau, taus)
    for k in range(len(res)):
        _check_rqe_kl_entropy(game, res.tau[k], res.epsilon[k], res.strategies[0][k], res.strategies[1][k])


def test_sweep_process_pool_equals_in_process(rng):
    game = rqe.NormalFormGame.from_bimatrix(rng.random((3, 2)), rng.random((3, 2)))
    kw = dict(taus=np.linspace(0, 2, 5), epsilons=[0.2, 0.4, 0.8], progress=False)
    local = rqe.sweep(game, **kw)
    with ProcessPoolExecutor(max_workers=2) as pool:
        remote = rqe.sweep(game, executor=pool, **kw)
    # in-process a line is one batch, on the executor a chain of chunks: the same continuation up to tol
    for a, b in zip(local.strategies, remote.strategies):
        np.testing.assert_allclose(a, b, atol=MATCH_TOL)
    np.testing.assert_array_equal(local.line, remote.line)


def _point_by_point(game, taus, eps, risk, regularizer):
    """The sweep's documented semantics written out: rqe.solve at each tau, warm-started from the last success."""
    rows, x0 = [], None
    for tau in taus:
        res = rqe.solve(game, tau=tau, epsilon=eps, risk=risk, regularizer=regularizer, x0=x0)
        rows.append(res)
        x0 = res.strategies if res.success else None
    return rows


@pytest.mark.parametrize("name, taus, eps, risk, regularizer", [
    # three RQE below tau* ~ 0.9 (Example 5): up from the symmetric branch and down through the fold
    ("free_riding_game", np.linspace(0.0, 3.0, 40), [0.2, 0.5, 0.1], "kl", "entropy"),   # a grid: lines batched together
    ("free_riding_game", np.linspace(3.0, 0.0, 40), 0.2, "kl", "entropy"),
    # three logit equilibria at small epsilon; the batch's first pass lands on other branches here
    ("stag_hunt", np.linspace(0.0, 3.0, 40), 0.05, "kl", "entropy"),
    ("chicken", np.linspace(0.0, 3.0, 30), 0.1, "reverse_kl", "log_barrier"),
])
def test_batched_sweep_is_the_point_by_point_continuation(monkeypatch, name, taus, eps, risk, regularizer):
    import rqe.analysis._sweep as sweep_module

    game = catalog.get(name)
    calls = []
    real = sweep_module.solve
    monkeypatch.setattr(sweep_module, "solve", lambda *a, **k: calls.append(k["tau"]) or real(*a, **k))
    res = rqe.sweep(game, taus=taus, epsilons=eps, risk=risk, regularizer=regularizer, progress=False)
    assert len(calls) <= len(taus) // 4                       # the batch solved (and verified) the rest
    oracle = [r for e in np.atleast_1d(eps) for r in _point_by_point(game, taus, e, risk, regularizer)]
    assert res.success and res.converged.all() and all(r.success for r in oracle)
    for i in range(2):
        np.testing.assert_allclose(res.strategies[i], [r.strategies[i] for r in oracle], atol=MATCH_TOL)
    np.testing.assert_allclose(res.values, [r.values for r in oracle], atol=MATCH_TOL)
    assert res.residual.max() <= CERT_TOL and res.gap.max() <= CERT_TOL
    if risk == "kl" and regularizer == "entropy":
        for k in range(len(res)):
            _check_rqe_kl_entropy(game, res.tau[k], res.epsilon[k], res.strategies[0][k], res.strategies[1][k])


def test_batched_sweep_keeps_large_offsets_exact():
    """The batch works in rqe.solve's centred and rescaled units: an offset of 1e12 costs no accuracy."""
    shifted = rqe.NormalFormGame(catalog.free_riding_game().payoffs + 1e12)
    taus = np.linspace(0, 2, 20)
    res = rqe.sweep(shifted, taus=taus, epsilons=0.3, progress=False)
    oracle = _point_by_point(shifted, taus, 0.3, "kl", "entropy")
    np.testing.assert_allclose(res.strategies[0], [r.strategies[0] for r in oracle], atol=MATCH_TOL)
    np.testing.assert_allclose(res.values, [r.values for r in oracle], rtol=1e-15, atol=0)
    assert res.residual.max() <= CERT_TOL


def test_sweep_save_load_and_frame(tmp_path):
    res = rqe.sweep(catalog.stag_hunt(), taus=[0.0, 1.0], epsilons=0.5, progress=False)
    path = tmp_path / "sweep.npz"
    res.save(path)
    back = rqe.SweepResult.load(path)
    for name in ("tau", "epsilon", "residual", "gap", "converged", "line", "values"):
        np.testing.assert_array_equal(getattr(back, name), getattr(res, name))
    np.testing.assert_array_equal(back.strategies[1], res.strategies[1])
    assert back.params == res.params and back.finished
    assert (back.message, back.success, back.status, back.method) == (res.message, True, rqe.Status.SUCCESS, "batch")
    frame = res.to_frame()
    assert list(frame.columns[:4]) == ["tau_P1", "tau_P2", "epsilon_P1", "epsilon_P2"]
    assert frame["p_P1_S"].tolist() == res.strategies[0][:, 0].tolist()


class _InterruptingKL:
    """KL risk that raises KeyboardInterrupt after a number of adversary calls."""

    name = "kl"

    def __init__(self, calls):
        self.calls = calls
        self.inner = rqe.KL()

    def adversary(self, g, log_q, tau):
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return self.inner.adversary(g, log_q, tau)

    def penalty(self, log_p, log_q):
        return self.inner.penalty(log_p, log_q)


def test_sweep_reports_points_that_did_not_converge():
    # One Newton step cannot reach tol = 1e-14 from the uniform start: the table says which points failed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rqe.ConvergenceWarning)
        res = rqe.sweep(catalog.free_riding_game(), taus=[0.5, 1.0], epsilons=0.3, tol=1e-14, max_iter=1,
                        progress=False)
    failed = int(np.count_nonzero(~res.converged))
    assert res.finished and failed >= 1 and not res.success and res.status == rqe.Status.MAX_ITER
    assert f"{failed} of 2 points did not converge" in res.message and "max_iter" in res.message
    assert np.all(res.converged == (res.residual <= 1e-14))


def test_interrupted_sweep_keeps_computed_points():
    game = catalog.free_riding_game()
    full = rqe.sweep(game, taus=np.linspace(0.1, 2, 6), epsilons=0.3, progress=False)
    part = rqe.sweep(game, taus=np.linspace(0.1, 2, 6), epsilons=0.3, risk=_InterruptingKL(150), progress=False)
    assert not part.finished and 0 < len(part) < 6
    assert not part.success and part.status == rqe.Status.INTERRUPTED and "interrupted" in part.message
    np.testing.assert_allclose(part.strategies[0], full.strategies[0][:len(part)], atol=1e-9)


@pytest.mark.parametrize("batched", [True, False])
def test_sweep_max_time_keeps_the_points_computed(monkeypatch, batched):
    """The clock passes the deadline after 3 points: those 3 equal the unlimited sweep's first 3."""
    import rqe.analysis._sweep as module

    game = catalog.free_riding_game()
    taus = np.linspace(0.1, 2, 8)
    risk = "kl" if batched else _InterruptingKL(10**9)     # a custom KL object is not batched
    full = rqe.sweep(game, taus=taus, epsilons=0.3, risk=risk, progress=False)
    clock = iter([0.0] + [0.0] * 2 + [100.0] * 100)        # the start, then one reading per point
    monkeypatch.setattr(module, "_now", lambda: next(clock))
    part = rqe.sweep(game, taus=taus, epsilons=0.3, risk=risk, progress=False, max_time=10)
    assert not part.finished and len(part) == 3
    assert not part.success and part.status == rqe.Status.MAX_TIME and "max_time" in part.message
    np.testing.assert_allclose(part.strategies[0], full.strategies[0][:3], atol=MATCH_TOL)


def test_sweep_errors():
    with pytest.raises(ValueError, match="'max_time' parameter of rqe.sweep"):
        rqe.sweep(catalog.stag_hunt(), taus=[1.0], max_time=-1)
    game = catalog.stag_hunt()
    with pytest.raises(ValueError, match="'taus' parameter of rqe.sweep must lie in"):
        rqe.sweep(game, taus=[-1.0, 1.0])
    with pytest.raises(ValueError, match="'epsilons' parameter of rqe.sweep must lie in"):
        rqe.sweep(game, taus=[1.0], epsilons=0.0)
    with pytest.raises(ValueError, match=r"shape \(K, 2\)"):
        rqe.sweep(game, taus=np.ones((3, 3)))
    with pytest.raises(TypeError, match="Executor"):
        rqe.sweep(game, taus=[1.0], executor="pool")
    with pytest.raises(TypeError, match="collaboration"):
        rqe.sweep(catalog.two_robots(), taus=[1.0])


class _CountingBar:
    """Stands in for the tqdm bar: records every update; optionally 'presses Ctrl-C' after some."""

    def __init__(self, interrupt_after=None):
        self.updates, self.interrupt_after = [], interrupt_after

    def update(self, n):
        self.updates.append(n)
        if self.interrupt_after is not None and len(self.updates) >= self.interrupt_after:
            raise KeyboardInterrupt

    def close(self):
        pass


def test_progress_bar_moves_per_point_on_a_tau_only_sweep(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    import rqe.analysis._sweep as sweep_module

    bar = _CountingBar()
    monkeypatch.setattr(sweep_module, "_progress_bar", lambda total, progress: bar)
    game = catalog.free_riding_game()
    rqe.sweep(game, taus=np.linspace(0, 2, 9), epsilons=0.3)   # one line: before, one update of 9
    assert bar.updates == [1] * 9
    bar.updates.clear()
    with ThreadPoolExecutor(max_workers=2) as pool:
        rqe.sweep(game, taus=np.linspace(0, 2, 9), epsilons=[0.3, 0.5], executor=pool)
    assert bar.updates == [1] * 18


def test_progress_bar_without_ipywidgets_is_the_text_bar(monkeypatch, capsys):
    import importlib.util
    import warnings

    import tqdm.std

    from rqe.analysis._sweep import _progress_bar

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # no "IProgress not found" warning
        bar = _progress_bar(3, True)
        bar.update(1)
        bar.close()
    assert type(bar) is tqdm.std.tqdm


def test_csv_is_written_without_pandas(tmp_path, monkeypatch):
    import csv

    res = rqe.sweep(catalog.stag_hunt(), taus=[0.0, 0.5, 1.0], epsilons=[0.3, 0.7], progress=False)
    frame = res.to_frame()
    monkeypatch.setitem(sys.modules, "pandas", None)       # as if pandas were not installed
    path = tmp_path / "s.csv"
    res.to_csv(path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(frame.columns) and len(rows) == len(frame)
    for col in frame.columns:
        if col == "converged":
            assert [r[col] for r in rows] == [str(v) for v in frame[col]]
        else:
            assert [float(r[col]) for r in rows] == frame[col].tolist()   # exact: repr round-trips


# ---------------------------------------------------------------- a real dask cluster
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=40)
    except Exception as exc:  # pragma: no cover - where worker processes cannot start
        pytest.skip(f"dask.distributed cannot start a local cluster here: {exc}")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_sweep_on_a_dask_cluster_equals_in_process(dask_client):
    game = rqe.NormalFormGame.from_bimatrix([[3, 0, 1], [1, 2, 0]], [[2, 1, 0], [0, 3, 1]])
    kw = dict(taus=np.linspace(0, 3, 8), epsilons=[0.2, 0.5], progress=False)
    local = rqe.sweep(game, **kw)
    remote = rqe.sweep(game, executor=dask_client.get_executor(), **kw)
    assert remote.finished and len(remote) == len(local)
    pids = dask_client.run(os.getpid)                             # two worker processes, not this one
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    # in-process a line is one batch, on the executor a chain of chunks: the same continuation up to tol
    for a, b in zip(local.strategies, remote.strategies):
        np.testing.assert_allclose(a, b, atol=MATCH_TOL)
    np.testing.assert_array_equal(local.line, remote.line)


def test_interrupted_dask_sweep_keeps_finished_points(dask_client, monkeypatch):
    import rqe.analysis._sweep as sweep_module

    game = catalog.free_riding_game()
    taus = np.linspace(0, 3, 12)
    local = rqe.sweep(game, taus=taus, epsilons=[0.2, 0.5], progress=False)
    monkeypatch.setattr(sweep_module, "_progress_bar", lambda total, progress: _CountingBar(interrupt_after=5))
    part = rqe.sweep(game, taus=taus, epsilons=[0.2, 0.5], executor=dask_client.get_executor())
    assert not part.finished and 5 <= len(part) < len(local)
    for k in range(len(part)):       # every kept row is the in-process row at the same grid point
        j = int(np.flatnonzero(np.isclose(taus, part.tau[k, 0]))[0])
        ref = part.line[k] * len(taus) + j
        np.testing.assert_allclose(part.strategies[0][k], local.strategies[0][ref], atol=MATCH_TOL)


# ---------------------------------------------------------------- free-riding and Theorem 4
def test_theorem4_bound_matches_the_formula_for_example_5():
    game = catalog.free_riding_game(cost=0.4)
    R, c = shared_reward_form(game)
    np.testing.assert_allclose(c, [0.0, -0.4])     # c(C) - c(D) = 0.4, up to a constant
    np.testing.assert_allclose(R, R.T)
    vbar = (1.0 - 0.0) - (0.0 - 0.4)
    delta = 0.1
    assert theorem4_bound(game, EPS5, delta) == pytest.approx(
        2 * (EPS5 * np.log(2) + vbar) * 0.4 ** 2 / (EPS5 * delta ** 2), rel=1e-12)


def test_free_riding_measurement_against_brute_force():
    game = catalog.free_riding_game(cost=0.4)
    res = free_riding(game, epsilon=EPS5, taus=np.linspace(0, 1.5, 4))
    R1, R2 = game.payoffs
    assert [len(e) for e in res.equilibria] == [3, 3, 1, 1]
    below = oracles.all_equilibria_2x2(R1, R2, res.tau_star - 0.01, EPS5, grid=ROOT_GRID)
    above = oracles.all_equilibria_2x2(R1, R2, res.tau_star + 0.01, EPS5, grid=ROOT_GRID)
    assert len(below) == 3 and len(above) == 1
    row = res.comparison[0]
    c = 0.4  # degree = 0.4 |P1(C) - P2(C)|
    before = max(c * abs(x - y) for x, y in oracles.all_equilibria_2x2(R1, R2, row["measured"] - 0.01, EPS5,
                                                                           grid=ROOT_GRID))
    after = max(c * abs(x - y) for x, y in oracles.all_equilibria_2x2(R1, R2, row["measured"] + 0.01, EPS5,
                                                                          grid=ROOT_GRID))
    assert before > row["delta"] > after
    assert all(r["bound"] > r["measured"] for r in res.comparison)


def test_free_riding_branch_is_the_traced_free_riding_rqe():
    game = catalog.free_riding_game(cost=0.4)
    res = free_riding(game, epsilon=EPS5, taus=np.linspace(0, 1.5, 4))
    branch = res.branch
    folds = [e.parameter for e in branch.events if e.kind == "fold"]
    assert folds == [res.tau_star] and branch.parameter[0] == 0.0
    R1, R2 = game.payoffs
    free = np.flatnonzero(branch.parameter < 0.9 * res.tau_star)   # on the branch, before it folds back
    for k in free[::max(1, len(free) // 4)]:
        point = (branch.strategies[0][k, 0], branch.strategies[1][k, 0])
        oracle = oracles.all_equilibria_2x2(R1, R2, branch.parameter[k], EPS5, grid=ROOT_GRID)
        assert len(oracle) == 3
        assert min(max(abs(point[0] - e[0]), abs(point[1] - e[1])) for e in oracle) <= ORACLE_TOL
        assert 0.4 * abs(point[0] - point[1]) > 0.5 * res.max_delta.max()   # a free-riding RQE, not the symmetric one
    assert free_riding(game, epsilon=EPS5, taus=[1.0, 1.5]).branch is None   # past tau*: nothing to trace


def test_theorem4_bound_is_valid_where_it_applies():
    game = catalog.free_riding_game(cost=0.4)
    delta = 0.2
    bound = float(theorem4_bound(game, EPS5, delta))
    eqs = rqe.solve_all(game, tau=1.01 * bound, epsilon=EPS5)
    assert eqs.complete and all(0.4 * abs(e.strategies[0][0] - e.strategies[1][0]) <= delta for e in eqs)


def test_free_riding_errors():
    with pytest.raises(ValueError, match="u_i = R"):
        free_riding(catalog.battle_of_the_sexes(), epsilon=0.2, taus=[0.0, 1.0])
    with pytest.raises(ValueError, match="same actions"):
        free_riding(rqe.NormalFormGame.from_bimatrix(np.zeros((2, 3)), np.zeros((2, 3))), epsilon=0.2, taus=[0, 1])
    with pytest.raises(ValueError, match="increasing 1-D grid"):
        free_riding(catalog.free_riding_game(), epsilon=0.2, taus=[1.0, 0.5])
    with pytest.raises(ValueError, match="'epsilon'"):
        free_riding(catalog.free_riding_game(), epsilon=-0.2, taus=[0.0, 1.0])


# ---------------------------------------------------------------- tractability
def test_tractability_conditions_and_labels():
    t = tractability([2.0, 1.0], [0.5, 1.0])
    assert t.holds and [c.holds for c in t.conditions] == [True, True]
    t = tractability([0.1, 1.0], [0.5, 1.0])        # product 0.05: MPS fails, 16 * 0.05 = 0.8 fails
    assert t.holds is False and "may not be unique" in t.message
    t = tractability([0.1, 1.0], [1.0, 1.0], risk="reverse_kl", regularizer="entropy")  # 0.1: only monotone
    assert [c.holds for c in t.conditions] == [False, True]
    t = tractability(1.0, 1.0, risk="kl", regularizer="entropy")
    assert t.holds is None and all(c.holds is None for c in t.conditions)
    assert all(c.source for c in t.conditions)


def test_tractability_warning_and_errors():
    with pytest.warns(rqe.TractabilityWarning, match="may not be unique"):
        rqe.solve(catalog.stag_hunt(), tau=0.1, epsilon=0.1, regularizer="log_barrier", check_tractability=True)
    with pytest.raises(ValueError, match="'tau' parameter of rqe.analysis.tractability"):
        tractability([-1.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="'epsilon'"):
        tractability(1.0, [1.0, 0.0])


# ---------------------------------------------------------------- Figure 1
def test_paper_figure_scripts_write_png_and_pdf(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["figure1.py", "--quick", "--out", str(tmp_path)])
    assert gc.isenabled()
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    runpy.run_path(str(ROOT / "paper_figures" / "figure1.py"), run_name="__main__")
    assert gc.isenabled()        # the script pauses the collector while it runs, and switches it back on
    assert os.environ.get("OPENBLAS_NUM_THREADS") == threads   # numpy was loaded already: nothing to ask
    monkeypatch.setattr(sys, "argv", ["tractability_region.py", "--out", str(tmp_path)])
    runpy.run_path(str(ROOT / "paper_figures" / "tractability_region.py"), run_name="__main__")
    assert (tmp_path / "tractability_region.png").stat().st_size > 10_000
    assert (tmp_path / "figure1.png").stat().st_size > 10_000
    assert (tmp_path / "figure1.pdf").stat().st_size > 5_000
    printed = capsys.readouterr().out
    assert "strictly increasing: True" in printed and "measured tau* = 0.8287" in printed


def test_a_sweep_takes_the_worst_status_of_its_failed_points():
    from rqe.solvers._result import grid_verdict

    message, status = grid_verdict([True, False, False], True, out_of_time=False, advice="look",
                                   statuses=[0, 1, 2])
    assert status == rqe.Status.NUMERICAL and message.startswith("2 of 3 points") and "NUMERICAL" in message
    assert grid_verdict([True, False], True, out_of_time=False, advice="look")[1] == rqe.Status.MAX_ITER
    assert grid_verdict([True, True], False, out_of_time=True, advice="look")[1] == rqe.Status.MAX_TIME
