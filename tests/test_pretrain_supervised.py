"""Supervised multi-task pre-training: the masked BCE, the strategy, and a leak-free corpus
(``cpmkit.data.supervised_corpus``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.fetch import sha256_file
from cpmkit.data.splits import scaffold_split
from cpmkit.data.supervised_corpus import (
    compare_leak_rules,
    molecule_key,
    species_ids,
    standardized_mol_id,
    supervised_corpus,
)
from cpmkit.models.gnn import GNN
from cpmkit.pretrain.supervised import SupervisedPretraining, masked_bce_with_logits

# the kit's earlier leak rule (test only, canonical isomeric SMILES): these tests pin its semantics
OLD = {"leak_rule": "test_smiles"}
MIRROR = Path(os.environ.get("CPMKIT_DATA_MIRROR", "") or "/nonexistent-cpmkit-mirror")

# ten molecules: eight share the benzene scaffold, so the scaffold split's test part is small
EXCLUDE_ROWS = [
    "c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "c1ccccc1Cl",
    "c1ccccc1F", "c1ccccc1Br", "c1ccccc1CC", "c1ccccc1OC",
    "C1CCNCC1", "C1CCOC1",
]  # fmt: skip


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One tmp cache for the module (bbbp is featurized once), with the data mirror."""
    if not (MIRROR / "MANIFEST.tsv").is_file():
        pytest.skip("set CPMKIT_DATA_MIRROR to the data mirror (a folder with MANIFEST.tsv)")
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("cache")
        mp.setenv("CPMKIT_CACHE", str(folder))
        mp.setenv("CPMKIT_DATA_MIRROR", str(MIRROR))
        yield folder


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def _test_keys(name) -> set[str]:
    smiles = MoleculeDataset(str(name)).smiles
    return {molecule_key(smiles[i]) for i in scaffold_split(smiles).test}


def _other_writing(smiles: str) -> str:
    """The same molecule written differently (rooted at its last atom, not canonical)."""
    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToSmiles(mol, rootedAtAtom=mol.GetNumAtoms() - 1, canonical=False)


@pytest.fixture(scope="module")
def exclude_csvs(cache, tmp_path_factory) -> tuple[Path, Path]:
    """Two downstream CSVs with the same molecules (so the same scaffold test part)."""
    folder = tmp_path_factory.mktemp("exclude")
    frame = pd.DataFrame({"smiles": EXCLUDE_ROWS})
    return _write(folder / "down_a.csv", frame), _write(folder / "down_b.csv", frame)


@pytest.fixture(scope="module")
def source_csv(cache, exclude_csvs, tmp_path_factory) -> Path:
    """A source holding every excluded molecule (test ones rewritten), a duplicate, bad rows."""
    folder = tmp_path_factory.mktemp("source")
    test = _test_keys(exclude_csvs[0])
    assert 0 < len(test) < len(EXCLUDE_ROWS)
    rows = [_other_writing(s) if molecule_key(s) in test else s for s in EXCLUDE_ROWS]
    rows += ["CCO", "OCC", "C1CC", "[NH3]->[Pt]", "CCN"]  # duplicate, unparseable, dative bond
    labels = np.array([i % 2 for i in range(len(rows))], dtype=float)
    labels[-1] = np.nan
    other = np.full(len(rows), np.nan)
    other[0] = 1.0
    return _write(folder / "src.csv", pd.DataFrame({"smiles": rows, "a": labels, "b": other}))


def test_downstream_test_molecules_never_survive_test_smiles_rule(cache, tmp_path):
    test = _test_keys("bbbp")
    bbbp = MoleculeDataset("bbbp").smiles
    split = scaffold_split(bbbp)
    test_smiles = [bbbp[i] for i in split.test[:5]]
    train_smiles = [bbbp[i] for i in split.train[:5]]
    rows = [_other_writing(s) for s in test_smiles] + train_smiles + ["CC(=O)Oc1ccccc1C(=O)O"]
    src = _write(tmp_path / "mix.csv", pd.DataFrame({"smiles": rows, "y": [1.0] * len(rows)}))

    corpus = supervised_corpus(sources=(src,), exclude=("bbbp",), **OLD)

    kept = {molecule_key(s) for s in corpus.dataset.smiles}
    assert not kept & test
    assert {molecule_key(s) for s in train_smiles} <= kept  # only the test part is removed
    assert corpus.removed["row"].tolist() == [0, 1, 2, 3, 4]
    assert set(corpus.removed["excluded_dataset"]) == {"bbbp"}


def test_overlap_counts_equal_removed_rows(cache, source_csv, exclude_csvs):
    down_a, down_b = exclude_csvs
    corpus = supervised_corpus(sources=(source_csv,), exclude=(down_a, down_b), **OLD)
    n_test = len(_test_keys(down_a))

    overlap = corpus.overlap.set_index("excluded_dataset")
    assert list(overlap.index) == [str(down_a), str(down_b)]
    assert overlap["n_held_out"].tolist() == [n_test, n_test]
    # both downstream sets hold each removed molecule; the row is charged to the first only
    assert overlap["n_overlap"].tolist() == [n_test, n_test]
    assert overlap["n_removed"].tolist() == [n_test, 0]
    assert overlap["n_removed"].sum() == corpus.n_removed == len(corpus.removed) == n_test
    assert corpus.counts["n_removed"].sum() == corpus.n_removed


def test_counts_add_up(cache, source_csv, exclude_csvs):
    corpus = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1], **OLD)
    counts = corpus.counts.iloc[0]
    assert counts["n_read"] == 15
    assert counts["n_read"] == counts["n_kept"] + counts["n_rejected"] + counts["n_removed"]
    assert corpus.n_rejected == 2  # "C1CC" does not parse, the dative bond does not featurize
    assert sorted(corpus.rejects["row"]) == [12, 13]
    assert corpus.n_merged == 1  # "OCC" is "CCO"
    accounted = corpus.n_kept + corpus.n_merged + corpus.n_rejected + corpus.n_removed
    assert corpus.n_source == accounted
    assert corpus.n_kept == len(corpus.dataset) == len(EXCLUDE_ROWS) - corpus.n_removed + 2


def test_labels_of_a_molecule_in_two_sources_are_merged(cache, tmp_path):
    one = _write(
        tmp_path / "one.csv",
        pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CCO"], "a": [1.0, 0.0, np.nan],
                      "b": [np.nan, 1.0, 0.0]}),
    )  # fmt: skip
    two = _write(
        tmp_path / "two.csv",
        pd.DataFrame({"smiles": ["OCC", "CCN", "c1ccccc1"], "c": [0.0, 1.0, np.nan]}),
    )
    corpus = supervised_corpus(sources=(one, two), exclude=(), **OLD)

    assert corpus.tasks == ["one:a", "one:b", "two:c"]
    assert corpus.n_kept == len(corpus.dataset) == 3
    assert corpus.n_merged == 3
    labels = {molecule_key(s): y for s, y in zip(corpus.dataset.smiles, corpus.dataset.labels)}
    np.testing.assert_array_equal(labels["CCO"].numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(labels["c1ccccc1"].numpy(), [0.0, 1.0, np.nan])
    np.testing.assert_array_equal(labels["CCN"].numpy(), [np.nan, np.nan, 1.0])


def test_conflicting_labels_become_missing(cache, tmp_path):
    src = _write(
        tmp_path / "clash.csv", pd.DataFrame({"smiles": ["CCO", "OCC", "CCN"], "a": [1, 0, 1]})
    )
    corpus = supervised_corpus(sources=(src,), exclude=(), **OLD)
    assert corpus.n_conflicts == 1
    assert torch.isnan(corpus.dataset.labels[0, 0]) and corpus.dataset.labels[1, 0] == 1


def test_masked_bce_ignores_missing_labels():
    torch.manual_seed(0)
    logits = torch.randn(4, 3)
    y = torch.tensor([[1.0, float("nan"), 0.0], [0.0, 1.0, float("nan")],
                      [float("nan")] * 3, [1.0, 1.0, 0.0]])  # fmt: skip
    loss = masked_bce_with_logits(logits, y)
    present = ~torch.isnan(y)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[present], y[present])
    torch.testing.assert_close(loss, expected)

    moved = logits.clone()
    moved[~present] += 100.0
    assert masked_bce_with_logits(moved, y) == loss  # exactly: a missing label does not count
    moved[0, 0] += 1.0
    assert masked_bce_with_logits(moved, y) != loss

    nothing = logits.clone().requires_grad_()
    empty = masked_bce_with_logits(nothing, torch.full_like(y, float("nan")))
    empty.backward()
    assert empty == 0 and torch.all(nothing.grad == 0)


def test_loss_backpropagates_to_the_encoder(cache, source_csv, exclude_csvs):
    corpus = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1], **OLD)
    torch.manual_seed(0)
    strategy = SupervisedPretraining(GNN(num_layer=2, emb_dim=32), corpus.num_tasks)
    assert strategy.hparams() == {"num_tasks": 2, "pool": "mean"}
    batch = strategy.collate([corpus.dataset[i] for i in range(len(corpus.dataset))])
    assert isinstance(batch, Batch) and batch.y.shape == (len(corpus.dataset), 2)

    loss, logs = strategy(batch)
    loss.backward()
    assert torch.isfinite(loss)
    assert logs["n_labels"] == float((~torch.isnan(batch.y)).sum()) > 0
    grads = [p.grad for p in strategy.encoder.parameters()]
    assert all(g is not None for g in grads)
    assert strategy.encoder.x_embedding1.weight.grad.abs().sum() > 0
    assert strategy.encoder.gnns[0].mlp[0].weight.grad.abs().sum() > 0

    with pytest.raises(ValueError, match="num_tasks"):
        SupervisedPretraining(GNN(num_layer=2, emb_dim=32), 5).loss(batch)


def test_same_inputs_give_the_same_corpus_file(cache, source_csv, exclude_csvs):
    first = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1], **OLD)
    digest = sha256_file(first.path)
    assert first.path.parent == cache / "corpora" and first.key[:16] in first.path.name

    again = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1], **OLD)
    assert again.path == first.path and sha256_file(again.path) == digest

    first.path.unlink()  # rebuilt from scratch: the same bytes, not only the same name
    rebuilt = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1], **OLD)
    assert rebuilt.path == first.path and sha256_file(rebuilt.path) == digest

    other = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs, **OLD)
    assert other.path != first.path


def test_one_epoch_through_the_pretrain_loop(cache, source_csv, exclude_csvs, tmp_path):
    loop = pytest.importorskip("cpmkit.pretrain.loop")
    corpus = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1], **OLD)
    torch.manual_seed(0)
    strategy = SupervisedPretraining(GNN(num_layer=2, emb_dim=32), corpus.num_tasks)
    config = loop.PretrainConfig(num_epochs=1, batch_size=4, device="cpu")
    result = loop.pretrain(strategy, corpus, config, out_dir=tmp_path, progress=False)

    assert len(corpus) == len(corpus.dataset) and len(result.history) == -(-len(corpus) // 4)
    assert np.isfinite(result.final_loss)
    weights = torch.load(result.encoder_path, weights_only=True)
    GNN(num_layer=2, emb_dim=32).load_state_dict(weights)  # the bare encoder, loadable


# -- Hu et al.'s chembl_filtered rule -------------------------------------------------------
def test_standardized_mol_id_is_stereo_free_and_reads_the_largest_species():
    alanine = standardized_mol_id("C[C@H](N)C(=O)O")
    assert alanine and alanine.startswith("InChI=1S/C3H7NO2/")
    assert standardized_mol_id("C[C@@H](N)C(=O)O") == alanine  # the other enantiomer
    assert standardized_mol_id("CC(N)C(=O)O") == alanine  # no stereo at all
    assert standardized_mol_id("Cl.C[C@@H](N)C(=O)O") == alanine  # a salt: the largest species
    assert standardized_mol_id("CC(N)C(=O)[O-].[Na+]") != alanine  # the anion is another InChI
    assert standardized_mol_id("CCN") != alanine
    assert standardized_mol_id("C1CC") is None and standardized_mol_id("") is None
    # a downstream molecule contributes every species, not only the largest
    assert species_ids("C[C@H](N)C(=O)O.Cl") == {alanine, standardized_mol_id("Cl")}


# eight benzene derivatives (train) and two chiral singleton scaffolds (valid, test)
HU_DOWN = [
    "c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "c1ccccc1Cl", "c1ccccc1F", "c1ccccc1Br",
    "c1ccccc1CC", "c1ccccc1OC", "C[C@H](N)C1CCCCC1", "C[C@@H](O)C1CCNCC1",
]  # fmt: skip


def _flip(smiles: str) -> str:
    """The same molecule with every tetrahedral centre inverted (a stereoisomer)."""
    return smiles.replace("@@", "!").replace("@", "@@").replace("!", "@")


@pytest.fixture(scope="module")
def hu_case(cache, tmp_path_factory):
    """A downstream CSV and a source with a stereoisomer and a salt of held-out molecules."""
    folder = tmp_path_factory.mktemp("hu")
    down = _write(folder / "down.csv", pd.DataFrame({"smiles": HU_DOWN}))
    split = scaffold_split(MoleculeDataset(str(down)).smiles)
    train = [HU_DOWN[i] for i in split.train]
    valid, test = HU_DOWN[split.valid[0]], HU_DOWN[split.test[0]]
    assert "@" in valid and "@" in test and "c1ccccc1O" in train
    rows = [
        _flip(valid),  # 0: a stereoisomer of a valid molecule
        test + ".Cl",  # 1: the test molecule as its hydrochloride
        _other_writing(test),  # 2: the test molecule itself, written otherwise
        "c1ccccc1O",  # 3: a training molecule of the downstream set: stays
        "C",  # 4: methane, 16 Da: below the window
        "C" * 70,  # 5: C70H142, 983 Da: above it
        "CCCCCCCCO",  # 6: in nothing: stays
    ]
    src = _write(folder / "hu_src.csv", pd.DataFrame({"smiles": rows, "y": [1.0] * len(rows)}))
    return down, src, rows


def test_chembl_filtered_removes_stereoisomers_and_salts_of_held_out_molecules(hu_case):
    down, src, rows = hu_case
    corpus = supervised_corpus(sources=(src,), exclude=(down,))
    assert corpus.leak_rule == "chembl_filtered"
    assert sorted(corpus.removed["row"]) == [0, 1, 2]
    assert sorted(corpus.rejects["row"]) == [4, 5]  # the weight window
    assert corpus.rejects["reason"].str.contains("outside 50-900 Da").all()
    assert sorted(corpus.dataset.smiles) == sorted([rows[3], rows[6]])
    overlap = corpus.overlap.iloc[0]
    assert overlap["n_held_out"] == 2 and overlap["n_removed"] == 3  # valid + test molecule

    old = supervised_corpus(sources=(src,), exclude=(down,), leak_rule="test_smiles")
    assert old.removed["row"].tolist() == [2]  # only the same test molecule, same stereo
    assert old.n_rejected == 0 and len(old.dataset) == 6  # no weight window


def test_chembl_filtered_counts_add_up(hu_case):
    down, src, rows = hu_case
    corpus = supervised_corpus(sources=(src,), exclude=(down,))
    counts = corpus.counts.iloc[0]
    assert counts["n_read"] == len(rows)
    assert counts["n_read"] == counts["n_kept"] + counts["n_rejected"] + counts["n_removed"]
    assert (counts["n_kept"], counts["n_rejected"], counts["n_removed"]) == (2, 2, 3)
    assert (
        corpus.n_source == corpus.n_kept + corpus.n_merged + corpus.n_rejected + corpus.n_removed
    )


def test_compare_leak_rules_reports_both(hu_case):
    down, src, _ = hu_case
    table = compare_leak_rules(sources=(src,), exclude=(down,)).set_index("excluded_dataset")
    assert table.loc[str(down), "n_removed (chembl_filtered)"] == 3
    assert table.loc[str(down), "n_removed (test_smiles)"] == 1
    assert table.loc[str(down), "n_held_out (test_smiles)"] == 1
    assert table.loc["total", "n_removed (chembl_filtered)"] == 3


def test_unknown_leak_rule_fails(hu_case):
    down, src, _ = hu_case
    with pytest.raises(ValueError, match="leak_rule"):
        supervised_corpus(sources=(src,), exclude=(down,), leak_rule="inchikey")


def test_supervised_stage_takes_hu_dropout(cache, source_csv, exclude_csvs):
    from cpmkit.models.graph_model import GNNConfig
    from cpmkit.pretrain.loop import PretrainConfig
    from cpmkit.pretrain.recipes import HU_SUPERVISED_DROP_RATIO, pretrain_recipe

    corpus = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1], **OLD)
    gnn = GNNConfig(num_layer=2, emb_dim=16, drop_ratio=0.0)
    config = PretrainConfig(num_epochs=1, batch_size=4, device="cpu")
    runs = {}
    for drop in (None, HU_SUPERVISED_DROP_RATIO):
        (stage,) = pretrain_recipe("supervised", gnn, None, config, supervised_corpus=corpus,
                                   progress=False, supervised_drop_ratio=drop)  # fmt: skip
        runs[drop] = json.loads((stage.encoder_path.parent / "run.json").read_text())
    assert "'drop_ratio': 0.2" in str(runs[0.2]) and "'drop_ratio': 0.0" in str(runs[None])
    assert runs[None] != runs[0.2]  # its own run identity, so its own cache entry
