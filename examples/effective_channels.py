"""K*: the effective number of independent channels in a population of voting agents.

Run: ``python examples/effective_channels.py [--quick] [--out effective_channels.png]``.

K* (SafeRL-Lab/Agent-Scaling, ``K_star_analysis/analysis.py``, function ``compute_Nstar``;
read for what it computes): stack the agents' output vectors as the rows of ``M`` (there,
sentence embeddings normalised to unit length by the encoder; in its per-round mode a row is
the average of an agent's unit embeddings, not renormalised, whereas here every row is scaled
to unit length), take the eigenvalues ``mu`` of ``M^T M`` (``analysis_improved.py`` uses the
smaller of ``M M^T`` and ``M^T M``: the nonzero eigenvalues are the same), normalise them to
``lam = mu / sum(mu)`` (no centring), and set
``K* = 2^H`` with ``H = -sum lam log2 lam`` the Shannon entropy in bits (the README writes
``exp(H)`` with natural logarithms, the same number).  K* is 1 when all outputs are parallel
and ``n`` when they are orthogonal.

What is reconstructed here: the agents are synthetic *correlated voters* (the repository
studies LLM agents debating benchmark questions).  On question ``q`` agent ``i`` has a score

    z_iq = sqrt(rho_b) g_q + sqrt(rho_w - rho_b) h_{c(i) q} + sqrt(1 - rho_w) e_iq

(standard normal ``g`` shared by everyone, ``h`` by the agents of channel ``c(i)``, ``e``
private) and answers correctly iff ``z_iq + margin > 0``: every agent is right with
probability ``Phi(margin)``, two agents' scores correlate ``rho_w`` within a channel and
``rho_b`` across channels.  The output vector of agent ``i`` is ``z_i`` over the questions.
A *homogeneous* population has one channel, a *heterogeneous* one several.

Closed forms [derived]:

* equicorrelated unit outputs (pairwise cosine ``rho``): the Gram matrix
  ``(1 - rho) I + rho 1 1^T`` has eigenvalues ``1 + (n - 1) rho`` (once) and ``1 - rho``
  (``n - 1`` times), so with ``l1 = (1 + (n - 1) rho) / n`` and ``l2 = (1 - rho) / n``,
  ``K* = 2^{-l1 log2 l1 - (n - 1) l2 log2 l2}`` (:func:`k_star_equicorrelated`); it grows like
  ``n^{1 - rho}``, the private parts of the outputs counting as diversity;
* majority vote of ``n -> inf`` equicorrelated voters: given ``g`` the voters are independent,
  right with probability ``Phi((margin + sqrt(rho) g) / sqrt(1 - rho))``, so the majority is
  right iff ``g > -margin / sqrt(rho)``: accuracy saturates at ``Phi(margin / sqrt(rho))``
  (:func:`saturation_accuracy`), below 1 however many agents vote.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.special import ndtr

MARGIN = 0.5            # every voter is right with probability Phi(0.5) = 0.69
RHO_WITHIN = 0.8        # score correlation of two agents of one channel
RHO_BETWEEN = 0.05      # ... of two agents of different channels
CHANNELS = 8            # channels of the heterogeneous population
N_AGENTS = (1, 3, 5, 9, 15, 25, 41, 63)


def k_star(outputs) -> float:
    """``K* = 2^H``, ``H`` the entropy (bits) of the normalised eigenvalues of the normalised outputs' Gram matrix.

    Parameters
    ----------
    outputs : array_like
        ``(n_agents, d)``: one output vector per agent (rows are scaled to unit length; a zero
        row is left at zero).

    Examples
    --------
    >>> import numpy as np
    >>> round(k_star(np.eye(4)), 12), round(k_star(np.ones((4, 3))), 12)
    (4.0, 1.0)
    """
    M = np.asarray(outputs, dtype=float)
    if M.ndim != 2 or M.shape[0] < 1:
        raise ValueError(f"The 'outputs' parameter of k_star must be a 2-d array (n_agents, d). Got shape {M.shape}.")
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    M = np.divide(M, norms, out=np.zeros_like(M), where=norms > 0)
    G = M @ M.T if M.shape[0] <= M.shape[1] else M.T @ M
    mu = np.clip(np.linalg.eigvalsh(G), 0.0, None)
    if mu.sum() <= 0:
        return 1.0
    lam = mu / mu.sum()
    lam = lam[lam > 1e-15]
    return float(2.0 ** -(lam * np.log2(lam)).sum())


def k_star_equicorrelated(n: int, rho: float) -> float:
    """The closed form of K* for ``n`` unit outputs with pairwise cosine ``rho`` (module docstring).

    Examples
    --------
    >>> round(k_star_equicorrelated(4, 0.0), 12), round(k_star_equicorrelated(4, 1.0), 12)
    (4.0, 1.0)
    """
    if not (isinstance(n, (int, np.integer)) and n >= 1) or not -1.0 / max(n - 1, 1) <= rho <= 1.0:
        raise ValueError(f"k_star_equicorrelated needs an int n >= 1 and rho in [-1/(n-1), 1]. Got n={n!r}, "
                         f"rho={rho!r}.")
    lam = np.array([(1 + (n - 1) * rho) / n] + [(1 - rho) / n] * (n - 1))
    lam = lam[lam > 1e-15]
    return float(2.0 ** -(lam * np.log2(lam)).sum())


def saturation_accuracy(margin: float, rho: float) -> float:
    """Majority-vote accuracy of infinitely many equicorrelated voters: ``Phi(margin / sqrt(rho))``.

    Examples
    --------
    >>> round(saturation_accuracy(0.5, 0.8), 4)
    0.7119
    """
    return float(ndtr(margin / math.sqrt(rho))) if rho > 0 else (1.0 if margin > 0 else 0.0)


def simulate_voters(n_agents: int, *, n_questions: int, channels: int, rho_within: float, rho_between: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Scores ``z`` ``(n_agents, n_questions)`` of correlated voters; agent ``i`` is in channel ``i % channels``.

    Examples
    --------
    >>> import numpy as np
    >>> z = simulate_voters(200, n_questions=4000, channels=1, rho_within=0.3, rho_between=0.3,
    ...                     rng=np.random.default_rng(0))
    >>> round(float(np.corrcoef(z)[np.triu_indices(200, 1)].mean()), 2)
    0.3
    """
    if not 0 <= rho_between <= rho_within <= 1:
        raise ValueError(f"simulate_voters needs 0 <= rho_between <= rho_within <= 1. Got rho_between="
                         f"{rho_between!r}, rho_within={rho_within!r}.")
    g = rng.standard_normal(n_questions)
    h = rng.standard_normal((channels, n_questions))
    e = rng.standard_normal((n_agents, n_questions))
    c = np.arange(n_agents) % channels
    return math.sqrt(rho_between) * g + math.sqrt(rho_within - rho_between) * h[c] + math.sqrt(1 - rho_within) * e


def majority_accuracy(correct) -> float:
    """Fraction of questions the majority answers correctly (``correct``: ``(n_agents, n_questions)``; ties count 1/2).

    Examples
    --------
    >>> majority_accuracy([[1, 1, 0], [1, 0, 0], [0, 1, 0]])
    0.6666666666666666
    """
    correct = np.asarray(correct, dtype=float)
    share = correct.mean(axis=0)
    return float(np.mean(np.where(share > 0.5, 1.0, np.where(share == 0.5, 0.5, 0.0))))


def sweep(n_agents=N_AGENTS, *, n_questions: int = 4000, seeds: int = 5, channels: int = CHANNELS,
          margin: float = MARGIN, rho_within: float = RHO_WITHIN, rho_between: float = RHO_BETWEEN,
          seed: int = 0) -> dict:
    """Majority accuracy and K* against population size, for one and for ``channels`` channels.

    Returns a dict ``{population: {"n": ..., "accuracy": (len(n), seeds), "k_star": (len(n), seeds)}}``.

    Examples
    --------
    >>> out = sweep((1, 9), n_questions=500, seeds=2)
    >>> sorted(out), out["homogeneous"]["k_star"].shape
    (['heterogeneous', 'homogeneous'], (2, 2))
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name, L in (("homogeneous", 1), ("heterogeneous", channels)):
        acc = np.empty((len(n_agents), seeds))
        ks = np.empty((len(n_agents), seeds))
        for s in range(seeds):
            z = simulate_voters(max(n_agents), n_questions=n_questions, channels=L, rho_within=rho_within,
                                rho_between=rho_between if L > 1 else rho_within, rng=rng)
            for k, n in enumerate(n_agents):
                acc[k, s] = majority_accuracy(z[:n] + margin > 0)
                ks[k, s] = k_star(z[:n])
        out[name] = {"n": np.array(n_agents), "accuracy": acc, "k_star": ks}
    return out


def plot(result: dict, path, *, margin: float = MARGIN, rho_within: float = RHO_WITHIN):
    """Three panels: accuracy and K* against the number of agents, accuracy against K*."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for (name, r), color in zip(result.items(), ("C3", "C0")):
        n, acc, ks = r["n"], r["accuracy"].mean(1), r["k_star"].mean(1)
        axes[0].plot(n, acc, "o-", color=color, label=name)
        axes[1].plot(n, ks, "o-", color=color, label=name)
        axes[2].plot(ks, acc, "o-", color=color, label=name)
    axes[0].axhline(saturation_accuracy(margin, rho_within), color="C3", ls=":",
                    label=rf"$\Phi(m/\sqrt{{\rho_w}})$ = {saturation_accuracy(margin, rho_within):.3f}")
    axes[0].axhline(float(ndtr(margin)), color="gray", ls="--", lw=0.8, label="one voter")
    n = result["homogeneous"]["n"]
    axes[1].plot(n, [k_star_equicorrelated(int(k), rho_within) for k in n], "k:", label="closed form, one channel")
    axes[0].set(xlabel="agents", ylabel="majority-vote accuracy", xscale="log")
    axes[1].set(xlabel="agents", ylabel="K*", xscale="log", yscale="log")
    axes[2].set(xlabel="K*", ylabel="majority-vote accuracy", xscale="log")
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Correlated voters: K* (effective channels) and majority-vote accuracy")
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.88, wspace=0.28)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _spearman(x, y) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def main(argv=None) -> dict:
    """Run the sweep, print a table and the closed-form checks, save the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer questions and seeds (a few seconds)")
    parser.add_argument("--out", default="effective_channels.png", help="where to save the figure")
    args = parser.parse_args(argv)
    kw = dict(n_questions=600, seeds=2) if args.quick else dict(n_questions=4000, seeds=5)
    result = sweep(**kw)
    print(f"voters right w.p. Phi({MARGIN}) = {ndtr(MARGIN):.3f}; score correlation {RHO_WITHIN} within a channel, "
          f"{RHO_BETWEEN} across; heterogeneous: {CHANNELS} channels")
    print(f"{'agents':>7s} {'acc (homog.)':>13s} {'K* (homog.)':>12s} {'closed form':>12s} "
          f"{'acc (heterog.)':>15s} {'K* (heterog.)':>14s}")
    hom, het = result["homogeneous"], result["heterogeneous"]
    for k, n in enumerate(hom["n"]):
        print(f"{n:7d} {hom['accuracy'][k].mean():13.3f} {hom['k_star'][k].mean():12.2f} "
              f"{k_star_equicorrelated(int(n), RHO_WITHIN):12.2f} {het['accuracy'][k].mean():15.3f} "
              f"{het['k_star'][k].mean():14.2f}")
    print(f"homogeneous saturation Phi(m / sqrt(rho_w)) = {saturation_accuracy(MARGIN, RHO_WITHIN):.3f}")
    ks = np.concatenate([hom["k_star"].mean(1), het["k_star"].mean(1)])
    acc = np.concatenate([hom["accuracy"].mean(1), het["accuracy"].mean(1)])
    rho_s = _spearman(ks, acc)
    print(f"Spearman correlation of K* and accuracy over both populations: {rho_s:.2f}")
    path = plot(result, args.out)
    print(f"figure: {path}")
    result["spearman"] = rho_s
    return result


if __name__ == "__main__":
    main()
