"""Supervised multi-task pre-training: the masked BCE, the strategy, and a leak-free corpus
(``cpmkit.data.supervised_corpus``)."""

from __future__ import annotations

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
from cpmkit.models.gnn import GNN
from cpmkit.data.supervised_corpus import molecule_key, supervised_corpus
from cpmkit.pretrain.supervised import SupervisedPretraining, masked_bce_with_logits

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


def test_downstream_test_molecules_never_survive(cache, tmp_path):
    test = _test_keys("bbbp")
    bbbp = MoleculeDataset("bbbp").smiles
    split = scaffold_split(bbbp)
    test_smiles = [bbbp[i] for i in split.test[:5]]
    train_smiles = [bbbp[i] for i in split.train[:5]]
    rows = [_other_writing(s) for s in test_smiles] + train_smiles + ["CC(=O)Oc1ccccc1C(=O)O"]
    src = _write(tmp_path / "mix.csv", pd.DataFrame({"smiles": rows, "y": [1.0] * len(rows)}))

    corpus = supervised_corpus(sources=(src,), exclude=("bbbp",))

    kept = {molecule_key(s) for s in corpus.dataset.smiles}
    assert not kept & test
    assert {molecule_key(s) for s in train_smiles} <= kept  # only the test part is removed
    assert corpus.removed["row"].tolist() == [0, 1, 2, 3, 4]
    assert set(corpus.removed["excluded_dataset"]) == {"bbbp"}


def test_overlap_counts_equal_removed_rows(cache, source_csv, exclude_csvs):
    down_a, down_b = exclude_csvs
    corpus = supervised_corpus(sources=(source_csv,), exclude=(down_a, down_b))
    n_test = len(_test_keys(down_a))

    overlap = corpus.overlap.set_index("excluded_dataset")
    assert list(overlap.index) == [str(down_a), str(down_b)]
    assert overlap["n_test"].tolist() == [n_test, n_test]
    # both downstream sets hold each removed molecule; the row is charged to the first only
    assert overlap["n_overlap"].tolist() == [n_test, n_test]
    assert overlap["n_removed"].tolist() == [n_test, 0]
    assert overlap["n_removed"].sum() == corpus.n_removed == len(corpus.removed) == n_test
    assert corpus.counts["n_removed"].sum() == corpus.n_removed


def test_counts_add_up(cache, source_csv, exclude_csvs):
    corpus = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1])
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
    corpus = supervised_corpus(sources=(one, two), exclude=())

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
    corpus = supervised_corpus(sources=(src,), exclude=())
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
    corpus = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1])
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
    first = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1])
    digest = sha256_file(first.path)
    assert first.path.parent == cache / "corpora" and first.key[:16] in first.path.name

    again = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1])
    assert again.path == first.path and sha256_file(again.path) == digest

    first.path.unlink()  # rebuilt from scratch: the same bytes, not only the same name
    rebuilt = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1])
    assert rebuilt.path == first.path and sha256_file(rebuilt.path) == digest

    other = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs)
    assert other.path != first.path


def test_one_epoch_through_the_pretrain_loop(cache, source_csv, exclude_csvs, tmp_path):
    loop = pytest.importorskip("cpmkit.pretrain.loop")
    corpus = supervised_corpus(sources=(source_csv,), exclude=exclude_csvs[:1])
    torch.manual_seed(0)
    strategy = SupervisedPretraining(GNN(num_layer=2, emb_dim=32), corpus.num_tasks)
    config = loop.PretrainConfig(num_epochs=1, batch_size=4, device="cpu")
    result = loop.pretrain(strategy, corpus, config, out_dir=tmp_path, progress=False)

    assert len(corpus) == len(corpus.dataset) and len(result.history) == -(-len(corpus) // 4)
    assert np.isfinite(result.final_loss)
    weights = torch.load(result.encoder_path, weights_only=True)
    GNN(num_layer=2, emb_dim=32).load_state_dict(weights)  # the bare encoder, loadable
