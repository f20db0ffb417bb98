"""Start-up cost: ``import rqe; rqe.solve`` and ``rqe solve GAME`` do not import scipy's heavy parts.

scipy.linalg and scipy.sparse.linalg each cost about 0.3 s to import (scipy 1.17 pulls in
numpy.testing and numpy.f2py through its array-API layer); they are needed only for Gaussian
games and for matrix-free Newton on large games, so they are imported on first use.  The
package facades (``rqe``, ``rqe.analysis``, ``rqe.games``) load their names lazily, and show
them to type checkers and IDEs in an ``if TYPE_CHECKING:`` block that must list the same names.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy.linalg", "scipy.sparse", "scipy.optimize")


def _loaded_after(code: str, modules=HEAVY) -> set:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    probe = code + f"\nimport sys\nprint(' '.join(m for m in {tuple(modules)!r} if m in sys.modules))"
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


_NORMAL_FORM_SOLVE = "import rqe; rqe.solve(rqe.games.catalog.free_riding_game(), tau=1.0, epsilon=0.2)"
_CLI_SOLVE = ("import contextlib, io\nfrom rqe.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
              "    main(['solve', 'free_riding_game'])")


@pytest.mark.parametrize("code", [_NORMAL_FORM_SOLVE, _CLI_SOLVE], ids=["rqe.solve", "rqe solve"])
@pytest.mark.parametrize("module", ["scipy.linalg", "rqe.games.gaussian", "rqe.solvers.gaussian"])
def test_solving_a_normal_form_game_loads_no_gaussian_module(code, module):
    assert _loaded_after(code, [module]) == set()


def _facade(path: Path) -> tuple[dict, set, dict]:
    """``(_LAZY, _SUBMODULES, names imported under TYPE_CHECKING -> their module)`` of a package facade."""
    tree = ast.parse(path.read_text())
    found, typed = {}, {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("_LAZY", "_SUBMODULES"):
                found[node.targets[0].id] = ast.literal_eval(node.value)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                for alias in imp.names:
                    assert alias.asname == alias.name, f"{path}: re-export {alias.name} as itself"
                    typed[alias.name] = imp.module
    return found["_LAZY"], set(found["_SUBMODULES"]), typed


@pytest.mark.parametrize("package", ["rqe", "rqe/analysis", "rqe/games"])
def test_facade_type_checking_imports_match_the_lazy_names(package):
    lazy, submodules, typed = _facade(ROOT / package / "__init__.py")
    name = package.replace("/", ".")
    expected = {**lazy, **{sub: name for sub in submodules}}
    assert typed == expected
