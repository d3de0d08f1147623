"""Inputs and objectives of attribute masking, edge prediction and graph infomax."""

import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch

from cpmkit.featurize.graph_hu import MASK_ATOM_INDEX, MASK_BOND_INDEX, hu_graph
from cpmkit.models.gnn import GNN
from cpmkit.pretrain import AttributeMasking, EdgePrediction, GraphInfomax
from cpmkit.pretrain.autoencoding import negative_edges
from cpmkit.pretrain.base import cycle_index
from cpmkit.pretrain.masking import mask_atoms

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "c1ccc2ccccc2c1", "CCN(CC)CCOC(=O)C1CCCCC1", "OCC(O)CO"]


def graphs():
    return [hu_graph(Chem.MolFromSmiles(s)) for s in SMILES]


def test_masked_atoms_are_hidden_and_their_answers_kept():
    torch.manual_seed(0)
    data = graphs()[0]
    masked = mask_atoms(data, mask_rate=0.15)
    idx = masked.masked_atom_index
    assert len(idx) == int(data.num_nodes * 0.15 + 1) == 2
    # the encoder sees only the mask token at those atoms ...
    assert (masked.x[idx, 0] == MASK_ATOM_INDEX).all() and (masked.x[idx, 1] == 0).all()
    # ... the labels hold the truth, and every other atom is untouched
    assert torch.equal(masked.masked_atom_label, data.x[idx])
    others = torch.ones(data.num_nodes, dtype=torch.bool)
    others[idx] = False
    assert torch.equal(masked.x[others], data.x[others])
    assert not (data.x[:, 0] == MASK_ATOM_INDEX).any()  # the source graph was not modified


def test_masked_atom_type_cannot_leak_through_the_encoder():
    data = graphs()[0]
    torch.manual_seed(0)
    masked = mask_atoms(data)
    idx = masked.masked_atom_index
    other = data.clone()
    other.x[idx, 0] = 16  # a different element at exactly the atoms that get masked
    torch.manual_seed(0)
    masked_other = mask_atoms(other)
    assert torch.equal(masked_other.masked_atom_index, idx)
    gnn = GNN(num_layer=2, emb_dim=16).eval()
    seen = gnn(masked.x, masked.edge_index, masked.edge_attr)
    seen_other = gnn(masked_other.x, masked_other.edge_index, masked_other.edge_attr)
    assert torch.equal(seen, seen_other)  # the encoder cannot tell the two molecules apart
    assert not torch.equal(masked.masked_atom_label, masked_other.masked_atom_label)
    unmasked = gnn(other.x, other.edge_index, other.edge_attr)
    assert not torch.equal(unmasked, gnn(data.x, data.edge_index, data.edge_attr))


def test_masked_bonds_are_hidden_once_per_bond():
    torch.manual_seed(1)
    data = graphs()[2]
    masked = mask_atoms(data, mask_rate=0.15, mask_edge=True)
    idx = set(masked.masked_atom_index.tolist())
    touched = [
        i
        for i in range(data.edge_index.size(1))
        if data.edge_index[0, i].item() in idx or data.edge_index[1, i].item() in idx
    ]
    assert (masked.edge_attr[touched, 0] == MASK_BOND_INDEX).all()
    assert masked.masked_edge_index.size(1) == len(touched) // 2
    for u, v in masked.masked_edge_index.t().tolist():
        assert u in idx or v in idx


def test_masking_batches_shift_indices_to_each_molecule():
    torch.manual_seed(0)
    items = [mask_atoms(g) for g in graphs()]
    batch = Batch.from_data_list(items)
    assert (batch.x[batch.masked_atom_index, 0] == MASK_ATOM_INDEX).all()
    owners = batch.batch[batch.masked_atom_index]
    assert owners.unique().tolist() == list(range(len(items)))


def test_negative_edges_are_distinct_non_bonds_of_the_same_molecule():
    torch.manual_seed(0)
    data = graphs()[2]
    out = negative_edges(data)
    bonds = set(map(tuple, data.edge_index.t().tolist()))
    pairs = list(map(tuple, out.negative_edge_index.t().tolist()))
    assert len(pairs) == data.edge_index.size(1) // 2
    assert len(set(pairs)) == len(pairs)
    assert all(u != v and (u, v) not in bonds for u, v in pairs)
    assert all(0 <= u < data.num_nodes and 0 <= v < data.num_nodes for u, v in pairs)


def test_infomax_negatives_pair_each_molecule_with_another():
    index = cycle_index(5)
    assert sorted(index.tolist()) == list(range(5))
    assert all(i != j for i, j in enumerate(index.tolist()))


def trains(strategy, steps=15):
    torch.manual_seed(0)
    batch = strategy.collate([strategy.transform(g) for g in graphs()])
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-2)
    first = None
    for _ in range(steps):
        out = strategy.loss(batch)
        loss = out[0] if isinstance(out, tuple) else out
        first = float(loss) if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    grads = [p.grad for p in strategy.encoder.parameters() if p.grad is not None]
    return first, float(loss), grads


def test_each_objective_trains_the_encoder():
    for strategy in (
        AttributeMasking(GNN(2, 16), mask_edge=True),
        EdgePrediction(GNN(2, 16)),
        GraphInfomax(GNN(2, 16)),
    ):
        first, last, grads = trains(strategy)
        assert grads and last < first, strategy.name


def test_masked_atom_accuracy_counts_every_masked_atom():
    from cpmkit.pretrain.masking import masked_atom_accuracy

    carbon = 5  # atom-type index = atomic number - 1
    strategy = AttributeMasking(GNN(2, 16))
    with torch.no_grad():  # a head that always answers carbon
        strategy.atom_head.weight.zero_()
        strategy.atom_head.bias.zero_()
        strategy.atom_head.bias[carbon] = 1.0
    data = graphs()
    # the same masks by hand: seed 0, then one mask per molecule in order
    torch.manual_seed(0)
    labels = torch.cat([mask_atoms(g).masked_atom_label[:, 0] for g in data])
    expected = (labels == carbon).float().mean().item()
    assert 0 < expected < 1  # the test can tell a right answer from a wrong one

    acc, majority = masked_atom_accuracy(strategy, data, carbon, batch_size=3)
    assert acc == pytest.approx(expected) and majority == pytest.approx(expected)
    assert strategy.training  # left ready to train on
    oxygen_acc, oxygen = masked_atom_accuracy(strategy, data, 7)
    assert oxygen_acc == pytest.approx(expected)  # the head's answer does not depend on it
    assert oxygen == pytest.approx((labels == 7).float().mean().item())
    assert oxygen != pytest.approx(expected)
