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

The same family on SMILES (ChemBERTa, SMILES-BERT) is :class:`MaskedLanguageModeling`, below:

BERT's objective on SMILES tokens: choose 15% of the tokens (never ``<s>``, ``</s>``, ``<pad>``,
``<unk>``), hide them, and predict the originals from everything else:

.. math::
    \mathcal{L}_{\mathrm{MLM}} = -\frac{1}{|\mathcal{M}|}\sum_{i \in \mathcal{M}}
        \log p\big(x_i \mid \tilde{x}\big), \qquad
    \tilde x_i = \begin{cases}
        \texttt{<mask>} & \text{with probability } 0.8 \\
        \text{a random token} & \text{with probability } 0.1 \\
        x_i & \text{with probability } 0.1
    \end{cases} \quad (i \in \mathcal{M}).

The 10% random and 10% unchanged tokens keep the model from learning that only ``<mask>``
positions matter (fine-tuning never shows ``<mask>``). This is what
``transformers.DataCollatorForLanguageModeling`` does, with two changes: a random token is
drawn from the non-special vocabulary only, and a SMILES whose draw chose no token gets one
(so every molecule contributes to the loss). The draws come from torch's global generator,
per molecule in the loader, like the graph strategies' masks.
Taught in ``notebooks/04_masked_components``.
The share of masked components is called ``mask_rate`` on graphs and on SMILES alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import RobertaForMaskedLM

from cpmkit.featurize.graph_hu import MASK_ATOM_INDEX, MASK_BOND_INDEX
from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.smiles import encode, item_smiles, pad_batch, sequence_hparams, view_smiles

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
def masked_atom_accuracy(
    strategy: AttributeMasking, dataset, majority_type: int, seed: int = 0, batch_size: int = 512
) -> tuple[float, float]:
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


# -- the sequence variant: masked language modelling on SMILES (ChemBERTa) -------------------
IGNORE_INDEX = -100  # the label of a position that is not predicted (PyTorch's default)


def mask_tokens(
    input_ids: torch.Tensor,
    tokenizer,
    mask_rate: float = 0.15,
    mask_token_prob: float = 0.8,
    random_token_prob: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking of token ids: ``(masked_ids, labels)``.

    Parameters
    ----------
    input_ids : torch.Tensor
        ``(L,)`` or ``(B, L)`` token ids (``<pad>`` allowed; it is never chosen).
    tokenizer : transformers.PreTrainedTokenizerFast
        Gives the special ids, ``<mask>`` and the vocabulary size.
    mask_rate : float
        Chance that a (non-special) token is chosen; each sequence gets at least one.
    mask_token_prob, random_token_prob : float
        Of the chosen tokens, the share replaced by ``<mask>`` and by a random non-special
        token; the rest stays unchanged.

    Returns
    -------
    masked_ids : torch.Tensor
        Same shape as ``input_ids``.
    labels : torch.Tensor
        The original id at chosen positions, ``-100`` everywhere else.
        Taught in ``notebooks/04_masked_components``.
    """
    if not 0.0 < mask_rate <= 1.0 or mask_token_prob + random_token_prob > 1.0:
        raise ValueError("need 0 < mask_rate <= 1 and mask_token_prob + random_token_prob <= 1")
    special = torch.tensor(sorted(tokenizer.all_special_ids), dtype=input_ids.dtype)
    rows = input_ids.reshape(-1, input_ids.size(-1))
    maskable = ~torch.isin(rows, special)
    chosen = (torch.rand(rows.shape) < mask_rate) & maskable
    for row in (~chosen.any(1) & maskable.any(1)).nonzero().view(-1).tolist():
        # a short SMILES can draw no token at all: take one at random instead
        where = maskable[row].nonzero().view(-1)
        chosen[row, where[torch.randint(len(where), (1,))]] = True
    labels = torch.where(chosen, rows, torch.full_like(rows, IGNORE_INDEX))
    how = torch.rand(rows.shape)
    to_mask = chosen & (how < mask_token_prob)
    to_random = chosen & (how >= mask_token_prob) & (how < mask_token_prob + random_token_prob)
    ordinary = torch.tensor(
        [i for i in range(len(tokenizer)) if i not in set(special.tolist())], dtype=rows.dtype
    )
    random_ids = ordinary[torch.randint(len(ordinary), rows.shape)]
    masked = rows.masked_fill(to_mask, tokenizer.mask_token_id)
    masked = torch.where(to_random, random_ids, masked)
    return masked.view_as(input_ids), labels.view_as(input_ids)


class MaskedLanguageModeling(Strategy):
    """ChemBERTa's pre-training: recover 15% masked SMILES tokens with a RoBERTa masked LM.

    Parameters
    ----------
    encoder : transformers.RobertaForMaskedLM
        E.g. ``cpmkit.models.chemberta.build_masked_lm(tokenizer, config)``; its whole
        state_dict is saved as ``encoder.pt`` (``build_classifier(pretrained=...)`` loads it).
    tokenizer : transformers.PreTrainedTokenizerFast
        The tokenizer the model was built over.
    mask_rate : float
        Share of tokens chosen (BERT: 0.15); chosen tokens follow the 80/10/10 rule.
    randomize : bool
        Read a random SMILES of each molecule (a new one each epoch) instead of the given one.
    max_length : int, optional
        Longer SMILES are cut (``</s>`` kept); default: what the model's positions allow.

    Taught in ``notebooks/04_masked_components``.
    """

    name = "mlm"
    input_family = "sequence"

    def __init__(
        self,
        encoder: RobertaForMaskedLM,
        tokenizer,
        mask_rate: float = 0.15,
        randomize: bool = False,
        max_length: int | None = None,
    ):
        super().__init__(encoder)
        self.tokenizer = tokenizer
        self.mask_rate, self.randomize = float(mask_rate), bool(randomize)
        self.max_length = int(max_length or encoder.config.max_position_embeddings - 2)

    def transform(self, item):
        smiles = view_smiles(item_smiles(item), self.randomize)
        ids = encode(self.tokenizer, smiles, self.max_length, truncate=True)
        masked, labels = mask_tokens(ids, self.tokenizer, self.mask_rate)
        return {"input_ids": masked, "labels": labels}

    def collate(self, items):
        return pad_batch(items, {"input_ids": self.tokenizer.pad_token_id, "labels": IGNORE_INDEX})

    def loss(self, batch):
        out = self.encoder(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            labels=batch["labels"],
        )
        chosen = batch["labels"] != IGNORE_INDEX
        hits = out.logits.argmax(-1)[chosen] == batch["labels"][chosen]
        return out.loss, {"acc": hits.float().mean().item()}

    def hparams(self):
        return {"mask_rate": self.mask_rate, **sequence_hparams(self)}


__all__ = [
    "AttributeMasking",
    "IGNORE_INDEX",
    "MaskedLanguageModeling",
    "NUM_ATOM_CLASSES",
    "NUM_BOND_CLASSES",
    "mask_atoms",
    "mask_tokens",
    "masked_atom_accuracy",
]
