r"""Graph-level supervised multi-task pre-training (Hu et al., ICLR 2020, their second stage).

After node-level pre-training (context prediction or attribute masking), Hu et al. train the
encoder to predict many binary assays at once from the pooled graph vector, then keep only the
encoder. With pooled embedding :math:`h_G = \mathrm{pool}\{h_v : v \in G\}`, a linear head
:math:`\hat{y}_G = W h_G + b \in \mathbb{R}^T` and the set of labels that were measured
:math:`\mathcal{M} = \{(G, t) : y_{G,t} \text{ present}\}`, the objective is the masked binary
cross-entropy

.. math::
    \mathcal{L} = -\frac{1}{|\mathcal{M}|} \sum_{(G,t) \in \mathcal{M}}
        \Big[ y_{G,t} \log \sigma(\hat{y}_{G,t}) + (1 - y_{G,t}) \log\big(1 - \sigma(\hat{y}_{G,t})
        \big) \Big],

i.e. a missing label (NaN) neither helps nor hurts.

The paper used 456K ChEMBL molecules with 1,310 assays, which the offline data mirror does not
hold; :func:`cpmkit.data.supervised_corpus.supervised_corpus` builds the leak-free stand-in.
Taught in ``notebooks/05_context_prediction`` (the lesson compares Supervised + ContextPred).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cpmkit.models.graph_model import POOLS
from cpmkit.pretrain.base import Strategy


# -- the objective ---------------------------------------------------------------------------
def masked_bce_with_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy over the labels that are present (``y`` NaN = missing).

    Written as Hu et al. do (a loss matrix times a 0/1 mask, divided by the number of present
    labels), so a batch with no label gives a zero loss that still touches every parameter, and
    the logit of a missing label gets exactly zero gradient. Taught in
    ``notebooks/05_context_prediction``.
    """
    present = ~torch.isnan(y)
    losses = F.binary_cross_entropy_with_logits(
        logits, torch.nan_to_num(y, nan=0.0), reduction="none"
    )
    return (losses * present).sum() / present.sum().clamp(min=1)


class SupervisedPretraining(Strategy):
    """Many binary assays predicted from the pooled graph vector (Hu et al.'s supervised stage).

    Parameters
    ----------
    encoder
        A node encoder called as ``encoder(x, edge_index, edge_attr) -> (N, out_dim)``, e.g.
        :class:`cpmkit.models.gnn.GNN` (often one already pre-trained by context prediction).
    num_tasks
        Number of assays ``T`` (``len(corpus.tasks)``); each graph's ``y`` is float ``(1, T)``
        with NaN for an assay that did not test the molecule.
    pool
        ``"mean"``, ``"sum"`` or ``"max"`` (PyG's ``global_*_pool``); Hu et al. used mean.

    The head is one ``Linear`` named ``graph_pred_linear`` as in Hu et al.'s ``GNN_graphpred``;
    only the encoder is kept for fine-tuning. ``loss`` logs ``n_labels``, the number of present
    labels in the batch. Taught in ``notebooks/05_context_prediction``.
    """

    name = "supervised"

    def __init__(self, encoder: nn.Module, num_tasks: int, pool: str = "mean"):
        super().__init__(encoder)
        if pool not in POOLS:
            raise ValueError(f"unknown pool {pool!r}; choose one of {tuple(POOLS)}")
        if int(num_tasks) != num_tasks or num_tasks < 1:
            raise ValueError(f"num_tasks must be a positive integer, got {num_tasks!r}")
        width = getattr(encoder, "out_dim", None) or getattr(encoder, "emb_dim", None)
        if width is None:
            raise TypeError("the encoder needs an `out_dim` (or `emb_dim`) attribute")
        self.num_tasks = int(num_tasks)
        self.pool_name = pool
        self.pool = POOLS[pool]
        self.graph_pred_linear = nn.Linear(int(width), self.num_tasks)

    def logits(self, batch) -> torch.Tensor:
        """One logit per graph and assay, shape ``(B, num_tasks)``."""
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        index = getattr(batch, "batch", None)
        if index is None:  # a single Data, not a Batch
            index = torch.zeros(nodes.size(0), dtype=torch.long, device=nodes.device)
        return self.graph_pred_linear(self.pool(nodes, index))

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        """Masked BCE of :meth:`logits` against ``batch.y`` (NaN labels are ignored)."""
        logits = self.logits(batch)
        y = batch.y.to(logits.dtype)
        if y.shape != logits.shape:
            raise ValueError(
                f"batch.y has shape {tuple(y.shape)} but the head predicts "
                f"{tuple(logits.shape)}: is num_tasks ({self.num_tasks}) the corpus' task count?"
            )
        n_labels = float((~torch.isnan(y)).sum())
        return masked_bce_with_logits(logits, y), {"n_labels": n_labels}

    def hparams(self) -> dict[str, Any]:
        return {"num_tasks": self.num_tasks, "pool": self.pool_name}


__all__ = ["SupervisedPretraining", "masked_bce_with_logits"]
