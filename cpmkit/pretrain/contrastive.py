r"""Contrastive learning: graph-level infomax, the survey's cross-scale contrast (section 2.5).

Deep Graph Infomax (Veličković et al. 2019) for molecules, as Hu et al.'s
``pretrain_deepgraphinfomax.py``: an atom and the summary of its own molecule form a positive
pair, the same atom and the summary of another molecule in the batch a negative one,

.. math::
    s_G = \sigma\Big(\tfrac{1}{|G|}\sum_{v \in G} h_v\Big), \qquad
    \mathcal{L} = -\sum_{v} \Big[\log D(h_v, s_{G(v)}) + \log\big(1 - D(h_v, s_{G'(v)})\big)\Big]

with a bilinear discriminator :math:`D(h, s) = \sigma(h^\top W s)` and :math:`G'` the next
molecule of the batch (a cyclic shift, so a negative never comes from the same molecule).
Taught in ``notebooks/06_contrastive`` (and as a Table 1 row in ``05_context_prediction``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import global_mean_pool

from cpmkit.pretrain.base import Strategy, binary_pair_loss, cycle_index


class GraphInfomax(Strategy):
    """Maximise agreement between atom vectors and their own molecule's summary.

    Taught in ``notebooks/06_contrastive``.
    """

    name = "infomax"

    def __init__(self, encoder: nn.Module):
        super().__init__(encoder)
        self.discriminator = nn.Bilinear(encoder.out_dim, encoder.out_dim, 1, bias=False)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        summary = torch.sigmoid(global_mean_pool(nodes, batch.batch))
        other = summary[cycle_index(summary.size(0))]
        pos = self.discriminator(nodes, summary[batch.batch]).view(-1)
        neg = self.discriminator(nodes, other[batch.batch]).view(-1)
        pair = binary_pair_loss(pos, neg)
        return pair.pos + pair.neg, {"acc": pair.accuracy()}


__all__ = ["GraphInfomax"]
