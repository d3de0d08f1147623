"""Where tensors live: one rule for the fine-tuning harness and the pre-training loop."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA if available, else CPU; anything else as given.

    Taught in ``notebooks/11_property_prediction``.
    """
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


__all__ = ["resolve_device"]
