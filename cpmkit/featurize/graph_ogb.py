"""A richer 2D graph: the 9 atom and 3 bond features of OGB, coded with PyG's value tables.

The Open Graph Benchmark (Hu et al., NeurIPS 2020) describes each atom by 9 integers and each bond
by 3; many later pre-training papers (GraphMVP, MolCLR variants, GEM baselines) use this scheme.
The value lists here are PyG's own (``torch_geometric.utils.smiles.x_map`` / ``e_map``, imported,
not copied), so a feature ``k`` means ``x_map[name][k]``:

============================  ======================================  ===========================
atom column                   value                                   out of table
============================  ======================================  ===========================
0 ``atomic_num``              0 (dummy ``*``) .. 118                  cannot happen
1 ``chirality``               RDKit ``ChiralType`` name               ``CHI_OTHER``
2 ``degree``                  ``GetTotalDegree()`` (Hs included)      last ("10 or more")
3 ``formal_charge``           -5 .. 6                                 nearest end (-5 or 6)
4 ``num_hs``                  ``GetTotalNumHs()``                     last ("8 or more")
5 ``num_radical_electrons``   0 .. 4                                  last ("4 or more")
6 ``hybridization``           RDKit ``HybridizationType`` name        ``OTHER`` (e.g. ``SP2D``)
7 ``is_aromatic``             False, True
8 ``is_in_ring``              False, True
============================  ======================================  ===========================

Bonds: ``bond_type`` (RDKit ``BondType`` name; dative bonds have their own entry; an unknown
type -> ``OTHER``), ``stereo`` (``STEREONONE``, ``STEREOANY``, ``STEREOZ``, ``STEREOE``,
``STEREOCIS``, ``STEREOTRANS``) and ``is_conjugated``. OGB sends an unknown value to a final
"misc" slot; PyG's lists have no such slot, so the rule above maps to the list's own catch-all
entry or to its end. OGB has no catch-all for bond stereo either, so an atropisomer bond
(``STEREOATROPCW``/``CCW``) raises :class:`FeaturizeError` instead of being guessed.

Unlike :func:`torch_geometric.utils.from_rdmol`, edges are not re-sorted: they come in bond-index
order, both directions of a bond together, as in :func:`cpmkit.featurize.graph_hu.hu_graph`.
Taught in ``notebooks/01_descriptors``.
"""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from torch_geometric.data import Data
from torch_geometric.utils.smiles import e_map, x_map

from cpmkit.featurize.parse import FeaturizeError

VERSION = "ogb-1"

ATOM_FEATURES = tuple(x_map)  # the 9 column names, in order
BOND_FEATURES = tuple(e_map)  # the 3 column names, in order
# Sizes of each column's table: what an embedding layer per column needs.
ATOM_FEATURE_DIMS = tuple(len(x_map[name]) for name in ATOM_FEATURES)
BOND_FEATURE_DIMS = tuple(len(e_map[name]) for name in BOND_FEATURES)


def _index(values) -> dict:
    return {value: i for i, value in enumerate(values)}


# Value -> index dicts, built once (``list.index`` per atom is what makes from_rdmol slow).
_ATOMIC_NUM = _index(x_map["atomic_num"])
_CHIRALITY = _index(x_map["chirality"])
_FORMAL_CHARGE = _index(x_map["formal_charge"])
_HYBRIDIZATION = _index(x_map["hybridization"])
_BOND_TYPE = _index(e_map["bond_type"])
_STEREO = _index(e_map["stereo"])
_CHIRAL_OTHER = _CHIRALITY["CHI_OTHER"]
_HYBRID_OTHER = _HYBRIDIZATION["OTHER"]
_BOND_OTHER = _BOND_TYPE["OTHER"]
_DEGREE = _index(x_map["degree"])
_NUM_HS = _index(x_map["num_hs"])
_RADICAL = _index(x_map["num_radical_electrons"])
# counts past a list's end go to its last entry ("10 or more"); charges clamp at both ends
_MAX_DEGREE = x_map["degree"][-1]
_MAX_NUM_HS = x_map["num_hs"][-1]
_MAX_RADICAL = x_map["num_radical_electrons"][-1]
_MIN_CHARGE, _MAX_CHARGE = x_map["formal_charge"][0], x_map["formal_charge"][-1]


def ogb_atom_features(atom: Chem.Atom) -> list[int]:
    """The 9 integer features of one atom (see the module table); ``notebooks/01_descriptors``."""
    number = atom.GetAtomicNum()
    if number not in _ATOMIC_NUM:  # RDKit knows elements 0..118 only; guard a future table
        raise FeaturizeError(f"atom {atom.GetIdx()} has atomic number {number}, not in x_map")
    charge = min(max(atom.GetFormalCharge(), _MIN_CHARGE), _MAX_CHARGE)
    return [
        _ATOMIC_NUM[number],
        _CHIRALITY.get(str(atom.GetChiralTag()), _CHIRAL_OTHER),
        _DEGREE[min(atom.GetTotalDegree(), _MAX_DEGREE)],
        _FORMAL_CHARGE[charge],
        _NUM_HS[min(atom.GetTotalNumHs(), _MAX_NUM_HS)],
        _RADICAL[min(atom.GetNumRadicalElectrons(), _MAX_RADICAL)],
        _HYBRIDIZATION.get(str(atom.GetHybridization()), _HYBRID_OTHER),
        int(atom.GetIsAromatic()),
        int(atom.IsInRing()),
    ]


def ogb_bond_features(bond: Chem.Bond) -> list[int]:
    """The 3 integer features of one bond (see the module docstring); ``notebooks/01_descriptors``.

    Raises :class:`FeaturizeError` for an atropisomer bond (no stereo entry for it).
    """
    stereo = str(bond.GetStereo())
    if stereo not in _STEREO:
        raise FeaturizeError(
            f"bond {bond.GetIdx()} has stereo {stereo}; the OGB scheme knows only "
            f"{', '.join(e_map['stereo'])}"
        )
    return [
        _BOND_TYPE.get(str(bond.GetBondType()), _BOND_OTHER),
        _STEREO[stereo],
        int(bond.GetIsConjugated()),
    ]


def _long(values: list[int], shape: tuple[int, int]) -> torch.Tensor:
    return torch.from_numpy(np.array(values, dtype=np.int64)).view(shape)


def ogb_graph(mol: Chem.Mol) -> Data:
    """A PyG ``Data`` with ``x`` (N, 9), ``edge_index`` (2, E) and ``edge_attr`` (E, 3), all long.

    Column ``j`` of ``x`` indexes ``x_map[ATOM_FEATURES[j]]``; column ``j`` of ``edge_attr``
    indexes ``e_map[BOND_FEATURES[j]]``. Salts stay whole (one component per fragment).
    Raises :class:`FeaturizeError` for an atropisomer bond. Taught in ``notebooks/01_descriptors``.
    """
    n = mol.GetNumAtoms()
    x = [value for atom in mol.GetAtoms() for value in ogb_atom_features(atom)]
    sources, targets, attrs = [], [], []
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feature = ogb_bond_features(bond)
        sources += (i, j)
        targets += (j, i)
        attrs += feature + feature
    e = len(sources)
    return Data(
        x=_long(x, (n, len(ATOM_FEATURES))),
        edge_index=_long(sources + targets, (2, e)),
        edge_attr=_long(attrs, (e, len(BOND_FEATURES))),
    )


__all__ = [
    "ATOM_FEATURES",
    "ATOM_FEATURE_DIMS",
    "BOND_FEATURES",
    "BOND_FEATURE_DIMS",
    "VERSION",
    "ogb_atom_features",
    "ogb_bond_features",
    "ogb_graph",
]
