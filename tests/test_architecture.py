"""The layers of ARCHITECTURE.md hold: no module imports a layer it must not know of.

data -> featurize -> models -> pretrain -> tasks -> run/report -> cli, each knowing only what
the table in ARCHITECTURE.md says. Every ``import`` in every module of ``cpmkit/`` counts,
function-level ones included (a lazy import is still a dependency). The checker is tested on
synthetic bad imports, so this test can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cpmkit"

# cpmkit/<name>.py modules that any layer may import (small, import no layer themselves)
UTILITIES = {"seed", "device", "atomic", "config"}
# may import anything: the package's own entry points
FREE = {"cpmkit", "cpmkit.__main__"}
LAYERS = ("data", "featurize", "models", "pretrain", "tasks", "app", "cli")  # as drawn
# ARCHITECTURE.md's "knows of" column (besides itself and the utilities). The drawing puts data
# first, but data builds its cached tensors with featurize and featurize never knows datasets;
# models know no data; tasks know models and data, never the strategies of pretrain (a
# pre-training folder is read through data.weights.part_path); the app layer may use any below.
MAY_IMPORT = {
    "featurize": set(),
    "data": {"featurize"},
    "models": {"featurize"},
    "pretrain": {"featurize", "data", "models"},
    "tasks": {"featurize", "data", "models"},
    "app": {"featurize", "data", "models", "pretrain", "tasks"},
    "cli": {"featurize", "data", "models", "pretrain", "tasks", "app"},
    "utility": set(),
}


def layer_of(module: str) -> str | None:
    """The layer of a ``cpmkit`` module name; None for a module outside the kit or a FREE one."""
    parts = module.split(".")
    if parts[0] != "cpmkit" or module in FREE:
        return None
    if len(parts) == 1:
        return None
    head = parts[1]
    if head in LAYERS[:5]:
        return head
    if head == "cli":
        return "cli"
    if head in UTILITIES:
        return "utility"
    return "app"  # run, report, results, comparison, profiles, reproduce, lessons, plotting, ...


def module_name(path: Path, root: Path = PACKAGE) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, module)`` for every import in ``source``, at any depth; relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from ..data import y
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from cpmkit import data` imports the subpackage cpmkit.data
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names
                      if target == "cpmkit" and alias.name in (*LAYERS, *UTILITIES)]  # fmt: skip
    return found


def violations(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """``module:line imports target (layer a may not know layer b)`` for each bad import.

    ``sources`` maps a module name to ``(source text, is_package)``.
    """
    bad = []
    for module, (source, is_package) in sorted(sources.items()):
        layer = layer_of(module)
        if layer is None:
            continue
        for line, target in imported_modules(source, module, is_package):
            other = layer_of(target)
            if other is None or other == layer or other == "utility":
                continue
            if other not in MAY_IMPORT[layer]:
                bad.append(f"{module}:{line} imports {target} ({layer} may not know {other})")
    return bad


def package_sources() -> dict[str, tuple[str, bool]]:
    return {
        module_name(path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def test_no_module_imports_a_layer_it_must_not_know():
    sources = package_sources()
    assert "cpmkit.data.dataset" in sources and "cpmkit.pretrain.loop" in sources
    assert violations(sources) == []


def test_every_module_has_a_layer():
    unknown = [m for m in package_sources() if m not in FREE and layer_of(m) is None]
    assert unknown == []


@pytest.mark.parametrize(
    "module, source, words",
    [
        # the import this refactor removed: a model fetching its weights
        ("cpmkit.models.pretrained", "def f():\n    from cpmkit.data.fetch import fetch_file\n",
         "models may not know data"),
        ("cpmkit.featurize.graph_hu", "import cpmkit.data.tables\n",
         "featurize may not know data"),
        ("cpmkit.data.dataset", "from cpmkit.models.gnn import GNN\n", "data may not know models"),
        ("cpmkit.data.splits", "from ..pretrain import loop\n", "data may not know pretrain"),
        ("cpmkit.tasks.metrics", "from cpmkit.report import save_results\n",
         "tasks may not know app"),
        # the import the review found: fine-tuning reading a part path from the loop
        ("cpmkit.tasks.finetune", "from cpmkit.pretrain.loop import part_path\n",
         "tasks may not know pretrain"),
        ("cpmkit.report", "if True:\n    import cpmkit.cli\n", "app may not know cli"),
        ("cpmkit.seed", "from cpmkit import data\n", "utility may not know data"),
    ],
)  # fmt: skip
def test_checker_finds_a_bad_import(module, source, words):
    (found,) = violations({module: (source, False)})
    assert words in found and found.startswith(f"{module}:")


def test_checker_allows_what_the_table_allows():
    allowed = {
        "cpmkit.data.dataset": ("from cpmkit.featurize import featurize_mol\n", False),
        "cpmkit.models.molgpt": ("from cpmkit.featurize.properties import PROPERTIES\n", False),
        "cpmkit.pretrain": (
            "from .supervised import SupervisedPretraining\n"
            + "from cpmkit.data.supervised_corpus import supervised_corpus\n",
            True,
        ),
        "cpmkit.tasks.finetune": (
            "from cpmkit.data.weights import weights_path\n"
            + "from cpmkit.atomic import atomic_path\n",
            False,
        ),
        "cpmkit.cli": ("def f():\n    from cpmkit.run import run_notebooks\n", False),
        "cpmkit.__main__": ("from cpmkit.cli import main\n", False),
    }  # fmt: skip
    assert violations(allowed) == []
    # relative imports resolve against the package, so they are checked like absolute ones
    lines = imported_modules("from ..data import splits\n", "cpmkit.models.gnn")
    assert lines == [(1, "cpmkit.data")]
