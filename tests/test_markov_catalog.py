"""The Markov-game catalog against step functions written here from each game's stated rules.

Every transition row and reward of the small games is compared with a separately written
simulator of the rules (for the MPS grid: the rules read from the authors' ``MAGridWorld``);
multi-step laws and returns are brute-forced by enumeration.
"""

from collections import Counter
from itertools import product

import numpy as np
import pytest
import scipy.sparse as sp

import rqe
from rqe.games import markov_catalog as mc

EXACT = 1e-12      # sums of a handful of probabilities and rewards: only rounding separates the two sides

MOVES = {"right": (1, 0), "up": (0, 1), "left": (-1, 0), "down": (0, -1)}


def parse_pair(name):
    """``"(x1,y1)|(x2,y2)"`` -> ((x1, y1), (x2, y2))."""
    return tuple(tuple(int(v) for v in part.strip("()").split(",")) for part in name.split("|"))


def dense_rows(game, rows=None):
    """Transition rows (all, or the given row numbers) as a dict ``(s, a_1, a_2) -> Counter(next -> probability)``."""
    P = game.transitions.tocsr()
    A = game.n_joint
    out = {}
    for row in range(P.shape[0]) if rows is None else rows:
        s, j = divmod(row, A)
        a = np.unravel_index(j, game.n_actions)
        lo, hi = P.indptr[row], P.indptr[row + 1]
        out[(s, *map(int, a))] = Counter(dict(zip(P.indices[lo:hi].tolist(), P.data[lo:hi].tolist())))
    return out


def by_name(game):
    return {name: s for s, name in enumerate(game.states)}


def assert_same_law(got: Counter, want: Counter):
    keys = set(got) | set(want)
    assert max((abs(got.get(k, 0.0) - want.get(k, 0.0)) for k in keys), default=0.0) < EXACT, (got, want)


# ------------------------------------------------------------------------------------------ MPS grid
def mps_rules(layout, c1, c2, a1, a2, far=0.9, near=0.5):
    """Law of the next pair of cells, written from the rules of MAGridWorld.getPs."""
    height, width = len(layout), len(layout[0])

    def char(c):
        return layout[height - 1 - c[1]][c[0]]

    def inside(c):
        return 0 <= c[0] < width and 0 <= c[1] < height

    p = near if abs(c1[0] - c2[0]) <= 1 and abs(c1[1] - c2[1]) <= 1 else far
    target, around = [], []
    for k, (c, a) in enumerate(((c1, a1), (c2, a2))):
        if char(c) in ("#", str(k), "$"):
            target.append(c)
            around.append([c])
            continue
        dx, dy = MOVES[a]
        t = (c[0] + dx, c[1] + dy)
        target.append(t if inside(t) else c)
        around.append([n for n in ((c[0] + dx, c[1] + dy) for dx, dy in MOVES.values()) if inside(n)])
    law = Counter({tuple(target): p})
    for n1, n2 in product(*around):
        law[(n1, n2)] += (1 - p) / (len(around[0]) * len(around[1]))
    return law


def mps_reward(layout, k, c):
    ch = layout[len(layout) - 1 - c[1]][c[0]]
    return 1.0 if ch in (str(k), "$") else (-2.0 if ch == "#" else 0.1)


@pytest.fixture(scope="module")
def mps():
    return mc.mps_grid()


def test_mps_grid_matches_the_rules_row_by_row(mps):
    layout = mc.MPS_LAYOUT
    names, index = list(mps.states), by_name(mps)
    rows = dense_rows(mps)
    acts = mps.actions[0]
    assert len(rows) == 144 * 16
    for (s, a1, a2), law in rows.items():
        c1, c2 = parse_pair(names[s])
        want = Counter({index["({},{})|({},{})".format(*n1, *n2)]: q
                        for (n1, n2), q in mps_rules(layout, c1, c2, acts[a1], acts[a2]).items()})
        assert_same_law(law, want)
        assert mps.reward(0)[0, s, a1, a2] == mps_reward(layout, 0, c1)
        assert mps.reward(0)[1, s, a1, a2] == mps_reward(layout, 1, c2)
    assert not mps.terminates and mps.horizon == 15 and mps.all_legal


def test_mps_grid_hand_checked_entries(mps):
    P = mps.transition_tensor()
    idx = mps.states.index
    r, u, lft, d = range(4)
    # apart (distance 3): 0.9 on the intended pair; (2,3) has 2 on-grid neighbours, (2,0) too
    assert P[idx("(2,3)|(2,0)"), d, u, idx("(2,2)|(2,1)")] == pytest.approx(0.9 + 0.1 / 4, abs=EXACT)
    # an intended move off the grid stays, and staying gets no slip mass (not a neighbour)
    assert P[idx("(2,3)|(2,0)"), r, d, idx("(2,3)|(2,0)")] == pytest.approx(0.9, abs=EXACT)
    # within one cell (diagonal): 0.5
    # (1,1) has 4 on-grid neighbours, (2,2) has 3
    assert P[idx("(1,1)|(2,2)"), u, d, idx("(1,2)|(2,1)")] == pytest.approx(0.5 + 0.5 / 12, abs=EXACT)
    # player 1 on its goal (0,0) is absorbed; player 2 next to it moves with 0.5 (+ 0.5/3 slip)
    assert P[idx("(0,0)|(1,0)"), u, r, idx("(0,0)|(2,0)")] == pytest.approx(0.5 + 0.5 / 3, abs=EXACT)
    # a cliff absorbs both agents (and the other agent's goal does not absorb)
    assert P[idx("(0,1)|(0,2)"), r, r, idx("(0,1)|(0,2)")] == pytest.approx(1.0, abs=EXACT)
    row = P[idx("(0,3)|(2,0)"), r, u]
    assert row[idx("(1,3)|(2,1)")] == pytest.approx(0.9 + 0.1 / 4, abs=EXACT)
    assert row[[idx(f"(0,3)|({x},{y})") for x in range(3) for y in range(4)]].sum() == 0.0
    assert np.allclose(P.sum(-1), 1.0, atol=EXACT)


def test_mps_grid_three_steps_brute_force(mps):
    """Law and expected return after three steps of uniform play, by enumerating the rules."""
    layout, acts = mc.MPS_LAYOUT, mps.actions[0]
    law = Counter({((2, 3), (2, 0)): 1.0})
    total = np.zeros(2)
    for _ in range(3):
        total += sum(q * np.array([mps_reward(layout, 0, c1), mps_reward(layout, 1, c2)])
                     for (c1, c2), q in law.items())
        new = Counter()
        for (c1, c2), q in law.items():
            for a1, a2 in product(acts, acts):
                for nxt, w in mps_rules(layout, c1, c2, a1, a2).items():
                    new[nxt] += q * w / 16
        law = new
    mu = mps.initial.copy()
    uniform = np.full((mps.n_states, 16), 1 / 16)
    for _ in range(3):
        mu = mps.transitions.T @ (mu[:, None] * uniform).ravel()
    for (c1, c2), q in law.items():
        assert mu[mps.states.index("({},{})|({},{})".format(*c1, *c2))] == pytest.approx(q, abs=EXACT)
    short = mc.mps_grid(horizon=3)
    half = np.full((3, short.n_states, 4), 0.25)
    assert np.allclose(rqe.markov.evaluate(short, [half, half]), total, atol=EXACT)


def test_mps_grid_options():
    shared = mc.mps_grid(layout=("$_", "#_"), horizon=2, start=None)
    assert shared.n_states == 16 and np.allclose(shared.initial, 1 / 16)
    s = shared.states.index("(0,1)|(0,1)")
    assert np.all(shared.reward(0)[:, s] == 1.0)                  # '$' is both agents' goal
    noisy = mc.mps_grid(move_prob=0.25, near_move_prob=0.25)
    rows = dense_rows(noisy)
    c1, c2 = (2, 3), (2, 0)
    s = noisy.states.index("(2,3)|(2,0)")
    want = mps_rules(mc.MPS_LAYOUT, c1, c2, "left", "up", far=0.25, near=0.25)
    assert_same_law(rows[(s, 2, 1)], Counter({noisy.states.index("({},{})|({},{})".format(*a, *b)): q
                                               for (a, b), q in want.items()}))


# ------------------------------------------------------------------------------------------ cliff walk
def cliff_rules(size, c1, c2, a1, a2, far=0.9, near=0.5):
    """Law of the next pair of cells of the two-agent cliff walk, from its stated rules."""
    starts, goals = ((0, 0), (size - 1, size - 1)), ((size - 1, 0), (0, size - 1))

    def is_cliff(c):
        return c[1] in (0, size - 1) and 0 < c[0] < size - 1

    if c1 == goals[0] and c2 == goals[1]:
        return Counter()
    walking = c1 != goals[0] and c2 != goals[1]
    q = near if walking and max(abs(c1[0] - c2[0]), abs(c1[1] - c2[1])) <= 1 else far
    laws = []
    for k, (c, a) in enumerate(((c1, a1), (c2, a2))):
        if c == goals[k]:
            laws.append({c: 1.0})
        elif is_cliff(c):
            laws.append({starts[k]: 1.0})
        else:
            one = Counter()
            for b, (dx, dy) in MOVES.items():
                t = (c[0] + dx, c[1] + dy)
                t = t if 0 <= t[0] < size and 0 <= t[1] < size else c
                one[t] += q if b == a else (1 - q) / 3
            laws.append(one)
    return Counter({(n1, n2): w1 * w2 for n1, w1 in laws[0].items() for n2, w2 in laws[1].items()})


def test_cliff_walk_matches_the_rules_row_by_row():
    size = 4
    game = mc.cliff_walk(size, horizon=10)
    names, index, acts = list(game.states), by_name(game), game.actions[0]
    for (s, a1, a2), law in dense_rows(game).items():
        c1, c2 = parse_pair(names[s])
        want = Counter({index["({},{})|({},{})".format(*n1, *n2)]: q
                        for (n1, n2), q in cliff_rules(size, c1, c2, acts[a1], acts[a2]).items()})
        assert_same_law(law, want)
        for k, c in enumerate((c1, c2)):
            goal = ((size - 1, 0), (0, size - 1))[k]
            cliff = c[1] in (0, size - 1) and 0 < c[0] < size - 1
            assert game.reward(0)[k, s, a1, a2] == (0.0 if c == goal else (-10.0 if cliff else -1.0))
            assert game.legal[k][s].sum() == (1 if c == goal or cliff else 4)


def test_cliff_walk_6x6_shapes_sums_and_reachability():
    game = mc.cliff_walk()
    S = 36 * 36
    assert (game.n_states, game.n_joint, game.horizon) == (S, 16, 200)
    P = game.transitions
    assert sp.issparse(P) and np.diff(P.indptr).max() <= 16
    sums = np.asarray(P.sum(axis=1)).ravel()
    done = game.states.index("(5,0)|(0,5)")
    assert np.all(sums[done * 16:(done + 1) * 16] == 0) and game.terminates
    assert np.allclose(np.delete(sums, np.s_[done * 16:(done + 1) * 16]), 1.0, atol=EXACT)
    # breadth-first search from the start over the support: both goals are 7 moves away
    adjacency = sp.csr_array((np.ones(P.nnz), P.indices, P.indptr), shape=P.shape)
    frontier = np.zeros(S, bool)
    frontier[int(game.initial.argmax())] = True
    seen, steps = frontier.copy(), 0
    while not seen[done]:
        rows = np.flatnonzero(np.repeat(frontier, 16))
        frontier = np.zeros(S, bool)
        frontier[adjacency[rows].indices] = True
        frontier &= ~seen
        seen |= frontier
        steps += 1
    assert steps == 7
    rng = np.random.default_rng(5)
    names, acts = list(game.states), game.actions[0]
    sample = rng.choice(S * 16, 60, replace=False)
    rows = dense_rows(game, sample)
    for row in sample:
        s, a1, a2 = int(row) // 16, int(row) % 16 // 4, int(row) % 4
        c1, c2 = parse_pair(names[s])
        want = Counter({names.index("({},{})|({},{})".format(*n1, *n2)): q
                        for (n1, n2), q in cliff_rules(6, c1, c2, acts[a1], acts[a2]).items()})
        assert_same_law(rows[(s, a1, a2)], want)


def test_cliff_walk_discounted_and_options():
    game = mc.cliff_walk(3, horizon=None, discount=0.9, move_prob=1.0, step_reward=-2.0, cliff_reward=-5.0)
    assert game.discount == 0.9 and game.n_states == 81
    s = game.states.index("(0,0)|(2,2)")
    P = game.transition_tensor()
    assert P[s, 1, 3, game.states.index("(0,1)|(2,1)")] == 1.0      # deterministic moves: up and down
    assert P[s, 0, 2, game.states.index("(1,0)|(1,2)")] == 1.0      # right and left, both onto cliffs
    s = game.states.index("(1,0)|(1,2)")
    assert np.all(game.reward(0)[:, s] == -5.0)
    assert P[s, 0, 0, game.states.index("(0,0)|(2,2)")] == 1.0      # back to the starts


# ------------------------------------------------------------------------------------------ corridor
def parse_corridor(name):
    p1, p2, waiting = name.split()
    return (int(p1[3:].rstrip("+")), p1.endswith("+"), int(p2[3:].rstrip("+")), p2.endswith("+"),
            int(waiting.split("=")[1]))


def corridor_rules(length, state, a1, a2, reward=1.0, cost=0.4):
    """(rewards, law of the next state or None for the end) of the volunteer corridor."""
    x1, k1, x2, k2, m = state
    last = length - 1
    pos, load, r = [], [], np.zeros(2)
    for k, (x, c, a) in enumerate(((x1, k1, a1), (x2, k2, a2))):
        y = x + {"left": -1, "right": 1, "idle": 0}[a]
        assert 0 <= y <= last
        if c and y != x:
            r[k] -= cost / last
        if c and y == last:
            c = False
            r += reward
        pos.append(y)
        load.append(c)
    empty_at_depot = [k for k in range(2) if pos[k] == 0 and not load[k]]
    outcomes = Counter()
    if len(empty_at_depot) == 2 and m == 1:
        picks = [((0,), 0.5), ((1,), 0.5)]
    else:
        picks = [(tuple(empty_at_depot[:m]), 1.0)]
    for who, q in picks:
        new = [load[k] or k in who for k in range(2)]
        nxt = (pos[0], new[0], pos[1], new[1], m - len(who))
        if nxt[1] or nxt[3] or nxt[4]:
            outcomes[nxt] += q
    return r, outcomes


@pytest.mark.parametrize("length, orders", [(3, 2), (4, 1), (2, 3)])
def test_volunteer_corridor_matches_the_rules(length, orders):
    game = mc.volunteer_corridor(length, horizon=5, orders=orders)
    states = [parse_corridor(n) for n in game.states]
    index = {t: s for s, t in enumerate(states)}
    acts = game.actions[0]
    rows = dense_rows(game)
    for s, t in enumerate(states):
        for k, x in ((0, t[0]), (1, t[2])):
            assert game.legal[k][s].tolist() == [x > 0, x < length - 1, True]
        for a1, a2 in product(range(3), range(3)):
            if not (game.legal[0][s, a1] and game.legal[1][s, a2]):
                continue
            r, law = corridor_rules(length, t, acts[a1], acts[a2])
            assert np.allclose(game.reward(0)[:, s, a1, a2], r, atol=EXACT)
            assert_same_law(rows[(s, a1, a2)], Counter({index[n]: q for n, q in law.items()}))
    assert states[int(game.initial.argmax())] == (length - 1, False, length - 1, False, orders)


def _policy(game, horizon, rule):
    pol = np.zeros((horizon, game.n_states, 3))
    for s, name in enumerate(game.states):
        x, carrying = parse_corridor(name)[rule[0]], parse_corridor(name)[rule[0] + 1]
        if rule[1] == "idle":
            a = 2
        else:
            a = 1 if carrying else (0 if x > 0 else 2)
        pol[:, s, a] = 1.0
    return pol


@pytest.mark.parametrize("length, orders, horizon", [(3, 2, 8), (4, 3, 18), (3, 2, 5)])
def test_volunteer_corridor_solo_work_return_by_hand(length, orders, horizon):
    """One agent works (out empty, back loaded), the other idles: returns by hand."""
    reward, cost = 1.0, 0.4
    game = mc.volunteer_corridor(length, horizon=horizon, orders=orders, reward=reward, cost=cost)
    trip = 2 * (length - 1)                                   # steps per order, alone
    done = min(orders, horizon // trip)                        # orders delivered in time
    partial = max(0, horizon - done * trip - (length - 1)) if done < orders else 0   # loaded moves of the next one
    worker = done * (reward - cost) - partial * cost / (length - 1)
    values = rqe.markov.evaluate(game, [_policy(game, horizon, (0, "work")), _policy(game, horizon, (2, "idle"))])
    assert values == pytest.approx([worker, done * reward], abs=EXACT)
    # both working: each carries one order at the same time; the game ends after one trip
    both = [_policy(game, horizon, (0, "work")), _policy(game, horizon, (2, "work"))]
    if orders == 2 and horizon >= trip:
        assert rqe.markov.evaluate(game, both) == pytest.approx([2 * reward - cost] * 2, abs=EXACT)
        runs = rqe.markov.rollout(game, both, 50, rng=np.random.default_rng(1))
        assert np.all(runs.lengths == trip)


def test_volunteer_corridor_tie_at_the_depot():
    game = mc.volunteer_corridor(3, horizon=4, orders=1)
    s = game.states.index("P1@1 P2@1 waiting=1")
    P = game.transition_tensor()
    assert P[s, 0, 0, game.states.index("P1@0+ P2@0 waiting=0")] == 0.5
    assert P[s, 0, 0, game.states.index("P1@0 P2@0+ waiting=0")] == 0.5
    delivered = game.states.index("P1@1+ P2@2 waiting=0")
    assert P[delivered, 1, 2].sum() == 0.0 and np.all(game.reward(0)[:, delivered, 1, 2] == [0.8, 1.0])


# ------------------------------------------------------------------------------------------ random games
def test_random_markov_game_shapes_sums_and_seeds():
    make = mc.random_markov_game
    g = make(50, (2, 3), discount=0.8, density=0.1, stop=0.25, rng=np.random.default_rng(3))
    assert (g.n_states, g.n_actions, g.discount) == (50, (2, 3), 0.8)
    P = g.transitions
    assert np.diff(P.indptr).max() <= 5
    assert np.allclose(np.asarray(P.sum(axis=1)).ravel(), 0.75, atol=EXACT) and g.terminates
    assert np.all(np.abs(g.rewards) <= 1) and np.allclose(g.initial, 1 / 50)
    assert make(50, (2, 3), discount=0.8, density=0.1, stop=0.25, rng=np.random.default_rng(3)) == g
    assert make(50, (2, 3), discount=0.8, density=0.1, stop=0.25, rng=np.random.default_rng(4)) != g
    three = make(7, 2, n_players=3, horizon=4, rng=np.random.default_rng(0))
    assert three.n_actions == (2, 2, 2) and three.horizon == 4 and not three.terminates
    assert np.diff(three.transitions.indptr).max() <= 7 and three.transitions.shape == (56, 7)
    big = make(2000, 3, discount=0.9, rng=np.random.default_rng(0))
    assert big.transitions.nnz <= 2000 * 9 * 8


def test_recommended_parameters_are_fresh_and_solve_kwargs():
    p = mc.recommended_parameters("cliff_walk")
    p["tau"] = -1
    assert mc.recommended_parameters("cliff_walk")["tau"] == 5.0
    game = mc.random_markov_game(6, 2, horizon=3, rng=np.random.default_rng(0))
    assert rqe.solve_markov(game, **mc.recommended_parameters("random_markov_game")).success
    assert rqe.games.markov_catalog is mc


@pytest.mark.parametrize("call, match", [
    (lambda: mc.mps_grid(layout="1__"), "'layout' parameter .* sequence of strings"),
    (lambda: mc.mps_grid(layout=("1_", "#")), "'layout' parameter .* equal length"),
    (lambda: mc.mps_grid(layout=("1x",)), "'layout' parameter"),
    (lambda: mc.mps_grid(horizon=0), "'horizon' parameter"),
    (lambda: mc.mps_grid(move_prob=1.5), "'move_prob' parameter .* \\[0, 1\\]"),
    (lambda: mc.mps_grid(near_move_prob=True), "'near_move_prob' parameter"),
    (lambda: mc.mps_grid(goal_reward=np.inf), "'goal_reward' parameter .* finite float"),
    (lambda: mc.mps_grid(start=((5, 5), (0, 0))), "'start' parameter"),
    (lambda: mc.mps_grid(start=(1, 2)), "'start' parameter"),
    (lambda: mc.cliff_walk(2), "'size' parameter .* int >= 3"),
    (lambda: mc.cliff_walk(discount=0.9), "exactly one of 'horizon'"),
    (lambda: mc.cliff_walk(horizon=None), "exactly one of 'horizon'"),
    (lambda: mc.cliff_walk(cliff_reward="a"), "'cliff_reward' parameter"),
    (lambda: mc.volunteer_corridor(1), "'length' parameter .* int >= 2"),
    (lambda: mc.volunteer_corridor(orders=0), "'orders' parameter"),
    (lambda: mc.volunteer_corridor(cost=np.nan), "'cost' parameter"),
    (lambda: mc.random_markov_game(0, 2, horizon=2, rng=np.random.default_rng()), "'n_states' parameter"),
    (lambda: mc.random_markov_game(3, (2,), horizon=2, rng=np.random.default_rng()), "'n_actions' parameter"),
    (lambda: mc.random_markov_game(3, "2", horizon=2, rng=np.random.default_rng()), "'n_actions' parameter"),
    (lambda: mc.random_markov_game(3, 2, n_players=1, horizon=2, rng=np.random.default_rng()), "'n_players'"),
    (lambda: mc.random_markov_game(3, 2, rng=np.random.default_rng()), "exactly one of 'horizon'"),
    (lambda: mc.random_markov_game(3, 2, horizon=2, density=0.0, rng=np.random.default_rng()),
     "'density' parameter .* \\(0, 1\\]"),
    (lambda: mc.random_markov_game(3, 2, horizon=2, stop=-0.1, rng=np.random.default_rng()), "'stop' parameter"),
    (lambda: mc.recommended_parameters("grid"), "'name' parameter"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="'rng' parameter .* numpy.random.Generator"):
        mc.random_markov_game(3, 2, horizon=2, rng=0)
