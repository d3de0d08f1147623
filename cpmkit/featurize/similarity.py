"""Fingerprint similarity between molecules: the false negatives of contrastive learning.

Random in-batch negatives sometimes are nearly the anchor itself (the survey's verdict on
contrastive learning; ProGCL, iMolCLR), and very similar molecules sometimes carry opposite
labels (activity cliffs). Both are questions of ECFP4 Tanimoto similarity, answered here
without a model: :func:`tanimoto_matrix`, :func:`near_duplicate_negatives`,
:func:`activity_cliffs`, and :func:`add_fingerprints` for a strategy that weighs its negatives
by similarity. Taught in ``notebooks/06_contrastive``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from cpmkit.featurize.fingerprints import ecfp
from cpmkit.featurize.parse import parse_smiles


def tanimoto_matrix(
    fingerprints: torch.Tensor, others: torch.Tensor | None = None
) -> torch.Tensor:
    """Tanimoto similarity of 0/1 fingerprint rows ``(B, bits)`` against ``others`` (default:
    itself)."""
    a = fingerprints.float()
    b = a if others is None else others.float()
    common = a @ b.T
    return common / (a.sum(1, keepdim=True) + b.sum(1)[None, :] - common).clamp(min=1e-9)


def add_fingerprints(data: Data, radius: int = 2, n_bits: int = 1024) -> Data:
    """``data`` with ``fp``: its ECFP (radius 2 = ECFP4) bits as a ``(1, n_bits)`` uint8 row.

    For the ``fp_weighting`` of :class:`GraphCL`, :class:`JOAO` and :class:`SimGRACE`
    (iMolCLR's similarity-weighted negatives; their ``transform`` calls it); reads
    ``data.smiles``.
    """
    out = data.clone()
    bits = ecfp(_mol(data.smiles), radius=radius, n_bits=n_bits)
    out.fp = torch.as_tensor(bits, dtype=torch.uint8).view(1, -1)
    return out


def _mol(smiles: str):
    # the kit's parser: RDKit's log stays quiet, and a bad SMILES fails with its reason
    parsed = parse_smiles(smiles)
    if parsed.mol is None:
        raise ValueError(f"cannot fingerprint {smiles!r}: {parsed.reason}")
    return parsed.mol


def _fingerprints(smiles, radius: int = 2, n_bits: int = 2048) -> torch.Tensor:
    return torch.stack(
        [torch.as_tensor(ecfp(_mol(s), radius=radius, n_bits=n_bits)) for s in smiles]
    )


def near_duplicate_negatives(
    smiles, batch_size: int, threshold: float = 0.7, seed: int = 0
) -> pd.DataFrame:
    """In-batch negatives that are near-identical to their anchor (ECFP4 Tanimoto >= threshold).

    Shuffles ``smiles`` into batches of ``batch_size`` as a pre-training epoch would (seeded)
    and lists every pair of one batch whose similarity reaches ``threshold``: pairs that
    InfoNCE pushes apart although they are nearly the same molecule (the survey's *false
    negatives*). Returns ``anchor, negative, tanimoto, batch`` sorted by similarity.
    Taught in ``notebooks/06_contrastive``.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(smiles), generator=generator).tolist()
    rows = []
    for start in range(0, len(order), batch_size):
        members = [smiles[i] for i in order[start : start + batch_size]]
        similarity = tanimoto_matrix(_fingerprints(members)).triu(diagonal=1)
        for a, b in (similarity >= threshold).nonzero().tolist():
            rows.append(
                {
                    "anchor": members[a],
                    "negative": members[b],
                    "tanimoto": float(similarity[a, b]),
                    "batch": start // batch_size,
                }
            )
    table = pd.DataFrame(rows, columns=["anchor", "negative", "tanimoto", "batch"])
    return table.sort_values("tanimoto", ascending=False, ignore_index=True)


def activity_cliffs(smiles, labels, threshold: float = 0.7) -> pd.DataFrame:
    """Pairs of very similar molecules (ECFP4 Tanimoto >= threshold) with opposite labels.

    Where "similar input, similar embedding" (what contrastive pre-training asks for) meets a
    label that says otherwise. ``labels``: one 0/1 label per molecule (NaN rows are skipped).
    Returns ``first, second, tanimoto, first_label, second_label``, most similar first.
    Taught in ``notebooks/06_contrastive``.
    """
    labels = np.asarray(labels, dtype=float)
    keep = [i for i in range(len(smiles)) if np.isfinite(labels[i])]
    similarity = tanimoto_matrix(_fingerprints([smiles[i] for i in keep])).triu(diagonal=1)
    rows = []
    for a, b in (similarity >= threshold).nonzero().tolist():
        i, j = keep[a], keep[b]
        if labels[i] != labels[j]:
            rows.append(
                {
                    "first": smiles[i],
                    "second": smiles[j],
                    "tanimoto": float(similarity[a, b]),
                    "first_label": int(labels[i]),
                    "second_label": int(labels[j]),
                }
            )
    table = pd.DataFrame(
        rows, columns=["first", "second", "tanimoto", "first_label", "second_label"]
    )
    return table.sort_values("tanimoto", ascending=False, ignore_index=True)


__all__ = ["activity_cliffs", "add_fingerprints", "near_duplicate_negatives", "tanimoto_matrix"]
