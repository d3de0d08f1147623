"""What the SMILES strategies share: a corpus of strings, one molecule's tokens, padded batches.

The sequence strategies (``masking``, ``autoregressive``, the SMILES part of
``autoencoding``) take a corpus of plain SMILES strings, a :class:`SmilesCorpus`, or a
``MoleculeDataset`` (each graph's ``.smiles`` is read, the graph itself is not used). Their
``transform`` tokenizes one molecule into a dict of 1-D tensors; :func:`pad_batch` stacks those
into ``(B, L)`` tensors, right-padded, with an ``attention_mask``; the loop moves the dict to
the device. Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch

from cpmkit.featurize.augment import randomize_smiles


class SmilesCorpus(Sequence):
    """A list of SMILES with a ``name`` and a content ``key`` (the loop's cache tells corpora
    apart by them; a plain list is only known by its length).

    Taught in ``notebooks/04_masked_components``.
    """

    def __init__(self, smiles, name: str = "smiles"):
        self.smiles = [str(s) for s in smiles]
        self.name = name
        digest = hashlib.sha256("\n".join(self.smiles).encode()).hexdigest()[:16]
        self.key = {"name": name, "size": len(self.smiles), "sha256": digest}

    def __len__(self) -> int:
        return len(self.smiles)

    def __getitem__(self, index):
        return self.smiles[index]

    def __repr__(self) -> str:
        return f"SmilesCorpus({self.name!r}, {len(self)} SMILES)"


def item_smiles(item) -> str:
    """The SMILES of one corpus item: a string, a dict with ``"smiles"``, or a graph's
    ``.smiles``. Taught in ``notebooks/04_masked_components``."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and "smiles" in item:
        return item["smiles"]
    smiles = getattr(item, "smiles", None)
    if not isinstance(smiles, str):
        raise TypeError(f"a corpus item needs a SMILES; got {type(item).__name__} without one")
    return smiles


def view_smiles(smiles: str, randomize: bool) -> str:
    """``smiles`` itself, or a random SMILES of it (unparsable input is kept as it is).

    Taught in ``notebooks/02_autoencoding``.
    """
    if not randomize:
        return smiles
    return randomize_smiles(smiles) or smiles


def encode(tokenizer, smiles: str, max_length: int, truncate: bool) -> torch.Tensor | None:
    """``<s> tokens </s>`` as a 1-D long tensor; longer than ``max_length``: cut (``</s>`` kept)
    when ``truncate``, else ``None`` (the molecule is skipped).

    Taught in ``notebooks/04_masked_components``.
    """
    ids = tokenizer(smiles, truncation=truncate, max_length=max_length)["input_ids"]
    if len(ids) > max_length:
        return None
    return torch.tensor(ids, dtype=torch.long)


def pad_batch(items: list[dict], pad_values: dict[str, int]) -> dict[str, torch.Tensor] | None:
    """Stack dicts of 1-D tensors into ``(B, L_max)`` tensors, right-padded per key.

    ``pad_values`` gives each key's fill (``<pad>`` for ids, ``-100`` for labels);
    ``input_ids`` also gets its ``attention_mask``. Other keys (tensors of one shape) are
    stacked as they are. ``None`` items are dropped; ``None`` if none is left.
    Taught in ``notebooks/04_masked_components``.
    """
    items = [item for item in items if item is not None]
    if not items:
        return None
    batch = {}
    for key in items[0]:
        values = [item[key] for item in items]
        if key not in pad_values:
            batch[key] = torch.stack(values)
            continue
        length = max(len(v) for v in values)
        padded = torch.full((len(values), length), pad_values[key], dtype=values[0].dtype)
        mask = torch.zeros(len(values), length, dtype=torch.long)
        for row, value in enumerate(values):
            padded[row, : len(value)] = value
            mask[row, : len(value)] = 1
        batch[key] = padded
        if key == "input_ids":
            batch["attention_mask"] = mask
    return batch


def tokenizer_digest(tokenizer) -> str:
    """A short hash of a tokenizer's vocabulary (a run's identity depends on it).

    Taught in ``notebooks/04_masked_components``.
    """
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    return hashlib.sha256(repr(vocab).encode()).hexdigest()[:12]


def sequence_hparams(strategy) -> dict:
    """What every SMILES strategy's run identity holds: the view, the model, the vocabulary.

    Taught in ``notebooks/03_autoregressive``.
    """
    from cpmkit.models.hub import model_summary

    return {
        "randomize": strategy.randomize,
        "max_length": strategy.max_length,
        "model": model_summary(strategy.encoder),
        "tokenizer": tokenizer_digest(strategy.tokenizer),
    }


__all__ = [
    "SmilesCorpus",
    "encode",
    "item_smiles",
    "pad_batch",
    "sequence_hparams",
    "tokenizer_digest",
    "view_smiles",
]
