"""The companion examples (K* and HySRL): closed forms, Monte Carlo oracles, and their quick modes run in the suite."""

import doctest
import importlib
import sys
from math import sqrt
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import binom

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


ec = _load("effective_channels")
hy = _load("hybrid_transfer")


@pytest.mark.parametrize("module", [ec, hy], ids=lambda m: m.__name__)
def test_example_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------- K*
def equicorrelated(n, rho, d, rng):
    """n unit vectors in R^d with pairwise inner product exactly rho: a common direction plus orthonormal parts."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, n + 1)))
    common, own = Q[:, 0], Q[:, 1:].T
    return sqrt(rho) * common + sqrt(1 - rho) * own


@pytest.mark.parametrize("n, rho", [(2, 0.3), (5, 0.0), (7, 0.5), (12, 0.9), (30, 0.2), (6, 1.0)])
def test_k_star_closed_form_for_equicorrelated_outputs(n, rho, rng):
    X = equicorrelated(n, rho, 64, rng)
    np.testing.assert_allclose(X @ X.T, (1 - rho) * np.eye(n) + rho, atol=1e-12)
    want = ec.k_star_equicorrelated(n, rho)
    assert abs(ec.k_star(X) - want) < 1e-9
    assert abs(ec.k_star(X * rng.uniform(0.5, 3.0, (n, 1))) - want) < 1e-9     # rows are normalised first
    # the closed form by direct entropy of the two eigenvalues, written out
    l1, l2 = (1 + (n - 1) * rho) / n, (1 - rho) / n
    H = -l1 * np.log2(l1) - ((n - 1) * l2 * np.log2(l2) if l2 > 0 else 0.0)
    assert abs(want - 2 ** H) < 1e-12


def test_k_star_edge_cases(rng):
    assert 1.0 <= ec.k_star(rng.normal(size=(10, 4))) <= 4.0               # n > d: at most d channels
    assert ec.k_star(np.zeros((3, 5))) == 1.0
    own = np.linalg.qr(rng.normal(size=(8, 5)))[0].T                          # 5 orthonormal rows
    centred = own - own.mean(0)                                               # pairwise cosine -1/4, rank 4
    assert abs(ec.k_star(centred) - ec.k_star_equicorrelated(5, -0.25)) < 1e-9
    assert abs(ec.k_star_equicorrelated(5, -0.25) - 4.0) < 1e-12
    with pytest.raises(ValueError, match="'outputs' parameter of k_star"):
        ec.k_star(np.ones(3))
    with pytest.raises(ValueError, match="rho in"):
        ec.k_star_equicorrelated(3, 1.5)
    with pytest.raises(ValueError, match="rho_between <= rho_within"):
        ec.simulate_voters(3, n_questions=5, channels=1, rho_within=0.2, rho_between=0.5,
                           rng=np.random.default_rng(0))


def test_voters_monte_carlo_against_closed_forms():
    rng = np.random.default_rng(7)
    rho, margin, n, Q = 0.8, 0.5, 201, 10000
    z = ec.simulate_voters(n, n_questions=Q, channels=1, rho_within=rho, rho_between=rho, rng=rng)
    # sample K* of 20 voters against the closed form for their correlation
    assert abs(ec.k_star(z[:20]) / ec.k_star_equicorrelated(20, rho) - 1) < 0.02
    correct = z + margin > 0
    assert abs(correct[0].mean() - ndtr(margin)) < 4 * sqrt(0.25 / Q)
    # exact majority accuracy of n voters by quadrature over the common factor g: given g they are
    # independent, each right w.p. Phi((margin + sqrt(rho) g) / sqrt(1 - rho))
    g, wg = np.polynomial.hermite_e.hermegauss(120)
    p = ndtr((margin + sqrt(rho) * g) / sqrt(1 - rho))
    exact = float(wg @ binom.sf(n // 2, n, p) / wg.sum())
    acc = ec.majority_accuracy(correct)
    assert abs(acc - exact) < 4 * sqrt(exact * (1 - exact) / Q)
    assert abs(exact - ec.saturation_accuracy(margin, rho)) < 0.01           # already near the n -> inf limit


def test_effective_channels_quick_main(tmp_path, capsys):
    out = tmp_path / "ec.png"
    res = ec.main(["--quick", "--out", str(out)])
    assert out.stat().st_size > 10_000 and "Spearman" in capsys.readouterr().out
    hom, het = res["homogeneous"], res["heterogeneous"]
    acc_h, acc_x = hom["accuracy"].mean(1), het["accuracy"].mean(1)
    n = list(hom["n"])
    assert abs(acc_h[n.index(63)] - acc_h[n.index(15)]) < 0.02                # saturated
    assert acc_x[n.index(63)] > acc_h[n.index(63)] + 0.1                      # diversity pays
    assert np.all(het["k_star"].mean(1)[1:] > hom["k_star"].mean(1)[1:])


# ---------------------------------------------------------------- HySRL
def test_grid_layout_and_shift():
    src, tgt = hy.grid_kernel([hy.GOAL]), hy.grid_kernel([hy.GOAL, *hy.TRAPS])
    assert np.allclose(src.sum(-1), 1) and np.allclose(tgt.sum(-1), 1)
    for trap in hy.TRAPS:
        assert np.all(tgt[hy.index(trap), :, hy.index(trap)] == 1.0)
    shifted = 0.5 * np.abs(tgt - src).sum(-1) > 0
    assert shifted.sum() == 11 and not shifted[hy.index((2, 3)), 1]          # right at (2, 3) stays put in both
    assert set(np.flatnonzero(shifted.any(1))) == {hy.index(t) for t in hy.TRAPS}
    # an interior cell: intended move 0.95, the three other neighbours 0.05 / 3 each
    row = src[hy.index((1, 1)), 1]
    assert abs(row[hy.index((1, 2))] - 0.95) < 1e-12 and np.allclose(row[[hy.index((0, 1)), hy.index((1, 0)),
                                                                           hy.index((2, 1))]], 0.05 / 3)


def test_optimal_return_by_rollouts():
    """Monte Carlo episodes with the environment's own termination rule (pay, then stop) match the DP value."""
    P, r = hy.grid_kernel([hy.GOAL, *hy.TRAPS]), hy.rewards()
    V, pi = hy.optimal_value(P, r)
    terminal = {hy.index(c) for c in (hy.GOAL, *hy.TRAPS)}
    rng = np.random.default_rng(3)
    E = 20000
    s = np.full(E, hy.index(hy.START))
    alive = np.ones(E, dtype=bool)
    total = np.zeros(E)
    for h in range(hy.HORIZON):
        total += alive * r[s]
        alive &= ~np.isin(s, list(terminal))
        a = pi[h, s]
        cum = np.cumsum(P[s, a], axis=1)
        s = np.minimum((rng.random(E)[:, None] > cum).sum(1), hy.S - 1)
    assert abs(total.mean() - V[hy.index(hy.START)]) < 4 * total.std() / sqrt(E)
    assert abs(V[hy.index(hy.START)] - 2.223) < 1e-3


def test_hybrid_transfer_quick_main(tmp_path, capsys):
    out = tmp_path / "hy.png"
    res = hy.main(["--quick", "--out", str(out)])
    assert out.stat().st_size > 10_000 and "shift identified" in capsys.readouterr().out
    hyb, onl = res["hybrid"], res["online"]
    truth = 0.5 * np.abs(hy.grid_kernel([hy.GOAL, *hy.TRAPS]) - hy.grid_kernel([hy.GOAL])).sum(-1) > 0
    assert np.all(hyb["phase1_end"] > 0) and all(np.array_equal(s, truth) for s in hyb["shifted"])
    assert hyb["returns"][:, -1].mean() > 0.9 * res["v_star"] > onl["returns"][:, -1].mean()
    with pytest.raises(ValueError, match="'algorithm'"):
        hy.run("offline", episodes=10, seeds=1)
