"""The fine-tune harness on a tiny hand-made dataset (label: does the molecule hold nitrogen?)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from cpmkit.featurize.graph_hu import hu_graph
from cpmkit.featurize.parse import parse_smiles
from cpmkit.models.graph_model import GNNConfig, GraphPredictor
from cpmkit.seed import seed_everything
from cpmkit.tasks.finetune import (
    FinetuneConfig,
    evaluate,
    finetune,
    load_checkpoint,
    run_seeds,
    save_checkpoint,
    summarize,
)

SMILES = [
    "CCO", "CCN", "CCCO", "CCCN", "c1ccccc1", "c1ccncc1", "CC(=O)O", "CC(N)=O", "CCOCC",
    "CCNCC", "C1CCCCC1", "C1CCNCC1", "OCCO", "NCCN", "CC#N", "ClCCCl", "CCCCC", "CCCCN",
    "c1ccoc1", "c1cc[nH]c1", "CC(C)O", "CC(C)N", "OC1CCCC1", "NC1CCCC1", "c1ccc(O)cc1",
    "c1ccc(N)cc1", "CCCCCCO", "CCCCCCN", "O=C1CCCC1", "O=C1CCCN1", "CC(=O)OC", "CN(C)C",
    "CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CC(=O)Nc1ccc(O)cc1", "CN1CCCC1c1cccnc1", "O=C(O)c1ccccc1O", "CCN(CC)CC(=O)Nc1c(C)cccc1C",
    "OC(=O)CCc1ccccc1", "c1ccc2c(c1)ccc1ccccc12", "CCCCCCCCCCCCCCCC(=O)O", "NC(=O)c1cccnc1",
    "OCC1OC(O)C(O)C(O)C1O", "CC(C)NCC(O)COc1cccc2ccccc12", "Oc1ccc(cc1)C=Cc1cc(O)cc(O)c1",
    "FC(F)(F)c1ccccc1", "NCc1ccccc1", "ClC(Cl)Cl", "CSCC(N)C(=O)O", "CCCC(=O)O", "CCOC(=O)C",
    "c1ccc2[nH]ccc2c1", "c1ccc2occc2c1", "CC1=CC(=O)C=CC1=O", "CC1=CC(=O)NC=C1", "OCCCCO",
    "NCCCCN", "C=CC=C", "C=CC#N",
]  # fmt: skip


def has_nitrogen(smiles: str) -> float:
    return float(any(a.GetSymbol() == "N" for a in parse_smiles(smiles).mol.GetAtoms()))


def make_dataset(regression: bool = False):
    """Graphs with y (1, 2): task 0 = has nitrogen, task 1 = has a ring (NaN for every 3rd)."""
    graphs = []
    for i, smiles in enumerate(SMILES):
        mol = parse_smiles(smiles).mol
        data = hu_graph(mol)
        if regression:
            y = [[float(mol.GetNumAtoms()) / 10.0]]
        else:
            ring = float(mol.GetRingInfo().NumRings() > 0) if i % 3 else float("nan")
            y = [[has_nitrogen(smiles), ring]]
        data.y = torch.tensor(y, dtype=torch.float)
        data.smiles = smiles
        graphs.append(data)
    return graphs


def make_split(n: int = len(SMILES)):
    index = np.arange(n)
    return SimpleNamespace(train=index[index % 5 < 3], valid=index[index % 5 == 3],
                           test=index[index % 5 == 4])  # fmt: skip


TINY = dict(num_layer=2, emb_dim=16, batch_size=16, lr=1e-2, drop_ratio=0.1, gnn_type="gin")


def test_split_has_both_classes_in_every_part():
    data, split = make_dataset(), make_split()
    for part in (split.train, split.valid, split.test):
        labels = {data[i].y[0, 0].item() for i in part}
        assert labels == {0.0, 1.0}


def test_history_selection_and_best_weights():
    data, split = make_dataset(), make_split()
    config = FinetuneConfig(num_epochs=6, seed=0, **TINY)
    result = finetune(data, split, config, progress=False)
    h = result.history
    assert list(h["epoch"]) == list(range(1, 7))
    assert {"train_loss", "val_roc_auc", "test_roc_auc", "val_tasks", "test_tasks"} <= set(h)
    assert np.isfinite(h["train_loss"]).all()
    best = int(h.loc[h["val_roc_auc"].idxmax(), "epoch"])  # first of ties, as the harness
    assert result.best_epoch == best
    assert result.val == h["val_roc_auc"].max()
    assert result.test == h.loc[h["epoch"] == best, "test_roc_auc"].item()
    assert result.test_last == h["test_roc_auc"].iloc[-1]
    assert result.val_last == h["val_roc_auc"].iloc[-1]
    # the returned model carries the best-validation weights, in eval mode
    assert not result.model.training
    valid = [data[i] for i in split.valid]
    assert evaluate(result.model, valid)["roc_auc"] == pytest.approx(result.val, abs=1e-12)
    assert result.config == config.to_dict() and result.num_tasks == 2


def test_same_seed_same_history_other_seed_other_history():
    data, split = make_dataset(), make_split()
    config = FinetuneConfig(num_epochs=3, seed=7, **TINY)
    a = finetune(data, split, config, progress=False).history
    seed_everything(123)  # global RNG state in between must not matter
    torch.rand(10)
    b = finetune(data, split, config, progress=False).history
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = finetune(data, split, dataclasses.replace(config, seed=8), progress=False).history
    assert not np.array_equal(a["train_loss"].to_numpy(), c["train_loss"].to_numpy())


def test_learns_has_nitrogen():
    data, split = make_dataset(), make_split()
    config = FinetuneConfig(num_epochs=25, seed=0, **TINY)
    result = finetune(data, split, config, progress=False)
    assert result.test > 0.5 and result.test_last > 0.5
    everything = evaluate(result.model, data)
    assert everything["roc_auc"] > 0.8, result.history


def test_regression_selects_the_lowest_rmse():
    data, split = make_dataset(regression=True), make_split()
    config = FinetuneConfig(num_epochs=5, task_type="regression", **TINY)
    result = finetune(data, split, config, progress=False)
    h = result.history
    assert {"val_rmse", "val_mae", "test_rmse", "test_mae"} <= set(h)
    assert result.metric == "rmse"
    assert result.best_epoch == int(h.loc[h["val_rmse"].idxmin(), "epoch"])
    by_mae = finetune(data, split, dataclasses.replace(config, metric="mae"), progress=False)
    assert by_mae.best_epoch == int(h.loc[h["val_mae"].idxmin(), "epoch"])


def test_eval_every_and_a_task_without_training_labels():
    data, split = make_dataset(), make_split()
    for i in split.train:  # task 1 unlabelled in the whole training set
        data[i].y[0, 1] = float("nan")
    config = FinetuneConfig(num_epochs=5, eval_every=2, eval_train=True, **TINY)
    h = finetune(data, split, config, progress=False).history
    evaluated = h.loc[h["val_roc_auc"].notna(), "epoch"].tolist()
    assert evaluated == [2, 4, 5]
    assert h.loc[h["train_roc_auc"].notna(), "epoch"].tolist() == [2, 4, 5]
    assert set(h.loc[h["train_tasks"].notna(), "train_tasks"]) == {1}  # task 1 unlabelled
    assert np.isfinite(h["train_loss"]).all()


def test_run_seeds_and_summarize():
    data, split = make_dataset(), make_split()
    config = FinetuneConfig(num_epochs=2, **TINY)
    table = run_seeds(data, config, seeds=[0, 1, 2], split=split, progress=False)
    assert list(table["seed"]) == [0, 1, 2] and (table["split"] == "given").all()
    summary = summarize(table)
    assert summary.loc[0, "n"] == 3
    assert summary.loc[0, "test_mean"] == pytest.approx(table["test"].mean())
    assert summary.loc[0, "test_std"] == pytest.approx(table["test"].std(ddof=1))
    assert " ± " in summary.loc[0, "test"]
    table["pretrained"] = ["none", "none", "gcn"]
    grouped = summarize(table, by="pretrained")
    assert list(grouped["pretrained"]) == ["none", "gcn"] and list(grouped["n"]) == [2, 1]


def test_run_seeds_scaffold_split_is_shared_by_all_seeds():
    pytest.importorskip("cpmkit.data.splits")
    data = make_dataset()
    config = FinetuneConfig(num_epochs=1, **TINY)
    table = run_seeds(data, config, seeds=[0, 1], split="scaffold", progress=False)
    assert (table["split"] == "scaffold").all()
    assert table["split_sha256"].nunique() == 1
    random = run_seeds(data, config, seeds=[0, 1], split_method="random", progress=False)
    assert random["split_sha256"].nunique() == 2  # a random split follows the run's seed


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    torch.manual_seed(0)
    config = FinetuneConfig(**TINY)
    model = GraphPredictor(config.gnn_config(), num_tasks=2).eval()
    path = save_checkpoint(tmp_path / "ckpt" / "model.pt", model, config, note="tiny")
    raw = torch.load(path, weights_only=True)
    assert raw["config"] == config.to_dict() and raw["extra"] == {"note": "tiny"}
    json.dumps({k: v for k, v in raw.items() if k != "state_dict"})  # plain JSON data
    loaded = load_checkpoint(path)
    assert FinetuneConfig.from_dict(loaded.config) == config
    batch = next(iter(torch_geometric_loader(make_dataset())))
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(batch), model(batch))
    assert not any(p.name.startswith(".") for p in path.parent.iterdir())  # no temp left
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(tmp_path / "bad.pt", model, {"device": torch.device("cpu")})


def torch_geometric_loader(data):
    from torch_geometric.loader import DataLoader

    return DataLoader(data, batch_size=8)


def test_config_validation():
    with pytest.raises(TypeError, match="unknown"):
        FinetuneConfig.from_dict({"num_epoch": 3})
    assert FinetuneConfig.from_dict({"lr": 0.1, "dataset": "bbbp"}, strict=False).lr == 0.1
    with pytest.raises(ValueError, match="metric"):
        FinetuneConfig(metric="rmse")
    with pytest.raises(ValueError, match="task_type"):
        FinetuneConfig(task_type="ranking")
    assert FinetuneConfig(num_layer=3).gnn_config() == GNNConfig(num_layer=3)


def _weights_file(name: str) -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    path = Path(os.environ.get("CPMKIT_DATA_MIRROR") or default) / "pretrain-gnns" / name
    if not path.is_file():
        pytest.skip(f"{path} not found (set CPMKIT_DATA_MIRROR)")
    return path


def test_finetune_from_published_weights():
    path = _weights_file("gcn_contextpred.pth")
    data, split = make_dataset(), make_split()
    config = FinetuneConfig(num_epochs=0, gnn_type="gcn", num_layer=5, emb_dim=300)
    result = finetune(data, split, config, pretrained=path, progress=False)
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key, value in state.items():  # zero epochs: the encoder is exactly the file
        assert torch.equal(result.model.gnn.state_dict()[key], value), key
    assert result.history["epoch"].tolist() == [0]
    # a GraphPredictor state_dict ("gnn." prefix) works too
    again = finetune(data, split, config, pretrained=result.model.state_dict(), progress=False)
    assert torch.equal(again.model.gnn.x_embedding1.weight, state["x_embedding1.weight"])
    with pytest.raises(ValueError, match="gnn_type"):
        finetune(data, split, dataclasses.replace(config, gnn_type="gat"), pretrained=path,
                 progress=False)  # fmt: skip


def test_model_factory_trains_any_module_and_results_are_returned():
    """A non-GNN model (here a bag of atom embeddings) goes through the same harness."""
    import torch
    from torch_geometric.nn import global_mean_pool

    class AtomBag(torch.nn.Module):
        def __init__(self, num_tasks):
            super().__init__()
            self.emb = torch.nn.Embedding(120, 8)
            self.head = torch.nn.Linear(8, num_tasks)

        def forward(self, batch):
            return self.head(global_mean_pool(self.emb(batch.x[:, 0]), batch.batch))

    tiny_dataset, tiny_split = make_dataset(), make_split()
    config = FinetuneConfig(num_epochs=3, batch_size=16, lr=1e-2)
    table, results = run_seeds(
        tiny_dataset,
        config,
        seeds=[0, 1],
        split=tiny_split,
        progress=False,
        model_factory=AtomBag,
        return_results=True,
    )
    assert list(table["seed"]) == [0, 1]
    assert all(isinstance(r.model, AtomBag) for r in results)
    assert len(results[0].history) == 3
    again = run_seeds(
        tiny_dataset, config, seeds=[0], split=tiny_split, progress=False, model_factory=AtomBag
    )
    assert again["test"].iloc[0] == table["test"].iloc[0]
    # weights for a factory's model go into its `encoder` (the encoder contract); none here
    with pytest.raises(TypeError, match="encoder"):
        finetune(
            tiny_dataset,
            tiny_split,
            config,
            pretrained={"w": torch.zeros(1)},
            model_factory=AtomBag,
            progress=False,
        )
