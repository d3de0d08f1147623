"""MoleculeDataset: graphs with labels and rows, rejects kept, a cache keyed on the featurizer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cpmkit.data import dataset as dataset_module
from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.splits import scaffold_split
from cpmkit.data.tables import read_molecules
from cpmkit.featurize.graph_hu import hu_graph

MIRROR = Path(os.environ.get("CPMKIT_DATA_MIRROR", "") or "/nonexistent-cpmkit-mirror")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One tmp cache for the module, so bbbp is featurized once."""
    if not (MIRROR / "MANIFEST.tsv").is_file():
        pytest.skip("set CPMKIT_DATA_MIRROR to the data mirror (a folder with MANIFEST.tsv)")
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("cache")
        mp.setenv("CPMKIT_CACHE", str(folder))
        mp.setenv("CPMKIT_DATA_MIRROR", str(MIRROR))
        yield folder


@pytest.fixture
def counting(monkeypatch):
    """Replace the featurizer with hu_graph behind a call counter; returns set_version()."""
    calls = {"n": 0, "version": dataset_module._featurizer("hu")[1]}

    def featurize(mol):
        calls["n"] += 1
        return hu_graph(mol)

    monkeypatch.setattr(
        dataset_module, "_featurizer", lambda scheme: (featurize, calls["version"])
    )
    return calls


@pytest.fixture
def hostile_csv(tmp_path) -> Path:
    path = tmp_path / "hostile.csv"
    path.write_text(
        "smiles,y\n"
        "CCO,1\n"
        "*C,0\n"  # dummy atom: parses, outside the Hu et al. atom table
        "C1CC,1\n"  # does not parse
        "[NH3]->[Pt],0\n"  # dative bond: outside the Hu et al. bond table
        "c1ccccc1,\n"
    )
    return path


def test_graphs_carry_labels_smiles_and_rows(cache):
    ds = MoleculeDataset("bbbp")
    table = read_molecules("bbbp")
    assert len(ds) == len(table) == 2039 and ds.n_read == 2039
    assert ds.rejects.empty and list(ds.rejects.columns) == ["row", "smiles", "reason"]
    assert ds.num_tasks == 1 and ds.info.name == "bbbp" and ds.label_cols == ["p_np"]
    graph = ds[7]
    assert graph.y.dtype == torch.float32 and graph.y.shape == (1, 1)
    assert graph.smiles == table.smiles[7] and int(graph.row) == 7
    assert graph.y.item() == table.labels[7, 0]
    assert graph.x.dtype == torch.long and graph.x.shape[1] == 2
    assert ds.smiles == table.smiles and ds.rows.tolist() == list(range(2039))
    assert Path(ds.processed_dir) == cache / "processed" / "bbbp" / ds.version
    assert not list(Path(ds.processed_dir).glob("*.part"))  # temporary files were renamed


def test_second_load_reads_the_cache_and_gives_identical_tensors(cache, counting):
    first = MoleculeDataset("bbbp")  # built here unless an earlier test built it
    counting["n"] = 0
    again = MoleculeDataset("bbbp")  # the counting featurizer would notice any work
    assert counting["n"] == 0
    for key in ("x", "edge_index", "edge_attr", "y", "row"):
        assert torch.equal(first._data[key], again._data[key]), key
        assert torch.equal(first.slices[key], again.slices[key]), key
    assert first.smiles == again.smiles


def test_cache_is_keyed_on_featurizer_version_and_subset(cache, counting):
    small = MoleculeDataset("bbbp", subset=30)
    assert counting["n"] == 30 and small.n_read == 30 and len(small) == 30
    MoleculeDataset("bbbp", subset=30)
    assert counting["n"] == 30  # cached
    counting["version"] = "hu-999"
    bumped = MoleculeDataset("bbbp", subset=30)
    assert counting["n"] == 60  # a new version never reuses old tensors
    assert bumped.processed_dir != small.processed_dir
    assert bumped.processed_dir.endswith("hu-999-first30")
    # a cache whose recorded ingredients differ from the request is rebuilt
    meta = Path(bumped.processed_dir) / "meta.json"
    record = json.loads(meta.read_text())
    record["key"]["source"] = "something else"
    meta.write_text(json.dumps(record))
    MoleculeDataset("bbbp", subset=30)
    assert counting["n"] == 90


def test_featurizer_rejects_join_parse_rejects_and_survive_the_cache(cache, hostile_csv):
    ds = MoleculeDataset(hostile_csv, label_cols=["y"])
    assert ds.n_read == 5 and len(ds) == 2
    assert ds.n_read == len(ds) + len(ds.rejects)
    assert ds.rejects["row"].tolist() == [1, 2, 3]
    reasons = ds.rejects["reason"].tolist()
    assert "atomic number 0" in reasons[0] and "DATIVE" in reasons[2]
    assert ds.rows.tolist() == [0, 4] and ds.smiles == ["CCO", "c1ccccc1"]
    assert np.isnan(ds[1].y.item()) and ds.info is None
    reloaded = MoleculeDataset(hostile_csv, label_cols=["y"])
    pd.testing.assert_frame_equal(reloaded.rejects, ds.rejects)
    assert reloaded.n_read == 5
    # without labels a CSV still featurizes; y has zero tasks
    plain = MoleculeDataset(hostile_csv)
    assert plain.num_tasks == 0 and plain[0].y.shape == (1, 0)
    assert plain.processed_dir != ds.processed_dir


def test_tox21_missing_labels_and_rejects(cache):
    ds = MoleculeDataset("tox21")
    assert ds.n_read == 7831 and len(ds) + len(ds.rejects) == 7831
    assert ds.rejects["row"].tolist() == [1322, 2290, 2297, 3558, 4565, 4649, 5538, 6723]
    labels = ds.labels
    assert labels.shape == (len(ds), 12) and torch.isnan(labels).any()
    assert not torch.isnan(labels).all(dim=0).any()  # every task has some labels


def test_indexing_with_a_split_keeps_smiles_and_rows_aligned(cache):
    ds = MoleculeDataset("bbbp")
    split = scaffold_split(ds.smiles)
    test = ds[split.test]
    assert len(test) == len(split.test)
    assert test.smiles == [ds.smiles[i] for i in split.test]
    assert test.rows.tolist() == split.test.tolist()  # bbbp has no rejects: row == index
    assert test[0].smiles == ds[int(split.test[0])].smiles
    assert test.labels.shape == (len(test), 1)


def _same_tensors(a: MoleculeDataset, b: MoleculeDataset) -> None:
    assert list(a._data.keys()) == list(b._data.keys())
    for key in a._data.keys():  # noqa: SIM118 -- iterating a Data gives (key, value)
        if key == "smiles":
            assert a._data[key] == b._data[key]
            continue
        x, y = a._data[key], b._data[key]
        assert x.dtype == y.dtype and torch.equal(torch.nan_to_num(x, nan=-1.0),
                                                  torch.nan_to_num(y, nan=-1.0)), key  # fmt: skip
        assert torch.equal(a.slices[key], b.slices[key]), key


def test_two_workers_build_the_same_cache_as_one(cache, tmp_path):
    # hostile rows spread over several chunks: parse and featurizer rejects in each
    rows = ["CCO", "*C", "C1CC", "[NH3]->[Pt]", "c1ccccc1", "", "  CCN ", "[Xx]", "OCC(O)CO"]
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"smiles": rows * 3, "y": np.arange(27) % 3}).to_csv(path, index=False)
    for name, kw in [(path, {"label_cols": ["y"]}), ("tox21", {"sample": 400, "sample_seed": 1})]:
        one = MoleculeDataset(name, root=tmp_path / "one", **kw)
        two = MoleculeDataset(name, root=tmp_path / "two", num_workers=2, **kw)
        # how many workers built it is not part of what was built: same key, same folder
        assert two.key == one.key
        assert Path(two.processed_dir).relative_to(tmp_path / "two") == Path(
            one.processed_dir
        ).relative_to(tmp_path / "one")
        _same_tensors(one, two)
        pd.testing.assert_frame_equal(one.rejects, two.rejects)
        assert two.n_read == one.n_read and two.rows.tolist() == one.rows.tolist()
        assert (Path(one.processed_dir) / "meta.json").read_bytes() == (
            Path(two.processed_dir) / "meta.json"
        ).read_bytes()
    assert one.n_read == 400 and len(one.rejects) + len(one) == 400
    mixed = MoleculeDataset(path, label_cols=["y"], root=tmp_path / "two", num_workers=2)
    assert mixed.rejects["row"].tolist() == [r + 9 * k for k in range(3) for r in (1, 2, 3, 5, 7)]
    # a cache built by one process is served to a request for two, and the reverse
    assert MoleculeDataset(path, label_cols=["y"], root=tmp_path / "one", num_workers=2).key == (
        mixed.key
    )
