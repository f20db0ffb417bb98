"""Regenerate Figure 1 of Qu, Zhang, Lanzetti and Mazumdar (arXiv 2602.21515) from the library.

Run ``python paper_figures/figure1.py --out out`` (``--quick`` uses coarser grids); the same
as ``rqe figure 1 --out out``.  Writes ``figure1.png`` and ``figure1.pdf`` and prints the
figure's key numbers.  The panels are built by :mod:`rqe.figures`.
"""

import argparse

from rqe.figures import describe_figure1, figure1


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="output directory (created if missing)")
    parser.add_argument("--quick", action="store_true", help="coarser grids (for tests)")
    args = parser.parse_args(argv)
    numbers = figure1(args.out, quick=args.quick)
    print(describe_figure1(numbers))
    return numbers


if __name__ == "__main__":
    main()
