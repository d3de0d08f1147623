r"""Masked component modelling on graphs: Hu et al.'s attribute masking (survey section 2.3).

Hide the atom type of 15% of the atoms (the mask token, index 119) and ask the encoder's
node representation to recover it with a linear head:

.. math::
    \mathcal{L}_{\mathrm{MCM}} = -\frac{1}{|\mathcal{M}|} \sum_{v \in \mathcal{M}}
        \log p\big(t_v \mid h_v(\tilde{G})\big), \qquad
    \tilde{G} = G \text{ with } x_v \leftarrow [\mathrm{MASK}, 0] \;\; \forall v \in \mathcal{M}

with :math:`|\mathcal{M}| = \lfloor 0.15\,|V| \rfloor + 1` atoms drawn uniformly. The variant
``mask_edge=True`` also hides every bond at a masked atom (bond type index 5) and predicts its
type from :math:`h_u + h_v`, as ``pretrain_masking.py --mask_edge 1`` of the original code.
Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cpmkit.featurize.graph_hu import MASK_ATOM_INDEX, MASK_BOND_INDEX
from cpmkit.pretrain.base import Strategy

#: atom-type classes the head predicts (atomic number - 1, the mask index excluded)
NUM_ATOM_CLASSES = MASK_ATOM_INDEX
#: bond-type classes (single, double, triple, aromatic)
NUM_BOND_CLASSES = 4


def mask_atoms(data, mask_rate: float = 0.15, mask_edge: bool = False):
    """Hide ``floor(mask_rate * N) + 1`` random atoms of one molecule (Hu et al.'s ``MaskAtom``).

    Returns a copy with ``x`` masked and the answers beside it: ``masked_atom_index`` (which
    atoms), ``masked_atom_label`` (their true ``[type, chirality]``) and, with ``mask_edge``,
    ``masked_edge_index`` (one column per masked bond, both ends) and ``masked_edge_label``.
    Randomness comes from torch's global generator. Taught in ``notebooks/04_masked_components``.
    """
    data = data.clone()
    num_atoms = data.num_nodes
    count = min(num_atoms, int(num_atoms * mask_rate + 1))
    masked = torch.randperm(num_atoms)[:count].sort().values
    data.masked_atom_index = masked
    data.masked_atom_label = data.x[masked].clone()
    data.x[masked] = torch.tensor([MASK_ATOM_INDEX, 0], dtype=data.x.dtype)
    if mask_edge:
        src, dst = data.edge_index
        touched = torch.isin(src, masked) | torch.isin(dst, masked)
        # both directions of a bond are stored side by side: label each bond once (even column)
        first = touched.nonzero().view(-1)
        first = first[first % 2 == 0]
        data.masked_edge_index = data.edge_index[:, first]
        data.masked_edge_label = data.edge_attr[first].clone()
        data.edge_attr[touched] = torch.tensor([MASK_BOND_INDEX, 0], dtype=data.edge_attr.dtype)
    return data


class AttributeMasking(Strategy):
    """Predict the types of masked atoms (and, optionally, of their bonds) from context.

    Parameters
    ----------
    encoder : GNN
        A Hu et al. encoder (``cpmkit.models.gnn.GNN``); pre-training uses dropout 0.
    mask_rate : float
        Fraction of atoms hidden per molecule (0.15 in the paper; the lesson's ablation).
    mask_edge : bool
        Also hide and predict the bonds at masked atoms.

    Taught in ``notebooks/04_masked_components``.
    """

    name = "attrmasking"

    def __init__(self, encoder: nn.Module, mask_rate: float = 0.15, mask_edge: bool = False):
        super().__init__(encoder)
        if not 0.0 < mask_rate < 1.0:
            raise ValueError(f"mask_rate must be in (0, 1), got {mask_rate}")
        self.mask_rate = float(mask_rate)
        self.mask_edge = bool(mask_edge)
        self.atom_head = nn.Linear(encoder.out_dim, NUM_ATOM_CLASSES)
        self.bond_head = nn.Linear(encoder.out_dim, NUM_BOND_CLASSES) if mask_edge else None

    def hparams(self) -> dict:
        return {"mask_rate": self.mask_rate, "mask_edge": self.mask_edge}

    def transform(self, data):
        return mask_atoms(data, self.mask_rate, self.mask_edge)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        logits = self.atom_head(nodes[batch.masked_atom_index])
        target = batch.masked_atom_label[:, 0]
        loss = F.cross_entropy(logits, target)
        logs = {"atom_acc": (logits.argmax(1) == target).float().mean().item()}
        if self.bond_head is not None and batch.masked_edge_index.numel():
            u, v = batch.masked_edge_index
            bond_logits = self.bond_head(nodes[u] + nodes[v])
            bond_target = batch.masked_edge_label[:, 0]
            loss = loss + F.cross_entropy(bond_logits, bond_target)
            logs["bond_acc"] = (bond_logits.argmax(1) == bond_target).float().mean().item()
        return loss, logs


@torch.no_grad()
def masked_atom_accuracy(strategy: AttributeMasking, dataset, majority_type: int, seed: int = 0,
                         batch_size: int = 512) -> tuple[float, float]:
    """Accuracy of the masked-atom head on ``dataset``, and of always answering the majority.

    Parameters
    ----------
    strategy : AttributeMasking
        A (pre-trained) strategy; its own ``transform`` masks the molecules and its ``loss``
        scores them, so the masks follow its ``mask_rate``.
    dataset
        Indexable PyG ``Data`` items in Hu et al.'s featurization (e.g. a ``MoleculeDataset``).
    majority_type : int
        The atom-type index (atomic number - 1) of the corpus's most common element: the
        trivial baseline's answer.
    seed : int
        Seeds torch's global generator first, so every model evaluated on the same set sees
        the same masks.
    batch_size : int
        Molecules per forward pass.

    Returns
    -------
    (float, float)
        The head's accuracy and the majority answer's accuracy over all masked atoms (each
        batch weighted by its masked atoms). The strategy is left in training mode.

    Taught in ``notebooks/04_masked_components``.
    """
    device = next(strategy.parameters()).device
    strategy.eval()
    torch.manual_seed(seed)  # the same masks for every model evaluated on this set
    hits = majority = total = 0
    for start in range(0, len(dataset), batch_size):
        stop = min(start + batch_size, len(dataset))
        batch = strategy.collate([strategy.transform(dataset[i]) for i in range(start, stop)])
        _, logs = strategy.loss(batch.to(device))
        count = batch.masked_atom_index.numel()
        hits += logs["atom_acc"] * count
        majority += (batch.masked_atom_label[:, 0] == majority_type).sum().item()
        total += count
    strategy.train()
    return hits / total, majority / total


__all__ = ["AttributeMasking", "NUM_ATOM_CLASSES", "NUM_BOND_CLASSES", "mask_atoms",
           "masked_atom_accuracy"]
