"""A catalog of games: classic textbook games, the examples of the paper and experimental data.

Classic games follow the usual textbook payoffs (bimatrix, rows = player 1).
``free_riding_game`` and ``two_robots`` are Examples 5 and 2 of Qu, Zhang, Lanzetti and
Mazumdar, *Training Generalizable Collaborative Agents via Strategic Risk Aversion*
(arXiv 2602.21515).  ``experimental_games`` are the thirteen 2x2 games with observed play
used by Mazumdar, Panaganti and Shi (ICLR 2025): SC1-SC12 from Selten and Chmura (2008),
*Stationary Concepts for Experimental 2x2-Games*, AER 98(3):938-966, and GHP4 from Goeree,
Holt and Palfrey (2003), *Risk averse behavior in generalized matching pennies games*,
GEB 45(1):97-113.

Examples
--------
>>> from rqe.games import catalog
>>> catalog.names()[:3]
['battle_of_the_sexes', 'chicken', 'free_riding_game']
>>> [g.name for g in catalog.experimental_games()][:3]
['GHP4', 'SC1', 'SC2']
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from rqe._validation import plain
from rqe.games.normal_form import NormalFormGame

if TYPE_CHECKING:
    from rqe.games.gaussian import GaussianGame  # lazy: solving a normal-form game never loads the Gaussian modules

__all__ = [
    "matching_pennies", "prisoners_dilemma", "stag_hunt", "battle_of_the_sexes", "chicken",
    "rock_paper_scissors", "free_riding_game", "volunteer_game", "two_robots", "experimental_games",
    "ExperimentalGame", "get", "names",
]


def matching_pennies() -> NormalFormGame:
    """Matching pennies: player 1 wins on a match. Unique equilibrium (1/2, 1/2)."""
    return NormalFormGame.zero_sum([[1, -1], [-1, 1]], actions=[["H", "T"], ["H", "T"]])


def prisoners_dilemma() -> NormalFormGame:
    """Prisoner's dilemma (C, D), T=5 > R=3 > P=1 > S=0: unique equilibrium (D, D)."""
    return NormalFormGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]], actions=[["C", "D"], ["C", "D"]])


def stag_hunt() -> NormalFormGame:
    """Stag hunt (Stag, Hare): pure equilibria (S, S) and (H, H), and one mixed with P(Stag) = 1/2."""
    return NormalFormGame.from_bimatrix([[4, 0], [2, 2]], [[4, 2], [0, 2]], actions=[["S", "H"], ["S", "H"]])


def battle_of_the_sexes() -> NormalFormGame:
    """Battle of the sexes (Opera, Football): (O, O), (F, F) and one mixed, P1 O w.p. 3/5, P2 O w.p. 2/5."""
    return NormalFormGame.from_bimatrix([[3, 0], [0, 2]], [[2, 0], [0, 3]], actions=[["O", "F"], ["O", "F"]])


def chicken() -> NormalFormGame:
    """Chicken (Swerve, Straight): pure equilibria (S, T) and (T, S), and one mixed with P(Swerve) = 9/10."""
    return NormalFormGame.from_bimatrix([[0, -1], [1, -10]], [[0, 1], [-1, -10]], actions=[["S", "T"], ["S", "T"]])


def rock_paper_scissors() -> NormalFormGame:
    """Rock-paper-scissors, zero-sum: unique equilibrium (1/3, 1/3, 1/3)."""
    return NormalFormGame.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], actions=[["R", "P", "S"]] * 2)


def free_riding_game(cost: float = 0.4, *, n_players: int = 2) -> NormalFormGame:
    """Example 5 of the paper: a shared reward 1 if anyone collaborates, a private cost.

    Each player chooses C (collaborate, private cost ``cost``) or D (defect, no cost);
    the shared reward is 1 if at least one player collaborates and 0 otherwise.
    For two players the own-rows matrix of each is ``[[1 - c, 1 - c], [1, 0]]``.
    Pure equilibria (C, D) and (D, C) are free-riding; the mixed Nash equilibrium of the
    two-player game collaborates with probability ``1 - cost``.

    Examples
    --------
    >>> from rqe.games.catalog import free_riding_game
    >>> free_riding_game().payoffs[0].tolist()
    [[0.6, 0.6], [1.0, 0.0]]
    """
    if not (isinstance(cost, (int, float, np.floating)) and np.isfinite(cost)):
        raise ValueError(f"The 'cost' parameter of rqe.games.catalog.free_riding_game must be a finite float. "
                         f"Got {plain(cost)!r} instead.")
    if not isinstance(n_players, (int, np.integer)) or n_players < 2:
        raise ValueError(f"The 'n_players' parameter of rqe.games.catalog.free_riding_game must be an int >= 2. "
                         f"Got {plain(n_players)!r} instead.")
    shape = (2,) * n_players
    profiles = np.indices(shape)  # 0 = C, 1 = D
    reward = np.any(profiles == 0, axis=0).astype(float)
    payoffs = [reward - cost * (profiles[i] == 0) for i in range(n_players)]
    return NormalFormGame(payoffs, actions=[["C", "D"]] * n_players)


def volunteer_game() -> NormalFormGame:
    """Volunteer's dilemma with a bonus for joint work: (W, S) and (S, W), and one mixed with P(W) = 4/5.

    Own-rows payoffs ``[[3.5, 2], [4, 0]]``.  Each player works (W) at a private cost 2 or shirks (S); the shared reward is 5.5 when both
    work, 4 when one does and 0 when nobody does, so ``u_i = R(a_1, a_2) - 2 [a_i = W]`` is the
    free-riding setting of the paper's section 4.2 (``rqe.analysis.free_riding`` applies).  Pure
    Nash equilibria (W, S) and (S, W) free-ride; the mixed one works with probability 0.8.
    Designed for rqe's exact analogue of the paper's Figure 2 (:mod:`rqe.learning`).

    Examples
    --------
    >>> from rqe.games.catalog import volunteer_game
    >>> volunteer_game().payoffs[0].tolist()
    [[3.5, 2.0], [4.0, 0.0]]
    """
    own = np.array([[3.5, 2.0], [4.0, 0.0]])
    return NormalFormGame.from_bimatrix(own, own.T, actions=[["W", "S"], ["W", "S"]])


def two_robots(a_bar: float = 1.0) -> GaussianGame:
    """Example 2 of the paper: two robots sharing ``R = -(a_1 + a_2 - a_bar)^2 / 2``, costs ``a_i^2 / 2``."""
    from rqe.games.gaussian import GaussianGame  # lazy: solving a normal-form game never loads the Gaussian modules

    return GaussianGame.collaborative(a_bar=a_bar, rho=1.0, H=1.0, n_players=2, dim=1)


@dataclass(frozen=True)
class ExperimentalGame:
    """A 2x2 game with observed play and the hand-tuned RQE parameters of its source.

    Attributes
    ----------
    name : str
        ``"GHP4"`` or ``"SC1"`` ... ``"SC12"``.
    game : NormalFormGame
        Rows U, D (player 1); columns L, R (player 2).
    observed : tuple of float
        Observed frequencies ``(P(U), P(L))``.
    fit_kl_log_barrier : dict
        ``{"epsilon": (e1, e2), "tau": (t1, t2)}`` fitted by Mazumdar, Panaganti and Shi under
        ``risk="kl", regularizer="log_barrier"``.
    fit_reverse_kl_entropy : dict
        Their second set, ``{"epsilon": ..., "tau": ..., "goal": (P(U), P(R)), "game": game}``,
        for ``risk="reverse_kl", regularizer="entropy"`` (``game`` differs from the main one
        only for SC2, whose fit used other payoffs).
    citation : str
    """

    name: str
    game: NormalFormGame
    observed: tuple[float, float]
    fit_kl_log_barrier: dict = field(repr=False)
    fit_reverse_kl_entropy: dict = field(repr=False)
    citation: str = field(repr=False)


_CITATIONS = {
    "SC": "Selten, R. and Chmura, T. (2008). Stationary Concepts for Experimental 2x2-Games. "
          "American Economic Review 98(3):938-966.",
    "GHP": "Goeree, J. K., Holt, C. A. and Palfrey, T. R. (2003). Risk averse behavior in generalized "
           "matching pennies games. Games and Economic Behavior 45(1):97-113.",
}


@lru_cache(maxsize=1)
def _experimental_data() -> dict:
    return json.loads(resources.files("rqe.games").joinpath("data/experimental_games.json").read_text())


def experimental_games() -> list[ExperimentalGame]:
    """The 13 experimental 2x2 games (GHP4, SC1-SC12) with observed play and fitted parameters.

    Data as published with Mazumdar, Panaganti and Shi (ICLR 2025); see the module docstring for
    the sources.  SC1's column payoff ``(U, L)`` is 8, as constant-sum 18 requires (the authors'
    notebook has 10; the fitted equilibrium is the same for either value).
    """
    data = _experimental_data()
    rev = data["fit_reverse_kl_entropy"]
    out = []
    for g in data["games"]:
        name = g["name"]
        game = NormalFormGame.from_bimatrix(g["row_payoffs"], g["col_payoffs"],
                                            actions=[["U", "D"], ["L", "R"]])
        t1, e1, t2, e2 = rev["params"][name]
        variant = rev["payoff_variants"].get(name)
        rev_game = game if variant is None else NormalFormGame.from_bimatrix(
            variant["row_payoffs"], variant["col_payoffs"], actions=[["U", "D"], ["L", "R"]])
        out.append(ExperimentalGame(
            name=name,
            game=game,
            observed=(g["observed"]["p_row_first"], g["observed"]["p_col_first"]),
            fit_kl_log_barrier={"epsilon": tuple(g["fit_kl_log_barrier"]["epsilon"]),
                                "tau": tuple(g["fit_kl_log_barrier"]["tau"])},
            fit_reverse_kl_entropy={"epsilon": (e1, e2), "tau": (t1, t2),
                                    "goal": tuple(rev["goals_p_row_first_p_col_second"][name]),
                                    "game": rev_game},
            citation=_CITATIONS["GHP" if name.startswith("GHP") else "SC"],
        ))
    return out


_GAMES: dict[str, Callable[..., NormalFormGame | GaussianGame]] = {
    "matching_pennies": matching_pennies,
    "prisoners_dilemma": prisoners_dilemma,
    "stag_hunt": stag_hunt,
    "battle_of_the_sexes": battle_of_the_sexes,
    "chicken": chicken,
    "rock_paper_scissors": rock_paper_scissors,
    "free_riding_game": free_riding_game,
    "volunteer_game": volunteer_game,
    "two_robots": two_robots,
}


def names() -> list[str]:
    """Names accepted by :func:`get`: the classic games, the paper's examples and ``GHP4``, ``SC1``..."""
    return sorted(_GAMES) + [g["name"] for g in _experimental_data()["games"]]


def get(name: str) -> NormalFormGame | GaussianGame:
    """Return the catalog game called ``name`` (see :func:`names`)."""
    if name in _GAMES:
        return _GAMES[name]()
    for g in experimental_games():
        if g.name == name:
            return g.game
    raise ValueError(f"The 'name' parameter of rqe.games.catalog.get must be one of {names()}. Got {name!r} instead.")
