"""Fine-tuned models as files that ``torch.load(..., weights_only=True)`` opens.

Tensors plus plain JSON (the model class, what rebuilds it, the run's config), written
atomically. Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import NamedTuple

import torch

from cpmkit.atomic import atomic_torch_save
from cpmkit.models.gnn import GNN
from cpmkit.models.graph_model import GNNConfig, GraphPredictor

CHECKPOINT_FORMAT = "cpmkit-checkpoint-1"


class Checkpoint(NamedTuple):
    """What :func:`load_checkpoint` returns: the rebuilt model (eval mode) and the plain data."""

    model: torch.nn.Module | None
    config: dict
    state_dict: dict
    extra: dict


def _plain_config(config) -> dict:
    if config is None:
        return {}
    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    if hasattr(config, "to_dict"):
        return dict(config.to_dict())
    return dict(config)


def _architecture(model) -> tuple[str, dict]:
    if isinstance(model, GraphPredictor):
        return "GraphPredictor", {**model.config.to_dict(), "num_tasks": model.num_tasks}
    if isinstance(model, GNN):
        return "GNN", {
            "num_layer": model.num_layer, "emb_dim": model.emb_dim, "JK": model.JK,
            "drop_ratio": model.drop_ratio, "gnn_type": model.gnn_type,
        }  # fmt: skip
    return type(model).__name__, {}


def save_checkpoint(path, model: torch.nn.Module, config=None, **extra) -> Path:
    """Save tensors + plain-JSON config so ``torch.load(path, weights_only=True)`` opens it.

    The file is a dict: ``format``, ``model_class``, ``architecture`` (what rebuilds the model),
    ``config`` (the run's config as a dict), ``extra`` (any JSON-compatible keywords) and
    ``state_dict``. Written to a temporary file and renamed, so a crash leaves no half file.
    Taught in ``notebooks/11_property_prediction``.
    """
    model_class, architecture = _architecture(model)
    meta = {
        "format": CHECKPOINT_FORMAT,
        "model_class": model_class,
        "architecture": architecture,
        "config": _plain_config(config),
        "extra": extra,
    }
    try:
        meta = json.loads(json.dumps(meta))  # also turns tuples into lists, as JSON would
    except TypeError as err:
        raise TypeError(f"checkpoint config/extra must be JSON-compatible: {err}") from err
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return atomic_torch_save({**meta, "state_dict": state}, Path(path))


def load_checkpoint(path, map_location="cpu") -> Checkpoint:
    """Open a :func:`save_checkpoint` file (``weights_only=True``) and rebuild its model.

    ``model`` is a :class:`GraphPredictor` or :class:`GNN` with the weights loaded strictly and
    in eval mode, or None for another model class (then use ``state_dict`` yourself).
    Taught in ``notebooks/11_property_prediction``.
    """
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a cpmkit checkpoint ({CHECKPOINT_FORMAT})")
    arch = state["architecture"]
    model = None
    if state["model_class"] == "GraphPredictor":
        model = GraphPredictor(GNNConfig.from_dict(arch, strict=False), arch["num_tasks"])
    elif state["model_class"] == "GNN":
        model = GNNConfig.from_dict(arch, strict=False).build_gnn()
    if model is not None:
        model.load_state_dict(state["state_dict"], strict=True)
        model.eval()
    return Checkpoint(model, state["config"], state["state_dict"], state["extra"])


__all__ = ["CHECKPOINT_FORMAT", "Checkpoint", "load_checkpoint", "save_checkpoint"]
