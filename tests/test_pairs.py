"""Pair data, splits, metrics and models of the DTI/DDI lessons (13, 14)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from cpmkit.data import pairs as pairs_module
from cpmkit.data.pairs import (
    cold_drug_pair_split,
    cold_split,
    drop_drugs,
    pkd_from_kd,
    random_pair_split,
)
from cpmkit.featurize.parse import parse_smiles
from cpmkit.featurize.protein import build_protein_tokenizer, build_smiles_char_tokenizer
from cpmkit.models.dta import CharCNN, CNNConfig, DDIConfig, InteractionHead
from cpmkit.tasks.metrics import (
    concordance_index,
    concordance_index_slow,
    interaction_metrics,
    per_type_f1,
    rm2,
)

# --- data ------------------------------------------------------------------------------------


def test_pkd_transform():
    assert np.allclose(pkd_from_kd([10000.0, 1.0, 1e9]), [5.0, 9.0, 0.0])
    assert pkd_from_kd([0.1])[0] == pytest.approx(10.0)


def _toy_pairs(n_drugs=30, n_targets=20, n=600, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_drugs, n), rng.integers(0, n_targets, n)


@pytest.mark.parametrize("kind", ["drug", "target", "both"])
def test_cold_splits_are_disjoint_and_deterministic(kind):
    drug, target = _toy_pairs()
    split = cold_split(drug, target, kind=kind, seed=3)
    again = cold_split(drug, target, kind=kind, seed=3)
    assert split.sha256() == again.sha256()
    assert split.sha256() != cold_split(drug, target, kind=kind, seed=4).sha256()
    train, valid, test = split
    assert len(set(train) | set(valid) | set(test)) == sum(split.sizes())
    assert len(train) and len(test)
    for column, applies in (
        (drug, kind in ("drug", "both")),
        (target, kind in ("target", "both")),
    ):
        if applies:  # no test (or valid) entity is seen in training
            assert not set(column[test]) & set(column[train])
            assert not set(column[valid]) & set(column[train])
    if kind != "both":
        assert sum(split.sizes()) == len(drug)


def test_cold_drug_pair_split_has_an_unseen_drug_in_every_test_pair():
    d1, d2 = _toy_pairs(40, 40, 800)
    split = cold_drug_pair_split(d1, d2, seed=1)
    seen = set(d1[split.train]) | set(d2[split.train])
    assert all(a not in seen or b not in seen for a, b in zip(d1[split.test], d2[split.test]))
    assert sum(split.sizes()) == len(d1)


def test_random_pair_split_is_stratified():
    labels = np.repeat(np.arange(4), [100, 50, 30, 20])
    split = random_pair_split(len(labels), seed=0, stratify=labels)
    assert sum(split.sizes()) == len(labels)
    assert np.bincount(labels[split.train]).tolist() == [80, 40, 24, 16]


def test_bad_smiles_in_a_pair_table_is_reported_and_its_pairs_dropped(tmp_path, monkeypatch):
    """A DTI table with an unparseable drug: one reject with row and reason, its pairs dropped,
    kept + dropped = read."""
    ligands = {"good": "CCO", "bad": "C1CC", "also": "c1ccccc1"}
    proteins = {"p1": "MKV", "p2": "ACDE"}
    (tmp_path / "ligands_can.txt").write_text(json.dumps(ligands))
    (tmp_path / "proteins.txt").write_text(json.dumps(proteins))
    (tmp_path / "aff.txt").write_text("100 1000\n10 10000\n1 nan\n")

    class Info:
        def file(self, name):
            return {"ligands_can.txt": "ligands_can.txt", "proteins.txt": "proteins.txt"}.get(
                name, "aff.txt"
            )

    monkeypatch.setattr(pairs_module, "get_dataset_info", lambda name: Info())
    monkeypatch.setattr(pairs_module, "fetch_file", lambda entry: tmp_path / entry)
    table = pairs_module.load_dti("davis")
    assert table.rejects["row"].tolist() == [1]
    # the parser's own reason for an unclosed ring, kept with the row
    assert table.rejects["reason"][0] == parse_smiles("C1CC").reason
    assert "not a valid SMILES" in table.rejects["reason"][0]
    assert table.n_pairs_read == 5 and len(table) == 3 and table.n_pairs_dropped == 2
    assert len(table) + table.n_pairs_dropped == table.n_pairs_read
    assert table.dropped["pair"].tolist() == [2, 3]
    assert table.pairs["y"].round(6).tolist() == [7.0, 6.0, 9.0]
    smaller = drop_drugs(table, [0], ["test reason"])
    assert len(smaller) == 1 and len(smaller) + smaller.n_pairs_dropped == table.n_pairs_read


# --- metrics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_concordance_index_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    y = rng.integers(0, 6, n).astype(float)  # many ties in labels
    f = np.round(y * rng.uniform(-1, 1) + rng.normal(size=n), 1)  # and in predictions
    assert concordance_index(y, f) == pytest.approx(concordance_index_slow(y, f), abs=1e-12)


def test_concordance_index_hand_case():
    assert concordance_index([1, 2, 3], [1, 2, 3]) == 1.0
    assert concordance_index([1, 2, 3], [3, 2, 1]) == 0.0
    # pairs (y: 1<2, 1<3, 2<3) -> predictions (tie, right, right) = (0.5 + 1 + 1) / 3
    assert concordance_index([1, 2, 3], [5, 5, 6]) == pytest.approx(2.5 / 3)
    assert concordance_index([1, 2, 2], [0, 0, 0]) == 0.5
    assert np.isnan(concordance_index([1, 1], [0, 2]))


def test_rm2_hand_computed():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    f = np.array([1.0, 2.0, 2.0, 4.0])
    # by hand: r^2 = 4.5^2 / (5 * 4.75) = 0.852632; k = 27 / 25 = 1.08;
    # r0^2 = 1 - 0.84 / 5 = 0.832; r_m^2 = r^2 (1 - sqrt(|r^4 - r0^4|)) = 0.693674
    r2, r02 = 20.25 / 23.75, 0.832
    assert rm2(y, f) == pytest.approx(r2 * (1 - np.sqrt(abs(r2**2 - r02**2))), rel=1e-12)
    assert rm2(y, f) == pytest.approx(0.693674, abs=1e-6)
    assert rm2(y, y) == pytest.approx(1.0)


def test_interaction_metrics():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 0, 1, 2, 2, 2])
    m = interaction_metrics(y, p)
    assert m["accuracy"] == pytest.approx(5 / 6)
    assert per_type_f1(y, p, [0, 1, 2, 3]).round(3).tolist() == [1.0, 0.667, 0.8, 0.0]
    assert interaction_metrics(y, y)["kappa"] == pytest.approx(1.0)


# --- tokenizers and models -------------------------------------------------------------------


def test_protein_tokenizer_caps_at_1000_and_round_trips():
    tok = build_protein_tokenizer()
    out = tok(["MKVLA", "A" * 1500], padding="max_length", truncation=True, max_length=1000)
    assert [len(ids) for ids in out["input_ids"]] == [1000, 1000]
    assert sum(out["attention_mask"][1]) == 1000 and sum(out["attention_mask"][0]) == 5
    assert tok.decode(out["input_ids"][0], skip_special_tokens=True) == "MKVLA"
    assert tok.pad_token_id == 0
    assert tok("J")["input_ids"] == [tok.unk_token_id]
    smiles = build_smiles_char_tokenizer(85)
    assert smiles.decode(smiles("CC(=O)Cl")["input_ids"]) == "CC(=O)Cl"


def test_char_cnn_shapes():
    cnn = CharCNN(CNNConfig(30, embed_dim=8, filters=(4, 6), kernels=(3, 5), max_length=20))
    out = cnn(torch.randint(0, 30, (2, 20)))
    assert out.shape == (2, 20 - 2 - 4, 6) and cnn.out_dim == 6


def test_interaction_head_is_symmetric():
    torch.manual_seed(0)
    head = InteractionHead(16, DDIConfig(num_classes=5, hidden=(32,), dropout=0.0)).eval()
    a, b = torch.randn(7, 16), torch.randn(7, 16)
    assert torch.equal(head(a, b), head(b, a))
    assert not torch.allclose(head(a, b), head(a, a))


def test_run_pairs_is_seeded_and_learns_a_toy_ddi():
    from cpmkit.data.pairs import PairTable
    from cpmkit.models.dta import FingerprintMLP
    from cpmkit.tasks.pairs import Inputs, PairConfig, run_pairs

    rng = np.random.default_rng(0)
    n_drugs, n = 40, 600
    features = rng.integers(0, 2, (n_drugs, 32)).astype(np.float32)
    d1, d2 = rng.integers(0, n_drugs, n), rng.integers(0, n_drugs, n)
    y = (features[d1, 0] + features[d2, 0]).astype(np.int64)  # 0, 1 or 2: learnable, symmetric
    drugs = pd.DataFrame({"id": [f"d{i}" for i in range(n_drugs)]})
    table = PairTable(
        "toy",
        drugs,
        [None] * n_drugs,
        drugs,
        pd.DataFrame({"pair": np.arange(n), "drug1": d1, "drug2": d2, "y": y}),
        pd.DataFrame(),
        pd.DataFrame(),
        n,
        "ddi",
    )
    split = random_pair_split(n, seed=0)
    inputs = Inputs("vectors", torch.as_tensor(features))
    config = PairConfig(num_epochs=30, batch_size=64, lr=3e-3)

    def run():
        return run_pairs(
            table,
            split,
            lambda: FingerprintMLP(32, 32, 16),
            inputs,
            config,
            DDIConfig(num_classes=3, hidden=(32,), dropout=0.0),
        )

    first, second = run(), run()
    assert first.test == second.test
    assert np.array_equal(first.test_pred, second.test_pred)
    assert first.test["accuracy"] > 0.8
