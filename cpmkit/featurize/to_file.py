"""Featurize a list of SMILES into one file (what ``cpmkit featurize`` writes) and read it back.

Graph schemes (``hu``, ``ogb``, ``3d``) are saved as a PyG collate (``data`` dict + ``slices``)
with the kept ``rows`` and ``smiles`` (plain tensors, strings and dicts, so
``torch.load(weights_only=True)`` reads it); fingerprints as ``X`` (N, bits) with ``rows`` and
``smiles`` in an ``.npz``. Rejected rows go to ``<OUT>.rejects.csv`` (row, smiles, reason).
Reading the input table (a CSV or a registry dataset) is the data layer's job:
``cpmkit.data.features_file.featurize_csv``. Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cpmkit.atomic import atomic_path, atomic_torch_save, atomic_write_text
from cpmkit.featurize import FINGERPRINT_SCHEMES, SCHEMES, featurize_smiles, scheme_version

FEATURES_FORMAT = "cpmkit.features/1"


@dataclass
class FeaturizeFileResult:
    """What :func:`featurize_to_file` wrote: ``n_read == n_kept + n_rejected``."""

    n_read: int
    n_kept: int
    n_rejected: int
    features_path: Path
    rejects_path: Path


def feature_path(out: str | os.PathLike, scheme: str) -> Path:
    """``out`` with the suffix of ``scheme``'s file (``.pt`` for graphs, ``.npz`` for
    fingerprints); ValueError if ``out`` already names another feature suffix."""
    suffix = ".npz" if scheme in FINGERPRINT_SCHEMES else ".pt"
    out = Path(out)
    if out.suffix == suffix:
        return out
    if out.suffix in (".pt", ".npz", ".npy", ".csv"):
        raise ValueError(f"scheme {scheme!r} writes a {suffix} file; use --out {out.stem}{suffix}")
    return out.with_name(out.name + suffix)


def _save_graphs(path: Path, items: list, rows: np.ndarray, smiles: list, meta: dict) -> None:
    import torch
    from torch_geometric.data import InMemoryDataset

    for item, row in zip(items, rows):
        if "row" not in item:  # so that graph i of the saved set still names its source row
            item.row = torch.tensor([int(row)])
    data, slices = InMemoryDataset.collate(items) if items else (None, None)
    # plain tensors, strings and dicts only: loads with torch.load(weights_only=True)
    atomic_torch_save(
        {
            **meta,
            "rows": torch.as_tensor(rows, dtype=torch.long),
            "smiles": list(smiles),
            "data": data.to_dict() if data is not None else {},
            "slices": dict(slices) if slices is not None else {},
        },
        path,
    )


def _save_fingerprints(
    path: Path, items: list, rows: np.ndarray, smiles: list, meta: dict
) -> None:
    X = np.stack([np.asarray(x) for x in items]) if items else np.zeros((0, 0), dtype=np.uint8)
    # a file object: given a name without ".npz", numpy would add one
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(
            handle,
            X=X,
            rows=np.asarray(rows, dtype=np.int64),
            smiles=np.asarray(smiles, dtype=str),
            **{k: np.asarray(v) for k, v in meta.items()},
        )


def featurize_to_file(
    smiles: list,
    scheme: str,
    out: str | os.PathLike,
    *,
    source: str = "",
    num_workers: int = 1,
) -> FeaturizeFileResult:
    """Featurize ``smiles`` (one entry per input row) into ``OUT.pt`` or ``OUT.npz``.

    Parameters
    ----------
    smiles : list
        The input column; ``None``, NaN and bad SMILES become rejects with their row.
    scheme : {"hu", "ogb", "ecfp", "maccs", "3d"}
    out : path
        Output path; the scheme's suffix is added when missing.
    source : str
        Where the SMILES came from, stored in the file.
    num_workers : int
        Processes to featurize on (:func:`cpmkit.featurize.featurize_smiles`); same file.

    Returns
    -------
    FeaturizeFileResult
        Counts and the two paths. Read the features back with :func:`load_features`.

    Taught in ``notebooks/00_quickstart``.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    features_path = feature_path(out, scheme)
    result = featurize_smiles(smiles, scheme, num_workers=num_workers)
    rows = np.asarray(result.rows, dtype=np.int64)
    kept_smiles = ["" if smiles[r] is None else str(smiles[r]) for r in rows]
    meta = {"format": FEATURES_FORMAT, "scheme": scheme, "version": scheme_version(scheme),
            "n_read": int(result.n_read), "source": str(source)}  # fmt: skip
    save = _save_fingerprints if scheme in FINGERPRINT_SCHEMES else _save_graphs
    save(features_path, list(result.items), rows, kept_smiles, meta)
    rejects_path = features_path.with_name(features_path.stem + ".rejects.csv")
    rejects = result.rejects.reindex(columns=["row", "smiles", "reason"])
    atomic_write_text(rejects_path, rejects.to_csv(index=False))
    return FeaturizeFileResult(
        n_read=int(result.n_read),
        n_kept=len(rows),
        n_rejected=len(rejects),
        features_path=features_path,
        rejects_path=rejects_path,
    )


def load_features(path: str | os.PathLike):
    """Read a file written by :func:`featurize_to_file` (``cpmkit featurize``).

    Returns a PyG ``InMemoryDataset`` for a ``.pt`` file (graph ``i`` has ``.row``, its
    source row) and a dict with ``X``, ``rows``, ``smiles``, ``scheme`` for a ``.npz`` file.
    Taught in ``notebooks/00_quickstart``.
    """
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            return {k: (npz[k].item() if npz[k].ndim == 0 else npz[k]) for k in npz.files}
    import torch
    from torch_geometric.data import Data, InMemoryDataset

    saved = torch.load(path, weights_only=True)
    dataset = InMemoryDataset()
    if saved["data"]:
        dataset._data = Data.from_dict(saved["data"])
        dataset.slices = saved["slices"]
    dataset.rows = saved["rows"]
    dataset.smiles_list = saved["smiles"]
    dataset.scheme = saved["scheme"]
    return dataset


__all__ = [
    "FEATURES_FORMAT",
    "FeaturizeFileResult",
    "feature_path",
    "featurize_to_file",
    "load_features",
]
