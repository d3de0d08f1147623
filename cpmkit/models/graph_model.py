r"""Graph-level prediction: Hu et al.'s encoder, a pooling of its atoms, a linear head.

.. math::
    \hat{y}_G = W \, \mathrm{pool}\{h_v : v \in G\} + b

as ``GNN_graphpred`` in ``snap-stanford/pretrain-gnns`` (pooling ``mean``, ``sum`` or ``max``;
the head is a single Linear called ``graph_pred_linear``, so a fine-tuned model of the original
code loads into :class:`GraphPredictor` by the same keys). Taught in
``notebooks/11_property_prediction``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cpmkit.config import ConfigDict
from cpmkit.models.encoders import NODE_POOLS
from cpmkit.models.gnn import GNN

POOLS = NODE_POOLS  # the encoder contract's table, by its older name


@dataclass
class GNNConfig(ConfigDict):
    """The encoder and pooling of a :class:`GraphPredictor` (defaults: Hu et al.'s fine-tuning).

    ``drop_ratio=0.5`` is the fine-tuning dropout of the paper; the published weights were
    pre-trained with their own dropout, which does not matter for loading them.
    Taught in ``notebooks/11_property_prediction``.
    """

    num_layer: int = 5
    emb_dim: int = 300
    JK: str = "last"
    drop_ratio: float = 0.5
    gnn_type: str = "gin"
    pool: str = "mean"

    def build_gnn(self) -> GNN:
        """A fresh :class:`~cpmkit.models.gnn.GNN` with this config."""
        return GNN(self.num_layer, self.emb_dim, self.JK, self.drop_ratio, self.gnn_type)


class GraphPredictor(nn.Module):
    """GNN encoder + graph pooling + ``Linear`` head -> one logit (or value) per task.

    Parameters
    ----------
    gnn : GNNConfig or GNN
        A config to build the encoder from, or an encoder (e.g. one with pre-trained weights).
    num_tasks : int
        Number of outputs (12 for Tox21, 1 for BBBP ...).
    pool : str, optional
        ``"mean"``, ``"sum"`` or ``"max"``; default: ``gnn.pool`` for a config, else ``"mean"``.

    Attributes: ``gnn``, ``pool`` (the pooling function), ``pool_name``, ``head`` (alias of
    ``graph_pred_linear``), ``num_tasks``. Taught in ``notebooks/11_property_prediction``.
    """

    def __init__(self, gnn: GNNConfig | GNN, num_tasks: int, pool: str | None = None):
        super().__init__()
        if isinstance(gnn, GNNConfig):
            pool = pool or gnn.pool
            gnn = gnn.build_gnn()
        elif not isinstance(gnn, GNN):
            raise TypeError(f"gnn must be a GNNConfig or a GNN, got {type(gnn).__name__}")
        pool = pool or "mean"
        if pool not in POOLS:
            raise ValueError(f"unknown pool {pool!r}; choose one of {tuple(POOLS)}")
        if num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
        self.gnn = gnn
        self.pool_name = pool
        self.pool = POOLS[pool]
        self.num_tasks = num_tasks
        self.graph_pred_linear = nn.Linear(gnn.out_dim, num_tasks)

    @property
    def head(self) -> nn.Linear:
        """The linear prediction head (Hu et al.'s ``graph_pred_linear``)."""
        return self.graph_pred_linear

    @property
    def config(self) -> GNNConfig:
        """The :class:`GNNConfig` that rebuilds this architecture."""
        g = self.gnn
        return GNNConfig(g.num_layer, g.emb_dim, g.JK, g.drop_ratio, g.gnn_type, self.pool_name)

    def embed(self, batch) -> torch.Tensor:
        """Pooled graph embeddings (B, gnn.out_dim), e.g. for an embedding map."""
        nodes = self.gnn(batch.x, batch.edge_index, batch.edge_attr)
        index = getattr(batch, "batch", None)
        if index is None:  # a single Data, not a Batch
            index = torch.zeros(nodes.size(0), dtype=torch.long, device=nodes.device)
        return self.pool(nodes, index)

    def forward(self, batch) -> torch.Tensor:
        """Logits (or regression values) of shape (B, num_tasks)."""
        return self.graph_pred_linear(self.embed(batch))


__all__ = ["GNNConfig", "GraphPredictor", "POOLS"]
