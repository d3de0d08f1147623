"""The strategy contract that later families build on: nested batches on any device, two views,
named parts that fine-tuning starts from, optimiser settings and schedules, accumulation, and a
contrastive loss that is the same on two processes as on one."""

import json
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import torch
from ddp.launch import run_two_ranks
from torch_geometric.data import Batch, Data

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.splits import Split
from cpmkit.data.weights import part_path
from cpmkit.pretrain import PretrainConfig, pretrain
from cpmkit.pretrain.loop import load_checkpoint_state, move_to
from cpmkit.pretrain.optim import decay_groups, lr_factor
from cpmkit.seed import seed_everything
from cpmkit.tasks.finetune import FinetuneConfig, finetune

sys.path.insert(0, str(Path(__file__).resolve().parent))
from toys import ToyContrast, ToyGraphEncoder, ToyReadout, ToyTwoParts  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    return MoleculeDataset("nci5k", subset=96)


def test_every_leaf_of_a_nested_batch_moves():
    graph = Data(x=torch.zeros(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
    Pair = namedtuple("Pair", "first second")
    batch = {
        "views": (Batch.from_data_list([graph]), [torch.ones(2)]),
        "pair": Pair(torch.zeros(1), torch.ones(1)),
        "name": "kept",
    }
    moved = move_to(batch, torch.device("meta"))  # a device every CPU build has
    assert moved["views"][0].x.device.type == "meta"
    assert moved["views"][0].edge_index.device.type == "meta"
    assert moved["views"][1][0].device.type == "meta"
    assert isinstance(moved["pair"], Pair) and moved["pair"].second.device.type == "meta"
    assert moved["name"] == "kept"


def test_two_view_strategy_trains_on_tuple_batches(corpus, tmp_path):
    seed_everything(0)
    strategy = ToyContrast(ToyGraphEncoder())
    result = pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=4, batch_size=32, lr=1e-2),
        out_dir=tmp_path,
        progress=False,
    )
    losses = result.epoch_losses()["loss"]
    assert losses.iloc[-1] < losses.iloc[0]
    assert strategy.steps_seen == list(range(1, 4 * 3 + 1))  # after_step(step), 1-based


def test_two_parts_land_as_files_and_finetune_starts_from_either(corpus, tmp_path):
    seed_everything(0)
    strategy = ToyTwoParts(ToyGraphEncoder(), ToyGraphEncoder())
    result = pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=2, batch_size=32),
        out_dir=tmp_path,
        progress=False,
    )
    assert set(result.part_paths) == {"graph", "atoms"}
    manifest = json.loads((tmp_path / "parts.json").read_text())
    assert manifest["first"] == "graph" and set(manifest["parts"]) == {"graph", "atoms"}
    atoms = torch.load(result.part_paths["atoms"], weights_only=True)
    for key, value in strategy.atoms.state_dict().items():
        assert torch.equal(atoms[key], value)
    assert part_path(tmp_path, "atoms") == tmp_path / "atoms.pt"
    with pytest.raises(KeyError, match="atoms"):
        part_path(tmp_path, "text")

    class Predictor(torch.nn.Module):
        def __init__(self, num_tasks):
            super().__init__()
            self.encoder = ToyGraphEncoder()
            self.head = torch.nn.Linear(self.encoder.out_dim, num_tasks)

        def forward(self, batch):
            nodes = self.encoder(batch.x, batch.edge_index)
            return self.head(
                torch.zeros(batch.num_graphs, nodes.size(1)).index_add(0, batch.batch, nodes)
            )

    data = [graph.clone() for graph in MoleculeDataset("nci5k", subset=40)]
    for i, graph in enumerate(data):
        graph.y = torch.tensor([[float(i % 2)]])
    split = Split(train=np.arange(0, 30), valid=np.arange(30, 35), test=np.arange(35, 40))
    config = FinetuneConfig(num_epochs=1, batch_size=10, lr=0.0)
    tuned = finetune(
        data,
        split,
        config,
        pretrained=tmp_path,
        part="atoms",
        model_factory=Predictor,
        progress=False,
    )
    for key, value in tuned.model.encoder.state_dict().items():
        assert torch.equal(value, atoms[key]), key  # lr 0: the loaded part, unchanged
    with pytest.raises(ValueError, match="do not fit"):
        finetune(
            data,
            split,
            config,
            pretrained={"other.weight": torch.zeros(1)},
            model_factory=Predictor,
            progress=False,
        )


def test_a_hu_gnn_part_starts_the_graph_predictor(corpus, tmp_path):
    from cpmkit.models.gnn import GNN

    seed_everything(0)
    strategy = ToyTwoParts(GNN(num_layer=2, emb_dim=8, drop_ratio=0.0), ToyGraphEncoder())
    pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=1, batch_size=32),
        out_dir=tmp_path,
        progress=False,
    )
    data = [graph.clone() for graph in MoleculeDataset("nci5k", subset=40)]
    for i, graph in enumerate(data):
        graph.y = torch.tensor([[float(i % 2)]])
    split = Split(train=np.arange(0, 30), valid=np.arange(30, 35), test=np.arange(35, 40))
    config = FinetuneConfig(num_epochs=1, batch_size=10, lr=0.0, num_layer=2, emb_dim=8)
    tuned = finetune(data, split, config, pretrained=tmp_path, part="graph", progress=False)
    saved = torch.load(tmp_path / "graph.pt", weights_only=True)
    for name, value in tuned.model.gnn.named_parameters():
        assert torch.equal(value.detach(), saved[name]), name


@pytest.mark.parametrize("schedule", ["warmup_cosine", "warmup_linear"])
def test_warmup_then_decay_schedule_drives_the_loop(corpus, tmp_path, schedule):
    seed_everything(0)
    strategy = ToyReadout(ToyGraphEncoder())
    config = PretrainConfig(
        num_epochs=5,
        batch_size=16,
        lr=1e-2,
        optimizer="adamw",
        betas=(0.9, 0.95),
        weight_decay=0.1,
        schedule=schedule,
        warmup_fraction=0.1,
        min_lr_ratio=0.1,
        grad_clip=1.0,
    )
    result = pretrain(strategy, corpus, config, out_dir=tmp_path, progress=False)
    lrs = result.history["lr"].to_numpy()
    total = 5 * 6
    expected = [1e-2 * lr_factor(t, total, schedule, 3, 0.1) for t in range(total)]
    assert np.allclose(lrs, expected)
    assert lrs[0] == pytest.approx(1e-2 / 3) and lrs[2] == pytest.approx(1e-2)
    assert np.all(np.diff(lrs[3:]) <= 1e-12) and lrs[-1] >= 1e-3 - 1e-12
    assert (result.history["grad_norm"] >= 0).all()
    state = load_checkpoint_state(tmp_path / "checkpoint.pt")
    groups = state["optimizer"]["param_groups"]
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]  # the strategy's own groups
    assert groups[0]["betas"] == (0.9, 0.95) or list(groups[0]["betas"]) == [0.9, 0.95]


def test_lr_factor_matches_mingpt_and_hf_shapes():
    assert lr_factor(0, 100, "constant", 10, 0.1) == 1.0
    assert lr_factor(4, 100, "warmup_cosine", 10, 0.1) == pytest.approx(0.5)
    assert lr_factor(10, 100, "warmup_cosine", 10, 0.1) == pytest.approx(1.0)
    assert lr_factor(55, 100, "warmup_cosine", 10, 0.1) == pytest.approx(0.5)
    assert lr_factor(99, 100, "warmup_cosine", 10, 0.1) == pytest.approx(0.1)  # the floor
    assert lr_factor(50, 100, "warmup_linear", 0, 0.0) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        lr_factor(0, 10, "step")


def test_gradient_accumulation_equals_the_larger_batch(corpus, tmp_path):
    runs = {}
    for accum, batch_size in ((1, 32), (2, 16)):
        seed_everything(0)
        strategy = ToyReadout(ToyGraphEncoder())
        pretrain(
            strategy,
            corpus,
            PretrainConfig(num_epochs=2, batch_size=batch_size, lr=1e-2, grad_accum_steps=accum),
            out_dir=tmp_path / str(accum),
            progress=False,
        )
        runs[accum] = strategy.state_dict()
    for key in runs[1]:
        assert torch.allclose(runs[1][key], runs[2][key], atol=1e-6), key


def test_decay_groups_exempt_biases_norms_and_tied_embeddings():
    embedding, linear, norm = (
        torch.nn.Embedding(5, 4),
        torch.nn.Linear(4, 6),
        torch.nn.LayerNorm(6),
    )
    head = torch.nn.Linear(4, 5, bias=False)
    head.weight = embedding.weight  # tied, as a GPT's LM head
    model = torch.nn.ModuleList([embedding, linear, norm, head])
    decay, no_decay = decay_groups(model)
    decayed = {id(p) for p in decay["params"]}
    assert decayed == {id(linear.weight)}
    assert "weight_decay" not in decay and no_decay["weight_decay"] == 0.0
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_unknown_config_keys_fail_loudly():
    with pytest.raises(TypeError, match="num_epoch"):
        PretrainConfig.from_dict({"num_epoch": 3})
    assert PretrainConfig.from_dict({"lr": 0.1, "dataset": "x"}, strict=False).lr == 0.1
    with pytest.raises(ValueError):
        PretrainConfig(schedule="step")


def test_default_settings_keep_the_run_identity_of_earlier_runs(corpus):
    from cpmkit.pretrain.loop import run_identity

    seed_everything(0)
    strategy = ToyReadout(ToyGraphEncoder())
    identity = run_identity(strategy, corpus, PretrainConfig(num_epochs=2))
    assert set(identity["config"]) == {"num_epochs", "batch_size", "lr", "weight_decay", "seed"}
    changed = run_identity(strategy, corpus, PretrainConfig(num_epochs=2, grad_clip=1.0))
    assert changed["config"]["grad_clip"] == 1.0


def test_contrastive_loss_on_two_processes_equals_one_process(corpus, tmp_path):
    seed_everything(0)
    single = ToyContrast(ToyGraphEncoder())
    one = pretrain(
        single,
        corpus,
        PretrainConfig(num_epochs=2, batch_size=32, lr=1e-2),
        out_dir=tmp_path / "one",
        progress=False,
    )
    run_two_ranks("contrastive_two_ranks.py", tmp_path)
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0["world"] == 2
    # the logged loss is the global batch's: the same curve as one process, step by step
    assert torch.allclose(rank0["losses"], torch.tensor(one.history["loss"]), atol=1e-5)
    assert torch.allclose(rank0["losses"], rank1["losses"])
    for key, value in single.state_dict().items():
        assert torch.allclose(rank0["state"][key], value, atol=1e-5), key


def test_a_new_strategy_is_found_by_its_name_and_names_are_unique():
    from cpmkit.pretrain.base import Strategy, strategy_classes
    from cpmkit.pretrain.recipes import STRATEGIES

    assert set(STRATEGIES) == {
        # Hu et al.
        "attrmasking",
        "contextpred",
        "edgepred",
        "infomax",
        "supervised",
        # contrastive (lesson 06)
        "graphcl",
        "joao",
        "simgrace",
        "infograph",
        "mvgrl",
        "smiclr",
        # graph autoregression (03), GROVER and Mole-BERT (04), MPG (07), geometry (09)
        "gptgnn",
        "mgssl",
        "grover_context",
        "grover_motif",
        "molebert_tokenizer",
        "molebert",
        "mpg",
        "gem_geometry",
        "infomax3d",
    }
    # the 3D strategies read conformers, not graphs: known by name, but not graph recipes
    geometry = {"coord_denoising", "unimol", "geossl_distance"}
    assert geometry <= set(strategy_classes()) and not geometry & set(STRATEGIES)
    assert {"mlm", "ntp", "smiles_ae"} <= set(strategy_classes())
    new = type("NewMethod", (Strategy,), {"name": "new_method", "__module__": "cpmkit.pretrain.x"})
    assert strategy_classes()["new_method"] is new
    clash = type("Clash", (Strategy,), {"name": "new_method", "__module__": "cpmkit.pretrain.y"})
    with pytest.raises(ValueError, match="new_method"):
        strategy_classes()
    del new, clash
    import gc

    gc.collect()  # the throwaway classes must not outlive this test
