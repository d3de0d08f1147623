"""The published pre-trained encoders of Hu et al. (ICLR 2020): which files exist, and fetching.

``snap-stanford/pretrain-gnns`` released state_dicts of 5-layer, 300-dim encoders: three
architectures (GCN, GraphSAGE, GAT; ``chem/model_architecture/``, paper Table 2) times three
pre-training recipes (context prediction, graph-level supervised on ChEMBL, and both), plus
nine GIN encoders (``chem/model_gin/``, paper Table 1) that this kit's data mirror does not
hold -- they load the same way from a local copy.

This module only finds files (a weight file is data: cache -> mirror -> URL, sha256-checked);
loading them into an encoder, strictly, is :func:`cpmkit.models.pretrained.load_hu_weights`::

    load_hu_weights(gnn, weights_path("gcn_contextpred"))

Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cpmkit.data.fetch import fetch_file
from cpmkit.data.registry import get_dataset_info

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


def weights_path(name: str) -> Path:
    """Local path of a published file, fetched through ``cpmkit.data`` (cache -> mirror -> URL).

    ``name`` is a key of :data:`HU_WEIGHTS`; the ``.pth`` may be left off.
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
    return Path(fetch_file(get_dataset_info(WEIGHTS_DATASET).file(base)))


def part_path(pretrained: str | os.PathLike, part: str | None = None) -> Path:
    """The weights file of ``part`` in a pre-training output folder (or ``pretrained`` itself).

    ``pretrained`` may be the folder ``cpmkit.pretrain.pretrain`` wrote (one ``<part>.pt`` per
    named part, ``parts.json``, ``encoder.pt`` = the first part) or a ``.pt`` file; with a
    folder, ``part=None`` means its first part. An unknown part raises with the folder's parts.
    It lives here, beside the published weights, so fine-tuning (tasks) reads a pre-training
    folder without knowing the pre-training code. Taught in ``notebooks/06_contrastive``.
    """
    path = Path(pretrained)
    if not path.is_dir():
        if part is not None:
            raise ValueError(f"part={part!r} needs a pre-training output folder, got file {path}")
        return path
    if part is None:
        return path / "encoder.pt"
    available = sorted(p.stem for p in path.glob("*.pt") if p.stem != "checkpoint")
    manifest = path / "parts.json"
    if manifest.is_file():
        available = sorted(json.loads(manifest.read_text())["parts"])
    if part not in available:
        raise KeyError(f"{path} has no part {part!r}; its parts: {available}")
    return path / f"{part}.pt"


__all__ = [
    "HU_WEIGHTS",
    "SOURCE_REPO",
    "WEIGHTS_DATASET",
    "HuWeights",
    "part_path",
    "weights_path",
]
