r"""MolGPT: a GPT-2 decoder over SMILES tokens, optionally conditioned on properties and scaffold.

Bagal et al. (*MolGPT*, J. Chem. Inf. Model. 2021) train a Transformer decoder to predict the
next SMILES token (``cpmkit.pretrain.autoregressive``) and then sample new molecules from it:

.. math:: p(s) = \prod_{t=1}^{L} p(x_t \mid c, x_{<t}), \qquad
          c = \big[\, W\tilde{\mathbf{p}} + e_{\mathrm{cond}} \;;\;
          E\,x^{\mathrm{scaf}}_{1..S} + e_{\mathrm{cond}} \,\big],

where :math:`c` is a prefix of condition vectors placed before the SMILES tokens: one vector
for the property vector :math:`\tilde{\mathbf p}` (logP, QED, TPSA, SAS ..., each centred and
scaled by ``cpmkit.featurize.properties.PROPERTIES``) through a learned projection :math:`W`,
and the token embeddings :math:`E` of the Murcko scaffold's SMILES. A learned segment
embedding (MolGPT's "type embedding") tells condition positions from SMILES positions. With no
condition the model is a plain ``transformers.GPT2LMHeadModel``.

What differs from the paper: MolGPT adds position embeddings to the SMILES tokens only and puts
the condition prefix in front without positions; here GPT-2 numbers every position, the prefix
included (the prefix has a fixed layout, so the SMILES always start at the same position).
MolGPT pads a scaffold with ``<`` characters that are attended to; here the scaffold is
``<s> scaffold </s>`` padded with ``<pad>`` that the attention mask hides. Properties are
scaled by fixed constants instead of being fed raw. Taught in ``notebooks/03_autoregressive``
and ``notebooks/12_molecular_generation``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.modeling_outputs import CausalLMOutput

from cpmkit.featurize.properties import PROPERTIES
from cpmkit.models.transformer_size import TransformerSize

# transformers 5 renamed the key-value cache argument ``past_key_values`` to ``cache``
_CACHE_ARG = (
    "cache"
    if "cache" in inspect.signature(GPT2LMHeadModel.forward).parameters
    else "past_key_values"
)


@dataclass
class MolGPTConfig(TransformerSize):
    """Size and conditions of a MolGPT (defaults: CPU-sized; the paper: 8 layers, 8 heads, 256).

    The size fields are :class:`~cpmkit.models.transformer_size.TransformerSize`'s
    (``intermediate_size=None``: GPT-2's 4 x width). ``max_length`` counts the SMILES tokens with
    ``<s>``/``</s>``; ``properties`` names keys of ``cpmkit.featurize.properties.PROPERTIES``
    (one prefix vector for all of them); ``scaffold=True`` adds ``scaffold_max_length`` prefix
    positions for the scaffold's tokens. Taught in ``notebooks/03_autoregressive``.
    """

    properties: tuple[str, ...] = ()
    scaffold: bool = False
    scaffold_max_length: int = 64

    def __post_init__(self):
        self.properties = tuple(self.properties)
        unknown = [name for name in self.properties if name not in PROPERTIES]
        if unknown:
            raise ValueError(f"unknown properties {unknown}; choose from {sorted(PROPERTIES)}")

    @property
    def prefix_length(self) -> int:
        """Condition positions in front of the SMILES."""
        return int(bool(self.properties)) + (self.scaffold_max_length if self.scaffold else 0)


class MolGPT(nn.Module):
    """GPT-2 over SMILES tokens with an optional condition prefix (see the module docstring).

    ``forward(input_ids, attention_mask, conditions=, scaffold_ids=, scaffold_mask=, labels=)``
    returns ``CausalLMOutput(loss, logits)`` with ``logits`` ``(B, L, vocab)`` at the SMILES
    positions only: ``logits[:, t]`` predicts token ``t + 1``. ``conditions`` are raw property
    values ``(B, len(properties))``; the model centres and scales them.
    Taught in ``notebooks/03_autoregressive``.
    """

    def __init__(self, tokenizer, config: MolGPTConfig | None = None):
        super().__init__()
        config = config or MolGPTConfig()
        self.config = config
        self.gpt = GPT2LMHeadModel(
            GPT2Config(
                vocab_size=len(tokenizer),
                n_positions=config.prefix_length + config.max_length,
                n_embd=config.hidden_size,
                n_layer=config.num_layers,
                n_head=config.num_heads,
                n_inner=config.intermediate_size,  # None: GPT-2's 4 x n_embd
                resid_pdrop=config.dropout,
                embd_pdrop=config.dropout,
                attn_pdrop=config.dropout,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        )
        conditioned = bool(config.properties) or config.scaffold
        self.condition = (
            nn.Linear(len(config.properties), config.hidden_size) if config.properties else None
        )
        self.segment = nn.Embedding(2, config.hidden_size) if conditioned else None
        center = [PROPERTIES[name].center for name in config.properties]
        scale = [PROPERTIES[name].scale for name in config.properties]
        self.register_buffer("prop_center", torch.tensor(center, dtype=torch.float), False)
        self.register_buffer("prop_scale", torch.tensor(scale, dtype=torch.float), False)

    def _prefix(self, batch_size: int, conditions, scaffold_ids, scaffold_mask):
        """Condition vectors ``(B, P, d)`` and their attention mask ``(B, P)``."""
        cfg, device = self.config, self.gpt.transformer.wte.weight.device
        parts, masks = [], []
        if cfg.properties:
            if conditions is None:
                raise ValueError(
                    f"this MolGPT is conditioned on {cfg.properties}: pass conditions"
                )
            scaled = (conditions.to(device).float() - self.prop_center) / self.prop_scale
            parts.append(self.condition(scaled.view(batch_size, 1, -1)))
            masks.append(torch.ones(batch_size, 1, dtype=torch.long, device=device))
        if cfg.scaffold:
            if scaffold_ids is None:
                raise ValueError("this MolGPT is conditioned on a scaffold: pass scaffold_ids")
            parts.append(self.gpt.transformer.wte(scaffold_ids))
            masks.append(
                scaffold_mask if scaffold_mask is not None else torch.ones_like(scaffold_ids)
            )
        if not parts:
            return None, None
        prefix = torch.cat(parts, 1) + self.segment.weight[0]
        return prefix, torch.cat(masks, 1)

    def _embed(self, input_ids, attention_mask, conditions, scaffold_ids, scaffold_mask):
        embeds = self.gpt.transformer.wte(input_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        prefix, prefix_mask = self._prefix(len(input_ids), conditions, scaffold_ids, scaffold_mask)
        if prefix is None:
            return embeds, attention_mask
        embeds = embeds + self.segment.weight[1]
        return torch.cat([prefix, embeds], 1), torch.cat([prefix_mask, attention_mask], 1)

    def forward(
        self,
        input_ids,
        attention_mask=None,
        conditions=None,
        scaffold_ids=None,
        scaffold_mask=None,
        labels=None,
    ) -> CausalLMOutput:
        embeds, mask = self._embed(
            input_ids, attention_mask, conditions, scaffold_ids, scaffold_mask
        )
        logits = self.gpt(inputs_embeds=embeds, attention_mask=mask).logits
        logits = logits[:, embeds.size(1) - input_ids.size(1) :]
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.size(-1)),
                labels[:, 1:].reshape(-1),
                ignore_index=-100,
            )
        return CausalLMOutput(loss=loss, logits=logits)


def build_molgpt(tokenizer, config: MolGPTConfig | None = None) -> MolGPT:
    """A freshly initialised :class:`MolGPT` over ``tokenizer`` (seed torch first).

    Taught in ``notebooks/03_autoregressive``.
    """
    return MolGPT(tokenizer, config)


def encode_scaffolds(tokenizer, scaffolds: Sequence[str], max_length: int):
    """``(ids, mask)`` of ``<s> scaffold </s>`` padded (or cut, ``</s>`` kept) to ``max_length``.

    Taught in ``notebooks/03_autoregressive``.
    """
    encoded = tokenizer(
        list(scaffolds),
        padding="max_length",
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    return encoded["input_ids"], encoded["attention_mask"]


def _tokens_to_smiles(tokenizer, ids: list[int]) -> str:
    out = []
    for token_id in ids:
        if token_id == tokenizer.eos_token_id:
            break
        out.append(tokenizer.convert_ids_to_tokens(token_id))
    return "".join(out)


#: the first token of every sample in devalab/molgpt's generate.py (``context = "C"``)
MOLGPT_START = "C"


@torch.no_grad()
def sample(
    model: MolGPT,
    tokenizer,
    n: int,
    temperature: float = 1.0,
    max_length: int | None = None,
    conditions=None,
    scaffolds=None,
    seed: int | None = None,
    batch_size: int = 256,
    top_k: int | None = None,
    start: str | None = None,
) -> list[str]:
    r"""Draw ``n`` SMILES from a MolGPT, token by token: :math:`x_t \sim
    \mathrm{softmax}(z_t / T)`.

    Parameters
    ----------
    model : MolGPT
    tokenizer : transformers.PreTrainedTokenizerFast
        The tokenizer the model was trained with.
    n : int
        Number of samples.
    temperature : float
        :math:`T`; ``0`` takes the most likely token at each step (greedy, deterministic).
    max_length : int, optional
        Most tokens per sample with ``<s>``/``</s>`` (default: the model's ``max_length``).
        A sample that reaches it without ``</s>`` is returned cut.
    conditions : array-like, optional
        Raw property values, ``(len(properties),)`` for all samples or ``(n, len(properties))``.
    scaffolds : str or sequence of str, optional
        One scaffold SMILES for all samples, or one per sample.
    seed : int, optional
        Seeds a private generator: the same seed gives the same samples, and torch's global
        generator is left untouched. ``None`` draws from the global generator.
    batch_size : int
        Samples drawn in parallel.
    top_k : int, optional
        Sample among the ``k`` most likely tokens only (MolGPT's sampler uses ``top_k``).
    start : str, optional
        Text every sample begins with, after ``<s>``: ``"C"`` (:data:`MOLGPT_START`) as
        devalab/molgpt's ``generate.py`` does (``context = "C"``: every MOSES sample starts
        with an aliphatic carbon, and the prefix is part of the returned SMILES). ``None`` (the
        default) starts from ``<s>`` alone, so the model draws the first token too.

    Returns
    -------
    list of str
        The SMILES as generated; invalid ones are kept (validity is a metric, not a filter).
        ``<pad>``, ``<s>``, ``<unk>`` and ``<mask>`` are never drawn.
        Taught in ``notebooks/12_molecular_generation``.
    """
    cfg = model.config
    max_length = max_length or cfg.max_length
    if max_length > cfg.max_length:
        raise ValueError(f"max_length {max_length} exceeds the model's {cfg.max_length}")
    device = model.gpt.transformer.wte.weight.device
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    if conditions is not None:
        conditions = torch.as_tensor(np.asarray(conditions, dtype=np.float32))
        conditions = conditions.view(-1, len(cfg.properties)).expand(n, -1)
    if scaffolds is not None:
        scaffolds = [scaffolds] * n if isinstance(scaffolds, str) else list(scaffolds)
        if len(scaffolds) != n:
            raise ValueError(f"{len(scaffolds)} scaffolds for {n} samples")
    banned = [
        tokenizer.pad_token_id,
        tokenizer.bos_token_id,
        tokenizer.unk_token_id,
        tokenizer.mask_token_id,
    ]
    head = [tokenizer.bos_token_id]
    if start:
        head += tokenizer(start, add_special_tokens=False)["input_ids"]
        if tokenizer.unk_token_id in head or len(head) >= max_length - 1:
            raise ValueError(f"start {start!r} has an unknown token or leaves no room to sample")
    was_training = model.training
    model.eval()
    out: list[str] = []
    for first in range(0, n, batch_size):
        b = min(batch_size, n - first)
        cond = conditions[first : first + b].to(device) if conditions is not None else None
        scaf_ids = scaf_mask = None
        if scaffolds is not None:
            scaf_ids, scaf_mask = encode_scaffolds(
                tokenizer, scaffolds[first : first + b], cfg.scaffold_max_length
            )
            scaf_ids, scaf_mask = scaf_ids.to(device), scaf_mask.to(device)
        ids = torch.tensor([head], dtype=torch.long, device=device).expand(b, -1).contiguous()
        embeds, mask = model._embed(ids, None, cond, scaf_ids, scaf_mask)
        done = torch.zeros(b, dtype=torch.bool, device=device)
        past = None
        for _ in range(max_length - 1 - len(head)):  # <s> (+ start) given; a cut sample stays cut
            result = model.gpt(
                inputs_embeds=embeds, attention_mask=mask, use_cache=True, **{_CACHE_ARG: past}
            )
            past = getattr(result, _CACHE_ARG)  # keys and values of the tokens so far
            logits = result.logits[:, -1].float()
            logits[:, banned] = -float("inf")
            if temperature == 0:
                token = logits.argmax(-1)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = logits.topk(min(top_k, logits.size(-1)), -1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, -float("inf"))
                token = torch.multinomial(logits.softmax(-1), 1, generator=generator).view(-1)
            token = token.masked_fill(done, tokenizer.pad_token_id)
            ids = torch.cat([ids, token[:, None]], 1)
            done |= token == tokenizer.eos_token_id
            if done.all():
                break
            embeds = model.gpt.transformer.wte(token[:, None])
            if model.segment is not None:
                embeds = embeds + model.segment.weight[1]
            mask = torch.cat([mask, torch.ones(b, 1, dtype=mask.dtype, device=device)], 1)
        out.extend(_tokens_to_smiles(tokenizer, row[1:]) for row in ids.tolist())
    model.train(was_training)
    return out


__all__ = [
    "MOLGPT_START",
    "MolGPT",
    "MolGPTConfig",
    "build_molgpt",
    "encode_scaffolds",
    "sample",
]
