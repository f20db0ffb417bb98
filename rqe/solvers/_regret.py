"""The Nash certificate, computed in one place for every solver.

``action_values`` is each pure action's payoff against the others' mixed play, and
``max_regret`` the largest gain of a pure deviation, ``max_i (max_a u_i(a, x_-i) - u_i(x))``.
Both work from each player's payoffs less their smallest entry, which is exact for payoffs that
share a large offset (Sterbenz), so an offset of 1e9 does not swamp a regret tolerance of 1e-9.
"""

from __future__ import annotations

import numpy as np

from rqe.games.normal_form import NormalFormGame


def action_values(game: NormalFormGame, strategies, shifts) -> list[np.ndarray]:
    """Payoff less ``shifts[i]`` of each pure action of each player against the others' mixed strategies."""
    out = []
    for i in range(game.n_players):
        values = game.payoffs[i] - shifts[i]
        for j in reversed(range(game.n_players)):
            if j != i:
                values = np.tensordot(values, strategies[j], axes=([j], [0]))
        out.append(values)
    return out


def shifts_of(game: NormalFormGame) -> list[float]:
    """Each player's smallest payoff: the offset removed before the contractions."""
    return [float(np.min(p)) for p in game.payoffs]


def max_regret(game: NormalFormGame, strategies) -> float:
    """Largest gain of a pure deviation for any player (the Nash certificate, in payoff units)."""
    xs = [np.asarray(x, dtype=float) for x in strategies]
    values = action_values(game, xs, shifts_of(game))
    return max(0.0, max(float(v.max() - v @ x) for v, x in zip(values, xs)))
