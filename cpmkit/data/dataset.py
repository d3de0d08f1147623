"""A featurized molecule dataset (PyG ``InMemoryDataset``) with an on-disk cache.

``MoleculeDataset("bbbp", scheme="hu")`` reads the table (``read_molecules``), turns every
kept molecule into a graph with ``cpmkit.featurize.featurize_mol(mol, scheme)`` and saves the
result under ``cache_dir()/processed/<name>/<scheme version>/``; a second load only calls
``torch.load``. The cache folder is keyed on the dataset, the featurizer scheme and its
``VERSION`` (and ``subset``), so changing a featurizer's version never serves stale tensors.

Molecules that do not parse, or that the featurizer cannot represent (``FeaturizeError``, e.g.
a dative bond under the Hu et al. scheme), become rejects with their row and reason; the rejects
are saved beside the tensors, so ``n_read == len(dataset) + len(dataset.rejects)`` holds after a
reload too. Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data, InMemoryDataset

from cpmkit.atomic import atomic_path, atomic_write_text
from cpmkit.data.fetch import cache_dir, sha256_file
from cpmkit.data.registry import DatasetInfo
from cpmkit.data.tables import load_frame, make_rejects, table_from_frame
from cpmkit.featurize.parallel import check_num_workers, map_chunks
from cpmkit.featurize.parse import FeaturizeError, quiet_rdkit
from cpmkit.featurize.standardize import check_standardize

# bump when what process() stores changes, so old caches are rebuilt
CACHE_FORMAT = "cpmkit-dataset-1"


def _featurizer(scheme: str):
    """``(featurize(mol) -> Data, version)`` for ``scheme`` from ``cpmkit.featurize``."""
    from cpmkit.featurize import featurize_mol, scheme_version

    return (lambda mol: featurize_mol(mol, scheme)), str(scheme_version(scheme))


def _as_data(item) -> Data:
    """Graph schemes return ``Data``; a vector scheme (fingerprints) becomes ``Data(x=(1, D))``."""
    if isinstance(item, Data):
        return item
    return Data(x=torch.as_tensor(np.asarray(item)).unsqueeze(0))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "data"


def _featurize_rows(
    frame: pd.DataFrame, start: int, smiles_col, label_cols, source, scheme, standardize=None
):
    """Parse and featurize a slice of the table that begins at frame row ``start``.

    Returns ``(graphs, rows, rejects)``: graphs with ``y`` and ``smiles``, their frame rows,
    and ``(row, smiles, reason)`` for each parse or featurizer reject. Module-level, so that a
    worker process can run it (:func:`cpmkit.featurize.parallel.map_chunks`).
    """
    table = table_from_frame(frame, smiles_col, label_cols, source, standardize=standardize)
    featurize = _featurizer(scheme)[0]
    rejects = [(start + int(r), s, why) for r, s, why in table.rejects.itertuples(index=False)]
    graphs, rows = [], []
    items = zip(table.smiles, table.mols, table.labels, table.rows)
    with quiet_rdkit():  # e.g. conformer-embedding warnings: failures become rejects
        for smiles, mol, labels, row in items:
            try:
                data = _as_data(featurize(mol))
            except FeaturizeError as err:
                rejects.append((start + int(row), smiles, str(err)))
                continue
            data.y = torch.tensor(labels, dtype=torch.float32).view(1, -1)
            data.smiles = smiles
            graphs.append(data)
            rows.append(start + int(row))
    return graphs, rows, rejects


class MoleculeDataset(InMemoryDataset):
    """Graphs of a registry dataset or a CSV file, cached on disk.

    Parameters
    ----------
    name
        A registry name (``"bbbp"``) or a path to a CSV file.
    scheme
        A graph scheme of ``cpmkit.featurize`` (``"hu"``, ``"ogb"``, ...).
    root
        Cache root; default ``cache_dir() / "processed"``.
    subset
        Use only the first ``subset`` data rows (a quick run; cached separately).
    sample, sample_seed
        Use ``sample`` data rows drawn at random without replacement (NumPy generator seeded
        with ``sample_seed``), in file order; ``row`` still names the source row. A seeded
        slice of a large corpus (MOSES) for a pre-training run that fits its time budget.
    smiles_col, label_cols
        Override the registry's columns, or name them for a CSV (default: a ``smiles`` column,
        no labels).
    standardize
        ``None`` (the file's molecules) or ``"uncharge"`` (neutralise acids and bases first;
        ``smiles`` then holds the standardised canonical SMILES); cached separately.
    force_reload
        Featurize again even when a cache exists.
    num_workers
        Processes that parse and featurize a first build (chunks of rows, in order); the cache
        is the same as with one, so it is not part of the cache key.

    Each graph carries ``y`` (float, shape ``(1, T)``, NaN = missing label), ``smiles`` and
    ``row`` (the 0-based data row in the source file). The dataset exposes ``rejects``
    (DataFrame ``row, smiles, reason``), ``n_read``, ``info``, ``num_tasks``, ``label_cols``,
    ``smiles`` and ``rows``. Taught in ``notebooks/11_property_prediction``.
    """

    def __init__(
        self,
        name,
        scheme: str = "hu",
        root: str | os.PathLike | None = None,
        subset: int | None = None,
        *,
        sample: int | None = None,
        sample_seed: int = 0,
        smiles_col: str | None = None,
        label_cols: list[str] | None = None,
        transform=None,
        force_reload: bool = False,
        num_workers: int = 1,
        standardize: str | None = None,
    ):
        if subset is not None and (int(subset) != subset or subset < 1):
            raise ValueError(f"subset must be a positive integer, got {subset!r}")
        if sample is not None and (int(sample) != sample or sample < 1):
            raise ValueError(f"sample must be a positive integer, got {sample!r}")
        if sample is not None and subset is not None:
            raise ValueError("give subset (the first rows) or sample (random rows), not both")
        self.scheme = scheme
        self.standardize = check_standardize(standardize)
        self.num_workers = check_num_workers(num_workers)  # how to build, not what: not in the key
        self.subset = None if subset is None else int(subset)
        self.sample = None if sample is None else (int(sample), int(sample_seed))
        self.version = _featurizer(scheme)[1]
        self._args = (name if isinstance(name, str) else str(name), smiles_col, label_cols)
        self.key, folder = self._cache_key(name, smiles_col, label_cols)
        root = Path(root) if root is not None else cache_dir() / "processed"
        self._dir = root / folder
        meta_path = self._dir / "meta.json"
        if meta_path.is_file() and json.loads(meta_path.read_text())["key"] != self.key:
            force_reload = True  # same folder, different ingredients: rebuild
        super().__init__(str(root), transform=transform, log=False, force_reload=force_reload)
        self.load(self.processed_paths[0])
        meta = json.loads(meta_path.read_text())
        self.n_read = int(meta["n_read"])
        self.label_cols = list(meta["label_cols"])
        self.name = meta["name"]
        self.info: DatasetInfo | None = None
        if meta["registry"]:
            from cpmkit.data.registry import get_dataset_info

            self.info = get_dataset_info(meta["name"])
        self.rejects = pd.read_csv(
            self._dir / "rejects.csv",
            dtype={"row": "int64", "smiles": object, "reason": object},
            keep_default_na=False,
        )

    # -- cache layout ---------------------------------------------------------------------
    def _cache_key(self, name, smiles_col, label_cols) -> tuple[dict, str]:
        from cpmkit.data.registry import list_datasets

        registry = {info.name: info for info in list_datasets()}
        key = {
            "format": CACHE_FORMAT,
            "scheme": self.scheme,
            "version": self.version,
            "subset": self.subset,
            "sample": None if self.sample is None else list(self.sample),
            "smiles_col": smiles_col,
            "label_cols": None if label_cols is None else list(label_cols),
        }
        if self.standardize is not None:  # absent by default, so earlier caches keep their key
            key["standardize"] = self.standardize
        if isinstance(name, str) and name in registry:
            info = registry[name]
            key.update(name=name, source=info.main_file.sha256 if info.files else info.embedded)
            folder = name
        else:
            path = Path(name).expanduser().resolve()
            if not path.is_file():
                raise FileNotFoundError(
                    f"{str(name)!r} is neither a registry dataset nor a file; "
                    f"known datasets: {', '.join(registry)}"
                )
            digest = sha256_file(path)
            key.update(name=path.name, source=digest)
            folder = f"csv-{_slug(path.name)}-{digest[:12]}"
        version = (
            self.version
            if self.version.startswith(f"{self.scheme}-")
            else (f"{self.scheme}-{self.version}")
        )
        sub = _slug(version)
        if self.subset is not None:
            sub += f"-first{self.subset}"
        if self.sample is not None:
            sub += f"-sample{self.sample[0]}-seed{self.sample[1]}"
        if self.standardize is not None:
            sub += f"-{self.standardize}"
        if smiles_col is not None or label_cols is not None:
            cols = json.dumps([smiles_col, key["label_cols"]]).encode()
            sub += f"-cols{hashlib.sha256(cols).hexdigest()[:8]}"
        return key, f"{folder}/{sub}"

    @property
    def processed_dir(self) -> str:
        return str(self._dir)

    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        # meta.json is written last: a run cut short leaves no meta, so the next one rebuilds
        return ["data.pt", "rejects.csv", "meta.json"]

    # -- building -------------------------------------------------------------------------
    def process(self) -> None:
        name, smiles_col, label_cols = self._args
        frame, smiles_col, label_cols, info = load_frame(
            name, smiles_col, label_cols, nrows=self.subset
        )
        source_rows = None
        if self.sample is not None:
            size, seed = self.sample
            size = min(size, len(frame))
            draw = np.random.default_rng(seed).choice(len(frame), size, replace=False)
            source_rows = np.sort(draw)
            frame = frame.iloc[source_rows].reset_index(drop=True)
        parts = map_chunks(
            _featurize_rows, frame, self.num_workers, smiles_col, label_cols, str(name),
            self.scheme, self.standardize,
        )  # fmt: skip
        graphs = [graph for part in parts for graph in part[0]]
        rows = np.asarray([row for part in parts for row in part[1]], dtype=np.int64)
        bad = [reject for part in parts for reject in part[2]]
        bad_rows = np.asarray([row for row, _, _ in bad], dtype=np.int64)
        if source_rows is not None:  # positions in the sample -> rows of the source file
            rows, bad_rows = source_rows[rows], source_rows[bad_rows]
        for data, row in zip(graphs, rows.tolist()):
            data.row = torch.tensor([int(row)], dtype=torch.long)
        if not graphs:
            raise ValueError(
                f"no molecule of {name} could be featurized with scheme {self.scheme!r} "
                f"({len(frame)} rows read, all rejected)"
            )
        with atomic_path(self.processed_paths[0]) as tmp:
            self.save(graphs, str(tmp))
        rejects = make_rejects(bad_rows, [s for _, s, _ in bad], [why for _, _, why in bad])
        atomic_write_text(self.processed_paths[1], rejects.to_csv(index=False))
        meta = {
            "key": self.key,
            "name": info.name if info else str(name),
            "registry": info is not None,
            "n_read": len(frame),
            "n_kept": len(graphs),
            "label_cols": list(label_cols),
            "smiles_col": smiles_col,
        }
        atomic_write_text(self.processed_paths[2], json.dumps(meta, indent=1))

    # -- views ----------------------------------------------------------------------------
    @property
    def num_tasks(self) -> int:
        """Number of label columns ``T`` (``y`` has shape ``(1, T)`` per graph)."""
        return len(self.label_cols)

    @property
    def smiles(self) -> list[str]:
        """SMILES of the graphs in this (possibly indexed) dataset, in order."""
        every = self._data.smiles
        return list(every) if self._indices is None else [every[i] for i in self.indices()]

    @property
    def rows(self) -> np.ndarray:
        """Source data row of each graph in this (possibly indexed) dataset, in order."""
        every = self._data.row.numpy()
        return every.copy() if self._indices is None else every[np.asarray(self.indices())]

    @property
    def labels(self) -> torch.Tensor:
        """All ``y`` stacked: float ``(len(self), T)``, NaN = missing."""
        every = self._data.y
        return every.clone() if self._indices is None else every[torch.as_tensor(self.indices())]

    def summary(self) -> str:
        """One line: ``bbbp/hu-1: read N, kept K, rejected R, T tasks``."""
        return (
            f"{self.name}/{self.version}: read {self.n_read}, kept {len(self)}, "
            f"rejected {len(self.rejects)}, {self.num_tasks} tasks"
        )

    def __repr__(self) -> str:
        return f"MoleculeDataset({self.name!r}, scheme={self.scheme!r}, n={len(self)})"


__all__ = ["CACHE_FORMAT", "MoleculeDataset"]
