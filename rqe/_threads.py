"""BLAS thread counts for the solvers' hot loops (via threadpoolctl).

The large solves of rqe are sequences of matrix-vector products and rank-one updates: the
matrix-free Newton-GMRES path of :mod:`rqe.solvers._iterate` (every Krylov iteration is a
few products with the payoff matrices) and the Lemke-Howson pivots of
:mod:`rqe.solvers._lemke_howson`.  Each product is memory-bound and short (about a
millisecond for a 1000 x 1000 matrix), so splitting it across OpenBLAS threads gains little
even on an idle machine, while on a machine whose cores are busy the threads wait for each
other at every call: measured on a shared 2-core machine, a 1000 x 1000 product took 23 ms
with OpenBLAS's default two threads against 1 ms with one, and the 1000 x 1000 RQE 5 s
against 0.36 s.  numpy's and scipy's wheels each bundle their own OpenBLAS with its own pool
(scipy/scipy#15129), so both are limited.

The loops therefore run with one BLAS thread, whatever ``OPENBLAS_NUM_THREADS`` or
``OMP_NUM_THREADS`` say; the previous counts are restored on exit.  Small problems skip
the limit (about 0.05 ms once threadpoolctl has scanned the loaded libraries), and a hot loop
inside another one keeps the limit already in force (``rqe.solve`` around ``newton``).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager, nullcontext

__all__ = ["hot_loop"]

HOT_LOOP_THREADS = 1
"""BLAS threads used inside the memory-bound hot loops."""
MIN_SIZE = 8192
"""Matrices with fewer entries run without changing the thread count (their products take microseconds
and OpenBLAS keeps the smallest of them on one thread anyway)."""


_CONTROLLERS: dict = {}


def _controller():
    """A threadpoolctl controller of the loaded BLAS libraries (scanning them costs ~3 ms, so it is kept).

    It is rebuilt once scipy's linear algebra, which brings its own OpenBLAS, has been imported.
    """
    key = "scipy.linalg" in sys.modules
    if key not in _CONTROLLERS:
        from threadpoolctl import ThreadpoolController  # on first hot loop: it inspects the loaded BLAS libraries

        _CONTROLLERS[key] = ThreadpoolController()
    return _CONTROLLERS[key]


_OPEN: list = []
"""The controller keys of the limits in force: a nested hot loop under the same key keeps the limit
already set (setting it again costs ~0.1 ms)."""


@contextmanager
def _limited(threads: int):
    key = "scipy.linalg" in sys.modules
    if _OPEN and _OPEN[-1] == key:
        yield
        return
    try:
        controller = _controller()
    except ImportError:    # threadpoolctl is a dependency; without it, run with the environment's settings
        yield
        return
    with controller.limit(limits=threads, user_api="blas"):
        _OPEN.append(key)
        try:
            yield
        finally:
            _OPEN.pop()


def hot_loop(entries: int):
    """Context manager for a loop of products with matrices of ``entries`` entries: one BLAS thread.

    Examples
    --------
    >>> import numpy as np
    >>> from rqe._threads import hot_loop
    >>> M = np.ones((1000, 1000))
    >>> with hot_loop(M.size):
    ...     v = M @ np.ones(1000)
    >>> float(v[0])
    1000.0
    """
    return _limited(HOT_LOOP_THREADS) if entries >= MIN_SIZE else nullcontext()
