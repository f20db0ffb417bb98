"""Nash components and selection (rqe.NashSet) against an exact enumeration written here in fractions.

The oracle enumerates the vertices of both best-response polytopes by brute force over sets of
tight constraints, solved in rational arithmetic, keeps the completely labelled pairs (the
extreme equilibria), forms the maximal bicliques of their bipartite graph by trying every subset
of player 1's vertices, and maximises the entropy over each biclique's hulls with SLSQP.
"""

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import minimize

import rqe

ENTROPY_TOL = 1e-8     # max-entropy value against SLSQP on the same hulls
POINT_TOL = 1e-4       # the maximiser itself (the entropy is flat at its maximum, SLSQP stops early)


def _solve(rows, rhs):
    """Unique solution of a square rational system, else None."""
    M = [list(r) + [b] for r, b in zip(rows, rhs)]
    n = len(M)
    for c in range(n):
        pivot = next((r for r in range(c, n) if M[r][c] != 0), None)
        if pivot is None:
            return None
        M[c], M[pivot] = M[pivot], M[c]
        M[c] = [v / M[c][c] for v in M[c]]
        M = [row if r == c else [v - row[c] * w for v, w in zip(row, M[c])] for r, row in enumerate(M)]
    return [M[r][n] for r in range(n)]


def _vertices(M):
    """Vertices of {z >= 0, M z <= 1} (M > 0, shape (k, d)) with their labels (z_i = 0: i; row r tight: d + r)."""
    k, d = len(M), len(M[0])
    constraints = [[Fraction(int(i == j)) for j in range(d)] for i in range(d)] + [list(r) for r in M]
    rhs = [Fraction(0)] * d + [Fraction(1)] * k
    found = {}
    for tight in itertools.combinations(range(d + k), d):
        z = _solve([constraints[t] for t in tight], [rhs[t] for t in tight])
        if z is None or min(z) < 0 or any(sum(a * b for a, b in zip(r, z)) > 1 for r in M):
            continue
        labels = frozenset(t for t in range(d + k) if sum(a * b for a, b in zip(constraints[t], z)) == rhs[t])
        found[tuple(z)] = labels
    return found


def exact_extreme_equilibria(A, B):
    """All extreme equilibria of the bimatrix game (A, B) as pairs of rational probability vectors."""
    m, n = A.shape
    shift = lambda M: [[Fraction(int(v)) - int(M.min()) + 1 for v in row] for row in M]   # noqa: E731
    P = _vertices([list(c) for c in zip(*shift(B))])               # {x >= 0, B^T x <= 1}: labels i (x_i=0), m+j
    Q = _vertices(shift(A))                                         # {y >= 0, A y <= 1}: labels j (y_j=0), n+i
    pairs = []
    for x, lx in P.items():
        for y, ly in Q.items():
            if not any(x) or not any(y):
                continue
            ly_in_x_labels = {n_i - n for n_i in ly if n_i >= n} | {m + j for j in ly if j < n}
            if set(lx) | ly_in_x_labels == set(range(m + n)):
                pairs.append((tuple(v / sum(x) for v in x), tuple(v / sum(y) for v in y)))
    return pairs


def maximal_bicliques(pairs):
    xs = sorted({x for x, _ in pairs})
    edges = set(pairs)
    out = set()
    for size in range(1, len(xs) + 1):
        for S in itertools.combinations(xs, size):
            T = frozenset(y for y in {y for _, y in pairs} if all((x, y) in edges for x in S))
            if T:
                closed = frozenset(x for x in xs if all((x, y) in edges for y in T))
                out.add((closed, T))
    return out


def _H(x):
    x = np.asarray(x, float)
    x = x[x > 1e-300]
    return float(-np.sum(x * np.log(x)))


def slsqp_max_entropy(V):
    V = np.array([[float(v) for v in p] for p in V])
    if len(V) == 1:
        return _H(V[0])
    best = -np.inf
    for start in [np.full(len(V), 1 / len(V)), *np.eye(len(V)) * 0.9 + 0.1 / len(V)]:
        res = minimize(lambda lam: -_H(np.clip(V.T @ lam, 1e-300, None)), start, method="SLSQP",
                       bounds=[(0, 1)] * len(V), constraints=[{"type": "eq", "fun": lambda lam: lam.sum() - 1}],
                       options={"ftol": 1e-15, "maxiter": 500})
        best = max(best, -res.fun)
    return best


DEGENERATE = {
    "indifferent partner": ([[1, 0], [0, 1]], [[0, 0], [0, 0]]),
    "3x2 with a segment": ([[3, 3], [2, 5], [0, 6]], [[3, 3], [2, 6], [3, 1]]),
    "weak dominance": ([[1, 1], [1, 0]], [[1, 1], [1, 0]]),
}


def _random_degenerate(rng, count):
    games = []
    while len(games) < count:
        A, B = rng.integers(0, 3, size=(2, 3, 3))
        pairs = exact_extreme_equilibria(A, B)
        if any(len(S) + len(T) > 2 for S, T in maximal_bicliques(pairs)):
            games.append((A.tolist(), B.tolist()))
    return games


def _check_against_oracle(A, B):
    A, B = np.array(A), np.array(B)
    eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(A, B))
    pairs = exact_extreme_equilibria(A, B)
    bicliques = maximal_bicliques(pairs)
    assert len(eqs) == len(pairs)
    found = {(frozenset(tuple(round(v, 9) for v in x) for x in comp.vertices[0]),
              frozenset(tuple(round(v, 9) for v in y) for y in comp.vertices[1])) for comp in eqs.components}
    expected = {(frozenset(tuple(round(float(v), 9) for v in x) for x in S),
                 frozenset(tuple(round(float(v), 9) for v in y) for y in T)) for S, T in bicliques}
    assert found == expected
    sel = eqs.select("entropy")
    best = max(slsqp_max_entropy(S) + slsqp_max_entropy(T) for S, T in bicliques)
    assert sel.success and abs(sel.value - best) < ENTROPY_TOL
    assert sel.value >= best - 1e-12                       # never below the oracle's optimum
    x, y = sel.equilibrium.strategies
    assert abs(_H(x) + _H(y) - sel.value) < 1e-12 and sel.equilibrium.regret < 1e-9
    comp = eqs.components[sel.component]
    for V, z in zip(comp.vertices, (x, y)):                 # the selection lies in the reported subset
        lam = np.linalg.lstsq(np.vstack([V.T, np.ones(len(V))]), np.append(z, 1.0), rcond=None)[0]
        assert np.allclose(V.T @ lam, z, atol=1e-9)
    welfare = max(sum((Fraction(int(A[i, j] + B[i, j])) * x[i] * y[j]
                       for i in range(A.shape[0]) for j in range(A.shape[1])), Fraction(0)) for x, y in pairs)
    assert abs(eqs.select("welfare").value - float(welfare)) < 1e-12


@pytest.mark.parametrize("name", DEGENERATE)
def test_components_and_max_entropy_of_degenerate_games_against_exact_enumeration(name):
    A, B = DEGENERATE[name]
    assert any(len(S) + len(T) > 2 for S, T in maximal_bicliques(exact_extreme_equilibria(np.array(A), np.array(B))))
    _check_against_oracle(A, B)


def test_random_degenerate_games_against_exact_enumeration(rng):
    for A, B in _random_degenerate(rng, 3):
        _check_against_oracle(A, B)


def test_max_entropy_point_of_a_continuum():
    eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(*DEGENERATE["indifferent partner"]))
    sel = eqs.select("entropy")
    for x in sel.equilibrium.strategies:                    # the centre of the continuum {y = (1/2, 1/2)} x [x]
        np.testing.assert_allclose(x, [0.5, 0.5], atol=POINT_TOL)
    assert abs(sel.value - 2 * np.log(2)) < ENTROPY_TOL
    assert len({c.connected for c in eqs.components}) == 1


def test_exact_sets_decide_compatibility_in_fractions():
    game = rqe.NormalFormGame.from_bimatrix(*DEGENERATE["3x2 with a segment"])
    approx, exact = rqe.solve_nash(game), rqe.solve_nash(game, exact=True)
    assert exact._graph[4] and not approx._graph[4]
    assert [c.equilibria for c in exact.components] == [c.equilibria for c in approx.components]


def test_nondegenerate_games_have_one_point_per_component(rng):
    game = rqe.NormalFormGame(list(rng.normal(size=(2, 4, 4))))
    eqs = rqe.solve_nash(game)
    assert len(eqs.components) == len(eqs)
    assert all(len(c.vertices[0]) == len(c.vertices[1]) == 1 for c in eqs.components)
    assert len({c.connected for c in eqs.components}) == len(eqs)


def test_logit_selects_the_risk_dominant_equilibrium_of_a_stag_hunt():
    # Harsanyi-Selten risk dominance in a symmetric 2x2 coordination game with row payoffs
    # [[a, b], [c, d]]: (S, S) dominates iff (a - c)^2 > (d - b)^2; here 1 < 4, so (H, H).
    R = np.array([[5, 0], [4, 2]])
    (a, b), (c, d) = R
    assert (a - c) ** 2 < (d - b) ** 2
    eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(R, R.T))
    sel = eqs.select("logit")
    assert sel.success
    for x in sel.equilibrium.strategies:
        np.testing.assert_allclose(x, [0.0, 1.0], atol=1e-9)
    hare = next(k for k, e in enumerate(eqs) if np.allclose(e.strategies[0], [0, 1]))
    assert eqs.components[sel.component].equilibria == (hare,)
    assert eqs.select("welfare").equilibrium.strategies[0].tolist() == [1.0, 0.0]


def test_logit_selection_in_the_battle_of_the_sexes_is_the_mixed_equilibrium():
    eqs = rqe.solve_nash(rqe.games.catalog.battle_of_the_sexes())
    sel = eqs.select("logit")
    np.testing.assert_allclose(sel.equilibrium.strategies[0], [0.6, 0.4], atol=1e-9)   # x_O = 3/5 (spec 3)
    np.testing.assert_allclose(sel.equilibrium.strategies[1], [0.4, 0.6], atol=1e-9)


def test_n_player_sets_select_among_the_equilibria_found_and_refuse_components():
    eqs = rqe.solve_nash(rqe.games.catalog.free_riding_game(n_players=3))
    with pytest.raises(ValueError, match="two-player games only"):
        eqs.components
    sel = eqs.select("welfare")
    assert sel.value == max(float(np.sum(e.payoffs)) for e in eqs) and sel.component is None
    assert "may miss equilibria" in sel.message


def test_bad_criterion_and_json():
    eqs = rqe.solve_nash(rqe.games.catalog.stag_hunt())
    with pytest.raises(ValueError, match="'criterion' parameter of rqe.NashSet.select must be one of"):
        eqs.select("payoff_dominance")
    data = json.loads(json.dumps(eqs.to_dict()))
    assert "game" not in data and len(data["equilibria"]) == 3
    json.dumps(eqs.select("entropy").to_dict())
    json.dumps([c.to_dict() for c in eqs.components])
