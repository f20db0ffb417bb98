"""The exact-dynamics analogue of Figure 2 of Qu, Zhang, Lanzetti and Mazumdar (arXiv 2602.21515).

The paper trains populations of IPPO and SRPO agents with independent seeds (deep RL in
Overcooked, Tag, Hanabi) and shows (i) the cross-play matrix of every pairing, where IPPO's
free-riders make a checkerboard and SRPO's agents a uniform block, (ii) an ablation in tau,
and (iii) training minus cross-play performance.  Here the same protocol runs on exact
tabular dynamics (:mod:`rqe.learning`), so every number is checkable:

(i)   cross-play heat-maps of ``SEEDS`` IPPO and ``SEEDS`` SRPO seeds on the volunteer game
      (:func:`rqe.games.catalog.volunteer_game`) and on the volunteer corridor
      (:func:`rqe.games.markov_catalog.volunteer_corridor` with one order, the Markov form of
      the volunteer's dilemma; with two orders both agents work at every equilibrium IPPO
      reaches, so there is no free-riding to remove);
(ii)  the learned free-riding degree (Definition 2) of every SRPO seed against tau on the
      volunteer game, beside the largest degree over all RQE (:func:`rqe.analysis.free_riding`,
      complete for 2x2 games) and the measured threshold tau*;
(iii) training minus cross-play team return, mean and standard deviation over the converged
      seeds, IPPO against SRPO, on both games.

Nothing is hard-coded: SRPO's tau is ``TAU_FACTOR`` times a threshold measured by the solver
(the volunteer game's own tau*; for the corridor, tau* of its one-shot analogue
:func:`rqe.games.catalog.free_riding_game` with the corridor's reward, cost and epsilon), and
the ablation grid is a set of fractions of tau*.  Unconverged seeds are drawn in red and left
out of every mean.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

import rqe
from rqe._exceptions import ConvergenceWarning
from rqe.analysis._free_riding import shared_reward_form
from rqe.games import catalog, markov_catalog

__all__ = ["figure2", "describe_figure2"]

SEEDS = 20
LR = 0.3                      # NPG damping (soft policy iteration with lr = 1 cycles on these games)
ITERS = 20_000
VOLUNTEER_EPS = 0.3
TAU_SEARCH = (0.0, 10.0)      # rqe.analysis.free_riding traces the free-riding branch from 0 to its fold in here
TAU_FACTOR = 2.0
ABLATION = (0.0, 0.25, 0.5, 0.75, 0.9, 1.1, 1.5, 2.0)       # tau / tau*
ABLATION_QUICK = (0.0, 0.5, 0.9, 1.1, 2.0)
DENSE = 13                    # extra grid points of the all-RQE curve (none in quick mode)
CORRIDOR = {"orders": 1, "reward": 1.0, "cost": 0.4}
CORRIDOR_EPS = 0.1


def _train(game, tau, epsilon, seeds, rng, label):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)      # unconverged seeds are flagged, not hidden
        if tau == 0:
            return rqe.learning.ippo(game, epsilon=epsilon, seeds=seeds, iters=ITERS, lr=LR, rng=rng, label=label)
        return rqe.learning.srpo(game, tau=tau, epsilon=epsilon, seeds=seeds, iters=ITERS, lr=LR, rng=rng,
                                 label=label)


def _threshold(game, epsilon, grid) -> float:
    tau_star = rqe.analysis.free_riding(game, epsilon=epsilon, taus=grid).tau_star
    if not np.isfinite(tau_star):
        raise RuntimeError(f"rqe.analysis.free_riding found no finite threshold tau* on [{grid[0]:g}, {grid[-1]:g}] "
                           f"(got {tau_star}); widen TAU_SEARCH.")
    return float(tau_star)


def _cross(game, epsilon, tau, seeds, rng):
    ippo = _train(game, 0.0, epsilon, seeds, rng, "IPPO")
    srpo = _train(game, tau, epsilon, seeds, rng, "SRPO")
    cp = rqe.learning.cross_play([ippo, srpo], [ippo, srpo], game)
    return ippo, srpo, cp


def _summary(cp, runs) -> dict:
    out = {s["group"]: s for s in cp.summary}
    out["converged"] = {r.label: r.converged.tolist() for r in runs}
    return out


def _heatmap(ax, fig, cp, title, seeds):
    im = ax.imshow(cp.returns, cmap="viridis", interpolation="nearest")
    K = len(cp.labels_a)
    for b in range(seeds, K, seeds):
        ax.axhline(b - 0.5, color="white", lw=1.5)
        ax.axvline(b - 0.5, color="white", lw=1.5)
    centres = [seeds / 2 - 0.5 + g * seeds for g in range(len(cp.block_groups[0]))]
    ax.set_xticks(centres, [f"{g} seeds (seat 2)" for g in cp.block_groups[1]])
    ax.set_yticks(centres, [f"{g} seeds (seat 1)" for g in cp.block_groups[0]], rotation=90, va="center")
    bad_a, bad_b = np.flatnonzero(~cp.converged_a), np.flatnonzero(~cp.converged_b)
    ax.plot(np.full(bad_a.size, -1.2), bad_a, "rx", ms=6, clip_on=False)
    ax.plot(bad_b, np.full(bad_b.size, K + 0.2), "rx", ms=6, clip_on=False,
            label="unconverged seed (not a result)" if bad_a.size + bad_b.size else None)
    if bad_a.size + bad_b.size:
        ax.legend(loc="upper right", fontsize=7)
    n_bad = len(set(np.flatnonzero(~cp.converged_a)) | set(np.flatnonzero(~cp.converged_b)))
    note = "every seed converged (certified)" if n_bad == 0 else f"{n_bad} unconverged agents marked x"
    ax.set_title(f"{title}\n{note}", fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8, label="team return of the pairing")


def _ablation(ax, game, epsilon, tau_star, seeds, rng, quick):
    _, c = shared_reward_form(game)
    taus = tau_star * np.asarray(ABLATION_QUICK if quick else ABLATION)
    dense = np.linspace(0.0, taus[-1], 0 if quick else DENSE)
    grid = np.unique(np.concatenate([taus, dense]))
    solver = rqe.analysis.free_riding(game, epsilon=epsilon, taus=grid)
    rows = []
    for t in taus:
        run = _train(game, float(t), epsilon, seeds, rng, "SRPO")
        delta = np.abs(run.policies[0] @ c - run.policies[1] @ c)
        ok = run.converged
        x = np.full(delta.shape, t) + (np.linspace(-1, 1, len(delta)) * 0.012 * taus[-1])
        ax.plot(x[ok], delta[ok], "o", color="tab:blue", ms=3.5, alpha=0.7,
                label="learned (SRPO seeds, converged)" if not rows else None)
        if np.any(~ok):
            ax.plot(x[~ok], delta[~ok], "x", color="red", ms=6, label="unconverged seed (not a result)")
        k = int(np.argmin(np.abs(grid - t)))
        rows.append({"tau": float(t), "tau/tau*": float(t / tau_star), "solver_max": float(solver.max_delta[k]),
                     "learned_mean": float(delta[ok].mean()) if ok.any() else float("nan"),
                     "learned_min": float(delta[ok].min()) if ok.any() else float("nan"),
                     "learned_max": float(delta[ok].max()) if ok.any() else float("nan"),
                     "n_converged": int(ok.sum()), "n_seeds": int(ok.size)})
    ax.plot(grid, solver.max_delta, "-", color="black", lw=1.5, label="largest degree over all RQE (solve_all)")
    ax.axvline(tau_star, color="gray", ls="--", lw=1.2, label=f"measured tau* = {tau_star:.3f}")
    ax.axvline(TAU_FACTOR * tau_star, color="tab:green", ls=":", lw=1.5,
               label=f"SRPO's tau in (i) = {TAU_FACTOR:g} tau*")
    ax.set_xlabel("risk aversion tau")
    ax.set_ylabel("free-riding degree |E c(x1) - E c(x2)|")
    ax.set_title(f"(ii) tau ablation, volunteer game (epsilon = {epsilon:g}):\nfree-riding of learned SRPO pairs "
                 "vs all RQE", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    return rows


def _bars(ax, summaries):
    names = list(summaries)
    width = 0.38
    for j, (group, colour) in enumerate((("IPPO", "tab:orange"), ("SRPO", "tab:blue"))):
        means = [summaries[n][group]["difference_mean"] for n in names]
        stds = [summaries[n][group]["difference_std"] for n in names]
        xs = np.arange(len(names)) + (j - 0.5) * width
        ax.bar(xs, means, width, yerr=stds, capsize=4, color=colour, label=group)
        for x, m, s, n in zip(xs, means, stds, names):
            conv = summaries[n][group]["n_converged"]
            seeds = summaries[n][group]["n_seeds"]
            ax.text(x, m + s, f"{m:.3f}\n+-{s:.3f}\n{conv}/{seeds} conv.", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel("training - cross-play team return")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.25)
    ax.set_title("(iii) training minus cross-play team return\n(mean +- std over converged seeds)", fontsize=10)
    ax.axhline(0, color="black", lw=0.8)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")


def figure2(out, *, quick: bool = False, seed: int = 0) -> dict:
    """Write ``figure2.png`` and ``figure2.pdf`` into the directory ``out``; return the key numbers.

    ``quick`` uses 4 seeds per population and coarser grids.  The returned dict holds, per
    game, the measured threshold, SRPO's tau and the cross-play summary of both populations
    (training, cross-play and their difference, with the convergence flag of every seed);
    the ablation rows (learned free-riding degree at each tau beside the solver's maximum);
    and ``seconds``, the time taken.
    """
    import matplotlib  # on first use: matplotlib is slow to import and only figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start, cpu = time.perf_counter(), time.process_time()
    seeds = 4 if quick else SEEDS
    search = np.asarray(TAU_SEARCH, float)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    volunteer = catalog.volunteer_game()
    tau_star = _threshold(volunteer, VOLUNTEER_EPS, search)
    tau_v = TAU_FACTOR * tau_star
    ip_v, sr_v, cp_v = _cross(volunteer, VOLUNTEER_EPS, tau_v, seeds, rng)

    corridor = markov_catalog.volunteer_corridor(**CORRIDOR)
    # one-shot analogue: reward r if anyone works, cost c to the worker = r * free_riding_game(c / r), whose
    # threshold at epsilon / r is r * tau* (scale invariance RQE(rA; eps, tau) = RQE(A; eps / r, r tau))
    r, c = CORRIDOR["reward"], CORRIDOR["cost"]
    tau_star_c = _threshold(catalog.free_riding_game(cost=c / r), CORRIDOR_EPS / r, search) / r
    tau_c = TAU_FACTOR * tau_star_c
    ip_c, sr_c, cp_c = _cross(corridor, CORRIDOR_EPS, tau_c, seeds, rng)

    fig, axes = plt.subplots(2, 2, figsize=(14, 12))
    fig.subplots_adjust(left=0.07, right=0.95, top=0.91, bottom=0.06, wspace=0.32, hspace=0.3)
    _heatmap(axes[0, 0], fig, cp_v, f"(i) cross-play, volunteer game\n(epsilon = {VOLUNTEER_EPS:g}, SRPO tau = "
                                    f"{tau_v:.2f} = {TAU_FACTOR:g} tau*)", seeds)
    _heatmap(axes[0, 1], fig, cp_c, f"(i) cross-play, volunteer corridor (one order)\n(epsilon = {CORRIDOR_EPS:g}, "
                                    f"SRPO tau = {tau_c:.2f} = {TAU_FACTOR:g} tau* of the one-shot game)", seeds)
    rows = _ablation(axes[1, 0], volunteer, VOLUNTEER_EPS, tau_star, seeds, rng, quick)
    summaries = {"volunteer game": _summary(cp_v, (ip_v, sr_v)), "volunteer corridor": _summary(cp_c, (ip_c, sr_c))}
    _bars(axes[1, 1], summaries)
    fig.suptitle("Exact IPPO vs SRPO populations: cross-play, tau ablation, training minus cross-play", fontsize=12)
    files = [str(out / f"figure2.{ext}") for ext in ("png", "pdf")]
    for f in files:
        fig.savefig(f, dpi=130)
    plt.close(fig)
    solo = {r: {"mean_solo_return": float(np.mean(s)), "best_solo_return": float(cp_c.best_solo[0])}
            for r, s in (("IPPO", cp_c.solo_a[:seeds]), ("SRPO", cp_c.solo_a[seeds:]))}
    return {
        "volunteer": {"epsilon": VOLUNTEER_EPS, "tau*": tau_star, "tau_srpo": tau_v, "summary": summaries["volunteer game"],
                      "message": cp_v.message},
        "corridor": {"epsilon": CORRIDOR_EPS, "tau*_analogue": tau_star_c, "tau_srpo": tau_c,
                     "summary": summaries["volunteer corridor"], "solo": solo, "message": cp_c.message},
        "ablation": rows,
        "seeds": seeds,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "files": files,
    }


def describe_figure2(numbers: dict) -> str:
    """The key numbers of :func:`figure2` as printed text."""
    lines = [f"Figure 2 written to {numbers['files'][0]} and {numbers['files'][1]} in {numbers['seconds']:.1f} s "
             f"({numbers['cpu_seconds']:.1f} s of CPU) "
             f"({numbers['seeds']} seeds per population)"]
    for key, name in (("volunteer", "volunteer game"), ("corridor", "volunteer corridor")):
        d = numbers[key]
        thr = d.get("tau*", d.get("tau*_analogue"))
        lines.append(f"{name}: epsilon = {d['epsilon']:g}, measured tau* = {thr:.4f}"
                     f"{'' if key == 'volunteer' else ' (one-shot analogue)'}, SRPO tau = {d['tau_srpo']:.4f}")
        for g in ("IPPO", "SRPO"):
            s = d["summary"][g]
            flags = d["summary"]["converged"][g]
            bad = [k for k, ok in enumerate(flags) if not ok]
            lines.append(f"  {g}: training {s['training_mean']:.4f} +- {s['training_std']:.4f}, cross-play "
                         f"{s['cross_mean']:.4f} +- {s['cross_std']:.4f}, difference {s['difference_mean']:.4f} +- "
                         f"{s['difference_std']:.4f}; converged {sum(flags)}/{len(flags)}"
                         + (f" (unconverged seeds {bad})" if bad else ""))
        if key == "corridor":
            for g, s in d["solo"].items():
                lines.append(f"  {g}: mean solo return (partner idle) {s['mean_solo_return']:.4f} of the best "
                             f"{s['best_solo_return']:.4f}")
    lines.append("tau ablation (volunteer game): tau, learned free-riding degree [min, max] of converged seeds, "
                 "largest over all RQE")
    for r in numbers["ablation"]:
        lines.append(f"  tau = {r['tau']:.4f} ({r['tau/tau*']:.2f} tau*): learned {r['learned_mean']:.6f} "
                     f"[{r['learned_min']:.6f}, {r['learned_max']:.6f}] ({r['n_converged']}/{r['n_seeds']} converged)"
                     f", solver max {r['solver_max']:.6f}")
    return "\n".join(lines)
