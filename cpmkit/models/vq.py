r"""Mole-BERT's vector quantiser: a codebook split by element, with a straight-through gradient.

Mole-BERT (Xia et al., ICLR 2023) replaces the ~119 atom types, few and dominated by carbon, by
a larger vocabulary of *context-aware* atom codes: a GNN encodes each atom in its molecule,
and the atom's code is the nearest codebook vector,

.. math::
    z_v = \arg\min_{k \in K(t_v)} \lVert e_v - c_k \rVert_2 ,

where the search is limited to the codes :math:`K(t_v)` reserved for the atom's element
:math:`t_v`: in the authors' ``vqvae.py`` (512 codes) carbon gets codes 0-376, nitrogen 378-432,
oxygen 434-487 and every other element 489-510 (the four codes between the ranges are never
used). :func:`element_code_ranges` scales these ranges to a smaller codebook. The loss of the
quantiser is the VQ-VAE's codebook term plus :math:`\beta` times the commitment term,

.. math::
    \mathcal{L}_{VQ} = \lVert \mathrm{sg}[e_v] - c_{z_v} \rVert^2
                     + \beta \lVert e_v - \mathrm{sg}[c_{z_v}] \rVert^2, \qquad \beta = 0.25,

and what goes on to the decoder is :math:`e_v + \mathrm{sg}[c_{z_v} - e_v]`: the code's value
forward, the identity backward (the straight-through estimator), so the reconstruction loss
trains the encoder. Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Mole-BERT's ranges in its 512-code book, ``[start, stop)`` per element group
MOLEBERT_RANGES_512: dict[str, tuple[int, int]] = {
    "C": (0, 377),
    "N": (378, 433),
    "O": (434, 488),
    "other": (489, 511),
}
#: the element groups' atom-type indices (atomic number - 1, the Hu et al. scheme)
GROUP_TYPES: dict[str, int] = {"C": 5, "N": 6, "O": 7}


def element_code_ranges(num_tokens: int = 512) -> dict[str, tuple[int, int]]:
    """Mole-BERT's element ranges, scaled to ``num_tokens`` codes (exact at 512).

    Each group keeps at least one code, so ``num_tokens`` must be at least 8.
    """
    if num_tokens < 8:
        raise ValueError(f"need at least 8 codes for four element groups, got {num_tokens}")
    scale = num_tokens / 512
    ranges = {}
    for group, (start, stop) in MOLEBERT_RANGES_512.items():
        lo = round(start * scale)
        ranges[group] = (lo, max(lo + 1, round(stop * scale)))
    return ranges


def element_groups(atom_type: torch.Tensor) -> dict[str, torch.Tensor]:
    """Boolean masks of the atoms of each group (C, N, O, other) from ``x[:, 0]``."""
    masks = {group: atom_type == index for group, index in GROUP_TYPES.items()}
    masks["other"] = ~(masks["C"] | masks["N"] | masks["O"])
    return masks


class ElementVectorQuantizer(nn.Module):
    """A codebook of ``num_tokens`` vectors of width ``dim``, searched within each element's range.

    ``forward(atom_type, e)`` returns ``(quantized, codes, loss)``: the straight-through
    quantized vectors (``e``'s gradient passes unchanged), the code index of every atom, and
    the VQ loss (codebook + ``commitment_cost`` x commitment, mean squared errors as the
    authors' code). The codebook starts as ``nn.Embedding``'s N(0, 1), as theirs.
    """

    def __init__(self, dim: int, num_tokens: int = 512, commitment_cost: float = 0.25):
        super().__init__()
        self.dim = dim
        self.num_tokens = num_tokens
        self.commitment_cost = float(commitment_cost)
        self.ranges = element_code_ranges(num_tokens)
        self.embeddings = nn.Embedding(num_tokens, dim)

    @torch.no_grad()
    def code_indices(self, atom_type: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """The nearest code of each atom among its element's codes."""
        codes = torch.zeros(e.size(0), dtype=torch.long, device=e.device)
        weight = self.embeddings.weight
        for group, mask in element_groups(atom_type).items():
            if not mask.any():
                continue
            start, stop = self.ranges[group]
            codes[mask] = torch.cdist(e[mask], weight[start:stop]).argmin(1) + start
        return codes

    def forward(self, atom_type: torch.Tensor, e: torch.Tensor):
        codes = self.code_indices(atom_type, e)
        quantized = self.embeddings(codes)
        codebook_loss = F.mse_loss(quantized, e.detach())
        commitment_loss = F.mse_loss(e, quantized.detach())
        loss = codebook_loss + self.commitment_cost * commitment_loss
        straight_through = e + (quantized - e).detach()
        return straight_through, codes, loss

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_tokens={self.num_tokens}, ranges={self.ranges}"


__all__ = [
    "GROUP_TYPES",
    "MOLEBERT_RANGES_512",
    "ElementVectorQuantizer",
    "element_code_ranges",
    "element_groups",
]
