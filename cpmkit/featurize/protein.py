"""Character tokenizers for DeepDTA: amino-acid sequences and SMILES, as HuggingFace tokenizers.

DeepDTA (Öztürk et al. 2018) reads a protein as its one-letter amino-acid codes and a SMILES as
its characters, each mapped to an integer, cut (or zero-padded) to a fixed length: 1,000
residues for proteins, 85 (Davis) or 100 (KIBA) characters for SMILES. Here both are
:class:`transformers.PreTrainedTokenizerFast` objects like the kit's SMILES tokenizer
(:mod:`cpmkit.featurize.tokenizer`): ``tokenizer(sequences, padding="max_length",
truncation=True)`` gives ``input_ids`` and ``attention_mask``; ``<pad>`` is id 0 as in
DeepDTA, so an embedding with ``padding_idx=0`` leaves padding at zero.

Vocabularies: the 25 letters of DeepDTA's protein alphabet (the 20 standard amino acids plus
B, O, U, X, Z), and a fixed SMILES character set; a character outside them reads as ``<unk>``
(DeepDTA would raise a KeyError). The ids differ from DeepDTA's dictionaries, which changes
nothing for a learnt embedding. No ``<s>``/``</s>`` are added (DeepDTA has none).
Taught in ``notebooks/13_drug_target_interaction``.
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

PAD, UNK = "<pad>", "<unk>"
PROTEIN_LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXYZ"  # DeepDTA's 25-letter alphabet (no J)
SMILES_CHARS = "#%()+-./0123456789=@ABCDEFGHIKLMNOPRSTUVWXYZ[\\]abcdefghiklmnoprstuy"
PROTEIN_MAX_LENGTH = 1000  # DeepDTA's cap: residues after the first 1,000 are cut
SMILES_MAX_LENGTH = {"davis": 85, "kiba": 100}  # DeepDTA's max_smi_len per data set


def build_char_tokenizer(alphabet: str, model_max_length: int) -> PreTrainedTokenizerFast:
    """One token per character of ``alphabet``; ids: ``<pad>`` 0, the letters 1.., ``<unk>``."""
    vocab = {PAD: 0}
    for char in alphabet:
        vocab.setdefault(char, len(vocab))
    vocab[UNK] = len(vocab)
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    backend.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        unk_token=UNK,
        model_max_length=model_max_length,
        padding_side="right",
        truncation_side="right",
    )


def build_protein_tokenizer(max_length: int = PROTEIN_MAX_LENGTH) -> PreTrainedTokenizerFast:
    """DeepDTA's protein tokenizer: one-letter codes, cut at ``max_length`` residues.

    Taught in ``notebooks/13_drug_target_interaction``.
    """
    return build_char_tokenizer(PROTEIN_LETTERS, max_length)


def build_smiles_char_tokenizer(max_length: int = 100) -> PreTrainedTokenizerFast:
    """DeepDTA's SMILES tokenizer: one token per character (``Cl`` is ``C``, ``l``).

    Taught in ``notebooks/13_drug_target_interaction``.
    """
    return build_char_tokenizer(SMILES_CHARS, max_length)


def encode_fixed(tokenizer: PreTrainedTokenizerFast, texts, max_length: int | None = None):
    """``(input_ids, attention_mask)`` as ``(N, max_length)`` long tensors, padded and cut."""
    out = tokenizer(
        list(texts),
        padding="max_length",
        truncation=True,
        max_length=max_length or tokenizer.model_max_length,
        return_tensors="pt",
    )
    return out["input_ids"], out["attention_mask"]


__all__ = [
    "PROTEIN_LETTERS",
    "PROTEIN_MAX_LENGTH",
    "SMILES_CHARS",
    "SMILES_MAX_LENGTH",
    "build_char_tokenizer",
    "build_protein_tokenizer",
    "build_smiles_char_tokenizer",
    "encode_fixed",
]
