r"""ChemBERTa / SMILES-BERT: a RoBERTa encoder over SMILES tokens, and its fine-tuning head.

SMILES-BERT (Wang et al. 2019) and ChemBERTa (Chithrananda et al. 2020) take BERT's recipe to
SMILES: a bidirectional Transformer encoder reads the tokens, a linear head over the vocabulary
predicts the tokens that were hidden (``cpmkit.pretrain.masking``):

.. math:: h_{1..L} = \mathrm{Encoder}(x_{1..L}), \qquad
          p(x_i \mid \tilde x) = \mathrm{softmax}(W\, \mathrm{LN}(\mathrm{GELU}(U h_i)) + b).

Here the model is ``transformers.RobertaForMaskedLM`` built from a small dataclass config over
the kit's regex tokenizer (``cpmkit.featurize.tokenizer``), so it trains on a CPU in minutes.
ChemBERTa itself is RoBERTa with 6 layers, 12 heads and a 52k-token BPE vocabulary trained on
up to 10M PubChem SMILES; that checkpoint loads with :func:`cpmkit.models.hub.from_hub`.
For property prediction :class:`SequenceClassifier` puts a linear head on the state of ``<s>``
(or the mean over real tokens) and runs in the kit's fine-tune harness through
``finetune(..., model_factory=classifier_factory(...))``. Taught in
``notebooks/04_masked_components`` and ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import RobertaConfig, RobertaForMaskedLM, RobertaModel

from cpmkit.models.transformer_size import TransformerSize


@dataclass
class ChemBERTaConfig(TransformerSize):
    """Size of a RoBERTa masked LM (defaults: a CPU-sized model, not ChemBERTa's 6 x 768).

    ``intermediate_size=None`` means ``4 * hidden_size``; ``max_length`` counts ``<s>`` and
    ``</s>``. Taught in ``notebooks/04_masked_components``.
    """

    def to_hf(self, tokenizer) -> RobertaConfig:
        """The transformers config over ``tokenizer``'s vocabulary and special tokens."""
        return RobertaConfig(
            vocab_size=len(tokenizer),
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            intermediate_size=self.intermediate_size or 4 * self.hidden_size,
            # RoBERTa numbers positions from pad_token_id + 1: room for max_length + 2 rows
            max_position_embeddings=self.max_length + 2,
            type_vocab_size=1,
            hidden_dropout_prob=self.dropout,
            attention_probs_dropout_prob=self.dropout,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )


def build_masked_lm(tokenizer, config: ChemBERTaConfig | None = None) -> RobertaForMaskedLM:
    """A freshly initialised RoBERTa masked LM over ``tokenizer`` (seed torch first).

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerFast
        E.g. ``cpmkit.featurize.tokenizer.build_smiles_tokenizer()``.
    config : ChemBERTaConfig, optional

    Returns
    -------
    transformers.RobertaForMaskedLM
        ``model(input_ids, attention_mask, labels=...)`` gives ``.loss`` and ``.logits``
        ``(B, L, vocab)``. Taught in ``notebooks/04_masked_components``.
    """
    config = config or ChemBERTaConfig()
    return RobertaForMaskedLM(config.to_hf(tokenizer))


def _inputs(batch) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(batch, Mapping):  # a dict or a BatchEncoding; else a PyG batch
        return batch["input_ids"], batch["attention_mask"]
    return batch.input_ids, batch.attention_mask


class SequenceClassifier(nn.Module):
    r"""Pooled Transformer states -> linear head: ``(B, num_tasks)`` logits for the harness.

    .. math:: \hat y = W\,\mathrm{Dropout}(h_{\langle s \rangle}) + b \quad (\text{pool="cls"})
              \qquad \text{or} \qquad
              \hat y = W\,\mathrm{Dropout}\big(\tfrac{1}{L}\textstyle\sum_i h_i\big) + b
              \quad (\text{pool="mean"}).

    ``batch`` is what ``cpmkit.featurize.tokenizer.token_graphs`` batches into (``input_ids``
    and ``attention_mask``, ``(B, L)``) or a dict with those keys. ChemBERTa's own head
    (``RobertaForSequenceClassification``) adds a dense + tanh layer before the linear one;
    a single linear layer keeps the comparison with the GNN's head fair.
    Taught in ``notebooks/11_property_prediction``.
    """

    def __init__(
        self, encoder: RobertaModel, num_tasks: int = 1, pool: str = "cls", dropout: float = 0.1
    ):
        super().__init__()
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean', got {pool!r}")
        self.encoder, self.pool = encoder, pool
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_tasks)

    def embed(self, batch) -> torch.Tensor:
        """The pooled molecule vector ``(B, hidden_size)``."""
        input_ids, attention_mask = _inputs(batch)
        longest = self.encoder.config.max_position_embeddings - 2
        if input_ids.size(1) > longest:
            raise ValueError(
                f"sequences of {input_ids.size(1)} tokens, but this encoder has positions for "
                f"{longest}: pass max_length={longest} to token_graphs"
            )
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        if self.pool == "cls":
            return states[:, 0]
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, batch) -> torch.Tensor:
        return self.head(self.dropout(self.embed(batch)))


def masked_lm_encoder_state(state: dict) -> dict:
    """The ``RobertaModel`` part of a masked LM's state_dict (``roberta.`` prefix removed).

    Accepts a ``RobertaForMaskedLM`` state_dict (what ``MaskedLanguageModeling`` saves as
    ``encoder.pt``) or a bare ``RobertaModel`` one. Taught in ``notebooks/11_property_prediction``.
    """
    if any(key.startswith("roberta.") for key in state):
        return {k[len("roberta.") :]: v for k, v in state.items() if k.startswith("roberta.")}
    return dict(state)


def load_masked_lm_encoder(classifier: SequenceClassifier, pretrained) -> None:
    """Load pre-trained masked-LM weights (a path, a state_dict or a model) into ``classifier``.

    Strict: every encoder weight must be there with the same shape (same config, same
    tokenizer); the head stays freshly initialised. Taught in ``notebooks/11_property_prediction``.
    """
    if isinstance(pretrained, (str, os.PathLike)):
        pretrained = torch.load(Path(pretrained), map_location="cpu", weights_only=True)
    if isinstance(pretrained, nn.Module):
        pretrained = pretrained.state_dict()
    state = masked_lm_encoder_state(pretrained)
    # the MLM has no pooling layer; a classifier never uses one either
    own = classifier.encoder.state_dict()
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or extra:
        raise ValueError(
            f"these weights do not fit the classifier's encoder: missing {missing[:4]}, "
            f"unexpected {extra[:4]} (was it pre-trained with another config or model type?)"
        )
    classifier.encoder.load_state_dict(state, strict=True)


def build_classifier(
    tokenizer,
    num_tasks: int,
    config: ChemBERTaConfig | None = None,
    pretrained=None,
    pool: str = "cls",
) -> SequenceClassifier:
    """A :class:`SequenceClassifier` over a RoBERTa of ``config``, optionally pre-trained.

    ``pretrained`` is the ``encoder.pt`` of a ``MaskedLanguageModeling`` run (or any masked-LM
    state_dict, path or model of the same config). Taught in ``notebooks/11_property_prediction``.
    """
    config = config or ChemBERTaConfig()
    encoder = RobertaModel(config.to_hf(tokenizer), add_pooling_layer=False)
    classifier = SequenceClassifier(encoder, num_tasks, pool=pool, dropout=config.dropout)
    if pretrained is not None:
        load_masked_lm_encoder(classifier, pretrained)
    return classifier


def classifier_factory(
    tokenizer, config: ChemBERTaConfig | None = None, pretrained=None, pool: str = "cls"
):
    """``num_tasks -> SequenceClassifier``, the ``model_factory`` of ``cpmkit.tasks.finetune``.

    Example::

        graphs = token_graphs(tokenizer, dataset.smiles, labels, max_length=config.max_length)
        finetune(graphs, split, FinetuneConfig(...),
                 model_factory=classifier_factory(tokenizer, config, result.encoder_path))

    Taught in ``notebooks/11_property_prediction``.
    """

    def factory(num_tasks: int) -> SequenceClassifier:
        return build_classifier(tokenizer, num_tasks, config, pretrained, pool)

    return factory


__all__ = [
    "ChemBERTaConfig",
    "SequenceClassifier",
    "build_classifier",
    "build_masked_lm",
    "classifier_factory",
    "load_masked_lm_encoder",
    "masked_lm_encoder_state",
]
