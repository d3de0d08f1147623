"""The one pre-training loop: corpus in, encoder checkpoint out, for every :class:`Strategy`.

``pretrain(strategy, corpus, PretrainConfig(...))`` shuffles the corpus with a seeded
``DistributedSampler``, lets the strategy build its views (``transform``) and batches
(``collate``), minimises ``strategy.loss`` with Adam, and keeps one row per step in a loss
history. What makes it a loop one can trust with 100 epochs:

- **Same seed, same weights.** The loop seeds torch, NumPy and Python at its start and draws the
  batch order from ``(seed, epoch)``. Build the strategy after ``seed_everything(seed)`` too: the
  initial weights are part of the run (a hash of them keys the output folder).
- **Resume.** A checkpoint (model, optimizer, history, the random generators of every process,
  epoch and step) is written atomically at each epoch end and every ``checkpoint_every`` steps.
  A run that was interrupted resumes from the last one and ends with the same weights as a run
  that never stopped; a finished run is loaded instead of trained again.
- **Several processes.** Under ``torchrun --nproc_per_node N`` the same call wraps the strategy
  in ``DistributedDataParallel`` (``gloo`` on CPU, ``nccl`` on GPU), splits each batch of
  ``batch_size`` molecules across the processes, and only rank 0 writes files.

Output folder: ``checkpoint.pt`` (resume state; loads with ``weights_only=True``),
``encoder.pt`` (a bare state_dict of the encoder, what ``finetune(pretrained=...)`` takes; for a
Hu et al. GNN the keys of the published files), ``history.csv`` and ``run.json``.
Taught in ``notebooks/04_masked_components`` and ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm.auto import tqdm

from cpmkit.data.fetch import cache_dir
from cpmkit.device import resolve_device
from cpmkit.pretrain.base import Strategy, encoder_hparams
from cpmkit.seed import seed_everything

CHECKPOINT_FORMAT = "cpmkit-pretrain-1"


@dataclass
class PretrainConfig:
    """Settings of one pre-training run (defaults: Hu et al.'s, 100 epochs of batch 256).

    ``batch_size`` is the global batch: under ``torchrun`` each of N processes takes
    ``batch_size / N`` molecules per step, so the optimisation is the same on 1 or N devices.
    ``checkpoint_every`` (steps; 0 = at epoch ends only) bounds what an interruption costs.
    With ``num_workers > 0`` the views are drawn in worker processes, whose generators restart
    with each epoch: a resume is then exact from an epoch end only.
    Taught in ``notebooks/04_masked_components``.
    """

    num_epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    checkpoint_every: int = 0
    device: str = "auto"
    num_workers: int = 0

    def __post_init__(self):
        if self.num_epochs < 1 or self.batch_size < 1:
            raise ValueError(f"num_epochs and batch_size must be >= 1, got {self}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {self.checkpoint_every}")

    def to_dict(self) -> dict:
        """Plain JSON-compatible dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "PretrainConfig":
        """Build from a dict, ignoring keys that are not fields (e.g. a lesson's whole config)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class PretrainResult:
    """What :func:`pretrain` returns: the trained strategy, its files and its loss history."""

    strategy: Strategy
    history: pd.DataFrame
    out_dir: Path
    encoder_path: Path
    checkpoint_path: Path
    runtime_s: float
    resumed_from_step: int
    trained: bool

    def epoch_losses(self) -> pd.DataFrame:
        """Mean of each logged column per epoch (the curve a lesson plots)."""
        return self.history.drop(columns="step").groupby("epoch").mean().reset_index()

    @property
    def final_loss(self) -> float:
        """Mean loss of the last epoch."""
        return float(self.epoch_losses()["loss"].iloc[-1])


# -- processes ----------------------------------------------------------------------------
def distributed_context() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)``; joins the process group when ``torchrun`` started us.

    ``torchrun`` sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; a plain ``python`` run has
    none of them and is rank 0 of 1. The backend is ``nccl`` with CUDA, else ``gloo``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 and not (dist.is_available() and dist.is_initialized()):
        return 0, 1, 0
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0"))


def _broadcast(value, world: int):
    """Rank 0's ``value`` on every process (a plain Python object)."""
    if world == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _gather(value, world: int) -> list:
    if world == 1:
        return [value]
    every = [None] * world
    dist.all_gather_object(every, value)
    return every


# -- random generators, as checkpointable plain data ----------------------------------------
def _rng_state() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss),
                  float(cached)],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# -- identity of a run --------------------------------------------------------------------------
def _state_digest(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for key, value in module.state_dict().items():
        digest.update(key.encode())
        flat = value.detach().cpu().reshape(-1).to(torch.float64)
        digest.update(flat.numpy().tobytes())
    return digest.hexdigest()


def describe_corpus(corpus) -> dict:
    """Name, size and cache key of a corpus (what makes two runs' inputs the same)."""
    key = getattr(corpus, "key", None)
    return {
        "name": getattr(corpus, "name", type(corpus).__name__),
        "size": len(corpus),
        "key": key if isinstance(key, (dict, str)) else None,
    }


def run_identity(strategy: Strategy, corpus, config: PretrainConfig) -> dict:
    """Everything that fixes a run's final weights, as plain JSON (``run.json`` holds it)."""
    settings = config.to_dict()
    for key in ("device", "num_workers", "checkpoint_every"):  # they do not change the weights
        settings.pop(key)
    return {
        "strategy": strategy.name,
        "hparams": strategy.hparams(),
        "encoder": encoder_hparams(strategy.encoder),
        "initial_weights": _state_digest(strategy),
        "corpus": describe_corpus(corpus),
        "config": settings,
    }


def _check_same_run(saved: dict, identity: dict, path: Path) -> None:
    """Refuse to resume a checkpoint of another run (num_epochs may grow: training continues)."""
    now = json.loads(json.dumps(identity, default=str))
    for entry in (saved, now):
        entry["config"].pop("num_epochs", None)
    changed = sorted(key for key in now if saved.get(key) != now[key])
    if changed:
        raise ValueError(
            f"{path} belongs to another run (it differs in {changed}); pass resume=False to "
            "start over there, or choose another out_dir"
        )


def default_out_dir(identity: dict) -> Path:
    """``<cache>/pretrain/<strategy>-<hash of the run identity>``."""
    text = json.dumps(identity, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return cache_dir() / "pretrain" / f"{identity['strategy']}-{digest}"


# -- data ---------------------------------------------------------------------------------------
class _Views(Dataset):
    """The corpus seen through ``strategy.transform`` (on a copy: the cache must stay intact)."""

    def __init__(self, corpus, transform):
        self.corpus, self.transform = corpus, transform

    def __len__(self) -> int:
        return len(self.corpus)

    def __getitem__(self, index: int):
        item = self.corpus[index]
        # PyG's in-memory datasets hand out shallow copies that share tensors with the cache
        item = item.clone() if hasattr(item, "clone") else item
        return self.transform(item)


def _to_device(batch, device: torch.device):
    if hasattr(batch, "to"):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: _to_device(value, device) for key, value in batch.items()}
    return batch


def _split(output) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(output, tuple):
        loss, logs = output
        return loss, {key: float(value) for key, value in logs.items()}
    return output, {}


# -- checkpoints --------------------------------------------------------------------------------
def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _history_tensors(rows: list[dict]) -> dict[str, torch.Tensor]:
    frame = pd.DataFrame(rows)
    return {col: torch.tensor(frame[col].to_numpy(dtype=np.float64)) for col in frame.columns}


def _history_rows(columns: dict[str, torch.Tensor]) -> list[dict]:
    frame = pd.DataFrame({key: value.numpy() for key, value in columns.items()})
    for col in ("epoch", "step"):
        if col in frame:
            frame[col] = frame[col].astype(int)
    return frame.to_dict("records")


def load_checkpoint_state(path: str | os.PathLike) -> dict:
    """A loop checkpoint as saved (tensors and plain data; ``weights_only=True``)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a cpmkit pre-training checkpoint")
    return state


# -- the loop -----------------------------------------------------------------------------------
def pretrain(
    strategy: Strategy,
    corpus,
    config: PretrainConfig | None = None,
    out_dir: str | os.PathLike | None = None,
    resume: bool = True,
    progress: bool = True,
) -> PretrainResult:
    """Pre-train ``strategy`` on ``corpus``; returns the result and writes its files.

    Parameters
    ----------
    strategy : Strategy
        The method and its encoder (build it after seeding: its initial weights are part of
        the run).
    corpus
        An indexable dataset of molecules (e.g. ``MoleculeDataset("moses_train", sample=...)``).
    config : PretrainConfig
        Epochs, batch size, optimiser, seed, checkpoint interval, device.
    out_dir : path, optional
        Where the checkpoint and encoder go; default ``<cache>/pretrain/<strategy>-<hash>``,
        so the same run is resumed or reloaded instead of repeated.
    resume : bool
        Continue from ``out_dir/checkpoint.pt`` when it exists (``False`` starts over).
    progress : bool
        A tqdm bar per epoch (rank 0 only).

    Taught in ``notebooks/04_masked_components``.
    """
    config = config or PretrainConfig()
    rank, world, local_rank = distributed_context()
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by {world} processes")
    device = resolve_device(config.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)

    identity = _broadcast(run_identity(strategy, corpus, config), world)
    out = Path(out_dir) if out_dir is not None else default_out_dir(identity)
    out = Path(_broadcast(str(out), world))
    checkpoint_path, encoder_path = out / "checkpoint.pt", out / "encoder.pt"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)

    strategy.to(device)
    model = strategy
    if world > 1:
        # DDP copies rank 0's parameters and buffers to every process here
        model = DistributedDataParallel(
            strategy, device_ids=[device.index] if device.type == "cuda" else None
        )
    optimizer = torch.optim.Adam(
        strategy.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )

    seed_everything(config.seed + rank)
    epoch, step_in_epoch, global_step, rows = 0, 0, 0, []
    if resume and checkpoint_path.is_file():
        state = load_checkpoint_state(checkpoint_path)
        _check_same_run(json.loads(state["identity"]), identity, checkpoint_path)
        if int(state["epoch"]) > config.num_epochs:
            raise ValueError(f"{checkpoint_path} has trained {state['epoch']} epochs already, "
                             f"more than num_epochs={config.num_epochs}")
        strategy.load_state_dict(state["strategy"])
        optimizer.load_state_dict(state["optimizer"])
        epoch, step_in_epoch = int(state["epoch"]), int(state["step_in_epoch"])
        global_step = int(state["global_step"])
        rows = _history_rows(state["history"])
        rng = state["rng"]
        _set_rng_state(rng[rank % len(rng)])
    resumed_from = global_step

    sampler = DistributedSampler(
        range(len(corpus)), num_replicas=world, rank=rank, shuffle=True, seed=config.seed
    )
    views = _Views(corpus, strategy.transform)
    per_rank = config.batch_size // world
    trained = epoch < config.num_epochs
    start = time.perf_counter()

    def save(epoch_done: int, step: int) -> None:
        rng = _gather(_rng_state(), world)
        if rank == 0:
            _atomic_save(
                {
                    "format": CHECKPOINT_FORMAT,
                    "strategy": strategy.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "epoch": epoch_done,
                    "step_in_epoch": step,
                    "global_step": global_step,
                    "history": _history_tensors(rows) if rows else {},
                    "rng": rng,
                    "identity": json.dumps(identity, default=str),
                },
                checkpoint_path,
            )
        if world > 1:
            dist.barrier()

    while epoch < config.num_epochs:
        sampler.set_epoch(epoch)
        order = list(sampler)[step_in_epoch * per_rank :]
        # a private generator: starting an iterator must not draw from the global one, or a
        # resumed epoch would see other masks than an uninterrupted one
        workers_seed = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        loader = DataLoader(
            views, batch_size=per_rank, sampler=order, collate_fn=strategy.collate,
            num_workers=config.num_workers, generator=workers_seed,
        )  # fmt: skip
        total = math.ceil(len(sampler) / per_rank)
        bar = tqdm(
            loader, total=total, initial=step_in_epoch, leave=False,
            desc=f"{strategy.name} epoch {epoch + 1}/{config.num_epochs}",
            disable=not progress or rank != 0,
        )  # fmt: skip
        model.train()
        for batch in bar:
            if batch is None:
                # nothing to learn in this batch; a zero loss keeps every process in step
                loss, logs = sum(p.sum() for p in strategy.parameters()) * 0.0, {}
            else:
                loss, logs = _split(model(_to_device(batch, device)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            strategy.after_step()
            global_step += 1
            step_in_epoch += 1
            value = loss.item()
            rows.append({"epoch": epoch + 1, "step": global_step, "loss": value, **logs})
            bar.set_postfix(loss=f"{value:.3f}", refresh=False)
            if config.checkpoint_every and global_step % config.checkpoint_every == 0:
                save(epoch, step_in_epoch)
        epoch, step_in_epoch = epoch + 1, 0
        save(epoch, 0)

    if world > 1:
        # parameters agree already (averaged gradients); keep rank 0's BatchNorm statistics
        for buffer in strategy.buffers():
            dist.broadcast(buffer, src=0)
    if rank == 0:
        _atomic_save(strategy.encoder_state_dict(), encoder_path)
        pd.DataFrame(rows).to_csv(out / "history.csv", index=False)
        (out / "run.json").write_text(json.dumps(identity, indent=1, default=str))
    if world > 1:
        dist.barrier()
    return PretrainResult(
        strategy=strategy,
        history=pd.DataFrame(rows),
        out_dir=out,
        encoder_path=encoder_path,
        checkpoint_path=checkpoint_path,
        runtime_s=time.perf_counter() - start,
        resumed_from_step=resumed_from,
        trained=trained,
    )


__all__ = [
    "CHECKPOINT_FORMAT",
    "PretrainConfig",
    "PretrainResult",
    "default_out_dir",
    "describe_corpus",
    "distributed_context",
    "load_checkpoint_state",
    "pretrain",
    "run_identity",
]
