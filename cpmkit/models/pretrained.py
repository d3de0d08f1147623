"""The published pre-trained encoders of Hu et al. (ICLR 2020) and how to load them safely.

``snap-stanford/pretrain-gnns`` released state_dicts of 5-layer, 300-dim encoders: three
architectures (GCN, GraphSAGE, GAT; ``chem/model_architecture/``, paper Table 2) times three
pre-training recipes (context prediction, graph-level supervised on ChEMBL, and both), plus
nine GIN encoders (``chem/model_gin/``, paper Table 1) that this kit's data mirror does not
hold -- they load the same way from a local copy via ``path=``.

Loading is strict: ``torch.load(weights_only=True)`` (no pickled code runs) and
``load_state_dict(strict=True)`` after a check that names a mismatch in words (a GAT file into
a GCN encoder, emb_dim 300 into emb_dim 64) instead of PyTorch's list of key differences.
Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from cpmkit.models.gnn import GNN

WEIGHTS_DATASET = "pretrain_gnns_weights"  # the registry name of the mirrored files
SOURCE_REPO = "snap-stanford/pretrain-gnns"


@dataclass(frozen=True)
class HuWeights:
    """One published weight file: what it holds and where it came from."""

    file_name: str
    gnn_type: str
    strategy: str  # contextpred, supervised, supervised_contextpred, masking, ...
    source_path: str  # path inside SOURCE_REPO
    mirrored: bool  # available through cpmkit.data (pretrain_gnns_weights)
    num_layer: int = 5
    emb_dim: int = 300


def _table() -> dict[str, HuWeights]:
    table = {}
    for gnn_type in ("gcn", "graphsage", "gat"):
        for strategy in ("contextpred", "supervised", "supervised_contextpred"):
            name = f"{gnn_type}_{strategy}.pth"
            table[name] = HuWeights(
                name, gnn_type, strategy, f"chem/model_architecture/{name}", mirrored=True
            )
    for strategy in (
        "contextpred", "edgepred", "infomax", "masking", "supervised",
        "supervised_contextpred", "supervised_edgepred", "supervised_infomax",
        "supervised_masking",
    ):  # fmt: skip
        table[f"gin_{strategy}.pth"] = HuWeights(
            f"gin_{strategy}.pth", "gin", strategy, f"chem/model_gin/{strategy}.pth", False
        )
    return table


HU_WEIGHTS: dict[str, HuWeights] = _table()
"""File name -> :class:`HuWeights`; the ``gin_*`` entries are not mirrored (``mirrored=False``)."""


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
    """gnn_type from a file name in the table or a ``<type>_...pth`` name; None if unknown."""
    if not name:
        return None
    base = Path(name).name
    if base in HU_WEIGHTS:
        return HU_WEIGHTS[base].gnn_type
    head = base.split("_")[0].lower()
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


def weights_path(name: str) -> Path:
    """Local path of a published file, fetched through ``cpmkit.data`` (cache -> mirror -> URL).

    Taught in ``notebooks/11_property_prediction``.
    """
    base = name if name.endswith(".pth") else f"{name}.pth"
    info = HU_WEIGHTS.get(base)
    if info is None:
        raise KeyError(f"unknown weight file {name!r}; known: {', '.join(HU_WEIGHTS)}")
    if not info.mirrored:
        raise FileNotFoundError(
            f"{base} ({SOURCE_REPO}/{info.source_path}) is not in the cpmkit data mirror; "
            "download it yourself and pass load_hu_weights(gnn, path=...)"
        )
    try:
        from cpmkit.data.fetch import fetch_file
        from cpmkit.data.registry import get_dataset_info
    except ImportError as err:  # the data layer is optional for users who pass path=
        raise RuntimeError(
            f"cannot fetch {base}: cpmkit.data is not available ({err}); "
            "pass load_hu_weights(gnn, path=...) instead"
        ) from err
    return Path(fetch_file(get_dataset_info(WEIGHTS_DATASET).file(base)))


def load_hu_weights(
    gnn,
    name: str | None = None,
    *,
    path: str | os.PathLike | None = None,
    state_dict: dict | None = None,
) -> GNN:
    """Load a published Hu et al. encoder into ``gnn`` (strictly) and return ``gnn``.

    Parameters
    ----------
    gnn : GNN or GraphPredictor
        The encoder (for a :class:`~cpmkit.models.graph_model.GraphPredictor`, its ``.gnn``).
        Its ``gnn_type``, ``num_layer`` and ``emb_dim`` must match the file.
    name : str, optional
        A key of :data:`HU_WEIGHTS` (``"gcn_contextpred.pth"``; ``.pth`` may be left off),
        fetched through ``cpmkit.data``.
    path : path-like, optional
        A local ``.pth`` file instead (e.g. a ``model_gin`` file); its name, if it starts
        with ``gcn_``/``graphsage_``/``gat_``/``gin_``, tells GCN from GraphSAGE.
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
    if sum(x is not None for x in (name, path, state_dict)) != 1:
        raise TypeError("give exactly one of name, path= or state_dict=")
    if state_dict is None:
        if name is not None:
            path = weights_path(name)
        label = name or Path(path).name
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    else:
        label = None
    check_compatible(encoder, state_dict, label)
    encoder.load_state_dict(state_dict, strict=True)
    return encoder


__all__ = [
    "HU_WEIGHTS",
    "HuWeights",
    "check_compatible",
    "describe_state_dict",
    "load_hu_weights",
    "weights_path",
]
