"""SMILES enumeration: one molecule, many strings (the standard augmentation of sequence models).

A SMILES is a walk over the molecular graph; RDKit's canonical SMILES fixes the walk's start and
branch order, any other atom order gives another valid string of the same molecule. Bjerrum
(*SMILES Enumeration as Data Augmentation*, 2017) renumbers the atoms at random and writes the
non-canonical SMILES of that order:

.. math:: s' = \\mathrm{SMILES}\\big(\\pi(G)\\big), \\qquad \\pi \\sim \\mathrm{Uniform}(S_{|V|}),
          \\qquad \\mathrm{canon}(s') = \\mathrm{canon}(s).

The permutation comes from torch's global generator (``torch.randperm``), so a pre-training
run that draws views with it is repeatable and resumes exactly (see ``cpmkit.pretrain.loop``).
SMILES Transformer (Honda et al. 2019) reads such a string and writes the canonical one.
Taught in ``notebooks/02_autoencoding``.
"""

from __future__ import annotations

import torch
from rdkit import Chem

# canonical_smiles lives in parse (one canonical form for the kit); re-exported for the lessons
from cpmkit.featurize.parse import canonical_smiles, parse_smiles, quiet_rdkit


def _mol(smiles_or_mol) -> Chem.Mol | None:
    if isinstance(smiles_or_mol, Chem.Mol):
        return smiles_or_mol
    return parse_smiles(smiles_or_mol).mol


def randomize_smiles(smiles_or_mol, isomeric: bool = True) -> str | None:
    """One random (non-canonical) SMILES of the same molecule; ``None`` when it does not parse.

    Parameters
    ----------
    smiles_or_mol : str or rdkit.Chem.Mol
    isomeric : bool
        Keep stereo and isotopes (``False`` writes a flat SMILES).

    Returns
    -------
    str or None
        A SMILES written from a random atom order (``torch.randperm``, global generator), so
        ``torch.manual_seed`` makes it repeatable. Its canonical form equals the input's.
        Taught in ``notebooks/02_autoencoding``.
    """
    mol = _mol(smiles_or_mol)
    if mol is None:
        return None
    order = torch.randperm(mol.GetNumAtoms()).tolist()
    with quiet_rdkit():
        shuffled = Chem.RenumberAtoms(mol, order)
        return Chem.MolToSmiles(shuffled, canonical=False, isomericSmiles=isomeric)


def enumerate_smiles(smiles_or_mol, n: int, isomeric: bool = True) -> list[str]:
    """``n`` random SMILES of one molecule (repeats possible; small molecules have few).

    Returns an empty list when the input does not parse.
    Taught in ``notebooks/02_autoencoding``.
    """
    mol = _mol(smiles_or_mol)
    if mol is None:
        return []
    return [randomize_smiles(mol, isomeric) for _ in range(n)]


__all__ = ["canonical_smiles", "enumerate_smiles", "randomize_smiles"]
