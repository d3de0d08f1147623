r"""DeepDTA's CNNs and the pair heads of drug-target and drug-drug models, in one file.

DeepDTA (Öztürk et al., Bioinformatics 2018) predicts a binding affinity from two strings:

.. math::
    \hat y = \mathrm{MLP}\big([\,\mathrm{maxpool}(\mathrm{CNN}_d(E_d\,s)) \,\|\,
             \mathrm{maxpool}(\mathrm{CNN}_p(E_p\,a))\,]\big)

where :math:`s` is the SMILES as characters and :math:`a` the amino-acid sequence (cut at
1,000 residues), :math:`E` a learnt 128-wide embedding, each CNN three 1-D convolutions with
32, 64 and 96 filters ('valid' padding, ReLU) and the max taken over all positions (padding
included, as Keras' ``GlobalMaxPooling1D`` does). The MLP is 1024-1024-512 with ReLU and
dropout 0.1 after the first two layers, then one output; MSE loss, Adam at lr 1e-3, batch 256,
100 epochs (DeepDTA's ``run_experiments.py`` and ``go.sh``).

Here the drug side is any encoder of :mod:`cpmkit.models.encoders` (the SMILES CNN below is a
sequence-family member whose vectors are max-pooled), so a GNN trained from scratch (GraphDTA,
Nguyen et al. 2021) or a pre-trained encoder takes its place with the same protein CNN and head.
:class:`InteractionHead` combines two drug vectors symmetrically for drug-drug interactions.

Deviations, by name:

* DeepDTA uses one filter length for all three layers of a CNN and picks it by validation from
  {4, 8} (SMILES) and {8, 12} (protein); :class:`DTAConfig` defaults to 4 and 8 (the first grid
  values) and takes one length per layer, so GraphDTA-like or searched settings fit too.
* With a drug encoder other than the SMILES CNN, the head's input is ``drug.out_dim + 96``
  rather than 96 + 96; GraphDTA instead projects the drug to 128 and uses a 1024-256 head.
* Keras' ``Dense(1, kernel_initializer='normal')`` vs PyTorch's default initialisation.

Taught in ``notebooks/13_drug_target_interaction`` and ``notebooks/14_drug_drug_interaction``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class CNNConfig:
    """One DeepDTA CNN: vocabulary size, embedding width, filters and kernel per layer."""

    vocab_size: int
    embed_dim: int = 128
    filters: tuple[int, ...] = (32, 64, 96)
    kernels: tuple[int, ...] = (4, 4, 4)
    max_length: int = 100

    def __post_init__(self):
        self.filters, self.kernels = tuple(self.filters), tuple(self.kernels)
        if len(self.filters) != len(self.kernels) or not self.filters:
            raise ValueError("filters and kernels need the same, non-zero, number of layers")
        if sum(k - 1 for k in self.kernels) >= self.max_length:
            raise ValueError("the kernels are longer than the sequence")


class CharCNN(nn.Module):
    """DeepDTA's string encoder: embedding, 'valid' 1-D convolutions with ReLU.

    A sequence-family encoder: ``forward(input_ids, attention_mask)`` returns position vectors
    ``(B, L', out_dim)`` with ``L' = L - sum(kernel - 1)``; ``global_max_pool = True`` tells the
    pair harness to pool with the max over every position, as DeepDTA does (the mask is not
    used: DeepDTA pools over the zero padding too).
    """

    family = "sequence"
    global_max_pool = True

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=0)
        layers, width = [], config.embed_dim
        for filters, kernel in zip(config.filters, config.kernels):
            layers += [nn.Conv1d(width, filters, kernel), nn.ReLU()]
            width = filters
        self.convs = nn.Sequential(*layers)

    @property
    def out_dim(self) -> int:
        return self.config.filters[-1]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None):
        h = self.embedding(input_ids).transpose(1, 2)  # (B, E, L): Conv1d wants channels first
        return self.convs(h).transpose(1, 2)


class FingerprintMLP(nn.Module):
    """The classic baseline's drug side: an ECFP bit vector through a two-layer MLP.

    Not one of the contract's families (its input is a fingerprint, not a molecule graph or a
    string); the pair harness feeds it ``(num_drugs, n_bits)`` float tensors.
    """

    family = "fingerprint"

    def __init__(
        self, n_bits: int = 1024, hidden: int = 256, out_dim: int = 128, dropout: float = 0.1
    ):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_bits, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
            nn.ReLU(),
        )
        self._out_dim = out_dim

    @property
    def out_dim(self) -> int:
        return self._out_dim

    def forward(self, fingerprints: torch.Tensor) -> torch.Tensor:
        return self.net(fingerprints)


def mlp(
    in_dim: int,
    hidden: tuple[int, ...],
    out_dim: int,
    dropout: float,
    dropout_layers: int | None = None,
) -> nn.Sequential:
    """Linear-ReLU layers (dropout after the first ``dropout_layers``), then a linear output."""
    layers, width = [], in_dim
    for i, h in enumerate(hidden):
        layers += [nn.Linear(width, h), nn.ReLU()]
        if dropout > 0 and (dropout_layers is None or i < dropout_layers):
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


@dataclass
class DTAConfig:
    """DeepDTA's model: the protein CNN and the affinity head (the drug encoder is passed in).

    Defaults are DeepDTA's paper-scale settings; lessons shrink them at ``ci``/``teach``.
    """

    protein_embed_dim: int = 128
    protein_filters: tuple[int, ...] = (32, 64, 96)
    protein_kernels: tuple[int, ...] = (8, 8, 8)
    protein_max_length: int = 1000
    head_hidden: tuple[int, ...] = (1024, 1024, 512)
    head_dropout: float = 0.1
    head_dropout_layers: int = 2  # DeepDTA: dropout after the first two dense layers only

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


class AffinityHead(nn.Module):
    """DeepDTA's head: concatenated drug and target vectors -> one affinity."""

    def __init__(self, drug_dim: int, target_dim: int, config: DTAConfig):
        super().__init__()
        self.net = mlp(
            drug_dim + target_dim,
            config.head_hidden,
            1,
            config.head_dropout,
            config.head_dropout_layers,
        )

    def forward(self, drug: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([drug, target], dim=1)).squeeze(1)


@dataclass
class DDIConfig:
    """The drug-drug pair head: symmetric combination, then an MLP over the interaction types."""

    num_classes: int = 86
    hidden: tuple[int, ...] = (512, 256)
    dropout: float = 0.2


class InteractionHead(nn.Module):
    r"""Two drug vectors -> type logits, symmetric by construction.

    .. math::
        z = \mathrm{MLP}([\,h_a + h_b \,\|\, h_a \odot h_b\,])

    Sum and element-wise product do not depend on the order of the two drugs, so
    ``head(a, b) == head(b, a)`` exactly. DrugBank's types are directional ("#Drug1 increases
    the metabolism of #Drug2"); a symmetric model cannot tell the direction, a limit the lesson
    names (DeepDDI and SumGNN feed ordered pairs).
    """

    def __init__(self, drug_dim: int, config: DDIConfig):
        super().__init__()
        self.config = config
        self.net = mlp(2 * drug_dim, config.hidden, config.num_classes, config.dropout)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([a + b, a * b], dim=1))


def protein_cnn(config: DTAConfig, vocab_size: int) -> CharCNN:
    """DeepDTA's protein CNN for ``config``."""
    return CharCNN(
        CNNConfig(
            vocab_size,
            config.protein_embed_dim,
            config.protein_filters,
            config.protein_kernels,
            config.protein_max_length,
        )
    )


__all__ = [
    "AffinityHead",
    "CNNConfig",
    "CharCNN",
    "DDIConfig",
    "DTAConfig",
    "FingerprintMLP",
    "InteractionHead",
    "mlp",
    "protein_cnn",
]
