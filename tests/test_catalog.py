"""Every claim of a catalog description is checked against rqe.solve_nash (issue 16.7)."""

import numpy as np
import pytest
from conftest import MATCH_TOL

import rqe
from rqe.games import catalog

# name -> (words of its first docstring line, every Nash equilibrium as (P1's strategy, P2's strategy)),
# the equilibria worked out by hand from the payoffs (indifference conditions of the mixed ones).
CLAIMS = {
    "matching_pennies": ("Unique equilibrium (1/2, 1/2)", [([1 / 2, 1 / 2], [1 / 2, 1 / 2])]),
    "prisoners_dilemma": ("unique equilibrium (D, D)", [([0, 1], [0, 1])]),
    "stag_hunt": ("(S, S) and (H, H), and one mixed with P(Stag) = 1/2",
                  [([1, 0], [1, 0]), ([0, 1], [0, 1]), ([1 / 2, 1 / 2], [1 / 2, 1 / 2])]),
    "battle_of_the_sexes": ("(O, O), (F, F) and one mixed, P1 O w.p. 3/5, P2 O w.p. 2/5",
                            [([1, 0], [1, 0]), ([0, 1], [0, 1]), ([3 / 5, 2 / 5], [2 / 5, 3 / 5])]),
    "chicken": ("(S, T) and (T, S), and one mixed with P(Swerve) = 9/10",
                [([1, 0], [0, 1]), ([0, 1], [1, 0]), ([9 / 10, 1 / 10], [9 / 10, 1 / 10])]),
    "volunteer_game": ("(W, S) and (S, W), and one mixed with P(W) = 4/5",
                       [([1, 0], [0, 1]), ([0, 1], [1, 0]), ([4 / 5, 1 / 5], [4 / 5, 1 / 5])]),
    "rock_paper_scissors": ("unique equilibrium (1/3, 1/3, 1/3)", [([1 / 3] * 3, [1 / 3] * 3)]),
}


def _same_set(found, expected):
    remaining = [tuple(np.concatenate(e)) for e in expected]
    for eq in found:
        x = np.concatenate(eq.strategies)
        match = [k for k, e in enumerate(remaining) if np.max(np.abs(x - np.array(e))) <= MATCH_TOL]
        assert match, f"unexpected equilibrium {x.tolist()}"
        remaining.pop(match[0])
    assert not remaining, f"missing equilibria {remaining}"


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_description_matches_solve_nash(name):
    words, expected = CLAIMS[name]
    assert words in getattr(catalog, name).__doc__.strip().splitlines()[0]   # what `rqe games` shows
    found = rqe.solve_nash(catalog.get(name))
    assert found.complete
    _same_set(found, expected)


def test_every_classic_game_has_a_checked_description():
    described = {n for n in catalog.names() if n in dir(catalog)} - {"free_riding_game", "two_robots"}
    assert described == set(CLAIMS)


@pytest.mark.parametrize("cost", [0.25, 0.4, 0.7])
def test_free_riding_description_matches_solve_nash(cost):
    doc = catalog.free_riding_game.__doc__
    assert "Pure equilibria (C, D) and (D, C)" in doc and "probability ``1 - cost``" in doc
    found = rqe.solve_nash(catalog.free_riding_game(cost=cost))
    assert found.complete
    _same_set(found, [([1, 0], [0, 1]), ([0, 1], [1, 0]), ([1 - cost, cost], [1 - cost, cost])])


def test_two_robots_is_example_2():
    doc = catalog.two_robots.__doc__
    assert "R = -(a_1 + a_2 - a_bar)^2 / 2" in doc
    game = catalog.two_robots(a_bar=1.0)
    # u_i = R - a_i^2 / 2 with independent a_i ~ N(m_i, v_i): E[u_i] by hand.
    v = [0.1, 0.2]
    for m in ([0.0, 0.0], [0.3, -0.2]):
        ER = -((m[0] + m[1] - 1.0) ** 2 + v[0] + v[1]) / 2
        u = game.expected_payoffs([np.array([m[0]]), np.array([m[1]])], [np.array([[v[0]]]), np.array([[v[1]]])])
        np.testing.assert_allclose(u, [ER - (m[0] ** 2 + v[0]) / 2, ER - (m[1] ** 2 + v[1]) / 2], atol=MATCH_TOL)


def test_catalog_messages_name_the_public_function():
    with pytest.raises(ValueError, match=r"rqe\.games\.catalog\.free_riding_game must be a finite float. Got nan"):
        catalog.free_riding_game(cost=np.float64("nan"))
