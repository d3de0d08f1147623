r"""Uni-Mol's backbone at CPU size: a Transformer over atoms whose attention reads distances.

Uni-Mol (Zhou et al., ICLR 2023) encodes a conformer with no bonds at all: every atom attends to
every other atom of its molecule, and the attention score of a pair gets a bias computed from
their distance,

.. math:: a_{ij} = \frac{q_i \cdot k_j}{\sqrt{d}} + b_{ij}, \qquad
          b_{ij} = \mathrm{MLP}\Big(\big[\mathcal{N}(\gamma_{t_{ij}}\,d_{ij} + \beta_{t_{ij}};
          \mu_k, \sigma_k)\big]_{k=1..K}\Big),

where :math:`t_{ij}` is the pair of atom types (a learnt scale :math:`\gamma` and shift
:math:`\beta` per pair type) and the :math:`K` Gaussians have learnt centres and widths -- the
authors' ``GaussianLayer`` and ``NonLinearHead`` (``unimol/models/unimol.py``), one bias per
attention head. Distances only, so the atom vectors are invariant to rotations and translations.

Deviations from the paper, named: a few layers of width 64 (the paper: 15 x 512, 64 heads,
K = 128 Gaussians); the pair bias is computed once and shared by all layers (Uni-Mol updates the
pair representation with each layer's attention logits); PyTorch's ``nn.MultiheadAttention``
with the bias as a float ``attn_mask``; no ``[CLS]`` atom (molecule vectors come from pooling,
the kit's encoder contract); hydrogens as the conformer carries them (the kit's conformers are
heavy-atom only, as Uni-Mol's fine-tuning without hydrogens). ``unimol-tools`` downloads its
weights at run time, so it cannot be this kit's dependency. Taught in ``notebooks/08_denoising``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.utils import to_dense_batch

#: atom-type vocabulary: index 0 is the mask token, 1..118 the elements
NUM_ATOM_TYPES = 119
MASK_TYPE = 0


class GaussianPairBasis(nn.Module):
    """``K`` Gaussians of a pair-type-scaled distance, with learnt centres and widths."""

    def __init__(self, num_kernels: int = 32, num_types: int = NUM_ATOM_TYPES):
        super().__init__()
        self.num_types = num_types
        self.means = nn.Parameter(torch.empty(num_kernels).uniform_(0.0, 3.0))
        self.stds = nn.Parameter(torch.empty(num_kernels).uniform_(0.0, 3.0))
        self.mul = nn.Embedding(num_types * num_types, 1)
        self.bias = nn.Embedding(num_types * num_types, 1)
        nn.init.constant_(self.mul.weight, 1.0)
        nn.init.constant_(self.bias.weight, 0.0)

    def forward(self, dist: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """``dist`` ``(B, L, L)``, ``types`` ``(B, L)`` -> ``(B, L, L, K)``."""
        pair = types.unsqueeze(-1) * self.num_types + types.unsqueeze(-2)
        x = self.mul(pair).squeeze(-1) * dist + self.bias(pair).squeeze(-1)
        std = self.stds.abs() + 1e-2
        z = (x.unsqueeze(-1) - self.means) / std
        return torch.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * std)


class UniMolLayer(nn.Module):
    """Pre-norm self-attention (with the pair bias) and feed-forward, both residual."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        x = x + self.attention(y, y, y, attn_mask=bias, need_weights=False)[0]
        return x + self.ffn(self.norm2(x))


class UniMolEncoder(nn.Module):
    """Atoms of a conformer through distance-biased self-attention (geometry family).

    ``forward(z, pos, batch)`` -> ``(num_atoms, out_dim)`` as :mod:`cpmkit.models.encoders`
    asks; ``z == 0`` is the mask token (Uni-Mol's masked atom). ``pair_features(z, pos,
    batch)`` returns the Gaussian pair basis of each molecule's atom pairs (what a coordinate
    head reads).
    """

    family = "geometry"

    def __init__(self, hidden: int = 64, num_layers: int = 3, heads: int = 4,
                 num_kernels: int = 32, dropout: float = 0.0):  # fmt: skip
        super().__init__()
        self.heads, self.out_dim, self.num_kernels = heads, hidden, num_kernels
        self.embedding = nn.Embedding(NUM_ATOM_TYPES, hidden)
        self.basis = GaussianPairBasis(num_kernels)
        self.bias_head = nn.Sequential(
            nn.Linear(num_kernels, num_kernels), nn.GELU(), nn.Linear(num_kernels, heads)
        )
        self.layers = nn.ModuleList(UniMolLayer(hidden, heads, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(hidden)

    def _dense(self, z, pos, batch):
        types, mask = to_dense_batch(z, batch, fill_value=MASK_TYPE)
        coords, _ = to_dense_batch(pos, batch)
        return types, coords, mask

    def pair_features(self, z, pos, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, L, L, K)`` Gaussian features of every atom pair and the ``(B, L)`` atom mask."""
        types, coords, mask = self._dense(z, pos, batch)
        return self.basis(torch.cdist(coords, coords), types), mask

    def forward(self, z: torch.Tensor, pos: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        types, coords, mask = self._dense(z, pos, batch)
        gauss = self.basis(torch.cdist(coords, coords), types)
        bias = self.bias_head(gauss).permute(0, 3, 1, 2)  # (B, H, L, L)
        bias = bias.masked_fill(~mask[:, None, None, :], float("-inf"))
        bias = bias.reshape(-1, mask.size(1), mask.size(1))  # (B * H, L, L): head-major per mol
        x = self.embedding(types)
        for layer in self.layers:
            x = layer(x, bias)
        return self.norm(x)[mask]


__all__ = ["MASK_TYPE", "NUM_ATOM_TYPES", "GaussianPairBasis", "UniMolEncoder", "UniMolLayer"]
