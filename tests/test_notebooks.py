"""The teaching notebooks in examples/ run top to bottom, quickly, and are committed without outputs.

Runner: nbclient (not nbmake), so that the suite needs no pytest plugin and each notebook is an
ordinary parametrised test.  Each notebook is executed in a fresh ``python3`` kernel (ipykernel)
with ``examples/`` as working directory, the checkout under test first on ``PYTHONPATH`` (so the
kernel imports this ``rqe``, not an installed copy) and the Agg-backed inline backend; any cell
error fails the test.  No wall-clock budget is asserted (a busy machine must not fail the
suite); ``CELL_TIMEOUT`` only stops a kernel that hangs.
"""

import os
import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
CELL_TIMEOUT = 1800      # seconds per cell: a guard against a hung kernel, not a performance budget


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_nash_qre_rqe.ipynb", "02_free_riding.ipynb", "03_gaussian_theorem1.ipynb",
            "04_fitting_experimental_data.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs; strip them before committing"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_prose_figures_and_tagged_solutions(path):
    nb = nbformat.read(path, as_version=4)
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 4
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "plotting." in code or "plt." in code
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert solutions, f"{path.name}: exercises need solution cells tagged 'solution'"
    assert all(c.cell_type == "code" for c in solutions)
    assert any("Exercise" in c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
