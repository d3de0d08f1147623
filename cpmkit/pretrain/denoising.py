r"""Denoising pre-training on 3D conformers (the survey's section 2.7, the 3D side).

A conformer is perturbed and the network learns to undo the perturbation, reading only the
perturbed geometry. Three methods, one class each, any geometry encoder of the kit
(:class:`~cpmkit.models.geometric.SchNetEncoder`, :class:`~cpmkit.models.unimol.UniMolEncoder`):

- :class:`CoordinateDenoising` (Zaidi et al., ICLR 2023): :math:`\tilde x = x + \sigma
  \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, I)`; an equivariant head predicts
  :math:`\varepsilon` per atom, :math:`\mathcal L = \lVert \hat\varepsilon(\tilde x) -
  \varepsilon \rVert^2`. When the clean conformers are minima of an energy :math:`E`, the best
  predictor is :math:`\sigma\,\nabla_{\tilde x}\log p_\sigma(\tilde x)` up to sign: the score
  of the Gaussian-smoothed Boltzmann distribution, i.e. a force field learnt without energies
  (denoising score matching, Vincent 2011).
- :class:`UniMolDenoising` (Zhou et al., ICLR 2023): 15% of the atoms lose their element (the
  mask type) and their coordinates get uniform noise in :math:`[-1, 1]` Angstrom; the model
  recovers the element (cross-entropy), the coordinates and the pair distances (smooth L1).
- :class:`DistanceDenoising` (Liu et al., ICLR 2023, GeoSSL's SE(3)-invariant denoising
  distance matching): coordinates perturbed at a noise level drawn from a ladder, and an
  invariant head predicts, per atom pair, the score of the perturbed distance
  :math:`(d_{ij} - \tilde d_{ij})/\sigma` (the score times :math:`\sigma`, the usual
  :math:`\lambda(\sigma) = \sigma^2` weighting of denoising score matching).

Deviations from the papers, named: the kit's conformers are ETKDGv3 + MMFF94 heavy-atom
geometries of MOSES molecules (Zaidi et al.: DFT geometries of PCQM4Mv2 with hydrogens; Uni-Mol:
19M RDKit conformers, 10 per molecule; GeoSSL: PCQM4Mv2 / Molecule3D); the encoders are small
(SchNet 3 x 64, Uni-Mol 3 x 64); the noise prediction is standardised (the head predicts
:math:`\varepsilon`, the authors' code the noise :math:`\sigma\varepsilon`, the same objective
scaled by :math:`1/\sigma^2`); no denoising during fine-tuning (Zaidi et al.'s Noisy Nodes
auxiliary loss); Uni-Mol's masked atoms all take the mask type (BERT's 80/10/10 rule not used)
and its coordinate and distance heads are one equivariant head whose predicted coordinates give
the distances (Uni-Mol: a separate pair head); GeoSSL's noise ladder is ours (10 levels from
0.01 to 1 Angstrom by default) and its pairs are those within the cutoff of the perturbed
conformer. Taught in ``notebooks/08_denoising``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn.models.schnet import GaussianSmearing

from cpmkit.models.geometric import EquivariantVectorHead, radius_graph_dense
from cpmkit.models.unimol import MASK_TYPE, NUM_ATOM_TYPES
from cpmkit.pretrain.base import Strategy


def _same_molecule_pairs(batch_index: torch.Tensor, rows: torch.Tensor):
    """Every ordered pair ``(i, j)``, ``i != j``, of one molecule with ``i`` in ``rows``."""
    same = batch_index[rows].view(-1, 1) == batch_index.view(1, -1)
    same[torch.arange(rows.numel(), device=rows.device), rows] = False
    first, second = torch.nonzero(same, as_tuple=True)
    return rows[first], second


class CoordinateDenoising(Strategy):
    """Zaidi et al.'s coordinate denoising: predict the Gaussian noise added to every atom.

    Parameters
    ----------
    encoder
        A geometry encoder (``encoder(z, pos, batch)`` -> atom vectors).
    noise_scale
        :math:`\\sigma` in Angstrom (Zaidi et al. use 0.04 on PCQM4Mv2; their ablation spans
        0.005 to 1).
    cutoff
        Neighbour radius of the equivariant noise head.

    ``transform`` stores the clean coordinates as ``pos_clean`` and the standard noise as
    ``noise`` and hands the model ``pos = pos_clean + noise_scale * noise``.
    """

    name = "coord_denoising"
    input_family = "geometry"

    def __init__(self, encoder: nn.Module, noise_scale: float = 0.04, cutoff: float = 5.0):
        super().__init__(encoder)
        if noise_scale <= 0:
            raise ValueError(f"noise_scale must be > 0, got {noise_scale}")
        self.noise_scale, self.cutoff = float(noise_scale), float(cutoff)
        self.head = EquivariantVectorHead(encoder.out_dim, cutoff=cutoff)

    def transform(self, data):
        noise = torch.randn_like(data.pos)
        data.pos_clean = data.pos
        data.noise = noise
        data.pos = data.pos + self.noise_scale * noise
        return data

    def predict_noise(self, z, pos, batch) -> torch.Tensor:
        """The head's estimate of the standard noise per atom, ``(num_atoms, 3)``."""
        return self.head(self.encoder(z, pos, batch), pos, batch)

    def loss(self, batch):
        predicted = self.predict_noise(batch.z, batch.pos, batch.batch)
        loss = noise_loss(predicted, batch.noise)
        cosine = F.cosine_similarity(predicted, batch.noise, dim=-1).mean()
        return loss, {"cos": cosine.item()}

    def hparams(self):
        return {"noise_scale": self.noise_scale, "cutoff": self.cutoff}


def noise_loss(predicted: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Mean squared error per coordinate: zero exactly when the prediction is the noise."""
    return F.mse_loss(predicted, noise)


class UniMolDenoising(Strategy):
    """Uni-Mol's pre-training: masked atom types plus noisy coordinates of those atoms.

    ``transform`` picks ``max(1, round(mask_rate * n))`` atoms, stores ``z_target``,
    ``pos_clean`` and ``masked`` (bool per atom), sets the picked atoms' type to the mask type
    and moves them by uniform noise in ``[-noise, noise]`` Angstrom per axis. ``loss`` =
    cross-entropy on the masked types + ``coord_weight`` x smooth L1 of the recovered
    coordinates of the masked atoms + ``dist_weight`` x smooth L1 of the distances from each
    masked atom to the others of its molecule.
    """

    name = "unimol"
    input_family = "geometry"

    def __init__(self, encoder: nn.Module, mask_rate: float = 0.15, noise: float = 1.0,
                 coord_weight: float = 1.0, dist_weight: float = 1.0, cutoff: float = 8.0,
                 ):  # fmt: skip
        super().__init__(encoder)
        if not 0.0 < mask_rate <= 1.0:
            raise ValueError(f"mask_rate must be in (0, 1], got {mask_rate}")
        self.mask_rate, self.noise = float(mask_rate), float(noise)
        self.coord_weight, self.dist_weight, self.cutoff = coord_weight, dist_weight, cutoff
        self.atom_head = nn.Linear(encoder.out_dim, NUM_ATOM_TYPES)
        self.coord_head = EquivariantVectorHead(encoder.out_dim, cutoff=cutoff)

    def transform(self, data):
        n = data.z.numel()
        picked = torch.randperm(n)[: max(1, round(self.mask_rate * n))]
        masked = torch.zeros(n, dtype=torch.bool)
        masked[picked] = True
        data.z_target, data.pos_clean, data.masked = data.z, data.pos, masked
        data.z = data.z.masked_fill(masked, MASK_TYPE)
        shift = (torch.rand(n, 3) * 2 - 1) * self.noise
        data.pos = data.pos + shift * masked.unsqueeze(-1)
        return data

    def predict(self, z, pos, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Atom-type logits ``(N, 119)`` and recovered coordinates ``(N, 3)``."""
        h = self.encoder(z, pos, batch)
        return self.atom_head(h), pos + self.coord_head(h, pos, batch)

    def geometry_losses(self, coords: torch.Tensor, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Smooth L1 of the masked atoms' coordinates and of their distances (zero when
        ``coords`` are the clean coordinates)."""
        masked = batch.masked
        coord = F.smooth_l1_loss(coords[masked], batch.pos_clean[masked])
        i, j = _same_molecule_pairs(batch.batch, torch.nonzero(masked).view(-1))
        if i.numel() == 0:
            return coord, coords.sum() * 0.0
        predicted = (coords[i] - coords[j]).norm(dim=-1)
        clean = (batch.pos_clean[i] - batch.pos_clean[j]).norm(dim=-1)
        return coord, F.smooth_l1_loss(predicted, clean)

    def loss(self, batch):
        logits, coords = self.predict(batch.z, batch.pos, batch.batch)
        masked = batch.masked
        atom = F.cross_entropy(logits[masked], batch.z_target[masked])
        coord, dist = self.geometry_losses(coords, batch)
        total = atom + self.coord_weight * coord + self.dist_weight * dist
        accuracy = (logits[masked].argmax(-1) == batch.z_target[masked]).float().mean()
        return total, {"atom": atom.item(), "coord": coord.item(), "dist": dist.item(),
                       "acc": accuracy.item()}  # fmt: skip

    def hparams(self):
        return {"mask_rate": self.mask_rate, "noise": self.noise,
                "coord_weight": self.coord_weight, "dist_weight": self.dist_weight,
                "cutoff": self.cutoff}  # fmt: skip


def noise_ladder(sigma_min: float, sigma_max: float, levels: int) -> torch.Tensor:
    """``levels`` noise scales spaced evenly in log from ``sigma_max`` down to ``sigma_min``."""
    return torch.exp(torch.linspace(math.log(sigma_max), math.log(sigma_min), levels))


class DistanceDenoising(Strategy):
    """GeoSSL's distance denoising: match the score of perturbed pairwise distances.

    ``transform`` draws one level :math:`\\sigma` of :func:`noise_ladder` per molecule and
    perturbs every coordinate by :math:`\\sigma\\varepsilon`. For each pair within ``cutoff``
    in the perturbed conformer, an invariant head reads ``[h_i + h_j, gaussians(d~_ij),
    log sigma]`` and predicts :math:`(d_{ij} - \\tilde d_{ij})/\\sigma`; the loss is the mean
    squared error (:func:`distance_score_targets` gives the targets).
    """

    name = "geossl_distance"
    input_family = "geometry"

    def __init__(self, encoder: nn.Module, sigma_min: float = 0.01, sigma_max: float = 1.0,
                 levels: int = 10, cutoff: float = 5.0, num_gaussians: int = 32):  # fmt: skip
        super().__init__(encoder)
        self.sigma_min, self.sigma_max, self.levels = sigma_min, sigma_max, int(levels)
        self.cutoff = float(cutoff)
        self.register_buffer("sigmas", noise_ladder(sigma_min, sigma_max, levels))
        self.expansion = GaussianSmearing(0.0, cutoff, num_gaussians)
        dim = encoder.out_dim
        self.score_head = nn.Sequential(
            nn.Linear(dim + num_gaussians + 1, dim), nn.SiLU(), nn.Linear(dim, 1)
        )

    def transform(self, data):
        sigma = self.sigmas[torch.randint(self.levels, (1,))]
        data.pos_clean = data.pos
        data.sigma = sigma.view(1)
        data.pos = data.pos + sigma * torch.randn_like(data.pos)
        return data

    def pairs(self, batch):
        """Pairs within the cutoff of the perturbed conformer and their perturbed distances."""
        return radius_graph_dense(batch.pos, batch.batch, self.cutoff)

    def predict_scores(self, batch, edge_index, noisy_dist) -> torch.Tensor:
        h = self.encoder(batch.z, batch.pos, batch.batch)
        src, dst = edge_index
        log_sigma = batch.sigma[batch.batch[dst]].log().unsqueeze(-1)
        features = torch.cat([h[src] + h[dst], self.expansion(noisy_dist), log_sigma], dim=-1)
        return self.score_head(features).squeeze(-1)

    def loss(self, batch):
        edge_index, noisy_dist = self.pairs(batch)
        target = distance_score_targets(batch, edge_index, noisy_dist)
        predicted = self.predict_scores(batch, edge_index, noisy_dist)
        return F.mse_loss(predicted, target), {"pairs": float(edge_index.size(1))}

    def hparams(self):
        return {"sigma_min": self.sigma_min, "sigma_max": self.sigma_max,
                "levels": self.levels, "cutoff": self.cutoff}  # fmt: skip


def distance_score_targets(batch, edge_index, noisy_dist) -> torch.Tensor:
    """:math:`(d_{ij} - \\tilde d_{ij})/\\sigma` per pair: sigma times the score of the
    perturbed distance under a Gaussian perturbation of width sigma."""
    src, dst = edge_index
    clean = (batch.pos_clean[src] - batch.pos_clean[dst]).norm(dim=-1)
    return (clean - noisy_dist) / batch.sigma[batch.batch[dst]]


__all__ = [
    "CoordinateDenoising",
    "DistanceDenoising",
    "UniMolDenoising",
    "distance_score_targets",
    "noise_ladder",
    "noise_loss",
]
