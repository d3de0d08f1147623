"""The cpmkit command line: datasets, featurize on hostile input, clear errors."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cpmkit.cli import main
from cpmkit.featurize.to_file import load_features

REPO = Path(__file__).resolve().parent.parent

# one good molecule and the usual trouble: bad syntax, an empty cell, a salt, a dummy atom,
# an unknown element, a non-string cell
HOSTILE = [
    ("good", "CCO"),
    ("unclosed_ring", "C1CC"),
    ("empty", ""),
    ("salt", "[Na+].[Cl-]"),
    ("dummy", "*"),
    ("unknown_element", "[Xx]"),
    ("aromatic", "c1ccccc1O"),
    ("number", "12345"),
]


@pytest.fixture
def hostile_csv(tmp_path):
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "smiles"])
        writer.writerows(HOSTILE)
    return path


def _counts(stdout: str) -> tuple[int, int, int]:
    line = next(line for line in stdout.splitlines() if line.startswith("read "))
    parts = line.replace("/", " ").split()
    return int(parts[1]), int(parts[3]), int(parts[5])


def test_module_entry_point_lists_bbbp():
    done = subprocess.run(
        [sys.executable, "-m", "cpmkit", "datasets"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:]}
    assert "bbbp" in rows
    assert rows["bbbp"][1] == "classification" and rows["bbbp"][2] == "2039"
    assert rows["bbbp"][-1] in {"cached", "mirror", "download"}


def test_scheme_choices_match_the_featurizers():
    import cpmkit.cli as cli
    import cpmkit.featurize as featurize

    # the CLI keeps its own copy so that `cpmkit --help` does not import torch
    assert cli.SCHEMES == featurize.SCHEMES
    assert cli.FINGERPRINT_SCHEMES == featurize.FINGERPRINT_SCHEMES


@pytest.mark.parametrize("scheme", ["hu", "ecfp", "3d", "hu3d"])
def test_featurize_hostile_smiles(hostile_csv, tmp_path, capsys, scheme):
    out = tmp_path / f"feats_{scheme}"
    status = main(
        [
            "featurize",
            str(hostile_csv),
            "--smiles-col",
            "smiles",
            "--scheme",
            scheme,
            "--out",
            str(out),
        ]
    )
    stdout = capsys.readouterr().out
    assert status == 0
    n_read, n_kept, n_rejected = _counts(stdout)
    assert n_read == len(HOSTILE) and n_read == n_kept + n_rejected

    rejects = pd.read_csv(tmp_path / f"feats_{scheme}.rejects.csv", keep_default_na=False)
    assert list(rejects.columns) == ["row", "smiles", "reason"]
    assert len(rejects) == n_rejected
    names = [HOSTILE[row][0] for row in rejects["row"]]
    assert {"unclosed_ring", "empty", "unknown_element"} <= set(names)
    assert "good" not in names and "aromatic" not in names
    assert (rejects["reason"].str.len() > 0).all()
    if scheme == "hu":  # atomic number 0 has no row in Hu et al.'s embedding
        assert "dummy" in names

    suffix = ".npz" if scheme == "ecfp" else ".pt"
    features = load_features(tmp_path / f"feats_{scheme}{suffix}")
    if suffix == ".pt":
        assert len(features) == n_kept
        assert sorted(set(features.rows.tolist()) | set(rejects["row"])) == list(range(n_read))
        ethanol = features[features.rows.tolist().index(0)]
        assert int(ethanol.row) == 0
        if scheme == "hu":
            assert ethanol.x.shape == (3, 2)
        else:  # 3d: heavy atoms (or with hydrogens) and one position each
            assert ethanol.pos.shape == (ethanol.z.shape[0], 3)
    else:
        assert features["X"].shape == (n_kept, 2048)
        kept = set(features["rows"].tolist())
        assert kept.isdisjoint(rejects["row"]) and len(kept | set(rejects["row"])) == n_read
        assert features["smiles"][list(features["rows"]).index(0)] == "CCO"
        assert np.asarray(features["X"]).sum() > 0


def test_featurize_with_two_workers_writes_the_same_files(hostile_csv, tmp_path, capsys):
    outs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["featurize", str(hostile_csv), "--scheme", "hu", "--out", str(out),
                     "--num-workers", workers]) == 0  # fmt: skip
        outs[workers] = load_features(tmp_path / f"w{workers}.pt")
        assert _counts(capsys.readouterr().out)[0] == len(HOSTILE)
    one, two = outs["1"], outs["2"]
    assert one.rows.tolist() == two.rows.tolist() and one.smiles_list == two.smiles_list
    for key in ("x", "edge_index", "edge_attr", "row"):
        assert torch.equal(one._data[key], two._data[key]), key
        assert torch.equal(one.slices[key], two.slices[key]), key
    rejects = [(tmp_path / f"w{w}.rejects.csv").read_bytes() for w in ("1", "2")]
    assert rejects[0] == rejects[1]
    assert main(["featurize", str(hostile_csv), "--scheme", "hu", "--out", str(tmp_path / "x"),
                 "--num-workers", "-1"]) != 0  # fmt: skip


def test_featurize_missing_column_is_a_clear_error(hostile_csv, tmp_path, capsys):
    status = main(
        [
            "featurize",
            str(hostile_csv),
            "--smiles-col",
            "SMILES_X",
            "--scheme",
            "ecfp",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    err = capsys.readouterr().err
    assert status != 0
    assert "SMILES_X" in err and "smiles" in err and "Traceback" not in err
    assert not (tmp_path / "x.npz").exists()


def test_featurize_missing_file_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    status = main(
        [
            "featurize",
            str(missing),
            "--smiles-col",
            "smiles",
            "--scheme",
            "hu",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    err = capsys.readouterr().err
    assert status != 0 and "nope.csv" in err


def test_unknown_dataset_fetch_fails_with_names(capsys):
    assert main(["fetch", "not_a_dataset"]) != 0
    err = capsys.readouterr().err
    assert "not_a_dataset" in err and "bbbp" in err


def test_report_writes_summary(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "SUMMARY.md").is_file()
    assert "Run summary" in capsys.readouterr().out


def test_run_param_values_are_literals():
    from cpmkit.cli import _literal

    assert _literal("3") == 3 and _literal("1e-3") == 0.001 and _literal("None") is None
    assert _literal("[1, 2]") == [1, 2] and _literal("masking") == "masking"
