"""Read a molecule table (a registry dataset or any CSV) into molecules, labels and rejects.

Nothing is dropped silently: every row that RDKit cannot parse is kept in ``rejects`` with its
original 0-based data row index and the reason, so ``n_read == len(smiles) + len(rejects)``
always holds. SMILES are never edited to keep a row count; they are rewritten only when a
standardisation is asked for (``standardize="uncharge"``, :mod:`cpmkit.featurize.standardize`),
and then ``n_standardized`` counts the molecules it changed. Taught in
``notebooks/00_quickstart``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from cpmkit.data.embedded import load_embedded
from cpmkit.data.fetch import fetch_file
from cpmkit.data.registry import DatasetInfo, get_dataset_info, list_datasets
from cpmkit.featurize.parse import canonical_smiles, parse_smiles
from cpmkit.featurize.standardize import check_standardize, standardize_mol

REJECT_COLUMNS = ["row", "smiles", "reason"]


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows and the standard columns ``row, smiles, reason``."""
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "smiles": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
        }
    )


def make_rejects(rows, smiles, reasons) -> pd.DataFrame:
    """A rejects table sorted by row, from three parallel sequences."""
    if len(rows) == 0:
        return empty_rejects()
    table = pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "smiles": pd.Series(list(smiles), dtype=object),
            "reason": pd.Series(list(reasons), dtype=object),
        }
    )
    return table.sort_values("row", kind="stable").reset_index(drop=True)


@dataclass
class MoleculeTable:
    """Parsed molecules with their labels and the rows that did not parse.

    ``smiles[i]``, ``mols[i]``, ``labels[i]`` and ``rows[i]`` describe the same kept molecule;
    ``rows[i]`` is its 0-based data row in the source (header and blank lines not counted).
    ``labels`` is float with NaN for a missing label, shape ``(len(smiles), len(label_cols))``.
    """

    smiles: list[str]
    mols: list[Chem.Mol]
    labels: np.ndarray
    rows: np.ndarray
    rejects: pd.DataFrame
    n_read: int
    label_cols: list[str]
    name: str | None = None
    info: DatasetInfo | None = field(default=None, repr=False)
    #: the standardisation applied to every kept molecule (None: the file's SMILES as read)
    standardize: str | None = None
    #: how many kept molecules the standardisation changed (their SMILES were rewritten)
    n_standardized: int = 0

    def __len__(self) -> int:
        return len(self.smiles)

    @property
    def num_tasks(self) -> int:
        return len(self.label_cols)

    def summary(self) -> str:
        """One line: ``read N, kept K, rejected R``."""
        return f"read {self.n_read}, kept {len(self.smiles)}, rejected {len(self.rejects)}"


def _is_registry_name(source) -> bool:
    if not isinstance(source, str) or "/" in source or "\\" in source or "." in source:
        return False
    return source in {info.name for info in list_datasets()}


def _read_frame(path: Path, sep: str, nrows: int | None, smiles_col: str) -> pd.DataFrame:
    # skip_blank_lines (pandas' default) absorbs HIV.csv's CR LF LF endings; the C parser takes
    # CR LF (SAMPL.csv) as one line end. SMILES stay text even when a cell looks numeric.
    return pd.read_csv(
        path, sep=sep, nrows=nrows, skip_blank_lines=True, dtype={smiles_col: object}
    )


def _labels(frame: pd.DataFrame, label_cols: list[str], source: str) -> np.ndarray:
    out = np.empty((len(frame), len(label_cols)), dtype=np.float64)
    for j, col in enumerate(label_cols):
        try:
            out[:, j] = pd.to_numeric(frame[col], errors="raise").to_numpy(dtype=np.float64)
        except (ValueError, TypeError) as err:
            raise ValueError(f"label column {col!r} of {source} is not numeric: {err}") from err
    return out


def _guess_smiles_col(columns: list[str], source: str) -> str:
    for col in columns:
        if str(col).strip().lower() in ("smiles", "smi", "canonical_smiles", "mol"):
            return col
    raise ValueError(
        f"no SMILES column found in {source}; pass smiles_col= (columns: {', '.join(columns)})"
    )


def table_from_frame(
    frame: pd.DataFrame,
    smiles_col: str,
    label_cols: list[str] | None = None,
    source: str = "the table",
    name: str | None = None,
    info: DatasetInfo | None = None,
    standardize: str | None = None,
) -> MoleculeTable:
    """Parse ``frame[smiles_col]`` row by row into a :class:`MoleculeTable` (never raises on a
    bad SMILES; raises on a missing column or a non-numeric label column). ``standardize``
    (e.g. ``"uncharge"``) rewrites each kept molecule and its SMILES (canonical, isomeric)."""
    check_standardize(standardize)
    label_cols = list(label_cols or [])
    missing = [c for c in [smiles_col, *label_cols] if c not in frame.columns]
    if missing:
        raise KeyError(
            f"{source} has no column(s) {missing}; its columns are {list(frame.columns)}"
        )
    labels = _labels(frame, label_cols, source)
    kept_rows, smiles, mols = [], [], []
    bad_rows, bad_smiles, reasons = [], [], []
    n_standardized = 0
    for row, value in enumerate(frame[smiles_col].tolist()):
        parsed = parse_smiles(value)
        if parsed.ok and standardize is not None:
            mol = standardize_mol(parsed.mol, standardize)
            text = canonical_smiles(mol)
            n_standardized += text != canonical_smiles(parsed.mol)
            kept_rows.append(row)
            smiles.append(text)
            mols.append(mol)
        elif parsed.ok:
            kept_rows.append(row)
            smiles.append(parsed.smiles.strip())  # padding would trip later SMILES readers
            mols.append(parsed.mol)
        else:
            bad_rows.append(row)
            bad_smiles.append(parsed.smiles)
            reasons.append(parsed.reason)
    rows = np.asarray(kept_rows, dtype=np.int64)
    return MoleculeTable(
        smiles=smiles,
        mols=mols,
        labels=labels[rows] if len(rows) else labels[:0],
        rows=rows,
        rejects=make_rejects(bad_rows, bad_smiles, reasons),
        n_read=len(frame),
        label_cols=label_cols,
        name=name,
        info=info,
        standardize=standardize,
        n_standardized=int(n_standardized),
    )


def load_frame(
    source,
    smiles_col: str | None = None,
    label_cols: list[str] | None = None,
    *,
    nrows: int | None = None,
    sep: str | None = None,
) -> tuple[pd.DataFrame, str, list[str], DatasetInfo | None]:
    """The raw table behind ``source`` with its resolved SMILES and label columns.

    ``source`` is a registry name (fetched through the cache/mirror) or a CSV/TSV path.
    Returns ``(frame, smiles_col, label_cols, info)``; ``info`` is None for a plain file.
    Taught in ``notebooks/00_quickstart``.
    """
    if _is_registry_name(source):
        info = get_dataset_info(source)
        if info.smiles_col is None:
            raise ValueError(
                f"dataset {info.name!r} ({info.task_type}) has no molecule table to read; "
                f"its files are {[f.path for f in info.files]}"
            )
        if info.embedded:
            frame = load_embedded(info.embedded)
            frame = frame.head(nrows) if nrows is not None else frame
        else:
            smiles_col = smiles_col or info.smiles_col
            frame = _read_frame(fetch_file(info.main_file), sep or info.sep, nrows, smiles_col)
        cols = info.label_cols if label_cols is None else list(label_cols)
        return frame, smiles_col or info.smiles_col, list(cols), info
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"{source!r} is neither a registry dataset nor a file; "
            f"known datasets: {', '.join(i.name for i in list_datasets())}"
        )
    if sep is None:
        sep = "\t" if path.name.endswith((".tsv", ".txt", ".tsv.gz", ".txt.gz")) else ","
    if smiles_col is None:
        header = pd.read_csv(path, sep=sep, nrows=0).columns.tolist()
        smiles_col = _guess_smiles_col(header, str(path))
    frame = _read_frame(path, sep, nrows, smiles_col)
    return frame, smiles_col, list(label_cols or []), None


def read_molecules(
    name_or_csv_path,
    smiles_col: str | None = None,
    label_cols: list[str] | None = None,
    *,
    nrows: int | None = None,
    sep: str | None = None,
    standardize: str | None = None,
) -> MoleculeTable:
    """Read a registry dataset (``"tox21"``) or a CSV path into a :class:`MoleculeTable`.

    Parameters
    ----------
    name_or_csv_path
        A registry name (its file is fetched: cache -> ``$CPMKIT_DATA_MIRROR`` -> URL) or a path
        to a CSV (``.tsv``/``.txt`` are read tab-separated; ``.gz`` is read transparently).
    smiles_col, label_cols
        Override the registry's columns. For a plain file the SMILES column defaults to one
        named ``smiles`` (any case) and there are no labels unless given.
    nrows
        Read only the first ``nrows`` data rows (``n_read == nrows``).
    standardize
        ``None`` (the file as it is) or ``"uncharge"`` (neutralise acids and bases, then write
        canonical SMILES; for ClinTox's charged species, see :mod:`cpmkit.featurize.standardize`).

    Every row is accounted for: ``n_read == len(table.smiles) + len(table.rejects)``.
    Taught in ``notebooks/00_quickstart``.
    """
    frame, smiles_col, label_cols, info = load_frame(
        name_or_csv_path, smiles_col, label_cols, nrows=nrows, sep=sep
    )
    name = info.name if info is not None else None
    return table_from_frame(
        frame, smiles_col, label_cols, str(name_or_csv_path), name, info, standardize
    )


__all__ = [
    "REJECT_COLUMNS",
    "MoleculeTable",
    "empty_rejects",
    "load_frame",
    "make_rejects",
    "read_molecules",
    "table_from_frame",
]
