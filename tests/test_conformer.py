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


def test_aligned_rmsd_undoes_a_rigid_motion_and_measures_the_rest():
    import numpy as np

    from cpmkit.featurize.conformer import aligned_rmsd

    ref = embed_conformer(mol("CCCCCO"), seed=0).pos.numpy().astype(float)
    angle = 0.7
    rotation = np.array(
        [
            [np.cos(angle), -np.sin(angle), 0.0],
            [np.sin(angle), np.cos(angle), 0.0],
            [0.0, 0.0, 1.0],
        ]
    )
    moved_away = ref @ rotation.T + np.array([3.0, -1.0, 2.0])
    assert np.sqrt(((moved_away - ref) ** 2).sum(1).mean()) > 1.0
    rmsd, back = aligned_rmsd(ref, moved_away)
    # RDKit's alignment works in single-precision-like steps: 1e-4 Angstrom is far below a bond
    assert rmsd == pytest.approx(0.0, abs=1e-4)
    np.testing.assert_allclose(back, ref, atol=1e-4)
    # one atom pushed 1 Angstrom further: a rigid motion cannot hide it, so the RMSD is above 0
    # and at most the unaligned RMSD (1 / sqrt(N))
    bent = ref.copy()
    bent[-1] += np.array([1.0, 0.0, 0.0])
    rmsd, _ = aligned_rmsd(ref, bent)
    assert 0.05 < rmsd <= 1 / np.sqrt(len(ref)) + 1e-9
    # the heavy-atom RMSD between two seeds of a flexible molecule, as lesson 01 draws
    other = embed_conformer(mol("CCCCCO"), seed=2).pos.numpy()
    rmsd, back = aligned_rmsd(ref, other)
    assert rmsd == pytest.approx(np.sqrt(((back - ref) ** 2).sum(1).mean()))
