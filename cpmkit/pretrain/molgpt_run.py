"""The MolGPT run that lessons 03 and 12 share: one corpus, one tokenizer, one cached training.

Lesson 03 trains MolGPT on a seeded sample of a corpus and lesson 12 scores the same model with
the MOSES metrics. Both build it here, from the resolved lesson config, so the pre-training
loop's run identity (corpus key, initial weights, strategy and loop settings) is the same in
both and the second lesson finds the first one's checkpoint instead of training again.

The lesson config must carry ``corpus`` (registry name), ``corpus_size`` (seeded sample size,
``None``: all), ``hidden_size``, ``num_layers``, ``num_heads``, ``dropout``, ``num_epochs``,
``batch_size``, ``lr`` and ``trainer`` (a key of :data:`cpmkit.pretrain.optim.TRAINERS`:
``"hu2020"``, Adam at a constant rate, below the paper scale; ``"molgpt"``, the reference
trainer's AdamW, warm-up, cosine decay and clipping, at the paper profile; the lesson's ``lr``
is kept either way). Taught in ``notebooks/03_autoregressive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cpmkit.data import MoleculeDataset
from cpmkit.featurize.augment import canonical_smiles
from cpmkit.featurize.tokenizer import build_smiles_tokenizer
from cpmkit.models.molgpt import MolGPTConfig, build_molgpt
from cpmkit.pretrain.autoregressive import NextTokenPrediction
from cpmkit.pretrain.loop import PretrainConfig, PretrainResult, pretrain
from cpmkit.pretrain.optim import TRAINERS
from cpmkit.pretrain.smiles import SmilesCorpus


@dataclass
class MolGPTSetup:
    """Everything a MolGPT run is built from, before any training.

    Attributes
    ----------
    molecules : MoleculeDataset
        The seeded sample read from the registry (``n_read``, ``rejects`` for the accounting).
    train_smiles : list of str
        Canonical SMILES of the kept molecules: the training set (and novelty's reference).
    corpus : SmilesCorpus
        ``train_smiles`` named ``<corpus>-<size or all>-canonical`` for the loop's cache key.
    tokenizer : transformers.PreTrainedTokenizerFast
        The SMILES tokenizer with a vocabulary built from ``train_smiles``.
    lengths : numpy.ndarray
        Tokens per training SMILES, ``<s>`` and ``</s>`` counted.
    model_config : MolGPTConfig
        The decoder's size; ``max_length`` leaves room for the longest training SMILES.
    pretrain_config : PretrainConfig
        Epochs, batch size, learning rate and trainer settings of the lesson, seed 0.
    """

    molecules: MoleculeDataset
    train_smiles: list[str]
    corpus: SmilesCorpus
    tokenizer: Any
    lengths: np.ndarray
    model_config: MolGPTConfig
    pretrain_config: PretrainConfig


def molgpt_setup(config) -> MolGPTSetup:
    """Read the corpus sample and build the tokenizer and configs of the lessons' MolGPT run.

    Parameters
    ----------
    config : cpmkit.profiles.Config
        The resolved lesson config (fields listed in the module docstring).

    Returns
    -------
    MolGPTSetup

    Taught in ``notebooks/03_autoregressive``; reused by ``notebooks/12_molecular_generation``.
    """
    molecules = MoleculeDataset(config.corpus, sample=config.corpus_size, sample_seed=0)
    train_smiles = [canonical_smiles(s) for s in molecules.smiles]
    if None in train_smiles:  # every kept molecule parsed once already
        raise ValueError(f"{config.corpus}: a kept molecule has no canonical SMILES")
    corpus = SmilesCorpus(
        train_smiles, name=f"{config.corpus}-{config.corpus_size or 'all'}-canonical"
    )
    tokenizer = build_smiles_tokenizer(train_smiles)
    lengths = np.array([len(ids) for ids in tokenizer(train_smiles)["input_ids"]])
    model_config = MolGPTConfig(
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        max_length=int(lengths.max()) + 2,  # room for <s> and </s>
        dropout=config.dropout,
    )
    settings = {**TRAINERS[config.trainer], "lr": config.lr}
    pretrain_config = PretrainConfig(
        num_epochs=config.num_epochs, batch_size=config.batch_size, seed=0, **settings
    )
    return MolGPTSetup(
        molecules, train_smiles, corpus, tokenizer, lengths, model_config, pretrain_config
    )


def molgpt_strategy(setup: MolGPTSetup, randomize: bool = False) -> NextTokenPrediction:
    """A freshly initialised MolGPT (torch seed 0) inside its next-token strategy.

    The seed is set here because the initial weights are part of the run's identity: every
    call gives the same weights, so the untrained model a lesson inspects is the one it trains.
    Taught in ``notebooks/03_autoregressive``.
    """
    torch.manual_seed(0)
    return NextTokenPrediction(
        build_molgpt(setup.tokenizer, setup.model_config), setup.tokenizer, randomize=randomize
    )


def train_molgpt(
    setup: MolGPTSetup, randomize: bool = False, progress: bool = False
) -> PretrainResult:
    """Train (or load from the loop's cache) the lessons' MolGPT on canonical or random SMILES.

    Parameters
    ----------
    setup : MolGPTSetup
        From :func:`molgpt_setup`.
    randomize : bool
        Train on a random SMILES of each molecule (new each epoch) instead of the canonical one.
    progress : bool
        Show the loop's progress bar.

    Returns
    -------
    PretrainResult
        ``.strategy.encoder`` is the trained MolGPT; ``.trained`` says whether this call
        trained it or found it cached.

    Taught in ``notebooks/03_autoregressive``; reused by ``notebooks/12_molecular_generation``.
    """
    strategy = molgpt_strategy(setup, randomize)
    return pretrain(strategy, setup.corpus, setup.pretrain_config, progress=progress)


__all__ = ["MolGPTSetup", "molgpt_setup", "molgpt_strategy", "train_molgpt"]
