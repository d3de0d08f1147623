"""Load the published pre-trained encoders of Hu et al. (ICLR 2020) safely.

``snap-stanford/pretrain-gnns`` released state_dicts of 5-layer, 300-dim encoders (GCN,
GraphSAGE, GAT and GIN). Which files exist and how to fetch them is data:
:data:`cpmkit.data.weights.HU_WEIGHTS` and :func:`cpmkit.data.weights.weights_path`; this module
takes a path or a state_dict, so a model never reaches into the data layer.

Loading is strict: ``torch.load(weights_only=True)`` (no pickled code runs) and
``load_state_dict(strict=True)`` after a check that names a mismatch in words (a GAT file into
a GCN encoder, emb_dim 300 into emb_dim 64) instead of PyTorch's list of key differences.
Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from cpmkit.models.gnn import GNN


def describe_state_dict(state_dict: dict) -> dict:
    """What an encoder state_dict holds: ``gnn_type``, ``num_layer``, ``emb_dim``.

    GCN and GraphSAGE have the same keys, so their type reads ``"gcn|graphsage"``.
    Taught in ``notebooks/11_property_prediction``.
    """
    keys = set(state_dict)
    if "x_embedding1.weight" not in keys or "gnns.0.edge_embedding1.weight" not in keys:
        raise ValueError(
            "not a Hu et al. encoder state_dict: expected keys x_embedding1.weight and "
            f"gnns.0.*; got e.g. {sorted(keys)[:5]}"
        )
    if "gnns.0.att" in keys:
        gnn_type = "gat"
    elif "gnns.0.mlp.0.weight" in keys:
        gnn_type = "gin"
    elif "gnns.0.linear.weight" in keys:
        gnn_type = "gcn|graphsage"  # same parameters; only the file name tells them apart
    else:
        gnn_type = "unknown"
    num_layer = len({k.split(".")[1] for k in keys if k.startswith("batch_norms.")})
    emb_dim = int(state_dict["x_embedding1.weight"].shape[1])
    return {"gnn_type": gnn_type, "num_layer": num_layer, "emb_dim": emb_dim}


def _type_from_name(name: str | None) -> str | None:
    """gnn_type from a ``<type>_...pth`` file name (every published name has one); None if not."""
    if not name:
        return None
    head = Path(name).name.split("_")[0].lower()
    return head if head in ("gin", "gcn", "graphsage", "gat") else None


def check_compatible(gnn: GNN, state_dict: dict, name: str | None = None) -> None:
    """Raise ``ValueError`` naming the first difference between ``gnn`` and a weight file.

    Taught in ``notebooks/11_property_prediction``.
    """
    found = describe_state_dict(state_dict)
    label = f"weights {name!r}" if name else "the weights"
    file_type = _type_from_name(name) or found["gnn_type"]
    if gnn.gnn_type not in file_type.split("|"):
        raise ValueError(
            f"{label} are a {file_type} encoder, but the model's gnn_type is {gnn.gnn_type!r}; "
            f"build the model with gnn_type={file_type.split('|')[0]!r}"
        )
    for attr in ("emb_dim", "num_layer"):
        if getattr(gnn, attr) != found[attr]:
            raise ValueError(
                f"{label} have {attr}={found[attr]}, but the model has "
                f"{attr}={getattr(gnn, attr)}; build the model with {attr}={found[attr]}"
            )


def load_hu_weights(
    gnn,
    path: str | os.PathLike | None = None,
    *,
    state_dict: dict | None = None,
) -> GNN:
    """Load a published Hu et al. encoder into ``gnn`` (strictly) and return ``gnn``.

    Parameters
    ----------
    gnn : GNN or GraphPredictor
        The encoder (for a :class:`~cpmkit.models.graph_model.GraphPredictor`, its ``.gnn``).
        Its ``gnn_type``, ``num_layer`` and ``emb_dim`` must match the file.
    path : path-like, optional
        A local ``.pth`` file: a published one through
        ``cpmkit.data.weights.weights_path("gcn_contextpred")``, or a copy of a ``model_gin``
        file; its name, if it starts with ``gcn_``/``graphsage_``/``gat_``/``gin_``, tells GCN
        from GraphSAGE.
    state_dict : dict, optional
        Tensors already in memory.

    Raises
    ------
    ValueError
        The file's architecture differs from ``gnn`` (message says how).

    Taught in ``notebooks/11_property_prediction``.
    """
    encoder = getattr(gnn, "gnn", gnn)
    if not isinstance(encoder, GNN):
        raise TypeError(f"expected a GNN or GraphPredictor, got {type(gnn).__name__}")
    if (path is None) == (state_dict is None):
        raise TypeError("give exactly one of path or state_dict=")
    if state_dict is None:
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"no weight file at {str(path)!r}; for a published name such as "
                "'gcn_contextpred' pass cpmkit.data.weights.weights_path(name)"
            )
        label = Path(path).name
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    else:
        label = None
    check_compatible(encoder, state_dict, label)
    encoder.load_state_dict(state_dict, strict=True)
    return encoder


__all__ = ["check_compatible", "describe_state_dict", "load_hu_weights"]
