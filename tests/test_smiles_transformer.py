"""SMILES Transformer fidelity: the corpus-only vocabulary (as the authors' ``build_vocab.py``)
and the two decoder targets (the paper's canonical translation, the authors' code's copy)."""

from __future__ import annotations

import torch

from cpmkit.data.embedded import nci5k_smiles
from cpmkit.featurize.augment import canonical_smiles
from cpmkit.featurize.tokenizer import (
    COMMON_TOKENS,
    SPECIAL_TOKENS,
    build_smiles_tokenizer,
    coverage,
    smiles_pieces,
)
from cpmkit.models.smiles_transformer import SmilesTransformerConfig, build_smiles_transformer
from cpmkit.pretrain.autoencoding import SmilesAutoencoding
from cpmkit.seed import seed_everything

CORPUS = nci5k_smiles()[:300]


def test_corpus_only_vocabulary_round_trips_every_corpus_smiles():
    tokenizer = build_smiles_tokenizer(CORPUS, common_tokens=False)
    pieces = {piece for smiles in CORPUS for piece in smiles_pieces(smiles)}
    vocab = tokenizer.get_vocab()
    # the special tokens, then exactly the corpus's own tokens: nothing else
    assert set(vocab) == set(SPECIAL_TOKENS) | pieces
    assert [vocab[t] for t in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    assert coverage(tokenizer, CORPUS).n_unknown == 0
    for smiles in CORPUS:
        ids = tokenizer(smiles)["input_ids"]
        assert tokenizer.unk_token_id not in ids
        assert tokenizer.decode(ids, skip_special_tokens=True) == smiles
    # the default keeps the always-present tokens, so the corpus-only one is smaller
    common = build_smiles_tokenizer(CORPUS)
    assert set(COMMON_TOKENS) <= set(common.get_vocab())
    assert len(tokenizer) < len(common)
    # a token the corpus lacks reads as <unk> under the corpus-only vocabulary
    missing = next(t for t in COMMON_TOKENS if t not in pieces and t.startswith("["))
    assert coverage(tokenizer, [f"C{missing}C"]).n_unknown == 1


def _strategy(tokenizer, objective):
    seed_everything(0)
    config = SmilesTransformerConfig(hidden_size=32, num_layers=1, num_heads=2, max_length=160,
                                     intermediate_size=32)  # fmt: skip
    return SmilesAutoencoding(build_smiles_transformer(tokenizer, config), tokenizer,
                              objective=objective)  # fmt: skip


def test_copy_targets_equal_inputs_and_canonical_targets_do_not_depend_on_the_view():
    # NCI is written in Kekule form: the default vocabulary also holds the aromatic tokens of
    # the canonical targets (a corpus-only one would need them collected from those targets)
    tokenizer = build_smiles_tokenizer(CORPUS)
    copy, canonical = _strategy(tokenizer, "copy"), _strategy(tokenizer, "canonical")
    # the reference's feed-forward width (= hidden) reaches the model
    assert copy.encoder.config.encoder_ffn_dim == copy.encoder.config.d_model == 32
    n_copied = n_differs = 0
    for index, smiles in enumerate(CORPUS[:60]):
        torch.manual_seed(index)
        item = copy.transform(smiles)
        if item is None:  # unparsable or too long: skipped by both objectives
            continue
        source = tokenizer.decode(item["input_ids"], skip_special_tokens=True)
        # the labels are the input after <s>: the same random string, token for token
        assert torch.equal(item["labels"], item["input_ids"][1:])
        n_copied += 1
        torch.manual_seed(index)
        other = canonical.transform(smiles)
        assert torch.equal(other["input_ids"], item["input_ids"])  # the same view
        target = tokenizer.decode(other["labels"], skip_special_tokens=True)
        assert target == canonical_smiles(smiles) == canonical_smiles(source)
        n_differs += source != target
    assert n_copied >= 50 and n_differs > 0  # random views are not all canonical
