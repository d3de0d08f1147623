"""Mole-BERT: the element-split VQ codebook, the tokenizer stage and masked code modelling."""

import json

import numpy as np
import pytest
import torch

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.models.gnn import GNN
from cpmkit.models.vq import (
    MOLEBERT_RANGES_512,
    ElementVectorQuantizer,
    element_code_ranges,
    element_groups,
)
from cpmkit.pretrain.molebert import (
    MoleBERT,
    MoleBERTTokenizer,
    masked_contrastive_loss,
    triplet_loss,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return MoleculeDataset("nci5k", subset=64, root=tmp_path_factory.mktemp("cache"))


def test_code_ranges_are_the_authors_at_512_and_scale_down():
    assert element_code_ranges(512) == MOLEBERT_RANGES_512
    small = element_code_ranges(32)
    spans = {group: stop - start for group, (start, stop) in small.items()}
    assert spans["C"] > spans["N"] >= 1 and spans["O"] >= 1 and spans["other"] >= 1
    ends = sorted(small.values())
    assert all(a[1] <= b[0] for a, b in zip(ends, ends[1:])) and ends[-1][1] <= 32


def test_codes_stay_in_their_element_range():
    torch.manual_seed(0)
    quantizer = ElementVectorQuantizer(8, num_tokens=64)
    atom_type = torch.tensor([5, 5, 6, 7, 15, 8, 5, 0])  # C C N O S F C H
    codes = quantizer.code_indices(atom_type, torch.randn(8, 8))
    for group, mask in element_groups(atom_type).items():
        start, stop = quantizer.ranges[group]
        assert ((codes[mask] >= start) & (codes[mask] < stop)).all(), group


def test_quantizer_is_nearest_code_and_straight_through():
    torch.manual_seed(0)
    quantizer = ElementVectorQuantizer(4, num_tokens=16)
    atom_type = torch.full((5,), 5)
    e = torch.randn(5, 4, requires_grad=True)
    quantized, codes, loss = quantizer(atom_type, e)
    start, stop = quantizer.ranges["C"]
    weight = quantizer.embeddings.weight.detach()
    expected = torch.cdist(e.detach(), weight[start:stop]).argmin(1) + start
    assert torch.equal(codes, expected)
    assert torch.allclose(quantized, weight[codes])  # forward: the code's value
    (quantized * torch.arange(4.0)).sum().backward()
    assert torch.allclose(e.grad, torch.arange(4.0).expand(5, 4))  # backward: identity
    assert loss.item() > 0


def test_tokenizer_gradient_reaches_the_encoder_through_the_codes(corpus):
    torch.manual_seed(0)
    strategy = MoleBERTTokenizer(GNN(2, 16), num_tokens=32)
    batch = strategy.collate([corpus[i] for i in range(16)])
    e = strategy.encoder(batch.x, batch.edge_index, batch.edge_attr)
    quantized, _, _ = strategy.quantizer(batch.x[:, 0], e)
    # the reconstruction alone (no VQ loss) must train the encoder: straight-through
    recon = torch.nn.functional.cross_entropy(
        strategy.atom_decoder(quantized, batch.edge_index, batch.edge_attr), batch.x[:, 0]
    )
    recon.backward()
    grads = [p.grad for p in strategy.encoder.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert strategy.quantizer.embeddings.weight.grad is None  # codes get only the VQ loss


def test_codebook_is_used_after_training_not_collapsed(corpus):
    torch.manual_seed(0)
    strategy = MoleBERTTokenizer(GNN(2, 16), num_tokens=64)
    batch = strategy.collate([corpus[i] for i in range(64)])
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-2)
    for _ in range(40):
        optimizer.zero_grad()
        loss, logs = strategy(batch)
        loss.backward()
        optimizer.step()
    codes = strategy.tokenize(batch)
    carbon = batch.x[:, 0] == 5
    assert codes[carbon].unique().numel() >= 3  # carbon is told apart by its context
    assert codes.unique().numel() >= 6
    # the codes keep what the decoder needs: better than always answering carbon
    assert logs["atom_acc"] > carbon.float().mean().item() + 0.05


def test_masked_contrastive_loss_by_hand():
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    t = 0.5
    # row 0: pos cos 1, the other cos 1 -> -log(e^2 / e^2); row 1: pos cos 0, other cos 0
    expected = -(np.log(np.exp(2) / np.exp(2)) + np.log(np.exp(0) / np.exp(0))) / 2
    assert masked_contrastive_loss(z1, z2, t).item() == pytest.approx(expected, abs=1e-6)
    z2 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    expected = -np.log(np.exp(2) / np.exp(0))
    assert masked_contrastive_loss(z1, z2, t).item() == pytest.approx(expected, abs=1e-6)


def test_triplet_loss_by_hand():
    anchor = torch.zeros(2, 2)
    positive = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    negative = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    # row 0: 1 - 2 < 0 -> 0; row 1: 3 - 1 = 2 (eps of pairwise_distance aside)
    assert triplet_loss(anchor, positive, negative).item() == pytest.approx(1.0, abs=1e-4)
    assert triplet_loss(anchor, positive, negative, margin=1.5).item() == pytest.approx(
        (0.5 + 3.5) / 2, abs=1e-4
    )


def test_molebert_loss_on_a_toy_batch_predicts_the_tokenizer_codes(corpus):
    torch.manual_seed(0)
    tokenizer = MoleBERTTokenizer(GNN(2, 16), num_tokens=32)
    strategy = MoleBERT(GNN(2, 16), tokenizer=tokenizer)
    items = [strategy.transform(corpus[i]) for i in range(16)]
    original, low, high = items[0]
    assert low.masked_atom_index.numel() < high.masked_atom_index.numel()
    batch = strategy.collate(items)
    loss, logs = strategy(batch)
    assert torch.isfinite(loss) and 0 <= logs["code_acc"] <= 1
    # the heads predict among the codebook, the targets are the frozen tokenizer's codes
    assert strategy.atom_heads[0].out_features == 32
    loss.backward()
    assert all(p.grad is None for p in strategy.tokenizer.parameters())
    assert strategy.encoder.x_embedding1.weight.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in strategy.tokenizer.parameters())


def test_pretrain_recipe_runs_both_stages_and_returns_the_fresh_encoder(
    corpus, tmp_path, monkeypatch
):
    from cpmkit.models.graph_model import GNNConfig
    from cpmkit.pretrain.loop import PretrainConfig, pretrain
    from cpmkit.pretrain.recipes import build_strategy, pretrain_recipe

    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path))
    gnn = GNNConfig(num_layer=2, emb_dim=16, drop_ratio=0.0)
    config = PretrainConfig(num_epochs=1, batch_size=16, device="cpu")
    stages = pretrain_recipe(
        "molebert",
        gnn,
        corpus,
        config,
        progress=False,
        hparams={"molebert_tokenizer": {"num_tokens": 32}},
    )
    assert [s.strategy.name for s in stages] == ["molebert_tokenizer", "molebert"]
    tokenizer_run, mcm_run = stages
    assert {"tokenizer", "codebook"} <= set(tokenizer_run.part_paths)
    run = json.loads((mcm_run.out_dir / "run.json").read_text())
    assert str(tokenizer_run.out_dir) in json.dumps(run)
    assert mcm_run.strategy.atom_heads[0].out_features == 32
    # the final encoder started fresh (not from the tokenizer's weights): the same stage built
    # by hand from a fresh GIN and the tokenizer's folder ends with the same weights
    final = torch.load(mcm_run.encoder_path, weights_only=True)
    tok = torch.load(tokenizer_run.part_paths["tokenizer"], weights_only=True)
    assert final.keys() == tok.keys()
    by_hand = build_strategy("molebert", gnn, seed=config.seed, tokenizer=tokenizer_run.out_dir)
    again = pretrain(by_hand, corpus, config, out_dir=tmp_path / "again", progress=False)
    assert again.trained
    for key, value in torch.load(again.encoder_path, weights_only=True).items():
        assert torch.allclose(value, final[key]), key
    assert np.isfinite(mcm_run.final_loss)
