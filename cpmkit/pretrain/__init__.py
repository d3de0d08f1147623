"""Pre-training: one :class:`Strategy` per survey method, one loop (:func:`pretrain`) for all.

Hu et al.'s graph strategies: :class:`AttributeMasking` (``masking``),
``ContextPrediction`` (``context``), :class:`EdgePrediction` (``autoencoding``),
:class:`GraphInfomax` (``contrastive``) and ``SupervisedPretraining`` (``supervised``).
"""

from cpmkit.pretrain.autoencoding import EdgePrediction
from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.contrastive import GraphInfomax
from cpmkit.pretrain.loop import PretrainConfig, PretrainResult, pretrain
from cpmkit.pretrain.masking import AttributeMasking

__all__ = [
    "AttributeMasking",
    "EdgePrediction",
    "GraphInfomax",
    "PretrainConfig",
    "PretrainResult",
    "Strategy",
    "pretrain",
]
