"""Turn a SMILES string into an RDKit molecule or a reason why not.

Errors are data here: a loader keeps every rejected row with its index and this reason, so
``read = kept + rejected`` always holds. Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from rdkit import Chem
from rdkit.rdBase import BlockLogs


class FeaturizeError(ValueError):
    """A molecule parsed, but a featurizer cannot represent it (the message is the reason)."""


@dataclass(frozen=True)
class Parsed:
    """The outcome of parsing one SMILES: ``mol`` is set, or ``reason`` says why not."""

    smiles: str
    mol: Chem.Mol | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.mol is not None


@contextlib.contextmanager
def quiet_rdkit():
    """Silence RDKit's C++ log inside the block only (never globally)."""
    blocker = BlockLogs()
    try:
        yield
    finally:
        del blocker


def _rdkit_message(smiles: str) -> str:
    """RDKit's own diagnosis of a failed parse, captured instead of printed."""
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        return "not a valid SMILES string (syntax, e.g. an unclosed ring or unknown element)"
    problems = Chem.DetectChemistryProblems(mol)
    if problems:
        return f"{problems[0].GetType()}: {problems[0].Message()}"
    return "RDKit could not sanitize the molecule"


def parse_smiles(smiles) -> Parsed:
    """Parse one SMILES with RDKit's default sanitisation.

    Returns a :class:`Parsed` whose ``mol`` is ``None`` and ``reason`` is a short, human-readable
    explanation when the input is missing, empty, not a string, or rejected by RDKit.
    """
    if smiles is None or (isinstance(smiles, float) and smiles != smiles):
        return Parsed("", None, "missing SMILES (empty cell)")
    if not isinstance(smiles, str):
        return Parsed(str(smiles), None, f"SMILES must be a string, got {type(smiles).__name__}")
    text = smiles.strip()
    if not text:
        return Parsed(smiles, None, "empty SMILES string")
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(text)
        if mol is None:
            return Parsed(smiles, None, _rdkit_message(text))
    if mol.GetNumAtoms() == 0:
        return Parsed(smiles, None, "molecule has no atoms")
    return Parsed(smiles, mol)


def canonical_smiles(smiles_or_mol, isomeric: bool = True) -> str | None:
    """RDKit's canonical SMILES, or ``None`` when the input does not parse.

    The one canonical form of the kit: generation metrics, the supervised corpus' molecule
    keys and the SMILES autoencoder's targets all call it. Anything goes in (``None``, NaN,
    numbers and empty strings give ``None``, never an error); a ``Chem.Mol`` is written as is.
    Taught in ``notebooks/02_autoencoding``.
    """
    mol = smiles_or_mol if isinstance(smiles_or_mol, Chem.Mol) else parse_smiles(smiles_or_mol).mol
    if mol is None:
        return None
    with quiet_rdkit():
        return Chem.MolToSmiles(mol, isomericSmiles=isomeric)


__all__ = ["FeaturizeError", "Parsed", "canonical_smiles", "parse_smiles", "quiet_rdkit"]
