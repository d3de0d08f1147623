r"""The encoder contract: what every encoder takes and returns, so any strategy, any head and
any downstream harness (fine-tuning, DTI, DDI) can take any encoder of the kit.

An encoder maps one batch of molecules to **one vector per element** (atom or token), has an
attribute ``out_dim`` (the width of that vector) and an attribute ``family``. A pooled vector
per molecule comes from :func:`embed`, never from the encoder itself, so a strategy that needs
the elements (masking, denoising, cross-scale contrast) and one that needs molecules (same-scale
contrast, supervised heads) use the same encoder.

========== =========================================== ======================================
family     called as                                   returns
========== =========================================== ======================================
graph      ``encoder(x, edge_index, edge_attr)``       atom vectors ``(num_atoms, out_dim)``;
           (Hu et al. scheme, or ``encoder(batch)``)   pooled by ``batch.batch``
geometry   ``encoder(z, pos, batch)``                  atom vectors ``(num_atoms, out_dim)``,
           (atomic numbers, coordinates in Angstrom,   invariant to rotations and
           molecule index of each atom)                translations; pooled by ``batch``
sequence   ``encoder(input_ids, attention_mask)``      token vectors ``(B, L, out_dim)``;
           (``(B, L)`` each, right padding)            pooled over real tokens (mean or the
                                                       first token, ``<s>``)
========== =========================================== ======================================

Members: :class:`cpmkit.models.gnn.GNN` (graph),
:class:`cpmkit.models.geometric.SchNetEncoder` (geometry) and :class:`SequenceEncoder` around
any HuggingFace encoder such as ChemBERTa's ``RobertaModel`` (sequence). Each encoder's state
dict is what a pre-training part file holds (``<part>.pt``), and a model built for fine-tuning
keeps its encoder as the attribute ``encoder`` (or ``gnn`` for Hu et al.'s predictor, by the
published keys), which is where ``finetune(pretrained=..., part=...)`` loads it.
Taught in ``notebooks/01_descriptors`` (the three descriptors) and used from lesson 04 on.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

FAMILIES = ("graph", "geometry", "sequence")
NODE_POOLS = {"mean": global_mean_pool, "sum": global_add_pool, "max": global_max_pool}
TOKEN_POOLS = ("mean", "cls")


def pool_tokens(states: torch.Tensor, attention_mask: torch.Tensor, how: str = "mean"):
    """``(B, L, D)`` token vectors -> ``(B, D)``: the mean over real tokens, or the first one."""
    if how not in TOKEN_POOLS:
        raise ValueError(f"token pooling must be one of {TOKEN_POOLS}, got {how!r}")
    if how == "cls":
        return states[:, 0]
    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def family_of(encoder: nn.Module) -> str:
    """The encoder's ``family`` attribute, checked."""
    family = getattr(encoder, "family", None)
    if family not in FAMILIES:
        raise TypeError(
            f"{type(encoder).__name__} does not state its family (one of {FAMILIES}); see "
            "cpmkit.models.encoders for the encoder contract"
        )
    return family


def encode(encoder: nn.Module, batch) -> torch.Tensor:
    """Element vectors of ``batch`` (atoms or tokens) by the encoder's family."""
    family = family_of(encoder)
    if family == "graph":
        return encoder(batch.x, batch.edge_index, batch.edge_attr)
    if family == "geometry":
        return encoder(batch.z, batch.pos, batch.batch)
    return encoder(batch.input_ids, batch.attention_mask)


def embed(encoder: nn.Module, batch, pool: str = "mean") -> torch.Tensor:
    """One vector per molecule, ``(num_molecules, out_dim)``, for any encoder of the contract.

    ``pool``: ``"mean"``, ``"sum"`` or ``"max"`` over atoms; ``"mean"`` or ``"cls"`` over
    tokens. Taught in ``notebooks/01_descriptors``.
    """
    vectors = encode(encoder, batch)
    if family_of(encoder) == "sequence":
        return pool_tokens(vectors, batch.attention_mask, pool)
    if pool not in NODE_POOLS:
        raise ValueError(f"atom pooling must be one of {tuple(NODE_POOLS)}, got {pool!r}")
    return NODE_POOLS[pool](vectors, batch.batch, size=batch.num_graphs)


class SequenceEncoder(nn.Module):
    """A HuggingFace encoder (``RobertaModel``, a BART encoder ...) under the contract.

    ``forward(input_ids, attention_mask)`` returns ``last_hidden_state`` ``(B, L, out_dim)``;
    the state dict is the wrapped model's own, under ``model.``.
    """

    family = "sequence"

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    @property
    def out_dim(self) -> int:
        """The hidden size of the wrapped model."""
        return int(self.model.config.hidden_size)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


__all__ = [
    "FAMILIES",
    "NODE_POOLS",
    "SequenceEncoder",
    "embed",
    "encode",
    "family_of",
    "pool_tokens",
]
