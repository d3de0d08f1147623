"""Opt-in standardisation of parsed molecules, before any featurizer or SMILES model sees them.

A data set can carry an artefact of how it was assembled. In ClinTox, 60% of the SMILES are
written as charged species ([NH+], [O-], ...), and almost all of those come from the approved
drugs: a SMILES model can read the label off the charge signs instead of the chemistry.
``"uncharge"`` applies RDKit's ``rdMolStandardize.Uncharger``, which neutralises acids and bases
by moving protons; a charge that cannot be neutralised (a quaternary nitrogen, a nitro group's
zwitterion) stays. The molecule is then written as RDKit's canonical isomeric SMILES.
Loaders apply nothing unless asked (``standardize=None``). Taught in
``notebooks/04_masked_components`` (planned there; issue: ClinTox's protonation artefact).
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from cpmkit.featurize.parse import quiet_rdkit

#: the standardisations a loader accepts (``None`` applies none)
STANDARDIZERS = ("uncharge",)


def check_standardize(how: str | None) -> str | None:
    """``how`` if it names a standardisation (or is ``None``); a clear error otherwise."""
    if how is not None and how not in STANDARDIZERS:
        raise ValueError(f"unknown standardize={how!r}; choose one of {STANDARDIZERS} or None")
    return how


def standardize_mol(mol: Chem.Mol, how: str | None) -> Chem.Mol:
    """A standardised copy of ``mol`` (``how=None``: ``mol`` itself, untouched)."""
    if check_standardize(how) is None:
        return mol
    with quiet_rdkit():  # the uncharger logs every proton it moves
        return rdMolStandardize.Uncharger(canonicalOrder=True).uncharge(Chem.Mol(mol))


def is_charged(mol: Chem.Mol) -> bool:
    """Whether any atom carries a formal charge (what a SMILES model sees as ``+``/``-``)."""
    return any(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms())


__all__ = ["STANDARDIZERS", "check_standardize", "is_charged", "standardize_mol"]
