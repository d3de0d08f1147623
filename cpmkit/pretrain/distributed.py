"""Several processes, one objective: the process group, and a gather that keeps gradients.

Under ``torchrun --nproc_per_node N`` every process sees ``batch_size / N`` molecules of the
global batch. A loss whose negatives are the other molecules of the batch (InfoNCE, NT-Xent)
would then contrast each anchor with ``batch_size / N - 1`` negatives instead of
``batch_size - 1``, and the method would change with the number of devices. The fix used by
SimCLR, CLIP and MoCo v3 is to gather every process's vectors before the loss, keeping the
gradient path back to the process that made them::

    z = gather_with_grad(self.project(self.encoder(...)))   # (global batch, dim)

Each process then computes the loss of its own anchors against the gathered candidates;
``DistributedDataParallel`` averages the gradients, and ``torch.distributed.nn``'s all-gather
sums, in its backward, what every process's loss sends to this process's vectors, so N
processes take the same step as one process on the whole batch (tested with 2 ``gloo``
processes in ``tests/ddp``). Taught in ``notebooks/06_contrastive``.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


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


def world_size() -> int:
    """Number of processes in the group (1 without one)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` of every process along dim 0 (rank order), gradients kept.

    Every process must pass a tensor of the same shape (the loop gives each the same number of
    molecules). Without a process group it returns ``tensor`` itself.
    """
    if world_size() == 1:
        return tensor
    # the autograd-aware collective: its backward sends each process the gradient of its slice
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tensor), dim=0)


def global_offset(local_size: int) -> int:
    """Where this process's rows start in :func:`gather_with_grad`'s output."""
    if world_size() == 1:
        return 0
    return dist.get_rank() * local_size


def broadcast_object(value, world: int):
    """Rank 0's ``value`` on every process (a plain Python object)."""
    if world == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(value, world: int) -> list:
    """Every process's ``value`` (plain Python objects), in rank order."""
    if world == 1:
        return [value]
    every = [None] * world
    dist.all_gather_object(every, value)
    return every


def mean_over_processes(value: torch.Tensor, world: int) -> torch.Tensor:
    """The mean of a scalar over processes (what a loss curve shows: the global batch's loss)."""
    if world == 1:
        return value
    total = value.detach().clone()
    dist.all_reduce(total)
    return total / world


__all__ = [
    "broadcast_object",
    "distributed_context",
    "gather_objects",
    "gather_with_grad",
    "global_offset",
    "mean_over_processes",
    "world_size",
]
