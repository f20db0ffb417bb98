"""Imports flow one way (docs/architecture: games -> solvers -> analysis -> plotting -> figures -> cli):
no module imports from a layer above its own, not even inside a function.

Every module of the package sits in a layer, or is one of the few utilities below them all.  The
models of the players' objectives (risk measures, regularisers, environment risk) and the game
files belong with the games; the tools built on the solvers (Markov-policy tools, cooperative
games, learning dynamics, the OpenSpiel bridge) with the analysis.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rqe"

LAYERS = {
    "games": ("rqe.games", "rqe.risk", "rqe.regularizers", "rqe.uncertainty", "rqe.io"),
    "solvers": ("rqe.solvers",),
    "analysis": ("rqe.analysis", "rqe.markov", "rqe.cooperative", "rqe.learning", "rqe.interop", "rqe._openspiel"),
    "plotting": ("rqe.plotting",),
    "figures": ("rqe.figures", "rqe._figure2"),
    "cli": ("rqe.cli",),
}
ORDER = list(LAYERS)
# below every layer: the lazy package facade and helpers that import no layered module
UTILITIES = ("rqe", "rqe._lazy", "rqe._validation", "rqe._exceptions", "rqe._numeric", "rqe._threads",
             "rqe._frontdoor")


def _layer(module: str) -> int | None:
    for rank, name in enumerate(ORDER):
        if any(module == p or module.startswith(p + ".") for p in LAYERS[name]):
            return rank
    return None


def _imports(path: Path):
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            yield node.lineno, base
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _modules(prefix: str):
    target = PACKAGE.parent.joinpath(*prefix.split("."))
    return sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]


@pytest.mark.parametrize("layer", ORDER[:-1])
def test_no_module_imports_from_a_higher_layer(layer):
    rank = ORDER.index(layer)
    upward = []
    for prefix in LAYERS[layer]:
        for path in _modules(prefix):
            for lineno, module in _imports(path):
                other = _layer(module)
                if other is not None and other > rank:
                    upward.append(f"{path.relative_to(PACKAGE.parent)}:{lineno} imports {module} ({ORDER[other]})")
    assert not upward, "\n".join(upward)


def _type_checking_lines(path: Path) -> set:
    """Line numbers inside the ``if TYPE_CHECKING:`` blocks of ``path``."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def test_the_layers_above_reach_solver_internals_only_through_the_engine():
    """Outside rqe/solvers, the private solver modules are rqe.solvers._engine (the documented
    contract) and rqe.solvers._result (the result base) only.  A package facade's
    ``TYPE_CHECKING`` block is exempt: it names where each lazily loaded public name lives (the
    same modules as its lazy map, tests/test_startup.py), for type checkers only."""
    allowed = {"rqe.solvers._engine", "rqe.solvers._result"}
    reached = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "solvers"):
            continue
        facade = _type_checking_lines(path) if path.name == "__init__.py" else set()
        for lineno, module in _imports(path):
            if lineno in facade:
                continue
            if module.startswith("rqe.solvers._") and module not in allowed:
                reached.append(f"{path.relative_to(PACKAGE.parent)}:{lineno} imports {module}")
    assert not reached, "\n".join(reached)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_has_a_place():
    """A new module must be put in a layer (or among the utilities), so that the test above sees it."""
    unplaced = [_name(p) for p in sorted(PACKAGE.rglob("*.py")) if _layer(_name(p)) is None and _name(p) not in UTILITIES]
    assert not unplaced, f"modules in no layer of tests/test_layers.py: {unplaced}"


def test_utilities_import_no_layer():
    """At run time: the facade's ``TYPE_CHECKING`` block (for type checkers only) is exempt."""
    reached = []
    for name in UTILITIES:
        path = PACKAGE / "__init__.py" if name == "rqe" else PACKAGE.parent.joinpath(*name.split(".")).with_suffix(".py")
        facade = _type_checking_lines(path) if path.name == "__init__.py" else set()
        for lineno, module in _imports(path):
            if _layer(module) is not None and lineno not in facade:
                reached.append(f"{path.relative_to(PACKAGE.parent)}:{lineno} imports {module}")
    assert not reached, "\n".join(reached)
