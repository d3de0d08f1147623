"""GROVER's self-supervised labels: an atom's context as a word, a molecule's functional groups.

GROVER (Rong et al., NeurIPS 2020) pre-trains on two labels that need no annotation:

- **Contextual property** of an atom: its element and the sorted counts of
  ``(neighbour element, bond type)`` pairs around it, written as one string, e.g. the carbonyl
  carbon of acetic acid is ``C_C-SINGLE1_O-DOUBLE1_O-SINGLE1``. This is the format of
  ``atom_to_vocab`` in the authors' ``grover/data/task_labels.py`` (one hop, ``k = 1``, as
  their code). The strings seen in a corpus form a vocabulary; a rare one becomes
  :data:`OTHER` (:class:`ContextVocab`).
- **Semantic motifs** of a molecule: which of RDKit's 85 functional-group counters
  (``rdkit.Chem.Fragments.fr_*``, the list :data:`GROVER_FRAGMENTS` of the authors' code) is
  non-zero, a multi-label 0/1 vector.

The contextual label is computed here from the kit's Hu et al. graph tensors
(:func:`graph_context_labels`: element from ``x[:, 0]``, bond type from ``edge_attr[:, 0]``),
so a strategy can label atoms without parsing SMILES again; :func:`atom_context_label` is the
RDKit reference it must agree with. Hydrogens stay implicit on both sides, as in GROVER.
Taught in ``notebooks/04_masked_components``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import Fragments

from cpmkit.featurize.graph_hu import BOND_TYPE

#: the label of a context seen fewer than ``min_count`` times in the corpus (GROVER: "<other>")
OTHER = "<other>"
#: bond-type index of the Hu et al. scheme -> RDKit's name (``str(Chem.BondType.SINGLE)``)
BOND_NAMES = {index: str(kind) for kind, index in BOND_TYPE.items()}
#: the functional groups of GROVER's motif task (``RDKIT_PROPS`` of their ``task_labels.py``),
#: every ``fr_*`` counter of ``rdkit.Chem.Fragments``
GROVER_FRAGMENTS: tuple[str, ...] = tuple(sorted(n for n in dir(Fragments) if n.startswith("fr_")))
_PERIODIC = Chem.GetPeriodicTable()


def _context_string(symbol: str, neighbours: Iterable[tuple[str, str]]) -> str:
    """``symbol`` then ``_<element>-<BOND><count>`` for each sorted neighbour pair."""
    counts = Counter(f"{element}-{bond}" for element, bond in neighbours)
    return symbol + "".join(f"_{key}{counts[key]}" for key in sorted(counts))


def atom_context_label(mol: Chem.Mol, atom_index: int) -> str:
    """GROVER's contextual label of one atom, from an RDKit molecule (the reference)."""
    atom = mol.GetAtomWithIdx(atom_index)
    pairs = []
    for neighbour in atom.GetNeighbors():
        bond = mol.GetBondBetweenAtoms(atom_index, neighbour.GetIdx())
        pairs.append((neighbour.GetSymbol(), str(bond.GetBondType())))
    return _context_string(atom.GetSymbol(), pairs)


def graph_context_labels(data, atoms: Iterable[int] | None = None) -> list[str]:
    """GROVER's contextual labels from a Hu et al. graph (``x``, ``edge_index``, ``edge_attr``).

    ``atoms`` selects which atoms (default: all). The graph must be unmasked (real element and
    bond-type indices). Agrees with :func:`atom_context_label` on the molecule it came from.
    """
    elements = (data.x[:, 0] + 1).tolist()
    symbols = [_PERIODIC.GetElementSymbol(int(z)) for z in elements]
    src, dst = data.edge_index.tolist() if data.edge_index.numel() else ([], [])
    kinds = data.edge_attr[:, 0].tolist() if data.edge_attr.numel() else []
    around: dict[int, list[tuple[str, str]]] = {}
    for u, v, kind in zip(src, dst, kinds):
        around.setdefault(u, []).append((symbols[v], BOND_NAMES[int(kind)]))
    chosen = range(len(symbols)) if atoms is None else [int(a) for a in atoms]
    return [_context_string(symbols[i], around.get(i, [])) for i in chosen]


class ContextVocab:
    """The contextual labels of a corpus as classes: index 0 is :data:`OTHER`.

    Built by :meth:`from_graphs` from every atom of a corpus; a context seen fewer than
    ``min_count`` times maps to :data:`OTHER` (GROVER's ``MolVocab`` has a ``min_freq`` too).
    The classes are ordered by count (ties by name), so the vocabulary is the same for the
    same corpus.
    """

    def __init__(self, words: list[str]):
        if not words or words[0] != OTHER:
            raise ValueError(f"a context vocabulary starts with {OTHER!r}")
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}

    @classmethod
    def from_graphs(cls, graphs: Iterable, min_count: int = 5) -> ContextVocab:
        counts: Counter = Counter()
        for data in graphs:
            counts.update(graph_context_labels(data))
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls([OTHER, *kept])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, labels: Iterable[str]) -> torch.Tensor:
        """Class indices of context strings (unknown ones -> 0, :data:`OTHER`)."""
        return torch.tensor([self.index.get(label, 0) for label in labels], dtype=torch.long)


def motif_labels(mol: Chem.Mol) -> np.ndarray:
    """GROVER's semantic-motif label: 1 where the ``fr_*`` count of :data:`GROVER_FRAGMENTS`
    is non-zero, else 0 (float32, one entry per functional group)."""
    return np.array([getattr(Fragments, name)(mol) > 0 for name in GROVER_FRAGMENTS], np.float32)


__all__ = [
    "BOND_NAMES",
    "GROVER_FRAGMENTS",
    "OTHER",
    "ContextVocab",
    "atom_context_label",
    "graph_context_labels",
    "motif_labels",
]
