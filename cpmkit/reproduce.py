"""Reproductions: a YAML file names a lesson notebook, the parameters of each scale, and the
published numbers it is held against; :func:`reproduce` runs it with papermill.

A spec (``reproductions/<name>.yml``)::

    name: hu2020_table2
    title: Hu et al. (ICLR 2020), Table 2
    notebook: notebooks/11_property_prediction.ipynb
    published: reproductions/published/hu2020.csv
    scales:
      teach: {profile: teach, parameters: {...}}   # the committed CPU scale
      paper: {profile: paper, parameters: {}}      # the published setting, for a GPU

The executed notebook, its results (JSON/CSV), tables and figures land in
``reproductions/<name>/<scale>/``, so the committed scale can be read without running anything.
Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cpmkit.run import RunRecord, project_root, run_notebooks


@dataclass
class ReproductionSpec:
    """One reproduction: which notebook, with which parameters at each scale."""

    name: str
    title: str
    notebook: Path
    published: Path | None
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def scale(self, scale: str) -> tuple[str, dict[str, Any]]:
        """``(profile, parameters)`` of one scale; a clear error names the known scales."""
        if scale not in self.scales:
            raise KeyError(
                f"{self.path or self.name}: no scale {scale!r}; it has {', '.join(self.scales)}"
            )
        entry = self.scales[scale] or {}
        return entry.get("profile", scale), dict(entry.get("parameters") or {})


def load_spec(path: str | os.PathLike) -> ReproductionSpec:
    """Read and check a reproduction YAML; paths in it are relative to the project root."""
    path = Path(path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [key for key in ("name", "notebook", "scales") if key not in spec]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}")
    root = project_root(path.resolve().parent)
    notebook = root / spec["notebook"]
    if not notebook.is_file():
        raise FileNotFoundError(f"{path}: notebook {spec['notebook']} does not exist")
    published = root / spec["published"] if spec.get("published") else None
    if published is not None and not published.is_file():
        raise FileNotFoundError(f"{path}: published numbers {spec['published']} do not exist")
    return ReproductionSpec(
        name=spec["name"],
        title=spec.get("title", spec["name"]),
        notebook=notebook,
        published=published,
        scales=dict(spec["scales"]),
        path=path,
    )


def reproduce(path: str | os.PathLike, scale: str = "teach", out_dir=None,
              progress: bool = True) -> RunRecord:  # fmt: skip
    """Run one reproduction at one scale; returns the run record (status, runtime, output).

    Output goes to ``reproductions/<name>/<scale>/`` unless ``out_dir`` is given.
    """
    spec = load_spec(path)
    profile, parameters = spec.scale(scale)
    out = (
        Path(out_dir)
        if out_dir
        else project_root(spec.notebook.parent) / "reproductions" / (spec.name) / scale
    )
    (record,) = run_notebooks(
        [spec.notebook], profile=profile, out_dir=out, parameters=parameters, progress=progress
    )
    return record
