"""A small recurrent encoder over SMILES tokens (the survey's "sequence" descriptor).

The tokens come from the kit's HuggingFace SMILES tokenizer (``cpmkit.featurize.tokenizer``);
a bidirectional GRU reads them and the hidden states of the real (non-padding) tokens are averaged:

.. math:: h_G = \\frac{1}{L}\\sum_{t=1}^{L} [\\overrightarrow{h}_t; \\overleftarrow{h}_t],
          \\qquad \\hat y = W h_G + b.

Later lessons swap it for HuggingFace Transformers (ChemBERTa, MolGPT). Taught in
``notebooks/01_descriptors``.
"""

from __future__ import annotations

import torch
from torch import nn


class SmilesGRU(nn.Module):
    """Bidirectional GRU over ``batch.input_ids`` with ``batch.attention_mask``; (B, T) outputs."""

    def __init__(self, vocab_size: int, num_tasks: int = 1, emb_dim: int = 64,
                 hidden_dim: int = 64, num_layers: int = 1, pad_token_id: int = 0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_token_id)
        self.gru = nn.GRU(emb_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                          bidirectional=True)
        self.head = nn.Linear(2 * hidden_dim, num_tasks)

    def embed(self, batch) -> torch.Tensor:
        mask = batch.attention_mask.float().unsqueeze(-1)
        states, _ = self.gru(self.embedding(batch.input_ids))
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, batch) -> torch.Tensor:
        return self.head(self.embed(batch))
