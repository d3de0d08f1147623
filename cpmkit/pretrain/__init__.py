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

import importlib
import pkgutil

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

#: modules of this package that are not a family file (they import the families themselves)
_NOT_FAMILIES = {"recipes", "molgpt_run"}

# Import every family file, so a new method is one class in a new or existing file: its
# Strategy subclass is then known to ``strategy_classes()`` and ``recipes.STRATEGIES``.
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_FAMILIES and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

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
