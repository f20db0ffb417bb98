"""rqe.MarkovGame: validation, dense/sparse equivalence, conversions."""

import numpy as np
import pytest
import scipy.sparse as sp

import rqe
from rqe.games.catalog import stag_hunt


def _game(rng, S=3, n=(2, 3), **kw):
    R = rng.normal(size=(len(n), S, *n))
    P = rng.random((S, *n, S))
    P /= P.sum(axis=-1, keepdims=True)
    kw.setdefault("discount", 0.9)
    return R, P, kw


def test_dense_and_sparse_transitions_agree(rng):
    R, P, kw = _game(rng)
    dense = rqe.MarkovGame(R, P, **kw)
    sparse = rqe.MarkovGame(R, sp.csr_array(P.reshape(3 * 6, 3)), **kw)
    assert dense == sparse
    np.testing.assert_array_equal(dense.transition_tensor(), P)
    assert not dense.terminates and dense.n_joint == 6


def test_missing_mass_ends_the_game(rng):
    R, P, kw = _game(rng)
    P = P * 0.9
    g = rqe.MarkovGame(R, P, **kw)
    assert g.terminates
    np.testing.assert_allclose(g.stop, 0.1)


@pytest.mark.parametrize("change, match", [
    (lambda R, P, kw: (R, P * 1.5, kw), "sum to at most 1|summing to at most 1"),
    (lambda R, P, kw: (R, -P, kw), "nonnegative"),
    (lambda R, P, kw: (R[:, :2], P, kw), "rewards|transitions"),
    (lambda R, P, kw: (R, P, {"discount": 1.0}), "'discount'"),
    (lambda R, P, kw: (R, P, {"discount": 0.5, "horizon": 3}), "exactly one"),
    (lambda R, P, kw: (R, P, {"horizon": 0}), "'horizon'"),
    (lambda R, P, kw: (R * np.nan, P, kw), "rewards"),
    (lambda R, P, kw: (R, P, {**kw, "initial": [0.5, 0.5, 0.5]}), "'initial'"),
    (lambda R, P, kw: (R, P, {**kw, "legal": [np.zeros((3, 2), bool), np.ones((3, 3), bool)]}), "legal action"),
])
def test_bad_input_names_the_parameter(rng, change, match):
    R, P, kw = change(*_game(rng))
    with pytest.raises(ValueError, match=match):
        rqe.MarkovGame(R, P, **kw)


def test_time_indexed_rewards_need_a_matching_horizon(rng):
    R, P, _ = _game(rng)
    Rh = np.stack([R, 2 * R])
    g = rqe.MarkovGame(Rh, P, horizon=2)
    np.testing.assert_array_equal(g.reward(1), 2 * R)
    with pytest.raises(ValueError, match="horizon"):
        rqe.MarkovGame(Rh, P, horizon=3)
    with pytest.raises(ValueError, match="finite horizon"):
        rqe.MarkovGame(Rh, P, discount=0.5)


def test_normal_form_round_trip_and_stage_games():
    g = rqe.MarkovGame.from_normal_form(stag_hunt(), horizon=4)
    assert g.stage_game(0) == stag_hunt() and g.horizon == 4
    legal = [np.array([[True, False]]), np.array([[True, True]])]
    R = np.asarray(stag_hunt().payoffs)[:, None]
    h = rqe.MarkovGame(R, np.ones((1, 2, 2, 1)), horizon=1, legal=legal)
    np.testing.assert_array_equal(h.stage_game(0).payoffs[0], R[0, 0][:1])


def test_games_are_read_only(rng):
    g = rqe.MarkovGame(*_game(rng)[:2], discount=0.5)
    with pytest.raises(ValueError):
        g.rewards[0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        g.transitions.data[0] = 1.0


def test_games_accept_no_new_attributes(rng):
    g = rqe.MarkovGame(*_game(rng)[:2], discount=0.5)
    assert g.all_legal                       # cached properties still work
    with pytest.raises(AttributeError, match="immutable"):
        g.horizon_note = "x"
    with pytest.raises(AttributeError, match="immutable"):
        g._discount = 0.1
