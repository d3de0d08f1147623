"""Featurize a large corpus on several processes: contiguous chunks, results in input order.

A chunk is a slice ``items[start:stop]``; each worker calls ``fn(chunk, start, *args)`` and the
results come back in chunk order, so joining them gives what one process would have made
(same rows, same tensors, same order). ``fn`` must be a module-level function and ``args``
picklable, so the same code runs under the ``spawn`` start method (macOS, Windows, Python 3.14's
default on Linux) as under ``fork``. Workers run torch on one thread each: two torch processes
on 2 cores otherwise slow each other down many times. Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor


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
        futures = [pool.submit(fn, take(slice(a, b)), a, *args) for a, b in bounds]
        return [future.result() for future in futures]


__all__ = ["check_num_workers", "chunk_bounds", "default_start_method", "map_chunks"]
