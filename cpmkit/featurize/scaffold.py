"""The Bemis-Murcko scaffold: a molecule's ring systems and the linkers between them.

One function for the whole kit, because scaffold definitions move results a lot: the scaffold
split (``cpmkit.data.splits``, Hu et al.'s ``includeChirality=True``), MolGPT's scaffold
condition (``cpmkit.featurize.properties``, without chirality as MolGPT does) and the MOSES
Scaf metric (``cpmkit.tasks.generation``, scaffolds of at least two rings) all call
:func:`murcko_scaffold`. Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from cpmkit.featurize.parse import quiet_rdkit


def murcko_scaffold(
    smiles_or_mol, include_chirality: bool = True, min_rings: int = 0
) -> str | None:
    """The Bemis-Murcko scaffold SMILES of one molecule.

    Parameters
    ----------
    smiles_or_mol : str or rdkit.Chem.Mol
        A string is read with ``Chem.MolFromSmiles`` as given (as RDKit's
        ``MurckoScaffoldSmiles(smiles=...)`` does, so split hashes do not move).
    include_chirality : bool
        Write stereo in the scaffold SMILES (``MurckoScaffoldSmiles(includeChirality=...)``).
    min_rings : int
        Return ``None`` when the scaffold has fewer rings; with the default 0 every molecule
        has a scaffold and an acyclic one gets the empty scaffold ``""``.

    Returns
    -------
    str or None

    Raises
    ------
    ValueError
        The input is empty or does not parse (RDKit may raise its own error types for other
        odd inputs).

    Taught in ``notebooks/11_property_prediction``.
    """
    with quiet_rdkit():
        mol = smiles_or_mol
        if not isinstance(mol, Chem.Mol):
            mol = Chem.MolFromSmiles(smiles_or_mol) if smiles_or_mol else None
        if mol is None:
            raise ValueError(f"cannot read a molecule from {smiles_or_mol!r}")
        scaffold = MurckoScaffold.GetScaffoldForMol(mol)
        if min_rings and scaffold.GetRingInfo().NumRings() < min_rings:
            return None
        return Chem.MolToSmiles(scaffold, isomericSmiles=include_chirality)


__all__ = ["murcko_scaffold"]
