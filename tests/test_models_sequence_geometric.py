"""The SMILES GRU and the SchNet predictor: shapes, padding, rotation, radius graph."""

from __future__ import annotations

import math

import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from cpmkit.featurize.conformer import embed_conformer
from cpmkit.featurize.tokenizer import build_smiles_tokenizer, token_graphs
from cpmkit.models.geometric import SchNetPredictor, radius_graph_dense
from cpmkit.models.sequence import SmilesGRU

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "ClC(Cl)Cl"]


@pytest.fixture(scope="module")
def tokenizer():
    return build_smiles_tokenizer(corpus=SMILES)


def _gru(tokenizer, num_tasks=2):
    torch.manual_seed(0)
    return SmilesGRU(
        len(tokenizer), num_tasks, emb_dim=16, hidden_dim=8, pad_token_id=tokenizer.pad_token_id
    ).eval()


def test_gru_maps_a_token_batch_to_one_row_per_molecule(tokenizer):
    graphs = token_graphs(tokenizer, SMILES, labels=[[0.0, 1.0]] * len(SMILES))
    batch = next(iter(DataLoader(graphs, batch_size=len(SMILES))))
    model = _gru(tokenizer)
    assert batch.input_ids.shape == (len(SMILES), graphs[0].input_ids.size(1))
    assert model(batch).shape == (len(SMILES), 2)
    assert model.embed(batch).shape == (len(SMILES), 16)


def test_gru_embedding_does_not_depend_on_padding(tokenizer):
    model = _gru(tokenizer)
    short = Batch.from_data_list(token_graphs(tokenizer, SMILES))
    long = Batch.from_data_list(token_graphs(tokenizer, SMILES, max_length=40))
    assert long.input_ids.size(1) == 40 > short.input_ids.size(1)
    with torch.no_grad():
        torch.testing.assert_close(model.embed(short), model.embed(long))
        # alone, or batched with longer SMILES: the same vector
        alone = Batch.from_data_list(token_graphs(tokenizer, SMILES[:1]))
        torch.testing.assert_close(model.embed(alone)[0], model.embed(long)[0])


def test_gru_embedding_ignores_what_sits_under_the_padding(tokenizer):
    model = _gru(tokenizer)
    batch = Batch.from_data_list(token_graphs(tokenizer, SMILES, max_length=40))
    noisy = batch.clone()
    pad = noisy.attention_mask == 0
    noisy.input_ids[pad] = 7  # any real token id where the mask says "padding"
    with torch.no_grad():
        torch.testing.assert_close(model.embed(batch), model.embed(noisy))


def _conformers():
    return [embed_conformer(Chem.MolFromSmiles(s), seed=0) for s in SMILES]


def _rotation(angle_x, angle_z):
    cx, sx, cz, sz = math.cos(angle_x), math.sin(angle_x), math.cos(angle_z), math.sin(angle_z)
    rx = torch.tensor([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rz = torch.tensor([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return (rz @ rx).float()


def test_schnet_shape_and_rotation_translation_invariance():
    torch.manual_seed(0)
    model = SchNetPredictor(num_tasks=3, hidden_channels=16, num_interactions=2, cutoff=4.0).eval()
    graphs = _conformers()
    batch = Batch.from_data_list(graphs)
    moved = Batch.from_data_list(
        [
            Data(z=g.z, pos=g.pos @ _rotation(0.7, 2.1).T + torch.tensor([3.0, -1.0, 0.5]))
            for g in graphs
        ]
    )
    with torch.no_grad():
        out, out_moved = model(batch), model(moved)
    assert out.shape == (len(SMILES), 3)
    torch.testing.assert_close(out, out_moved, atol=1e-4, rtol=1e-4)
    # ... but not invariant to changing the geometry itself
    stretched = Batch.from_data_list([Data(z=g.z, pos=1.3 * g.pos) for g in graphs])
    with torch.no_grad():
        assert not torch.allclose(out, model(stretched), atol=1e-4)


def test_radius_graph_keeps_edges_inside_one_molecule_and_within_the_cutoff():
    # two molecules placed on top of each other: a plain radius graph would join them
    a = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [5.0, 0, 0]])
    b = torch.tensor([[0.1, 0, 0], [0.9, 0, 0]])
    pos = torch.cat([a, b])
    batch = torch.tensor([0, 0, 0, 1, 1])
    edge_index, weight = radius_graph_dense(pos, batch, cutoff=2.0)
    edges = set(map(tuple, edge_index.T.tolist()))
    assert edges == {(0, 1), (1, 0), (3, 4), (4, 3)}
    assert (batch[edge_index[0]] == batch[edge_index[1]]).all()
    torch.testing.assert_close(weight, (pos[edge_index[0]] - pos[edge_index[1]]).norm(dim=1))
    assert (weight < 2.0).all()


def test_a_single_atom_molecule_has_no_edges_and_still_gets_a_prediction():
    torch.manual_seed(0)
    model = SchNetPredictor(num_tasks=1, hidden_channels=8, num_interactions=1).eval()
    methane = embed_conformer(Chem.MolFromSmiles("C"))
    batch = Batch.from_data_list([methane, _conformers()[0]])
    edge_index, _ = radius_graph_dense(batch.pos, batch.batch, cutoff=5.0)
    assert not (edge_index == 0).any()  # atom 0 is the lone carbon
    with torch.no_grad():
        assert torch.isfinite(model(batch)).all() and model(batch).shape == (2, 1)
