r"""GEM's geometry-level self-supervised tasks: a 2D encoder learns to predict 3D geometry.

GEM (Fang et al., *Geometry-enhanced molecular representation learning for property
prediction*, Nat. Mach. Intell. 2022) treats a molecule's conformer as *knowledge* the encoder
should absorb: from the atom vectors :math:`h` of a graph encoder it predicts

.. math::
    \hat\ell_{ij} = \mathrm{MLP}_\ell([h_i, h_j]), \quad
    \hat\theta_{ijk} = \mathrm{MLP}_\theta([h_i, h_j, h_k]), \quad
    \hat p_{ij} = \mathrm{softmax}\,\mathrm{MLP}_d([h_i, h_j])

and minimises

.. math::
    \mathcal{L} = \overline{\mathrm{SmoothL1}(\hat\ell_{ij}, \ell_{ij})}
                + \overline{\mathrm{SmoothL1}(\hat\theta_{ijk}, \theta_{ijk}/\pi)}
                + \overline{\mathrm{CE}(\hat p_{ij}, \mathrm{bin}(d_{ij}))}

over every bond (length :math:`\ell`, Angstrom), every pair of bonds sharing an atom (angle
:math:`\theta` at the shared atom :math:`j`, regressed as :math:`\theta/\pi`) and every ordered
atom pair of a molecule (distance :math:`d` clipped at 20 A, in ``num_bins`` classes). These
are the ``Blr``, ``Bar`` and ``Adc`` tasks of PaddleHelix's ``GeoPredModel``; the labels come
from :mod:`cpmkit.featurize.geometry` on the kit's ``hu3d`` graphs (ETKDGv3 + MMFF94
conformers, as GEM's ``mol_to_geognn_graph_data_MMFF3d``). Nothing 3D is an *input*: at
fine-tuning time the encoder reads the 2D graph alone.

Deviations from GEM, named:

- **Encoder.** GEM's GeoGNN runs two graphs in turn, the atom-bond graph and a bond-angle
  graph whose nodes are bonds, with bond lengths and angles as *input features* of the
  pre-training forward pass. Here the kit's Hu et al. GIN reads the 2D graph only, so the
  geometry is a target and never an input; the fine-tuned encoder is the same GIN as every
  other lesson's.
- **Masked view.** GEM also encodes a copy with masked sub-structures and adds the same losses
  on it; here only the unmasked graph is encoded.
- **Other tasks.** GEM pre-trains the geometry tasks together with its context masking
  (``Cm``) and fingerprint (``Fg``) tasks; here only the three geometry tasks.
- **Heads.** Two-layer MLPs of width ``emb_dim`` (GEM: ``hidden_size``, with its own
  activation and dropout); the distance classifier has ``num_bins + 1`` outputs (a distance of
  20 A or more falls in bin ``num_bins``; GEM's head has ``num_bins + 3``, two never a target).

Taught in ``notebooks/09_knowledge_enriched``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cpmkit.featurize.geometry import MAX_DISTANCE, geometry_labels
from cpmkit.pretrain.base import Strategy

#: GEM's three geometry tasks (PaddleHelix names)
GEM_TASKS = ("bond_length", "bond_angle", "distance")


def _mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


class GEMGeometry(Strategy):
    """GEM's bond-length, bond-angle and binned-distance prediction from a 2D encoder.

    Parameters
    ----------
    encoder : GNN
        The graph encoder (``encoder(x, edge_index, edge_attr)`` -> atom vectors).
    tasks : sequence of str
        Any of ``GEM_TASKS`` (default all three, summed with weight 1 as in GEM).
    num_bins : int
        Distance classes below 20 A (default 30).

    The corpus must carry ``pos`` in the atom order of ``x`` (scheme ``"hu3d"``). Logged:
    each task's loss, the bond-length and angle mean absolute errors (Angstrom, degrees) and
    the distance-bin accuracy. See the module docstring for the deviations from GEM.
    """

    name = "gem_geometry"
    input_family = "graph"

    def __init__(self, encoder, tasks=GEM_TASKS, num_bins: int = 30):
        super().__init__(encoder)
        tasks = tuple(dict.fromkeys(tasks))
        unknown = [t for t in tasks if t not in GEM_TASKS]
        if not tasks or unknown:
            raise ValueError(f"tasks must be a non-empty subset of {GEM_TASKS}, got {tasks}")
        if num_bins < 1:
            raise ValueError("num_bins must be >= 1")
        self.tasks, self.num_bins = tasks, int(num_bins)
        dim = encoder.out_dim
        self.heads = nn.ModuleDict()
        if "bond_length" in tasks:
            self.heads["bond_length"] = _mlp(2 * dim, dim, 1)
        if "bond_angle" in tasks:
            self.heads["bond_angle"] = _mlp(3 * dim, dim, 1)
        if "distance" in tasks:
            self.heads["distance"] = _mlp(2 * dim, dim, self.num_bins + 1)

    def loss(self, batch):
        if getattr(batch, "pos", None) is None:
            raise ValueError("GEM's tasks need conformers: load the corpus with scheme='hu3d'")
        h = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        labels = geometry_labels(batch, self.num_bins)
        losses, logs = {}, {}
        if "bond_length" in self.tasks:
            src, dst = batch.edge_index
            pred = self.heads["bond_length"](torch.cat([h[src], h[dst]], 1)).squeeze(1)
            losses["bond_length"] = F.smooth_l1_loss(pred, labels["bond_length"])
            logs["length_mae"] = (pred - labels["bond_length"]).abs().mean().item()
        if "bond_angle" in self.tasks and labels["angle_triples"].size(1):
            i, j, k = labels["angle_triples"]
            pred = self.heads["bond_angle"](torch.cat([h[i], h[j], h[k]], 1)).squeeze(1)
            target = labels["bond_angle"] / torch.pi
            losses["bond_angle"] = F.smooth_l1_loss(pred, target)
            logs["angle_mae_deg"] = 180.0 * (pred - target).abs().mean().item()
        if "distance" in self.tasks:
            a, b = labels["pairs"]
            logits = self.heads["distance"](torch.cat([h[a], h[b]], 1))
            losses["distance"] = F.cross_entropy(logits, labels["distance_bin"])
            hit = logits.argmax(1) == labels["distance_bin"]
            logs["distance_acc"] = hit.float().mean().item()
        for name, value in losses.items():
            logs[f"{name}_loss"] = value.item()
        return sum(losses.values()), logs

    def hparams(self):
        return {"tasks": list(self.tasks), "num_bins": self.num_bins, "max_distance": MAX_DISTANCE}


__all__ = ["GEM_TASKS", "GEMGeometry"]
