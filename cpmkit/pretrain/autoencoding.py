r"""Autoencoding on graphs: Hu et al.'s edge prediction (survey section 2.1).

The encoder's atom vectors must reconstruct the molecule's adjacency: a bonded pair scores
high, a random non-bonded pair low (a graph autoencoder with an inner-product decoder, as in
GraphSAGE's unsupervised loss and Hu et al.'s ``pretrain_edgepred.py``):

.. math::
    \mathcal{L}_{\mathrm{EP}} = -\frac{1}{|E^+|}\sum_{(u,v) \in E^+} \log \sigma(h_u^\top h_v)
        - \frac{1}{|E^-|}\sum_{(u,v) \in E^-} \log\big(1 - \sigma(h_u^\top h_v)\big)

:math:`E^+` holds every bond once; :math:`E^-` holds as many distinct non-bonded atom pairs
of the same molecule, drawn uniformly (Hu et al.'s ``NegativeEdge`` draws ``|E|/2`` of them,
``|E|`` counting both directions). Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cpmkit.pretrain.base import Strategy


def negative_edges(data, oversample: int = 5):
    """Add ``negative_edge_index``: distinct non-bonded atom pairs of one molecule.

    Draws ``oversample * E`` random ordered pairs (torch's global generator), drops self pairs,
    bonded pairs and repeats (keeping the first draw), and keeps the first ``E / 2``, as Hu et
    al.'s ``NegativeEdge``. A molecule without room for them (one atom, or every pair bonded)
    gets fewer, possibly none. Taught in ``notebooks/04_masked_components``.
    """
    data = data.clone()
    n, num_edges = data.num_nodes, data.edge_index.size(1)
    want = num_edges // 2
    pairs = torch.randint(0, n, (2, max(oversample * num_edges, 1)))
    code = pairs[0] * n + pairs[1]
    bonded = data.edge_index[0] * n + data.edge_index[1]
    ok = (pairs[0] != pairs[1]) & ~torch.isin(code, bonded)
    position = ok.nonzero().view(-1)
    unique, inverse = torch.unique(code[position], return_inverse=True)
    # first draw of each distinct pair, in draw order
    first = torch.full((unique.numel(),), position.numel(), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(position.numel()), reduce="amin")
    keep = position[first.sort().values[:want]]
    data.negative_edge_index = pairs[:, keep]
    return data


class EdgePrediction(Strategy):
    """Tell bonded atom pairs from random non-bonded pairs by the inner product of their vectors.

    Taught in ``notebooks/04_masked_components``.
    """

    name = "edgepred"

    def transform(self, data):
        return negative_edges(data)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        pos = batch.edge_index[:, ::2]  # each bond once
        neg = batch.negative_edge_index
        pos_score = (nodes[pos[0]] * nodes[pos[1]]).sum(dim=1)
        neg_score = (nodes[neg[0]] * nodes[neg[1]]).sum(dim=1)
        loss = F.binary_cross_entropy_with_logits(pos_score, torch.ones_like(pos_score))
        loss = loss + F.binary_cross_entropy_with_logits(neg_score, torch.zeros_like(neg_score))
        correct = torch.cat([pos_score > 0, neg_score < 0]).float().mean()
        return loss, {"acc": correct.item()}


__all__ = ["EdgePrediction", "negative_edges"]
