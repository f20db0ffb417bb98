"""The paper's figures, built from the library (used by ``paper_figures/`` and ``rqe figure``).

Figure 1 of Qu, Zhang, Lanzetti and Mazumdar (arXiv 2602.21515):

(i)  Example 2 (two robots, epsilon = 1, a_bar = 1): each player's expected utility and the
     expected shared reward J at the Gaussian RQE against tau over the admissible range
     [0, 2/epsilon), with the QRE (tau = 0) level marked (Theorem 1: J increases).
(ii) Example 5 (free-riding game, cost 0.4, epsilon = 0.2): the probability that each player
     collaborates at every RQE against tau: the symmetric branch and both free-riding
     branches until they merge at the measured tau*, with Theorem 4's sufficient bound noted.

Nothing is hard-coded: every curve comes from rqe's solvers.  Figure 2 (cross-play of exact
IPPO and SRPO populations) is built in :mod:`rqe._figure2` and re-exported here.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import rqe
from rqe._figure2 import describe_figure2, figure2
from rqe.games import catalog

__all__ = ["figure1", "tractability_region", "figure2", "describe_figure2"]

EPS_EXAMPLE2 = 1.0
A_BAR = 1.0
EPS_EXAMPLE5 = 0.2
COST = 0.4
TAU_MAX_EXAMPLE5 = 3.0
_DPI = 150


def panel_collaboration(ax, n_points: int) -> dict:
    """Figure 1(i): expected utilities and shared reward along tau at the Gaussian RQE."""
    game = catalog.two_robots(a_bar=A_BAR)
    edge = rqe.analysis.admissible_tau(game, epsilon=EPS_EXAMPLE2)
    taus = np.linspace(0.0, edge, n_points + 1)[:-1]
    res = rqe.analysis.collaboration(game, epsilon=EPS_EXAMPLE2, taus=taus)
    for i, style in enumerate(("-", "--")):
        ax.plot(taus, res.payoffs[:, i], style, lw=2, label=f"E[u_{i + 1}] (player {i + 1})")
    ax.axhline(res.payoffs[0, 0], color="gray", ls=":", lw=1.2, label="QRE level (tau = 0)")
    ax.axvline(edge, color="black", ls="-.", lw=1, label=f"domain edge tau = 2/epsilon = {edge:g}")
    ax.set_xlabel("risk aversion tau")
    ax.set_ylabel("expected utility of each player at the Gaussian RQE")
    ax.set_title(f"(i) Example 2: two robots (epsilon = {EPS_EXAMPLE2:g}, a_bar = {A_BAR:g})")
    ax.grid(alpha=0.3)
    right = ax.twinx()
    right.plot(taus, res.shared_reward, "-", color="tab:green", lw=2, label="shared reward J (right axis)")
    right.set_ylabel("expected shared reward J", color="tab:green")
    right.tick_params(axis="y", colors="tab:green")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="lower center", fontsize=8)
    k_best = int(np.argmax(res.payoffs[:, 0]))
    return {"J(0)": res.shared_reward[0], "J(end)": res.shared_reward[-1], "tau_end": taus[-1],
            "E[u](0)": res.payoffs[0, 0], "max E[u]": res.payoffs[k_best, 0],
            "argmax tau": taus[k_best], "J increasing": res.increasing, "edge": edge}


def panel_free_riding(ax, n_grid: int) -> dict:
    """Figure 1(ii): P(collaborate) at every RQE of Example 5 against tau.

    The two free-riding RQE mirror each other (players swapped), so one curve shows the
    player who collaborates more and one the free-rider, whichever player it is; the branch
    is the one :func:`rqe.analysis.free_riding` traced to measure ``tau*``.
    """
    game = catalog.free_riding_game(cost=COST)
    grid = np.linspace(0.0, TAU_MAX_EXAMPLE5, n_grid)
    analysis = rqe.analysis.free_riding(game, epsilon=EPS_EXAMPLE5, taus=grid)
    sets = analysis.equilibria
    symmetric = rqe.rqe_path(game, tau_span=(0.0, TAU_MAX_EXAMPLE5), epsilon=EPS_EXAMPLE5,
                             x0=max(sets[0], key=lambda e: -abs(e.strategies[0][0] - e.strategies[1][0])).strategies)
    branch = analysis.branch            # traced from tau = 0 by the analysis (its fold is tau*)
    ax.plot(symmetric.parameter, symmetric.strategies[0][:, 0], color="tab:blue", lw=2.2,
            label="symmetric RQE (both players)")
    low = np.minimum(branch.strategies[0][:, 0], branch.strategies[1][:, 0])
    high = np.maximum(branch.strategies[0][:, 0], branch.strategies[1][:, 0])
    ax.plot(branch.parameter, high, color="tab:orange", lw=1.8, label="free-riding RQE: the collaborator")
    ax.plot(branch.parameter, low, color="tab:red", lw=1.8, label="free-riding RQE: the free-rider")
    dots = [(t, e.strategies[i][0]) for t, eqs in zip(grid, sets) for e in eqs for i in (0, 1)]
    ax.plot(*zip(*dots), "k.", ms=3, label="all RQE on a grid (rqe.solve_all)")
    tau_star = analysis.tau_star
    ax.axvline(tau_star, color="black", ls=":", lw=1.2, label=f"measured tau* = {tau_star:.3f}")
    loose = analysis.comparison[1]
    ax.text(0.98, 0.04, f"Theorem 4 bound for delta = {loose['delta']:.2f}:\n"
                        f"tau > {loose['bound']:.0f} (measured {loose['measured']:.2f}, "
                        f"{loose['ratio']:.0f}x looser)", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=8, bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "gray"})
    ax.set_xlabel("risk aversion tau")
    ax.set_ylabel("P(collaborate) at the RQE")
    ax.set_title(f"(ii) Example 5: free-riding (cost = {COST:g}, epsilon = {EPS_EXAMPLE5:g})")
    ax.set_ylim(0.0, 1.0)
    ax.legend(loc="center right", fontsize=8)
    ax.grid(alpha=0.3)
    return {"tau*": tau_star, "bound": loose, "RQE at tau=0": len(sets[0]), "RQE at tau_max": len(sets[-1])}


def figure1(out, *, quick: bool = False) -> dict:
    """Write ``figure1.png`` and ``figure1.pdf`` into the directory ``out``; return the key numbers.

    ``quick`` uses coarser grids.  The returned dict holds, for panel (i), ``J(0)``, ``J(end)``,
    the utilities and whether ``J`` increases; for panel (ii), ``tau*`` and the Theorem-4
    comparison; and ``seconds``, the time taken.
    """
    import matplotlib  # on first use: matplotlib is slow to import and only drawing needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5), dpi=_DPI, constrained_layout=True)
    numbers = {"(i)": panel_collaboration(ax1, 40 if quick else 400),
               "(ii)": panel_free_riding(ax2, 7 if quick else 31)}
    # Lay the figure out once, at the dpi of the PNG, and then drop the engine: with any engine
    # left on the figure (even "none"), every savefig first draws the whole figure without
    # output to run it, doubling the drawing.  The files are the same as with the engine kept.
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine(None)
    fig.savefig(out / "figure1.png", dpi=_DPI)
    fig.savefig(out / "figure1.pdf", dpi=_DPI)
    plt.close(fig)
    numbers["seconds"] = time.perf_counter() - start
    numbers["files"] = [str(out / "figure1.png"), str(out / "figure1.pdf")]
    return numbers


def describe_figure1(numbers: dict) -> str:
    """The key numbers of :func:`figure1` as printed text."""
    i, ii = numbers["(i)"], numbers["(ii)"]
    b = ii["bound"]
    return "\n".join([
        f"Figure 1 written to {numbers['files'][0]} and {numbers['files'][1]} in {numbers['seconds']:.1f} s",
        f"(i)  J(0) = {i['J(0)']:.4f}, J({i['tau_end']:.3f}) = {i['J(end)']:.4f}, strictly increasing: "
        f"{i['J increasing']}; E[u_i](0) = {i['E[u](0)']:.4f}, max E[u_i] = {i['max E[u]']:.4f} "
        f"at tau = {i['argmax tau']:.3f}; admissible tau < {i['edge']:g}",
        f"(ii) {ii['RQE at tau=0']} RQE at tau = 0, {ii['RQE at tau_max']} at tau = {TAU_MAX_EXAMPLE5:g}; "
        f"measured tau* = {ii['tau*']:.6f}; Theorem 4 at delta = {b['delta']:.3f}: tau > {b['bound']:.1f} "
        f"(measured {b['measured']:.3f}, ratio {b['ratio']:.0f})",
    ])


def tractability_region(out) -> list[str]:
    """Write ``tractability_region.png``/``.pdf``: the tractable region with the 13 experimental games.

    Two panels, one per parameter set of the authors (KL + log-barrier; reverse KL + entropy),
    each game placed at ``(epsilon_1 tau_1, epsilon_2 tau_2)``.
    """
    import matplotlib  # on first use: matplotlib is slow to import and only drawing needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rqe.plotting import tractability_region as draw

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), constrained_layout=True)
    for ax, (risk, reg) in zip(axes, [("kl", "log_barrier"), ("reverse_kl", "entropy")]):
        draw(games="experimental", ax=ax, risk=risk, regularizer=reg)
    files = [str(out / f"tractability_region.{ext}") for ext in ("png", "pdf")]
    for f in files:
        fig.savefig(f, dpi=150)
    plt.close(fig)
    return files
