"""The regex SMILES tokenizer: lossless round trip, special tokens, <unk> counting, save/load."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from cpmkit.featurize.tokenizer import (
    COMMON_TOKENS,
    SPECIAL_TOKENS,
    build_smiles_tokenizer,
    coverage,
    nci5k_path,
    smiles_pieces,
)


def nci5k() -> list[str]:
    with open(nci5k_path()) as handle:
        return [line.split()[0] for line in handle if line.strip()]


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    return build_smiles_tokenizer()


def test_regex_splits_chemically():
    assert smiles_pieces("CC(=O)Oc1ccccc1C(=O)O") == list("CC(=O)Oc1ccccc1C(=O)O")
    assert smiles_pieces("ClCBr") == ["Cl", "C", "Br"]
    assert smiles_pieces("C[C@@H](N)C(=O)[O-].[Na+]") == [
        "C",
        "[C@@H]",
        "(",
        "N",
        ")",
        "C",
        "(",
        "=",
        "O",
        ")",
        "[O-]",
        ".",
        "[Na+]",
    ]
    assert smiles_pieces("C%12CC%12") == ["C", "%12", "C", "C", "%12"]
    assert smiles_pieces("F/C=C\\F") == ["F", "/", "C", "=", "C", "\\", "F"]


def test_round_trip_on_every_nci5k_molecule(tokenizer):
    smiles_list = nci5k()
    assert len(smiles_list) == 4999
    for smiles in smiles_list:
        tokens = tokenizer.tokenize(smiles)
        assert "".join(tokens) == smiles, smiles
        ids = tokenizer(smiles)["input_ids"]
        assert tokenizer.decode(ids, skip_special_tokens=True) == smiles
    assert coverage(tokenizer, smiles_list).n_unknown == 0


def test_common_tokens_alone_cover_most_of_nci5k():
    # a vocabulary that never saw the NCI set: lossless wherever it knows every piece
    common_only = build_smiles_tokenizer(corpus=[])
    smiles_list = nci5k()
    report = coverage(common_only, smiles_list)
    clean = 0
    for smiles in smiles_list:
        tokens = common_only.tokenize(smiles)
        assert len(tokens) == len(smiles_pieces(smiles))
        if "<unk>" not in tokens:
            assert "".join(tokens) == smiles
            clean += 1
    assert clean == report.n_smiles - report.n_smiles_with_unknown
    assert 0 < report.n_unknown and report.unknown_fraction < 0.01


def test_special_tokens(tokenizer):
    assert tuple(tokenizer.convert_ids_to_tokens(list(range(5)))) == SPECIAL_TOKENS
    assert (tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    assert (tokenizer.unk_token_id, tokenizer.mask_token_id) == (3, 4)
    assert (tokenizer.cls_token_id, tokenizer.sep_token_id) == (1, 2)  # RoBERTa's names
    ids = tokenizer("CCO")["input_ids"]
    assert ids[0] == 1 and ids[-1] == 2 and len(ids) == 5
    assert tokenizer.decode(ids) == "<s>CCO</s>"
    batch = tokenizer(["CCO", "c1ccccc1"], padding=True)
    assert batch["input_ids"][0][-1] == tokenizer.pad_token_id
    assert batch["attention_mask"][0].count(0) == 5
    masks = tokenizer("CCO", return_special_tokens_mask=True)["special_tokens_mask"]
    assert masks == [1, 0, 0, 0, 1]  # what a masked-LM collator needs to spare <s> and </s>
    assert all(token in tokenizer.get_vocab() for token in COMMON_TOKENS)


def test_unseen_tokens_become_unk_and_are_counted():
    half = nci5k()[:100]
    small = build_smiles_tokenizer(corpus=half)
    assert small.tokenize("C[Xe]C") == ["C", "<unk>", "C"]  # no crash
    assert small("C[Xe]C")["input_ids"][2] == small.unk_token_id
    report = coverage(small, ["C[Xe]C", "CCO", "[Xe].[Xe]", "CX"])
    assert report.n_smiles == 4
    assert report.n_unknown == 4 and report.n_smiles_with_unknown == 3
    assert report.unknown == {"[Xe]": 3, "X": 1}
    assert report.unknown_fraction == pytest.approx(4 / report.n_tokens)


def test_vocabulary_is_deterministic_and_min_frequency_filters():
    corpus = ["CC[Se]C", "CCO", "CCN", "[Te]C", "[Te]C"]
    a, b = build_smiles_tokenizer(corpus), build_smiles_tokenizer(list(corpus))
    assert a.get_vocab() == b.get_vocab()
    strict = build_smiles_tokenizer(corpus, min_frequency=2)
    assert "[Se]" in a.get_vocab() and "[Se]" in strict.get_vocab()  # a common token
    rare = ["C[Rb]C", "[Cs]C", "[Cs]C"]
    assert "[Rb]" in build_smiles_tokenizer(rare).get_vocab()
    assert "[Rb]" not in build_smiles_tokenizer(rare, min_frequency=2).get_vocab()
    assert "[Cs]" in build_smiles_tokenizer(rare, min_frequency=2).get_vocab()


def test_save_and_load_round_trip(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    smiles = "C[C@@H](N)C(=O)[O-].[Na+]"
    for loaded in (
        PreTrainedTokenizerFast.from_pretrained(tmp_path),
        AutoTokenizer.from_pretrained(tmp_path),
    ):
        assert loaded.get_vocab() == tokenizer.get_vocab()
        assert loaded(smiles)["input_ids"] == tokenizer(smiles)["input_ids"]
        assert loaded.decode(loaded(smiles)["input_ids"], skip_special_tokens=True) == smiles
        assert (loaded.pad_token, loaded.mask_token, loaded.unk_token) == (
            "<pad>",
            "<mask>",
            "<unk>",
        )
        assert loaded.tokenize("C[Xe]") == ["C", "<unk>"]


def test_token_graphs_pad_to_one_length_and_batch_like_graphs(tokenizer):
    from torch_geometric.loader import DataLoader

    from cpmkit.featurize.tokenizer import token_graphs

    smiles = ["CCO", "c1ccccc1O", "C"]
    graphs = token_graphs(tokenizer, smiles, labels=[1.0, float("nan"), 3.0], rows=[4, 9, 11])
    longest = max(len(tokenizer(s)["input_ids"]) for s in smiles)
    assert [tuple(g.input_ids.shape) for g in graphs] == [(1, longest)] * 3
    first = graphs[0]
    assert first.input_ids[0, :5].tolist() == tokenizer("CCO")["input_ids"]
    assert (first.input_ids[0, 5:] == tokenizer.pad_token_id).all()
    assert first.attention_mask[0].tolist() == [1] * 5 + [0] * (longest - 5)
    assert first.smiles == "CCO" and first.num_nodes == 5 and first.y.shape == (1, 1)
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.input_ids.shape == (3, longest) and batch.attention_mask.shape == (3, longest)
    assert batch.y.shape == (3, 1) and batch.y[1].isnan().all()
    assert batch.row.tolist() == [4, 9, 11] and batch.num_graphs == 3
    assert tokenizer.decode(batch.input_ids[1], skip_special_tokens=True) == "c1ccccc1O"


def test_token_graphs_max_length_truncates_and_checks_inputs(tokenizer):
    from cpmkit.featurize.tokenizer import token_graphs

    graphs = token_graphs(tokenizer, ["CCCCCCCCCC", "C"], max_length=6)
    assert all(g.input_ids.shape == (1, 6) for g in graphs)
    assert tokenizer.decode(graphs[0].input_ids[0]) == "<s>CCCC</s>"  # </s> kept last
    assert not hasattr(graphs[0], "y") or graphs[0].y is None
    with pytest.raises(ValueError, match="label rows"):
        token_graphs(tokenizer, ["C", "CC"], labels=[1.0])
    with pytest.raises(ValueError, match="max_length"):
        token_graphs(tokenizer, ["C"], max_length=1)
