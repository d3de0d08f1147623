"""MGSSL's motif decomposition: a partition of the atoms, a tree, and orders over it."""

import pytest
from rdkit import Chem

from cpmkit.featurize.motifs import (
    OTHER,
    cut_bonds,
    motif_tree,
    motif_vocabulary,
    reassemble,
    traversal,
    visit_order,
)

SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin: an ester and an acid on a benzene
    "CN1CCC[C@H]1c1cccnc1",  # nicotine: two rings, one stereocentre
    "CC(C)(C)c1ccc(cc1)C(=O)NCCc1ccc2ccccc2c1",  # a fused ring system and a branching chain
    "O=C(O)CCc1ccc(O)cc1",
    "c1ccccc1",  # no BRICS bond: one motif
    "CCO",
    "[Na+].CC(=O)[O-]",  # a salt: a forest
    "C1CC1C1CC1",  # two rings joined by a bond BRICS does not cut
    "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O",
    "Cc1ccccc1OCC",
]


def mols():
    return [(s, Chem.MolFromSmiles(s)) for s in SMILES]


@pytest.mark.parametrize("smiles", SMILES)
def test_motifs_cover_every_atom_exactly_once_and_every_bond_once(smiles):
    mol = Chem.MolFromSmiles(smiles)
    tree = motif_tree(mol)
    atoms = [a for motif in tree.motifs for a in motif]
    assert sorted(atoms) == list(range(mol.GetNumAtoms()))  # a partition: no atom twice
    for index, motif in enumerate(tree.motifs):
        assert all(tree.atom_motif[a] == index for a in motif)
    # every bond is inside one motif or is exactly one tree edge, never both
    cut = {b for _, _, b in tree.edges}
    assert cut == set(cut_bonds(mol))
    for bond in mol.GetBonds():
        same = tree.atom_motif[bond.GetBeginAtomIdx()] == tree.atom_motif[bond.GetEndAtomIdx()]
        assert same != (bond.GetIdx() in cut)


@pytest.mark.parametrize("smiles", SMILES)
def test_motifs_reassemble_to_the_molecule(smiles):
    mol = Chem.MolFromSmiles(smiles)
    tree = motif_tree(mol)
    back = reassemble(mol, tree)
    assert Chem.MolToSmiles(back, isomericSmiles=False) == Chem.MolToSmiles(
        mol, isomericSmiles=False
    )
    # each motif's label is a fragment RDKit reads back with the motif's atom count
    for atoms, label in zip(tree.motifs, tree.labels):
        assert Chem.MolFromSmiles(label, sanitize=False).GetNumAtoms() == len(atoms)


def test_a_reassembly_without_one_cut_bond_is_another_molecule():
    mol = Chem.MolFromSmiles(SMILES[0])
    tree = motif_tree(mol)
    broken = tree._replace(edges=tree.edges[:-1])
    assert Chem.MolToSmiles(reassemble(mol, broken)) != Chem.MolToSmiles(mol)


def test_fragmentation_rules_on_known_molecules():
    # aspirin: BRICS cuts the ester; the ring/chain bonds and the branching carbons are cut
    tree = motif_tree(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert sorted(tree.labels) == sorted(["C", "C", "O", "O", "c1ccccc1", "C", "O", "O"])
    # rings stay whole, a fused system is one motif; the amide and the chain are split
    tree = motif_tree(Chem.MolFromSmiles("CC(C)(C)c1ccc(cc1)C(=O)NCCc1ccc2ccccc2c1"))
    assert "c1ccc2ccccc2c1" in tree.labels and "c1ccccc1" in tree.labels
    assert tree.labels.count("C") == 5 and "CC" in tree.labels
    # rule 2 alone cuts the methyl off the ring (BRICS cuts only the ether)
    tree = motif_tree(Chem.MolFromSmiles("Cc1ccccc1OCC"))
    assert sorted(tree.labels) == sorted(["C", "c1ccccc1", "O", "CC"])
    # no BRICS bond: the whole molecule is one motif (as the authors' brics_decomp)
    for smiles in ("c1ccccc1", "CCO", "C1CC1C1CC1"):
        tree = motif_tree(Chem.MolFromSmiles(smiles))
        assert tree.num_motifs == 1 and tree.edges == ()


@pytest.mark.parametrize("smiles", SMILES)
def test_the_motif_graph_is_a_tree_per_fragment(smiles):
    mol = Chem.MolFromSmiles(smiles)
    tree = motif_tree(mol)
    fragments = len(Chem.GetMolFrags(mol))
    assert len(tree.edges) == tree.num_motifs - fragments  # a forest of `fragments` trees


@pytest.mark.parametrize("order", ["bfs", "dfs"])
@pytest.mark.parametrize("smiles", SMILES)
def test_orders_visit_every_motif_once_and_stop_at_each_once(smiles, order):
    tree = motif_tree(Chem.MolFromSmiles(smiles))
    visited = visit_order(tree, order)
    assert sorted(visited) == list(range(tree.num_motifs))  # a permutation
    steps = traversal(tree, order)
    stops = [ctx for ctx, child in steps if child is None]
    assert sorted(stops) == list(range(tree.num_motifs))
    assert len(steps) == 2 * tree.num_motifs - 1
    # a motif is added from a neighbour that is already there
    present = {visited[0]}
    edges = {(i, j) for i, j, _ in tree.edges} | {(j, i) for i, j, _ in tree.edges}
    for ctx, child in steps:
        if child is not None:
            assert ctx is None or (ctx in present and (ctx, child) in edges)
            present.add(child)
        else:
            assert ctx in present


def test_bfs_and_dfs_differ_where_the_tree_branches():
    tree = motif_tree(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    bfs, dfs = traversal(tree, "bfs"), traversal(tree, "dfs")
    assert bfs != dfs and sorted(bfs, key=str) == sorted(dfs, key=str)  # same decisions
    # depth first: the first stop comes at a leaf after a run of expansions
    first_stop = next(i for i, (_, child) in enumerate(dfs) if child is None)
    assert first_stop > 1
    assert bfs[1] == (visit_order(tree, "bfs")[0], None)  # the root's only child, then stop
    with pytest.raises(ValueError):
        traversal(tree, "random")


def test_vocabulary_keeps_frequent_motifs_and_ends_in_other():
    vocab = motif_vocabulary(SMILES, min_count=2)
    assert vocab[-1] == OTHER and vocab.count(OTHER) == 1
    assert vocab[0] == "C"  # the most frequent motif first
    assert "c1ccc2ccccc2c1" not in vocab  # seen once
    assert "c1ccccc1" in vocab
    assert len(motif_vocabulary(SMILES, min_count=1)) > len(vocab)
