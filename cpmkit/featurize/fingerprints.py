"""Fixed molecular fingerprints: ECFP (Morgan) bits or counts and MACCS keys, as numpy arrays.

These are the "descriptor" baselines that pre-trained models are measured against: no training,
one vector per molecule. ECFP (Rogers & Hahn, 2010) hashes every circular atom environment of
radius ``r`` into one of ``n_bits`` positions; ECFP4 is radius 2. MACCS is a fixed dictionary of
166 substructure keys. Taught in ``notebooks/01_descriptors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import MACCSkeys, rdFingerprintGenerator

VERSION = "fp-1"

# RDKit numbers the MACCS keys 1..166 and keeps position 0 (always 0) so that bit i is key i.
MACCS_BITS = 167

FINGERPRINT_KINDS = ("ecfp", "maccs")


@lru_cache(maxsize=32)
def _morgan_generator(radius: int, n_bits: int, include_chirality: bool):
    # A generator is built once per setting and reused: building one costs more than using it.
    return rdFingerprintGenerator.GetMorganGenerator(
        radius=radius, fpSize=n_bits, includeChirality=include_chirality
    )


def _check_mol(mol) -> Chem.Mol:
    if not isinstance(mol, Chem.Mol):
        raise TypeError(f"expected an RDKit Chem.Mol, got {type(mol).__name__}")
    return mol


def ecfp(
    mol: Chem.Mol,
    radius: int = 2,
    n_bits: int = 2048,
    counts: bool = False,
    include_chirality: bool = False,
) -> np.ndarray:
    """Morgan/ECFP fingerprint of one molecule.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        A parsed molecule.
    radius : int
        Number of neighbourhood iterations; ``radius=2`` is ECFP4.
    n_bits : int
        Length of the folded vector.
    counts : bool
        ``False``: 0/1 bits (``uint8``). ``True``: how often each folded environment occurs
        (``int32``).
    include_chirality : bool
        Add the chiral tag to the atom invariants.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_bits,)``. Taught in ``notebooks/01_descriptors``.
    """
    if radius < 0 or n_bits < 1:
        raise ValueError(f"need radius >= 0 and n_bits >= 1, got radius={radius}, n_bits={n_bits}")
    generator = _morgan_generator(int(radius), int(n_bits), bool(include_chirality))
    _check_mol(mol)
    if counts:
        return generator.GetCountFingerprintAsNumPy(mol).astype(np.int32)
    return generator.GetFingerprintAsNumPy(mol).astype(np.uint8, copy=False)


def maccs(mol: Chem.Mol) -> np.ndarray:
    """The 166 MACCS structural keys as a ``uint8`` vector of length 167 (position 0 unused).

    Taught in ``notebooks/01_descriptors``.
    """
    bits = MACCSkeys.GenMACCSKeys(_check_mol(mol))
    out = np.zeros(MACCS_BITS, dtype=np.uint8)
    DataStructs.ConvertToNumpyArray(bits, out)
    return out


def fingerprint(mol: Chem.Mol, kind: str = "ecfp", **kw) -> np.ndarray:
    """One fingerprint of ``kind`` (``"ecfp"`` with :func:`ecfp`'s options, or ``"maccs"``).

    Taught in ``notebooks/01_descriptors``.
    """
    if kind == "ecfp":
        return ecfp(mol, **kw)
    if kind == "maccs":
        if kw:
            raise TypeError(f"maccs takes no options, got {sorted(kw)}")
        return maccs(mol)
    raise ValueError(f"unknown fingerprint kind {kind!r}; choose one of {FINGERPRINT_KINDS}")


def fingerprint_width(kind: str = "ecfp", **kw) -> int:
    """Length of one ``kind`` vector with these options. Taught in ``notebooks/01_descriptors``."""
    if kind == "ecfp":
        return int(kw.get("n_bits", 2048))
    if kind == "maccs":
        return MACCS_BITS
    raise ValueError(f"unknown fingerprint kind {kind!r}; choose one of {FINGERPRINT_KINDS}")


def fingerprint_matrix(mols: Iterable[Chem.Mol], kind: str = "ecfp", **kw) -> np.ndarray:
    """Stack the fingerprints of many molecules into one ``(N, D)`` matrix.

    Parameters
    ----------
    mols : iterable of rdkit.Chem.Mol
        Parsed molecules; a ``None`` (a failed parse) raises ``TypeError`` naming its position,
        because a silent zero row would look like a real, empty molecule.
    kind : {"ecfp", "maccs"}
    **kw
        Options of :func:`ecfp` (``radius``, ``n_bits``, ``counts``, ``include_chirality``).

    Returns
    -------
    numpy.ndarray
        ``uint8`` for bits, ``int32`` for counts; ``(0, D)`` for no molecules.
        Taught in ``notebooks/01_descriptors``.
    """
    width = fingerprint_width(kind, **kw)
    dtype = np.int32 if kw.get("counts") else np.uint8
    rows = []
    for i, mol in enumerate(mols):
        if mol is None:
            raise TypeError(f"mols[{i}] is None (a SMILES that did not parse?)")
        rows.append(fingerprint(mol, kind, **kw))
    if not rows:
        return np.zeros((0, width), dtype=dtype)
    return np.stack(rows).astype(dtype, copy=False)


__all__ = [
    "FINGERPRINT_KINDS",
    "MACCS_BITS",
    "VERSION",
    "ecfp",
    "fingerprint",
    "fingerprint_matrix",
    "fingerprint_width",
    "maccs",
]
