"""Static checks of the lesson notebooks against STYLE.md's notebook rules (no kernel needed).

Executing the notebooks is nbval's job: ``make test`` runs
``CPMKIT_PROFILE=ci python -m pytest tests --nbval-lax --nbval-current-env notebooks``.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
SECTIONS = ["## Aim", "## Theory", "## Practice", "## Discussion", "## Exercises", "## References"]

needs_notebooks = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks under notebooks/ yet")
each_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


def _read(path):
    return nbformat.read(path, as_version=4)


def _parameters_cell(nb):
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged `parameters`"
    return tagged[0]


@needs_notebooks
@each_notebook
def test_name_and_title(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name notebooks NN_snake_name"
    first = _read(path).cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith(f"# {path.name[:2]} · "), "title line: `# NN · Title`"


@needs_notebooks
@each_notebook
def test_skeleton_sections_in_order(path):
    headings = [
        line.strip()
        for cell in _read(path).cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    found = [h for h in headings if h in SECTIONS]
    assert found == SECTIONS, f"sections {found}, expected {SECTIONS} in this order"


@needs_notebooks
@each_notebook
def test_parameters_cell_holds_commented_literals(path):
    cell = _parameters_cell(_read(path))
    tree = ast.parse(cell.source)
    names = []
    for node in tree.body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, (
            f"only `name = literal` lines in the parameters cell: {ast.unparse(node)}"
        )
        ast.literal_eval(node.value)  # raises on anything that is not a literal
        names.append(node.targets[0].id)
        line = cell.source.splitlines()[node.lineno - 1]
        assert "#" in line, f"each parameter needs a comment: {line.strip()}"
    assert "profile" in names
    assert re.search(r"^profile\s*=\s*None\b", cell.source, re.M), "`profile = None` by default"


@needs_notebooks
@each_notebook
def test_committed_clean(path):
    nb = _read(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not cell.outputs and cell.execution_count is None, "strip outputs before commit"
        for line in cell.source.splitlines():
            assert not re.match(r"\s*[!%](pip|conda|mamba)\b", line), f"no installs: {line}"
