"""Fit Nash, logit QRE and RQE to play in 13 experimental 2x2 games, and compare them.

Run: ``python examples/fit_experimental_games.py [--quick] [--out PATH]``.

Data: the observed frequencies (P(U), P(L)) of Selten and Chmura (2008, games SC1-SC12) and
Goeree, Holt and Palfrey (2003, game GHP4) as used by Mazumdar, Panaganti and Shi (ICLR 2025).
The original sample sizes are not in the data: every likelihood below treats each observed
frequency as coming from N_OBS = 100 choices per player and game (a pseudo sample size).
Standard errors shrink like 1/sqrt(N_OBS), and log-likelihood differences grow like N_OBS.

Models (all by maximum likelihood with :func:`rqe.fit`, except the hand-tuned column):

* Nash: the game's Nash equilibrium trembled towards uniform play by 1e-3 (no parameter);
* QRE: logit QRE, one precision lambda per player role, shared by the 13 games (2 parameters);
* RQE (entropy): KL risk + entropy, (epsilon, tau) per role shared by the games (4 parameters):
  it nests the QRE at tau = 0, so the likelihood-ratio test applies;
* RQE (log-barrier): KL risk + log-barrier, the authors' specification, pooled likewise (4);
* hand-tuned: KL + log-barrier at the authors' per-game parameters (52 numbers tuned by eye).

Shared parameters need comparable payoff units across experiments (GHP4 pays in the hundreds,
SC in units): the pooled fits use each game's payoffs divided by its payoff range (largest minus
smallest payoff).  That rescaling does not change the equilibria at per-game parameters
(``RQE(cA; eps, tau) = RQE(A; eps / c, c tau)``), so the hand-tuned column uses the original games.

Writes a plot of predicted against observed frequencies to ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rqe  # noqa: E402
from rqe.analysis.fitting import likelihood_ratio_test  # noqa: E402
from rqe.games.catalog import experimental_games  # noqa: E402

N_OBS = 100      # pseudo sample size: choices per player and game behind each frequency
SEED = 20250101


def _by_range(game: rqe.NormalFormGame) -> rqe.NormalFormGame:
    return rqe.NormalFormGame(game.payoffs / np.ptp(game.payoffs), actions=game.actions)


def _loglik(observed, predicted) -> float:
    """Log-likelihood kernel of N_OBS choices per player at the observed frequencies."""
    return float(sum(N_OBS * (p * np.log(x) + (1 - p) * np.log(1 - x)) for p, x in zip(observed, predicted)))


def fit_all(quick: bool) -> dict:
    """Every model's predictions (P(U), P(L)) per game, log-likelihoods and fit results."""
    eg = experimental_games()
    names = [e.name for e in eg]
    games = [_by_range(e.game) for e in eg]
    data = [[[e.observed[0], 1 - e.observed[0]], [e.observed[1], 1 - e.observed[1]]] for e in eg]
    common = {"n_obs": N_OBS, "names": names, "n_starts": 1 if quick else 3}
    fits = {
        "Nash": rqe.fit(games, data, model="nash", **common),
        "QRE": rqe.fit(games, data, model="qre", rng=SEED, **common),
    }
    # Start the nesting RQE at the QRE estimate (tau at its floor) as well as at random points.
    lam = fits["QRE"].estimates
    start = {f"epsilon_{i}": 1 / lam[f"lambda_{i}"] for i in (1, 2)} | {"tau_1": 1e-4, "tau_2": 1e-4}
    fits["RQE (entropy)"] = rqe.fit(games, data, model="rqe", regularizer="entropy", start=start, rng=SEED,
                                    **common)
    fits["RQE (log-barrier)"] = rqe.fit(games, data, model="rqe", regularizer="log_barrier", rng=SEED, **common)
    rows = {m: [(f.predicted[g][0][0], f.predicted[g][1][0]) for g in range(len(eg))] for m, f in fits.items()}
    rows["hand-tuned"] = []
    for e in eg:
        res = rqe.solve(e.game, risk="kl", regularizer="log_barrier", **e.fit_kl_log_barrier)
        rows["hand-tuned"].append((float(res.strategies[0][0]), float(res.strategies[1][0])))
    ll = {m: [_loglik(e.observed, p) for e, p in zip(eg, preds)] for m, preds in rows.items()}
    return {"games": eg, "fits": fits, "rows": rows, "ll": ll}


def print_tables(out: dict) -> None:
    eg, fits, rows, ll = out["games"], out["fits"], out["rows"], out["ll"]
    models = list(rows)
    print(f"Observed and predicted (P(U), P(L)); likelihoods use a pseudo sample of N_OBS = {N_OBS} choices "
          "per player and game.\nPooled fits share per-role parameters across the 13 games (payoffs in units "
          "of each game's payoff range).\n")
    print(f"{'game':6s}{'observed':>14s}" + "".join(f"{m:>19s}" for m in models))
    for g, e in enumerate(eg):
        cells = "".join(f"{f'{rows[m][g][0]:.3f}, {rows[m][g][1]:.3f}':>19s}" for m in models)
        print(f"{e.name:6s}{f'{e.observed[0]:.3f}, {e.observed[1]:.3f}':>14s}{cells}")
    print("\nLog-likelihood per game")
    print(f"{'game':6s}{'':14s}" + "".join(f"{m:>19s}" for m in models))
    for g, e in enumerate(eg):
        print(f"{e.name:6s}{'':14s}" + "".join(f"{ll[m][g]:19.2f}" for m in models))
    print(f"{'total':6s}{'':14s}" + "".join(f"{sum(ll[m]):19.2f}" for m in models))

    print("\nPooled model comparison (n = 2600 pseudo-observations)")
    print(f"{'model':20s}{'k':>4s}{'loglik':>12s}{'AIC':>11s}{'BIC':>11s}  estimates (standard error)")
    for m, f in fits.items():
        est = ", ".join(f"{k} {v:.3g} ({f.std_errors[k]:.2g})" for k, v in f.estimates.items())
        print(f"{m:20s}{f.n_params:4d}{f.loglik:12.2f}{f.aic:11.2f}{f.bic:11.2f}  {est}")
    k_hand = 4 * len(eg)
    total = sum(ll["hand-tuned"])
    print(f"{'hand-tuned':20s}{k_hand:4d}{total:12.2f}{2 * k_hand - 2 * total:11.2f}"
          f"{k_hand * np.log(2 * N_OBS * len(eg)) - 2 * total:11.2f}  per-game values, tuned by hand (not ML)")
    test = likelihood_ratio_test(fits["QRE"], fits["RQE (entropy)"])
    print(f"\n{test.message}")
    print("RQE (log-barrier) does not nest the logit QRE (its tau -> 0 limit is a non-logit quantal "
          "response): compare it by AIC/BIC.")
    bad = [m for m, f in fits.items() if not f.success]
    if bad:
        print("Fits that did not succeed: " + "; ".join(f"{m}: {fits[m].message}" for m in bad))


def plot(out: dict, path: Path) -> None:
    eg, rows = out["games"], out["rows"]
    styles = {"Nash": ("x", "tab:gray"), "QRE": ("s", "tab:blue"), "RQE (log-barrier)": ("o", "tab:red"),
              "hand-tuned": ("^", "tab:green")}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8), constrained_layout=True)
    for k, (ax, label) in enumerate(zip(axes, ("Row player: P(U)", "Column player: P(L)"))):
        obs = [e.observed[k] for e in eg]
        for m, (marker, color) in styles.items():
            name = {"Nash": "Nash (tremble 1e-3)", "hand-tuned": "RQE, authors' hand-tuned"}.get(m, f"{m}, pooled fit")
            ax.scatter(obs, [p[k] for p in rows[m]], marker=marker, color=color, s=30,
                       facecolors="none" if marker in "so^" else None, label=name)
        ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--", label="predicted = observed")
        ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xlabel=f"observed {label.split(': ')[1]}",
               ylabel=f"predicted {label.split(': ')[1]}", title=label)
    axes[1].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"13 experimental 2x2 games (SC08, GHP03): predicted vs observed play (pseudo n = {N_OBS})")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one optimiser start per fit (for the test suite)")
    parser.add_argument("--out", type=Path, default=Path("out/fit_experimental_games.png"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    out = fit_all(args.quick)
    print_tables(out)
    plot(out, args.out)
    print(f"\nPlot written to {args.out}. Run time {time.perf_counter() - t0:.1f} s.")


if __name__ == "__main__":
    main()
