r"""MGSSL's motifs: BRICS plus ring fragments of a molecule, the motif tree, and its orders.

Zhang et al. (NeurIPS 2021, *Motif-based Graph Self-Supervised Learning*, code
``zaixizhang/MGSSL``, ``brics_decomp`` in ``motif_based_pretrain/util/chemutils.py``) cut a
molecule into **motifs** with three rules, applied to its bonds:

1. cut every bond RDKit's BRICS rules mark (``BRICS.FindBRICSBonds``: retrosynthetically
   interesting acyclic bonds);
2. cut every bond between a ring atom and a non-ring atom (rings become motifs of their own);
3. a non-ring atom with more than two neighbours (a branching point of a chain) becomes a
   one-atom motif: all its bonds are cut.

The motifs are the connected pieces left, i.e. groups of atoms joined by uncut bonds (MGSSL
merges overlapping two-atom "cliques" until none overlap, which gives the same pieces); a fused
ring system stays one motif, since ring bonds are never cut. The **motif tree** has one node per
motif and one edge per cut bond. Because every cut bond is acyclic (BRICS bonds are ``!@``,
rules 2 and 3 cut only bonds with a non-ring end), the motif graph of a connected molecule is a
tree; a salt or mixture gives a forest (one tree per fragment).

**Cover**: in this decomposition the motifs *partition* the atoms (each atom lies in exactly
one motif; no atom is shared at a cut bond), and every bond is either inside one motif or one
tree edge, exactly once. :func:`reassemble` puts the motifs and the cut bonds back together,
which the tests compare with the molecule.

What we follow and where we differ from the authors' code:

- A molecule without any BRICS bond is one motif, as their ``brics_decomp`` returns early
  (rules 2 and 3 are then not applied); a salt's fragments stay separate motifs (a forest).
- Their rule 2 removes items from the list it iterates over, which skips some ring/non-ring
  bonds (the next item after each removal); we cut every such bond, as the paper states the rule.
- A motif's label is its canonical SMILES (``Chem.MolFragmentToSmiles``; they use the kekulé
  SMILES of the fragment); the vocabulary is counted on the pre-training corpus
  (:func:`motif_vocabulary`), and motifs seen fewer than ``min_count`` times share one
  ``"other"`` class (theirs keeps every motif of the corpus).
- The root of the tree is the motif holding atom 0 (JT-VAE's ``MolTree`` convention, which
  MGSSL's tree code follows); neighbours are visited in motif index order.

Taught in ``notebooks/03_autoregressive``.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from rdkit import Chem
from rdkit.Chem import BRICS

from cpmkit.featurize.parse import parse_smiles, quiet_rdkit

OTHER = "other"
ORDERS = ("bfs", "dfs")


class MotifTree(NamedTuple):
    """A molecule's motifs and the tree that joins them.

    ``motifs``: atom indices of each motif (sorted, disjoint, covering every atom);
    ``edges``: ``(motif i, motif j, bond index)`` per cut bond (``i < j``);
    ``labels``: each motif's canonical SMILES; ``atom_motif``: the motif of each atom.
    """

    motifs: tuple[tuple[int, ...], ...]
    edges: tuple[tuple[int, int, int], ...]
    labels: tuple[str, ...]
    atom_motif: tuple[int, ...]

    @property
    def num_motifs(self) -> int:
        return len(self.motifs)

    def neighbours(self) -> list[list[int]]:
        """Adjacency lists of the tree (sorted)."""
        adjacent: list[list[int]] = [[] for _ in self.motifs]
        for i, j, _ in self.edges:
            adjacent[i].append(j)
            adjacent[j].append(i)
        return [sorted(a) for a in adjacent]


def cut_bonds(mol: Chem.Mol) -> list[int]:
    """Indices of the bonds MGSSL's three rules cut (see the module docs), ascending."""
    brics = {mol.GetBondBetweenAtoms(a, b).GetIdx() for (a, b), _ in BRICS.FindBRICSBonds(mol)}
    if not brics:
        return []
    cut = set(brics)
    for bond in mol.GetBonds():
        begin, end = bond.GetBeginAtom(), bond.GetEndAtom()
        if begin.IsInRing() != end.IsInRing():  # rule 2: ring atom to non-ring atom
            cut.add(bond.GetIdx())
    for atom in mol.GetAtoms():  # rule 3: a branching chain atom stands alone
        if atom.GetDegree() > 2 and not atom.IsInRing():
            cut.update(bond.GetIdx() for bond in atom.GetBonds())
    return sorted(cut)


def motif_tree(mol: Chem.Mol) -> MotifTree:
    """MGSSL's motif decomposition of ``mol`` (an RDKit molecule, hydrogens implicit).

    Taught in ``notebooks/03_autoregressive`` (the drawn motif tree of one molecule).
    """
    n = mol.GetNumAtoms()
    cut = set(cut_bonds(mol))
    # the motifs: connected pieces of the graph without the cut bonds (union-find)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for bond in mol.GetBonds():
        if bond.GetIdx() not in cut:
            parent[find(bond.GetBeginAtomIdx())] = find(bond.GetEndAtomIdx())
    groups: dict[int, list[int]] = {}
    for atom in range(n):  # ascending atoms: motifs are numbered by their first atom
        groups.setdefault(find(atom), []).append(atom)
    motifs = tuple(tuple(atoms) for atoms in groups.values())
    atom_motif = [0] * n
    for index, atoms in enumerate(motifs):
        for atom in atoms:
            atom_motif[atom] = index
    edges = []
    for b in sorted(cut):
        bond = mol.GetBondWithIdx(b)
        i, j = sorted((atom_motif[bond.GetBeginAtomIdx()], atom_motif[bond.GetEndAtomIdx()]))
        edges.append((i, j, b))
    labels = tuple(motif_label(mol, atoms) for atoms in motifs)
    return MotifTree(motifs, tuple(edges), labels, tuple(atom_motif))


def motif_label(mol: Chem.Mol, atoms: Sequence[int]) -> str:
    """The canonical SMILES of the fragment on ``atoms`` (the motif's class in the vocabulary)."""
    return Chem.MolFragmentToSmiles(mol, atomsToUse=list(atoms), canonical=True)


@lru_cache(maxsize=200_000)
def smiles_motif_tree(smiles: str) -> MotifTree | None:
    """:func:`motif_tree` of a SMILES (cached: a pre-training epoch asks again), or ``None``."""
    mol = parse_smiles(smiles).mol
    if mol is None:
        return None
    with quiet_rdkit():
        return motif_tree(mol)


def reassemble(mol: Chem.Mol, tree: MotifTree) -> Chem.Mol:
    """Put the motifs back together along the tree edges (the test of a decomposition).

    Each motif is rebuilt on its own from its atoms and its inner bonds (a fragment of the
    molecule), the fragments are combined, and each tree edge adds its cut bond back. The result
    is sanitised; it equals ``mol`` (up to stereo tags: the bonds around a stereocentre come
    back in another order, so compare SMILES without stereo) when the motifs and the cut bonds
    hold every atom and bond.
    """
    rebuilt = Chem.RWMol()
    new_index: dict[int, int] = {}
    for atoms in tree.motifs:
        inside = set(atoms)
        for atom in atoms:
            new_index[atom] = rebuilt.AddAtom(Chem.Atom(mol.GetAtomWithIdx(atom)))
        for bond in mol.GetBonds():
            a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            if a in inside and b in inside:
                rebuilt.AddBond(new_index[a], new_index[b], bond.GetBondType())
    for _, _, b in tree.edges:
        bond = mol.GetBondWithIdx(b)
        a, c = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        rebuilt.AddBond(new_index[a], new_index[c], bond.GetBondType())
    out = rebuilt.GetMol()
    Chem.SanitizeMol(out)
    return out


def traversal(tree: MotifTree, order: str = "dfs", root: int | None = None) -> list[tuple]:
    """The decisions that generate ``tree`` motif by motif in ``order`` (``"bfs"`` or ``"dfs"``).

    Returns a list of ``(context, child)``: at motif ``context`` the decoder either adds the
    new neighbour ``child`` (topology "expand" and the child's label to predict) or, with
    ``child = None``, stops adding neighbours there ("backtrack" in the depth-first order of
    JT-VAE and MGSSL, "next in the queue" in the breadth-first one). Every motif but the root
    is added once and every motif stops once, so both orders hold the same decisions, in
    another sequence; the root (the motif of atom 0 unless given) is predicted first, before
    any decision. A forest (a salt) is walked tree after tree: each further tree's root (its
    lowest motif) is added by a step ``(None, root)``, an expansion from no context.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if tree.num_motifs == 0:
        return []
    adjacent = tree.neighbours()
    start = tree.atom_motif[0] if root is None else root
    seen = [False] * tree.num_motifs
    steps: list[tuple] = []
    roots = [start] + [m for m in range(tree.num_motifs) if m != start]
    for r in roots:
        if seen[r]:
            continue
        if steps:  # another fragment: a new root, announced as an expansion from nowhere
            steps.append((None, r))
        seen[r] = True
        if order == "dfs":
            _dfs(r, adjacent, seen, steps)
        else:
            queue = deque([r])
            while queue:
                node = queue.popleft()
                for child in adjacent[node]:
                    if not seen[child]:
                        seen[child] = True
                        steps.append((node, child))
                        queue.append(child)
                steps.append((node, None))
    return steps


def _dfs(node: int, adjacent: list[list[int]], seen: list[bool], steps: list[tuple]) -> None:
    stack = [(node, iter(adjacent[node]))]
    while stack:
        current, children = stack[-1]
        for child in children:
            if not seen[child]:
                seen[child] = True
                steps.append((current, child))
                stack.append((child, iter(adjacent[child])))
                break
        else:
            steps.append((current, None))
            stack.pop()


def visit_order(tree: MotifTree, order: str = "dfs", root: int | None = None) -> list[int]:
    """The motifs in the order they are generated (a permutation of ``range(num_motifs)``)."""
    if tree.num_motifs == 0:
        return []
    start = tree.atom_motif[0] if root is None else root
    return [start] + [child for _, child in traversal(tree, order, root) if child is not None]


def motif_vocabulary(smiles: Iterable[str], min_count: int = 1) -> list[str]:
    """The motif labels of a corpus seen at least ``min_count`` times, most frequent first,
    followed by :data:`OTHER` (the class of every rarer or unseen motif).

    Taught in ``notebooks/03_autoregressive``.
    """
    counts: Counter = Counter()
    for s in smiles:
        tree = smiles_motif_tree(s)
        if tree is not None:
            counts.update(tree.labels)
    kept = [label for label, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if c >= min_count]  # fmt: skip
    return [*kept, OTHER]


__all__ = [
    "ORDERS",
    "OTHER",
    "MotifTree",
    "cut_bonds",
    "motif_label",
    "motif_tree",
    "motif_vocabulary",
    "reassemble",
    "smiles_motif_tree",
    "traversal",
    "visit_order",
]
