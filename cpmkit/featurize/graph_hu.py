"""The exact 2D graph featurization of Hu et al. (ICLR 2020, *Strategies for Pre-training GNNs*).

Atoms carry two integer features, bonds two, so that the published encoders in
``pretrain-gnns`` (``x_embedding1`` 120 rows, ``x_embedding2`` 3 rows, ``edge_embedding1`` 6 rows,
``edge_embedding2`` 3 rows) see exactly the inputs they were trained on:

* atom: ``(atomic_number - 1, chirality index)`` with chirality in
  (unspecified, tetrahedral CW, tetrahedral CCW); index 119 is the mask token.
* bond: ``(bond type index, bond direction index)`` with types (single, double, triple, aromatic),
  4 = self-loop (added inside each GNN layer), 5 = mask; directions (none, end-up-right,
  end-down-right).

Anything outside these tables (a dummy atom ``*``, a dative bond, a square-planar chiral tag)
raises :class:`FeaturizeError` with the reason, instead of crashing the lookup or silently
picking index 0. Taught in ``notebooks/01_descriptors``.
"""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdqueries
from torch_geometric.data import Data

from cpmkit.featurize.parse import FeaturizeError

VERSION = "hu-1"

NUM_ATOM_TYPE = 120  # atomic numbers 1..118 -> 0..117, plus the published table's extra rows
MASK_ATOM_INDEX = 119
NUM_CHIRALITY_TAG = 3
NUM_BOND_TYPE = 6
SELF_LOOP_BOND_INDEX = 4
MASK_BOND_INDEX = 5
NUM_BOND_DIRECTION = 3

CHIRALITY = {
    Chem.ChiralType.CHI_UNSPECIFIED: 0,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW: 1,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW: 2,
}
BOND_TYPE = {
    Chem.BondType.SINGLE: 0,
    Chem.BondType.DOUBLE: 1,
    Chem.BondType.TRIPLE: 2,
    Chem.BondType.AROMATIC: 3,
}
BOND_DIRECTION = {
    Chem.BondDir.NONE: 0,
    Chem.BondDir.ENDUPRIGHT: 1,
    Chem.BondDir.ENDDOWNRIGHT: 2,
}


def hu_atom_features(mol: Chem.Mol) -> list[list[int]]:
    """Per-atom ``[atomic_number - 1, chirality]``; raises FeaturizeError outside the tables."""
    rows = []
    for atom in mol.GetAtoms():
        number = atom.GetAtomicNum()
        if not 1 <= number <= 118:
            raise FeaturizeError(
                f"atom {atom.GetIdx()} has atomic number {number} ({atom.GetSymbol()!r}); "
                "the Hu et al. scheme covers elements 1-118 only"
            )
        tag = atom.GetChiralTag()
        if tag not in CHIRALITY:
            raise FeaturizeError(
                f"atom {atom.GetIdx()} has chiral tag {tag}; the Hu et al. scheme knows only "
                "unspecified and tetrahedral CW/CCW"
            )
        rows.append([number - 1, CHIRALITY[tag]])
    return rows


def hu_bond_features(mol: Chem.Mol) -> tuple[list[list[int]], list[list[int]]]:
    """Both directions of every bond: ``(edge list, [bond type, bond direction] per edge)``."""
    edges, attrs = [], []
    for bond in mol.GetBonds():
        kind, direction = bond.GetBondType(), bond.GetBondDir()
        if kind not in BOND_TYPE:
            raise FeaturizeError(
                f"bond {bond.GetIdx()} is {kind}; the Hu et al. scheme knows only single, "
                "double, triple and aromatic bonds"
            )
        if direction not in BOND_DIRECTION:
            raise FeaturizeError(
                f"bond {bond.GetIdx()} has direction {direction}; the Hu et al. scheme knows only "
                "none, end-up-right and end-down-right"
            )
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feature = [BOND_TYPE[kind], BOND_DIRECTION[direction]]
        edges += [[i, j], [j, i]]
        attrs += [feature, feature]
    return edges, attrs


def _query_mol(query_atom) -> Chem.Mol:
    """A one-atom query molecule, so one C++ substructure call scans every atom."""
    query = Chem.RWMol()
    query.AddAtom(query_atom)
    return query.GetMol()


# Any atom whose chiral tag is not CHI_UNSPECIFIED. Most molecules have none, so one C++ scan
# replaces a per-atom GetChiralTag() call (each Python -> RDKit call costs about 0.5 us).
_HAS_CHIRAL_TAG = _query_mol(rdqueries.HasChiralTagQueryAtom())


def _long(values: list[int], shape: tuple[int, int]) -> torch.Tensor:
    # numpy converts a list of ints several times faster than torch.tensor does
    return torch.from_numpy(np.array(values, dtype=np.int64)).view(shape)


def hu_graph(mol: Chem.Mol) -> Data:
    """A PyG ``Data`` with ``x`` (N, 2), ``edge_index`` (2, E) and ``edge_attr`` (E, 2), all long.

    Salts and mixtures stay whole: each fragment is a connected component, as in Hu et al.
    Edges come in bond-index order, both directions of a bond next to each other
    (``begin -> end``, then ``end -> begin``).

    The output is exactly that of :func:`hu_atom_features` and :func:`hu_bond_features` (the
    readable reference); this function only takes a faster route for the common case and hands
    anything outside the tables to them, so errors are theirs, word for word.
    Taught in ``notebooks/01_descriptors``.
    """
    n = mol.GetNumAtoms()
    numbers = list(map(Chem.Atom.GetAtomicNum, map(mol.GetAtomWithIdx, range(n))))
    unusual = n > 0 and (min(numbers) < 1 or max(numbers) > 118)
    if unusual or mol.HasSubstructMatch(_HAS_CHIRAL_TAG):
        x = [value for row in hu_atom_features(mol) for value in row]  # raises, or has chirality
    else:
        x = [0] * (2 * n)
        x[0::2] = [number - 1 for number in numbers]

    # One pass over the bonds: an RDKit bond wrapper is cheap only while it is not kept alive.
    bonds = [
        (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond.GetBondType(), bond.GetBondDir())
        for bond in map(mol.GetBondWithIdx, range(mol.GetNumBonds()))
    ]
    if not bonds:
        return Data(
            x=_long(x, (n, 2)),
            edge_index=torch.empty((2, 0), dtype=torch.long),
            edge_attr=torch.empty((0, 2), dtype=torch.long),
        )
    begins, ends, kinds, directions = zip(*bonds)
    kinds = list(map(BOND_TYPE.get, kinds))
    directions = list(map(BOND_DIRECTION.get, directions))
    if None in kinds or None in directions:
        hu_bond_features(mol)  # raises the reference error for the first bad bond
        raise AssertionError("hu_bond_features accepted a bond that hu_graph could not map")
    e = len(bonds)
    # edge k of the reference is bond k // 2, forwards for even k and backwards for odd k
    edge_index = [0] * (4 * e)
    edge_index[0 : 2 * e : 2] = begins
    edge_index[1 : 2 * e : 2] = ends
    edge_index[2 * e :: 2] = ends
    edge_index[2 * e + 1 :: 2] = begins
    edge_attr = [0] * (4 * e)
    edge_attr[0::4] = edge_attr[2::4] = kinds
    edge_attr[1::4] = edge_attr[3::4] = directions
    return Data(
        x=_long(x, (n, 2)),
        edge_index=_long(edge_index, (2, 2 * e)),
        edge_attr=_long(edge_attr, (2 * e, 2)),
    )
