"""A catalog of Markov games: the MPS grid world, a two-agent cliff walk, a volunteer corridor, random games.

Every function returns a :class:`rqe.MarkovGame` with names for its players, actions and
states, and documents the rules it implements and where each rule comes from.
:func:`recommended_parameters` gives keyword arguments of :func:`rqe.solve_markov` for each
game.

* :func:`mps_grid`: the two-agent 4x3 grid world of Mazumdar, Panaganti and Shi (ICLR 2025),
  with the rules read from their code (``MAGridWorld`` in ``RISK_MARL.py`` of the repository
  ``kishanpb/Risk-averse-Quantal-Equilibria``, commit bab5193).
* :func:`cliff_walk`: a two-agent version of Sutton and Barto's cliff walk (*Reinforcement
  Learning*, 2nd ed., Example 6.6) on a 6x6 grid, designed here; the MPS paper's own 6x6
  Cliff Walk with horizon 200 is known only from a third-party digest, so this is a
  reconstruction of that setting, not a copy of it.
* :func:`volunteer_corridor`: a small cooperative game, designed here, whose orders can be
  carried by either agent: the Markov analogue of :func:`rqe.games.catalog.free_riding_game`.
* :func:`random_markov_game`: seeded random games with sparse transitions.

Coordinates in the grid games are ``(x, y)``, the column from the left and the row from the
bottom.  A joint state of two agents is indexed ``s = c_1 * n_cells + c_2`` (C order over
the agents' cells ``c_k``) and named ``"(x1,y1)|(x2,y2)"``.

Examples
--------
>>> from rqe.games import markov_catalog
>>> game = markov_catalog.mps_grid()
>>> game.n_states, game.n_actions, game.horizon
(144, (4, 4), 15)
>>> game.states[int(game.initial.argmax())]
'(2,3)|(2,0)'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from rqe._validation import positive_int
from rqe.games.markov import MarkovGame

__all__ = ["mps_grid", "cliff_walk", "volunteer_corridor", "random_markov_game", "recommended_parameters"]

_MOD = "rqe.games.markov_catalog"

# The 4x3 layout of the MPS authors' script (``Testworld``), top row first: '0'/'1' are the goals of
# player 1/player 2 (the code's agents 0 and 1), '#' a cliff, '_' a free cell.
MPS_LAYOUT = ("1__", "#__", "#__", "0__")

_MOVES = ((1, 0), (0, 1), (-1, 0), (0, -1))        # the MPS code's action order: right, up, left, down
_MOVE_NAMES = ("right", "up", "left", "down")

_RECOMMENDED = {
    "mps_grid": {"tau": (0.1, 0.1), "epsilon": (10.0, 10.0), "risk": "kl", "regularizer": "log_barrier",
                 "env_risk": "entropic", "value": "risk_adjusted"},
    "cliff_walk": {"tau": 5.0, "epsilon": 0.3, "risk": "kl", "regularizer": "entropy", "env_risk": None,
                   "value": "regularized"},
    "volunteer_corridor": {"tau": 1.0, "epsilon": 0.1, "risk": "kl", "regularizer": "entropy", "env_risk": None,
                           "value": "regularized"},
    "random_markov_game": {"tau": 0.5, "epsilon": 1.0, "risk": "kl", "regularizer": "entropy", "env_risk": None,
                           "value": "regularized"},
}


# ---------------------------------------------------------------------------------------- checks
def _probability(value, name: str, func: str, *, low_open: bool = False) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and np.isfinite(value) and (0 < value <= 1 if low_open else 0 <= value <= 1))
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"The {name!r} parameter of {_MOD}.{func} must be a float in {interval}. "
                         f"Got {value!r} instead.")
    return float(value)


def _real(value, name: str, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise ValueError(f"The {name!r} parameter of {_MOD}.{func} must be a finite float. Got {value!r} instead.")
    return float(value)


def _time(horizon, discount, func: str):
    if (horizon is None) == (discount is None):
        raise ValueError(f"{_MOD}.{func} needs exactly one of 'horizon' (an int >= 1) and 'discount' (a float in "
                         f"[0, 1)); pass horizon=None with a discount. Got horizon={horizon!r} and "
                         f"discount={discount!r}.")
    if horizon is not None:
        positive_int(horizon, name="horizon", func=f"{_MOD}.{func}")
    return horizon, discount


# ---------------------------------------------------------------------------------------- MPS grid
def _parse_layout(layout, func: str):
    """Cells ``(x, y)`` (y = 0 is the last string), the goal cells of each agent and the cliffs."""
    if isinstance(layout, str) or not isinstance(layout, Sequence) or len(layout) == 0 \
            or not all(isinstance(row, str) for row in layout):
        raise ValueError(f"The 'layout' parameter of {_MOD}.{func} must be a sequence of strings, one per row, top "
                         f"row first. Got {layout!r} instead.")
    width = len(layout[0])
    if width == 0 or any(len(row) != width for row in layout) or any(set(row) - set("_#01$") for row in layout):
        raise ValueError(f"The 'layout' parameter of {_MOD}.{func} must hold rows of equal length made of '_' "
                         f"(free), '#' (cliff), '0', '1' (goal of player 1, 2) and '$' (goal of both). "
                         f"Got {list(layout)!r}.")
    height = len(layout)
    goals, cliffs = [set(), set()], set()
    for j, row in enumerate(layout):
        for x, ch in enumerate(row):
            cell = (x, height - 1 - j)
            if ch == "#":
                cliffs.add(cell)
            elif ch in "01":
                goals[int(ch)].add(cell)
            elif ch == "$":
                goals[0].add(cell)
                goals[1].add(cell)
    return width, height, goals, cliffs


def _cell_name(c) -> str:
    return f"({c[0]},{c[1]})"


def mps_grid(*, layout: Sequence[str] = MPS_LAYOUT, horizon: int = 15, move_prob: float = 0.9,
             near_move_prob: float = 0.5, goal_reward: float = 1.0, cliff_reward: float = -2.0,
             step_reward: float = 0.1, start=((2, 3), (2, 0))) -> MarkovGame:
    """The two-agent grid world of Mazumdar, Panaganti and Shi (ICLR 2025), as in their code.

    Two agents walk on the grid ``layout`` (default ``['1__', '#__', '#__', '0__']``, 4 rows
    by 3 columns: player 2's goal top left, two cliff cells below it, player 1's goal bottom
    left) for ``horizon`` steps; 144 joint states, 4 x 4 joint actions.

    Rules, each read from ``MAGridWorld`` (``getPs``, ``getRs``, ``qlearn``) in
    ``RISK_MARL.py`` of ``kishanpb/Risk-averse-Quantal-Equilibria`` (commit bab5193) unless
    marked *reconstructed*:

    1. Actions right, up, left, down (the code's order 0-3).  Rewards depend on the agent's
       own cell only, not on the actions: ``goal_reward`` (+1) on its own goal,
       ``cliff_reward`` (-2) on a cliff, ``step_reward`` (+0.1) anywhere else, including the
       other agent's goal.  They are collected at every one of the ``horizon`` steps,
       the first included.
    2. An agent on its own goal or on a cliff stays there for ever (absorbing) and keeps
       collecting that cell's reward; the other agent's goal is an ordinary cell.  The game
       never ends before the horizon (every transition row sums to 1).
    3. Both agents' moves succeed together with probability ``p``: ``near_move_prob`` (0.5)
       when the agents are within one cell of each other (Chebyshev distance <= 1, the same
       cell included, whether or not an agent is absorbed), ``move_prob`` (0.9) otherwise.
       An intended move off the grid leaves that agent in place.
    4. With probability ``1 - p`` the *pair* moves to a joint cell drawn uniformly from the
       product of the agents' on-grid neighbour cells (the cells one move away; an absorbed
       agent's only "neighbour" is its own cell).  The slip is one joint event, not two
       independent ones, and a non-absorbed agent never stays put by slipping.
    5. No collisions: the agents may share a cell.
    6. *Reconstructed:* the start.  The script solves every joint state and draws paths from
       a start given by hand (``viewPath``), so no start is fixed; by default player 1 starts
       top right ``(2, 3)`` and player 2 bottom right ``(2, 0)``, each five moves from its goal
       by a path along the cliffs (column 1) or one away from them (column 2), which meet.
       ``start=None`` gives the uniform law over all joint states.

    Parameters
    ----------
    layout : sequence of str
        Rows top first; ``'_'`` free, ``'#'`` cliff, ``'0'``/``'1'`` goal of player 1/2,
        ``'$'`` goal of both.
    horizon : int, default 15
    move_prob, near_move_prob : float
        Probability that the intended joint move happens, agents apart / within one cell.
    goal_reward, cliff_reward, step_reward : float
    start : pair of (x, y) cells or None
        Cells of player 1 and player 2 at the first step (``(x, y)``, ``y = 0`` the bottom
        row), or ``None`` for a uniform initial law.

    Returns
    -------
    MarkovGame
        States ``c_1 * n_cells + c_2`` with cells ``c = y * width + x`` (the code's
        numbering), named ``"(x1,y1)|(x2,y2)"``.

    Notes
    -----
    The authors solve it with ``tau = (0.1, 0.1)``, ``epsilon = (10, 10)``, KL risk and a
    log-barrier regulariser, and back up ``-(1/tau) log E exp(-tau V)`` (the entropic
    environment risk with the strategic ``tau``) of a value without the regulariser:
    :func:`recommended_parameters` ``("mps_grid")``.

    Examples
    --------
    >>> import rqe
    >>> from rqe.games.markov_catalog import mps_grid
    >>> game = mps_grid()
    >>> game.actions[0]
    ('right', 'up', 'left', 'down')
    >>> s = game.states.index("(2,3)|(2,0)")
    >>> P = game.transition_tensor()
    >>> nxt = game.states.index("(2,2)|(2,1)")       # both step towards the other: down, up
    >>> round(float(P[s, 3, 1, nxt]), 6)             # 0.9 + 0.1 / (2 * 2 neighbour pairs)
    0.925

    Solved as the authors do (over three steps here, to keep the example short):

    >>> kwargs = rqe.games.markov_catalog.recommended_parameters("mps_grid")
    >>> res = rqe.solve_markov(mps_grid(horizon=3), **kwargs)
    >>> res.success, res.policies[0].shape
    (True, (3, 144, 4))
    """
    func = "mps_grid"
    width, height, goals, cliffs = _parse_layout(layout, func)
    horizon = positive_int(horizon, name="horizon", func=f"{_MOD}.{func}")
    move_prob = _probability(move_prob, "move_prob", func)
    near_move_prob = _probability(near_move_prob, "near_move_prob", func)
    r_goal, r_cliff, r_step = (_real(v, n, func) for v, n in ((goal_reward, "goal_reward"),
                                                               (cliff_reward, "cliff_reward"),
                                                               (step_reward, "step_reward")))
    cells = [(x, y) for y in range(height) for x in range(width)]
    index = {c: k for k, c in enumerate(cells)}
    C = len(cells)

    def absorbed(k, c):
        return c in cliffs or c in goals[k]

    def options(k, c):
        """(cell after each intended action, the on-grid neighbour cells) of agent k at c."""
        if absorbed(k, c):
            return [c] * 4, [c]
        after, neighbours = [], []
        for dx, dy in _MOVES:
            nxt = (c[0] + dx, c[1] + dy)
            on_grid = nxt in index
            after.append(nxt if on_grid else c)
            if on_grid:
                neighbours.append(nxt)
        return after, neighbours

    rows, cols, vals = [], [], []
    rewards = np.zeros((2, C * C, 4, 4))
    for c1 in cells:
        after1, nb1 = options(0, c1)
        for c2 in cells:
            after2, nb2 = options(1, c2)
            s = index[c1] * C + index[c2]
            p = near_move_prob if max(abs(c1[0] - c2[0]), abs(c1[1] - c2[1])) <= 1 else move_prob
            for k, c in enumerate((c1, c2)):
                rewards[k, s] = r_goal if c in goals[k] else (r_cliff if c in cliffs else r_step)
            slip = (1.0 - p) / (len(nb1) * len(nb2))
            spread = np.array([index[a] * C + index[b] for a in nb1 for b in nb2])
            for a1 in range(4):
                for a2 in range(4):
                    row = (s * 4 + a1) * 4 + a2
                    rows += [row] * (len(spread) + 1)
                    cols += [*spread, index[after1[a1]] * C + index[after2[a2]]]
                    vals += [slip] * len(spread) + [p]
    P = sp.csr_array(sp.coo_array((vals, (rows, cols)), shape=(C * C * 16, C * C)))   # duplicates are summed
    if start is None:
        initial = None
    else:
        try:
            s1, s2 = (tuple(int(v) for v in c) for c in start)
            initial = np.zeros(C * C)
            initial[index[s1] * C + index[s2]] = 1.0
        except (TypeError, ValueError, KeyError):
            raise ValueError(f"The 'start' parameter of {_MOD}.{func} must be None or two (x, y) cells of the "
                             f"{width}x{height} grid. Got {start!r} instead.") from None
    names = [f"{_cell_name(a)}|{_cell_name(b)}" for a in cells for b in cells]
    return MarkovGame(rewards, P, initial=initial, horizon=horizon, players=("P1", "P2"),
                      actions=(_MOVE_NAMES, _MOVE_NAMES), states=names)


# ---------------------------------------------------------------------------------------- cliff walk
def cliff_walk(size: int = 6, horizon: int | None = 200, *, discount: float | None = None, move_prob: float = 0.9,
               near_move_prob: float = 0.5, step_reward: float = -1.0, cliff_reward: float = -10.0) -> MarkovGame:
    """A two-agent cliff walk on a ``size`` x ``size`` grid (``size**4`` joint states: 1,296 for 6x6).

    Designed here after Sutton and Barto's cliff walk (*Reinforcement Learning*, 2nd ed.,
    Example 6.6), with the proximity rule of the MPS grid (:func:`mps_grid`); the MPS paper's
    own 6x6 Cliff Walk (horizon 200) is known only from a digest, so the layout below is a
    reconstruction, not the authors'.

    Rules:

    1. Cliffs fill the bottom and the top row except their end cells.  Player 1 walks the
       bottom edge, from ``(0, 0)`` to its goal ``(size-1, 0)``; player 2 the top edge the
       other way, from ``(size-1, size-1)`` to ``(0, size-1)``.  Hugging one's own edge is
       short but next to a cliff; keeping away from it leads towards the middle rows, where
       the other agent walks.
    2. Actions right, up, left, down.  An agent's intended move succeeds with probability
       ``move_prob``, or ``near_move_prob`` when both agents are still walking and within
       one cell of each other (Chebyshev distance <= 1); otherwise it moves in one of the
       other three directions, uniformly.  The agents slip independently.  A move off the
       grid leaves the agent in place.  No collisions: agents may share a cell.
    3. Rewards depend on the agent's own cell: ``step_reward`` (-1) on an ordinary cell,
       ``cliff_reward`` (-10) on a cliff cell, 0 on its own goal.  An agent on a cliff cell is
       sent back to its start at the next step whatever it does; an agent on its goal stays
       there (done).  In a cliff cell or on its goal an agent has one legal action (its
       action does not matter there).
    4. The game ends when both agents are on their goals (those transition rows have no
       mass, see :class:`rqe.MarkovGame`), or at the horizon.

    Parameters
    ----------
    size : int, default 6
        Side of the grid, at least 3.
    horizon : int or None, default 200
        Number of steps; pass ``horizon=None`` with ``discount`` for a discounted game.
    discount : float, optional
    move_prob, near_move_prob : float
    step_reward, cliff_reward : float

    Returns
    -------
    MarkovGame
        Sparse transitions (at most 16 successors per row); states
        ``c_1 * size**2 + c_2`` with cells ``c = y * size + x``, named ``"(x1,y1)|(x2,y2)"``;
        the game starts in ``"(0,0)|(size-1,size-1)"``.

    Examples
    --------
    >>> from rqe.games.markov_catalog import cliff_walk
    >>> game = cliff_walk()
    >>> game.n_states, game.n_joint, game.horizon, game.terminates
    (1296, 16, 200, True)
    >>> game.states[int(game.initial.argmax())]
    '(0,0)|(5,5)'
    >>> small = cliff_walk(3, horizon=None, discount=0.9)
    >>> small.n_states, small.discount
    (81, 0.9)
    """
    func = "cliff_walk"
    size = positive_int(size, name="size", func=f"{_MOD}.{func}", low=3)
    horizon, discount = _time(horizon, discount, func)
    move_prob = _probability(move_prob, "move_prob", func)
    near_move_prob = _probability(near_move_prob, "near_move_prob", func)
    r_step, r_cliff = _real(step_reward, "step_reward", func), _real(cliff_reward, "cliff_reward", func)
    C = size * size
    xy = np.array([(c % size, c // size) for c in range(C)])
    cliff = np.zeros(C, bool)
    for y in (0, size - 1):
        cliff[y * size + 1:y * size + size - 1] = True
    starts = (0, C - 1)
    goals = (size - 1, C - size)
    # after[c, a]: the cell reached by moving in direction a from c (off the grid: c itself)
    after = np.empty((C, 4), dtype=int)
    for a, (dx, dy) in enumerate(_MOVES):
        x, y = xy[:, 0] + dx, xy[:, 1] + dy
        inside = (x >= 0) & (x < size) & (y >= 0) & (y < size)
        after[:, a] = np.where(inside, y * size + x, np.arange(C))

    c1, c2 = np.divmod(np.arange(C * C), C)
    walking = (c1 != goals[0]) & (c2 != goals[1])
    near = walking & (np.abs(xy[c1] - xy[c2]).max(axis=1) <= 1)
    same = np.eye(4, dtype=bool)

    def successors(k, c):
        """(cells, weights), each (S, 4, 4): agent k's next cell per (joint state, action, slip direction)."""
        prob = np.where(near, near_move_prob, move_prob)[:, None, None]
        weight = np.where(same, prob, (1.0 - prob) / 3.0)
        cells = np.broadcast_to(after[c][:, None, :], weight.shape).copy()
        for fixed, target in ((cliff[c], starts[k]), (c == goals[k], goals[k])):
            cells[fixed], weight[fixed] = target, np.where(same[0], 1.0, 0.0)
        return cells, weight

    (n1, w1), (n2, w2) = successors(0, c1), successors(1, c2)
    # joint row (s, a1, a2), successor slots (b1, b2): the agents slip independently
    cols = n1[:, :, None, :, None] * C + n2[:, None, :, None, :]
    vals = w1[:, :, None, :, None] * w2[:, None, :, None, :]
    vals = vals * ~((c1 == goals[0]) & (c2 == goals[1]))[:, None, None, None, None]   # both done: the game ends
    rows = np.broadcast_to(np.arange(C * C * 16).reshape(C * C, 4, 4)[..., None, None], cols.shape)
    P = sp.csr_array(sp.coo_array((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(C * C * 16, C * C)))
    rewards = np.zeros((2, C * C, 4, 4))
    for k, c in enumerate((c1, c2)):
        r = np.where(cliff[c], r_cliff, r_step)
        r[c == goals[k]] = 0.0
        rewards[k] = r[:, None, None]
    legal = []
    for k, c in enumerate((c1, c2)):
        one = cliff[c] | (c == goals[k])
        mask = np.ones((C * C, 4), bool)
        mask[one, 1:] = False
        legal.append(mask)
    initial = np.zeros(C * C)
    initial[starts[0] * C + starts[1]] = 1.0
    names = [f"{_cell_name(xy[a])}|{_cell_name(xy[b])}" for a, b in zip(c1, c2)]
    return MarkovGame(rewards, P, initial=initial, horizon=horizon, discount=discount, legal=legal,
                      players=("P1", "P2"), actions=(_MOVE_NAMES, _MOVE_NAMES), states=names)


# ---------------------------------------------------------------------------------------- corridor
_CORRIDOR_ACTIONS = ("left", "right", "idle")


def volunteer_corridor(length: int = 3, horizon: int | None = 8, *, orders: int = 2, reward: float = 1.0,
                       cost: float = 0.4, discount: float | None = None) -> MarkovGame:
    """Two agents in a corridor deliver orders for a shared reward; carrying costs the carrier.

    Designed here as the Markov analogue of the free-riding game
    (:func:`rqe.games.catalog.free_riding_game`, Example 5 of Qu et al., arXiv 2602.21515):
    every order needs one unit of work by one agent, so either agent can deliver all of them
    while the other idles.

    Rules:

    1. Cells ``0 .. length-1``; ``orders`` orders wait at the depot, cell 0; the delivery
       point is cell ``length-1``, where both agents start, empty-handed.
    2. Actions left, right, idle (left is illegal in cell 0, right in the last cell).  Moves
       are deterministic.  Walking empty-handed is free; every move of an agent carrying an
       order costs it ``cost / (length - 1)``, so carrying one order from the depot to the
       delivery point costs the carrier ``cost`` (one unit of work).
    3. An empty-handed agent in the depot after the move takes a waiting order (when one
       order waits and both arrive, each takes it with probability 1/2).  An agent that
       reaches the delivery point with an order delivers it: **both** agents receive
       ``reward``.
    4. The game ends when every order is delivered (those transitions carry no mass), or at
       the horizon.

    Delivering all orders alone takes ``2 (length - 1)`` steps per order; the default
    horizon (8) is just enough for one agent to deliver both orders, so the free rider
    gains ``orders * reward`` and the worker ``orders * (reward - cost)``, while two workers
    finish in half the time.

    Parameters
    ----------
    length : int, default 3
        Number of cells, at least 2.
    horizon : int or None, default 8
        Pass ``horizon=None`` with ``discount`` for a discounted game.
    orders : int, default 2
    reward : float, default 1.0
        Shared reward per delivered order.
    cost : float, default 0.4
        The carrier's private cost of carrying one order the whole way.
    discount : float, optional

    Returns
    -------
    MarkovGame
        The states are the reachable tuples (position and load of each agent, orders waiting),
        named like ``"P1@0+ P2@2 waiting=1"`` (``+``: carrying an order).

    Examples
    --------
    >>> import rqe
    >>> from rqe.games.markov_catalog import volunteer_corridor
    >>> game = volunteer_corridor()
    >>> game.n_states, game.actions[0], game.states[int(game.initial.argmax())]
    (32, ('left', 'right', 'idle'), 'P1@2 P2@2 waiting=2')

    Player 1 does all the work (left when empty-handed, right when carrying) while player 2
    idles:

    >>> import numpy as np
    >>> work, idle = np.zeros((8, game.n_states, 3)), np.zeros((8, game.n_states, 3))
    >>> idle[..., 2] = 1
    >>> for s, name in enumerate(game.states):
    ...     carrying = name.split()[0].endswith("+")
    ...     work[:, s, 1 if carrying else (0 if game.legal[0][s, 0] else 2)] = 1
    >>> rqe.markov.evaluate(game, [work, idle]).round(9).tolist()      # 2 (1 - 0.4) and 2 * 1
    [1.2, 2.0]
    """
    func = "volunteer_corridor"
    length = positive_int(length, name="length", func=f"{_MOD}.{func}", low=2)
    orders = positive_int(orders, name="orders", func=f"{_MOD}.{func}")
    horizon, discount = _time(horizon, discount, func)
    reward, cost = _real(reward, "reward", func), _real(cost, "cost", func)
    last = length - 1
    step_cost = cost / last

    def valid(x1, k1, x2, k2, m):
        load_ok = all(not k or x != last for x, k in ((x1, k1), (x2, k2)))     # a carrier at the end delivers
        idle_ok = all(k or x != 0 or m == 0 for x, k in ((x1, k1), (x2, k2)))  # an empty agent in the depot loads
        return 1 <= k1 + k2 + m <= orders and load_ok and idle_ok

    states = [t for t in np.ndindex(length, 2, length, 2, orders + 1) if valid(*t)]
    index = {t: s for s, t in enumerate(states)}
    S = len(states)
    rewards = np.zeros((2, S, 3, 3))
    rows, cols, vals = [], [], []
    legal = [np.ones((S, 3), bool), np.ones((S, 3), bool)]
    for s, (x1, k1, x2, k2, m) in enumerate(states):
        for k, x in enumerate((x1, x2)):
            legal[k][s, 0] = x > 0
            legal[k][s, 1] = x < last
        for a1 in range(3):
            for a2 in range(3):
                row = s * 9 + a1 * 3 + a2
                pos, load, delivered = [], [], 0
                for x, k, a in ((x1, k1, a1), (x2, k2, a2)):
                    y = min(max(x + (-1, 1, 0)[a], 0), last)
                    if k and y == last:
                        k, delivered = 0, delivered + 1
                    pos.append(y)
                    load.append(k)
                rewards[:, row // 9, a1, a2] = delivered * reward
                for k, (x, a) in enumerate(((x1, a1), (x2, a2))):
                    if (k1, k2)[k] and a != 2 and (x > 0 or a == 1) and (x < last or a == 0):
                        rewards[k, s, a1, a2] -= step_cost
                takers = [k for k in range(2) if pos[k] == 0 and not load[k]]
                if m >= len(takers) or m == 0:
                    outcomes = [(tuple(takers[:m]), 1.0)]
                else:                                    # one order, two takers: a fair coin
                    outcomes = [((takers[0],), 0.5), ((takers[1],), 0.5)]
                for who, prob in outcomes:
                    new = list(load)
                    for k in who:
                        new[k] = 1
                    nxt = (pos[0], new[0], pos[1], new[1], m - len(who))
                    if nxt[1] + nxt[3] + nxt[4] > 0:       # else every order is delivered: the game ends
                        rows.append(row)
                        cols.append(index[nxt])
                        vals.append(prob)
    P = sp.csr_array(sp.coo_array((vals, (rows, cols)), shape=(S * 9, S)))
    initial = np.zeros(S)
    initial[index[(last, 0, last, 0, orders)]] = 1.0

    def name(x1, k1, x2, k2, m):
        return f"P1@{x1}{'+' if k1 else ''} P2@{x2}{'+' if k2 else ''} waiting={m}"

    return MarkovGame(rewards, P, initial=initial, horizon=horizon, discount=discount, legal=legal,
                      players=("P1", "P2"), actions=(_CORRIDOR_ACTIONS, _CORRIDOR_ACTIONS),
                      states=[name(*t) for t in states])


# ---------------------------------------------------------------------------------------- random games
def random_markov_game(n_states: int, n_actions, *, n_players: int = 2, horizon: int | None = None,
                       discount: float | None = None, density: float | None = None, stop: float = 0.0,
                       rng: np.random.Generator) -> MarkovGame:
    """A seeded random Markov game with sparse transitions (thousands of states in well under a second).

    Rewards are independent uniform on ``[-1, 1]``.  Each transition row ``(s, a)`` draws
    ``k`` successors uniformly with replacement (so at most ``k`` distinct ones) with
    exponential weights, normalised to sum to ``1 - stop``; the missing ``stop`` ends the
    game.  The initial law is uniform.

    Parameters
    ----------
    n_states : int
    n_actions : int or sequence of int
        Actions per player (the same in every state).
    n_players : int, default 2
    horizon : int, optional
    discount : float, optional
        Give exactly one of ``horizon`` and ``discount``.
    density : float, optional
        Fraction of the states each row can reach, in ``(0, 1]``:
        ``k = max(1, ceil(density * n_states))``.  By default ``k = min(n_states, 8)``.
    stop : float, default 0.0
        Probability, in ``[0, 1]``, that each step ends the game.
    rng : numpy.random.Generator
        Source of randomness (``numpy.random.default_rng(seed)``).

    Returns
    -------
    MarkovGame

    Examples
    --------
    >>> import numpy as np
    >>> from rqe.games.markov_catalog import random_markov_game
    >>> game = random_markov_game(2000, 3, discount=0.9, rng=np.random.default_rng(0))
    >>> game.n_states, game.n_actions, game.transitions.shape
    (2000, (3, 3), (18000, 2000))
    >>> int(np.diff(game.transitions.indptr).max()) <= 8
    True
    >>> random_markov_game(5, (2, 3), horizon=4, rng=np.random.default_rng(0)) == \\
    ...     random_markov_game(5, (2, 3), horizon=4, rng=np.random.default_rng(0))
    True
    """
    func = "random_markov_game"
    full = f"{_MOD}.{func}"
    n_states = positive_int(n_states, name="n_states", func=full)
    n_players = positive_int(n_players, name="n_players", func=full, low=2)
    if isinstance(n_actions, (int, np.integer)) and not isinstance(n_actions, bool):
        n_actions = (n_actions,) * n_players
    if isinstance(n_actions, (str, bytes)) or not isinstance(n_actions, Sequence) or len(n_actions) != n_players \
            or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1 for k in n_actions):
        raise ValueError(f"The 'n_actions' parameter of {full} must be an int >= 1 or {n_players} such ints, one per "
                         f"player. Got {n_actions!r} instead.")
    n_actions = tuple(int(k) for k in n_actions)
    horizon, discount = _time(horizon, discount, func)
    if density is None:
        k = min(n_states, 8)
    else:
        k = max(1, int(np.ceil(_probability(density, "density", func, low_open=True) * n_states)))
    stop = _probability(stop, "stop", func)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"The 'rng' parameter of {full} must be a numpy.random.Generator "
                        f"(numpy.random.default_rng(seed)). Got {type(rng).__name__} instead.")
    A = int(np.prod(n_actions))
    n_rows = n_states * A
    rewards = rng.uniform(-1.0, 1.0, size=(n_players, n_states, *n_actions))
    cols = rng.integers(n_states, size=(n_rows, k))
    weights = rng.exponential(size=(n_rows, k))
    weights *= (1.0 - stop) / weights.sum(axis=1, keepdims=True)
    rows = np.repeat(np.arange(n_rows), k)
    P = sp.csr_array(sp.coo_array((weights.ravel(), (rows, cols.ravel())), shape=(n_rows, n_states)))
    return MarkovGame(rewards, P, horizon=horizon, discount=discount)


# ---------------------------------------------------------------------------------------- parameters
def recommended_parameters(name: str) -> dict:
    """Keyword arguments of :func:`rqe.solve_markov` suggested for the game ``name`` of this catalog.

    * ``"mps_grid"``: the authors' own setting (``tau = (0.1, 0.1)``, ``epsilon = (10, 10)``,
      KL risk, log-barrier regulariser, entropic environment risk with the strategic ``tau``,
      the value without the regulariser), read from their script.  With ``epsilon = 10`` the
      stage games are dominated by the regulariser and play stays within a few per cent of
      uniform; ``epsilon`` near 0.1 gives visibly goal-directed paths.
    * ``"cliff_walk"``: ``tau = 5``, ``epsilon = 0.3`` with expected environment risk.  Measured
      (6x6, horizon 200): player 1 spends 5.6 expected steps two or more rows above its cliff
      row with ``tau = 5``, against 2.3 with ``tau = 0``.  Entropic environment risk at
      ``tau = 0.5`` or ``2`` on these reward scales is so pessimistic over 200 steps that the
      agents never reach their goals.
    * ``"volunteer_corridor"``: ``tau = 1``, ``epsilon = 0.1``: a symmetric mixed equilibrium
      in which each agent sets off for an order with probability 0.62 at the start.
    * ``"random_markov_game"``: moderate values at which the stage games are well conditioned
      (value iteration converges on discounted games of 2,000 states with ``gamma = 0.9``).

    Parameters
    ----------
    name : str
        ``"mps_grid"``, ``"cliff_walk"``, ``"volunteer_corridor"`` or ``"random_markov_game"``.

    Returns
    -------
    dict
        A fresh dict (``tau``, ``epsilon``, ``risk``, ``regularizer``, ``env_risk``, ``value``).

    Examples
    --------
    >>> from rqe.games.markov_catalog import recommended_parameters
    >>> recommended_parameters("mps_grid")["epsilon"]
    (10.0, 10.0)
    """
    if name not in _RECOMMENDED:
        raise ValueError(f"The 'name' parameter of {_MOD}.recommended_parameters must be one of "
                         f"{sorted(_RECOMMENDED)}. Got {name!r} instead.")
    return dict(_RECOMMENDED[name])
