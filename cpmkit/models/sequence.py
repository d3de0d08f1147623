"""A small recurrent encoder over SMILES tokens (the survey's "sequence" descriptor).

The tokens come from the kit's HuggingFace SMILES tokenizer (``cpmkit.featurize.tokenizer``);
a bidirectional GRU reads them and the hidden states of the real (non-padding) tokens are averaged:

.. math:: h_G = \\frac{1}{L}\\sum_{t=1}^{L} [\\overrightarrow{h}_t; \\overleftarrow{h}_t],
          \\qquad \\hat y = W h_G + b.

The sequences are packed before the GRU, so the backward direction starts at each SMILES's own
``</s>`` and never reads padding: the embedding of a molecule does not depend on how long the
other SMILES in its batch are. Later lessons swap it for HuggingFace Transformers (ChemBERTa,
MolGPT). Taught in ``notebooks/01_descriptors``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class SmilesGRU(nn.Module):
    """Bidirectional GRU over ``batch.input_ids`` with ``batch.attention_mask``; (B, T) outputs."""

    def __init__(
        self,
        vocab_size: int,
        num_tasks: int = 1,
        emb_dim: int = 64,
        hidden_dim: int = 64,
        num_layers: int = 1,
        pad_token_id: int = 0,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_token_id)
        self.gru = nn.GRU(
            emb_dim, hidden_dim, num_layers=num_layers, batch_first=True, bidirectional=True
        )
        self.head = nn.Linear(2 * hidden_dim, num_tasks)

    def embed(self, batch) -> torch.Tensor:
        """Mean of the GRU states over the real tokens: ``(B, 2 * hidden_dim)``."""
        input_ids, attention_mask = batch.input_ids, batch.attention_mask
        mask = attention_mask.float().unsqueeze(-1)
        # Right padding assumed (the kit's tokenizer pads on the right); lengths live on the CPU
        # because pack_padded_sequence wants them there. A length of 0 is packed as 1 and masked.
        lengths = attention_mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(
            self.embedding(input_ids), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = self.gru(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=input_ids.size(1))
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, batch) -> torch.Tensor:
        return self.head(self.embed(batch))
