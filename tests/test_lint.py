"""The linters run as part of the test suite: ruff on the whole tree and mypy on the public
contract (configured in pyproject.toml), and every public function has a return annotation."""

import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_TIMEOUT = 300
"""Seconds allowed to each linter (a cold mypy run takes about 20 s on a loaded 2-core machine)."""


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e .[test] installs it)")
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=LINT_TIMEOUT)


def test_ruff():
    out = _run("ruff", "check", "--no-cache", ".")
    assert out.returncode == 0, f"ruff check failed (rules in pyproject.toml [tool.ruff]):\n{out.stdout}{out.stderr}"


def test_mypy(tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "mypy_cache"
    out = _run("mypy", "--cache-dir", str(cache))
    assert out.returncode == 0, f"mypy failed (files in pyproject.toml [tool.mypy]):\n{out.stdout}{out.stderr}"


def _public_callables():
    spec = importlib.util.spec_from_file_location("build_api", ROOT / "docs" / "build_api.py")
    build_api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_api)
    for name, obj in build_api.public_objects():
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and not attr.startswith("_"):
                    yield f"{name}.{attr}", member


def test_public_functions_have_return_annotations():
    missing = sorted({name for name, func in _public_callables() if "return" not in func.__annotations__})
    assert not missing, f"public functions without a return annotation: {missing}"
