"""``cpmkit featurize``: a table's SMILES column in, a feature file and a rejects CSV out.

The input is read here (a CSV/TSV path or a registry name, through :func:`load_frame`); the
featurizing and the file format are :mod:`cpmkit.featurize.to_file`'s. Taught in
``notebooks/00_quickstart``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cpmkit.data.tables import load_frame
from cpmkit.featurize.to_file import FeaturizeFileResult, feature_path, featurize_to_file


def featurize_csv(
    source: str,
    scheme: str,
    out: str | os.PathLike,
    smiles_col: str | None = None,
    num_workers: int = 1,
) -> FeaturizeFileResult:
    """Featurize a CSV's (or a registry dataset's) SMILES column into ``OUT.pt`` / ``OUT.npz``.

    Parameters
    ----------
    source : str
        A CSV/TSV path or a registry name (``"bbbp"``).
    scheme : {"hu", "ogb", "ecfp", "maccs", "3d"}
    out : path
        Output path; ``.pt`` is added for graphs, ``.npz`` for fingerprints.
    smiles_col : str, optional
        The SMILES column (default: guessed, or the registry's).
    num_workers : int
        Processes to featurize on; the files are the same as with one.

    Raises
    ------
    FileNotFoundError, KeyError, ValueError
        No such file or dataset; no such column; a bad scheme or ``out`` suffix. All before
        any featurizing.

    Used by ``cpmkit featurize``; read the result back with
    :func:`cpmkit.featurize.to_file.load_features`. Taught in ``notebooks/00_quickstart``.
    """
    feature_path(out, scheme)  # a wrong --out suffix fails before the input is read
    if not Path(source).is_file() and ("/" in source or "." in source):
        raise FileNotFoundError(f"input file not found: {source}")
    frame, col, _, _ = load_frame(source, smiles_col=smiles_col)
    if col not in frame.columns:
        raise KeyError(
            f"{source} has no column {col!r}; its columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )
    return featurize_to_file(
        frame[col].tolist(), scheme, out, source=str(source), num_workers=num_workers
    )


__all__ = ["featurize_csv"]
