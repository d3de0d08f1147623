"""Context prediction: the three views match RDKit's distances, batching keeps every index in
its own molecule, negatives come from other molecules, and the loss trains both GNNs."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch
from rdkit import Chem

from cpmkit.featurize.graph_hu import hu_graph
from cpmkit.models.gnn import GNN
from cpmkit.pretrain.context import (
    ContextPrediction,
    context_views,
    cycle_index,
    substruct_context_pair,
)

# a chain, a ring, a branch and a salt (two components), with heteroatoms to tell atoms apart
SMILES = [
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",  # caffeine
    "OCCN(CCO)CCS(=O)(=O)[O-].[Na+]",
    "ClCCCCCCCCBr",
]


def _graph(smiles: str):
    mol = Chem.MolFromSmiles(smiles)
    return mol, hu_graph(mol)


def _strategy(num_layer: int = 2, emb_dim: int = 16, **kwargs) -> ContextPrediction:
    torch.manual_seed(0)
    return ContextPrediction(GNN(num_layer, emb_dim), **kwargs)


@pytest.mark.parametrize("smiles", SMILES)
@pytest.mark.parametrize("num_layer, context_size", [(1, 1), (2, 3), (3, 2)])
def test_views_follow_rdkit_distances(smiles, num_layer, context_size):
    mol, data = _graph(smiles)
    distance = Chem.GetDistanceMatrix(mol)  # disconnected pairs get a huge value
    r1, r2 = num_layer - 1, num_layer - 1 + context_size
    for center in range(mol.GetNumAtoms()):
        views = context_views(data, center, num_layer, context_size)
        d = distance[center]
        sub, ctx, anchors = (set(t.tolist()) for t in views[1:])
        assert sub == set(np.flatnonzero(d <= num_layer).tolist())
        assert ctx == set(np.flatnonzero((d > r1) & (d <= r2)).tolist())
        assert anchors == set(np.flatnonzero((d > r1) & (d <= num_layer)).tolist())
        assert sub & ctx == anchors  # the two views overlap only at the anchors
        assert center in sub and center not in ctx


def test_pair_graphs_are_the_induced_subgraphs():
    mol, data = _graph(SMILES[0])
    center, num_layer = 4, 2
    views = context_views(data, center, num_layer, 3)
    pair = substruct_context_pair(data, center, num_layer, 3)
    assert views.substruct[pair.center_substruct_idx].tolist() == [center]
    assert torch.equal(views.context[pair.overlap_context_idx], views.anchors)
    for atoms, x, edge_index, edge_attr in [
        (views.substruct, pair.x_substruct, pair.edge_index_substruct, pair.edge_attr_substruct),
        (views.context, pair.x_context, pair.edge_index_context, pair.edge_attr_context),
    ]:
        assert torch.equal(x, data.x[atoms])
        inside = set(atoms.tolist())
        bonds = {
            frozenset((b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
            for b in mol.GetBonds()
            if b.GetBeginAtomIdx() in inside and b.GetEndAtomIdx() in inside
        }
        back = atoms[edge_index]  # relabelled edges mapped back to the molecule's atoms
        assert {frozenset(e) for e in back.t().tolist()} == bonds
        assert edge_index.size(1) == 2 * len(bonds)
        # both directions of a bond stay next to each other, with the same features
        assert torch.equal(back[:, 0::2], back.flip(0)[:, 1::2])
        assert torch.equal(edge_attr[0::2], edge_attr[1::2])


def test_batching_keeps_centers_and_anchors_in_their_molecule():
    strategy = _strategy(num_layer=2)
    graphs = [_graph(s)[1] for s in SMILES]
    centers = [13, 6, 5, 0]  # O, C, S, Cl: distinct atoms, far from each graph's start
    items = [substruct_context_pair(g, c, 2, 3) for g, c in zip(graphs, centers)]
    assert all(item is not None for item in items)
    batch = strategy.collate(items)
    assert batch.num_graphs == len(items)

    expected_centers = torch.stack([g.x[c] for g, c in zip(graphs, centers)])
    assert torch.equal(batch.x_substruct[batch.center_substruct_idx], expected_centers)
    assert batch.batch[batch.center_substruct_idx].tolist() == list(range(len(items)))

    views = [context_views(g, c, 2, 3) for g, c in zip(graphs, centers)]
    expected_anchors = torch.cat([g.x[v.anchors] for g, v in zip(graphs, views)])
    assert torch.equal(batch.x_context[batch.overlap_context_idx], expected_anchors)
    # each anchor index falls inside its own molecule's block of context atoms
    ends = torch.tensor([item.x_context.size(0) for item in items]).cumsum(0)
    owner = torch.bucketize(batch.overlap_context_idx, ends, right=True)
    assert torch.equal(owner, batch.overlap_context_idx_batch)
    # and the context edges too
    edge_owner = torch.bucketize(batch.edge_index_context, ends, right=True)
    assert torch.equal(edge_owner[0], edge_owner[1])


@pytest.mark.parametrize("neg_samples", [1, 2, 5])
def test_negatives_never_pair_a_molecule_with_itself(neg_samples):
    strategy = _strategy(neg_samples=neg_samples)
    for num in range(2, 7):
        shifts = strategy.negative_shifts(num)
        assert len(shifts) == neg_samples
        for shift in shifts:
            partner = cycle_index(num, shift)
            assert sorted(partner.tolist()) == list(range(num))  # a permutation
            assert (partner != torch.arange(num)).all()


@pytest.mark.parametrize("num, neg_samples", [(2, 1), (3, 3), (4, 2)])
def test_negative_logits_come_from_other_molecules(monkeypatch, num, neg_samples):
    # orthogonal vectors: a molecule's own context scores 10, any other molecule's scores 0,
    # so the negative term is exactly log 2 unless a molecule is paired with itself
    strategy = _strategy(neg_samples=neg_samples)
    rep = 10**0.5 * torch.eye(num)
    monkeypatch.setattr(strategy, "representations", lambda batch: (rep, rep))
    loss, logs = strategy.loss(None)
    assert logs["loss_neg"] == pytest.approx(math.log(2))
    assert logs["loss_pos"] == pytest.approx(math.log1p(math.exp(-10)))
    assert logs["acc"] == pytest.approx(0.5)  # positives right, logit 0 is not < 0
    assert float(loss) == pytest.approx(logs["loss_pos"] + neg_samples * math.log(2))


def test_a_batch_of_one_has_only_the_positive_term():
    strategy = _strategy()
    item = substruct_context_pair(_graph(SMILES[0])[1], 0, 2, 3)
    loss, logs = strategy.loss(strategy.collate([item]))
    assert torch.isfinite(loss) and "loss_neg" not in logs
    assert float(loss.detach()) == pytest.approx(logs["loss_pos"])


def test_small_molecule_has_no_context_and_is_dropped():
    strategy = _strategy(num_layer=2)
    ethane = _graph("CC")[1]
    for center in range(2):
        views = context_views(ethane, center, 2, 3)
        assert views.context.numel() == 0 and views.anchors.numel() == 0
        assert substruct_context_pair(ethane, center, 2, 3) is None
    torch.manual_seed(0)
    assert strategy.transform(ethane) is None
    assert strategy.transform(_graph("C")[1]) is None
    item = strategy.transform(_graph("CCCCCC")[1])  # every center has atoms 2 bonds away
    assert item is not None
    batch = strategy.collate([None, item, strategy.transform(ethane)])
    assert batch.num_graphs == 1
    assert strategy.collate([None, None]) is None


def test_transform_uses_torch_rng_only():
    strategy = _strategy(num_layer=2)
    graph = _graph(SMILES[0])[1]

    def draw(python_seed):
        random.seed(python_seed)
        np.random.seed(python_seed)
        torch.manual_seed(7)
        return [strategy.transform(graph).x_substruct.tolist() for _ in range(10)]

    first = draw(0)
    assert first == draw(1)  # python and numpy seeds do not matter
    assert len({json.dumps(x) for x in first}) > 1  # the center does change


def test_hparams_context_gnn_and_encoder_weights():
    strategy = _strategy(num_layer=3, context_size=2, neg_samples=2, context_pooling="sum")
    assert strategy.hparams() == {
        "context_size": 2, "neg_samples": 2, "context_pooling": "sum", "r1": 2, "r2": 4, "k": 3,
    }  # fmt: skip
    json.dumps(strategy.hparams())
    assert strategy.context_gnn.num_layer == 2
    assert strategy.context_gnn.emb_dim == strategy.encoder.emb_dim
    assert strategy.encoder_state_dict().keys() == strategy.encoder.state_dict().keys()
    with pytest.raises(ValueError):
        ContextPrediction(GNN(2, 16), context_pooling="median")
    with pytest.raises(ValueError):  # JK concat: widths 3*16 vs 4*16 cannot be dotted
        ContextPrediction(GNN(2, 16, JK="concat"), context_size=3)


@pytest.mark.parametrize("pooling", ["mean", "sum", "max"])
def test_loss_backprops_into_both_gnns_and_decreases(pooling):
    strategy = _strategy(num_layer=2, emb_dim=16, neg_samples=2, context_pooling=pooling)
    graphs = [_graph(s)[1] for s in SMILES]
    batch = strategy.collate([substruct_context_pair(g, 3, 2, 3) for g in graphs])
    strategy.train()
    loss, logs = strategy(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert 0.0 <= logs["acc"] <= 1.0
    loss.backward()
    for gnn in (strategy.encoder, strategy.context_gnn):
        grad = gnn.x_embedding1.weight.grad
        assert grad is not None and grad.abs().sum() > 0
        assert gnn.gnns[-1].mlp[0].weight.grad.abs().sum() > 0

    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-2)
    first = float(loss.detach())
    for _ in range(15):
        optimizer.zero_grad()
        loss, _ = strategy(batch)
        loss.backward()
        optimizer.step()
    assert float(strategy(batch)[0].detach()) < 0.5 * first


@pytest.fixture(scope="module")
def nci(tmp_path_factory):
    from cpmkit.data.dataset import MoleculeDataset

    return MoleculeDataset("nci5k", subset=200, root=tmp_path_factory.mktemp("cache"))


def test_transform_on_a_real_corpus(nci):
    strategy = _strategy(num_layer=2)
    torch.manual_seed(0)
    items = [strategy.transform(nci[i]) for i in range(64)]
    kept = [item for item in items if item is not None]
    assert len(kept) > 32  # most NCI molecules have atoms 2+ bonds from a random center
    loss, _ = strategy.loss(strategy.collate(items))
    assert torch.isfinite(loss)


def test_one_epoch_through_the_loop(nci, tmp_path):
    loop = pytest.importorskip("cpmkit.pretrain.loop")
    torch.manual_seed(0)
    strategy = ContextPrediction(GNN(2, 32))
    result = loop.pretrain(
        strategy, nci[:64], loop.PretrainConfig(num_epochs=1, batch_size=16, device="cpu"),
        out_dir=tmp_path, progress=False,
    )  # fmt: skip
    assert len(result.history) == 4
    assert np.isfinite(result.history["loss"]).all()
    assert "acc" in result.history
    encoder = GNN(2, 32)
    encoder.load_state_dict(torch.load(result.encoder_path, weights_only=True), strict=True)
