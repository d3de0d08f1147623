"""The one fine-tune/evaluate harness: a graph predictor trained on a split, chosen on validation.

It follows Hu et al.'s ``chem/finetune.py`` (Adam, BCE over non-missing labels, evaluation of
valid and test after every epoch, ``model.eval()`` for evaluation) and adds what a lesson needs:
a per-epoch history table, several seeds on one fixed split, a mean ± std table, and checkpoints
that ``torch.load(weights_only=True)`` opens.

What is reported, and which number stands beside a published one: each run gives ``test``, the
test score at the epoch of the best validation score (the first such epoch when several tie),
and ``test_last``, the test score after the last epoch. Hu et al.'s numbers are the former:
their ``chem/finetune.py`` logs validation and test ROC-AUC after every epoch, and their
``chem/parse_result.py`` takes, per run, ``test_auc_list[np.argmax(val_auc_list)]`` (the test
ROC-AUC at the first best-validation epoch of the 100), then mean ± std over 10 seeds. So
``test`` is the column every published-vs-ours table of the kit uses (``cpmkit.comparison``'s
``value="test"`` default); ``test_last`` is shown only to make the effect of selection visible.
Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.loader import DataLoader
from tqdm.auto import tqdm

from cpmkit.data.weights import HU_WEIGHTS, part_path, weights_path
from cpmkit.device import resolve_device
from cpmkit.models.graph_model import GNNConfig, GraphPredictor
from cpmkit.models.pretrained import load_hu_weights
from cpmkit.seed import seed_everything
from cpmkit.tasks.checkpoint import CHECKPOINT_FORMAT
from cpmkit.tasks.metrics import mae, masked_bce_loss, masked_mse_loss, rmse, roc_auc_multitask

TASK_METRICS = {"classification": ("roc_auc",), "regression": ("rmse", "mae")}
HIGHER_IS_BETTER = {"roc_auc": True, "rmse": False, "mae": False}


@dataclass
class FinetuneConfig(GNNConfig):
    """Everything one fine-tuning run depends on; defaults are Hu et al.'s ``finetune.py``.

    The encoder fields (``num_layer``, ``emb_dim``, ``JK``, ``drop_ratio``, ``gnn_type``,
    ``pool``) are :class:`GNNConfig`'s own, inherited, so they are declared once;
    ``head_lr_scale`` is their ``--lr_scale`` (learning-rate factor of the linear head).
    ``metric=None`` means ROC-AUC for classification and RMSE for regression; ``device="auto"``
    takes CUDA when available. ``from_dict`` refuses unknown keys (``strict=False`` takes the
    known ones out of a lesson's whole profile). Taught in ``notebooks/11_property_prediction``.
    """

    num_epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    task_type: str = "classification"
    metric: str | None = None
    head_lr_scale: float = 1.0
    eval_every: int = 1
    eval_train: bool = False
    num_workers: int = 0
    device: str = "auto"

    def __post_init__(self):
        if self.task_type not in TASK_METRICS:
            raise ValueError(
                f"task_type must be one of {tuple(TASK_METRICS)}, got {self.task_type!r}"
            )
        if self.metric is not None and self.metric not in TASK_METRICS[self.task_type]:
            raise ValueError(
                f"metric {self.metric!r} does not fit task_type {self.task_type!r}; "
                f"choose one of {TASK_METRICS[self.task_type]}"
            )
        if self.num_epochs < 0 or self.eval_every < 1 or self.batch_size < 1:
            raise ValueError("num_epochs must be >= 0, eval_every and batch_size >= 1")

    @property
    def selection_metric(self) -> str:
        """The validation metric that picks the epoch (``metric`` or the task's default)."""
        return self.metric or TASK_METRICS[self.task_type][0]

    def gnn_config(self) -> GNNConfig:
        """The encoder part as a plain :class:`GNNConfig`."""
        return GNNConfig.from_dict(self.to_dict(), strict=False)


@dataclass(repr=False)
class FinetuneResult:
    """What :func:`finetune` returns.

    ``history`` has one row per epoch: ``epoch``, ``train_loss``, ``val_<metric>``,
    ``test_<metric>`` (NaN on epochs that were not evaluated) and, for classification,
    ``val_tasks``/``test_tasks`` (how many tasks had both classes). ``val``/``test`` are at
    ``best_epoch`` (best validation score); ``val_last``/``test_last`` at the last epoch.
    ``model`` holds the best-validation weights, in eval mode.
    """

    history: pd.DataFrame
    metric: str
    best_epoch: int
    val: float
    test: float
    val_last: float
    test_last: float
    model: torch.nn.Module
    config: dict
    num_tasks: int
    runtime_s: float = field(default=float("nan"))

    def summary(self) -> dict:
        """One flat row (what :func:`run_seeds` collects)."""
        return {
            "seed": self.config.get("seed"),
            "metric": self.metric,
            "best_epoch": self.best_epoch,
            "val": self.val,
            "test": self.test,
            "val_last": self.val_last,
            "test_last": self.test_last,
            "runtime_s": self.runtime_s,
        }

    def __repr__(self) -> str:
        return (
            f"FinetuneResult({self.metric}: test={self.test:.4f} at best-val epoch "
            f"{self.best_epoch} (val={self.val:.4f}); last epoch test={self.test_last:.4f})"
        )


def _subset(dataset, index):
    """Rows ``index`` of a PyG dataset (a view) or of a plain list of ``Data``."""
    index = np.asarray(index, dtype=np.int64)
    if hasattr(dataset, "index_select"):
        return dataset.index_select(index.tolist())
    return [dataset[int(i)] for i in index]


def _num_tasks(dataset) -> int:
    n = getattr(dataset, "num_tasks", None)
    if isinstance(n, int) and n > 0:
        return n
    return int(dataset[0].y.reshape(1, -1).shape[1])


def _loader(data, batch_size, shuffle=False, seed=0, num_workers=0):
    if isinstance(data, DataLoader):
        return data
    # A private generator: the batch order depends on the seed only, not on how many random
    # numbers model initialisation happened to draw.
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        data, batch_size=batch_size, shuffle=shuffle, generator=generator, num_workers=num_workers
    )


@torch.no_grad()
def predict(model, data, batch_size: int = 256, device=None) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` arrays (N, T) for a dataset, a list of ``Data`` or a DataLoader.

    The model runs in eval mode (BatchNorm running statistics, no dropout) and is left there.
    Taught in ``notebooks/11_property_prediction``.
    """
    model.eval()
    device = device or next(model.parameters()).device
    ys, preds = [], []
    for batch in _loader(data, batch_size):
        batch = batch.to(device)
        pred = model(batch)
        preds.append(pred.float().cpu())
        ys.append(batch.y.reshape(pred.shape).float().cpu())
    if not preds:
        return np.zeros((0, 0)), np.zeros((0, 0))
    return torch.cat(ys).numpy(), torch.cat(preds).numpy()


def evaluate(model, data, task_type: str = "classification", batch_size: int = 256) -> dict:
    """Metrics of ``model`` on ``data``: ``roc_auc`` and ``tasks`` or ``rmse`` and ``mae``.

    Taught in ``notebooks/11_property_prediction``.
    """
    y_true, y_pred = predict(model, data, batch_size)
    if task_type == "classification":
        if len(y_true) == 0:
            return {"roc_auc": float("nan"), "tasks": 0}
        auc = roc_auc_multitask(y_true, y_pred)
        return {"roc_auc": auc.mean, "tasks": auc.n_valid_tasks}
    if len(y_true) == 0:
        return {"rmse": float("nan"), "mae": float("nan")}
    return {"rmse": rmse(y_true, y_pred), "mae": mae(y_true, y_pred)}


def load_pretrained(model: GraphPredictor, pretrained) -> None:
    """Put pre-trained encoder weights into ``model.gnn``.

    ``pretrained`` is a name of :data:`~cpmkit.data.weights.HU_WEIGHTS`
    (``"gcn_contextpred"``), a path to a ``.pth`` file (a bare state_dict, or a cpmkit
    checkpoint of a ``GNN``), or a state_dict. Taught in ``notebooks/11_property_prediction``.
    """
    if isinstance(pretrained, dict):
        load_hu_weights(model.gnn, state_dict=_encoder_state(pretrained))
        return
    text = str(pretrained)
    if Path(text).is_file():
        state = torch.load(text, map_location="cpu", weights_only=True)
        if state.get("format") == CHECKPOINT_FORMAT:
            load_hu_weights(model.gnn, state_dict=_encoder_state(state["state_dict"]))
        else:
            load_hu_weights(model.gnn, path=text)
        return
    base = text if text.endswith(".pth") else f"{text}.pth"
    if base in HU_WEIGHTS:
        load_hu_weights(model.gnn, weights_path(base))
        return
    raise FileNotFoundError(
        f"pretrained={pretrained!r} is neither a file nor a published weight name "
        f"({', '.join(HU_WEIGHTS)})"
    )


def load_encoder_weights(model: torch.nn.Module, pretrained) -> None:
    """Load a state_dict (or a path to one) strictly into ``model.encoder``.

    For models built by a ``model_factory``: any module with an ``encoder`` attribute under the
    encoder contract (:mod:`cpmkit.models.encoders`). A mismatch names the missing and
    unexpected keys. Taught in ``notebooks/06_contrastive``.
    """
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        raise TypeError(f"{type(model).__name__} has no `encoder` attribute to load weights into")
    state = pretrained
    if not isinstance(state, dict):
        state = torch.load(str(pretrained), map_location="cpu", weights_only=True)
    own = encoder.state_dict()
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or extra:
        raise ValueError(
            f"these weights do not fit {type(encoder).__name__}: missing {missing[:4]}, "
            f"unexpected {extra[:4]} (another architecture, or another part?)"
        )
    encoder.load_state_dict(state, strict=True)


def _encoder_state(state: dict) -> dict:
    """An encoder state_dict from a GNN's or a GraphPredictor's (``gnn.`` prefix removed)."""
    if any(k.startswith("gnn.") for k in state):
        return {k[len("gnn.") :]: v for k, v in state.items() if k.startswith("gnn.")}
    return state


def _train_epoch(model, loader, optimizer, loss_fn, device) -> float:
    model.train()
    losses = []
    for batch in loader:
        if batch.num_nodes < 2:
            # BatchNorm cannot take training statistics of one atom (a lone "[Na+]" left over
            # as the last batch); skipping it changes nothing else.
            continue
        batch = batch.to(device)
        pred = model(batch)
        loss = loss_fn(pred, batch.y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else float("nan")


def _better(value: float, best: float | None, higher: bool) -> bool:
    if np.isnan(value):
        return False
    if best is None:
        return True
    return value > best if higher else value < best


def _smiles_of(dataset) -> list[str]:
    smiles = getattr(dataset, "smiles", None)  # MoleculeDataset keeps them without collating
    if not isinstance(smiles, list) or len(smiles) != len(dataset):
        smiles = [getattr(data, "smiles", None) for data in dataset]
    if any(not isinstance(s, str) for s in smiles):
        raise ValueError("a split by name needs `smiles` on every graph; pass a Split instead")
    return smiles


def resolve_split(dataset, split, seed: int, smiles_cache: dict):
    """``(Split, method name)``: ``split`` itself, or the split of that method name computed
    from the graphs' SMILES (``smiles_cache`` keeps the SMILES and the deterministic scaffold
    split between calls)."""
    if hasattr(split, "train"):
        return split, getattr(split, "method", "") or "given"
    method = split or "scaffold"
    # Imported here: the data layer is only needed when the split is computed by name.
    from cpmkit.data import splits

    if "smiles" not in smiles_cache:
        smiles_cache["smiles"] = _smiles_of(dataset)
    if method == "scaffold":
        if "scaffold" not in smiles_cache:  # deterministic: one split for every seed
            smiles_cache["scaffold"] = splits.scaffold_split(smiles_cache["smiles"])
        return smiles_cache["scaffold"], method
    return splits.make_split(method, smiles_cache["smiles"], seed), method


def finetune(dataset, split, config: FinetuneConfig | None = None, pretrained=None,
             progress: bool = True, model_factory=None, part: str | None = None
             ) -> FinetuneResult:  # fmt: skip
    """Fine-tune a :class:`GraphPredictor` on ``split.train``, select on ``split.valid``.

    Parameters
    ----------
    dataset : sequence of torch_geometric.data.Data
        A PyG dataset or list; each graph has ``x``, ``edge_index``, ``edge_attr`` (Hu scheme)
        and ``y`` float (1, T) with NaN = missing.
    split : object with ``.train``, ``.valid``, ``.test`` integer arrays, or a method name
        E.g. :class:`cpmkit.data.splits.Split`; a name (``"scaffold"``, ``"random"``,
        ``"random_scaffold"``) is computed by ``cpmkit.data.splits`` with ``config.seed``.
    config : FinetuneConfig, optional
        Defaults to Hu et al.'s settings (100 epochs, batch 32, lr 1e-3, GIN 5 x 300).
    pretrained : None, str, path or dict
        Encoder weights to start from, see :func:`load_pretrained`; None = random init. A
        pre-training output folder (what ``cpmkit.pretrain.pretrain`` wrote) works too.
    progress : bool
        Show a tqdm bar over epochs.
    model_factory : callable, optional
        ``model_factory(num_tasks) -> nn.Module`` for an encoder other than the GNN (a SMILES
        GRU, SchNet, a RoBERTa): any module mapping a PyG batch to ``(num_graphs, num_tasks)``
        outputs. It is called after seeding, so the same seed gives the same initial weights;
        the config's encoder fields are ignored. With ``pretrained``, the weights load strictly
        into the model's ``encoder`` attribute (the encoder contract of
        :mod:`cpmkit.models.encoders`).
    part : str, optional
        Which named part of a pre-training folder to start from (``"graph"``, ``"smiles"``,
        ``"geometry"`` ...; default: its first part, ``encoder.pt``).

    Returns
    -------
    FinetuneResult
        History, the best-validation epoch and its test score, last-epoch scores, and the
        model with the best-validation weights. Same seed -> same history (on one machine).

    Taught in ``notebooks/11_property_prediction``.
    """
    config = config or FinetuneConfig()
    device = resolve_device(config.device)
    metric = config.selection_metric
    higher = HIGHER_IS_BETTER[metric]
    task = config.task_type
    loss_fn = masked_bce_loss if task == "classification" else masked_mse_loss
    start = time.perf_counter()

    if not hasattr(split, "train"):
        split, _ = resolve_split(dataset, split, config.seed, {})
    seed_everything(config.seed)
    parts = (split.train, split.valid, split.test)
    train_set, valid_set, test_set = (_subset(dataset, idx) for idx in parts)
    if len(train_set) == 0:
        raise ValueError("the training split is empty")
    num_tasks = _num_tasks(dataset)
    if pretrained is not None and not isinstance(pretrained, dict):
        if part is not None or Path(str(pretrained)).is_dir():
            pretrained = part_path(pretrained, part)
    if model_factory is not None:
        model = model_factory(num_tasks)
        if pretrained is not None:
            load_encoder_weights(model, pretrained)
        groups = [{"params": model.parameters()}]
    else:
        model = GraphPredictor(config.gnn_config(), num_tasks)
        if pretrained is not None:
            load_pretrained(model, pretrained)
        groups = [
            {"params": model.gnn.parameters()},
            {"params": model.head.parameters(), "lr": config.lr * config.head_lr_scale},
        ]
    model.to(device)
    optimizer = torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)
    kw = {"num_workers": config.num_workers}
    train_loader = _loader(train_set, config.batch_size, shuffle=True, seed=config.seed, **kw)
    eval_loaders = {
        "val": _loader(valid_set, config.batch_size, **kw),
        "test": _loader(test_set, config.batch_size, **kw),
    }
    if config.eval_train:
        eval_loaders["train"] = _loader(train_set, config.batch_size, **kw)

    rows, best, best_epoch, best_state = [], None, None, None
    epochs = range(1, config.num_epochs + 1) if config.num_epochs else [0]
    bar = tqdm(epochs, desc=f"finetune seed {config.seed}", disable=not progress, leave=False)
    for epoch in bar:
        row = {"epoch": epoch}
        row["train_loss"] = (
            _train_epoch(model, train_loader, optimizer, loss_fn, device) if epoch else np.nan
        )
        if epoch % config.eval_every == 0 or epoch == epochs[-1]:
            for subset, loader in eval_loaders.items():
                for name, value in evaluate(model, loader, task, config.batch_size).items():
                    row[f"{subset}_{name}"] = value
            val = row[f"val_{metric}"]
            # The first evaluated epoch is the fallback; later ones must beat a defined score
            # (a validation split without both classes gives NaN and never wins).
            if best_epoch is None or _better(val, best, higher):
                best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
                best = None if np.isnan(val) else val
            bar.set_postfix({f"val_{metric}": f"{row[f'val_{metric}']:.3f}"})
        rows.append(row)
    bar.close()

    history = pd.DataFrame(rows)
    last = history.iloc[-1]
    best_row = history.loc[history["epoch"] == best_epoch].iloc[0]
    model.load_state_dict(best_state)
    model.eval()
    return FinetuneResult(
        history=history,
        metric=metric,
        best_epoch=int(best_epoch),
        val=float(best_row[f"val_{metric}"]),
        test=float(best_row[f"test_{metric}"]),
        val_last=float(last[f"val_{metric}"]),
        test_last=float(last[f"test_{metric}"]),
        model=model,
        config=config.to_dict(),
        num_tasks=num_tasks,
        runtime_s=time.perf_counter() - start,
    )


def __getattr__(name):
    # run_seeds and summarize moved to cpmkit.tasks.seeds, the checkpoint files to
    # cpmkit.tasks.checkpoint; lessons written before the split import them from here
    if name in ("run_seeds", "summarize"):
        from cpmkit.tasks import seeds

        return getattr(seeds, name)
    if name in ("Checkpoint", "load_checkpoint", "save_checkpoint"):
        from cpmkit.tasks import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FinetuneConfig",
    "FinetuneResult",
    "evaluate",
    "finetune",
    "load_encoder_weights",
    "load_pretrained",
    "predict",
    "resolve_device",
    "resolve_split",
]
