"""Opt-in standardisation: what 'uncharge' changes, what it leaves, and that loaders count it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from rdkit import Chem

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.tables import read_molecules
from cpmkit.featurize.standardize import is_charged, standardize_mol

MIRROR = Path(os.environ.get("CPMKIT_DATA_MIRROR", "") or "/nonexistent-cpmkit-mirror")


def _smiles(text: str, how: str | None) -> str:
    return Chem.MolToSmiles(standardize_mol(Chem.MolFromSmiles(text), how))


@pytest.mark.parametrize(
    ("charged", "neutral"),
    [("CC(=O)[O-]", "CC(=O)O"), ("C[NH3+]", "CN"), ("[O-]c1ccccc1", "Oc1ccccc1")],
)
def test_uncharge_moves_protons(charged, neutral):
    assert _smiles(charged, "uncharge") == Chem.CanonSmiles(neutral)


def test_uncharge_keeps_charges_that_cannot_be_neutralised():
    for text in ("C[N+](C)(C)C", "C[N+](=O)[O-]"):  # quaternary nitrogen, nitro group
        mol = standardize_mol(Chem.MolFromSmiles(text), "uncharge")
        assert is_charged(mol)


def test_none_leaves_the_molecule_alone_and_unknown_names_fail():
    mol = Chem.MolFromSmiles("CC(=O)[O-]")
    assert standardize_mol(mol, None) is mol
    with pytest.raises(ValueError, match="uncharge"):
        standardize_mol(mol, "neutralise")


def test_read_molecules_counts_what_it_standardised(tmp_path):
    path = tmp_path / "mols.csv"
    smiles = ["CC(=O)[O-]", "CCO", "C1CC", "C[NH3+]", "C[N+](C)(C)C"]
    pd.DataFrame({"smiles": smiles, "y": [1, 0, 1, 1, 0]}).to_csv(path, index=False)
    raw = read_molecules(path, label_cols=["y"])
    table = read_molecules(path, label_cols=["y"], standardize="uncharge")
    assert table.n_read == len(table) + len(table.rejects) == 5
    assert table.rejects["row"].tolist() == raw.rejects["row"].tolist() == [2]
    assert raw.smiles == ["CC(=O)[O-]", "CCO", "C[NH3+]", "C[N+](C)(C)C"]
    assert table.smiles == ["CC(=O)O", "CCO", "CN", "C[N+](C)(C)C"]
    assert (table.n_standardized, raw.n_standardized) == (2, 0)
    assert table.labels[:, 0].tolist() == raw.labels[:, 0].tolist()


def test_dataset_caches_standardised_graphs_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "mols.csv"
    pd.DataFrame({"smiles": ["CC(=O)[O-]", "C[NH3+]"]}).to_csv(path, index=False)
    raw = MoleculeDataset(path)
    neutral = MoleculeDataset(path, standardize="uncharge")
    assert raw.processed_dir != neutral.processed_dir
    assert list(neutral.smiles) == ["CC(=O)O", "CN"]
    assert list(raw.smiles) == ["CC(=O)[O-]", "C[NH3+]"]
    assert list(MoleculeDataset(path, standardize="uncharge").smiles) == ["CC(=O)O", "CN"]


def test_clintox_charge_signs_mostly_disappear():
    """ClinTox's artefact: most SMILES are charged species; uncharged, few remain charged."""
    if not (MIRROR / "MANIFEST.tsv").is_file():
        pytest.skip("set CPMKIT_DATA_MIRROR to the data mirror (a folder with MANIFEST.tsv)")
    raw = read_molecules("clintox")
    table = read_molecules("clintox", standardize="uncharge")
    share = [sum(map(is_charged, t.mols)) / len(t) for t in (raw, table)]
    assert share[0] > 0.5 > 0.1 > share[1]
    assert len(table) == len(raw) and table.n_standardized > len(raw) / 2
