"""environment.yml (conda) and pyproject.toml (pip) install the same packages."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge name -> PyPI name where the two differ
CONDA_TO_PIP = {"pytorch": "torch", "pytorch_geometric": "torch-geometric"}
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    """PEP 503: case, '_' and '.' do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def name_of(spec: str) -> str:
    match = NAME.match(spec)
    assert match, f"no package name in {spec!r}"
    return match.group(1)


def environment():
    """(conda names mapped to pip names, pip-section names, the pip section itself)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda, pip = [], []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
        else:
            conda.append(name_of(entry))
    mapped = {normalise(CONDA_TO_PIP.get(n, n)) for n in conda} - {"python", "pip"}
    pip_names = {normalise(name_of(s)) for s in pip if not s.startswith("-e")}
    return mapped, pip_names, pip, env["dependencies"]


def pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {normalise(name_of(s)) for s in specs}


def test_environment_and_pyproject_name_the_same_packages():
    conda, pip, _, _ = environment()
    wanted = pyproject_names()
    listed = conda | pip
    assert not wanted - listed, (
        f"in pyproject.toml, missing from environment.yml: {wanted - listed}"
    )
    assert not listed - wanted, (
        f"in environment.yml, missing from pyproject.toml: {listed - wanted}"
    )


def test_each_package_comes_from_one_place_and_cpmkit_last():
    conda, pip, pip_section, dependencies = environment()
    assert not conda & pip, f"both from conda and from pip: {conda & pip}"
    assert pip_section[-1] == "-e ."  # cpmkit itself, after everything it needs
    assert "python=3.11" in dependencies
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"  # 3.11 above satisfies it


def test_conda_torch_is_the_cpu_build_in_pyprojects_range():
    _, _, _, dependencies = environment()
    (torch,) = [d for d in dependencies if isinstance(d, str) and d.startswith("pytorch[")]
    assert "build='cpu*'" in torch
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (pip_torch,) = [d for d in project["dependencies"] if name_of(d) == "torch"]
    assert pip_torch[len("torch") :] in torch  # the same version range
