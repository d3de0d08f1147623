"""One 3D conformer per molecule: RDKit's ETKDGv3 embedding, then an MMFF94 clean-up.

Geometric pre-training (GraphMVP, 3D Infomax, Uni-Mol, denoising) needs atom positions. Without a
crystal structure we generate them: ETKDG (Riniker & Landrum, *J. Chem. Inf. Model.* 2015; v3:
Wang et al. 2020) samples distance-geometry coordinates and corrects torsions with
crystallographic preferences; the MMFF94 force field then relaxes bond lengths and angles.
The embedding is done with all hydrogens present (they shape the geometry) and is seeded, so the
same ``seed`` gives the same coordinates on the same RDKit version.
Taught in ``notebooks/01_descriptors``.
"""

from __future__ import annotations

import numpy as np
import rdkit
import torch
from rdkit import Chem
from rdkit.Chem import rdDistGeom, rdForceFieldHelpers
from torch_geometric.data import Data

from cpmkit.featurize.parse import FeaturizeError, quiet_rdkit

VERSION = "3d-etkdgv3-mmff-1"
# ETKDG's random stream and force fields change between RDKit releases: a cached coordinate set
# is only reproducible on the release that made it, so the cache key carries it.
CACHE_VERSION = f"{VERSION}+rdkit{rdkit.__version__}"

# Index -> name of RDKit's embedding failure causes (GetFailureCounts() is ordered by value).
_FAILURE_CAUSES = [
    name
    for _, name in sorted(
        (int(cause), name) for name, cause in rdDistGeom.EmbedFailureCauses.names.items()
    )
]


def _params(seed: int, max_iterations: int, random_coords: bool) -> rdDistGeom.EmbedParameters:
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = int(seed)
    params.numThreads = 1  # one thread keeps the random stream, hence the result, reproducible
    params.maxIterations = int(max_iterations)
    params.useRandomCoords = random_coords
    params.trackFailures = True
    return params


def _failure_reason(params: rdDistGeom.EmbedParameters) -> str:
    counts = list(params.GetFailureCounts())
    if not any(counts):
        return "no attempt succeeded"
    worst = int(np.argmax(counts))
    return f"most attempts failed at {_FAILURE_CAUSES[worst]} ({counts[worst]} times)"


def embed_conformer(
    mol: Chem.Mol,
    seed: int = 0,
    optimize: bool = True,
    keep_hs: bool = False,
    max_iterations: int = 0,
) -> Data:
    """Embed ``mol`` in 3D and return its atoms and coordinates.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        A parsed molecule (hydrogens implicit or explicit; it is not modified).
    seed : int
        ETKDG's ``randomSeed``; the same seed gives the same coordinates.
    optimize : bool
        Relax the embedded geometry with MMFF94 (up to 2,000 steps). A molecule MMFF has no
        parameters for (boron, selenium, most metals) keeps its ETKDG geometry and says so in
        ``note``.
    keep_hs : bool
        ``False`` (default): return heavy atoms only. Hydrogens are still used for the
        embedding and then dropped, explicit ``[H]`` atoms of the input included.
        ``True``: return every atom of ``Chem.AddHs(mol)`` (input atoms first, added
        hydrogens after) plus a boolean ``heavy_mask``.
    max_iterations : int
        ETKDG's ``maxIterations`` (0: RDKit's default, 10 x the number of atoms).

    Returns
    -------
    torch_geometric.data.Data
        ``z`` (long, N): atomic numbers; ``pos`` (float32, N x 3): coordinates in Angstrom;
        ``note`` (str): empty, or what differed from the plan (random-coordinate start, no
        MMFF parameters, MMFF not converged); ``heavy_mask`` (bool, N) when ``keep_hs``.

    Raises
    ------
    FeaturizeError
        ``"3D embedding failed: ..."`` when ETKDG finds no geometry, from the usual start or
        from random coordinates (e.g. cyclopropyne ``C1#CC1``: a triple bond cannot bend
        into a three-membered ring). Taught in ``notebooks/01_descriptors``.
    """
    with_hs = Chem.AddHs(mol)
    notes = []
    with quiet_rdkit():  # force-field typers print a line per unknown atom type
        params = _params(seed, max_iterations, random_coords=False)
        status = rdDistGeom.EmbedMolecule(with_hs, params)
        if status != 0:
            # RDKit's advice for molecules whose distance-bounds start fails (large, caged)
            first_reason = _failure_reason(params)
            params = _params(seed, max_iterations, random_coords=True)
            status = rdDistGeom.EmbedMolecule(with_hs, params)
            if status != 0:
                raise FeaturizeError(
                    f"3D embedding failed: ETKDGv3 found no geometry (seed {seed}; "
                    f"{first_reason}; from random coordinates too)"
                )
            notes.append("embedded from random coordinates")
        if optimize:
            if rdForceFieldHelpers.MMFFHasAllMoleculeParams(with_hs):
                status = rdForceFieldHelpers.MMFFOptimizeMolecule(with_hs, maxIters=2000)
                if status == 1:
                    notes.append("MMFF94 did not converge in 2000 steps")
                elif status == -1:
                    notes.append("MMFF94 could not be set up; ETKDG geometry kept")
            else:
                notes.append("MMFF94 has no parameters for this molecule; ETKDG geometry kept")

    z = np.array([atom.GetAtomicNum() for atom in with_hs.GetAtoms()], dtype=np.int64)
    pos = with_hs.GetConformer().GetPositions().astype(np.float32)
    heavy = z > 1
    if keep_hs:
        return Data(
            z=torch.from_numpy(z),
            pos=torch.from_numpy(pos),
            heavy_mask=torch.from_numpy(heavy),
            note="; ".join(notes),
        )
    if not heavy.any():
        raise FeaturizeError("molecule has no heavy atoms; use keep_hs=True to keep hydrogens")
    return Data(
        z=torch.from_numpy(z[heavy]),
        pos=torch.from_numpy(pos[heavy]),
        note="; ".join(notes),
    )


def aligned_rmsd(ref: np.ndarray, probe: np.ndarray) -> tuple[float, np.ndarray]:
    """RMSD of ``probe`` onto ``ref`` after the optimal rigid superposition, and the moved probe.

    RDKit's ``rdAlignment.GetAlignmentTransform`` finds the rotation and translation that
    minimise the summed squared distance (Kabsch); the RMSD is the square root of its mean
    over atoms. Both arrays hold the same atoms in the same order (``(N, 3)``, Angstrom), e.g.
    two :func:`embed_conformer` results of one molecule; no atom mapping or symmetry is tried.

    Returns
    -------
    (float, numpy.ndarray)
        The RMSD in Angstrom and ``probe`` moved onto ``ref`` (for drawing the two overlaid).

    Taught in ``notebooks/01_descriptors``.
    """
    from rdkit.Numerics import rdAlignment

    ssd, transform = rdAlignment.GetAlignmentTransform(ref.astype(float), probe.astype(float))
    moved = probe @ transform[:3, :3].T + transform[:3, 3]
    return float(np.sqrt(ssd / len(ref))), moved


__all__ = ["CACHE_VERSION", "VERSION", "aligned_rmsd", "embed_conformer"]
