"""cpmkit.reproduce: a YAML spec runs its notebook with the parameters of the chosen scale."""

import json

import pytest

from cpmkit.reproduce import load_spec, reproduce
from tests.test_run import _notebook, python3_kernel  # noqa: F401  (the kernel fixture)

SPEC = """
name: toy
notebook: notebooks/00_toy.ipynb
published: published.csv
scales:
  teach: {profile: teach, parameters: {num_epochs: 7}}
  paper: {profile: paper}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'toy'\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "published.csv").write_text("dataset,mean\nx,1\n")
    _notebook(
        tmp_path / "notebooks" / "00_toy.ipynb",
        "import pandas as pd\nfrom cpmkit.report import save_results\n"
        "save_results('00_toy', {'profile': profile, 'num_epochs': num_epochs},\n"
        "             pd.DataFrame({'x': [1]}), {'epochs': num_epochs})",
    )
    spec = tmp_path / "toy.yml"
    spec.write_text(SPEC)
    return tmp_path, spec


def test_scale_parameters_reach_the_notebook(project):
    root, spec = project
    record = reproduce(spec, scale="teach", progress=False)
    assert record.status == "ok", record.error
    out = root / "reproductions" / "toy" / "teach"
    results = json.loads((out / "00_toy.results.json").read_text())
    assert results["profile"] == "teach" and results["headline"] == {"epochs": 7}
    assert (out / "SUMMARY.md").is_file()


def test_spec_errors_are_clear(project, tmp_path):
    _, spec = project
    with pytest.raises(KeyError, match="no scale 'huge'"):
        load_spec(spec).scale("huge")
    broken = tmp_path / "broken.yml"
    broken.write_text(SPEC.replace("00_toy", "99_missing"))
    with pytest.raises(FileNotFoundError, match="99_missing"):
        load_spec(broken)
    assert load_spec(spec).scale("paper") == ("paper", {})


def test_committed_specs_are_valid():
    from pathlib import Path

    for path in Path(__file__).resolve().parents[1].glob("reproductions/*.yml"):
        spec = load_spec(path)
        assert "teach" in spec.scales and "paper" in spec.scales, path
        # every parameter a scale sets is one the notebook's parameters cell declares
        declared = notebook_parameters(spec.notebook)
        for scale in spec.scales:
            _, parameters = spec.scale(scale)
            unknown = set(parameters) - declared
            assert not unknown, (path, scale, unknown)


def notebook_parameters(notebook):
    import json
    import re

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    cell = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "".join(cell["source"])
    return set(re.findall(r"^(\w+)\s*=", source, flags=re.M))
