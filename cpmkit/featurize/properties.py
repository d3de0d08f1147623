"""Molecular properties a generator is conditioned on (MolGPT): logP, QED, TPSA, SAS, weight.

MolGPT (Bagal et al. 2021) conditions its decoder on a few RDKit descriptors and on the
Murcko scaffold. Each property is centred and scaled by rounded MOSES/ZINC-like constants so
that the model reads numbers near zero. The scaffold condition is
``murcko_scaffold(mol, include_chirality=False)`` (:mod:`cpmkit.featurize.scaffold`).
Taught in ``notebooks/03_autoregressive``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rdkit import Chem, RDConfig
from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors

from cpmkit.featurize.parse import parse_smiles, quiet_rdkit


@lru_cache(maxsize=1)
def _sascorer():
    # Ertl & Schuffenhauer's synthetic accessibility score ships in RDKit's Contrib folder
    sys.path.append(f"{RDConfig.RDContribDir}/SA_Score")
    import sascorer

    return sascorer


def _sas(mol: Chem.Mol) -> float:
    return float(_sascorer().calculateScore(mol))


@dataclass(frozen=True)
class Property:
    """A molecular property a generator can be conditioned on: ``(value - center) / scale``."""

    compute: Callable[[Chem.Mol], float]
    center: float
    scale: float


#: conditionable properties; centres and scales are rounded MOSES/ZINC-like means and spreads
PROPERTIES: dict[str, Property] = {
    "logp": Property(Crippen.MolLogP, 2.5, 1.5),
    "qed": Property(QED.qed, 0.6, 0.2),
    "tpsa": Property(rdMolDescriptors.CalcTPSA, 65.0, 25.0),
    "sas": Property(_sas, 3.0, 0.8),
    "mw": Property(Descriptors.MolWt, 320.0, 60.0),
}


def molecular_properties(smiles_or_mol, names: Sequence[str]) -> np.ndarray:
    """The raw values of ``names`` (keys of :data:`PROPERTIES`) for one molecule, float32.

    All NaN when the SMILES does not parse. Taught in ``notebooks/03_autoregressive``.
    """
    unknown = [name for name in names if name not in PROPERTIES]
    if unknown:
        raise ValueError(f"unknown properties {unknown}; choose from {sorted(PROPERTIES)}")
    mol = smiles_or_mol if isinstance(smiles_or_mol, Chem.Mol) else parse_smiles(smiles_or_mol).mol
    if mol is None:
        return np.full(len(names), np.nan, dtype=np.float32)
    with quiet_rdkit():
        return np.array([PROPERTIES[name].compute(mol) for name in names], dtype=np.float32)


__all__ = ["PROPERTIES", "Property", "molecular_properties"]
