r"""SMILES Transformer: an encoder-decoder that rewrites SMILES; its encoder gives a fingerprint.

Honda, Shi and Ueda (*SMILES Transformer: Pre-trained Molecular Fingerprint for Low Data Drug
Discovery*, 2019) train a Transformer encoder-decoder to reproduce a molecule's SMILES from a
randomly enumerated SMILES of it (``cpmkit.pretrain.autoencoding.SmilesAutoencoding``, whose
docstring says how the authors' code differs: it trains a copy of the random string with a
decoder that sees its own target; ``objective="copy"`` there gives that target):

.. math:: \mathcal{L}_{\mathrm{AE}} = -\sum_{t=1}^{L} \log p\big(y_t \mid y_{<t},
          \mathrm{Enc}(\tilde{x})\big), \qquad \tilde x = \text{random SMILES},\;
          y = \text{canonical SMILES},

and then read a fixed-size fingerprint off the encoder:

.. math:: \mathrm{fp}(x) = \big[\,\mathrm{mean}_i\, h^{(N)}_i \,;\, \max_i h^{(N)}_i \,;\,
          h^{(N)}_{1} \,;\, h^{(N-1)}_{1}\,\big] \in \mathbb{R}^{4d},

the mean- and max-pooled states of the last layer, and the first token's state in the last and
the second-to-last layer (their ``_encode``). Here the model is a
``transformers.BartForConditionalGeneration`` built from a small dataclass config over the kit's
tokenizer (the paper: 4 + 4 layers, 4 heads, 256 dimensions, 861k ChEMBL SMILES). Differences:
BART's learned positions and embedding layer norm instead of the original ``nn.Transformer``'s
sinusoidal positions (which the authors' code indexes by batch slot, not by token); the pooling
skips padding positions (the original pools over them too); the feed-forward width is
``4 * hidden_size`` unless ``intermediate_size`` is set (the authors' code: ``hidden_size``).
Taught in ``notebooks/02_autoencoding``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import BartConfig, BartForConditionalGeneration

from cpmkit.models.transformer_size import TransformerSize


@dataclass
class SmilesTransformerConfig(TransformerSize):
    """Size of the encoder-decoder (defaults: CPU-sized; the paper: 4 layers, 4 heads, 256).

    ``num_layers`` is per side (encoder and decoder); ``intermediate_size=None`` means
    ``4 * hidden_size``; ``max_length`` counts ``<s>``/``</s>``.
    Taught in ``notebooks/02_autoencoding``.
    """

    def to_hf(self, tokenizer) -> BartConfig:
        """The transformers config over ``tokenizer``'s vocabulary and special tokens."""
        ffn = self.intermediate_size or 4 * self.hidden_size
        return BartConfig(
            vocab_size=len(tokenizer),
            d_model=self.hidden_size,
            encoder_layers=self.num_layers,
            decoder_layers=self.num_layers,
            encoder_attention_heads=self.num_heads,
            decoder_attention_heads=self.num_heads,
            encoder_ffn_dim=ffn,
            decoder_ffn_dim=ffn,
            max_position_embeddings=self.max_length,
            dropout=self.dropout,
            attention_dropout=self.dropout,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            # the decoder reads <s> y_1 ... and writes y_1 ... </s>
            decoder_start_token_id=tokenizer.bos_token_id,
            forced_bos_token_id=None,
            forced_eos_token_id=None,
        )


def build_smiles_transformer(
    tokenizer,
    config: SmilesTransformerConfig | None = None,
) -> BartForConditionalGeneration:
    """A freshly initialised encoder-decoder over ``tokenizer`` (seed torch first).

    ``model(input_ids, attention_mask, labels=...)`` gives the reconstruction loss; ``labels``
    are the target's ids after ``<s>`` (the decoder's first input is ``<s>``).
    Taught in ``notebooks/02_autoencoding``.
    """
    config = config or SmilesTransformerConfig()
    return BartForConditionalGeneration(config.to_hf(tokenizer))


def _batches(tokenizer, smiles: Sequence[str], batch_size: int, max_length: int, device):
    for start in range(0, len(smiles), batch_size):
        chunk = list(smiles[start : start + batch_size])
        encoded = tokenizer(
            chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        yield encoded["input_ids"].to(device), encoded["attention_mask"].to(device)


@torch.no_grad()
def smiles_fingerprint(
    model: BartForConditionalGeneration, tokenizer, smiles: Sequence[str], batch_size: int = 256
) -> np.ndarray:
    """The SMILES Transformer fingerprint of each SMILES: ``(N, 4 * hidden_size)`` float32.

    Mean and max over the real tokens of the last encoder layer, then the first token (``<s>``)
    of the last and of the second-to-last layer (see the module docstring). The model runs in
    eval mode and is put back in its former mode. Taught in ``notebooks/02_autoencoding``.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    max_length = model.config.max_position_embeddings
    encoder = model.get_encoder()
    parts = []
    for input_ids, mask in _batches(tokenizer, smiles, batch_size, max_length, device):
        states = encoder(
            input_ids=input_ids, attention_mask=mask, output_hidden_states=True
        ).hidden_states
        last, before = states[-1], states[-2] if len(states) > 2 else states[-1]
        real = mask.unsqueeze(-1).to(last.dtype)
        mean = (last * real).sum(1) / real.sum(1).clamp(min=1.0)
        peak = last.masked_fill(real == 0, -float("inf")).max(1).values
        parts.append(torch.cat([mean, peak, last[:, 0], before[:, 0]], 1).float().cpu())
    model.train(was_training)
    if not parts:
        return np.zeros((0, 4 * model.config.d_model), dtype=np.float32)
    return torch.cat(parts).numpy()


@torch.no_grad()
def reconstruct(
    model: BartForConditionalGeneration,
    tokenizer,
    smiles: Sequence[str],
    batch_size: int = 256,
    max_length: int | None = None,
) -> list[str]:
    """Greedy decoding of each SMILES through the autoencoder (what it rewrites it into).

    Compare with ``canonical_smiles`` to measure reconstruction accuracy; invalid outputs are
    returned as they are. Taught in ``notebooks/02_autoencoding``.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    limit = max_length or model.config.max_position_embeddings
    out: list[str] = []
    for input_ids, mask in _batches(tokenizer, smiles, batch_size, limit, device):
        memory = model.get_encoder()(input_ids=input_ids, attention_mask=mask)
        ids = torch.full(
            (len(input_ids), 1),
            model.config.decoder_start_token_id,
            dtype=torch.long,
            device=device,
        )
        done = torch.zeros(len(input_ids), dtype=torch.bool, device=device)
        for _ in range(limit - 1):
            logits = model(
                encoder_outputs=memory, attention_mask=mask, decoder_input_ids=ids
            ).logits[:, -1]
            token = logits.argmax(-1).masked_fill(done, tokenizer.pad_token_id)
            ids = torch.cat([ids, token[:, None]], 1)
            done |= token == tokenizer.eos_token_id
            if done.all():
                break
        for row in ids[:, 1:].tolist():
            tokens = []
            for token_id in row:
                if token_id in (tokenizer.eos_token_id, tokenizer.pad_token_id):
                    break
                tokens.append(tokenizer.convert_ids_to_tokens(token_id))
            out.append("".join(tokens))
    model.train(was_training)
    return out


__all__ = [
    "SmilesTransformerConfig",
    "build_smiles_transformer",
    "reconstruct",
    "smiles_fingerprint",
]
