r"""Masked language modelling on SMILES: ChemBERTa / SMILES-BERT (survey section 2.3).

BERT's objective on SMILES tokens: choose 15% of the tokens (never ``<s>``, ``</s>``, ``<pad>``,
``<unk>``), hide them, and predict the originals from everything else:

.. math::
    \mathcal{L}_{\mathrm{MLM}} = -\frac{1}{|\mathcal{M}|}\sum_{i \in \mathcal{M}}
        \log p\big(x_i \mid \tilde{x}\big), \qquad
    \tilde x_i = \begin{cases}
        \texttt{<mask>} & \text{with probability } 0.8 \\
        \text{a random token} & \text{with probability } 0.1 \\
        x_i & \text{with probability } 0.1
    \end{cases} \quad (i \in \mathcal{M}).

The 10% random and 10% unchanged tokens keep the model from learning that only ``<mask>``
positions matter (fine-tuning never shows ``<mask>``). This is what
``transformers.DataCollatorForLanguageModeling`` does, with two changes: a random token is
drawn from the non-special vocabulary only, and a SMILES whose draw chose no token gets one
(so every molecule contributes to the loss). The draws come from torch's global generator,
per molecule in the loader, like the graph strategies' masks.
Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import torch
from transformers import RobertaForMaskedLM

from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.smiles import encode, item_smiles, pad_batch, sequence_hparams, view_smiles

IGNORE_INDEX = -100  # the label of a position that is not predicted (PyTorch's default)


def mask_tokens(
    input_ids: torch.Tensor,
    tokenizer,
    mask_prob: float = 0.15,
    mask_token_prob: float = 0.8,
    random_token_prob: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking of token ids: ``(masked_ids, labels)``.

    Parameters
    ----------
    input_ids : torch.Tensor
        ``(L,)`` or ``(B, L)`` token ids (``<pad>`` allowed; it is never chosen).
    tokenizer : transformers.PreTrainedTokenizerFast
        Gives the special ids, ``<mask>`` and the vocabulary size.
    mask_prob : float
        Chance that a (non-special) token is chosen; each sequence gets at least one.
    mask_token_prob, random_token_prob : float
        Of the chosen tokens, the share replaced by ``<mask>`` and by a random non-special
        token; the rest stays unchanged.

    Returns
    -------
    masked_ids : torch.Tensor
        Same shape as ``input_ids``.
    labels : torch.Tensor
        The original id at chosen positions, ``-100`` everywhere else.
        Taught in ``notebooks/04_masked_components``.
    """
    if not 0.0 < mask_prob <= 1.0 or mask_token_prob + random_token_prob > 1.0:
        raise ValueError("need 0 < mask_prob <= 1 and mask_token_prob + random_token_prob <= 1")
    special = torch.tensor(sorted(tokenizer.all_special_ids), dtype=input_ids.dtype)
    rows = input_ids.reshape(-1, input_ids.size(-1))
    maskable = ~torch.isin(rows, special)
    chosen = (torch.rand(rows.shape) < mask_prob) & maskable
    for row in (~chosen.any(1) & maskable.any(1)).nonzero().view(-1).tolist():
        # a short SMILES can draw no token at all: take one at random instead
        where = maskable[row].nonzero().view(-1)
        chosen[row, where[torch.randint(len(where), (1,))]] = True
    labels = torch.where(chosen, rows, torch.full_like(rows, IGNORE_INDEX))
    how = torch.rand(rows.shape)
    to_mask = chosen & (how < mask_token_prob)
    to_random = chosen & (how >= mask_token_prob) & (how < mask_token_prob + random_token_prob)
    ordinary = torch.tensor(
        [i for i in range(len(tokenizer)) if i not in set(special.tolist())], dtype=rows.dtype
    )
    random_ids = ordinary[torch.randint(len(ordinary), rows.shape)]
    masked = rows.masked_fill(to_mask, tokenizer.mask_token_id)
    masked = torch.where(to_random, random_ids, masked)
    return masked.view_as(input_ids), labels.view_as(input_ids)


class MaskedLanguageModeling(Strategy):
    """ChemBERTa's pre-training: recover 15% masked SMILES tokens with a RoBERTa masked LM.

    Parameters
    ----------
    encoder : transformers.RobertaForMaskedLM
        E.g. ``cpmkit.models.chemberta.build_masked_lm(tokenizer, config)``; its whole
        state_dict is saved as ``encoder.pt`` (``build_classifier(pretrained=...)`` loads it).
    tokenizer : transformers.PreTrainedTokenizerFast
        The tokenizer the model was built over.
    mask_prob : float
        Share of tokens chosen (BERT: 0.15); chosen tokens follow the 80/10/10 rule.
    randomize : bool
        Read a random SMILES of each molecule (a new one each epoch) instead of the given one.
    max_length : int, optional
        Longer SMILES are cut (``</s>`` kept); default: what the model's positions allow.

    Taught in ``notebooks/04_masked_components``.
    """

    name = "mlm"

    def __init__(
        self,
        encoder: RobertaForMaskedLM,
        tokenizer,
        mask_prob: float = 0.15,
        randomize: bool = False,
        max_length: int | None = None,
    ):
        super().__init__(encoder)
        self.tokenizer = tokenizer
        self.mask_prob, self.randomize = float(mask_prob), bool(randomize)
        self.max_length = int(max_length or encoder.config.max_position_embeddings - 2)

    def transform(self, item):
        smiles = view_smiles(item_smiles(item), self.randomize)
        ids = encode(self.tokenizer, smiles, self.max_length, truncate=True)
        masked, labels = mask_tokens(ids, self.tokenizer, self.mask_prob)
        return {"input_ids": masked, "labels": labels}

    def collate(self, items):
        return pad_batch(items, {"input_ids": self.tokenizer.pad_token_id, "labels": IGNORE_INDEX})

    def loss(self, batch):
        out = self.encoder(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            labels=batch["labels"],
        )
        chosen = batch["labels"] != IGNORE_INDEX
        hits = out.logits.argmax(-1)[chosen] == batch["labels"][chosen]
        return out.loss, {"acc": hits.float().mean().item()}

    def hparams(self):
        return {"mask_prob": self.mask_prob, **sequence_hparams(self)}


__all__ = ["IGNORE_INDEX", "MaskedLanguageModeling", "mask_tokens"]
