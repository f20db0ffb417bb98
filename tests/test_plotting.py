"""Tests for rqe.plotting: each figure draws the data it is given (checked on the artists).

Every test runs on the Agg backend and closes its figures.  The best-response curves are
checked against an independent oracle (bounded scalar maximisation of the player's objective,
tests/oracles.py), the equilibrium markers against rqe.solve_all, path lines against the path
arrays, the tractability boundaries against eps1 tau1 * eps2 tau2 = 1 and 1/16.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import oracles  # noqa: E402
import rqe  # noqa: E402
from conftest import ORACLE_TOL  # noqa: E402
from rqe import plotting  # noqa: E402

catalog = rqe.games.catalog


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def free_riding_path():
    return rqe.rqe_path(catalog.free_riding_game(), tau_span=(0.0, 2.0), epsilon=0.2, x0=[[0.2, 0.8], [0.9, 0.1]])


@pytest.fixture(scope="module")
def grid_sweep():
    return rqe.sweep(catalog.stag_hunt(), taus=np.linspace(0.0, 2.0, 6), epsilons=[0.3, 0.6, 1.2], progress=False)


def _markers(ax, marker):
    return [ln for ln in ax.get_lines() if ln.get_marker() == marker]


# ---------------------------------------------------------------- best_response_curves

@pytest.mark.parametrize("tau, eps", [(0.5, 0.2), (0.0, 0.2), (3.0, 0.4)])
def test_best_response_markers_are_solve_all(tau, eps):
    game = catalog.free_riding_game()
    ax = plotting.best_response_curves(game, tau=tau, epsilon=eps)
    eqs = rqe.solve_all(game, tau=tau, epsilon=eps)
    offsets = np.asarray(ax.collections[0].get_offsets())
    expected = np.array([[e.strategies[0][0], e.strategies[1][0]] for e in eqs])
    np.testing.assert_allclose(offsets, expected, atol=1e-12)
    assert ax.collections[0].get_label().startswith("QRE" if tau == 0 else "RQE")
    assert f"({len(eqs)})" in ax.collections[0].get_label()


def test_best_response_curves_match_oracle():
    game = catalog.free_riding_game()
    tau, eps = 0.5, 0.2
    ax = plotting.best_response_curves(game, tau=tau, epsilon=eps, n_points=21)
    br1, br2 = ax.get_lines()
    assert br1.get_label() == "BR of P1" and br2.get_label() == "BR of P2"
    A1, A2 = game.own_rows
    rng = np.random.default_rng(3)
    x1, y1 = br1.get_data()
    for k in rng.choice(len(y1), 8, replace=False):   # player 1: x = BR_1(y)
        y = y1[k]
        assert abs(x1[k] - oracles.best_response_2(A1, np.array([y, 1 - y]), tau, eps)) < ORACLE_TOL
    x2, y2 = br2.get_data()
    for k in rng.choice(len(x2), 8, replace=False):   # player 2: y = BR_2(x)
        x = x2[k]
        assert abs(y2[k] - oracles.best_response_2(A2, np.array([x, 1 - x]), tau, eps)) < ORACLE_TOL


def test_best_response_curves_cross_at_markers():
    game = catalog.stag_hunt()
    ax = plotting.best_response_curves(game, tau=0.3, epsilon=0.25, n_points=401)
    br1, _ = ax.get_lines()
    x, y = br1.get_data()
    for px, py in ax.collections[0].get_offsets():
        # the equilibrium lies on player 1's curve (interpolated in y, along which it is a graph)
        order = np.argsort(y)
        assert abs(np.interp(py, y[order], x[order]) - px) < 1e-3


def test_best_response_curves_labels_and_existing_axes():
    fig, ax = plt.subplots()
    out = plotting.best_response_curves(catalog.get("GHP4"), tau=[0.001, 0.06], epsilon=[170, 110],
                                        risk="kl", regularizer="log_barrier", ax=ax)
    assert out is ax
    assert ax.get_xlabel() == "P(P1 plays U)" and ax.get_ylabel() == "P(P2 plays L)"
    assert r"$\tau$ = (0.001, 0.06)" in ax.get_title() and "log_barrier" in ax.get_title()
    assert ax.get_legend() is not None


def test_best_response_curves_errors():
    with pytest.raises(ValueError, match="2 actions each"):
        plotting.best_response_curves(catalog.rock_paper_scissors(), tau=1.0, epsilon=0.5)
    with pytest.raises(ValueError, match="2 actions each"):
        plotting.best_response_curves(catalog.free_riding_game(n_players=3), tau=1.0, epsilon=0.5)
    with pytest.raises(TypeError, match="rqe.NormalFormGame"):
        plotting.best_response_curves(catalog.two_robots(), tau=1.0, epsilon=0.5)
    with pytest.raises(ValueError, match="'tau' parameter of rqe.plotting.best_response_curves"):
        plotting.best_response_curves(catalog.stag_hunt(), tau=-1.0, epsilon=0.5)
    with pytest.raises(ValueError, match="'n_points'"):
        plotting.best_response_curves(catalog.stag_hunt(), tau=1.0, epsilon=0.5, n_points=2)


# ---------------------------------------------------------------- strategy_path

def test_strategy_path_line_is_path(free_riding_path):
    path = free_riding_path
    ax = plotting.strategy_path(path, player=1, action=0)
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), path.parameter)
    np.testing.assert_array_equal(line.get_ydata(), path.strategies[1][:, 0])
    assert ax.get_xlabel() == r"risk aversion $\tau$"
    assert ax.get_ylabel() == "P(player 2 plays action 1)"
    assert ax.get_xscale() == "linear"


def test_strategy_path_marks_events(free_riding_path):
    path = free_riding_path
    assert [e.kind for e in path.events] == ["fold"]
    ax = plotting.strategy_path(path)
    folds = _markers(ax, "D")
    assert len(folds) == 1
    assert folds[0].get_xdata()[0] == path.events[0].parameter
    assert folds[0].get_label() == "fold"
    # the marker sits on the curve, next to the point the event refers to
    k = path.events[0].index
    assert folds[0].get_ydata()[0] in path.strategies[0][[k - 1, k], 0]
    ax2 = plotting.strategy_path(path, events=False)
    assert _markers(ax2, "D") == []


def test_strategy_path_branch_point_and_log_lambda():
    path = rqe.qre_path(catalog.battle_of_the_sexes())
    ax = plotting.strategy_path(path)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == r"logit precision $\lambda$ = 1/$\varepsilon$"
    bps = _markers(ax, "s")
    assert [m.get_xdata()[0] for m in bps] == [e.parameter for e in path.events if e.kind == "branch_point"]
    assert plotting.strategy_path(path, log_x=False).get_xscale() == "linear"


def test_strategy_path_legend_not_repeated(free_riding_path):
    fig, ax = plt.subplots()
    plotting.strategy_path(free_riding_path, ax=ax, label="a")
    plotting.strategy_path(free_riding_path, ax=ax, label="b")
    labels = ax.get_legend_handles_labels()[1]
    assert labels.count("fold") == 1 and "a" in labels and "b" in labels


def test_strategy_path_from_sweep(grid_sweep):
    sw = grid_sweep
    ax = plotting.strategy_path(sw, player=0, action=1)
    lines = ax.get_lines()
    assert len(lines) == 3
    for ln, line in zip(np.unique(sw.line), lines):
        rows = sw.line == ln
        np.testing.assert_array_equal(line.get_xdata(), sw.tau[rows, 0])
        np.testing.assert_array_equal(line.get_ydata(), sw.strategies[0][rows, 1])
        assert line.get_label() == rf"$\varepsilon$ = {sw.epsilon[rows][0, 0]:g}"


def test_strategy_path_errors(free_riding_path):
    with pytest.raises(TypeError, match="rqe.Path or a rqe.SweepResult"):
        plotting.strategy_path(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="'player'"):
        plotting.strategy_path(free_riding_path, player=2)
    with pytest.raises(ValueError, match="'action'"):
        plotting.strategy_path(free_riding_path, action=2)
    empty = rqe.Path(message="", success=False, parameter=np.empty(0), strategies=(np.empty((0, 2)),) * 2,
                     residual=np.empty(0))
    with pytest.raises(ValueError, match="at least one point"):
        plotting.strategy_path(empty)


# ---------------------------------------------------------------- simplex

def test_simplex_point_and_corners():
    ax = plotting.simplex([0.0, 0.0, 1.0], labels=["R", "P", "S"], label="top")
    point = ax.get_lines()[-1]
    np.testing.assert_allclose([point.get_xdata()[0], point.get_ydata()[0]], [0.5, np.sqrt(3) / 2])
    assert [t.get_text() for t in ax.texts] == ["R", "P", "S"]
    ax = plotting.simplex([1 / 3, 1 / 3, 1 / 3])
    point = ax.get_lines()[-1]
    np.testing.assert_allclose([point.get_xdata()[0], point.get_ydata()[0]], [0.5, np.sqrt(3) / 6])


def test_simplex_trajectory_from_path():
    path = rqe.qre_path(catalog.rock_paper_scissors())
    fig, ax = plt.subplots()
    plotting.simplex(path, player=1, ax=ax)
    traj = [ln for ln in ax.get_lines() if ln.get_label() == "player 2"][0]
    p = path.strategies[1]
    np.testing.assert_allclose(traj.get_xdata(), p[:, 1] + 0.5 * p[:, 2])
    np.testing.assert_allclose(traj.get_ydata(), np.sqrt(3) / 2 * p[:, 2])
    # a second call on the same axes does not redraw the triangle and labels
    n_text = len(ax.texts)
    plotting.simplex(path, player=0, ax=ax)
    assert len(ax.texts) == n_text


def test_simplex_from_equilibrium_result():
    res = rqe.solve(catalog.rock_paper_scissors(), tau=0.5, epsilon=0.5)
    ax = plotting.simplex(res)
    point = ax.get_lines()[-1]
    x, y = res.strategies[0][1] + 0.5 * res.strategies[0][2], np.sqrt(3) / 2 * res.strategies[0][2]
    np.testing.assert_allclose([point.get_xdata()[0], point.get_ydata()[0]], [x, y])


def test_simplex_errors():
    with pytest.raises(ValueError, match="3 actions"):
        plotting.simplex([0.5, 0.5])
    with pytest.raises(ValueError, match="3 actions"):
        plotting.simplex(rqe.qre_path(catalog.matching_pennies()))
    with pytest.raises(ValueError, match="3 actions"):
        plotting.simplex(np.full((2, 2, 3), 1 / 3))
    with pytest.raises(ValueError, match="probability vectors"):
        plotting.simplex([0.5, 0.6, 0.1])
    with pytest.raises(ValueError, match="probability vectors"):
        plotting.simplex([1.2, -0.2, 0.0])
    with pytest.raises(ValueError, match="'labels'"):
        plotting.simplex([1 / 3] * 3, labels=["a", "b"])
    with pytest.raises(ValueError, match="'player'"):
        plotting.simplex(rqe.qre_path(catalog.rock_paper_scissors()), player=5)
    with pytest.raises(ValueError, match="finite|strategies_or_path"):
        plotting.simplex([np.nan, 0.5, 0.5])


# ---------------------------------------------------------------- sweep_heatmap

def test_sweep_heatmap_values(grid_sweep):
    sw = grid_sweep
    ax = plotting.sweep_heatmap(sw, player=1, action=0)
    mesh = ax.collections[0]
    Z = np.asarray(mesh.get_array()).reshape(3, 6)
    for r, ln in enumerate(np.unique(sw.line)):   # epsilon increasing bottom to top
        np.testing.assert_array_equal(Z[r], sw.strategies[1][sw.line == ln, 0])
    coords = mesh.get_coordinates()   # cell edges, shape (E + 1, T + 1, 2)
    for edges, centres in ((coords[0, :, 0], np.linspace(0, 2, 6)), (coords[:, 0, 1], [0.3, 0.6, 1.2])):
        np.testing.assert_allclose(edges[1:-1], 0.5 * (np.array(centres[1:]) + centres[:-1]))   # midpoints
        assert np.all((edges[:-1] < centres) & (centres < edges[1:]))   # each value inside its cell
    assert ax.get_xlabel() == r"risk aversion $\tau$" and ax.get_ylabel() == r"temperature $\varepsilon$"
    cbar_ax = ax.figure.axes[-1]
    assert cbar_ax.get_ylabel() == "P(player 2 plays action 1)"


def test_sweep_heatmap_gap_log_scale(grid_sweep):
    from matplotlib.colors import LogNorm

    ax = plotting.sweep_heatmap(grid_sweep, value="gap")
    mesh = ax.collections[0]
    assert isinstance(mesh.norm, LogNorm)
    np.testing.assert_allclose(np.asarray(mesh.get_array()).ravel(), np.maximum(grid_sweep.gap, 1e-18))
    assert ax.figure.axes[-1].get_ylabel() == "duality gap"


def test_sweep_heatmap_unsorted_epsilon():
    sw = rqe.sweep(catalog.stag_hunt(), taus=[0.0, 1.0], epsilons=[0.9, 0.3], progress=False)
    Z = np.asarray(plotting.sweep_heatmap(sw).collections[0].get_array()).reshape(2, 2)
    np.testing.assert_array_equal(Z[0], sw.strategies[0][sw.line == 1, 0])   # epsilon 0.3 first


def test_sweep_heatmap_errors(grid_sweep):
    one_line = rqe.sweep(catalog.stag_hunt(), taus=[0.0, 1.0, 2.0], epsilons=0.3, progress=False)
    with pytest.raises(ValueError, match="full grid"):
        plotting.sweep_heatmap(one_line)
    one_tau = rqe.sweep(catalog.stag_hunt(), taus=[1.0], epsilons=[0.3, 0.5], progress=False)
    with pytest.raises(ValueError, match="full grid"):
        plotting.sweep_heatmap(one_tau)
    backwards = rqe.sweep(catalog.stag_hunt(), taus=[1.0, 0.0], epsilons=[0.3, 0.5], progress=False)
    with pytest.raises(ValueError, match="full grid"):
        plotting.sweep_heatmap(backwards)
    same_eps = rqe.sweep(catalog.stag_hunt(), taus=[0.0, 1.0], epsilons=[0.3, 0.3], progress=False)
    with pytest.raises(ValueError, match="distinct epsilon"):
        plotting.sweep_heatmap(same_eps)
    with pytest.raises(TypeError, match="SweepResult"):
        plotting.sweep_heatmap(rqe.qre_path(catalog.matching_pennies()))
    with pytest.raises(ValueError, match="'value'"):
        plotting.sweep_heatmap(grid_sweep, value="utility")
    with pytest.raises(ValueError, match="'action'"):
        plotting.sweep_heatmap(grid_sweep, action=3)


# ---------------------------------------------------------------- tractability_region

def test_tractability_boundaries():
    ax = plotting.tractability_region()
    assert ax.get_xscale() == ax.get_yscale() == "log"
    solid, dashed = [ln for ln in ax.get_lines()][:2]
    x, y = solid.get_data()
    np.testing.assert_allclose(x * y, 1.0)           # MPS: eps1 tau1 * eps2 tau2 = 1
    x, y = dashed.get_data()
    np.testing.assert_allclose(16 * x * y, 1.0)      # monotone: 16 eps1 eps2 tau1 tau2 = 1
    labels = ax.get_legend_handles_labels()[1]
    assert any("MPS" in s and "Mazumdar, Panaganti and Shi" in s for s in labels)
    assert any("monotone" in s and "Zhang and Mazumdar" in s for s in labels)
    # shaded regions lie above their boundaries
    mps_fill = ax.collections[1]
    verts = mps_fill.get_paths()[0].vertices
    assert np.all(verts[:, 0] * verts[:, 1] >= 1.0 - 1e-9)


def test_tractability_experimental_points():
    games = catalog.experimental_games()
    ax = plotting.tractability_region(games="experimental")
    pts = np.concatenate([np.asarray(c.get_offsets()) for c in ax.collections[2:]])
    expected = np.array([np.multiply(g.fit_kl_log_barrier["epsilon"], g.fit_kl_log_barrier["tau"]) for g in games])
    assert sorted(map(tuple, np.round(pts, 12))) == sorted(map(tuple, np.round(expected, 12)))
    assert sorted(t.get_text() for t in ax.texts) == sorted(g.name for g in games)
    assert "GHP4" in [t.get_text() for t in ax.texts]


def test_tractability_reverse_kl_uses_second_fit_and_custom_points():
    g = catalog.experimental_games()[3]
    ax = plotting.tractability_region(games=[g], risk="reverse_kl", regularizer="entropy", annotate=False)
    fit = g.fit_reverse_kl_entropy
    np.testing.assert_allclose(ax.collections[2].get_offsets()[0], np.multiply(fit["epsilon"], fit["tau"]))
    assert len(ax.texts) == 0
    ax = plotting.tractability_region(games=[("mine", 2.0, 0.25), {"label": "d", "tau": [1, 4], "epsilon": 0.1}])
    pts = np.concatenate([np.asarray(c.get_offsets()) for c in ax.collections[2:]])
    assert sorted(map(tuple, pts)) == [(0.1, 0.4), (0.5, 0.5)]
    ax = plotting.tractability_region(risk="kl", regularizer="entropy", xlim=(0.1, 10), ylim=(0.1, 10))
    assert "not proved" in ax.get_title()
    assert ax.get_xlim() == pytest.approx((0.1, 10))


def test_tractability_errors():
    with pytest.raises(TypeError, match="ExperimentalGame"):
        plotting.tractability_region(games=[1.0])
    with pytest.raises(ValueError, match="'tau' and 'epsilon'"):
        plotting.tractability_region(games=[{"tau": 1.0}])
    with pytest.raises(ValueError, match="must be > 0"):
        plotting.tractability_region(games=[("zero", 0.0, 1.0)])
    with pytest.raises(ValueError, match="'epsilon'"):
        plotting.tractability_region(games=[("neg", 1.0, -1.0)])
    with pytest.raises(ValueError, match="'games'"):
        plotting.tractability_region(games="classic")
    with pytest.raises(ValueError, match="'xlim'"):
        plotting.tractability_region(xlim=(1.0, 0.1))


# ---------------------------------------------------------------- fitted_vs_observed

def test_fitted_vs_observed_points_and_diagonal():
    obs = np.array([[0.1, 0.7], [0.4, 0.5]])
    pred = np.array([[0.15, 0.65], [0.4, 0.6]])
    ax = plotting.fitted_vs_observed(obs, pred, labels=[["a U", "a L"], ["b U", "b L"]])
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.column_stack([obs.ravel(), pred.ravel()]))
    diag = ax.get_lines()[0]
    np.testing.assert_array_equal(diag.get_xdata(), diag.get_ydata())
    rmse = np.sqrt(np.mean((obs - pred) ** 2))
    assert ax.get_legend().get_texts()[0].get_text() == f"RMSE = {rmse:.3f}"
    assert [t.get_text() for t in ax.texts] == ["a U", "a L", "b U", "b L"]
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)


def test_fitted_vs_observed_labels_do_not_overlap():
    games = catalog.experimental_games()
    obs = np.array([g.observed for g in games])
    ax = plotting.fitted_vs_observed(obs, obs + 0.01, labels=[[g.name + " U", g.name + " L"] for g in games])
    fig = ax.figure
    fig.canvas.draw()
    from matplotlib.text import Text

    boxes = [Text.get_window_extent(t) for t in ax.texts]   # the labels, without their leader lines
    overlaps = sum(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
    assert overlaps == 0


def test_fitted_vs_observed_errors():
    with pytest.raises(ValueError, match="shape"):
        plotting.fitted_vs_observed([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plotting.fitted_vs_observed([0.1, 1.2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"'predicted'.*\[0, 1\]"):
        plotting.fitted_vs_observed([0.1, 0.2], [-0.1, 0.2])
    with pytest.raises(ValueError, match="'labels'"):
        plotting.fitted_vs_observed([0.1, 0.2], [0.1, 0.2], labels=["one"])
    with pytest.raises(ValueError, match="at least one"):
        plotting.fitted_vs_observed([], [])
    with pytest.raises(ValueError, match="finite|observed"):
        plotting.fitted_vs_observed([np.nan], [0.1])
