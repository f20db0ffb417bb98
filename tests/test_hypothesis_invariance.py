"""The invariances tested by seeds elsewhere (tests/test_rqe.py, tests/test_nash.py), with the
payoff arrays themselves drawn by hypothesis, so that a failure shrinks to a small game.

RQE: the payoff unit (``RQE(c u; tau, eps) = RQE(u; c tau, eps / c)``), a constant added to a
player's payoffs, and relabelling players and actions.  Nash: a positive affine change of each
player's payoffs and relabelling actions.  The RQE parameters keep the regularisation strong
against payoffs in ``[-1, 1]`` (``epsilon = 1``), where the equilibrium is unique, so that every
run must find the same one.
"""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import rqe
from tests.conftest import MATCH_TOL

PAYOFF = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
EXAMPLES = settings(max_examples=20, deadline=None)


@st.composite
def payoff_arrays(draw, max_players: int = 3, max_actions: int = 3):
    """A payoff array of shape ``(N, n_1, ..., n_N)``, shrinking towards 2 players with 2 actions."""
    n = draw(st.integers(2, max_players))
    shape = tuple(draw(st.integers(2, max_actions)) for _ in range(n))
    return draw(arrays(np.float64, (n, *shape), elements=PAYOFF))


def _rqe(U, **kw):
    res = rqe.solve(rqe.NormalFormGame(U), **kw)
    assert res.success, res.message
    return res


@EXAMPLES
@given(U=payoff_arrays(), c=st.floats(1e-3, 1e3))
def test_rqe_payoff_unit(U, c):
    a = _rqe(c * U, tau=0.5, epsilon=1.0)
    b = _rqe(U, tau=0.5 * c, epsilon=1.0 / c)
    for x, y in zip(a.strategies, b.strategies):
        np.testing.assert_allclose(x, y, atol=MATCH_TOL)


@EXAMPLES
@given(U=payoff_arrays(), shift=st.floats(-100.0, 100.0), risk=st.sampled_from(["kl", "reverse_kl"]),
       reg=st.sampled_from(["entropy", "log_barrier"]), data=st.data())
def test_rqe_constant_added_to_a_player(U, shift, risk, reg, data):
    player = data.draw(st.integers(0, U.shape[0] - 1))
    V = U.copy()
    V[player] += shift
    kw = dict(tau=0.5, epsilon=1.0, risk=risk, regularizer=reg)
    for x, y in zip(_rqe(U, **kw).strategies, _rqe(V, **kw).strategies):
        np.testing.assert_allclose(x, y, atol=MATCH_TOL)


@EXAMPLES
@given(U=payoff_arrays(), data=st.data())
def test_rqe_relabelling_players_and_actions(U, data):
    n = U.shape[0]
    players = data.draw(st.permutations(range(n)))
    actions = [data.draw(st.permutations(range(k))) for k in U.shape[1:]]
    V = U
    for i, perm in enumerate(actions):
        V = np.take(V, perm, axis=1 + i)
    V = np.transpose(V[list(players)], [0] + [1 + p for p in players])
    tau, eps = np.linspace(0.2, 0.8, n), np.linspace(1.0, 1.5, n)
    a = _rqe(U, tau=tau, epsilon=eps)
    b = _rqe(V, tau=tau[list(players)], epsilon=eps[list(players)])
    for k, p in enumerate(players):
        np.testing.assert_allclose(b.strategies[k], a.strategies[p][list(actions[p])], atol=MATCH_TOL)


def _key(strategies) -> tuple:
    return tuple(np.round(np.concatenate(strategies), 7))


@EXAMPLES
@given(U=payoff_arrays(max_players=2, max_actions=3), scale=st.floats(0.01, 100.0),
       offset=st.floats(-100.0, 100.0), data=st.data())
def test_nash_affine_change_and_relabelling(U, scale, offset, data):
    assume(all(len(np.unique(u)) == u.size for u in U))    # generic payoffs: finitely many equilibria
    p = data.draw(st.permutations(range(U.shape[1])))
    q = data.draw(st.permutations(range(U.shape[2])))
    base = rqe.solve_nash(rqe.NormalFormGame(U), method="vertex_enumeration")
    moved = rqe.NormalFormGame([scale * U[0][np.ix_(p, q)] + offset, U[1][np.ix_(p, q)] - offset])
    other = rqe.solve_nash(moved, method="vertex_enumeration")
    assert base.complete == other.complete
    assert sorted(_key((x[list(p)], y[list(q)])) for x, y in (eq.strategies for eq in base)) == \
        sorted(_key(eq.strategies) for eq in other)
