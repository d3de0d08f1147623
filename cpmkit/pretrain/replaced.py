r"""Replaced components detection (survey section 2.6): MPG's pairwise half-graph discrimination.

Li et al. (Brief. Bioinform. 2021, *MPG*) cut every molecule into two halves and, with
probability :math:`1/2`, swap one half for a half of another molecule; the encoder then sees the
two halves and says whether they come from one molecule. With :math:`h_A, h_B` the pooled
vectors of the two halves of pair :math:`i` and :math:`y_i = 1` for "one molecule" (not
replaced):

.. math::
    \mathcal{L}_{\mathrm{pair}} = \frac{1}{B} \sum_i \mathrm{CE}\big(
        f([h_A^{(i)}; h_B^{(i)}]),\, y_i\big), \qquad
    \mathcal{L} = \mathcal{L}_{\mathrm{pair}} + \mathcal{L}_{\mathrm{mask}}

where :math:`f` is a small MLP with two outputs and :math:`\mathcal{L}_{\mathrm{mask}}` is MPG's
second task, attribute masking on the recombined graph (15% of its atoms, the type predicted by
a linear head; ``mask_rate=0`` turns it off), summed with weight 1 as in their
``PretrainingCriterion``. The cut (BRICS bond, else an acyclic single bond) and the
recombination are :mod:`cpmkit.featurize.recombine`'s; ``transform`` cuts each molecule, and
``collate`` pairs: a molecule keeps its own second half, or (probability ``replace_prob``)
takes the second half of the molecule ``s`` places further in the batch (one random cyclic
shift :math:`1 \le s < B` per batch, so never itself).

Deviations from the authors' code (``pyli0628/MPG``: ``util.py`` ``Random_graph``,
``model.py`` ``Pretrain_MolGNet``):

- **Encoder.** MPG's MolGNet (a graph transformer with GRU updates, segment embeddings for the
  two halves and a *collection node* joined to every atom) is replaced by the kit's GIN (any
  graph encoder of the contract). The GIN has no collection node and no segment embedding, so
  the two halves, which share no bond, never exchange messages; the pair is therefore judged by
  an MLP on the two halves' mean-pooled vectors instead of a linear layer on the collection
  node's vector. The encoder kept for fine-tuning is the plain GIN.
- **Cut.** Their code splits by atom index (atoms below a random :math:`n \in [N/3, 2N/3]`
  against the rest, bonds across dropped); here one chemical bond is cut (see
  :mod:`cpmkit.featurize.recombine`). Molecules with no acyclic bond are skipped.
- **Pairing.** Their partner is one molecule drawn from the whole corpus when the data set is
  built (fixed for all epochs); here it is another molecule of the same batch, drawn afresh
  every batch.
- **Negatives.** They pair the first part of one molecule with the first or the last part of
  another; here the two halves come in random order and the swapped half is the partner's
  ``second``.

Taught in ``notebooks/07_replaced_components``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_mean_pool

from cpmkit.featurize.recombine import Halves, cut_molecule, recombine
from cpmkit.pretrain.base import Strategy, cycle_index
from cpmkit.pretrain.masking import NUM_ATOM_CLASSES, mask_atoms


def pair_batch(items: list[Halves], replace_prob: float = 0.5) -> list:
    """Recombined graphs of one batch of cut molecules (``source`` = position in ``items``).

    Each molecule keeps its own ``second`` half, or with probability ``replace_prob`` takes the
    ``second`` half of the molecule ``s`` places on (one random shift per batch). A batch of one
    molecule has no partner and keeps its own halves. Draws from torch's global generator.
    Taught in ``notebooks/07_replaced_components``.
    """
    n = len(items)
    shift = int(torch.randint(1, n, (1,))) if n > 1 else 0
    partner = cycle_index(n, shift).tolist()
    replaced = (torch.rand(n) < replace_prob).tolist() if n > 1 else [False] * n
    graphs = []
    for i, halves in enumerate(items):
        j = partner[i] if replaced[i] else i
        graphs.append(recombine(halves.first, items[j].second, i, j))
    return graphs


class ReplacedComponents(Strategy):
    """MPG's pairwise half-graph discrimination (plus attribute masking) around a graph encoder.

    Parameters
    ----------
    encoder : GNN
        A Hu et al. graph encoder; kept for fine-tuning.
    replace_prob : float
        Share of pairs whose second half comes from another molecule (MPG: 0.5).
    mask_rate : float
        Share of atoms of each recombined graph hidden for MPG's second task, attribute masking
        (MPG: 0.15); ``0`` trains the pair task alone.

    Logs ``pair_acc`` (chance 0.5 at ``replace_prob=0.5``), ``replaced`` (the share of
    swapped pairs in the batch) and, with masking, ``atom_acc``.
    Taught in ``notebooks/07_replaced_components``.
    """

    name = "mpg"

    def __init__(self, encoder: nn.Module, replace_prob: float = 0.5, mask_rate: float = 0.15):
        super().__init__(encoder)
        if not 0.0 < replace_prob < 1.0:
            raise ValueError(f"replace_prob must be in (0, 1), got {replace_prob}")
        if not 0.0 <= mask_rate < 1.0:
            raise ValueError(f"mask_rate must be in [0, 1), got {mask_rate}")
        self.replace_prob = float(replace_prob)
        self.mask_rate = float(mask_rate)
        dim = encoder.out_dim
        self.pair_head = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, 2))
        self.atom_head = nn.Linear(dim, NUM_ATOM_CLASSES) if mask_rate > 0 else None

    def hparams(self) -> dict:
        return {"replace_prob": self.replace_prob, "mask_rate": self.mask_rate}

    def transform(self, data):
        return cut_molecule(data)

    def collate(self, items: list):
        items = [item for item in items if item is not None]
        if not items:
            return None
        graphs = pair_batch(items, self.replace_prob)
        if self.atom_head is not None:
            graphs = [mask_atoms(g, self.mask_rate) for g in graphs]
        return Batch.from_data_list(graphs)

    def half_vectors(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, 2 * out_dim)`` each pair's two halves, mean-pooled and concatenated, and the
        atom vectors they came from."""
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        return self._pool_halves(nodes, batch), nodes

    @staticmethod
    def _pool_halves(nodes, batch):
        group = 2 * batch.batch + batch.segment
        pooled = global_mean_pool(nodes, group, size=2 * batch.num_graphs)
        return pooled.view(batch.num_graphs, 2 * nodes.size(1))

    def loss(self, batch):
        halves, nodes = self.half_vectors(batch)
        logits = self.pair_head(halves)
        target = batch.pair_label.view(-1)
        loss = F.cross_entropy(logits, target)
        logs = {
            "pair_acc": (logits.argmax(1) == target).float().mean().item(),
            "replaced": (target == 0).float().mean().item(),
        }
        if self.atom_head is not None:
            atom_logits = self.atom_head(nodes[batch.masked_atom_index])
            atom_target = batch.masked_atom_label[:, 0]
            loss = loss + F.cross_entropy(atom_logits, atom_target)
            logs["atom_acc"] = (atom_logits.argmax(1) == atom_target).float().mean().item()
        return loss, logs


__all__ = ["ReplacedComponents", "pair_batch"]
