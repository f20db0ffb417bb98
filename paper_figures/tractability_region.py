"""The tractable region in the (epsilon_1 tau_1, epsilon_2 tau_2) plane with the 13 experimental games.

Run ``python paper_figures/tractability_region.py --out out``.  One panel per parameter set of
Mazumdar, Panaganti and Shi (KL + log-barrier; reverse KL + entropy), as in their Figure 1;
the regions and their sources are those of :func:`rqe.analysis.tractability`.
"""

import argparse

from rqe.figures import tractability_region


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="output directory (created if missing)")
    files = tractability_region(parser.parse_args(argv).out)
    print("Written:", ", ".join(files))
    return files


if __name__ == "__main__":
    main()
