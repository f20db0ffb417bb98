"""NormalFormGame and the catalog."""

import nashpy
import numpy as np
import pytest

import rqe
from rqe.games import catalog


def test_bimatrix_orientation_matches_own_rows():
    R1 = np.arange(6.0).reshape(2, 3)
    R2 = -np.arange(6.0).reshape(2, 3)
    g = rqe.NormalFormGame.from_bimatrix(R1, R2)
    assert g.n_actions == (2, 3)
    np.testing.assert_array_equal(g.own_rows[0], R1)
    np.testing.assert_array_equal(g.own_rows[1], R2.T)


def test_expected_payoffs_three_players_against_explicit_sum(rng):
    U = rng.normal(size=(3, 2, 3, 4))
    xs = [rng.dirichlet(np.ones(k)) for k in (2, 3, 4)]
    explicit = [sum(U[i][a, b, c] * xs[0][a] * xs[1][b] * xs[2][c]
                    for a in range(2) for b in range(3) for c in range(4)) for i in range(3)]
    np.testing.assert_allclose(rqe.NormalFormGame(U).expected_payoffs(xs), explicit, rtol=1e-12)


def test_own_rows_three_players_index_convention(rng):
    U = rng.normal(size=(3, 2, 3, 4))
    g = rqe.NormalFormGame(list(U))
    M1 = g.own_rows[1]  # player 1 (middle): rows its 3 actions, columns (a0, a2) flattened
    assert M1.shape == (3, 8)
    assert M1[2, 1 * 4 + 3] == U[1][1, 2, 3]


def test_payoffs_are_read_only():
    g = catalog.prisoners_dilemma()
    with pytest.raises(ValueError):
        g.payoffs[0, 0, 0] = 7.0


def test_zero_sum_and_nashpy_round_trip():
    g = catalog.rock_paper_scissors()
    assert g.is_zero_sum and not catalog.prisoners_dilemma().is_zero_sum
    back = rqe.NormalFormGame.from_nashpy(g.to_nashpy())
    assert back == g
    assert isinstance(g.to_nashpy(), nashpy.Game)


def test_free_riding_game_matches_example_5():
    g = catalog.free_riding_game(cost=0.4)
    np.testing.assert_allclose(g.own_rows[0], [[0.6, 0.6], [1.0, 0.0]])
    np.testing.assert_allclose(g.own_rows[1], [[0.6, 0.6], [1.0, 0.0]])
    g3 = catalog.free_riding_game(cost=0.3, n_players=3)
    assert g3.payoffs[2][1, 1, 1] == 0.0 and g3.payoffs[2][1, 1, 0] == pytest.approx(0.7)


def test_experimental_games_are_constant_sum_where_published():
    games = {g.name: g for g in catalog.experimental_games()}
    assert len(games) == 13
    sums = {"SC1": 18, "SC2": 13, "SC3": 14, "SC4": 11, "SC5": 9, "SC6": 8}
    for name, total in sums.items():
        np.testing.assert_allclose(games[name].game.payoffs.sum(axis=0), total)
    assert all(g.citation for g in games.values())


def test_catalog_get_every_name():
    for name in catalog.names():
        if name != "two_robots":
            assert isinstance(catalog.get(name), rqe.NormalFormGame)


@pytest.mark.parametrize("payoffs, exc, words", [
    ([[[1, 2], [3]], [[1, 2], [3, 4]]], ValueError, "rectangular"),
    ([[["a", 1], [1, 1]], [[1, 1], [1, 1]]], TypeError, "real numbers"),
    ([[[1, np.nan], [1, 1]], [[1, 1], [1, 1]]], ValueError, "finite"),
    ([[[1, np.inf], [1, 1]], [[1, 1], [1, 1]]], ValueError, "finite"),
    ([[[1j, 1], [1, 1]], [[1, 1], [1, 1]]], TypeError, "real"),
    ([[[1, 2], [3, 4]]], ValueError, "at least 2 players"),
    ([np.zeros((2, 2)), np.zeros((2, 3))], ValueError, "one shape"),
    ([np.zeros((2, 2, 2)), np.zeros((2, 2, 2))], ValueError, "N = 2 axes"),
    ([np.zeros((2, 0)), np.zeros((2, 0))], ValueError, "at least one action"),
    ("payoffs", TypeError, "sequence of arrays"),
    (np.zeros((2, 2)), ValueError, "shape (2, 2)"),
])
def test_bad_payoffs_raise(payoffs, exc, words):
    with pytest.raises(exc, match="payoffs|action") as info:
        rqe.NormalFormGame(payoffs)
    assert words in str(info.value)


def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match="same shape"):
        rqe.NormalFormGame.from_bimatrix(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        rqe.NormalFormGame.from_bimatrix(np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="2-D"):
        rqe.NormalFormGame.zero_sum(np.zeros(3))
    with pytest.raises(TypeError, match="nashpy.Game"):
        rqe.NormalFormGame.from_nashpy("not a game")
    with pytest.raises(ValueError, match="two-player"):
        rqe.NormalFormGame(np.zeros((3, 2, 2, 2))).to_nashpy()
    with pytest.raises(ValueError, match="'players'.*2 names"):
        rqe.NormalFormGame(np.zeros((2, 2, 2)), players=["a"])
    with pytest.raises(ValueError, match="one list of names per player"):
        rqe.NormalFormGame(np.zeros((2, 2, 2)), actions=[["a", "b"]])
    with pytest.raises(ValueError, match="'actions'.*2 names"):
        rqe.NormalFormGame(np.zeros((2, 2, 2)), actions=[["a"], ["b", "c"]])
    g = catalog.matching_pennies()
    with pytest.raises(ValueError, match="hold 2 strategies"):
        g.expected_payoffs([[1, 0]])
    with pytest.raises(ValueError, match="probability vectors"):
        g.expected_payoffs([[1, 0], [0.5, 0.6]])
    with pytest.raises(ValueError, match="'cost'"):
        catalog.free_riding_game(cost=float("nan"))
    with pytest.raises(ValueError, match="'n_players'"):
        catalog.free_riding_game(n_players=1)
    with pytest.raises(ValueError, match="'name'"):
        catalog.get("no such game")


def test_payoff_range_is_the_largest_range_of_any_player():
    # Player 1's payoffs span [-1, 2], player 2's [0, 10]: the unit is 10, not the overall span 11.
    game = rqe.NormalFormGame.from_bimatrix([[2.0, -1.0], [0.0, 1.0]], [[0.0, 10.0], [5.0, 5.0]])
    assert game.payoff_range == 10.0
    assert rqe.NormalFormGame.from_bimatrix(np.ones((2, 3)), np.ones((2, 3))).payoff_range == 1.0
