"""The encoder contract, one test per family: what each takes, what it returns, ``out_dim``,
and one pooled vector per molecule from ``embed``."""

import pytest
import torch
from torch_geometric.data import Batch, Data
from transformers import RobertaConfig, RobertaModel

from cpmkit.featurize.graph_hu import hu_graph
from cpmkit.models.encoders import SequenceEncoder, embed, encode, family_of
from cpmkit.models.geometric import SchNetEncoder
from cpmkit.models.gnn import GNN


def hu_batch():
    from rdkit import Chem

    graphs = [hu_graph(Chem.MolFromSmiles(s)) for s in ("CCO", "c1ccccc1O")]
    return Batch.from_data_list(graphs)


def test_graph_encoder_gives_atom_vectors_and_pools_per_molecule():
    batch = hu_batch()
    gnn = GNN(num_layer=2, emb_dim=16, JK="concat").eval()
    nodes = encode(gnn, batch)
    assert family_of(gnn) == "graph"
    assert nodes.shape == (batch.num_nodes, gnn.out_dim) and gnn.out_dim == 48
    pooled = embed(gnn, batch, pool="mean")
    assert pooled.shape == (2, 48)
    assert torch.allclose(pooled[0], nodes[batch.batch == 0].mean(0))


def test_geometry_encoder_is_invariant_to_rotation_and_translation():
    torch.manual_seed(0)
    z = torch.tensor([6, 6, 8, 1, 1, 7, 6])
    pos = torch.randn(7, 3)
    index = torch.tensor([0, 0, 0, 0, 0, 1, 1])
    encoder = SchNetEncoder(hidden_channels=16, num_interactions=2).eval()
    rotation, _ = torch.linalg.qr(torch.randn(3, 3))
    moved = pos @ rotation.T + torch.tensor([1.0, -2.0, 0.5])
    atoms = encoder(z, pos, index)
    assert atoms.shape == (7, encoder.out_dim) and family_of(encoder) == "geometry"
    assert torch.allclose(atoms, encoder(z, moved, index), atol=1e-5)
    batch = Batch.from_data_list([Data(z=z[:5], pos=pos[:5]), Data(z=z[5:], pos=pos[5:])])
    assert embed(encoder, batch, pool="sum").shape == (2, 16)
    assert torch.allclose(embed(encoder, batch, pool="sum")[1], atoms[5:].sum(0), atol=1e-5)


def test_sequence_encoder_gives_token_vectors_and_pools_real_tokens_only():
    config = RobertaConfig(
        vocab_size=20,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=20,
        pad_token_id=1,
    )
    encoder = SequenceEncoder(RobertaModel(config, add_pooling_layer=False)).eval()
    ids = torch.tensor([[0, 5, 6, 2, 1, 1], [0, 7, 8, 9, 10, 2]])
    mask = (ids != 1).long()
    tokens = encoder(ids, mask)
    assert tokens.shape == (2, 6, 16) and encoder.out_dim == 16
    batch = Data(input_ids=ids, attention_mask=mask)
    pooled = embed(encoder, batch, pool="mean")
    assert torch.allclose(pooled[0], tokens[0, :4].mean(0), atol=1e-6)
    assert torch.equal(embed(encoder, batch, pool="cls"), tokens[:, 0])


def test_an_encoder_without_a_family_is_refused():
    with pytest.raises(TypeError, match="encoder contract"):
        embed(torch.nn.Linear(2, 2), hu_batch())
