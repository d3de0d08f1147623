"""Public checkpoints from the Hugging Face Hub, with an error that says what to do offline.

``from_hub("seyonec/ChemBERTa-zinc-base-v1")`` loads a published chemical language model and
its own tokenizer (not the kit's regex tokenizer: a checkpoint only understands the vocabulary
it was trained with). Without network the Hub client raises an ``OSError`` that talks about
connection errors; :func:`from_hub` turns it into :class:`HubUnavailable`, which says that the
machine looks offline and that ``HF_HUB_OFFLINE=1`` (a copy already in the HF cache) or a
local folder saved with ``save_pretrained`` works. Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

#: what ``kind`` selects: the transformers Auto class of each head
KINDS = {
    "masked_lm": "AutoModelForMaskedLM",
    "causal_lm": "AutoModelForCausalLM",
    "seq2seq": "AutoModelForSeq2SeqLM",
    "base": "AutoModel",
}


class HubUnavailable(OSError):
    """A Hub checkpoint could not be loaded (offline, unknown name, or not in the cache)."""


def _offline_flag() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def from_hub(name: str, kind: str = "masked_lm", with_tokenizer: bool = True, **kwargs):
    """Load a public checkpoint by Hub name (or a local folder) as ``(model, tokenizer)``.

    Parameters
    ----------
    name : str
        A Hub id such as ``"seyonec/ChemBERTa-zinc-base-v1"`` (ChemBERTa, Chithrananda et al.
        2020) or ``"entropy/gpt2_zinc_87m"``, or a folder written by ``save_pretrained``.
    kind : {"masked_lm", "causal_lm", "seq2seq", "base"}
        Which head to load (see :data:`KINDS`).
    with_tokenizer : bool
        Also load the checkpoint's own tokenizer (``None`` in its place otherwise).
    **kwargs
        Passed to ``from_pretrained`` (``cache_dir=``, ``revision=``, ``local_files_only=``).

    Returns
    -------
    (transformers.PreTrainedModel, tokenizer or None)

    Raises
    ------
    HubUnavailable
        The checkpoint is neither a local folder nor reachable: offline without a cached copy,
        or a wrong name. The message says which and how to work offline.
        Taught in ``notebooks/04_masked_components``.
    """
    import transformers

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, got {kind!r}")
    auto = getattr(transformers, KINDS[kind])
    try:
        model = auto.from_pretrained(name, **kwargs)
        tokenizer = (
            transformers.AutoTokenizer.from_pretrained(name, **kwargs) if with_tokenizer else None
        )
    except OSError as error:
        if Path(name).exists():
            raise  # a local folder that does not hold a checkpoint: the original error says why
        where = (
            "this machine is offline (HF_HUB_OFFLINE=1) and the Hugging Face cache holds no "
            "copy of it"
            if _offline_flag()
            else "the Hugging Face Hub could not be reached (this machine looks offline) or "
            "the name is wrong"
        )
        raise HubUnavailable(
            f"could not load {name!r}: {where}. To work offline, download it once on a "
            "machine with network (it lands in the HF cache, ~/.cache/huggingface) and set "
            "HF_HUB_OFFLINE=1, or save it with model.save_pretrained(folder) and pass that "
            f"local folder as the name. (original error: {str(error).splitlines()[0]})"
        ) from error
    return model, tokenizer


def model_summary(model: nn.Module) -> dict:
    """The architecture of a transformers model as plain JSON (what keys a pre-training run).

    Taught in ``notebooks/04_masked_components``.
    """
    config = getattr(model, "config", None)
    if hasattr(config, "to_dict") and not hasattr(config, "model_type"):
        return {"class": type(model).__name__, **config.to_dict()}  # a kit dataclass config
    if config is None:
        return {"class": type(model).__name__}
    keys = (
        "model_type",
        "vocab_size",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "max_position_embeddings",
    )
    found = {key: getattr(config, key) for key in keys if hasattr(config, key)}
    return {"class": type(model).__name__, **found}


__all__ = ["KINDS", "HubUnavailable", "from_hub", "model_summary"]
