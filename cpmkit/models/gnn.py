r"""The GNN encoders of Hu et al. (ICLR 2020, *Strategies for Pre-training Graph Neural Networks*).

Four message-passing layers and the 5-layer encoder around them, written on PyG's current
``MessagePassing`` so that the published state_dicts of ``snap-stanford/pretrain-gnns``
(``chem/model_architecture/{gcn,graphsage,gat}_*.pth``, and the ``model_gin/*.pth`` files
by the same key names) load with ``strict=True`` and compute what the original computed.

Every layer first adds a self loop to each atom, with bond features (self-loop type 4,
direction 0), and embeds each bond as
:math:`e_{ij} = E_1[\text{type}_{ij}] + E_2[\text{dir}_{ij}]`.
With :math:`\mathcal{N}(i)` the neighbours of atom :math:`i` *including itself*:

* GIN: :math:`h_i' = \mathrm{MLP}\big(\sum_{j \in \mathcal{N}(i)} (h_j + e_{ij})\big)`,
  MLP = Linear(d, 2d) - ReLU - Linear(2d, d). No ReLU on the message: this is not PyG's
  ``GINEConv``.
* GCN: :math:`h_i' = \sum_{j} \frac{1}{\sqrt{\deg_i \deg_j}} (W h_j + e_{ij})`, degrees counted
  with the self loops.
* GraphSAGE: :math:`h_i' = \mathrm{normalize}_2\big(\mathrm{mean}_{j} (W h_j + e_{ij})\big)`.
* GAT (2 heads): :math:`m_{ij}^k = W^k h_j + e_{ij}^k`,
  :math:`\alpha_{ij}^k = \mathrm{softmax}_j\,
  \mathrm{LeakyReLU}_{0.2}(a^k \cdot [W^k h_i \,\|\, m_{ij}^k])`,
  :math:`h_i' = \frac{1}{K} \sum_k \sum_j \alpha_{ij}^k m_{ij}^k + b`.

Index convention, the one place where a port can silently go wrong: the original ran on PyG
1.0.3, whose ``propagate(aggr, edge_index, ...)`` took ``x_i`` from ``edge_index[0]``, ``x_j`` from
``edge_index[1]`` and summed the messages *into* ``edge_index[0]``. The GAT softmax there is
grouped by ``edge_index[0]``, i.e. by the atom that receives the messages (ordinary GAT). We keep
that convention exactly with ``flow="target_to_source"``; the softmax groups by the aggregation
index, which is ``edge_index[0]``. (Molecular graphs hold both directions of every bond with the
same features, so GIN/GCN/GraphSAGE give the same numbers under either flow; GAT would not on a
directed graph, see ``tests/test_models_gnn.py``.)

Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import add_self_loops, scatter, softmax

# The vocabulary of the published embedding tables. cpmkit.featurize.graph_hu produces inputs
# in it; the numbers are repeated here so that models do not import the featurizers (a test
# checks that the two agree).
NUM_ATOM_TYPE = 120  # atomic number - 1 (0..117), spare rows, 119 = mask
NUM_CHIRALITY_TAG = 3  # unspecified, tetrahedral CW, tetrahedral CCW
NUM_BOND_TYPE = 6  # single, double, triple, aromatic, 4 = self loop, 5 = mask
NUM_BOND_DIRECTION = 3  # none, end-up-right, end-down-right
SELF_LOOP_BOND_INDEX = 4

GNN_TYPES = ("gin", "gcn", "graphsage", "gat")
JK_MODES = ("last", "concat", "max", "sum")


class _HuConv(MessagePassing):
    """Shared plumbing: PyG-1.0 index convention, self loops and the two bond embeddings."""

    def __init__(self, aggr: str, edge_dim: int):
        # target_to_source: x_i = x[edge_index[0]], x_j = x[edge_index[1]], aggregate into
        # edge_index[0] -- the convention of PyG 1.0.3 that the weights were trained under.
        # node_dim=0 because GAT propagates (N, heads, emb) tensors.
        super().__init__(aggr=aggr, flow="target_to_source", node_dim=0)
        self.edge_embedding1 = nn.Embedding(NUM_BOND_TYPE, edge_dim)
        self.edge_embedding2 = nn.Embedding(NUM_BOND_DIRECTION, edge_dim)
        nn.init.xavier_uniform_(self.edge_embedding1.weight.data)
        nn.init.xavier_uniform_(self.edge_embedding2.weight.data)

    def _loops_and_bond_embeddings(self, num_nodes, edge_index, edge_attr):
        """Append one self loop per atom (bond type 4, direction 0) and embed every edge."""
        edge_index, _ = add_self_loops(edge_index, num_nodes=num_nodes)
        loop_attr = torch.zeros(num_nodes, 2, dtype=edge_attr.dtype, device=edge_attr.device)
        loop_attr[:, 0] = SELF_LOOP_BOND_INDEX
        edge_attr = torch.cat([edge_attr, loop_attr], dim=0)
        edge_emb = self.edge_embedding1(edge_attr[:, 0]) + self.edge_embedding2(edge_attr[:, 1])
        return edge_index, edge_emb


class GINConv(_HuConv):
    """Hu et al.'s GIN layer: sum of ``x_j + e_ij`` over neighbours and self, then a 2-layer MLP.

    Keys: ``mlp.0``, ``mlp.2`` (Linear), ``edge_embedding1``, ``edge_embedding2``.
    """

    def __init__(self, emb_dim: int, aggr: str = "add"):
        super().__init__(aggr, emb_dim)
        self.mlp = nn.Sequential(
            nn.Linear(emb_dim, 2 * emb_dim), nn.ReLU(), nn.Linear(2 * emb_dim, emb_dim)
        )

    def forward(self, x, edge_index, edge_attr):
        edge_index, edge_emb = self._loops_and_bond_embeddings(x.size(0), edge_index, edge_attr)
        return self.propagate(edge_index, x=x, edge_attr=edge_emb)

    def message(self, x_j, edge_attr):
        return x_j + edge_attr

    def update(self, aggr_out):
        return self.mlp(aggr_out)


class GCNConv(_HuConv):
    """Hu et al.'s GCN layer: ``linear`` first, then symmetric degree normalisation.

    Degrees are counted over ``edge_index[0]`` after the self loops (as the original did);
    for a molecule both directions are present, so this is the usual undirected degree.
    """

    def __init__(self, emb_dim: int, aggr: str = "add"):
        super().__init__(aggr, emb_dim)
        self.emb_dim = emb_dim
        self.linear = nn.Linear(emb_dim, emb_dim)

    @staticmethod
    def norm(edge_index, num_nodes: int, dtype) -> torch.Tensor:
        """``deg(row)^-1/2 * deg(col)^-1/2`` per edge (self loops already in ``edge_index``)."""
        row, col = edge_index
        ones = torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
        deg = scatter(ones, row, dim=0, dim_size=num_nodes, reduce="sum")
        deg_inv_sqrt = deg.pow(-0.5)
        deg_inv_sqrt[deg_inv_sqrt == float("inf")] = 0
        return deg_inv_sqrt[row] * deg_inv_sqrt[col]

    def forward(self, x, edge_index, edge_attr):
        edge_index, edge_emb = self._loops_and_bond_embeddings(x.size(0), edge_index, edge_attr)
        norm = self.norm(edge_index, x.size(0), x.dtype)
        x = self.linear(x)
        return self.propagate(edge_index, x=x, edge_attr=edge_emb, norm=norm)

    def message(self, x_j, edge_attr, norm):
        return norm.view(-1, 1) * (x_j + edge_attr)


class GraphSAGEConv(_HuConv):
    """Hu et al.'s GraphSAGE layer: ``linear``, mean of ``x_j + e_ij``, then L2 normalisation."""

    def __init__(self, emb_dim: int, aggr: str = "mean"):
        super().__init__(aggr, emb_dim)
        self.emb_dim = emb_dim
        self.linear = nn.Linear(emb_dim, emb_dim)

    def forward(self, x, edge_index, edge_attr):
        edge_index, edge_emb = self._loops_and_bond_embeddings(x.size(0), edge_index, edge_attr)
        x = self.linear(x)
        return self.propagate(edge_index, x=x, edge_attr=edge_emb)

    def message(self, x_j, edge_attr):
        return x_j + edge_attr

    def update(self, aggr_out):
        return F.normalize(aggr_out, p=2, dim=-1)


class GATConv(_HuConv):
    """Hu et al.'s GAT layer: ``heads`` attention heads of width ``emb_dim``, averaged, + ``bias``.

    The bond embedding is added to the neighbour's transformed features *before* attention, and
    the edge embeddings are ``heads * emb_dim`` wide. Keys: ``att`` (1, heads, 2 emb), ``bias``,
    ``weight_linear``, ``edge_embedding1``, ``edge_embedding2``.
    """

    def __init__(self, emb_dim: int, heads: int = 2, negative_slope: float = 0.2, aggr="add"):
        super().__init__(aggr, heads * emb_dim)
        self.emb_dim = emb_dim
        self.heads = heads
        self.negative_slope = negative_slope
        self.weight_linear = nn.Linear(emb_dim, heads * emb_dim)
        self.att = nn.Parameter(torch.empty(1, heads, 2 * emb_dim))
        self.bias = nn.Parameter(torch.empty(emb_dim))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.att)  # = PyG's glorot for this shape
        nn.init.zeros_(self.bias)

    def forward(self, x, edge_index, edge_attr):
        edge_index, edge_emb = self._loops_and_bond_embeddings(x.size(0), edge_index, edge_attr)
        x = self.weight_linear(x).view(-1, self.heads, self.emb_dim)
        return self.propagate(edge_index, x=x, edge_attr=edge_emb)

    def message(self, x_i, x_j, edge_attr, index, ptr, size_i):
        x_j = x_j + edge_attr.view(-1, self.heads, self.emb_dim)
        alpha = (torch.cat([x_i, x_j], dim=-1) * self.att).sum(dim=-1)
        alpha = F.leaky_relu(alpha, self.negative_slope)
        # `index` is edge_index[0] under our flow: the original's softmax grouping.
        alpha = softmax(alpha, index, ptr, size_i)
        return x_j * alpha.view(-1, self.heads, 1)

    def update(self, aggr_out):
        return aggr_out.mean(dim=1) + self.bias


_LAYERS = {"gin": GINConv, "gcn": GCNConv, "graphsage": GraphSAGEConv, "gat": GATConv}


class GNN(nn.Module):
    r"""Hu et al.'s node encoder: atom embeddings, ``num_layer`` conv + BatchNorm blocks, JK.

    .. math::
        h^{(0)}_v = A_1[\text{atom}_v] + A_2[\text{chirality}_v], \qquad
        h^{(l)} = \mathrm{drop}\big(\sigma(\mathrm{BN}(\mathrm{conv}(h^{(l-1)})))\big)

    with :math:`\sigma` = ReLU except after the last layer. The node representation is
    :math:`h^{(L)}` (``JK="last"``), the concatenation of all :math:`h^{(0..L)}` (``"concat"``),
    or their element-wise ``"max"`` / ``"sum"``.

    Parameters
    ----------
    num_layer : int
        Number of message-passing layers (5 in the paper).
    emb_dim : int
        Width of atom, bond and hidden embeddings (300 in the paper).
    JK : str
        ``"last"``, ``"concat"``, ``"max"`` or ``"sum"``. The original's ``"sum"`` ended with a
        stray ``[0]`` and returned node 0's row only; here it returns the (N, emb) sum.
    drop_ratio : float
        Dropout after every layer (active in ``train()`` mode only).
    gnn_type : str
        ``"gin"``, ``"gcn"``, ``"graphsage"`` or ``"gat"``.

    Keys of ``state_dict()``: ``x_embedding1``, ``x_embedding2``, ``gnns.{i}.*``,
    ``batch_norms.{i}.*`` -- the same as the published files. A graph encoder of the contract in
    :mod:`cpmkit.models.encoders`. Taught in ``notebooks/11_property_prediction``.
    """

    family = "graph"

    def __init__(
        self,
        num_layer: int = 5,
        emb_dim: int = 300,
        JK: str = "last",
        drop_ratio: float = 0.0,
        gnn_type: str = "gin",
    ):
        super().__init__()
        if num_layer < 1:
            raise ValueError(f"num_layer must be >= 1, got {num_layer}")
        if gnn_type not in _LAYERS:
            raise ValueError(f"unknown gnn_type {gnn_type!r}; choose one of {GNN_TYPES}")
        if JK not in JK_MODES:
            raise ValueError(f"unknown JK {JK!r}; choose one of {JK_MODES}")
        self.num_layer = num_layer
        self.emb_dim = emb_dim
        self.JK = JK
        self.drop_ratio = drop_ratio
        self.gnn_type = gnn_type

        self.x_embedding1 = nn.Embedding(NUM_ATOM_TYPE, emb_dim)
        self.x_embedding2 = nn.Embedding(NUM_CHIRALITY_TAG, emb_dim)
        nn.init.xavier_uniform_(self.x_embedding1.weight.data)
        nn.init.xavier_uniform_(self.x_embedding2.weight.data)

        self.gnns = nn.ModuleList(_LAYERS[gnn_type](emb_dim) for _ in range(num_layer))
        self.batch_norms = nn.ModuleList(nn.BatchNorm1d(emb_dim) for _ in range(num_layer))

    @property
    def out_dim(self) -> int:
        """Width of the node representation (``(num_layer + 1) * emb_dim`` for JK concat)."""
        return (self.num_layer + 1) * self.emb_dim if self.JK == "concat" else self.emb_dim

    def forward(self, *args):
        """``gnn(batch)`` or ``gnn(x, edge_index, edge_attr)`` -> node vectors (N, out_dim)."""
        if len(args) == 1:
            x, edge_index, edge_attr = args[0].x, args[0].edge_index, args[0].edge_attr
        elif len(args) == 3:
            x, edge_index, edge_attr = args
        else:
            raise TypeError("call gnn(batch) or gnn(x, edge_index, edge_attr)")

        h = self.x_embedding1(x[:, 0]) + self.x_embedding2(x[:, 1])
        h_list = [h]
        for layer in range(self.num_layer):
            h = self.gnns[layer](h_list[layer], edge_index, edge_attr)
            h = self.batch_norms[layer](h)
            if layer < self.num_layer - 1:  # the last layer has no ReLU
                h = F.relu(h)
            h = F.dropout(h, self.drop_ratio, training=self.training)
            h_list.append(h)

        if self.JK == "last":
            return h_list[-1]
        if self.JK == "concat":
            return torch.cat(h_list, dim=1)
        stacked = torch.stack(h_list, dim=0)
        if self.JK == "max":
            return stacked.max(dim=0).values
        return stacked.sum(dim=0)


__all__ = [
    "GATConv",
    "GCNConv",
    "GINConv",
    "GNN",
    "GNN_TYPES",
    "GraphSAGEConv",
    "JK_MODES",
]
