r"""Context prediction (Hu et al., ICLR 2020, *Strategies for Pre-training Graph Neural Networks*).

An atom :math:`v` is seen twice. Its **substructure** is the :math:`K`-hop neighbourhood
around it (:math:`K` = the encoder's ``num_layer``), which the main GNN turns into
:math:`h_v^{(K)}`, the node representation at :math:`v`. Its **context** is the ring of atoms
at distance :math:`r_1 < d(v, u) \le r_2` from it, with :math:`r_1 = K - 1` and
:math:`r_2 = r_1 + \text{context\_size}`, cut out as a graph of its own and encoded by a
second, auxiliary GNN. The two views share the **anchor** atoms :math:`A_v` (those in both,
i.e. at distance exactly :math:`K`); the context vector is the pooled context-GNN output over
them, :math:`c_v = \mathrm{mean}_{u \in A_v}\, g(u)`. The task is to tell a molecule's own
context from the contexts of other molecules in the batch (negatives by a cyclic shift
:math:`\pi_s(v)`, :math:`s = 1..S`):

.. math::
    \mathcal{L} = \frac{1}{B} \sum_{v} \Big[ -\log \sigma\big(h_v^{(K)\top} c_v\big)
    - \sum_{s=1}^{S} \log\Big(1 - \sigma\big(h_v^{(K)\top} c_{\pi_s(v)}\big)\Big) \Big]

i.e. ``BCE(pos, 1) + S * BCE(neg, 0)`` with means, as in ``chem/pretrain_contextpred.py`` of
``snap-stanford/pretrain-gnns`` ("cbow" mode). Only the main encoder is kept for fine-tuning.

One center atom is drawn per molecule and epoch; a molecule whose context ring or anchor set
is empty for that center is skipped (``transform`` returns ``None``), as in the paper.
:func:`context_views` gives the three atom sets for a chosen center, the very sets the
training transform uses, so a figure shows exactly what training sees.

Taught in ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph, subgraph

from cpmkit.models.encoders import NODE_POOLS
from cpmkit.models.gnn import GNN
from cpmkit.pretrain.base import Strategy, binary_pair_loss, cycle_index

POOLINGS = NODE_POOLS  # mean, sum or max over the anchor atoms

# keys whose values index the substructure's / the context's atoms (offset when batching)
_SUBSTRUCT_INDEX_KEYS = ("edge_index_substruct", "center_substruct_idx")
_CONTEXT_INDEX_KEYS = ("edge_index_context", "overlap_context_idx")


class ContextViews(NamedTuple):
    """Atom indices (of the whole molecule, ascending) of the views around ``center``."""

    center: int
    substruct: torch.Tensor  # distance <= K
    context: torch.Tensor  # r1 < distance <= r2
    anchors: torch.Tensor  # in both: r1 < distance <= K


def _ball(center: int, hops: int, edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Boolean mask of the atoms within ``hops`` bonds of ``center`` (none for ``hops < 0``)."""
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    if hops >= 0:
        subset, *_ = k_hop_subgraph(center, hops, edge_index, num_nodes=num_nodes)
        mask[subset] = True
    return mask


def context_views(data: Data, center: int, num_layer: int, context_size: int = 3) -> ContextViews:
    r"""The substructure, context and anchor atoms around ``center`` in one molecule graph.

    Parameters
    ----------
    data : Data
        A molecule graph (``x``, ``edge_index``; e.g. from ``cpmkit.featurize.graph_hu.hu_graph``).
    center : int
        The center atom's index.
    num_layer : int
        :math:`K`, the main encoder's number of layers: the substructure is the ``K``-hop
        neighbourhood and the context starts after :math:`r_1 = K - 1` hops.
    context_size : int
        Width of the context ring: :math:`r_2 = r_1 + \text{context\_size}`.

    Returns
    -------
    ContextViews
        ``(center, substruct, context, anchors)``, index tensors into ``data``'s atoms. The
        context or the anchors may be empty (training then skips the molecule).

    Taught in ``notebooks/05_context_prediction`` (the figure of the three views).
    """
    num_nodes = data.num_nodes
    if not 0 <= center < num_nodes:
        raise IndexError(f"center {center} is not an atom of a {num_nodes}-atom graph")
    r1 = num_layer - 1
    r2 = r1 + context_size
    edge_index = data.edge_index
    substruct = _ball(center, num_layer, edge_index, num_nodes)
    context = _ball(center, r2, edge_index, num_nodes) & ~_ball(center, r1, edge_index, num_nodes)
    anchors = context & substruct
    substruct, context, anchors = (
        mask.nonzero().view(-1) for mask in (substruct, context, anchors)
    )
    return ContextViews(center, substruct, context, anchors)


class SubstructContextPair(Data):
    """One molecule's two views, batched by PyG's default ``Batch.from_data_list``.

    Attributes: ``x_substruct``, ``edge_index_substruct``, ``edge_attr_substruct``,
    ``center_substruct_idx`` (the center within the substructure), ``x_context``,
    ``edge_index_context``, ``edge_attr_context``, ``overlap_context_idx`` (the anchors within
    the context). ``num_nodes`` is the substructure's size, so a batch's ``batch`` vector maps
    substructure atoms to molecules and ``num_graphs`` counts molecules.
    """

    def __inc__(self, key: str, value: Any, *args, **kwargs) -> Any:
        # each index must be shifted by the size of *its own* graph, not by num_nodes
        if key in _SUBSTRUCT_INDEX_KEYS:
            return self.x_substruct.size(0)
        if key in _CONTEXT_INDEX_KEYS:
            return self.x_context.size(0)
        return super().__inc__(key, value, *args, **kwargs)


def _induced(data: Data, atoms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x, edge_index, edge_attr)`` of the subgraph on ``atoms`` (ascending), relabelled."""
    edge_index, edge_attr = subgraph(
        atoms, data.edge_index, data.edge_attr, relabel_nodes=True, num_nodes=data.num_nodes
    )
    return data.x[atoms], edge_index, edge_attr


def substruct_context_pair(
    data: Data, center: int, num_layer: int, context_size: int = 3
) -> SubstructContextPair | None:
    """The training input for one molecule and center, or ``None`` if it has nothing to predict.

    ``None`` when the context ring or the anchor set is empty (a small molecule, or a center
    near its middle). Edges keep their order, so both directions of a bond stay adjacent.
    Taught in ``notebooks/05_context_prediction``.
    """
    views = context_views(data, center, num_layer, context_size)
    if views.context.numel() == 0 or views.anchors.numel() == 0:
        return None
    x_sub, edge_index_sub, edge_attr_sub = _induced(data, views.substruct)
    x_ctx, edge_index_ctx, edge_attr_ctx = _induced(data, views.context)
    # both index lists are ascending, so a position is a rank: searchsorted relabels
    center_idx = torch.searchsorted(views.substruct, torch.tensor([center]))
    anchor_idx = torch.searchsorted(views.context, views.anchors)
    return SubstructContextPair(
        x_substruct=x_sub,
        edge_index_substruct=edge_index_sub,
        edge_attr_substruct=edge_attr_sub,
        center_substruct_idx=center_idx,
        x_context=x_ctx,
        edge_index_context=edge_index_ctx,
        edge_attr_context=edge_attr_ctx,
        overlap_context_idx=anchor_idx,
        num_nodes=x_sub.size(0),
    )


class ContextPrediction(Strategy):
    """Hu et al.'s context prediction around any Hu-style GNN ``encoder`` (see module docs).

    Parameters
    ----------
    encoder : GNN
        The main encoder (its ``num_layer`` is :math:`K`); kept for fine-tuning.
    context_size : int
        :math:`r_2 - r_1`, also the depth of the auxiliary context GNN (3 in the paper).
    neg_samples : int
        Negative contexts per positive, taken from the other molecules of the batch by cyclic
        shifts 1..``neg_samples``. In a batch of ``B`` molecules the shifts wrap modulo
        ``B - 1`` so that a molecule is never its own negative; a batch of one molecule has no
        negatives (only the positive term is left).
    context_pooling : str
        ``"mean"`` (paper), ``"sum"`` or ``"max"`` over the anchor atoms.

    The context GNN has the encoder's ``gnn_type``, ``emb_dim``, ``JK`` and dropout. Taught in
    ``notebooks/05_context_prediction``.
    """

    name = "contextpred"
    follow_batch = ("overlap_context_idx",)

    def __init__(
        self,
        encoder: nn.Module,
        context_size: int = 3,
        neg_samples: int = 1,
        context_pooling: str = "mean",
    ):
        super().__init__(encoder)
        if context_pooling not in POOLINGS:
            raise ValueError(
                f"unknown context_pooling {context_pooling!r}; choose one of {tuple(POOLINGS)}"
            )
        if context_size < 1 or neg_samples < 1:
            raise ValueError("context_size and neg_samples must be >= 1")
        for attribute in ("num_layer", "emb_dim", "gnn_type"):
            if not hasattr(encoder, attribute):
                raise TypeError(f"the encoder needs a {attribute!r} attribute (a Hu et al. GNN)")
        self.context_size = context_size
        self.neg_samples = neg_samples
        self.context_pooling = context_pooling
        self.k = encoder.num_layer
        self.r1 = self.k - 1
        self.r2 = self.r1 + context_size
        self.context_gnn = GNN(
            num_layer=self.r2 - self.r1,
            emb_dim=encoder.emb_dim,
            JK=getattr(encoder, "JK", "last"),
            drop_ratio=getattr(encoder, "drop_ratio", 0.0),
            gnn_type=encoder.gnn_type,
        )
        out_dims = (getattr(encoder, "out_dim", encoder.emb_dim), self.context_gnn.out_dim)
        if out_dims[0] != out_dims[1]:
            # JK="concat" widens with depth; the dot product needs equal widths
            raise ValueError(
                f"substructure and context vectors differ in width {out_dims}; with JK='concat' "
                "use context_size == num_layer"
            )

    def transform(self, data: Data) -> SubstructContextPair | None:
        """A random center atom (torch's global RNG) and the molecule's two views, or None."""
        if data.num_nodes == 0:
            return None
        center = int(torch.randint(data.num_nodes, (1,)))
        return substruct_context_pair(data, center, self.k, self.context_size)

    def representations(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(substructure vectors h_v, context vectors c_v)``, one row per molecule."""
        node_rep = self.encoder(
            batch.x_substruct, batch.edge_index_substruct, batch.edge_attr_substruct
        )
        substruct_rep = node_rep[batch.center_substruct_idx]
        context_nodes = self.context_gnn(
            batch.x_context, batch.edge_index_context, batch.edge_attr_context
        )
        anchors = context_nodes[batch.overlap_context_idx]
        context_rep = POOLINGS[self.context_pooling](
            anchors, batch.overlap_context_idx_batch, size=substruct_rep.size(0)
        )
        return substruct_rep, context_rep

    def negative_shifts(self, num: int) -> list[int]:
        """The cyclic shifts giving the negatives of a batch of ``num`` molecules (never 0)."""
        if num < 2:
            return []
        return [1 + (s - 1) % (num - 1) for s in range(1, self.neg_samples + 1)]

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        substruct_rep, context_rep = self.representations(batch)
        num = substruct_rep.size(0)
        pred_pos = (substruct_rep * context_rep).sum(dim=1)
        shifts = self.negative_shifts(num)
        if not shifts:  # one molecule: no other context to be a negative
            loss_pos = F.binary_cross_entropy_with_logits(pred_pos, torch.ones_like(pred_pos))
            acc_pos = (pred_pos > 0).float().mean()
            return loss_pos, {"acc": float(acc_pos), "loss_pos": float(loss_pos.detach())}
        neg_context = torch.cat(
            [context_rep[cycle_index(num, s).to(context_rep.device)] for s in shifts]
        )
        pred_neg = (substruct_rep.repeat(len(shifts), 1) * neg_context).sum(dim=1)
        pair = binary_pair_loss(pred_pos, pred_neg)
        acc_pos = pair.pos_right.float().mean()
        acc = 0.5 * (acc_pos + pair.neg_right.float().mean())
        loss = pair.pos + self.neg_samples * pair.neg
        logs = {"acc": acc, "loss_pos": pair.pos, "loss_neg": pair.neg}
        return loss, {key: float(value.detach()) for key, value in logs.items()}

    def hparams(self) -> dict[str, Any]:
        return {
            "context_size": self.context_size,
            "neg_samples": self.neg_samples,
            "context_pooling": self.context_pooling,
            "r1": self.r1,
            "r2": self.r2,
            "k": self.k,
        }


__all__ = [
    "ContextPrediction",
    "ContextViews",
    "SubstructContextPair",
    "context_views",
    "cycle_index",
    "substruct_context_pair",
]
