"""One call that makes a run repeatable: same seed, same numbers (on the same CPU build).

Seeds Python's ``random``, NumPy's global generator and torch (CPU and all GPUs), and asks
torch for deterministic kernels. On CPU the ops our models use (PyG's scatter, BatchNorm,
Adam) are deterministic already; on a GPU a few scatter reductions are not, and
``warn_only=True`` makes torch say so instead of raising. Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed ``random``, ``numpy`` and ``torch``; optionally request deterministic algorithms.

    Parameters
    ----------
    seed : int
        The seed (Hu et al.'s ``runseed``: model initialisation, dropout, batch order).
    deterministic : bool
        Also call ``torch.use_deterministic_algorithms(True, warn_only=True)`` and switch off
        cuDNN autotuning. This is process-wide state, as torch's own switch is.

    Taught in ``notebooks/00_quickstart``.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        # cuBLAS needs this set before its first call to be deterministic on CUDA >= 10.2.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


__all__ = ["seed_everything"]
