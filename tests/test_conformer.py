"""3D conformers: seeded and reproducible, heavy atoms by default, failures reported."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem

from cpmkit.featurize import FeaturizeError, featurize_smiles
from cpmkit.featurize.conformer import embed_conformer


def mol(smiles: str) -> Chem.Mol:
    m = Chem.MolFromSmiles(smiles)
    assert m is not None
    return m


def test_ethanol_heavy_atoms_and_geometry():
    data = embed_conformer(mol("CCO"))
    assert data.z.tolist() == [6, 6, 8] and data.z.dtype == torch.long
    assert data.pos.shape == (3, 3) and data.pos.dtype == torch.float32
    assert data.note == ""
    cc = torch.dist(data.pos[0], data.pos[1]).item()
    co = torch.dist(data.pos[1], data.pos[2]).item()
    assert 1.45 < cc < 1.58 and 1.36 < co < 1.48  # MMFF bond lengths in Angstrom


def test_same_seed_same_coordinates():
    pentanol = mol("CCCCCO")
    first, again = embed_conformer(pentanol, seed=7), embed_conformer(pentanol, seed=7)
    assert torch.equal(first.pos, again.pos)
    other = embed_conformer(pentanol, seed=8)
    assert not torch.allclose(first.pos, other.pos, atol=1e-3)


def test_keep_hs():
    with_hs = embed_conformer(mol("CCO"), keep_hs=True)
    assert with_hs.z.tolist() == [6, 6, 8] + [1] * 6  # input atoms first, then added Hs
    assert with_hs.heavy_mask.tolist() == [True] * 3 + [False] * 6
    heavy = embed_conformer(mol("CCO"))
    assert torch.equal(with_hs.pos[with_hs.heavy_mask], heavy.pos)
    assert "heavy_mask" not in heavy


def test_input_molecule_is_not_changed():
    m = mol("CCO")
    embed_conformer(m)
    assert m.GetNumAtoms() == 3 and m.GetNumConformers() == 0


def test_unembeddable_molecule_raises_with_reason():
    # cyclopropyne: a triple bond (linear, 180 degrees) cannot close a three-membered ring
    with pytest.raises(FeaturizeError, match="3D embedding failed") as caught:
        embed_conformer(mol("C1#CC1"))
    assert "ETK_MINIMIZATION" in str(caught.value)


def test_no_mmff_parameters_keeps_etkdg_geometry_with_a_note():
    borane = embed_conformer(mol("CB(C)C"))  # MMFF94 has no boron types
    assert "no parameters" in borane.note
    assert borane.pos.shape == (4, 3) and torch.isfinite(borane.pos).all()
    assert embed_conformer(mol("CB(C)C"), optimize=False).note == ""


def test_featurize_smiles_3d_reports_failures_as_rejects():
    result = featurize_smiles(["CCO", "C1#CC1", "nonsense", "[Na+].[Cl-]"], "3d", seed=3)
    assert result.n_read == 4 == len(result.items) + len(result.rejects)
    assert result.rows.tolist() == [0, 3]
    reasons = dict(zip(result.rejects["row"], result.rejects["reason"]))
    assert reasons[1].startswith("3D embedding failed")
    assert result.items[1].z.tolist() == [11, 17]
    assert torch.equal(result.items[0].pos, embed_conformer(mol("CCO"), seed=3).pos)
