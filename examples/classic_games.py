"""Nash, logit QRE and RQE of five classic games, side by side.

Run: ``python examples/classic_games.py``.  Prints, for each game, the probability that each
player plays its first action at the QRE (tau = 0) and at RQE of growing risk aversion, with
each answer's certificate (fixed-point residual and deviation gap).
"""

import rqe
from rqe.games import catalog

EPSILON = 0.3
TAUS = (0.0, 1.0, 5.0)
GAMES = ("matching_pennies", "prisoners_dilemma", "stag_hunt", "battle_of_the_sexes", "GHP4")


def main() -> None:
    print(f"P(first action) of players 1 and 2 at epsilon = {EPSILON}")
    print(f"{'game':22s}" + "".join(f"{'tau=' + format(t, 'g'):>22s}" for t in TAUS) + f"{'max gap':>10s}")
    for name in GAMES:
        game = catalog.get(name)
        # GHP4 pays in the hundreds: scale epsilon with the payoffs (RQE(cA; eps, tau) = RQE(A; eps/c, c tau)).
        scale = max(1.0, float(abs(game.payoffs).max()) / 10)
        cells, gap = [], 0.0
        for tau in TAUS:
            res = rqe.solve(game, tau=tau / scale, epsilon=EPSILON * scale)
            cells.append(f"({res.strategies[0][0]:.3f}, {res.strategies[1][0]:.3f})")
            gap = max(gap, res.gap)
        print(f"{name:22s}" + "".join(f"{c:>22s}" for c in cells) + f"{gap:10.1e}")


if __name__ == "__main__":
    main()
