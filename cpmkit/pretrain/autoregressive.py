r"""Autoregressive modelling on SMILES: MolGPT's next-token prediction (survey section 2.2).

Read the SMILES left to right and predict each token from the ones before it (and from the
conditions, when the model has any: a property vector, a scaffold):

.. math::
    \mathcal{L}_{\mathrm{AM}} = -\frac{1}{L-1}\sum_{t=2}^{L} \log p\big(x_t \mid c, x_{<t}\big),
    \qquad x_1 = \texttt{<s>},\; x_L = \texttt{</s>}.

A causal attention mask makes the model see only earlier tokens, so one forward pass scores
every position. The conditions of a molecule are computed from it with RDKit on the fly
(``cpmkit.featurize.properties.PROPERTIES``, Murcko scaffold), as MolGPT does before training.
Sampling from the trained model: ``cpmkit.models.molgpt.sample``.
Taught in ``notebooks/03_autoregressive``.
"""

from __future__ import annotations

import numpy as np
import torch

from cpmkit.featurize.parse import parse_smiles
from cpmkit.featurize.properties import molecular_properties
from cpmkit.featurize.scaffold import murcko_scaffold
from cpmkit.models.molgpt import MolGPT, encode_scaffolds
from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.optim import decay_groups
from cpmkit.pretrain.smiles import encode, item_smiles, pad_batch, sequence_hparams, view_smiles

IGNORE_INDEX = -100


class NextTokenPrediction(Strategy):
    """MolGPT's pre-training: the causal language-model loss on SMILES tokens.

    Parameters
    ----------
    encoder : MolGPT
        ``cpmkit.models.molgpt.build_molgpt(tokenizer, config)``; when its config names
        ``properties`` or ``scaffold=True`` each molecule's conditions are computed and fed.
    tokenizer : transformers.PreTrainedTokenizerFast
    randomize : bool
        Train on a random SMILES of each molecule (new each epoch) instead of the given one.
    max_length : int, optional
        A SMILES with more tokens (``<s>``/``</s>`` counted) is skipped, not cut: a generator
        must see where molecules end. Default: the model's ``max_length``.

    A molecule whose conditions cannot be computed (it does not parse) is skipped too.
    Taught in ``notebooks/03_autoregressive``.
    """

    name = "ntp"
    input_family = "sequence"

    def __init__(
        self, encoder: MolGPT, tokenizer, randomize: bool = False, max_length: int | None = None
    ):
        super().__init__(encoder)
        self.tokenizer = tokenizer
        self.randomize = bool(randomize)
        self.max_length = int(max_length or encoder.config.max_length)

    def transform(self, item):
        smiles = item_smiles(item)
        ids = encode(
            self.tokenizer, view_smiles(smiles, self.randomize), self.max_length, truncate=False
        )
        if ids is None:
            return None
        out = {"input_ids": ids, "labels": ids.clone()}
        config = self.encoder.config
        if config.properties or config.scaffold:
            mol = parse_smiles(smiles).mol
            if mol is None:
                return None
            if config.properties:
                values = molecular_properties(mol, config.properties)
                if not np.isfinite(values).all():
                    return None
                out["conditions"] = torch.from_numpy(values)
            if config.scaffold:
                scaffold = murcko_scaffold(mol, include_chirality=False)  # as MolGPT: no stereo
                scaffold_ids, scaffold_mask = encode_scaffolds(
                    self.tokenizer, [scaffold], config.scaffold_max_length
                )
                out["scaffold_ids"], out["scaffold_mask"] = scaffold_ids[0], scaffold_mask[0]
        return out

    def collate(self, items):
        return pad_batch(items, {"input_ids": self.tokenizer.pad_token_id, "labels": IGNORE_INDEX})

    def loss(self, batch):
        labels = batch["labels"]
        out = self.encoder(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            conditions=batch.get("conditions"),
            scaffold_ids=batch.get("scaffold_ids"),
            scaffold_mask=batch.get("scaffold_mask"),
            labels=labels,
        )
        target = labels[:, 1:]
        scored = target != IGNORE_INDEX
        hits = out.logits[:, :-1].argmax(-1)[scored] == target[scored]
        return out.loss, {"acc": hits.float().mean().item()}

    def param_groups(self):
        # MolGPT's trainer (minGPT): weight decay on matmul weights only
        return decay_groups(self)

    def hparams(self):
        return sequence_hparams(self)


__all__ = ["NextTokenPrediction"]
