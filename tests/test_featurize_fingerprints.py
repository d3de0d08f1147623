"""ECFP and MACCS fingerprints: shapes, dtypes, known bit counts, similarity behaves."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from cpmkit.featurize.fingerprints import MACCS_BITS, ecfp, fingerprint_matrix, maccs


def mol(smiles: str) -> Chem.Mol:
    m = Chem.MolFromSmiles(smiles)
    assert m is not None
    return m


def tanimoto(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    return (a & b).sum() / (a | b).sum()


def test_ecfp_shape_dtype_and_bit_count():
    bits = ecfp(mol("CCO"))
    assert bits.shape == (2048,) and bits.dtype == np.uint8
    assert set(np.unique(bits)) <= {0, 1}
    # ethanol at radius 2: 3 atom environments at radius 0, 3 at radius 1, none new at 2
    assert bits.sum() == 6
    assert ecfp(mol("CCO"), radius=0).sum() == 3  # C(H3), C(H2), O(H)
    assert ecfp(mol("CCO"), n_bits=64).shape == (64,)


def test_ecfp_counts():
    counts = ecfp(mol("CCCCCC"), counts=True)
    bits = ecfp(mol("CCCCCC"))
    assert counts.dtype == np.int32
    assert np.array_equal(counts > 0, bits.astype(bool))  # same positions set
    assert counts.max() > 1  # hexane repeats its CH2 environments
    assert counts.sum() > bits.sum()


def test_ecfp_similar_molecules_share_bits():
    benzene, toluene, ethanol = (ecfp(mol(s)) for s in ("c1ccccc1", "Cc1ccccc1", "CCO"))
    assert tanimoto(benzene, toluene) > 0.2  # the aromatic CH environments are shared
    assert tanimoto(benzene, ethanol) == 0.0
    assert np.array_equal(ecfp(mol("OCC")), ecfp(mol("CCO")))  # independent of atom order


def test_ecfp_chirality_option():
    r, s = mol("C[C@H](N)C(=O)O"), mol("C[C@@H](N)C(=O)O")
    assert np.array_equal(ecfp(r), ecfp(s))
    assert not np.array_equal(ecfp(r, include_chirality=True), ecfp(s, include_chirality=True))


def test_maccs():
    keys = maccs(mol("c1ccccc1"))
    assert keys.shape == (MACCS_BITS,) == (167,) and keys.dtype == np.uint8
    assert keys[0] == 0  # RDKit keeps position 0 unused: bit i is key i
    assert keys[163] == 1  # key 163: a six-membered ring
    assert maccs(mol("CCO")).sum() > 0
    assert tanimoto(maccs(mol("c1ccccc1O")), maccs(mol("c1ccccc1N"))) > tanimoto(
        maccs(mol("c1ccccc1O")), maccs(mol("CCCC"))
    )


def test_fingerprint_matrix():
    mols = [mol(s) for s in ("CCO", "c1ccccc1", "CC(=O)O")]
    matrix = fingerprint_matrix(mols, "ecfp", n_bits=512)
    assert matrix.shape == (3, 512) and matrix.dtype == np.uint8
    assert np.array_equal(matrix[1], ecfp(mols[1], n_bits=512))
    assert fingerprint_matrix(mols, "maccs").shape == (3, 167)
    counts = fingerprint_matrix(mols, "ecfp", counts=True)
    assert counts.shape == (3, 2048) and counts.dtype == np.int32
    assert fingerprint_matrix([], "ecfp", n_bits=32).shape == (0, 32)
    assert fingerprint_matrix(iter([]), "maccs").shape == (0, 167)


def test_fingerprint_matrix_refuses_bad_input():
    with pytest.raises(TypeError, match=r"mols\[1\] is None"):
        fingerprint_matrix([mol("C"), None])
    with pytest.raises(ValueError, match="unknown fingerprint kind"):
        fingerprint_matrix([mol("C")], "morgan3")
    with pytest.raises(TypeError):
        ecfp("CCO")
    with pytest.raises(ValueError):
        ecfp(mol("C"), radius=-1)
