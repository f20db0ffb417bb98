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
from scipy.optimize import brentq, minimize

import rqe
from conftest import CERT_TOL, ORACLE_TOL

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
    assert sel.success and abs(sel.criterion_value - best) < ENTROPY_TOL
    assert sel.criterion_value >= best - 1e-12                       # never below the oracle's optimum
    x, y = sel.equilibrium.strategies
    assert abs(_H(x) + _H(y) - sel.criterion_value) < 1e-12 and sel.equilibrium.regret < 1e-9
    comp = eqs.components[sel.component]
    for V, z in zip(comp.vertices, (x, y)):                 # the selection lies in the reported subset
        lam = np.linalg.lstsq(np.vstack([V.T, np.ones(len(V))]), np.append(z, 1.0), rcond=None)[0]
        assert np.allclose(V.T @ lam, z, atol=1e-9)
    welfare = max(sum((Fraction(int(A[i, j] + B[i, j])) * x[i] * y[j]
                       for i in range(A.shape[0]) for j in range(A.shape[1])), Fraction(0)) for x, y in pairs)
    assert abs(eqs.select("welfare").criterion_value - float(welfare)) < 1e-12


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
    assert abs(sel.criterion_value - 2 * np.log(2)) < ENTROPY_TOL
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


# --------------------------------------------------------------------------- traced selections
APPROACH_TOL = 1e-6    # the branch's last point against the selected equilibrium (the selection accepts 1e-5)
GAMBIT_TOL = 1e-3      # pygambit's logit_solve stops at a regret of 1e-8, which leaves a mixed limit ~1e-5 away


def nash_regret(A, B, x, y):
    """Largest gain of a pure deviation, written out for the bimatrix (A, B) (rows: player 1)."""
    A, B, x, y = (np.asarray(v, float) for v in (A, B, x, y))
    return max(float((A @ y).max() - x @ A @ y), float((x @ B).max() - x @ B @ y))


def _check_traced(eqs, sel, A, B):
    """A successful traced selection: a Nash equilibrium, element ``index`` of the set, approached by the branch."""
    x, y = sel.equilibrium.strategies
    assert sel.success and nash_regret(A, B, x, y) <= CERT_TOL
    assert sel.index is not None and sel.distance <= APPROACH_TOL
    for mine, theirs in zip(sel.equilibrium.strategies, eqs[sel.index].strategies):
        np.testing.assert_allclose(mine, theirs, atol=1e-12)
    last = [v[-1] for v in sel.params["strategies"]]
    assert max(np.abs(a - b).sum() for a, b in zip(last, (x, y))) == pytest.approx(sel.distance, abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logit_selects_the_risk_dominant_equilibrium_of_symmetric_coordination_games(seed):
    # Symmetric 2x2 coordination game, row payoffs [[a, b], [c, d]] with a > c, d > b.  Its
    # principal logit branch is symmetric (the player swap maps the branch leaving uniform play to
    # itself), so with p = P(first action): log(p / (1 - p)) = lam * D(p), D(p) = (a - c) p - (d - b)(1 - p).
    # D(1/2) has the sign of (a - c) - (d - b): on the side of 1/2 it points to, lam = logit(p) / D(p)
    # runs from 0 to infinity as p goes from 1/2 to the pure equilibrium, while the other side needs
    # lam < 0 until it passes the mixed equilibrium.  So the limit is the pure equilibrium favoured by
    # (a - c) - (d - b): the risk-dominant one (Harsanyi and Selten 1988).
    rng = np.random.default_rng(seed)
    while True:
        a, b, c, d = rng.integers(0, 10, size=4)
        if a > c and d > b and a - c != d - b:
            break
    R = np.array([[a, b], [c, d]])
    eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(R, R.T))
    sel = eqs.select("logit")
    _check_traced(eqs, sel, R, R.T)
    first = 1.0 if a - c > d - b else 0.0
    for x in sel.equilibrium.strategies:
        np.testing.assert_allclose(x, [first, 1 - first], atol=1e-12)


def test_logit_selection_in_the_battle_of_the_sexes_is_the_mixed_equilibrium():
    eqs = rqe.solve_nash(rqe.games.catalog.battle_of_the_sexes())
    sel = eqs.select("logit")
    np.testing.assert_allclose(sel.equilibrium.strategies[0], [0.6, 0.4], atol=1e-9)   # x_O = 3/5 (spec 3)
    np.testing.assert_allclose(sel.equilibrium.strategies[1], [0.4, 0.6], atol=1e-9)


@pytest.mark.parametrize("criterion", ["logit", "rqe"])
def test_traced_selections_of_chicken_are_its_only_symmetric_equilibrium(criterion):
    # Both branches start at symmetric uniform play in a symmetric game, so they stay symmetric;
    # chicken's pure equilibria are asymmetric, and the symmetric one makes the swerver indifferent:
    # -(1 - p) = p - 10 (1 - p), i.e. p = 9/10.
    game = rqe.games.catalog.chicken()
    A, B = (np.asarray(m, float) for m in game.payoffs)         # rows: player 1's actions
    eqs = rqe.solve_nash(game)
    sel = eqs.select(criterion)
    _check_traced(eqs, sel, A, B)
    for x in sel.equilibrium.strategies:
        np.testing.assert_allclose(x, [0.9, 0.1], atol=1e-12)


def _symmetric_rqe_map(p, R, eps, tau):
    """Spec 2.2-2.3 for a symmetric profile (p, 1 - p) of a symmetric 2x2 game (KL risk, entropy)."""
    x = np.array([p, 1 - p])
    g = x @ R                                  # g_b = sum_a x_a R[a, b]: the player's payoff per partner action
    adversary = x * np.exp(-tau * (g - g.min()))
    adversary /= adversary.sum()
    G = R @ adversary
    return 1.0 / (1.0 + np.exp(-(G[0] - G[1]) / eps)) - p


def test_rqe_breaks_the_tie_of_the_stag_hunt_towards_hare():
    # Catalog stag hunt [[4, 0], [2, 2]]: (a - c) = (d - b) = 2, no equilibrium risk dominates and
    # the logit branch is p = 1/2 for every lam (the mixed equilibrium).  With the KL adversary,
    # g_S - g_H = 4p > 0, so the adversary moves the partner towards hare: at p = 1/2 the symmetric
    # map h(p) = QR(p) - p is negative for every epsilon and tau > 0, while h(0+) > 0.  The branch
    # leaving p = 1/2 at epsilon = inf therefore stays in (0, 1/2); as epsilon -> 0 with tau =
    # epsilon, p = 1/2 - delta would need delta of order -epsilon < 0, so the limit is p = 0: hare.
    game = rqe.games.catalog.stag_hunt()
    R = np.asarray(game.payoffs[0], float)
    eqs = rqe.solve_nash(game)
    logit, limit = eqs.select("logit"), eqs.select("rqe")
    for x in logit.equilibrium.strategies:
        np.testing.assert_allclose(x, [0.5, 0.5], atol=1e-12)
    _check_traced(eqs, limit, R, R.T)
    for x in limit.equilibrium.strategies:
        np.testing.assert_allclose(x, [0.0, 1.0], atol=1e-12)
    eps = limit.params["parameter"]
    p = limit.params["strategies"][0][:, 0]
    assert np.all(p[1:] < 0.5) and np.allclose(p, limit.params["strategies"][1][:, 0], atol=1e-9)
    k = int(np.argmin(np.abs(np.log(eps))))            # the point nearest epsilon = 1, mid-way to the limit
    root = brentq(_symmetric_rqe_map, 1e-12, 0.5, args=(R, eps[k], eps[k]), xtol=1e-14)
    assert abs(p[k] - root) < ORACLE_TOL


def _dominance_solvable(rng, n):
    """A game solved by iterated strict dominance, with the surviving profile found here by brute force."""
    while True:
        A, B = rng.integers(0, 9, size=(2, n, n))
        rows, cols = list(range(n)), list(range(n))
        changed = True
        while changed:
            changed = False
            for r in list(rows):
                if any(all(A[q, c] > A[r, c] for c in cols) for q in rows if q != r):
                    rows.remove(r)
                    changed = True
            for c in list(cols):
                if any(all(B[r, q] > B[r, c] for r in rows) for q in cols if q != c):
                    cols.remove(c)
                    changed = True
        if len(rows) == len(cols) == 1:
            return A, B, rows[0], cols[0]


def test_traced_selections_of_a_dominance_solvable_game_are_its_unique_equilibrium(rng):
    A, B, r, c = _dominance_solvable(rng, 3)
    eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(A, B))
    assert len(eqs) == 1
    for criterion in ("logit", "rqe"):
        sel = eqs.select(criterion)
        _check_traced(eqs, sel, A, B)
        assert sel.index == 0
        assert sel.equilibrium.strategies[0][r] == 1.0 and sel.equilibrium.strategies[1][c] == 1.0


def test_rqe_limit_reports_the_tractability_condition_along_the_branch():
    # Reverse KL with entropy, tau = 4 epsilon: the product (4 epsilon^2)^2 is 1 at epsilon = 1/2 and
    # 1/16 at epsilon = 1/4 (rqe.analysis.tractability, both conditions).
    R = np.array([[2.0, -1.0], [-1.0, 1.0]])            # unique mixed equilibrium: no pure one is stable
    B = -R
    eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(R, B))
    sel = eqs.select("rqe", tau_ratio=4.0, risk="reverse_kl")
    _check_traced(eqs, sel, R, B)
    eps = sel.params["parameter"]
    assert sel.params["tractable"] == [bool(16 * (4 * e * e) ** 2 > 1) for e in eps]
    assert eps[0] > 0.5 and eps[-1] < 0.25 and "epsilon >= 0.5" in sel.message and "epsilon > 0.25" in sel.message
    p = (1 - (-1)) / ((2 - (-1)) - (-1 - 1))            # spec 3: partner's P(first) = 2/5 makes the row player indifferent
    np.testing.assert_allclose(sel.equilibrium.strategies[1], [p, 1 - p], atol=1e-12)


@pytest.mark.parametrize("criterion", ["logit", "rqe"])
def test_traced_selection_in_a_continuum_is_a_point_of_its_maximal_nash_subset(criterion):
    # Player 2 is indifferent, so every QRE and RQE has y = (1/2, 1/2); against it player 1 is
    # indifferent too (and the adversary has nothing to tilt at x = (1/2, 1/2)), so both branches
    # stay at uniform play: a non-extreme point of the segment {y = (1/2, 1/2)} x [x].
    A, B = (np.array(m, float) for m in DEGENERATE["indifferent partner"])
    eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(A, B))
    sel = eqs.select(criterion)
    assert sel.success and sel.index is None and sel.distance <= APPROACH_TOL
    x, y = sel.equilibrium.strategies
    np.testing.assert_allclose(x, [0.5, 0.5], atol=1e-9)
    np.testing.assert_allclose(y, [0.5, 0.5], atol=1e-9)
    assert nash_regret(A, B, x, y) <= CERT_TOL
    X, Y = eqs.components[sel.component].vertices
    assert {tuple(v) for v in Y.round(12) + 0.0} == {(0.5, 0.5)}
    assert {tuple(v) for v in X.round(12) + 0.0} == {(1.0, 0.0), (0.0, 1.0)}


def test_traced_selection_fails_when_the_branch_ends_at_an_equilibrium_missing_from_the_set():
    R = np.array([[5, 0], [4, 2]])                      # hare is risk dominant (see above)
    game = rqe.NormalFormGame.from_bimatrix(R, R.T)
    one = rqe.solve_nash(game, method="lemke_howson")
    assert len(one) == 1 and one[0].strategies[0].tolist() == [1.0, 0.0]      # the stag equilibrium only
    for criterion in ("logit", "rqe"):
        sel = one.select(criterion)
        assert not sel.success and sel.index is None and sel.status == rqe.Status.NUMERICAL
        assert "near none of the 1 equilibria found" in sel.message and "lemke_howson" in sel.message
        assert sel.distance == pytest.approx(2.0, abs=1e-6)                 # l1 from hare to stag
        x, y = sel.equilibrium.strategies                                    # the branch's end: hare, a Nash point
        assert nash_regret(R, R.T, x, y) < 1e-7 and x[1] > 1 - 1e-7


def test_logit_selection_matches_pygambit_and_nashpy(rng):
    gbt = pytest.importorskip("pygambit")
    nashpy = pytest.importorskip("nashpy")
    make = getattr(gbt, "StrategicGame", gbt.Game).from_arrays   # moved in pygambit 17.0
    for _ in range(2):
        A, B = rng.normal(size=(2, 3, 3)).round(3)          # generic: no continua of equilibria
        eqs = rqe.solve_nash(rqe.NormalFormGame.from_bimatrix(A, B))
        sel = eqs.select("logit")
        g = make(A.tolist(), B.tolist())
        theirs = gbt.nash.logit_solve(g).equilibrium
        gambit = [np.array([float(v) for v in _gambit_probabilities(theirs, player)]) for player in g.players]
        gaps = [max(np.abs(a - b).sum() for a, b in zip(eq.strategies, gambit)) for eq in eqs]
        assert sel.success and int(np.argmin(gaps)) == sel.index and gaps[sel.index] < GAMBIT_TOL
        assert any(all(np.allclose(a, b, atol=1e-9) for a, b in zip(sel.equilibrium.strategies, pair))
                   for pair in nashpy.Game(A, B).vertex_enumeration())


def _gambit_probabilities(profile, player):
    """A player's probabilities in a pygambit profile (16.x: Player objects; 17.x: player labels)."""
    if hasattr(player, "strategies"):
        return [profile[s] for s in player.strategies]
    return [p for _, p in profile[player]]


def test_traced_selections_of_a_three_player_game_are_nash():
    game = rqe.games.catalog.free_riding_game(n_players=3)
    eqs = rqe.solve_nash(game)
    for criterion in ("logit", "rqe"):
        sel = eqs.select(criterion)
        assert sel.success and sel.index is not None and sel.component is None and sel.distance <= APPROACH_TOL
        x, y, z = sel.equilibrium.strategies
        T = np.asarray(game.payoffs, float)                               # T[i, a_1, a_2, a_3]
        for i, (u, own) in enumerate(((np.einsum("abc,b,c->a", T[0], y, z), x),
                                      (np.einsum("abc,a,c->b", T[1], x, z), y),
                                      (np.einsum("abc,a,b->c", T[2], x, y), z))):
            assert u.max() - own @ u <= CERT_TOL


def test_n_player_sets_select_among_the_equilibria_found_and_refuse_components():
    eqs = rqe.solve_nash(rqe.games.catalog.free_riding_game(n_players=3))
    with pytest.raises(ValueError, match="two-player games only"):
        eqs.components
    sel = eqs.select("welfare")
    assert sel.criterion_value == max(float(np.sum(e.payoffs)) for e in eqs) and sel.component is None
    assert "may miss equilibria" in sel.message


def test_bad_criterion_and_json():
    eqs = rqe.solve_nash(rqe.games.catalog.stag_hunt())
    with pytest.raises(ValueError, match="'criterion' parameter of rqe.NashSet.select must be one of"):
        eqs.select("payoff_dominance")
    with pytest.raises(ValueError, match="'tau_ratio' parameter of rqe.NashSet.select must be a float in"):
        eqs.select("rqe", tau_ratio=0.0)
    with pytest.raises(ValueError, match="apply to criterion='rqe' only. Got criterion='logit'"):
        eqs.select("logit", tau_ratio=2.0)
    with pytest.raises(ValueError, match="rqe.NashSet.select"):
        eqs.select("rqe", risk="variance")
    data = json.loads(json.dumps(eqs.to_dict()))
    assert "game" not in data and len(data["equilibria"]) == 3
    json.dumps(eqs.select("entropy").to_dict())
    json.dumps(eqs.select("rqe").to_dict())
    json.dumps([c.to_dict() for c in eqs.components])
