"""Regenerate the exact-dynamics analogue of Figure 2 of Qu, Zhang, Lanzetti and Mazumdar (arXiv 2602.21515).

Run ``python paper_figures/figure2.py --out out`` (``--quick``: 4 seeds and coarser grids); the
same as ``rqe figure 2 --out out``.  Writes ``figure2.png`` and ``figure2.pdf`` and prints the
figure's key numbers: training and cross-play performance of IPPO and SRPO populations, the
convergence of every seed, and the learned free-riding degree at each tau next to the largest
degree over all RQE.  The panels are built by :mod:`rqe.figures` from :mod:`rqe.learning`.
"""

import argparse

from rqe.figures import describe_figure2, figure2


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="output directory (created if missing)")
    parser.add_argument("--quick", action="store_true", help="4 seeds and coarser grids (for tests)")
    args = parser.parse_args(argv)
    numbers = figure2(args.out, quick=args.quick)
    print(describe_figure2(numbers))
    return numbers


if __name__ == "__main__":
    main()
