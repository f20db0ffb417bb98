"""Start-up cost: ``import rqe; rqe.solve`` and ``rqe solve GAME`` do not import scipy's heavy parts.

scipy.linalg and scipy.sparse.linalg each cost about 0.3 s to import (scipy 1.17 pulls in
numpy.testing and numpy.f2py through its array-API layer); they are needed only for Gaussian
games and for matrix-free Newton on large games, so they are imported on first use.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy.linalg", "scipy.sparse", "scipy.optimize")


def _loaded_after(code: str) -> set:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    probe = code + f"\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True,
                         cwd=ROOT).stdout
    return set(out.split())


@pytest.mark.parametrize("code", [
    "import rqe; rqe.solve",
    "import rqe; rqe.solve(rqe.games.catalog.free_riding_game(), tau=1.0, epsilon=0.2)",
    "import contextlib, io\nfrom rqe.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    "    main(['solve', 'free_riding_game'])",
])
def test_solving_a_normal_form_game_imports_no_heavy_scipy(code):
    assert _loaded_after(code) == set()


def test_a_gaussian_game_still_finds_scipy_linalg():
    code = ("import numpy as np, rqe\n"
            "g = rqe.GaussianGame([[[-2, 1], [1, 0]], [[0, 1], [1, -2]]], h=[[1, 0], [0, 1]], dims=[1, 1])\n"
            "assert rqe.solve(g, tau=0.1, epsilon=1.0).success")
    assert "scipy.linalg" in _loaded_after(code)
