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
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data, InMemoryDataset

from cpmkit.data.fetch import cache_dir, sha256_file
from cpmkit.data.registry import DatasetInfo
from cpmkit.data.tables import load_frame, make_rejects, table_from_frame
from cpmkit.featurize.parse import FeaturizeError, quiet_rdkit

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


def _temp_beside(path: Path) -> Path:
    """A fresh temporary file name in ``path``'s folder (unique, so two builders never collide)."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    return Path(name)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = _temp_beside(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


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
    force_reload
        Featurize again even when a cache exists.

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
    ):
        if subset is not None and (int(subset) != subset or subset < 1):
            raise ValueError(f"subset must be a positive integer, got {subset!r}")
        if sample is not None and (int(sample) != sample or sample < 1):
            raise ValueError(f"sample must be a positive integer, got {sample!r}")
        if sample is not None and subset is not None:
            raise ValueError("give subset (the first rows) or sample (random rows), not both")
        self.scheme = scheme
        self.subset = None if subset is None else int(subset)
        self.sample = None if sample is None else (int(sample), int(sample_seed))
        self._featurize, self.version = _featurizer(scheme)
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
        table = table_from_frame(
            frame, smiles_col, label_cols, str(name), info.name if info else None, info
        )
        if source_rows is not None:  # positions in the sample -> rows of the source file
            table.rows = source_rows[table.rows]
            table.rejects["row"] = source_rows[table.rejects["row"].to_numpy(dtype=np.int64)]
        graphs = []
        bad_rows = table.rejects["row"].tolist()
        bad_smiles = table.rejects["smiles"].tolist()
        reasons = table.rejects["reason"].tolist()
        items = zip(table.smiles, table.mols, table.labels, table.rows)
        with quiet_rdkit():  # e.g. conformer-embedding warnings: failures become rejects
            for smiles, mol, labels, row in items:
                try:
                    data = _as_data(self._featurize(mol))
                except FeaturizeError as err:
                    bad_rows.append(int(row))
                    bad_smiles.append(smiles)
                    reasons.append(str(err))
                    continue
                data.y = torch.tensor(labels, dtype=torch.float32).view(1, -1)
                data.smiles = smiles
                data.row = torch.tensor([int(row)], dtype=torch.long)
                graphs.append(data)
        if not graphs:
            raise ValueError(
                f"no molecule of {name} could be featurized with scheme {self.scheme!r} "
                f"({table.n_read} rows read, all rejected)"
            )
        data_path = Path(self.processed_paths[0])
        tmp = _temp_beside(data_path)
        try:
            self.save(graphs, str(tmp))
            os.replace(tmp, data_path)
        finally:
            tmp.unlink(missing_ok=True)
        rejects = make_rejects(bad_rows, bad_smiles, reasons)
        _atomic_write_text(Path(self.processed_paths[1]), rejects.to_csv(index=False))
        meta = {
            "key": self.key,
            "name": info.name if info else str(name),
            "registry": info is not None,
            "n_read": table.n_read,
            "n_kept": len(graphs),
            "label_cols": list(label_cols),
            "smiles_col": smiles_col,
        }
        _atomic_write_text(Path(self.processed_paths[2]), json.dumps(meta, indent=1))

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
