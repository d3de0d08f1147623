r"""GROVER's two self-supervised tasks on the kit's GIN (survey section 2.3, masked components).

GROVER (Rong et al., NeurIPS 2020; code ``tencent-ailab/grover``) pre-trains a graph
Transformer (GTransformer, 48M-100M parameters) with two label-free tasks:

- **Contextual property prediction** (:class:`GroverContext`, ``"grover_context"``): hide an
  atom and predict its *context*, a class of the corpus's vocabulary of
  ``element + sorted (neighbour element, bond type) counts`` strings
  (:mod:`cpmkit.featurize.grover_labels`), instead of its bare element:

  .. math:: \mathcal{L}_{ctx} = -\frac{1}{|\mathcal{M}|}\sum_{v\in\mathcal{M}}
            \log p\big(\mathrm{ctx}_v \mid h_v(\tilde G)\big)

- **Graph-level motif prediction** (:class:`GroverMotif`, ``"grover_motif"``): predict which of
  RDKit's 85 functional groups the molecule holds, a multi-label binary cross-entropy on the
  pooled graph vector:

  .. math:: \mathcal{L}_{motif} = -\frac{1}{85}\sum_{k}\big[y_k\log\sigma(s_k)
            + (1-y_k)\log(1-\sigma(s_k))\big]

Deviations from the paper, named:

- **Encoder.** The GROVER Transformer itself (dynamic message-passing attention over node and
  edge views, hundreds of GPU-days) is out of scope at CPU size; both tasks run on the kit's
  Hu et al. GIN, as the Table 1-style comparisons of later papers (Mole-BERT, GraphMAE) do with
  "G-Contextual" and "G-Motif".
- **Separate tasks.** GROVER optimises both tasks together (on node- and edge-view outputs);
  here each is its own strategy, so each can be compared alone, as those tables do.
- **What is hidden.** GROVER's collator (``atom_random_mask``) labels ``ceil(0.15 N)`` atoms
  and leaves the input graph whole; here ``floor(0.15 N) + 1`` atoms are masked as in Hu et
  al. (mask token), and with ``mask_edge`` (default) their bonds too, so the context cannot be
  read off the input by a GIN whose first layer sees the neighbours. Edge contexts
  (``bond_to_vocab``) are not predicted.
- **Vocabulary.** Built from the pre-training corpus with a ``min_count`` (default 5); rarer
  contexts are one class, ``<other>``.

Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from rdkit import Chem
from torch import nn

from cpmkit.featurize.grover_labels import GROVER_FRAGMENTS, ContextVocab, graph_context_labels
from cpmkit.featurize.grover_labels import motif_labels as _motif_labels
from cpmkit.models.encoders import NODE_POOLS
from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.masking import mask_atoms


class GroverContext(Strategy):
    """Predict the GROVER context class of masked atoms from the rest of the molecule.

    Parameters
    ----------
    encoder : GNN
        A Hu et al. GIN (dropout 0 in pre-training).
    vocab : list of str
        The context classes, ``"<other>"`` first (``ContextVocab.from_graphs(corpus).words``);
        :meth:`corpus_settings` builds it, and ``pretrain_recipe`` calls that.
    mask_rate : float
        Share of atoms hidden per molecule (GROVER: 15%).
    mask_edge : bool
        Also hide the bonds of masked atoms (their types are part of the label).
    min_count : int
        The vocabulary's cut-off (recorded; used by :meth:`corpus_settings`).

    Taught in ``notebooks/04_masked_components``.
    """

    name = "grover_context"

    def __init__(self, encoder: nn.Module, vocab: list[str] | None = None, mask_rate: float = 0.15,
                 mask_edge: bool = True, min_count: int = 5):  # fmt: skip
        super().__init__(encoder)
        if vocab is None:
            raise ValueError(
                "grover_context needs vocab=ContextVocab.from_graphs(corpus).words "
                "(pretrain_recipe builds it from the corpus)"
            )
        if not 0.0 < mask_rate < 1.0:
            raise ValueError(f"mask_rate must be in (0, 1), got {mask_rate}")
        self.vocab = ContextVocab(list(vocab))
        self.mask_rate = float(mask_rate)
        self.mask_edge = bool(mask_edge)
        self.min_count = int(min_count)
        self.head = nn.Linear(encoder.out_dim, len(self.vocab))

    @classmethod
    def corpus_settings(cls, corpus, settings: dict) -> dict:
        """What this strategy needs from the corpus: its context vocabulary."""
        min_count = settings.get("min_count", 5)
        graphs = (corpus[i] for i in range(len(corpus)))
        return {"vocab": ContextVocab.from_graphs(graphs, min_count).words}

    def hparams(self) -> dict:
        return {"mask_rate": self.mask_rate, "mask_edge": self.mask_edge,
                "min_count": self.min_count, "vocab": self.vocab.words}  # fmt: skip

    def transform(self, data):
        masked = mask_atoms(data, self.mask_rate, self.mask_edge)
        labels = graph_context_labels(data, masked.masked_atom_index.tolist())
        masked.context_label = self.vocab.encode(labels)
        return masked

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        logits = self.head(nodes[batch.masked_atom_index])
        target = batch.context_label
        loss = F.cross_entropy(logits, target)
        return loss, {"context_acc": (logits.argmax(1) == target).float().mean().item()}


class GroverMotif(Strategy):
    """Predict which of RDKit's 85 functional groups a molecule holds (multi-label BCE).

    Parameters
    ----------
    encoder : GNN
        A Hu et al. GIN.
    pool : str
        How atoms become the molecule's vector (``"mean"``, the kit's fine-tuning default).

    The labels come from each molecule's ``smiles`` (RDKit's ``fr_*`` counters, computed
    once per molecule and kept). Taught in ``notebooks/04_masked_components``.
    """

    name = "grover_motif"

    def __init__(self, encoder: nn.Module, pool: str = "mean"):
        super().__init__(encoder)
        if pool not in NODE_POOLS:
            raise ValueError(f"pool must be one of {sorted(NODE_POOLS)}, got {pool!r}")
        self.pool = pool
        self.head = nn.Linear(encoder.out_dim, len(GROVER_FRAGMENTS))
        self._labels: dict[str, np.ndarray] = {}

    def hparams(self) -> dict:
        return {"pool": self.pool, "motifs": len(GROVER_FRAGMENTS)}

    def motif_labels(self, smiles: str) -> np.ndarray:
        """The molecule's 0/1 functional-group vector (kept per SMILES after the first call)."""
        if smiles not in self._labels:
            mol = Chem.MolFromSmiles(smiles)
            if mol is None:
                raise ValueError(f"RDKit cannot parse {smiles!r}")
            self._labels[smiles] = _motif_labels(mol)
        return self._labels[smiles]

    def transform(self, data):
        data = data.clone()
        data.motif = torch.from_numpy(self.motif_labels(data.smiles)).unsqueeze(0)
        return data

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        graphs = NODE_POOLS[self.pool](nodes, batch.batch, size=batch.num_graphs)
        logits = self.head(graphs)
        loss = F.binary_cross_entropy_with_logits(logits, batch.motif)
        return loss, {"motif_acc": ((logits > 0) == (batch.motif > 0.5)).float().mean().item()}


__all__ = ["GroverContext", "GroverMotif"]
