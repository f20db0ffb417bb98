"""Regenerate Figure 1 of Qu, Zhang, Lanzetti and Mazumdar (arXiv 2602.21515) from the library.

Run ``python paper_figures/figure1.py --out out`` (``--quick`` uses coarser grids); the same
as ``rqe figure 1 --out out``.  Writes ``figure1.png`` and ``figure1.pdf`` and prints the
figure's key numbers.  The panels are built by :mod:`rqe.figures`.

Run as a script, it pauses Python's cyclic garbage collector: the imports of numpy, scipy
and matplotlib and the drawing create many objects but little cyclic garbage (the peak
memory is the same with and without the collector, about 130 MB), and the collections,
with the final one at exit, cost about a sixth of the run.  At the end every live object is
moved out of later collections' way (``gc.freeze``, so the one at exit has little to visit)
and the collector is switched back on; the files are already written and closed by then.
Unless ``OPENBLAS_NUM_THREADS`` is set, it also asks numpy's and scipy's OpenBLAS for one
thread: every matrix of the figure is 2x2, and the idle pools' start-up costs about 0.1 s of
CPU on a 2-core machine.
"""

import gc
import os
import sys

if __name__ == "__main__":
    _COLLECTING = gc.isenabled()
    gc.disable()
    if "numpy" not in sys.modules:        # read by OpenBLAS when numpy and scipy load it
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # after gc.disable(), so that the imports run without collections

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
    try:
        main()
    finally:
        gc.freeze()
        if _COLLECTING:
            gc.enable()
