"""Hu et al.'s pre-training recipes by name: one strategy, or a strategy then supervised.

``pretrain_recipe("supervised_contextpred", ...)`` runs context prediction on the unlabelled
corpus, then graph-level supervised pre-training on the labelled one starting from that
encoder -- the paper's Table 1 row "Supervised + ContextPred". Every stage goes through the one
loop, so each is cached, resumable and seeded. What lessons 04 and 05 and the Table 1
reproduction would otherwise each write. Taught in ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

import cpmkit.pretrain  # noqa: F401  (imports every family file, so every class is defined)
from cpmkit.models.graph_model import GNNConfig
from cpmkit.pretrain.base import Strategy, strategy_classes
from cpmkit.pretrain.loop import PretrainConfig, PretrainResult, pretrain
from cpmkit.seed import seed_everything

#: the graph strategies by their ``name`` (Hu et al.'s use the names of their code and Table 1):
#: built from the classes themselves, so a new graph strategy appears here by being defined
STRATEGIES: dict[str, type[Strategy]] = {
    name: cls for name, cls in strategy_classes().items() if cls.input_family == "graph"
}
SELF_SUPERVISED = ("infomax", "edgepred", "attrmasking", "contextpred")
#: Table 1's rows: each self-supervised strategy alone, supervised alone, and each followed by
#: supervised pre-training (``supervised_<name>``)
RECIPES: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in SELF_SUPERVISED},
    "supervised": ("supervised",),
    **{f"supervised_{name}": (name, "supervised") for name in SELF_SUPERVISED},
    # Mole-BERT: the VQ tokenizer first, then masked code modelling on a fresh encoder
    "molebert": ("molebert_tokenizer", "molebert"),
}
#: Hu et al.'s ``pretrain_supervised.py`` defaults: dropout 0.2, batch 32 (the self-supervised
#: scripts use dropout 0 and batch 256)
HU_SUPERVISED_DROP_RATIO = 0.2
HU_SUPERVISED_BATCH_SIZE = 32


def recipe_stages(recipe: str) -> tuple[str, ...]:
    """The strategy names a recipe runs in order: a key of :data:`RECIPES`, or any single
    strategy of :data:`STRATEGIES` as a one-stage recipe (so a new method needs no entry)."""
    if recipe in RECIPES:
        return RECIPES[recipe]
    if recipe in STRATEGIES:
        return (recipe,)
    raise KeyError(f"unknown recipe {recipe!r}; choose one of {sorted({*RECIPES, *STRATEGIES})}")


def build_strategy(name: str, gnn: GNNConfig, seed: int = 0, init=None, **hparams) -> Strategy:
    """Seed, build a fresh encoder (``gnn``, pre-training dropout included), wrap it.

    ``init`` (a path to an encoder state_dict, e.g. an earlier stage's ``encoder.pt``) starts
    the encoder from those weights. ``hparams`` go to the strategy (``mask_rate=0.3``,
    ``context_size=2``, ``num_tasks=617``). Taught in ``notebooks/05_context_prediction``.
    """
    if name not in STRATEGIES:
        raise KeyError(f"unknown strategy {name!r}; choose one of {sorted(STRATEGIES)}")
    seed_everything(seed)
    encoder = gnn.build_gnn()
    if init is not None:
        encoder.load_state_dict(torch.load(init, map_location="cpu", weights_only=True))
    return STRATEGIES[name](encoder, **hparams)


def pretrain_recipe(
    recipe: str,
    gnn: GNNConfig,
    corpus,
    config: PretrainConfig,
    supervised_corpus=None,
    supervised_config: PretrainConfig | None = None,
    hparams: dict[str, dict] | None = None,
    progress: bool = True,
    supervised_drop_ratio: float | None = None,
) -> list[PretrainResult]:
    """Run the stages of one recipe; returns one result per stage (the last is the encoder).

    Parameters
    ----------
    recipe
        A key of :data:`RECIPES` (``"attrmasking"``, ``"supervised_contextpred"``, ...) or the
        name of any graph strategy (one stage). A strategy class with a ``previous_stage``
        attribute (Mole-BERT's ``"tokenizer"``) gets the previous stage's output folder under
        that setting and a fresh encoder; one with a ``corpus_settings(corpus, settings)``
        classmethod (GROVER's context vocabulary) gets what it returns (``hparams`` win).
    gnn
        The encoder architecture (Hu et al.: GIN, 5 x 300, dropout 0 in pre-training).
    corpus, config
        The unlabelled corpus and the loop's settings for self-supervised stages.
    supervised_corpus, supervised_config
        The labelled corpus (``SupervisedCorpus.dataset``) and settings of a supervised stage
        (default: ``config``).
    hparams
        Per strategy name, its settings, e.g. ``{"attrmasking": {"mask_rate": 0.3}}``.
    supervised_drop_ratio
        The encoder's dropout in a supervised stage (Hu et al.'s ``pretrain_supervised.py``:
        0.2, :data:`HU_SUPERVISED_DROP_RATIO`); ``None`` keeps ``gnn.drop_ratio`` (the
        self-supervised stages' 0). Part of the stage's run identity, so it has its own cache.

    Taught in ``notebooks/05_context_prediction``.
    """
    stages = recipe_stages(recipe)
    hparams = hparams or {}
    results: list[PretrainResult] = []
    init: Path | None = None
    for name in stages:
        settings = dict(hparams.get(name, {}))
        stage_corpus, stage_config, stage_gnn = corpus, config, gnn
        if name == "supervised":
            if supervised_corpus is None:
                raise ValueError(f"recipe {recipe!r} needs a supervised_corpus")
            stage_corpus = supervised_corpus
            stage_config = supervised_config or config
            settings.setdefault("num_tasks", supervised_corpus.num_tasks)
            if supervised_drop_ratio is not None:
                stage_gnn = with_dropout(gnn, supervised_drop_ratio)
        stage_init = init
        cls = STRATEGIES[name]
        previous = getattr(cls, "previous_stage", None)
        if previous is not None and results:
            # the stage reads the previous run's folder (a tokenizer), its encoder starts fresh
            settings.setdefault(previous, str(results[-1].out_dir))
            stage_init = None
        if hasattr(cls, "corpus_settings"):  # e.g. a vocabulary built from the corpus
            for key, value in cls.corpus_settings(stage_corpus, settings).items():
                settings.setdefault(key, value)
        strategy = build_strategy(name, stage_gnn, seed=stage_config.seed, init=stage_init,
                                  **settings)  # fmt: skip
        result = pretrain(strategy, stage_corpus, stage_config, progress=progress)
        results.append(result)
        init = result.encoder_path
    return results


def with_dropout(gnn: GNNConfig, drop_ratio: float) -> GNNConfig:
    """The same architecture with another dropout (Hu et al.: 0 to pre-train, 0.5 to fine-tune)."""
    return dataclasses.replace(gnn, drop_ratio=drop_ratio)


__all__ = [
    "HU_SUPERVISED_BATCH_SIZE",
    "HU_SUPERVISED_DROP_RATIO",
    "RECIPES",
    "SELF_SUPERVISED",
    "STRATEGIES",
    "build_strategy",
    "pretrain_recipe",
    "recipe_stages",
    "with_dropout",
]
