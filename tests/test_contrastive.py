"""Contrastive learning (lesson 06): the one InfoNCE against a hand computation, GraphCL's
augmentations valid as tensors, JOAO's distribution, SimGRACE's untouched weights, SMICLR's two
parts in fine-tuning, false negatives, and the GraphCL loss on two processes equal to one."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from ddp.launch import run_two_ranks
from rdkit import Chem

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.splits import Split
from cpmkit.featurize.graph_augment import (
    AUGMENTATIONS,
    augment,
    chemistry_problems,
    fragment_count,
    perturb_edges,
    subgraph,
    tensor_problems,
)
from cpmkit.featurize.graph_hu import MASK_ATOM_INDEX, hu_graph
from cpmkit.featurize.similarity import activity_cliffs, near_duplicate_negatives, tanimoto_matrix
from cpmkit.models.gnn import GNN
from cpmkit.pretrain import PretrainConfig, pretrain
from cpmkit.pretrain.contrastive import (
    JOAO,
    MVGRL,
    SMICLR,
    GraphCL,
    InfoGraph,
    SimGRACE,
    diffusion_view,
    info_nce,
    project_to_simplex,
)
from cpmkit.seed import seed_everything
from cpmkit.tasks.finetune import FinetuneConfig, finetune

sys.path.insert(0, str(Path(__file__).resolve().parent))
from toys import ToyGraphEncoder

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


@pytest.fixture(scope="module")
def corpus():
    return MoleculeDataset("nci5k", subset=64)


def test_info_nce_matches_a_hand_computation():
    z1 = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    z2 = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    t = 0.5
    c = 1 / math.sqrt(2)  # cos(z1[0], z2[0]) = cos(z1[1], z2[0]) = c; cos(z1[0], z2[1]) = 0
    # anchor 0 (z1): positive c, negative 0; anchor 1: positive 1, negative c
    l0 = -math.log(math.exp(c / t) / (math.exp(c / t) + math.exp(0 / t)))
    l1 = -math.log(math.exp(1 / t) / (math.exp(1 / t) + math.exp(c / t)))
    # z2 anchors: row 0: positive c vs candidate z1[1] c; row 1: positive 1 vs z1[0] 0
    m0 = -math.log(math.exp(c / t) / (math.exp(c / t) + math.exp(c / t)))
    m1 = -math.log(math.exp(1 / t) / (math.exp(1 / t) + math.exp(0 / t)))
    one_way = info_nce(z1, z2, temperature=t, symmetric=False)
    assert one_way.item() == pytest.approx((l0 + l1) / 2, abs=1e-6)
    both = info_nce(z1, z2, temperature=t)
    assert both.item() == pytest.approx((l0 + l1 + m0 + m1) / 4, abs=1e-6)
    # GraphCL's code form: negatives only in the denominator
    no_pos = info_nce(z1, z2, temperature=t, symmetric=False, include_positive=False)
    assert no_pos.item() == pytest.approx(((0 - c) / t + (c - 1) / t) / 2, abs=1e-6)
    # weight 0 on every negative: only the positive is left, loss 0; weights never touch it
    weights = torch.zeros(2, 2)
    assert info_nce(z1, z2, t, symmetric=False, weights=weights).item() == pytest.approx(0.0)
    half = info_nce(z1, z2, t, symmetric=False, weights=torch.full((2, 2), 0.5))
    expected = (
        -math.log(math.exp(c / t) / (math.exp(c / t) + 0.5))
        - math.log(math.exp(1 / t) / (math.exp(1 / t) + 0.5 * math.exp(c / t)))
    ) / 2
    assert half.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_every_augmentation_gives_a_valid_tensor_graph_and_leaves_its_input(corpus, name):
    torch.manual_seed(0)
    for graph in list(corpus)[:40]:
        before = graph.clone()
        view = augment(graph, name, 0.2)
        assert tensor_problems(view) == [], (name, graph.smiles)
        assert torch.equal(graph.x, before.x) and torch.equal(graph.edge_index, before.edge_index)
        n = graph.num_nodes
        if name in ("drop_nodes", "subgraph"):
            assert view.num_nodes == n - int(0.2 * n)
        else:
            assert view.num_nodes == n
        if name == "mask_attributes":
            assert int((view.x[:, 0] == MASK_ATOM_INDEX).sum()) == int(0.2 * n)
    with pytest.raises(KeyError, match="unknown augmentation"):
        augment(corpus[0], "rotate")


def test_edge_perturbation_and_subgraph_as_specified():
    graph = hu_graph(Chem.MolFromSmiles(ASPIRIN))  # 13 atoms, 13 bonds
    torch.manual_seed(0)
    dropped = perturb_edges(graph, 0.2)
    assert dropped.edge_index.size(1) == 2 * (13 - int(0.2 * 13))
    both = perturb_edges(graph, 0.2, add=True)
    assert both.edge_index.size(1) == 2 * 13 and tensor_problems(both) == []
    for seed in range(20):
        torch.manual_seed(seed)
        assert fragment_count(subgraph(graph, 0.2)) == 1  # grown connected
    assert chemistry_problems(graph) == []
    # an extra bond on aspirin's quaternary-free carbons: a carbonyl C gets 5 bonds
    bad = graph.clone()
    carbonyl, methyl = 1, 0
    assert Chem.MolFromSmiles(ASPIRIN).GetAtomWithIdx(carbonyl).GetDegree() == 3
    extra = torch.tensor([[carbonyl, 4, carbonyl, 5], [4, carbonyl, 5, carbonyl]])
    bad.edge_index = torch.cat([graph.edge_index, extra], 1)
    bad.edge_attr = torch.cat([graph.edge_attr, torch.zeros(4, 2, dtype=torch.long)])
    assert "valence" in chemistry_problems(bad)
    del methyl


def test_joao_distribution_stays_a_distribution_and_moves_to_hard_pairs(corpus, tmp_path):
    assert torch.allclose(
        project_to_simplex(torch.tensor([0.5, 0.2, -0.3])).sum(), torch.tensor(1.0)
    )
    assert torch.allclose(
        project_to_simplex(torch.tensor([0.2, 0.3, 0.5])), torch.tensor([0.2, 0.3, 0.5])
    )
    seed_everything(0)
    strategy = JOAO(GNN(2, 16, drop_ratio=0.0), update_every=1)
    start = strategy.aug_prob.clone()
    pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=1, batch_size=16),
        out_dir=tmp_path,
        progress=False,
    )
    p = strategy.aug_prob
    assert (p >= 0).all() and float(p.sum()) == pytest.approx(1.0, abs=1e-6)
    assert not torch.allclose(p, start)
    # the pair with the highest recent loss gained probability
    seen = strategy.pair_loss > 0
    hardest = int(torch.where(seen, strategy.pair_loss, torch.tensor(-1.0)).argmax())
    assert p[hardest] > start[hardest]


def test_simgrace_leaves_the_encoder_weights_untouched_and_perturbs_its_copy(corpus):
    seed_everything(0)
    strategy = SimGRACE(GNN(2, 16, drop_ratio=0.0), eta=1.0)
    before = {k: v.detach().clone() for k, v in strategy.encoder.named_parameters()}
    batch = strategy.collate([strategy.transform(g.clone()) for g in list(corpus)[:16]])
    loss, logs = strategy.loss(batch)
    loss.backward()
    assert 0.0 <= logs["acc"] <= 1.0
    for key, value in strategy.encoder.named_parameters():
        assert torch.equal(value.detach(), before[key]), key  # the perturbation was a copy
    vice = strategy.perturbed_weights()
    name, param = next((n, p) for n, p in strategy.encoder.named_parameters() if p.numel() > 1)
    assert not torch.equal(vice[name], param.detach())
    noise = (vice[name] - param.detach()).std() / param.detach().std()
    assert 0.5 < float(noise) < 1.5  # eta = 1: noise of the weight's own scale


def test_simgrace_keeps_running_statistics_apart_from_the_copy(corpus):
    seed_everything(0)
    strategy = SimGRACE(GNN(2, 16, drop_ratio=0.0))
    batch = strategy.collate([strategy.transform(g.clone()) for g in list(corpus)[:16]])
    strategy.train()
    with torch.no_grad():
        strategy.project(batch)
    after_one = {k: v.clone() for k, v in strategy.encoder.named_buffers()}
    seed_everything(0)
    other = SimGRACE(GNN(2, 16, drop_ratio=0.0))
    other.train()
    with torch.no_grad():
        other.loss(batch)
    for key, value in other.encoder.named_buffers():
        assert torch.equal(value, after_one[key]), key  # one update, not two


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (GraphCL, {}),
        (GraphCL, {"fp_weighting": 1.0}),
        (SimGRACE, {}),
        (InfoGraph, {}),
        (InfoGraph, {"estimator": "infonce"}),
        (MVGRL, {}),
    ],
)
def test_each_method_learns_on_a_small_corpus(corpus, tmp_path, cls, kwargs):
    seed_everything(0)
    strategy = cls(GNN(2, 16, drop_ratio=0.0), **kwargs)
    result = pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=3, batch_size=16, lr=3e-3),
        out_dir=tmp_path,
        progress=False,
    )
    losses = result.epoch_losses()["loss"]
    assert np.isfinite(losses).all()
    assert losses.iloc[-1] < losses.iloc[0], losses.tolist()


def test_same_seed_same_numbers(corpus, tmp_path):
    runs = []
    for run in range(2):
        seed_everything(0)
        strategy = GraphCL(GNN(2, 16, drop_ratio=0.0))
        result = pretrain(
            strategy,
            corpus,
            PretrainConfig(num_epochs=1, batch_size=16),
            out_dir=tmp_path / str(run),
            progress=False,
        )
        runs.append(result.history["loss"].tolist())
    assert runs[0] == runs[1]


def test_diffusion_view_is_a_weighted_graph_of_the_same_atoms():
    graph = hu_graph(Chem.MolFromSmiles(ASPIRIN))
    view = diffusion_view(graph)
    assert view.num_nodes == graph.num_nodes and torch.equal(view.x, graph.x)
    assert view.edge_weight.numel() == view.edge_index.size(1)
    assert (view.edge_weight > 0).all()
    assert view.edge_index.size(1) > graph.edge_index.size(1)  # diffusion reaches further


def test_smiclr_parts_both_load_into_finetune(corpus, tmp_path):
    seed_everything(0)
    strategy = SMICLR(GNN(2, 16, drop_ratio=0.0))
    result = pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=1, batch_size=16),
        out_dir=tmp_path / "pre",
        progress=False,
    )
    assert set(result.part_paths) == {"graph", "smiles"}
    data = [g.clone() for g in MoleculeDataset("nci5k", subset=40)]
    for i, g in enumerate(data):
        g.y = torch.tensor([[float(i % 2)]])
    split = Split(train=np.arange(0, 30), valid=np.arange(30, 35), test=np.arange(35, 40))
    config = FinetuneConfig(num_epochs=1, batch_size=10, lr=0.0, num_layer=2, emb_dim=16)
    tuned = finetune(
        data, split, config, pretrained=tmp_path / "pre", part="graph", progress=False
    )
    saved = torch.load(tmp_path / "pre" / "graph.pt", weights_only=True)
    for name, value in tuned.model.gnn.named_parameters():
        assert torch.equal(value.detach(), saved[name]), name

    class SmilesPredictor(torch.nn.Module):
        def __init__(self, num_tasks):
            super().__init__()
            seed_everything(1)
            self.encoder = SMICLR(GNN(2, 16, drop_ratio=0.0)).sequence_encoder
            self.head = torch.nn.Linear(self.encoder.out_dim, num_tasks)

        def forward(self, batch):  # the graph's SMILES are not used: lr 0, weights only
            return self.head(torch.zeros(batch.num_graphs, self.encoder.out_dim))

    tuned = finetune(
        data,
        split,
        config,
        pretrained=tmp_path / "pre",
        part="smiles",
        model_factory=SmilesPredictor,
        progress=False,
    )
    smiles_saved = torch.load(tmp_path / "pre" / "smiles.pt", weights_only=True)
    for key, value in tuned.model.encoder.state_dict().items():
        assert torch.equal(value, smiles_saved[key]), key


def test_false_negatives_and_activity_cliffs_are_found():
    smiles = ["c1ccccc1O", "c1ccccc1N", "CCO", "CCCO", "c1ccccc1OC", "CCN"]
    fps = torch.tensor([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    sim = tanimoto_matrix(fps)
    assert sim[0, 0] == 1 and sim[0, 1] == pytest.approx(1 / 3) and sim[2, 0] == 0
    pairs = near_duplicate_negatives(smiles, batch_size=6, threshold=0.3)
    assert len(pairs) and (pairs["tanimoto"] >= 0.3).all()
    assert pairs["tanimoto"].is_monotonic_decreasing
    cliffs = activity_cliffs(smiles, [1, 0, 1, 1, 1, np.nan], threshold=0.3)
    assert len(cliffs) and (cliffs["first_label"] != cliffs["second_label"]).all()
    assert "CCN" not in set(cliffs["first"]) | set(cliffs["second"])  # NaN label skipped


@pytest.mark.parametrize("fp_weighting", [0.0, 1.0])
def test_graphcl_loss_on_two_processes_equals_one_process(tmp_path, fp_weighting):
    corpus = MoleculeDataset("nci5k", subset=32)
    seed_everything(0)
    strategy = GraphCL(ToyGraphEncoder(), fp_weighting=fp_weighting)
    torch.manual_seed(1)
    items = [strategy.transform(corpus[i].clone()) for i in range(len(corpus))]
    loss, _ = strategy.loss(strategy.collate(items))
    loss.backward()
    run_two_ranks("graphcl_two_ranks.py", tmp_path, fp_weighting)
    two = torch.load(tmp_path / "graphcl.pt", weights_only=True)
    assert two["world"] == 2
    assert torch.allclose(two["loss"], loss.detach(), atol=1e-5)
    for name, param in strategy.named_parameters():
        assert torch.allclose(two["grads"][name], param.grad, atol=1e-5), name


def test_graphcl_can_train_the_objective_of_the_authors_code(corpus):
    # pretrain_graphcl.py: one direction, the positive left out of the denominator
    seed_everything(0)
    code = GraphCL(ToyGraphEncoder(), symmetric=False, include_positive=False)
    seed_everything(0)
    paper = GraphCL(ToyGraphEncoder())
    torch.manual_seed(1)
    batch = code.collate([code.transform(corpus[i].clone()) for i in range(16)])
    first, second = batch
    z1, z2 = code.project(first), code.project(second)
    expected = info_nce(z1, z2, 0.1, symmetric=False, include_positive=False)
    assert torch.allclose(code.contrast(z1, z2, first), expected)
    assert not torch.allclose(paper.contrast(z1, z2, first), expected)
    assert code.hparams()["include_positive"] is False
    assert "include_positive" not in paper.hparams()  # earlier runs keep their identity
