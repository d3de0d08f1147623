"""A SMILES tokenizer for sequence models: the Molecular Transformer regex as a HF tokenizer.

Schwaller et al. (*Molecular Transformer*, ACS Cent. Sci. 2019) split a SMILES into chemically
meaningful tokens with one regular expression: a bracket atom (``[C@@H]``, ``[nH]``, ``[Na+]``)
is one token, so are the two-letter organic atoms ``Br`` and ``Cl``, each bond symbol, each branch
parenthesis and each ring-closure label (``1``, ``%12``). Every character of the SMILES lands in
exactly one token, so ``"".join(tokens) == smiles``.

Here that regex is the pre-tokenizer of a word-level :mod:`tokenizers` model, wrapped as a
``transformers.PreTrainedTokenizerFast`` with the special tokens ``<pad> <s> </s> <unk> <mask>``
and a post-processor that writes ``<s> ... </s>`` around each SMILES, so the same object feeds a
masked language model (RoBERTa, ChemBERTa) and an autoregressive one (GPT-2, MolGPT).
A piece of SMILES outside the vocabulary becomes ``<unk>``; :func:`coverage` counts those.
Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import rdkit
import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
from torch_geometric.data import Data
from transformers import PreTrainedTokenizerFast

VERSION = "smiles-regex-1"

# Schwaller et al. 2019, verbatim (github.com/pschwllr/MolecularTransformer, README).
SMILES_REGEX = (
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$"
    r"|\%[0-9]{2}|[0-9])"
)

PAD, BOS, EOS, UNK, MASK = "<pad>", "<s>", "</s>", "<unk>", "<mask>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK, MASK)  # ids 0..4, in this order

# Tokens every vocabulary holds even when the corpus lacks them: the regex's whole non-bracket
# alphabet, all two-digit ring labels, and bracket atoms common in drug-like and salt SMILES.
COMMON_TOKENS = (
    ("B", "Br", "C", "Cl", "N", "O", "S", "P", "F", "I", "b", "c", "n", "o", "s", "p")
    + ("(", ")", ".", "=", "#", "-", "+", "\\", "/", ":", "~", "@", "?", ">", "*", "$")
    + tuple(str(d) for d in range(10))
    + tuple(f"%{d}" for d in range(10, 100))
    + (
        "[nH]", "[NH+]", "[NH2+]", "[NH3+]", "[NH4+]", "[N+]", "[N-]", "[n+]", "[n-]", "[nH+]",
        "[O-]", "[O+]", "[o+]", "[OH-]", "[S+]", "[S-]", "[s+]", "[P+]", "[C-]", "[CH-]",
        "[CH2-]", "[B-]", "[BH-]", "[BH3-]", "[Si]", "[SiH]", "[Se]", "[se]", "[SeH]", "[Te]",
        "[te]", "[As]", "[Ge]", "[Sn]", "[H]", "[2H]", "[3H]", "[13C]", "[13CH]", "[11C]",
        "[18F]", "[125I]", "[C@H]", "[C@@H]", "[C@]", "[C@@]", "[S@]", "[S@@]", "[S@+]",
        "[S@@+]", "[P@]", "[P@@]", "[N@]", "[N@@]", "[N@+]", "[N@@+]", "[Si@]", "[Si@@]",
        "[Na+]", "[K+]", "[Li+]", "[Cl-]", "[Br-]", "[I-]", "[F-]", "[Ca+2]", "[Mg+2]",
        "[Zn+2]", "[Fe+2]", "[Fe+3]", "[Cu+2]", "[Co+2]", "[Mn+2]", "[Al+3]", "[Pt+2]",
        "[Na]", "[K]", "[Li]", "[Ca]", "[Mg]", "[Zn]", "[Fe]", "[Cu]", "[Co]", "[Ni]", "[Pt]",
        "[Pd]", "[Hg]", "[Sb]", "[Bi]", "[Ag]", "[Au]", "[Gd]", "[Tc]", "[OH]", "[SH]", "[PH]",
        "[CH]", "[CH2]", "[c-]", "[O]", "[N]", "[C]", "[S]", "[Cl+3]", "[I+]",
    )
)  # fmt: skip


def nci5k_path() -> str:
    """The NCI SMILES file inside RDKit (4,999 lines). Taught in ``notebooks/00_quickstart``."""
    return os.path.join(os.path.dirname(rdkit.__file__), "Data", "NCI", "first_5K.smi")


def _nci5k_smiles() -> list[str]:
    with open(nci5k_path()) as handle:
        return [line.split()[0] for line in handle if line.strip()]


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    # "isolated": every regex match is its own piece, and text between matches (a character
    # the regex does not know, e.g. a space) is kept as a piece too, so nothing is dropped.
    return pre_tokenizers.Split(Regex(SMILES_REGEX), behavior="isolated")


def smiles_pieces(smiles: str) -> list[str]:
    """Split one SMILES with :data:`SMILES_REGEX`, before any vocabulary lookup.

    Taught in ``notebooks/00_quickstart``.
    """
    return [piece for piece, _ in _pre_tokenizer().pre_tokenize_str(smiles)]


def build_smiles_tokenizer(
    corpus: Iterable[str] | None = None,
    min_frequency: int = 1,
    model_max_length: int = 512,
    common_tokens: bool = True,
) -> PreTrainedTokenizerFast:
    """A word-level SMILES tokenizer whose vocabulary comes from ``corpus``.

    Parameters
    ----------
    corpus : iterable of str, optional
        SMILES to collect tokens from. ``None`` uses the NCI 5K set shipped in RDKit, so this
        works offline. :data:`COMMON_TOKENS` are always added, whatever the corpus.
    min_frequency : int
        A corpus token seen fewer times than this is left out (and later reads as ``<unk>``).
    model_max_length : int
        Longest sequence (with ``<s>``/``</s>``) a model will be fed; used by truncation.
    common_tokens : bool
        Add :data:`COMMON_TOKENS` (the default). ``False`` gives a corpus-only vocabulary (the
        special tokens, then the corpus's own tokens), as Honda et al.'s ``build_vocab.py``
        builds one: a few dozen tokens on a drug-like corpus instead of about 240, so a small
        model's output layer learns only what it will see; a piece outside the corpus then
        reads as ``<unk>``.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
        Ids 0-4 are ``<pad> <s> </s> <unk> <mask>``, then :data:`COMMON_TOKENS` (when
        ``common_tokens``), then the corpus tokens by falling frequency (ties alphabetical), so
        the same corpus gives the same ids.
        ``tokenizer(smiles)`` adds ``<s>``/``</s>``; ``tokenizer.decode(ids,
        skip_special_tokens=True)`` gives the SMILES back. Taught in ``notebooks/00_quickstart``.
    """
    smiles_list = _nci5k_smiles() if corpus is None else list(corpus)
    pre = _pre_tokenizer()
    counts: Counter[str] = Counter()
    for smiles in smiles_list:
        if isinstance(smiles, str):
            counts.update(piece for piece, _ in pre.pre_tokenize_str(smiles))
    vocab: dict[str, int] = {}
    for token in SPECIAL_TOKENS + (COMMON_TOKENS if common_tokens else ()):
        vocab.setdefault(token, len(vocab))
    for token, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count >= min_frequency and token not in vocab:
            vocab[token] = len(vocab)

    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    backend.pre_tokenizer = pre
    backend.decoder = decoders.Fuse()  # tokens join with no spaces: decode(encode(s)) == s
    backend.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}",
        pair=f"{BOS} $A {EOS} {EOS} $B {EOS}",  # RoBERTa's layout for a pair
        special_tokens=[(BOS, vocab[BOS]), (EOS, vocab[EOS])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        mask_token=MASK,
        cls_token=BOS,  # RoBERTa calls <s> the classifier token and </s> the separator
        sep_token=EOS,
        model_max_length=model_max_length,
        padding_side="right",
    )


@dataclass
class TokenCoverage:
    """How much of a SMILES set a vocabulary covers; ``unknown`` counts each unseen piece.

    Made by :func:`coverage`; taught in ``notebooks/00_quickstart``.
    """

    n_smiles: int
    n_tokens: int
    n_unknown: int
    n_smiles_with_unknown: int
    unknown: Counter = field(default_factory=Counter)

    @property
    def unknown_fraction(self) -> float:
        return self.n_unknown / self.n_tokens if self.n_tokens else 0.0


def coverage(tokenizer: PreTrainedTokenizerFast, smiles_list: Iterable[str]) -> TokenCoverage:
    """Count the ``<unk>`` tokens ``tokenizer`` makes on ``smiles_list`` (specials not counted).

    Taught in ``notebooks/00_quickstart``.
    """
    backend = tokenizer.backend_tokenizer
    vocab = tokenizer.get_vocab()
    unknown: Counter[str] = Counter()
    n_smiles = n_tokens = n_with = 0
    for smiles in smiles_list:
        pieces = [piece for piece, _ in backend.pre_tokenizer.pre_tokenize_str(smiles)]
        missing = [piece for piece in pieces if piece not in vocab]
        n_smiles += 1
        n_tokens += len(pieces)
        n_with += bool(missing)
        unknown.update(missing)
    return TokenCoverage(n_smiles, n_tokens, sum(unknown.values()), n_with, unknown)


def token_graphs(
    tokenizer: PreTrainedTokenizerFast,
    smiles: Sequence[str],
    labels=None,
    max_length: int | None = None,
    rows: Sequence[int] | None = None,
) -> list[Data]:
    """Tokenize SMILES into PyG ``Data`` objects that batch like graphs, for sequence models.

    Every SMILES is encoded with ``<s> ... </s>`` and right-padded with ``<pad>`` to one common
    length ``L`` (the longest encoding, or ``max_length``), so PyG's ``DataLoader`` stacks a batch
    into ``input_ids`` and ``attention_mask`` of shape ``(B, L)`` and the kit's fine-tune harness
    trains a SMILES model exactly like a GNN.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerFast
        E.g. :func:`build_smiles_tokenizer`; its ``pad_token_id`` fills the padding.
    smiles : sequence of str
    labels : array-like, optional
        ``(N,)`` or ``(N, T)`` floats (NaN = missing), stored as ``y`` of shape ``(1, T)``.
        ``None`` stores no ``y``.
    max_length : int, optional
        Pad (and truncate, keeping ``</s>`` last) to this length instead of the longest one.
    rows : sequence of int, optional
        Source row of each SMILES, stored as ``row`` (as ``MoleculeDataset`` does).

    Returns
    -------
    list of torch_geometric.data.Data
        ``input_ids`` and ``attention_mask`` (long, ``(1, L)``), ``smiles``, optional ``y`` and
        ``row``; ``num_nodes`` is the number of real tokens (a sequence is a path of tokens).
        Taught in ``notebooks/01_descriptors``.
    """
    smiles = list(smiles)
    if labels is not None:
        labels = np.asarray(labels, dtype=np.float32)
        labels = labels.reshape(len(labels), -1)
        if len(labels) != len(smiles):
            raise ValueError(f"{len(smiles)} SMILES but {len(labels)} label rows")
    if rows is not None and len(rows) != len(smiles):
        raise ValueError(f"{len(smiles)} SMILES but {len(rows)} rows")
    if max_length is not None and max_length < 2:
        raise ValueError(f"max_length must leave room for <s> and </s>, got {max_length}")
    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer has no pad token")
    encoded = tokenizer(
        smiles,
        padding="max_length" if max_length else "longest",
        truncation=max_length is not None,
        max_length=max_length,
        return_attention_mask=True,
    )
    graphs = []
    for i, text in enumerate(smiles):
        ids = torch.tensor(encoded["input_ids"][i], dtype=torch.long).view(1, -1)
        mask = torch.tensor(encoded["attention_mask"][i], dtype=torch.long).view(1, -1)
        data = Data(input_ids=ids, attention_mask=mask, smiles=text)
        data.num_nodes = int(mask.sum())
        if labels is not None:
            data.y = torch.from_numpy(labels[i].copy()).view(1, -1)
        if rows is not None:
            data.row = torch.tensor([int(rows[i])], dtype=torch.long)
        graphs.append(data)
    return graphs


__all__ = [
    "COMMON_TOKENS",
    "SMILES_REGEX",
    "SPECIAL_TOKENS",
    "TokenCoverage",
    "VERSION",
    "build_smiles_tokenizer",
    "coverage",
    "nci5k_path",
    "smiles_pieces",
    "token_graphs",
]
