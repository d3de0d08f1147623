r"""Cut a molecule in two along one bond, and recombine halves of two molecules (MPG's input).

MPG (Li et al., *An effective self-supervised framework for learning expressive molecular global
representations to drug discovery*, Brief. Bioinform. 2021) pre-trains by *pairwise half-graph
discrimination*: a molecule is split into two halves, and a half is either put back beside its
own other half or beside a half of another molecule; the model says which. The survey files it
as replaced components detection (section 2.6).

Here a molecule is cut along **one bond**: a BRICS bond (RDKit's ``BRICS.FindBRICSBonds``, the
retrosynthetic cuts of Degen et al. 2008) drawn at random, or, when a molecule has none, a
random **acyclic single bond**; a molecule with neither (one atom, or all bonds in rings) has
no cut (``None``). Removing the bond leaves two parts: ``first`` is the connected part on one
side of the bond, ``second`` everything else (the other side, and any other fragment of a salt),
so the two halves always hold every atom exactly once and :func:`reassemble` puts them back.

:func:`recombine` sets two halves side by side in one graph with two components (no bond between
them, as in MPG's code): per atom its ``segment`` (0: first half, 1: second), its ``source`` (an
id of the molecule it came from) and ``origin_atom`` (its index in that molecule); the graph's
``pair_label`` is 1 when both halves come from one molecule ("not replaced"), 0 otherwise.

Deviation from the authors' code (``pyli0628/MPG``, ``util.py``, ``Random_graph``): their code
splits a molecule by *atom index* (atoms ``0..n-1`` against ``n..N-1`` for a random
``n`` in ``[N/3, 2N/3]``, bonds across dropped), so a half may be several disconnected pieces;
the issue asks for chemical cuts (BRICS, else an acyclic bond), which keep each side of the
cut connected. Halves are drawn from the tensor graph (Hu et al.'s features); the SMILES is
parsed only to find the cut bonds. :func:`half_mols` gives the RDKit halves (with a dummy atom
``*`` at the cut) for drawing. Taught in ``notebooks/07_replaced_components``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import torch
from rdkit import Chem
from rdkit.Chem import BRICS
from torch_geometric.data import Data
from torch_geometric.utils import subgraph as induced_subgraph

from cpmkit.featurize.parse import parse_smiles, quiet_rdkit

CUT_KINDS = ("brics", "acyclic", "none")


def cut_bonds(mol: Chem.Mol) -> tuple[list[tuple[int, int]], str]:
    """The bonds a molecule may be cut along, ``(begin, end)`` atom pairs, and their kind.

    BRICS bonds when there are any (``"brics"``); else every acyclic single bond
    (``"acyclic"``); else none (``"none"``). Pairs are sorted and unique.
    Taught in ``notebooks/07_replaced_components``.
    """
    with quiet_rdkit():
        brics = sorted({tuple(sorted(atoms)) for atoms, _ in BRICS.FindBRICSBonds(mol)})
    if brics:
        return brics, "brics"
    acyclic = sorted(
        tuple(sorted((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx())))
        for bond in mol.GetBonds()
        if not bond.IsInRing() and bond.GetBondType() == Chem.BondType.SINGLE
    )
    return acyclic, ("acyclic" if acyclic else "none")


@lru_cache(maxsize=200_000)
def _cuts_of_smiles(smiles: str) -> tuple[tuple[tuple[int, int], ...], str, int]:
    parsed = parse_smiles(smiles)
    if not parsed.ok:
        return (), "none", -1
    bonds, kind = cut_bonds(parsed.mol)
    return tuple(bonds), kind, parsed.mol.GetNumAtoms()


def graph_cut_bonds(data: Data) -> tuple[list[tuple[int, int]], str]:
    """:func:`cut_bonds` of a featurized molecule, read from its ``smiles`` (cached per SMILES).

    The graph's atoms must be the parsed SMILES' atoms in RDKit order (as ``hu_graph`` makes
    them); a graph whose atom count differs is refused rather than cut at the wrong atoms.
    """
    smiles = getattr(data, "smiles", None)
    if not isinstance(smiles, str):
        raise ValueError("a molecule graph needs its `smiles` to find BRICS bonds")
    bonds, kind, num_atoms = _cuts_of_smiles(smiles)
    if num_atoms != -1 and num_atoms != data.num_nodes:
        raise ValueError(
            f"{smiles!r} has {num_atoms} atoms but its graph {data.num_nodes}: not the same order"
        )
    return list(bonds), kind


class Halves(NamedTuple):
    """A molecule cut along ``bond``: ``first`` holds ``bond[0]``'s side, ``second`` the rest."""

    first: Data
    second: Data
    bond: tuple[int, int]
    kind: str


def _side(edge_index: torch.Tensor, num_nodes: int, start: int) -> torch.Tensor:
    """Boolean mask of the atoms reachable from ``start`` over ``edge_index``."""
    neighbours: list[list[int]] = [[] for _ in range(num_nodes)]
    for a, b in edge_index.T.tolist():
        neighbours[a].append(b)
    seen = torch.zeros(num_nodes, dtype=torch.bool)
    seen[start] = True
    todo = [start]
    while todo:
        atom = todo.pop()
        for other in neighbours[atom]:
            if not seen[other]:
                seen[other] = True
                todo.append(other)
    return seen


def _part(data: Data, atoms: torch.Tensor) -> Data:
    edge_index, edge_attr = induced_subgraph(
        atoms, data.edge_index, data.edge_attr, relabel_nodes=True, num_nodes=data.num_nodes
    )
    return Data(x=data.x[atoms], edge_index=edge_index, edge_attr=edge_attr, origin_atom=atoms)


def split_at_bond(data: Data, bond: tuple[int, int], kind: str = "brics") -> Halves:
    """Remove ``bond`` (both directions) and return the two halves with their ``origin_atom``.

    ``bond`` must be acyclic (a bridge): otherwise removing it leaves the molecule in one piece
    and a ``ValueError`` says so.
    """
    u, v = bond
    src, dst = data.edge_index
    is_bond = ((src == u) & (dst == v)) | ((src == v) & (dst == u))
    if not bool(is_bond.any()):
        raise ValueError(f"atoms {u} and {v} are not bonded in this graph")
    first = _side(data.edge_index[:, ~is_bond], data.num_nodes, u)
    if bool(first[v]):
        raise ValueError(f"bond {u}-{v} is in a ring: cutting it does not split the molecule")
    atoms = torch.arange(data.num_nodes)
    return Halves(_part(data, atoms[first]), _part(data, atoms[~first]), (u, v), kind)


def cut_molecule(data: Data, generator: torch.Generator | None = None) -> Halves | None:
    """Cut a featurized molecule along one random bond of :func:`graph_cut_bonds`.

    ``None`` when it has no bond to cut. The bond is drawn uniformly with torch's global
    generator (or ``generator``), which the pre-training loop seeds.
    Taught in ``notebooks/07_replaced_components``.
    """
    bonds, kind = graph_cut_bonds(data)
    if not bonds:
        return None
    pick = int(torch.randint(len(bonds), (1,), generator=generator))
    return split_at_bond(data, bonds[pick], kind)


def recombine(first: Data, second: Data, first_source: int, second_source: int) -> Data:
    """Two halves side by side in one graph (two components), labelled by where they came from.

    Atoms carry ``segment`` (0 for ``first``, 1 for ``second``), ``source`` (the molecule id
    given for each half) and ``origin_atom``; ``pair_label`` is ``1`` when the two sources are
    one molecule ("not replaced"), else ``0``. Taught in ``notebooks/07_replaced_components``.
    """
    n1, n2 = first.num_nodes, second.num_nodes
    return Data(
        x=torch.cat([first.x, second.x]),
        edge_index=torch.cat([first.edge_index, second.edge_index + n1], dim=1),
        edge_attr=torch.cat([first.edge_attr, second.edge_attr]),
        segment=torch.cat([torch.zeros(n1, dtype=torch.long), torch.ones(n2, dtype=torch.long)]),
        source=torch.tensor([first_source] * n1 + [second_source] * n2, dtype=torch.long),
        origin_atom=torch.cat([first.origin_atom, second.origin_atom]),
        pair_label=torch.tensor([int(first_source == second_source)], dtype=torch.long),
    )


def reassemble(halves: Halves) -> Data:
    """The molecule back from its two halves and the cut bond (atoms in the original order).

    ``x`` and ``edge_index`` only (bond features stay with the halves); edges come sorted by
    ``(source, target)``, so compare with a sorted copy of the original's.
    """
    first, second = halves.first, halves.second
    num = first.num_nodes + second.num_nodes
    x = torch.empty((num, first.x.size(1)), dtype=first.x.dtype)
    x[first.origin_atom] = first.x
    x[second.origin_atom] = second.x
    u, v = halves.bond
    edges = [
        first.origin_atom[first.edge_index],
        second.origin_atom[second.edge_index],
        torch.tensor([[u, v], [v, u]]),
    ]
    edge_index = torch.cat(edges, dim=1)
    order = torch.argsort(edge_index[0] * num + edge_index[1])
    return Data(x=x, edge_index=edge_index[:, order], num_nodes=num)


def half_mols(mol: Chem.Mol, bond: tuple[int, int]) -> tuple[Chem.Mol, Chem.Mol]:
    """RDKit halves of ``mol`` cut at ``bond`` (a dummy atom ``*`` marks each cut end).

    The first holds ``bond[0]``'s side, the second the rest (as :func:`split_at_bond`); for
    drawing. Taught in ``notebooks/07_replaced_components``.
    """
    u, v = bond
    index = mol.GetBondBetweenAtoms(u, v).GetIdx()
    pieces = Chem.FragmentOnBonds(mol, [index], addDummies=True)
    groups = Chem.GetMolFrags(pieces, asMols=False, sanitizeFrags=False)
    first = next(g for g in groups if u in g)
    rest = [a for g in groups if u not in g for a in g]

    def keep(atoms):
        editable = Chem.RWMol(pieces)
        for atom in sorted(set(range(pieces.GetNumAtoms())) - set(atoms), reverse=True):
            editable.RemoveAtom(atom)
        for atom in editable.GetAtoms():
            if atom.GetAtomicNum() == 0:
                atom.SetIsotope(0)  # FragmentOnBonds labels the dummy by atom index
        part = editable.GetMol()
        with quiet_rdkit():
            Chem.SanitizeMol(part, catchErrors=True)
        return part

    return keep(first), keep(rest)


__all__ = [
    "CUT_KINDS",
    "Halves",
    "cut_bonds",
    "cut_molecule",
    "graph_cut_bonds",
    "half_mols",
    "reassemble",
    "recombine",
    "split_at_bond",
]
