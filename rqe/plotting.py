"""Figures for games, equilibria, paths, sweeps and fits (matplotlib).

Every function draws on the :class:`matplotlib.axes.Axes` passed as ``ax`` (a new figure is
created with :mod:`matplotlib.pyplot` when ``ax`` is None) and returns that Axes; none calls
``plt.show()``.  Plotting never solves an equilibrium problem that the caller could not see:
the inputs are results (:class:`rqe.Path`, :class:`rqe.SweepResult`, strategies), except
:func:`best_response_curves`, whose whole point is to draw the best-response maps of a game
(it also marks every equilibrium from :func:`rqe.solve_all`).

Labels use the paper's symbols: ``tau`` (risk aversion, :math:`\\tau`), ``epsilon``
(temperature, :math:`\\varepsilon`) and the logit precision ``lambda = 1/epsilon``
(:math:`\\lambda`).

Examples
--------
>>> import matplotlib; matplotlib.use("Agg")
>>> import rqe, rqe.plotting
>>> ax = rqe.plotting.best_response_curves(rqe.games.catalog.stag_hunt(), tau=0.5, epsilon=0.3)
>>> ax.get_xlabel()
'P(P1 plays S)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rqe._validation import choice, finite_array, game_of, per_player, positive_int
from rqe.analysis import tractability
from rqe.analysis._sweep import SweepResult
from rqe.games.catalog import ExperimentalGame, experimental_games
from rqe.games.normal_form import NormalFormGame
from rqe.solvers._engine import build_system
from rqe.solvers._result import EquilibriumResult, Path
from rqe.solvers.all import solve_all
from rqe.solvers.response import best_response

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["best_response_curves", "strategy_path", "simplex", "sweep_heatmap", "tractability_region",
           "fitted_vs_observed"]

TAU = r"$\tau$"
EPSILON = r"$\varepsilon$"
LAMBDA = r"$\lambda$"
_SIMPLEX_TOL = 1e-6
_DEFAULT_PAIR = ("kl", "entropy")


def _axes(ax, figsize=(5.0, 4.0)):
    """The given Axes, or a new one on a new pyplot figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # on first use (import cost; rqe.plotting imports without matplotlib)

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _fmt(values) -> str:
    """A scalar when all players share the value, else the per-player tuple."""
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if np.all(arr == arr[0]):
        return f"{arr[0]:g}"
    return "(" + ", ".join(f"{v:g}" for v in arr) + ")"


def _pair_name(risk, regularizer) -> tuple[str, str]:
    return str(getattr(risk, "name", risk)), str(getattr(regularizer, "name", regularizer))


def _index(value, upper: int, *, name: str, func: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < upper:
        raise ValueError(f"The {name!r} parameter of {func} must be an int in [0, {upper - 1}]. "
                         f"Got {value!r} instead.")
    return int(value)


def _sigmoid(l):
    l = np.asarray(l, dtype=float)
    return np.exp(-np.logaddexp(0.0, -l))


def _place_labels(ax, xs, ys, labels, fontsize=7.0):
    """Write ``labels`` next to their points, greedily avoiding each other and the points.

    Candidate offsets (in points) at growing distances and eight directions are tried in turn
    until the label's rendered box overlaps neither an earlier label nor a point; far offsets
    get a thin leader line.  Labels are kept out of the layout engine, so that placing them does
    not move the axes.  Call after the axis limits and scales are final.
    """
    from matplotlib.text import Text  # on first use, as above

    fig = ax.figure
    for _ in range(2):  # settle layout and aspect so that transData is final (constrained layout
        fig.canvas.draw()  # converges over successive draws)
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72.0
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    r_dot = 3.5 * px_per_pt
    taken = [(px - r_dot, py - r_dot, px + r_dot, py + r_dot) for px, py in pts]
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0)]
    candidates = [(r, d) for r in (4.0, 9.0, 16.0, 26.0, 38.0, 52.0) for d in directions]

    pad = 1.5 * px_per_pt   # breathing room, and slack for the layout's last adjustments

    def overlap(b):
        b = b.padded(pad)
        return sum(max(0.0, min(b.x1, t[2]) - max(b.x0, t[0])) * max(0.0, min(b.y1, t[3]) - max(b.y0, t[1]))
                   for t in taken)

    def draw(x, y, lab, radius, sx, sy):
        arrow = dict(arrowstyle="-", color="0.5", lw=0.5, shrinkA=0, shrinkB=2) if radius > 5 else None
        ann = ax.annotate(lab, (x, y), xytext=(sx * radius, sy * radius), textcoords="offset points",
                          fontsize=fontsize, ha={1: "left", -1: "right", 0: "center"}[sx],
                          va={1: "bottom", -1: "top", 0: "center"}[sy], arrowprops=arrow, annotation_clip=False)
        ann.set_in_layout(False)
        ann.update_positions(renderer)
        return ann, Text.get_window_extent(ann, renderer)   # the text alone, without the leader line

    for x, y, lab in zip(xs, ys, labels):
        best = None
        for radius, (sx, sy) in candidates:
            ann, box = draw(x, y, lab, radius, sx, sy)
            cost = overlap(box)
            ann.remove()
            if best is None or cost < best[0]:
                best = (cost, radius, sx, sy)
            if cost == 0:
                break
        ann, box = draw(x, y, lab, *best[1:])
        taken.append((box.x0, box.y0, box.x1, box.y1))


def best_response_curves(game, *, tau, epsilon, risk="kl", regularizer="entropy", ax=None,
                         n_points: int = 201) -> Axes:
    """Both players' risk-averse quantal best responses of a 2x2 game, with every equilibrium marked.

    The horizontal axis is ``x = P(player 1 plays its first action)``, the vertical axis
    ``y = P(player 2 plays its first action)``.  Player 1's curve is ``x = BR_1(y)``, player
    2's is ``y = BR_2(x)``; ``BR_i`` is player ``i``'s unique maximiser of its regularised
    risk-adjusted utility (paper eqs. 1-2; docs/concepts.md, "Risk-averse quantal response
    equilibrium (RQE)"), computed by :func:`rqe.best_response`.  The curves cross exactly at the RQE, which are computed
    by :func:`rqe.solve_all` (complete for 2x2 games) and drawn as black dots.  At ``tau = 0``
    with the entropy regulariser the curves are logit responses and the crossings are the
    logit QRE with ``lambda = 1/epsilon``.

    Parameters
    ----------
    game : NormalFormGame
        Two players with two actions each.
    tau, epsilon, risk, regularizer
        As for :func:`rqe.solve` (scalar or one value per player).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    n_points : int, default 201
        Points per curve (the partner's strategy runs over a grid uniform in probability,
        refined by a grid uniform in log-odds near 0 and 1).

    Returns
    -------
    matplotlib.axes.Axes
        With two lines (labels ``"BR of <player>"``) and one collection of equilibrium markers.

    Raises
    ------
    TypeError
        If ``game`` is not a :class:`rqe.NormalFormGame`.
    ValueError
        If the game is not 2x2, or for invalid ``tau``, ``epsilon``, ``risk``, ``regularizer``
        or ``n_points``.

    Examples
    --------
    Example 5 of the paper at ``tau = 0.5``: the curves cross three times.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import rqe, rqe.plotting
    >>> ax = rqe.plotting.best_response_curves(rqe.games.catalog.free_riding_game(), tau=0.5, epsilon=0.2)
    >>> [line.get_label() for line in ax.get_lines()], len(ax.collections[0].get_offsets())
    (['BR of P1', 'BR of P2'], 3)
    """
    func = "rqe.plotting.best_response_curves"
    game_of(game, NormalFormGame, func=func, accepted="a rqe.NormalFormGame with 2 players and 2 actions each")
    if game.n_actions != (2, 2):
        raise ValueError(f"The 'game' parameter of {func} must have 2 players with 2 actions each. "
                         f"Got a game with actions {game.n_actions} instead.")
    n_points = positive_int(n_points, name="n_points", func=func, low=3)
    system = build_system(game, tau=tau, epsilon=epsilon, risk=risk, regularizer=regularizer, func=func)[0]
    probs = np.concatenate([np.linspace(0.0, 1.0, n_points), _sigmoid(np.linspace(-14.0, 14.0, n_points))])
    probs = np.unique(np.clip(probs, 1e-9, 1.0 - 1e-9))
    logits = np.log(probs) - np.log1p(-probs)
    partners = [np.array([_sigmoid(l), _sigmoid(-l)]) for l in logits]   # accurate tails, unlike 1 - p
    options = dict(tau=system.tau, epsilon=system.epsilon, risk=risk, regularizer=regularizer)
    br1 = np.array([best_response(game, [None, y], player=0, **options).strategy[0] for y in partners])
    br2 = np.array([best_response(game, [x, None], player=1, **options).strategy[0] for x in partners])
    eqs = solve_all(game, tau=tau, epsilon=epsilon, risk=risk, regularizer=regularizer)

    ax = _axes(ax, figsize=(4.8, 4.4))
    (p1, p2), (acts1, acts2) = game.players, game.actions
    ax.plot(br1, probs, color="C0", lw=2, label=f"BR of {p1}")
    ax.plot(probs, br2, color="C1", lw=2, ls="--", label=f"BR of {p2}")
    pts = np.array([[e.strategies[0][0], e.strategies[1][0]] for e in eqs]).reshape(-1, 2)
    kind = "QRE" if np.all(system.tau == 0) and _pair_name(risk, regularizer)[1] == "entropy" else "RQE"
    ax.scatter(pts[:, 0], pts[:, 1], s=50, color="black", zorder=5,
               label=f"{kind} ({len(pts)}{'' if eqs.complete else ', search not exhaustive'})")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(f"P({p1} plays {acts1[0]})")
    ax.set_ylabel(f"P({p2} plays {acts2[0]})")
    title = f"{TAU} = {_fmt(system.tau)}, {EPSILON} = {_fmt(system.epsilon)}"
    pair = _pair_name(risk, regularizer)
    if pair != _DEFAULT_PAIR:
        title += f" ({pair[0]}, {pair[1]})"
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    return ax


def _path_kind(obj):
    if isinstance(obj, Path):
        return "path"
    if isinstance(obj, SweepResult):
        return "sweep"
    return None


def strategy_path(path_or_sweep, *, player=0, action=0, ax=None, events=True, log_x=None, label=None) -> Axes:
    """One strategy component along an equilibrium path or the lines of a sweep.

    Parameters
    ----------
    path_or_sweep : Path or SweepResult
        A :class:`rqe.Path` from :func:`rqe.qre_path` (parameter ``lambda``) or
        :func:`rqe.rqe_path` (parameter ``tau``), drawn in path order, so that folds show as
        the curve turning back; or a :class:`rqe.SweepResult`, drawn as one curve per line
        (value of ``epsilon``) against player ``player``'s ``tau``.
    player, action : int, default 0
        The component ``P(player plays action)`` on the vertical axis (0-based).
    ax : matplotlib.axes.Axes, optional
    events : bool, default True
        Mark the path's folds (diamonds) and branch points (squares) at their parameter.
    log_x : bool, optional
        Logarithmic parameter axis; default True for ``lambda`` paths, False otherwise.  Points
        at parameter 0 are not shown on a log axis.
    label : str, optional
        Legend label of a path's curve (default: the kind of path and its ``epsilon``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If ``path_or_sweep`` is neither a Path nor a SweepResult.
    ValueError
        If ``player`` or ``action`` is out of range, or the input has no points.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import rqe, rqe.plotting
    >>> game = rqe.games.catalog.free_riding_game()
    >>> path = rqe.rqe_path(game, tau_span=(0.0, 2.0), epsilon=0.2, x0=[[0.2, 0.8], [0.9, 0.1]])
    >>> ax = rqe.plotting.strategy_path(path)
    >>> ax.get_xlabel(), ax.get_lines()[0].get_xdata().shape == path.parameter.shape
    ('risk aversion $\\\\tau$', True)
    """
    func = "rqe.plotting.strategy_path"
    kind = _path_kind(path_or_sweep)
    if kind is None:
        raise TypeError(f"The 'path_or_sweep' parameter of {func} must be a rqe.Path or a rqe.SweepResult. "
                        f"Got {type(path_or_sweep).__name__} instead.")
    obj = path_or_sweep
    if len(obj) == 0:
        raise ValueError(f"The 'path_or_sweep' parameter of {func} must have at least one point. Got 0 instead.")
    player = _index(player, len(obj.strategies), name="player", func=func)
    action = _index(action, obj.strategies[player].shape[1], name="action", func=func)
    ax = _axes(ax)
    if kind == "path":
        name = obj.params.get("parameter", "tau")
        is_lam = name == "lam"
        x, y = np.asarray(obj.parameter, float), obj.strategies[player][:, action]
        if label is None:
            if is_lam:
                label = "logit QRE (principal branch)"
            else:
                label = f"RQE branch, {EPSILON} = {_fmt(obj.params.get('epsilon', np.nan))}"
        (line,) = ax.plot(x, y, lw=2, label=label)
        if events:
            seen = set(ax.get_legend_handles_labels()[1])
            for e in obj.events:
                near = [k for k in (e.index - 1, e.index) if 0 <= k < len(x)]
                k = min(near, key=lambda j: abs(x[j] - e.parameter)) if near else len(x) - 1
                marker = "D" if e.kind == "fold" else "s"
                text = "fold" if e.kind == "fold" else "branch point"
                ax.plot([e.parameter], [y[k]], marker=marker, ls="none", ms=8, mfc="white",
                        color=line.get_color(), mec=line.get_color(), mew=2, zorder=5, label=text if text not in seen else "_nolegend_")
                seen.add(text)
        xlabel = f"logit precision {LAMBDA} = 1/{EPSILON}" if is_lam else f"risk aversion {TAU}"
    else:
        is_lam = False
        lines = np.unique(obj.line)
        for ln in lines:
            rows = np.flatnonzero(obj.line == ln)
            eps = obj.epsilon[rows[0]]
            ax.plot(obj.tau[rows, player], obj.strategies[player][rows, action], lw=2, marker="." if len(rows) < 30
                    else None, label=f"{EPSILON} = {_fmt(eps)}")
        same_tau = np.allclose(obj.tau, obj.tau[:, :1])
        xlabel = f"risk aversion {TAU}" if same_tau else f"risk aversion {TAU} of player {player + 1}"
    if log_x is None:
        log_x = is_lam
    if log_x:
        ax.set_xscale("log", nonpositive="mask")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"P(player {player + 1} plays action {action + 1})")
    ax.legend(loc="best", fontsize="small")
    return ax


def _ternary(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian coordinates of 3-action strategies: action 1 at (0, 0), 2 at (1, 0), 3 at the top."""
    return p[..., 1] + 0.5 * p[..., 2], (np.sqrt(3.0) / 2.0) * p[..., 2]


def simplex(strategies_or_path, *, player=0, ax=None, labels=None, label=None, grid=True) -> Axes:
    """Three-action strategies on the 2-simplex (a ternary plot): one point or a trajectory.

    Action 1 sits at the bottom-left corner, action 2 at the bottom-right and action 3 at the
    top; a strategy ``p`` is drawn at ``p_1 * corner_1 + p_2 * corner_2 + p_3 * corner_3``.

    Parameters
    ----------
    strategies_or_path : array_like of shape (3,) or (K, 3), or Path, SweepResult, EquilibriumResult
        A strategy (drawn as a point) or a sequence of strategies (a trajectory, with its start
        marked by a circle and its end by a star).  For a result object, player ``player``'s
        strategies are used.
    player : int, default 0
        Which player's strategies to take from a result object.
    ax : matplotlib.axes.Axes, optional
    labels : sequence of 3 str, optional
        Names of the corners (default ``"action 1"``, ``"action 2"``, ``"action 3"``).
    label : str, optional
        Legend label of the point or trajectory.
    grid : bool, default True
        Draw the lines where one probability equals 0.25, 0.5 and 0.75.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the strategies do not have 3 actions, are not probability vectors, or ``labels`` does
        not have 3 entries; if ``player`` is out of range.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import rqe.plotting
    >>> ax = rqe.plotting.simplex([1 / 3, 1 / 3, 1 / 3], labels=["Rock", "Paper", "Scissors"])
    >>> [t.get_text() for t in ax.texts]
    ['Rock', 'Paper', 'Scissors']
    """
    func = "rqe.plotting.simplex"

    obj = strategies_or_path
    if _path_kind(obj) is not None or isinstance(obj, EquilibriumResult):
        player = _index(player, len(obj.strategies), name="player", func=func)
        p = np.asarray(obj.strategies[player], dtype=float)
        if label is None and _path_kind(obj) == "path":
            label = f"player {player + 1}"
    else:
        p = finite_array(obj, name="strategies_or_path", func=func)
    if p.ndim not in (1, 2) or p.shape[-1] != 3 or p.size == 0:
        raise ValueError(f"The 'strategies_or_path' parameter of {func} must hold strategies over 3 actions, of "
                         f"shape (3,) or (K, 3). Got shape {p.shape} instead.")
    if np.any(p < -_SIMPLEX_TOL) or np.any(np.abs(p.sum(axis=-1) - 1.0) > _SIMPLEX_TOL):
        raise ValueError(f"The 'strategies_or_path' parameter of {func} must hold probability vectors "
                         f"(non-negative, summing to 1). Got sums {np.round(np.atleast_1d(p.sum(axis=-1)), 6)[:5]}"
                         f" and minimum {p.min():.3g} instead.")
    if labels is None:
        labels = ["action 1", "action 2", "action 3"]
    labels = [str(s) for s in labels]
    if len(labels) != 3:
        raise ValueError(f"The 'labels' parameter of {func} must have 3 entries. Got {len(labels)} instead.")

    ax = _axes(ax, figsize=(4.8, 4.4))
    h = np.sqrt(3.0) / 2.0
    if not getattr(ax, "_rqe_simplex", False):
        ax.plot([0, 1, 0.5, 0], [0, 0, h, 0], color="black", lw=1.2, label="_nolegend_")
        if grid:
            for level in (0.25, 0.5, 0.75):
                for a in range(3):
                    ends = []
                    for b in range(3):
                        if b != a:
                            q = np.zeros(3)
                            q[a], q[b] = level, 1 - level
                            ends.append(_ternary(q))
                    ax.plot([ends[0][0], ends[1][0]], [ends[0][1], ends[1][1]], color="0.85", lw=0.8,
                            zorder=0, label="_nolegend_")
        ax.text(-0.03, -0.03, labels[0], ha="right", va="top")
        ax.text(1.03, -0.03, labels[1], ha="left", va="top")
        ax.text(0.5, h + 0.04, labels[2], ha="center", va="bottom")
        ax.set_xlim(-0.25, 1.25)
        ax.set_ylim(-0.12, h + 0.14)
        ax.set_aspect("equal")
        ax.axis("off")
        ax._rqe_simplex = True
    x, y = _ternary(p)
    if p.ndim == 1:
        ax.plot([x], [y], marker="o", ls="none", ms=8, zorder=5, label=label or "strategy")
    else:
        (line,) = ax.plot(x, y, lw=2, label=label or "trajectory")
        ax.plot(x[:1], y[:1], marker="o", ls="none", color=line.get_color(), mfc="white", ms=7, label="_nolegend_")
        ax.plot(x[-1:], y[-1:], marker="*", ls="none", color=line.get_color(), ms=12, label="_nolegend_")
    if label is not None:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize="small", frameon=False)
    return ax


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted, distinct centres (midpoints inside, half a step outside)."""
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[centres[0] - (mid[0] - centres[0])], mid, [centres[-1] + (centres[-1] - mid[-1])]])


def sweep_heatmap(sweep_result, *, player=0, action=0, value="strategy", ax=None, cmap=None) -> Axes:
    """Heat-map over ``(tau, epsilon)`` of a strategy component, the duality gap or the residual.

    Parameters
    ----------
    sweep_result : SweepResult
        From :func:`rqe.sweep` on a full grid: every line (value of ``epsilon``) runs over the
        same ``tau`` grid, with at least two values of each.
    player, action : int, default 0
        The component ``P(player plays action)`` (for ``value="strategy"``) and whose ``tau`` and
        ``epsilon`` are on the axes.
    value : {"strategy", "gap", "residual"}, default "strategy"
        What is coloured.  The gap and the residual (certificates of each point) are drawn on a
        logarithmic colour scale.
    ax : matplotlib.axes.Axes, optional
    cmap : str or Colormap, optional
        Default ``"viridis"`` for strategies and ``"magma"`` for certificates.

    Returns
    -------
    matplotlib.axes.Axes
        Carrying one :class:`~matplotlib.collections.QuadMesh` and a labelled colour bar.

    Raises
    ------
    TypeError
        If ``sweep_result`` is not a SweepResult.
    ValueError
        If the sweep is not a full grid (lines with different ``tau`` grids, fewer than two values
        of ``tau`` or of ``epsilon``, a ``tau`` grid that is not strictly increasing), or for an
        invalid ``player``, ``action`` or ``value``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, rqe, rqe.plotting
    >>> sw = rqe.sweep(rqe.games.catalog.free_riding_game(), taus=np.linspace(0, 2, 5),
    ...                epsilons=[0.2, 0.4, 0.8], progress=False)
    >>> ax = rqe.plotting.sweep_heatmap(sw)
    >>> ax.get_xlabel(), ax.get_ylabel(), ax.collections[0].get_array().shape
    ('risk aversion $\\\\tau$', 'temperature $\\\\varepsilon$', (3, 5))
    """
    func = "rqe.plotting.sweep_heatmap"
    if _path_kind(sweep_result) != "sweep":
        raise TypeError(f"The 'sweep_result' parameter of {func} must be a rqe.SweepResult. "
                        f"Got {type(sweep_result).__name__} instead.")
    sw = sweep_result
    value = choice(value, ["strategy", "gap", "residual"], name="value", func=func)
    player = _index(player, len(sw.strategies), name="player", func=func)
    action = _index(action, sw.strategies[player].shape[1], name="action", func=func)
    lines = np.unique(sw.line)
    rows = [np.flatnonzero(sw.line == ln) for ln in lines]
    taus = sw.tau[rows[0], player] if len(rows) else np.empty(0)
    if (len(lines) < 2 or len(taus) < 2 or any(len(r) != len(taus) for r in rows)
            or any(not np.array_equal(sw.tau[r, player], taus) for r in rows) or np.any(np.diff(taus) <= 0)):
        raise ValueError(f"The 'sweep_result' parameter of {func} must come from a full grid: at least 2 values "
                         f"of epsilon (lines) each over the same strictly increasing grid of at least 2 values of "
                         f"tau. Got {len(lines)} line(s) with {[len(r) for r in rows][:5]} points instead "
                         f"(use rqe.plotting.strategy_path for a single line).")
    eps = np.array([sw.epsilon[r[0], player] for r in rows])
    order = np.argsort(eps)
    if np.any(np.diff(eps[order]) <= 0):
        raise ValueError(f"The 'sweep_result' parameter of {func} must have distinct epsilon values of player "
                         f"{player + 1} on its lines. Got {eps.tolist()} instead.")
    if value == "strategy":
        source = sw.strategies[player][:, action]
    else:
        source = getattr(sw, value)
    Z = np.array([source[rows[k]] for k in order], dtype=float)
    ax = _axes(ax, figsize=(5.4, 4.0))
    from matplotlib.colors import LogNorm  # matplotlib on first use (import cost; rqe.plotting imports without it)

    if value == "strategy":
        mesh = ax.pcolormesh(_edges(taus), _edges(eps[order]), Z, cmap=cmap or "viridis", shading="flat")
        cbar_label = f"P(player {player + 1} plays action {action + 1})"
    else:
        floor = 1e-18
        Zc = np.maximum(Z, floor)
        mesh = ax.pcolormesh(_edges(taus), _edges(eps[order]), Zc, cmap=cmap or "magma", shading="flat",
                             norm=LogNorm(vmin=max(Zc.min(), floor), vmax=max(Zc.max(), 10 * floor)))
        cbar_label = "duality gap" if value == "gap" else "fixed-point residual"
    ax.figure.colorbar(mesh, ax=ax, label=cbar_label)
    same = np.allclose(sw.tau, sw.tau[:, :1]) and np.allclose(sw.epsilon, sw.epsilon[:, :1])
    suffix = "" if same else f" of player {player + 1}"
    ax.set_xlabel(f"risk aversion {TAU}{suffix}")
    ax.set_ylabel(f"temperature {EPSILON}{suffix}")
    return ax


def _game_points(games, risk: str, regularizer: str, func: str):
    """(label, tau, epsilon) triples from ExperimentalGame objects, tuples or dicts."""
    key = "fit_reverse_kl_entropy" if (risk, regularizer) == ("reverse_kl", "entropy") else "fit_kl_log_barrier"
    out = []
    for k, g in enumerate(games):
        if isinstance(g, ExperimentalGame):
            fit = getattr(g, key)
            label, tau, eps = g.name, fit["tau"], fit["epsilon"]
        elif isinstance(g, dict):
            try:
                label, tau, eps = g.get("label", f"game {k + 1}"), g["tau"], g["epsilon"]
            except KeyError:
                raise ValueError(f"Each entry of the 'games' parameter of {func} given as a dict must have keys "
                                 f"'tau' and 'epsilon' (and optionally 'label'). Got keys {sorted(g)} instead.") from None
        elif isinstance(g, (tuple, list)) and len(g) == 3:
            label, tau, eps = g
        else:
            raise TypeError(f"Each entry of the 'games' parameter of {func} must be a rqe.games.catalog."
                            f"ExperimentalGame, a (label, tau, epsilon) tuple or a dict. Got {g!r} instead.")
        tau = per_player(tau, 2, name="tau", func=func)
        eps = per_player(eps, 2, name="epsilon", func=func, low_inclusive=False)
        prod = eps * tau
        if np.any(prod <= 0):
            raise ValueError(f"The games of {func} are drawn on log axes of epsilon_i tau_i, which must be > 0. "
                             f"Got tau={tau.tolist()} and epsilon={eps.tolist()} for {label!r} instead.")
        out.append((str(label), prod[0], prod[1]))
    return out


def tractability_region(*, games=None, ax=None, risk="kl", regularizer="log_barrier", xlim=None, ylim=None,
                        annotate=True) -> Axes:
    """The known tractability regions in the ``(epsilon_1 tau_1, epsilon_2 tau_2)`` plane (log axes).

    Two payoff-independent conditions (see :func:`rqe.analysis.tractability`) are shaded, each
    labelled with its source: the MPS condition ``epsilon_1 tau_1 epsilon_2 tau_2 >= 1`` (no-regret
    learning reaches the RQE) and the monotonicity condition ``16 epsilon_1 epsilon_2 tau_1 tau_2 > 1``
    (unique RQE).  Both are proved for (KL risk, log-barrier) and (reverse-KL risk, entropy); for
    other pairs the title says that they do not apply.

    Parameters
    ----------
    games : "experimental" or sequence, optional
        Parameter sets to mark: ``"experimental"`` for the 13 games of
        :func:`rqe.games.catalog.experimental_games` at their authors' fitted parameters
        (``fit_kl_log_barrier``, or ``fit_reverse_kl_entropy`` when ``risk="reverse_kl"`` and
        ``regularizer="entropy"``), or a sequence of such games, of ``(label, tau, epsilon)``
        tuples, or of dicts with keys ``label``, ``tau``, ``epsilon`` (per-player pairs).
    ax : matplotlib.axes.Axes, optional
    risk, regularizer : str or object
        The pairing the points were fitted with (decides which fit of an experimental game is
        used and whether the conditions apply).
    xlim, ylim : (float, float), optional
        Axis limits (default: half a decade beyond the points, rounded out to decades; ``[1e-2, 1e2]`` without points).
    annotate : bool, default True
        Write each point's label next to it.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        For an entry of ``games`` of an unknown type.
    ValueError
        For invalid ``tau``/``epsilon`` of a point, non-positive products, or invalid limits.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import rqe.plotting
    >>> ax = rqe.plotting.tractability_region(games="experimental")
    >>> ax.get_xscale(), ax.get_xlabel()
    ('log', '$\\\\varepsilon_1 \\\\tau_1$')
    >>> len(ax.texts)
    13
    """
    func = "rqe.plotting.tractability_region"
    pair = _pair_name(risk, regularizer)
    if isinstance(games, str):
        choice(games, ["experimental"], name="games", func=func)
        games = experimental_games()
    points = _game_points(games or [], pair[0], pair[1], func)
    if points:
        xs, ys = np.array([p[1] for p in points]), np.array([p[2] for p in points])
        auto = [(10 ** np.floor(np.log10(v.min()) - 0.5), 10 ** np.ceil(np.log10(v.max()) + 0.5)) for v in (xs, ys)]
    else:
        auto = [(1e-2, 1e2), (1e-2, 1e2)]
    limits = []
    for name, lim, default in (("xlim", xlim, auto[0]), ("ylim", ylim, auto[1])):
        lim = default if lim is None else tuple(finite_array(lim, name=name, func=func).ravel())
        if len(lim) != 2 or not 0 < lim[0] < lim[1]:
            raise ValueError(f"The {name!r} parameter of {func} must be a pair 0 < low < high. Got {lim!r} instead.")
        limits.append(lim)
    (x0, x1), (y0, y1) = limits
    conds = {c.name: c for c in tractability(1.0, 1.0, risk=pair[0], regularizer=pair[1]).conditions}
    applies = conds["mps"].holds is not None

    ax = _axes(ax, figsize=(6.4, 5.0))
    x = np.logspace(np.log10(x0), np.log10(x1), 400)
    mono = conds["monotone"]
    mps = conds["mps"]
    ax.fill_between(x, 1.0 / (16.0 * x), y1, color="C2", alpha=0.18, lw=0,
                    label=f"monotone, unique RQE: 16 {EPSILON}$_1${TAU}$_1${EPSILON}$_2${TAU}$_2$ > 1\n"
                          f"  ({mono.source.split(';')[0].split(', monotonicity')[0]})")
    ax.fill_between(x, 1.0 / x, y1, color="C0", alpha=0.3, lw=0,
                    label=f"MPS, no-regret learning: {EPSILON}$_1${TAU}$_1${EPSILON}$_2${TAU}$_2$ $\\geq$ 1\n"
                          f"  ({mps.source.split(', as tested')[0]})")
    ax.plot(x, 1.0 / x, color="C0", lw=1.5, label="_nolegend_")
    ax.plot(x, 1.0 / (16.0 * x), color="C2", lw=1.5, ls="--", label="_nolegend_")
    if points:
        inside = np.array([p[1] * p[2] >= 1.0 for p in points])
        for mask, style, text in ((inside, dict(color="black"), "fitted games (in MPS region)"),
                                  (~inside, dict(facecolor="white", edgecolor="black"), "fitted games (outside)")):
            if mask.any():
                ax.scatter(xs[mask], ys[mask], s=30, zorder=5, label=text, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if points and annotate:
        _place_labels(ax, xs, ys, [p[0] for p in points])
    ax.set_xlabel(r"$\varepsilon_1 \tau_1$")
    ax.set_ylabel(r"$\varepsilon_2 \tau_2$")
    title = f"Tractability regions (risk={pair[0]}, regularizer={pair[1]})"
    if not applies:
        title += "\nnot proved for this pairing"
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="lower left", fontsize="x-small", framealpha=0.9)
    return ax


def fitted_vs_observed(observed, predicted, *, labels=None, ax=None) -> Axes:
    """Predicted against observed choice frequencies, with the diagonal of a perfect fit.

    Parameters
    ----------
    observed, predicted : array_like
        Frequencies in ``[0, 1]`` of the same shape (any shape; flattened), e.g. ``P(U)`` and
        ``P(L)`` of each experimental game observed and predicted by a fitted model.
    labels : sequence of str, optional
        One label per point (same number of entries as ``observed``), written beside it.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The scatter's legend label gives the root-mean-square error.

    Raises
    ------
    ValueError
        If the shapes differ, a value is not a finite number in ``[0, 1]``, there are no points,
        or ``labels`` has the wrong length.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import rqe.plotting
    >>> ax = rqe.plotting.fitted_vs_observed([0.2, 0.7], [0.25, 0.65], labels=["SC1 U", "SC1 L"])
    >>> ax.get_xlabel(), ax.get_legend().get_texts()[0].get_text()
    ('observed frequency', 'RMSE = 0.050')
    """
    func = "rqe.plotting.fitted_vs_observed"
    obs = finite_array(observed, name="observed", func=func)
    pred = finite_array(predicted, name="predicted", func=func)
    if obs.shape != pred.shape:
        raise ValueError(f"The 'predicted' parameter of {func} must have the shape of 'observed' {obs.shape}. "
                         f"Got shape {pred.shape} instead.")
    obs, pred = obs.ravel(), pred.ravel()
    if obs.size == 0:
        raise ValueError(f"The 'observed' parameter of {func} must hold at least one frequency. Got none instead.")
    for name, arr in (("observed", obs), ("predicted", pred)):
        if np.any(arr < 0) or np.any(arr > 1):
            raise ValueError(f"The {name!r} parameter of {func} must hold frequencies in [0, 1]. "
                             f"Got values in [{arr.min():g}, {arr.max():g}] instead.")
    if labels is not None:
        labels = [str(s) for s in np.asarray(labels, dtype=object).ravel()]
        if len(labels) != obs.size:
            raise ValueError(f"The 'labels' parameter of {func} must have one entry per point ({obs.size}). "
                             f"Got {len(labels)} instead.")
    rmse = float(np.sqrt(np.mean((obs - pred) ** 2)))
    ax = _axes(ax, figsize=(4.6, 4.4))
    ax.scatter(obs, pred, s=30, color="C0", zorder=5, label=f"RMSE = {rmse:.3f}")
    ax.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--", label="perfect fit")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    if labels is not None:
        _place_labels(ax, obs, pred, labels)
    ax.set_xlabel("observed frequency")
    ax.set_ylabel("predicted probability")
    ax.legend(loc="upper left", fontsize="small")
    return ax
