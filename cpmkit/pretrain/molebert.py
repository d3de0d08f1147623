r"""Mole-BERT: masked modelling of context-aware atom codes instead of atom types (section 2.3).

The survey's objection to attribute masking: atom types are few (about 119) and unbalanced
(carbon is ~70% of drug-like atoms), so "predict the masked element" is an easy task with a
strong trivial answer. Mole-BERT (Xia et al., ICLR 2023; code ``junxia97/Mole-BERT``) first
learns a richer vocabulary, then masks and predicts *that*. Two stages, one strategy each:

1. **The tokenizer** (:class:`MoleBERTTokenizer`, ``"molebert_tokenizer"``): a VQ-VAE over
   atoms. A GIN encodes every atom, :class:`~cpmkit.models.vq.ElementVectorQuantizer` snaps
   each atom vector to the nearest code *of its element's range* (carbon gets most codes,
   nitrogen, oxygen and the rest their own), and decoders rebuild the atom type, chirality and
   bond types from the codes:

   .. math:: \mathcal{L}_{tok} = \mathrm{CE}(\mathrm{atom}) + \mathrm{CE}(\mathrm{chirality})
             + \mathrm{CE}(\mathrm{bond}) + \mathcal{L}_{VQ}

   The straight-through estimator passes the reconstruction gradient to the encoder.
2. **Masked code modelling with TMCL** (:class:`MoleBERT`, ``"molebert"``): a *fresh* GIN sees
   two masked views of each molecule (15% and 30% of atoms, with their bonds) and predicts the
   frozen tokenizer's code of every masked atom (and the masked bonds' types), plus the
   triplet masked contrastive term: InfoNCE between the two views' projected graph vectors
   (temperature 0.1, the positive left out of the denominator, as their ``loss_cl``) and a
   triplet loss (margin 0) that keeps the unmasked molecule closer to the 15% view than to the
   30% view:

   .. math:: \mathcal{L} = \mathcal{L}_{MCM}^{(15\%)} + \mathcal{L}_{MCM}^{(30\%)}
             + \mathcal{L}_{CL} + 0.1\,\mathcal{L}_{tri}

``pretrain_recipe("molebert", gnn, corpus, config)`` runs both stages (the second receives the
first's folder as ``tokenizer``) and returns the MCM encoder last.

Deviations from the authors' code, named:

- **Size.** 512 codes and a 5 x 300 GIN in the paper; smaller codebooks scale the element
  ranges proportionally (:func:`~cpmkit.models.vq.element_code_ranges`).
- **Decoders.** Theirs is PReLU, a bias-free linear map and a GIN layer whose MLP ends in the
  output classes; here the kit's GIN layer (width kept) is followed by a linear map to the
  classes. Chirality has the kit's 3 classes (theirs: 4).
- **Stage-2 labels.** As the paper describes and ``vqvae.py`` computes them: the
  element-restricted nearest code of the trained tokenizer's atom vector. The released
  ``pretrain.py`` instead takes the argmax of a ``DiscreteGNN`` whose last GIN layer outputs
  ``num_tokens`` logits, a network that ``vqvae.py``'s saved encoder does not fit.
- **Tokenizer at stage 2.** Run in evaluation mode (BatchNorm's running statistics), so an
  atom's code does not depend on the batch; their script leaves it in training mode.
- **One optimiser.** Adam over all trainable parameters instead of one Adam per head (the same
  settings, so the same updates).

Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cpmkit.featurize.graph_hu import NUM_CHIRALITY_TAG
from cpmkit.models.encoders import NODE_POOLS
from cpmkit.models.gnn import GNN, GINConv
from cpmkit.models.vq import ElementVectorQuantizer
from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.masking import NUM_ATOM_CLASSES, NUM_BOND_CLASSES, mask_atoms


class GNNDecoder(nn.Module):
    """PReLU, a bias-free linear map, one Hu et al. GIN layer, a linear map to the classes."""

    def __init__(self, dim: int, num_classes: int):
        super().__init__()
        self.activation = nn.PReLU()
        self.enc_to_dec = nn.Linear(dim, dim, bias=False)
        self.conv = GINConv(dim)
        self.out = nn.Linear(dim, num_classes)

    def forward(self, h, edge_index, edge_attr):
        h = self.enc_to_dec(self.activation(h))
        return self.out(self.conv(h, edge_index, edge_attr))


class MoleBERTTokenizer(Strategy):
    """Stage 1: the context-aware atom tokenizer, a VQ-VAE over atoms.

    Parameters
    ----------
    encoder : GNN
        The tokenizer's GIN (saved as the part ``tokenizer``).
    num_tokens : int
        Codebook size (Mole-BERT: 512), split by element.
    commitment_cost : float
        :math:`\\beta` of the VQ loss (0.25).
    decode_edges : bool
        Also rebuild bond types from the codes of their two atoms (their ``--edge 1``).

    Parts: ``tokenizer`` (the GIN) and ``codebook`` (the quantiser). Taught in
    ``notebooks/04_masked_components``.
    """

    name = "molebert_tokenizer"

    def __init__(self, encoder: nn.Module, num_tokens: int = 512, commitment_cost: float = 0.25,
                 decode_edges: bool = True):  # fmt: skip
        super().__init__(encoder)
        dim = encoder.out_dim
        self.quantizer = ElementVectorQuantizer(dim, num_tokens, commitment_cost)
        self.atom_decoder = GNNDecoder(dim, NUM_ATOM_CLASSES)
        self.chirality_decoder = GNNDecoder(dim, NUM_CHIRALITY_TAG)
        self.decode_edges = bool(decode_edges)
        self.bond_decoder = nn.Linear(dim, NUM_BOND_CLASSES) if decode_edges else None

    def hparams(self) -> dict:
        return {"num_tokens": self.quantizer.num_tokens,
                "commitment_cost": self.quantizer.commitment_cost,
                "decode_edges": self.decode_edges}  # fmt: skip

    def parts(self) -> dict[str, nn.Module]:
        return {"tokenizer": self.encoder, "codebook": self.quantizer}

    @torch.no_grad()
    def tokenize(self, batch) -> torch.Tensor:
        """The code of every atom of ``batch`` (evaluation mode, left as found)."""
        was_training = self.encoder.training
        self.encoder.eval()
        e = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        self.encoder.train(was_training)
        return self.quantizer.code_indices(batch.x[:, 0], e)

    def loss(self, batch):
        e = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        quantized, codes, vq_loss = self.quantizer(batch.x[:, 0], e)
        atom_logits = self.atom_decoder(quantized, batch.edge_index, batch.edge_attr)
        chirality_logits = self.chirality_decoder(quantized, batch.edge_index, batch.edge_attr)
        recon = F.cross_entropy(atom_logits, batch.x[:, 0])
        recon = recon + F.cross_entropy(chirality_logits, batch.x[:, 1])
        if self.bond_decoder is not None and batch.edge_index.numel():
            u, v = batch.edge_index
            recon = recon + F.cross_entropy(self.bond_decoder(quantized[u] + quantized[v]),
                                            batch.edge_attr[:, 0])  # fmt: skip
        logs = {
            "atom_acc": (atom_logits.argmax(1) == batch.x[:, 0]).float().mean().item(),
            "vq_loss": vq_loss.item(),
            "codes_used": float(codes.unique().numel()),
        }
        return recon + vq_loss, logs


def load_tokenizer(folder: str | Path) -> MoleBERTTokenizer:
    """A trained :class:`MoleBERTTokenizer` from a stage-1 output folder (its two parts)."""
    folder = Path(folder)
    arch = dict(json.loads((folder / "parts.json").read_text())["parts"]["tokenizer"])
    arch.pop("class", None)
    encoder = GNN(**arch)
    encoder.load_state_dict(torch.load(folder / "tokenizer.pt", map_location="cpu",
                                       weights_only=True))  # fmt: skip
    codebook = torch.load(folder / "codebook.pt", map_location="cpu", weights_only=True)
    num_tokens, _ = codebook["embeddings.weight"].shape
    tokenizer = MoleBERTTokenizer(encoder, num_tokens=num_tokens)
    tokenizer.quantizer.load_state_dict(codebook)
    return tokenizer


def masked_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1):
    """Mole-BERT's ``loss_cl``: cosine InfoNCE of view 1 against view 2, the positive left out
    of the denominator (one direction)."""
    sim = torch.exp(F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T / temperature)
    pos = sim.diagonal()
    return -torch.log(pos / (sim.sum(1) - pos)).mean()


def triplet_loss(anchor, positive, negative, margin: float = 0.0) -> torch.Tensor:
    """``mean(max(0, |a - p| - |a - n| + margin))`` with Euclidean distances: torch's
    ``TripletMarginLoss`` (their ``margin=0.0``, which recent torch refuses)."""
    closer = F.pairwise_distance(anchor, positive) - F.pairwise_distance(anchor, negative)
    return F.relu(closer + margin).mean()


class MoleBERT(Strategy):
    """Stage 2: masked code modelling on two masked views, plus the triplet masked contrast.

    Parameters
    ----------
    encoder : GNN
        A fresh GIN, the encoder fine-tuning starts from.
    tokenizer : str, Path or MoleBERTTokenizer
        Stage 1: its output folder (``pretrain_recipe`` passes it) or the trained strategy.
        Frozen here.
    mask_rate1, mask_rate2 : float
        The two views' mask rates (0.15 and 0.30).
    mask_edge : bool
        Also hide and predict the bonds at masked atoms (their default).
    triplet_weight, temperature, margin : float
        TMCL's weight of the triplet term (0.1), InfoNCE temperature (0.1), triplet margin (0).
    pool : str
        Atoms -> molecule for the contrastive terms (their ``global_mean_pool``).

    Taught in ``notebooks/04_masked_components``.
    """

    name = "molebert"
    #: ``pretrain_recipe`` passes the previous stage's output folder under this setting (and
    #: starts this stage's encoder fresh instead of from the previous encoder)
    previous_stage = "tokenizer"

    def __init__(self, encoder: nn.Module, tokenizer=None, mask_rate1: float = 0.15,
                 mask_rate2: float = 0.30, mask_edge: bool = True, triplet_weight: float = 0.1,
                 temperature: float = 0.1, margin: float = 0.0, pool: str = "mean"):  # fmt: skip
        super().__init__(encoder)
        if tokenizer is None:
            raise ValueError("molebert needs tokenizer= (a molebert_tokenizer run's folder); "
                             "pretrain_recipe('molebert', ...) trains one first")  # fmt: skip
        for rate in (mask_rate1, mask_rate2):
            if not 0.0 < rate < 1.0:
                raise ValueError(f"mask rates must be in (0, 1), got {rate}")
        if isinstance(tokenizer, MoleBERTTokenizer):
            self.tokenizer_source = "in memory"
        else:
            self.tokenizer_source = str(tokenizer)
            tokenizer = load_tokenizer(tokenizer)
        self.tokenizer = tokenizer.requires_grad_(False)
        self.mask_rates = (float(mask_rate1), float(mask_rate2))
        self.mask_edge = bool(mask_edge)
        self.triplet_weight, self.temperature = float(triplet_weight), float(temperature)
        self.margin = float(margin)
        self.pool = pool
        dim, num_tokens = encoder.out_dim, tokenizer.quantizer.num_tokens
        self.projection = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.atom_heads = nn.ModuleList(nn.Linear(dim, num_tokens) for _ in range(2))
        self.bond_heads = nn.ModuleList(nn.Linear(dim, NUM_BOND_CLASSES) for _ in range(2))

    def hparams(self) -> dict:
        return {
            "tokenizer": self.tokenizer_source,
            "mask_rates": list(self.mask_rates),
            "mask_edge": self.mask_edge,
            "triplet_weight": self.triplet_weight,
            "temperature": self.temperature,
            "margin": self.margin,
            "pool": self.pool,
        }

    def transform(self, data):
        return (data, *(mask_atoms(data, rate, self.mask_edge) for rate in self.mask_rates))

    def _forward_cl(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        graphs = NODE_POOLS[self.pool](nodes, batch.batch, size=batch.num_graphs)
        return nodes, self.projection(graphs)

    def loss(self, batch):
        original, *views = batch
        codes = self.tokenizer.tokenize(original)
        outputs = [self._forward_cl(view) for view in views]
        loss_cl = masked_contrastive_loss(outputs[0][1], outputs[1][1], self.temperature)
        with torch.no_grad():
            _, anchor = self._forward_cl(original)
        loss_tri = triplet_loss(anchor, outputs[0][1], outputs[1][1], self.margin)
        loss = loss_cl + self.triplet_weight * loss_tri
        hits = total = 0
        for view, (nodes, _), atom_head, bond_head in zip(views, outputs, self.atom_heads,
                                                          self.bond_heads):  # fmt: skip
            logits = atom_head(nodes[view.masked_atom_index])
            target = codes[view.masked_atom_index]
            loss = loss + F.cross_entropy(logits, target)
            hits += (logits.argmax(1) == target).sum().item()
            total += target.numel()
            if self.mask_edge and view.masked_edge_index.numel():
                u, v = view.masked_edge_index
                loss = loss + F.cross_entropy(bond_head(nodes[u] + nodes[v]),
                                              view.masked_edge_label[:, 0])  # fmt: skip
        logs = {"code_acc": hits / max(total, 1), "loss_cl": loss_cl.item(),
                "loss_tri": loss_tri.item()}  # fmt: skip
        return loss, logs


__all__ = [
    "GNNDecoder",
    "MoleBERT",
    "MoleBERTTokenizer",
    "load_tokenizer",
    "masked_contrastive_loss",
    "triplet_loss",
]
