"""Pre-training: one :class:`Strategy` per survey method, one loop (:func:`pretrain`) for all.

Hu et al.'s graph strategies: :class:`AttributeMasking` (``masking``),
:class:`ContextPrediction` (``context``), :class:`EdgePrediction` (``autoencoding``),
:class:`GraphInfomax` (``contrastive``) and :class:`SupervisedPretraining` (``supervised``).
"""

from cpmkit.pretrain.autoencoding import EdgePrediction
from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.context import ContextPrediction
from cpmkit.pretrain.contrastive import GraphInfomax
from cpmkit.pretrain.loop import PretrainConfig, PretrainResult, pretrain
from cpmkit.pretrain.masking import AttributeMasking
from cpmkit.pretrain.supervised import SupervisedCorpus, SupervisedPretraining, supervised_corpus

__all__ = [
    "AttributeMasking",
    "ContextPrediction",
    "EdgePrediction",
    "GraphInfomax",
    "PretrainConfig",
    "PretrainResult",
    "Strategy",
    "SupervisedCorpus",
    "SupervisedPretraining",
    "pretrain",
    "supervised_corpus",
]
