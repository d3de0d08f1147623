"""GEM's geometry tasks: the combined 2D + 3D scheme keeps one atom order, the labels (bond
lengths, angles, distance bins) are right on a hand-made molecule, and the strategy learns them."""

import math

import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch, Data

from cpmkit.featurize import featurize_mol, featurize_smiles, scheme_version
from cpmkit.featurize.conformer import embed_conformer
from cpmkit.featurize.geometry import (
    atom_pairs,
    bond_angle_triples,
    bond_angles,
    bond_lengths,
    distance_bins,
    geometry_labels,
    hu3d_graph,
)
from cpmkit.models.gnn import GNN
from cpmkit.pretrain.geometry import GEMGeometry
from cpmkit.seed import seed_everything


@pytest.mark.parametrize(
    "smiles", ["CC(=O)Nc1ccc(O)cc1", "[2H]OC(=O)c1ccccc1Cl", "C[C@H](N)C(=O)O", "[Na+].[Cl-]"]
)
def test_hu3d_keeps_the_atom_order_of_the_2d_graph(smiles):
    mol = Chem.MolFromSmiles(smiles)
    data = featurize_mol(mol, "hu3d")
    assert data.x.size(0) == data.z.size(0) == data.pos.size(0) == mol.GetNumAtoms()
    expected = [atom.GetAtomicNum() for atom in mol.GetAtoms()]
    assert data.z.tolist() == expected
    assert (data.x[:, 0] + 1).tolist() == expected  # Hu et al.: atomic number - 1
    # every bond of the 2D graph is a bond-length distance in the conformer
    lengths = bond_lengths(data.edge_index, data.pos)
    assert ((lengths > 0.8) & (lengths < 2.0)).all(), lengths


def test_hu3d_coordinates_are_the_conformer_featurizers():
    mol = Chem.MolFromSmiles("CCOc1ccccc1")
    combined, alone = hu3d_graph(mol, seed=3), embed_conformer(mol, seed=3)
    assert torch.equal(combined.z, alone.z) and torch.allclose(combined.pos, alone.pos)


def test_hu3d_is_a_scheme_with_its_own_version_and_rejects():
    assert scheme_version("hu3d") != scheme_version("hu")
    assert scheme_version("hu3d").startswith("hu3d-")
    result = featurize_smiles(["CCO", "not a smiles", "C1#CC1", "*C"], "hu3d")
    assert result.n_read == len(result) + len(result.rejects) == 4
    assert result.rows.tolist() == [0]
    assert sorted(result.rejects["row"]) == [1, 2, 3]
    assert result.rejects["reason"].str.len().gt(0).all()


def chain():
    """A hand-made bent three-atom chain 0-1-2: bonds 1.5 and 2.0 A at a right angle."""
    pos = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [1.5, 2.0, 0.0]])
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    return Data(pos=pos, edge_index=edge_index, num_nodes=3)


def test_gem_labels_on_a_hand_made_molecule():
    data = chain()
    assert torch.allclose(bond_lengths(data.edge_index, data.pos), torch.tensor([1.5, 1.5, 2, 2]))
    triples = bond_angle_triples(data.edge_index)
    assert sorted(map(tuple, triples.T.tolist())) == [(0, 1, 2), (2, 1, 0)]
    assert torch.allclose(bond_angles(triples, data.pos), torch.full((2,), math.pi / 2))
    labels = geometry_labels(data, num_bins=30)
    assert labels["pairs"].size(1) == 9  # every ordered pair, self-pairs included (GEM)
    found = {
        (int(a), int(b)): int(k) for (a, b), k in zip(labels["pairs"].T, labels["distance_bin"])
    }
    assert found[(0, 0)] == 0 and found[(0, 1)] == 2  # 1.5 A: floor(1.5 / 20 * 30) = 2
    assert found[(0, 2)] == found[(2, 0)] == 3  # 2.5 A -> 3
    assert found[(1, 2)] == 3  # 2.0 A -> 3


def test_distance_bins_clip_at_twenty_angstrom():
    bins = distance_bins(torch.tensor([0.0, 0.66, 0.67, 19.99, 20.0, 35.0]), num_bins=30)
    assert bins.tolist() == [0, 0, 1, 29, 30, 30]
    with pytest.raises(ValueError):
        distance_bins(torch.tensor([1.0]), num_bins=0)


def test_angles_of_a_real_molecule_near_their_hybridisation():
    data = hu3d_graph(Chem.MolFromSmiles("c1ccccc1"))  # aromatic ring: 120 degrees
    triples = bond_angle_triples(data.edge_index)
    assert triples.size(1) == 12  # 6 vertices x 1 pair of ring bonds x 2 orders
    degrees = torch.rad2deg(bond_angles(triples, data.pos))
    assert torch.allclose(degrees, torch.full_like(degrees, 120.0), atol=1.5)


def test_atom_pairs_stay_inside_molecules():
    pairs = atom_pairs(torch.tensor([0, 0, 1, 1, 1]))
    assert pairs.size(1) == 4 + 9
    assert ((pairs[0] < 2) == (pairs[1] < 2)).all()


def test_gem_strategy_learns_its_labels_on_one_batch():
    smiles = ["CCO", "CC(=O)O", "c1ccccc1O", "CCN(CC)CC", "OCC(O)CO", "CC#N", "C1CCCCC1"]
    batch = Batch.from_data_list([hu3d_graph(Chem.MolFromSmiles(s)) for s in smiles])
    seed_everything(0)
    strategy = GEMGeometry(GNN(num_layer=2, emb_dim=32, drop_ratio=0.0), num_bins=30)
    optimizer = torch.optim.Adam(strategy.parameters(), lr=3e-3)
    first = strategy.loss(batch)[1]
    for _ in range(150):
        optimizer.zero_grad()
        loss, logs = strategy.loss(batch)
        loss.backward()
        optimizer.step()
    assert logs["length_mae"] < 0.5 * first["length_mae"] and logs["length_mae"] < 0.05
    assert logs["angle_mae_deg"] < 5.0
    assert logs["distance_acc"] > first["distance_acc"] + 0.3


def test_gem_strategy_needs_conformers_and_known_tasks():
    strategy = GEMGeometry(GNN(num_layer=1, emb_dim=8))
    flat = Batch.from_data_list([featurize_mol(Chem.MolFromSmiles("CCO"), "hu")])
    with pytest.raises(ValueError, match="hu3d"):
        strategy.loss(flat)
    with pytest.raises(ValueError, match="subset"):
        GEMGeometry(GNN(num_layer=1, emb_dim=8), tasks=["torsion"])
