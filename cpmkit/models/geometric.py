"""A 3D encoder: PyG's SchNet fed by a pure-torch radius graph.

SchNet (Schütt et al., NeurIPS 2017) updates atom vectors with continuous-filter convolutions,

.. math:: h_v \\leftarrow h_v + \\sum_{u:\\,\\lVert r_u-r_v\\rVert<c} h_u \\odot
          W\\big(e(\\lVert r_u-r_v\\rVert)\\big),

where :math:`e` expands a distance in Gaussians and :math:`c` is the cutoff. PyG 2.8's
``radius_graph`` needs ``pyg-lib``, which is not on PyPI, so the neighbour list is built here with
``torch.cdist`` inside each molecule (molecules are small, so the dense block per batch is cheap).
Taught in ``notebooks/01_descriptors``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn.models import SchNet


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
