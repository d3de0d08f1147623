"""3D Infomax: the 2D GIN against a 3D SchNet; the two-part checkpoint's 2D part starts
fine-tuning, the 3D view is blind to rotations, and the loss is the authors' NTXent."""

import math

import numpy as np
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch

from cpmkit.data.splits import Split
from cpmkit.featurize import featurize_mol
from cpmkit.featurize.geometry import hu3d_graph
from cpmkit.models.gnn import GNN
from cpmkit.models.graph_model import GNNConfig
from cpmkit.pretrain import PretrainConfig, pretrain
from cpmkit.pretrain.infomax3d import Infomax3D
from cpmkit.pretrain.recipes import build_strategy
from cpmkit.seed import seed_everything
from cpmkit.tasks.finetune import FinetuneConfig, finetune

SMILES = ["CCO", "CC(=O)O", "c1ccccc1O", "CCN(CC)CC", "OCC(O)CO", "CC#N", "C1CCCCC1",
          "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "O=C(O)c1ccccc1OC(C)=O", "CN1CCC[C@H]1c1cccnc1",
          "Nc1ccccc1", "ClCCl"]  # fmt: skip


@pytest.fixture(scope="module")
def corpus():
    return [hu3d_graph(Chem.MolFromSmiles(s)) for s in SMILES]


def random_rotation(seed=0):
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed)))
    return q * torch.sign(torch.det(q))  # a proper rotation


def test_the_2d_part_of_the_two_part_checkpoint_starts_finetuning(corpus, tmp_path):
    gnn = GNNConfig(num_layer=2, emb_dim=16, JK="last", drop_ratio=0.0, gnn_type="gin")
    strategy = build_strategy("infomax3d", gnn, seed=0, num_interactions=1)
    assert set(strategy.parts()) == {"graph", "geometry"}
    pretrain(strategy, corpus, PretrainConfig(num_epochs=2, batch_size=6, lr=1e-2),
             out_dir=tmp_path, progress=False)  # fmt: skip
    assert (tmp_path / "graph.pt").is_file() and (tmp_path / "geometry.pt").is_file()
    saved = torch.load(tmp_path / "graph.pt", weights_only=True)
    untrained = GNN(num_layer=2, emb_dim=16, drop_ratio=0.0).state_dict()
    assert any(not torch.equal(saved[k], untrained[k]) for k in saved)  # it did train
    data = [featurize_mol(Chem.MolFromSmiles(s), "hu") for s in SMILES * 2]
    for i, graph in enumerate(data):
        graph.y = torch.tensor([[float(i % 2)]])
    split = Split(train=np.arange(0, 16), valid=np.arange(16, 20), test=np.arange(20, 24))
    config = FinetuneConfig(num_epochs=1, batch_size=8, lr=0.0, num_layer=2, emb_dim=16)
    tuned = finetune(data, split, config, pretrained=tmp_path, part="graph", progress=False)
    for name, value in tuned.model.gnn.named_parameters():
        assert torch.equal(value.detach(), saved[name]), name  # lr 0: the loaded 2D part


def test_the_3d_view_is_blind_to_rotation_and_translation(corpus):
    seed_everything(0)
    strategy = Infomax3D(GNN(num_layer=2, emb_dim=16, drop_ratio=0.0)).eval()
    batch = Batch.from_data_list(corpus)
    moved = batch.clone()
    moved.pos = batch.pos @ random_rotation().T + torch.tensor([3.0, -1.0, 2.0])
    with torch.no_grad():
        assert torch.allclose(strategy.embed_3d(batch), strategy.embed_3d(moved), atol=1e-4)
        assert torch.allclose(strategy.loss(batch)[0], strategy.loss(moved)[0], atol=1e-4)
        # ... but not to the geometry itself: a stretched molecule is another 3D view
        stretched = batch.clone()
        stretched.pos = 1.5 * batch.pos
        assert not torch.allclose(strategy.embed_3d(batch), strategy.embed_3d(stretched))


def test_code_objective_is_the_authors_ntxent(corpus):
    seed_everything(0)
    strategy = Infomax3D(GNN(num_layer=2, emb_dim=16, drop_ratio=0.0), temperature=0.2).eval()
    batch = Batch.from_data_list(corpus)
    with torch.no_grad():
        z2d, z3d = strategy.embed_2d(batch), strategy.embed_3d(batch)
        loss = strategy.loss(batch)[0].item()
    sim = torch.nn.functional.cosine_similarity(z2d[:, None], z3d[None], dim=2).double()
    expo = torch.exp(sim / 0.2)
    pos = torch.diagonal(expo)
    expected = -torch.log(pos / (expo.sum(1) - pos)).mean().item()  # one way, positive out
    assert math.isclose(loss, expected, rel_tol=1e-4)
    strategy.code_objective = False
    with torch.no_grad():
        assert not math.isclose(strategy.loss(batch)[0].item(), expected, rel_tol=1e-3)


def test_infomax3d_needs_conformers():
    strategy = Infomax3D(GNN(num_layer=1, emb_dim=8))
    flat = Batch.from_data_list([featurize_mol(Chem.MolFromSmiles("CCO"), "hu")] * 2)
    with pytest.raises(ValueError, match="hu3d"):
        strategy.loss(flat)
