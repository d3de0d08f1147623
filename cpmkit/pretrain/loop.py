"""The one pre-training loop: corpus in, encoder checkpoint out, for every :class:`Strategy`.

``pretrain(strategy, corpus, PretrainConfig(...))`` shuffles the corpus with a seeded
``DistributedSampler``, lets the strategy build its views (``transform``) and batches
(``collate``), minimises ``strategy.loss`` with the configured optimiser and schedule (Adam at a
constant rate by default, as Hu et al.; AdamW with warm-up, cosine decay and clipping for
MolGPT), and keeps one row per batch in a loss history. What makes it a loop one can trust with
100 epochs:

- **Same seed, same weights.** The loop seeds torch, NumPy and Python at its start and draws the
  batch order from ``(seed, epoch)``. Build the strategy after ``seed_everything(seed)`` too: the
  initial weights are part of the run (a hash of them keys the output folder).
- **Resume.** A checkpoint (model, optimizer, history, the random generators of every process,
  epoch and step) is written atomically at each epoch end and every ``checkpoint_every`` steps.
  A run that was interrupted resumes from the last one and ends with the same weights as a run
  that never stopped; a finished run is loaded instead of trained again.
- **Several processes.** Under ``torchrun --nproc_per_node N`` the same call wraps the strategy
  in ``DistributedDataParallel`` (``gloo`` on CPU, ``nccl`` on GPU), splits each batch of
  ``batch_size`` molecules across the processes, and only rank 0 writes files. The logged loss
  is the mean over processes. Which objectives stay the same on N processes is said in
  :mod:`cpmkit.pretrain.base` (in-batch negatives need
  :func:`~cpmkit.pretrain.distributed.gather_with_grad`).

Output folder: ``checkpoint.pt`` (resume state; loads with ``weights_only=True``), one bare
state_dict per named part of the strategy (``<part>.pt``; what ``finetune(pretrained=out_dir,
part=...)`` takes), ``encoder.pt`` (the first part; for a Hu et al. GNN the keys of the
published files), ``parts.json``, ``history.csv`` and ``run.json``.
Taught in ``notebooks/04_masked_components`` and ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm.auto import tqdm

from cpmkit.atomic import atomic_path, atomic_torch_save, atomic_write_text
from cpmkit.config import ConfigDict
from cpmkit.data.fetch import cache_dir
from cpmkit.device import resolve_device
from cpmkit.pretrain.base import Strategy, encoder_hparams, parts_hparams
from cpmkit.pretrain.distributed import (
    broadcast_object,
    distributed_context,
    gather_objects,
    mean_over_processes,
)
from cpmkit.pretrain.optim import OPTIMIZERS, SCHEDULES, build_optimizer, build_scheduler
from cpmkit.seed import seed_everything

CHECKPOINT_FORMAT = "cpmkit-pretrain-1"


@dataclass
class PretrainConfig(ConfigDict):
    """Settings of one pre-training run (defaults: Hu et al.'s, 100 epochs of batch 256).

    ``batch_size`` is the global batch: under ``torchrun`` each of N processes takes
    ``batch_size / N`` molecules per step (what that means for in-batch negatives: see
    :mod:`cpmkit.pretrain.base`). ``checkpoint_every`` (batches; 0 = at epoch ends only; with
    accumulation the checkpoint waits for the window's optimizer step) bounds what an
    interruption costs. With ``num_workers > 0`` the views are drawn in worker
    processes, whose generators restart with each epoch: a resume is then exact from an epoch
    end only.

    The optimiser: ``optimizer`` ``"adam"`` or ``"adamw"`` with ``lr``, ``betas`` and
    ``weight_decay`` (a strategy's :meth:`~cpmkit.pretrain.base.Strategy.param_groups` may
    exempt some parameters); ``schedule`` ``"constant"``, ``"warmup_cosine"`` or
    ``"warmup_linear"`` over all optimizer steps of the run, with ``warmup_fraction`` of them
    warming up and ``min_lr_ratio`` the floor (:mod:`cpmkit.pretrain.optim`); ``grad_clip``
    the largest global gradient norm (0 = no clipping); ``grad_accum_steps`` batches summed
    into one optimizer step (an epoch's last step may sum fewer). The defaults are Hu et al.'s
    (Adam, constant rate, no clipping, no accumulation). Taught in
    ``notebooks/04_masked_components``.
    """

    num_epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    checkpoint_every: int = 0
    device: str = "auto"
    num_workers: int = 0
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: str = "constant"
    warmup_fraction: float = 0.0
    min_lr_ratio: float = 0.0
    grad_clip: float = 0.0
    grad_accum_steps: int = 1

    def __post_init__(self):
        self.betas = tuple(float(b) for b in self.betas)
        if self.num_epochs < 1 or self.batch_size < 1:
            raise ValueError(f"num_epochs and batch_size must be >= 1, got {self}")
        if self.checkpoint_every < 0 or self.grad_accum_steps < 1 or self.grad_clip < 0:
            raise ValueError("need checkpoint_every >= 0, grad_accum_steps >= 1, grad_clip >= 0")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")  # fmt: skip
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0.0 <= self.warmup_fraction < 1.0 or not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError("need 0 <= warmup_fraction < 1 and 0 <= min_lr_ratio <= 1")


#: settings added after the first runs were cached; left out of a run's identity while they
#: keep their defaults, so those runs keep their folders
_LATER_SETTINGS = ("optimizer", "betas", "schedule", "warmup_fraction", "min_lr_ratio",
                   "grad_clip", "grad_accum_steps")  # fmt: skip


def _weight_settings(config: PretrainConfig) -> dict:
    """The settings that change the weights (not the device, workers or checkpoint interval)."""
    settings = config.to_dict()
    for key in ("device", "num_workers", "checkpoint_every"):
        settings.pop(key)
    defaults = PretrainConfig().to_dict()
    for key in _LATER_SETTINGS:
        if settings[key] == defaults[key]:
            settings.pop(key)
    return settings


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
    part_paths: dict[str, Path] = field(default_factory=dict)

    def epoch_losses(self) -> pd.DataFrame:
        """Mean of each logged column per epoch (the curve a lesson plots)."""
        return self.history.drop(columns="step").groupby("epoch").mean().reset_index()

    @property
    def final_loss(self) -> float:
        """Mean loss of the last epoch."""
        return float(self.epoch_losses()["loss"].iloc[-1])


# -- random generators, as checkpointable plain data ----------------------------------------
def _rng_state() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [
            name,
            torch.from_numpy(keys.astype(np.int64)),
            int(pos),
            int(has_gauss),
            float(cached),
        ],
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
    identity = {
        "strategy": strategy.name,
        "hparams": strategy.hparams(),
        "encoder": encoder_hparams(strategy.encoder),
        "initial_weights": _state_digest(strategy),
        "corpus": describe_corpus(corpus),
        "config": _weight_settings(config),
    }
    if list(strategy.parts()) != ["encoder"]:
        identity["parts"] = parts_hparams(strategy)
    groups = strategy.param_groups()
    if len(groups) > 1:  # another optimizer layout is another run (its checkpoints differ)
        identity["param_groups"] = [
            {"tensors": len(group["params"]), **{k: v for k, v in group.items() if k != "params"}}
            for group in groups
        ]
    return identity


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


def move_to(batch, device: torch.device):
    """``batch`` with every tensor (or PyG ``Batch``, or HF encoding) on ``device``.

    Any nesting of tuples (named ones too), lists and dicts is walked; other leaves (ints,
    strings) are returned as they are. Taught in ``notebooks/06_contrastive``.
    """
    if hasattr(batch, "to") and not isinstance(batch, type):
        return batch.to(device)
    if isinstance(batch, dict):
        return {key: move_to(value, device) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(move_to(value, device) for value in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(value, device) for value in batch)
    return batch


def _split(output) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(output, tuple):
        loss, logs = output
        return loss, {key: float(value) for key, value in logs.items()}
    return output, {}


# -- checkpoints --------------------------------------------------------------------------------
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

    identity = broadcast_object(run_identity(strategy, corpus, config), world)
    out = Path(out_dir) if out_dir is not None else default_out_dir(identity)
    out = Path(broadcast_object(str(out), world))
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
    sampler = DistributedSampler(
        range(len(corpus)), num_replicas=world, rank=rank, shuffle=True, seed=config.seed
    )
    per_rank = config.batch_size // world
    batches_per_epoch = math.ceil(len(sampler) / per_rank)
    accum = config.grad_accum_steps
    total_steps = config.num_epochs * math.ceil(batches_per_epoch / accum)
    optimizer = build_optimizer(strategy.param_groups(), config)
    scheduler = build_scheduler(optimizer, config, total_steps)

    seed_everything(config.seed + rank)
    epoch, step_in_epoch, global_step, optimizer_steps, rows = 0, 0, 0, 0, []
    if resume and checkpoint_path.is_file():
        state = load_checkpoint_state(checkpoint_path)
        _check_same_run(json.loads(state["identity"]), identity, checkpoint_path)
        if int(state["epoch"]) > config.num_epochs:
            raise ValueError(
                f"{checkpoint_path} has trained {state['epoch']} epochs already, "
                f"more than num_epochs={config.num_epochs}"
            )
        strategy.load_state_dict(state["strategy"])
        optimizer.load_state_dict(state["optimizer"])
        if "scheduler" in state:
            scheduler.load_state_dict(state["scheduler"])
        epoch, step_in_epoch = int(state["epoch"]), int(state["step_in_epoch"])
        global_step = int(state["global_step"])
        optimizer_steps = int(state.get("optimizer_steps", global_step))
        rows = _history_rows(state["history"])
        rng = state["rng"]
        _set_rng_state(rng[rank % len(rng)])
    resumed_from = global_step
    last_checkpoint = global_step

    views = _Views(corpus, strategy.transform)
    trained = epoch < config.num_epochs
    start = time.perf_counter()

    def save(epoch_done: int, step: int) -> None:
        rng = gather_objects(_rng_state(), world)
        if rank == 0:
            atomic_torch_save(
                {
                    "format": CHECKPOINT_FORMAT,
                    "strategy": strategy.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch_done,
                    "step_in_epoch": step,
                    "global_step": global_step,
                    "optimizer_steps": optimizer_steps,
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
        bar = tqdm(
            loader, total=batches_per_epoch, initial=step_in_epoch, leave=False,
            desc=f"{strategy.name} epoch {epoch + 1}/{config.num_epochs}",
            disable=not progress or rank != 0,
        )  # fmt: skip
        model.train()
        for batch in bar:
            opens_window = step_in_epoch % accum == 0
            step_in_epoch += 1
            global_step += 1
            # the last batch of a window (or of the epoch) steps; the others only add gradients
            closes_window = step_in_epoch % accum == 0 or step_in_epoch == batches_per_epoch
            if opens_window:
                optimizer.zero_grad(set_to_none=True)
            sync = model.no_sync() if world > 1 and not closes_window else nullcontext()
            with sync:
                if batch is None:
                    # nothing to learn in this batch; a zero loss keeps every process in step
                    loss, logs = sum(p.sum() for p in strategy.parameters()) * 0.0, {}
                else:
                    loss, logs = _split(model(move_to(batch, device)))
                (loss / accum if accum > 1 else loss).backward()
            row = {"epoch": epoch + 1, "step": global_step,
                   "loss": mean_over_processes(loss.detach(), world).item(), **logs}  # fmt: skip
            if closes_window:
                if config.grad_clip:
                    norm = torch.nn.utils.clip_grad_norm_(strategy.parameters(), config.grad_clip)
                    row["grad_norm"] = float(norm)
                if config.schedule != "constant":
                    row["lr"] = optimizer.param_groups[0]["lr"]
                optimizer.step()
                scheduler.step()
                optimizer_steps += 1
                strategy.after_step(optimizer_steps)
            rows.append(row)
            bar.set_postfix(loss=f"{row['loss']:.3f}", refresh=False)
            every = config.checkpoint_every
            if closes_window and every and global_step // every != last_checkpoint // every:
                last_checkpoint = global_step
                save(epoch, step_in_epoch)
        epoch, step_in_epoch = epoch + 1, 0
        save(epoch, 0)

    if world > 1:
        # parameters agree already (averaged gradients); keep rank 0's BatchNorm statistics
        for buffer in strategy.buffers():
            dist.broadcast(buffer, src=0)
    part_paths = {name: out / f"{name}.pt" for name in strategy.parts()}
    if rank == 0:
        for name, state in strategy.part_state_dicts().items():
            atomic_torch_save(state, part_paths[name])
        if encoder_path not in part_paths.values():
            atomic_torch_save(strategy.encoder_state_dict(), encoder_path)
        parts = {"first": next(iter(part_paths)), "parts": parts_hparams(strategy)}
        atomic_write_text(out / "parts.json", json.dumps(parts, indent=1, default=str))
        with atomic_path(out / "history.csv") as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)
        atomic_write_text(out / "run.json", json.dumps(identity, indent=1, default=str))
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
        part_paths=part_paths,
    )


__all__ = [
    "CHECKPOINT_FORMAT",
    "PretrainConfig",
    "PretrainResult",
    "default_out_dir",
    "describe_corpus",
    "load_checkpoint_state",
    "move_to",
    "pretrain",
    "run_identity",
]
