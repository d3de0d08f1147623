"""Pre-training: one :class:`Strategy` per survey method, one loop (:func:`pretrain`) for all.

Hu et al.'s graph strategies: :class:`AttributeMasking` (``masking``),
:class:`ContextPrediction` (``context``), :class:`EdgePrediction` (``autoencoding``),
:class:`GraphInfomax`, :class:`InfoGraph`, :class:`MVGRL`, :class:`GraphCL`,
:class:`JOAO`, :class:`SimGRACE` and :class:`SMICLR` (``contrastive``) and
:class:`SupervisedPretraining` (``supervised``).
On SMILES: :class:`MaskedLanguageModeling` (``masking``, ChemBERTa),
:class:`NextTokenPrediction` (``autoregressive``, MolGPT) and :class:`SmilesAutoencoding`
(``autoencoding``, SMILES Transformer).
"""

# the supervised corpus is built in the data layer; re-exported for the lessons' imports
from cpmkit.data.supervised_corpus import SupervisedCorpus, supervised_corpus
from cpmkit.pretrain.autoencoding import EdgePrediction, SmilesAutoencoding
from cpmkit.pretrain.autoregressive import NextTokenPrediction
from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.context import ContextPrediction
from cpmkit.pretrain.contrastive import (
    JOAO,
    MVGRL,
    SMICLR,
    GraphCL,
    GraphInfomax,
    InfoGraph,
    SimGRACE,
)
from cpmkit.pretrain.loop import PretrainConfig, PretrainResult, pretrain
from cpmkit.pretrain.masking import AttributeMasking, MaskedLanguageModeling
from cpmkit.pretrain.smiles import SmilesCorpus
from cpmkit.pretrain.supervised import SupervisedPretraining

__all__ = [
    "JOAO",
    "MVGRL",
    "SMICLR",
    "AttributeMasking",
    "ContextPrediction",
    "EdgePrediction",
    "GraphCL",
    "GraphInfomax",
    "InfoGraph",
    "MaskedLanguageModeling",
    "NextTokenPrediction",
    "PretrainConfig",
    "PretrainResult",
    "SimGRACE",
    "SmilesAutoencoding",
    "SmilesCorpus",
    "Strategy",
    "SupervisedCorpus",
    "SupervisedPretraining",
    "pretrain",
    "supervised_corpus",
]
