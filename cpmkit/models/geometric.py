"""A 3D encoder: PyG's SchNet fed by a pure-torch radius graph.

SchNet (Schütt et al., NeurIPS 2017) updates atom vectors with continuous-filter convolutions,

.. math:: h_v \\leftarrow h_v + \\sum_{u:\\,\\lVert r_u-r_v\\rVert<c} h_u \\odot
          W\\big(e(\\lVert r_u-r_v\\rVert)\\big),

where :math:`e` expands a distance in Gaussians and :math:`c` is the cutoff. PyG 2.8's
``radius_graph`` needs ``pyg-lib``, which is not on PyPI, so the neighbour list is built here with
``torch.cdist`` inside each molecule (molecules are small, so the dense block per batch is cheap).
Per-atom 3D targets (the noise of coordinate denoising, forces) need outputs that *rotate with*
the molecule rather than stay unchanged: :class:`EquivariantVectorHead` makes one 3-vector per
atom as a sum of the directions to its neighbours weighted by invariant numbers,

.. math:: \\vec v_i = \\sum_{j:\\,d_{ij}<c} w(h_i, h_j, e(d_{ij}))\\,
          \\frac{\\vec r_i-\\vec r_j}{d_{ij}},

which turns with a rotation of the positions and does not move with a translation (the scalar
weights read invariant things only; the directions carry the geometry). :class:`GeometryPredictor`
pools the atom vectors for molecule-level targets and keeps the encoder as ``encoder`` (the
encoder contract, so ``finetune(..., model_factory=...)`` loads pre-trained weights into it).
Taught in ``notebooks/01_descriptors`` and ``notebooks/08_denoising``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import global_add_pool, global_mean_pool
from torch_geometric.nn.models import SchNet
from torch_geometric.nn.models.schnet import GaussianSmearing


def radius_graph_dense(pos: torch.Tensor, batch: torch.Tensor, cutoff: float):
    """Edges between distinct atoms of the same molecule closer than ``cutoff`` (Angstrom).

    Returns ``(edge_index, edge_weight)`` as SchNet's ``interaction_graph`` expects.
    """
    dist = torch.cdist(pos, pos)
    same_molecule = batch.view(-1, 1) == batch.view(1, -1)
    not_self = ~torch.eye(pos.size(0), dtype=torch.bool, device=pos.device)
    src, dst = torch.nonzero(same_molecule & not_self & (dist < cutoff), as_tuple=True)
    return torch.stack([src, dst]), dist[src, dst]


class RadiusGraph(nn.Module):
    """Callable neighbour list for SchNet's ``interaction_graph=`` argument."""

    def __init__(self, cutoff: float):
        super().__init__()
        self.cutoff = cutoff

    def forward(self, pos: torch.Tensor, batch: torch.Tensor):
        return radius_graph_dense(pos, batch, self.cutoff)


class SchNetEncoder(nn.Module):
    """SchNet's atom vectors (embedding + interaction blocks, no readout): a geometry encoder.

    ``forward(z, pos, batch)`` -> ``(num_atoms, out_dim)``, invariant to rotations and
    translations of ``pos`` (it reads distances only), as :mod:`cpmkit.models.encoders` asks.
    The modules are PyG's own (``SchNet.embedding``, ``distance_expansion``, ``interactions``).
    """

    family = "geometry"

    def __init__(
        self,
        hidden_channels: int = 64,
        num_interactions: int = 3,
        num_gaussians: int = 50,
        cutoff: float = 5.0,
    ):
        super().__init__()
        schnet = SchNet(hidden_channels=hidden_channels, num_filters=hidden_channels,
                        num_interactions=num_interactions, num_gaussians=num_gaussians,
                        cutoff=cutoff)  # fmt: skip
        self.embedding, self.distance_expansion = schnet.embedding, schnet.distance_expansion
        self.interactions = schnet.interactions
        self.neighbours = RadiusGraph(cutoff)
        self.out_dim = hidden_channels

    def forward(self, z: torch.Tensor, pos: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        edge_index, edge_weight = self.neighbours(pos, batch)
        edge_attr = self.distance_expansion(edge_weight)
        h = self.embedding(z)
        for interaction in self.interactions:
            h = h + interaction(h, edge_index, edge_weight, edge_attr)
        return h


class EquivariantVectorHead(nn.Module):
    """One 3-vector per atom from invariant atom vectors and the positions (rotates with them).

    ``forward(h, pos, batch)`` -> ``(num_atoms, 3)``: for every neighbour ``j`` within ``cutoff``
    an MLP reads ``[h_i, h_j, gaussians(d_ij)]`` (invariant) and weighs the unit vector from
    ``j`` to ``i``; the weighted directions are summed. A rotation ``R`` of ``pos`` gives
    ``R`` times the output, a translation changes nothing. With ``out_channels > 1`` it returns
    ``(num_atoms, out_channels, 3)``. The readout of the "sum of edge directions weighted by
    invariant features" kind (as PaiNN's and TorchMD-NET's vector outputs are equivariant by
    construction, this one is by the same argument, at the cost of one MLP per edge).
    """

    def __init__(self, in_dim: int, hidden: int = 64, num_gaussians: int = 32,
                 cutoff: float = 5.0, out_channels: int = 1):  # fmt: skip
        super().__init__()
        self.cutoff, self.out_channels = cutoff, out_channels
        self.expansion = GaussianSmearing(0.0, cutoff, num_gaussians)
        self.mlp = nn.Sequential(
            nn.Linear(2 * in_dim + num_gaussians, hidden),
            nn.SiLU(),
            nn.Linear(hidden, out_channels),
        )

    def forward(self, h: torch.Tensor, pos: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        (src, dst), dist = radius_graph_dense(pos, batch, self.cutoff)
        weight = self.mlp(torch.cat([h[dst], h[src], self.expansion(dist)], dim=-1))
        direction = (pos[dst] - pos[src]) / dist.clamp(min=1e-6).unsqueeze(-1)
        edge_vectors = weight.unsqueeze(-1) * direction.unsqueeze(1)  # (E, C, 3)
        out = h.new_zeros(h.size(0), self.out_channels, 3)
        out.index_add_(0, dst, edge_vectors)
        return out.squeeze(1) if self.out_channels == 1 else out


class GeometryPredictor(nn.Module):
    """A geometry encoder, pooled over atoms, then an MLP: ``(num_graphs, num_tasks)`` outputs.

    ``target_mean`` / ``target_std`` (per task, from the training split) put the outputs on the
    targets' scale, so the network learns standardised numbers (buffers, not trained). The
    encoder is the attribute ``encoder``: what ``finetune(pretrained=..., model_factory=...)``
    loads strictly. Taught in ``notebooks/08_denoising``.
    """

    def __init__(self, encoder: nn.Module, num_tasks: int = 1, pool: str = "sum",
                 target_mean=None, target_std=None):  # fmt: skip
        super().__init__()
        if pool not in ("sum", "mean"):
            raise ValueError(f"pool must be 'sum' or 'mean', got {pool!r}")
        self.encoder, self.pool = encoder, pool
        dim = encoder.out_dim
        self.head = nn.Sequential(
            nn.Linear(dim, dim // 2), nn.SiLU(), nn.Linear(dim // 2, num_tasks)
        )
        mean = torch.zeros(num_tasks) if target_mean is None else torch.as_tensor(target_mean)
        std = torch.ones(num_tasks) if target_std is None else torch.as_tensor(target_std)
        self.register_buffer("target_mean", mean.float().view(1, -1))
        self.register_buffer("target_std", std.float().view(1, -1))

    def forward(self, batch) -> torch.Tensor:
        atoms = self.encoder(batch.z, batch.pos, batch.batch)
        pool = global_add_pool if self.pool == "sum" else global_mean_pool
        pooled = pool(atoms, batch.batch, size=batch.num_graphs)
        return self.head(pooled) * self.target_std + self.target_mean


class SchNetPredictor(nn.Module):
    """SchNet over ``batch.z`` / ``batch.pos``, returning ``(num_graphs, num_tasks)`` outputs.

    PyG's SchNet ends in one scalar per molecule; for several tasks we keep its interaction blocks
    and pool the atom vectors ourselves, then apply a linear head per task.
    """

    def __init__(
        self,
        num_tasks: int = 1,
        hidden_channels: int = 64,
        num_interactions: int = 3,
        num_gaussians: int = 50,
        cutoff: float = 5.0,
    ):
        super().__init__()
        self.schnet = SchNet(
            hidden_channels=hidden_channels,
            num_filters=hidden_channels,
            num_interactions=num_interactions,
            num_gaussians=num_gaussians,
            cutoff=cutoff,
            interaction_graph=RadiusGraph(cutoff),
            readout="add",
        )
        # SchNet's own output layers map hidden -> hidden/2 -> 1; the last becomes our head
        self.schnet.lin2 = nn.Linear(hidden_channels // 2, num_tasks)

    def forward(self, batch) -> torch.Tensor:
        out = self.schnet(batch.z, batch.pos, batch.batch)
        return out.view(batch.num_graphs, -1)
