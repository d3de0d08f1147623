"""SMILES pre-training through the one loop: BERT masking hides what it claims to hide, each
strategy learns (loss falls), a sequence run resumes exactly, the MLM encoder fine-tunes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cpmkit.data.embedded import freesolv, nci5k_smiles
from cpmkit.featurize.tokenizer import build_smiles_tokenizer, token_graphs
from cpmkit.models.chemberta import ChemBERTaConfig, build_masked_lm, classifier_factory
from cpmkit.models.molgpt import MolGPTConfig, build_molgpt
from cpmkit.models.smiles_transformer import SmilesTransformerConfig, build_smiles_transformer
from cpmkit.pretrain import PretrainConfig, pretrain
from cpmkit.pretrain.autoencoding import SmilesAutoencoding
from cpmkit.pretrain.autoregressive import NextTokenPrediction
from cpmkit.pretrain.loop import load_checkpoint_state
from cpmkit.pretrain.masking import IGNORE_INDEX, MaskedLanguageModeling, mask_tokens
from cpmkit.pretrain.smiles import SmilesCorpus, item_smiles
from cpmkit.seed import seed_everything

SMALL = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "max_length": 96}
FAST = PretrainConfig(num_epochs=3, batch_size=16, lr=3e-3)


@pytest.fixture(scope="module")
def tokenizer():
    return build_smiles_tokenizer()


@pytest.fixture(scope="module")
def corpus():
    return SmilesCorpus(nci5k_smiles()[:128], name="nci128")


def make(kind: str, tokenizer, seed: int = 0, **kw):
    seed_everything(seed)  # the initial weights are part of the run
    if kind == "mlm":
        return MaskedLanguageModeling(
            build_masked_lm(tokenizer, ChemBERTaConfig(**SMALL)), tokenizer, **kw
        )
    if kind == "ntp":
        config = MolGPTConfig(**SMALL, **kw.pop("model", {}))
        return NextTokenPrediction(build_molgpt(tokenizer, config), tokenizer, **kw)
    model = build_smiles_transformer(tokenizer, SmilesTransformerConfig(**SMALL))
    return SmilesAutoencoding(model, tokenizer, **kw)


def same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- masking --------------------------------------------------------------------------------------
def test_mask_tokens_follows_bert_and_spares_special_tokens(tokenizer):
    torch.manual_seed(0)
    batch = tokenizer(nci5k_smiles()[:2000], padding=True, return_tensors="pt")
    ids = batch["input_ids"]
    masked, labels = mask_tokens(ids, tokenizer)
    special = torch.isin(ids, torch.tensor(tokenizer.all_special_ids))
    chosen = labels != IGNORE_INDEX
    assert not (chosen & special).any()  # <s>, </s>, <pad>, <unk> are never chosen
    assert torch.equal(labels[chosen], ids[chosen])  # labels: the originals, -100 elsewhere
    assert torch.equal(masked[~chosen], ids[~chosen])  # nothing else changes
    assert chosen.any(1).all()  # every SMILES has at least one target
    share = chosen.sum() / (~special).sum()
    assert 0.14 < share < 0.17
    to_mask = masked[chosen] == tokenizer.mask_token_id
    unchanged = masked[chosen] == ids[chosen]
    random = ~to_mask & ~unchanged
    assert abs(to_mask.float().mean() - 0.8) < 0.02
    assert abs(random.float().mean() - 0.1) < 0.02 and abs(unchanged.float().mean() - 0.1) < 0.02
    # random replacements are ordinary tokens, never a special one
    assert not torch.isin(masked[chosen][random], torch.tensor(tokenizer.all_special_ids)).any()
    # the masked-out tokens do not reach the input: other originals, same draws -> same input
    swapped = ids.clone()
    at_mask = masked == tokenizer.mask_token_id
    carbon, nitrogen = tokenizer.convert_tokens_to_ids(["C", "N"])
    swapped[at_mask] = torch.where(ids[at_mask] == carbon, nitrogen, carbon)
    torch.manual_seed(0)
    masked_again, labels_again = mask_tokens(swapped, tokenizer)
    assert torch.equal(masked_again, masked) and not torch.equal(labels_again, labels)


def test_items_come_from_strings_or_molecule_datasets(tokenizer):
    from cpmkit.data.dataset import MoleculeDataset

    dataset = MoleculeDataset("nci5k", subset=8)
    assert item_smiles(dataset[0]) == dataset[0].smiles == item_smiles(dataset[0].smiles)
    for kind in ("mlm", "ntp", "ae"):
        strategy = make(kind, tokenizer)
        torch.manual_seed(5)
        from_graph = strategy.transform(dataset[0])
        torch.manual_seed(5)
        from_string = strategy.transform(dataset[0].smiles)
        assert from_graph.keys() == from_string.keys()
        assert all(torch.equal(from_graph[k], from_string[k]) for k in from_graph)


def test_skipped_molecules_and_batch_layout(tokenizer):
    conditioned = make(
        "ntp",
        tokenizer,
        model={
            "properties": ("logp", "qed", "tpsa", "sas"),
            "scaffold": True,
            "scaffold_max_length": 24,
        },
    )
    assert conditioned.transform("C1CC") is None  # unparsable: no conditions
    assert make("ntp", tokenizer).transform("C" * 200) is None  # a generator is never cut
    assert make("ae", tokenizer).transform("C1CC") is None  # no canonical target
    assert len(make("mlm", tokenizer).transform("C" * 200)["input_ids"]) == 96  # MLM cuts
    batch = conditioned.collate(
        [conditioned.transform(s) for s in ("CCO", "c1ccccc1CCN")] + [None]
    )
    assert batch["conditions"].shape == (2, 4) and batch["scaffold_ids"].shape == (2, 24)
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert (batch["labels"][0, 5:] == IGNORE_INDEX).all()  # <s> C C O </s> then padding
    loss, logs = conditioned.loss(batch)
    assert torch.isfinite(loss) and 0.0 <= logs["acc"] <= 1.0
    assert conditioned.collate([None, None]) is None


def test_smiles_autoencoding_targets_the_canonical_smiles(tokenizer):
    strategy = make("ae", tokenizer)  # randomize=True by default, as Honda et al.
    torch.manual_seed(0)
    item = strategy.transform("OC(=O)c1ccccc1OC(C)=O")
    target = tokenizer.decode(item["labels"], skip_special_tokens=True)
    assert target == "CC(=O)Oc1ccccc1C(=O)O"  # canonical aspirin
    assert item["labels"][-1] == tokenizer.eos_token_id and item["labels"][0] != 1
    plain = make("ae", tokenizer, randomize=False).transform("OC(=O)c1ccccc1OC(C)=O")
    assert tokenizer.decode(plain["input_ids"], skip_special_tokens=True) == target


def test_smiles_autoencoding_copy_objective_targets_the_random_input(tokenizer):
    # the reference code's target: the same random string the encoder reads
    strategy = make("ae", tokenizer, objective="copy")
    torch.manual_seed(1)
    item = strategy.transform("OC(=O)c1ccccc1OC(C)=O")
    source = tokenizer.decode(item["input_ids"], skip_special_tokens=True)
    assert tokenizer.decode(item["labels"], skip_special_tokens=True) == source
    assert source != "CC(=O)Oc1ccccc1C(=O)O"  # seed 1 draws a non-canonical order
    assert strategy.hparams()["objective"] == "copy"
    assert "objective" not in make("ae", tokenizer).hparams()  # earlier runs keep their key
    with pytest.raises(ValueError, match="objective"):
        make("ae", tokenizer, objective="paraphrase")


# -- the loop -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, kw", [("mlm", {"randomize": True}), ("ntp", {}), ("ae", {})])
def test_each_strategy_learns_through_the_loop(tokenizer, corpus, tmp_path, kind, kw):
    strategy = make(kind, tokenizer, **kw)
    result = pretrain(strategy, corpus, FAST, out_dir=tmp_path, progress=False)
    losses = result.epoch_losses()["loss"]
    assert len(result.history) == 3 * 8 and np.isfinite(losses).all()
    assert losses.iloc[-1] < 0.8 * losses.iloc[0]
    saved = torch.load(result.encoder_path, weights_only=True)
    assert same_state(saved, strategy.encoder.state_dict())
    assert result.strategy.hparams()["model"]["class"] in (
        "RobertaForMaskedLM",
        "MolGPT",
        "BartForConditionalGeneration",
    )


class Interrupted(Exception):
    pass


def test_sequence_run_resumes_to_the_same_weights(tokenizer, corpus, tmp_path):
    config = PretrainConfig(num_epochs=2, batch_size=32, lr=3e-3, checkpoint_every=3)
    whole = make("ntp", tokenizer, randomize=True)  # randomized views: the RNG must resume too
    pretrain(whole, corpus, config, out_dir=tmp_path / "whole", progress=False)

    broken = make("ntp", tokenizer, randomize=True)
    original, calls = broken.loss, {"n": 0}

    def crash_at_step_7(batch):
        calls["n"] += 1
        if calls["n"] == 7:  # 4 steps per epoch: mid-epoch 2, after the checkpoint of step 6
            raise Interrupted
        return original(batch)

    broken.loss = crash_at_step_7
    with pytest.raises(Interrupted):
        pretrain(broken, corpus, config, out_dir=tmp_path / "broken", progress=False)
    saved = load_checkpoint_state(tmp_path / "broken" / "checkpoint.pt")
    assert (saved["epoch"], saved["step_in_epoch"], saved["global_step"]) == (1, 2, 6)
    resumed = make("ntp", tokenizer, randomize=True)
    result = pretrain(resumed, corpus, config, out_dir=tmp_path / "broken", progress=False)
    assert result.resumed_from_step == 6 and len(result.history) == 8
    assert same_state(resumed.state_dict(), whole.state_dict())


# -- fine-tuning ----------------------------------------------------------------------------------
def test_pretrained_mlm_encoder_fine_tunes_in_the_harness(tokenizer, corpus, tmp_path):
    from cpmkit.data.splits import Split
    from cpmkit.tasks.finetune import FinetuneConfig, finetune

    strategy = make("mlm", tokenizer)
    result = pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=1, batch_size=32),
        out_dir=tmp_path,
        progress=False,
    )
    table = freesolv().iloc[:96]
    graphs = token_graphs(tokenizer, table["smiles"], table["expt"].to_numpy())
    split = Split(np.arange(64), np.arange(64, 80), np.arange(80, 96))
    factory = classifier_factory(tokenizer, ChemBERTaConfig(**SMALL), result.encoder_path)
    model = factory(1)
    pretrained = strategy.encoder.roberta.state_dict()
    assert same_state(model.encoder.state_dict(), pretrained)
    config = FinetuneConfig(num_epochs=2, batch_size=32, task_type="regression", device="cpu")
    tuned = finetune(graphs, split, config, model_factory=factory, progress=False)
    assert len(tuned.history) == 2 and np.isfinite(tuned.test)
    assert not same_state(tuned.model.encoder.state_dict(), pretrained)  # the encoder trains
