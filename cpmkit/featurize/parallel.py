"""Featurize a large corpus on several processes: contiguous chunks, results in input order.

A chunk is a slice ``items[start:stop]``; each worker calls ``fn(chunk, start, *args)`` and the
results come back in chunk order, so joining them gives what one process would have made
(same rows, same tensors, same order). ``fn`` must be a module-level function and ``args``
picklable, so the same code runs under the ``spawn`` start method (macOS, Windows, Python 3.14's
default on Linux) as under ``fork``. Workers run torch on one thread each: two torch processes
on 2 cores otherwise slow each other down many times. Graphs travel back packed into a few
numpy buffers: torch's own pickling for processes puts each tensor in shared memory behind a
file descriptor, which for thousands of small graphs is slower than featurizing them and runs
out of descriptors; pickling each small array costs as much as featurizing its molecule.
Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def check_num_workers(num_workers) -> int:
    """``num_workers`` as an int >= 1 (``None`` and 0 mean in this process); else ValueError."""
    if num_workers is None:
        return 1
    if isinstance(num_workers, bool) or int(num_workers) != num_workers or num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
    return max(int(num_workers), 1)


def default_start_method() -> str:
    """``fork`` where the platform has it (a worker starts in milliseconds instead of
    re-importing torch and RDKit for seconds), else ``spawn``."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _one_thread() -> None:
    # before torch is imported (spawn) the variable decides; after it (fork) the call does
    os.environ["OMP_NUM_THREADS"] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


class _Graphs:
    """A list of PyG ``Data`` on its way between processes (see the module docstring): every
    tensor flattened into one numpy buffer per dtype, plus each graph's keys, shapes and
    plain attributes in their order."""

    __slots__ = ("buffers", "layout")

    def __init__(self, graphs: list):
        import torch

        flat: dict[str, list] = {}
        self.layout = []
        for graph in graphs:
            entry = []
            for key, value in graph.to_dict().items():
                if isinstance(value, torch.Tensor):
                    array = value.detach().numpy()  # raises for bfloat16: caught by _pack
                    flat.setdefault(array.dtype.str, []).append(array.ravel())
                    entry.append((key, array.dtype.str, tuple(value.shape)))
                else:
                    entry.append((key, None, value))
            self.layout.append(entry)
        self.buffers = {dtype: np.concatenate(arrays) for dtype, arrays in flat.items()}

    def unpack(self) -> list:
        import torch
        from torch_geometric.data import Data

        buffers = {dtype: torch.from_numpy(array) for dtype, array in self.buffers.items()}
        offsets = dict.fromkeys(buffers, 0)
        graphs = []
        for entry in self.layout:
            graph = Data()
            for key, dtype, payload in entry:  # one at a time: the attribute order is kept
                if dtype is None:
                    graph[key] = payload
                    continue
                start, size = offsets[dtype], math.prod(payload)
                offsets[dtype] = start + size
                # a copy of its own, so that saving one graph does not save the whole buffer
                graph[key] = buffers[dtype][start : start + size].view(payload).clone()
            graphs.append(graph)
        return graphs


class _Arrays:
    """A list of same-shape numpy arrays (fingerprints) sent as one stacked array."""

    __slots__ = ("stacked",)

    def __init__(self, arrays: list):
        self.stacked = np.stack(arrays)

    def unpack(self) -> list:
        return [row.copy() for row in self.stacked]


def _pack(obj):
    """``obj`` with each list of graphs or of fingerprints inside lists and tuples packed."""
    if isinstance(obj, tuple):
        return tuple(_pack(item) for item in obj)
    if not isinstance(obj, list) or not obj:
        return obj
    geometric = sys.modules.get("torch_geometric.data")
    if geometric is not None and all(type(item) is geometric.Data for item in obj):
        try:
            return _Graphs(obj)
        except TypeError:  # a dtype numpy lacks (bfloat16): torch's own pickling then
            return obj
    first = obj[0]
    if isinstance(first, np.ndarray) and all(
        isinstance(item, np.ndarray) and item.shape == first.shape and item.dtype == first.dtype
        for item in obj
    ):
        return _Arrays(obj)
    return [_pack(item) for item in obj]


def _unpack(obj):
    if isinstance(obj, tuple):
        return tuple(_unpack(item) for item in obj)
    if isinstance(obj, list):
        return [_unpack(item) for item in obj]
    if isinstance(obj, (_Graphs, _Arrays)):
        return obj.unpack()
    return obj


def _run_packed(fn: Callable, chunk, start: int, *args):
    return _pack(fn(chunk, start, *args))


def chunk_bounds(n: int, num_workers: int, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in order; ~4 chunks per worker by default,
    so a worker that drew slow molecules does not hold up the rest."""
    if chunk_size is None:
        chunk_size = max(1, math.ceil(n / (4 * num_workers)))
    return [(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]


def map_chunks(
    fn: Callable,
    items: Sequence,
    num_workers: int,
    *args,
    chunk_size: int | None = None,
    start_method: str | None = None,
) -> list:
    """``[fn(items[a:b], a, *args) for (a, b) in chunk_bounds(...)]``, on ``num_workers``
    processes when there is more than one (and more than one item), else in this process.

    ``items`` is a list or a DataFrame (sliced by position). ``start_method`` is ``"fork"``,
    ``"spawn"`` or ``"forkserver"``; default :func:`default_start_method`. An exception in a
    worker is raised here. Taught in ``notebooks/00_quickstart``.
    """
    num_workers = check_num_workers(num_workers)
    n = len(items)
    take = items.iloc.__getitem__ if hasattr(items, "iloc") else items.__getitem__
    if num_workers == 1 or n <= 1:
        return [fn(items, 0, *args)]
    bounds = chunk_bounds(n, num_workers, chunk_size)
    context = multiprocessing.get_context(start_method or default_start_method())
    workers = min(num_workers, len(bounds))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
        futures = [pool.submit(_run_packed, fn, take(slice(a, b)), a, *args) for a, b in bounds]
        return [_unpack(future.result()) for future in futures]


__all__ = ["check_num_workers", "chunk_bounds", "default_start_method", "map_chunks"]
