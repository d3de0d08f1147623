r"""2D graph plus 3D conformer in one ``Data``, and GEM's geometry labels computed from it.

Geometry-aware pre-training of a 2D encoder (3D Infomax, GEM) needs, for each molecule, the
graph the 2D encoder reads (Hu et al.'s ``x``, ``edge_index``, ``edge_attr``) *and* the atoms'
coordinates (``z``, ``pos``) **in the same atom order**. :func:`hu3d_graph` builds both from
one RDKit molecule: Hu et al.'s graph of the input atoms and the seeded ETKDGv3 + MMFF94
conformer of :func:`~cpmkit.featurize.conformer.embed_conformer`, embedded with all hydrogens
and cut back to exactly the input atoms (RDKit's ``AddHs`` appends hydrogens after the input
atoms, so the first ``mol.GetNumAtoms()`` rows are the input atoms, in order).

GEM's geometry-level tasks (Fang et al., *Nat. Mach. Intell.* 2022; PaddleHelix
``apps/pretrained_compound/ChemRL/GEM``) read three labels off the conformer:

- **bond lengths** :math:`\lVert r_i - r_j\rVert` of every bond, both directions
  (:func:`bond_lengths`);
- **bond angles** :math:`\angle(r_i - r_j, r_k - r_j)` of every pair of bonds that share an
  atom :math:`j`, in radians, both orders :math:`(i, j, k)` and :math:`(k, j, i)`
  (:func:`bond_angle_triples`, :func:`bond_angles`);
- **binned atom distances** of every ordered atom pair of a molecule, self-pairs included, as
  in GEM's collate (the full :math:`N \times N` matrix): the distance is clipped to
  :math:`[0, d_{max}]` and its bin is :math:`\lfloor d / d_{max} \cdot K \rfloor` with
  :math:`d_{max} = 20` A and :math:`K` bins (:func:`distance_bins`; a distance of exactly
  :math:`d_{max}` lands in bin :math:`K`, which is why GEM's classifier has more than :math:`K`
  outputs).

Taught in ``notebooks/09_knowledge_enriched``.
"""

from __future__ import annotations

import torch
from rdkit import Chem
from torch_geometric.data import Data

from cpmkit.featurize import conformer, graph_hu
from cpmkit.featurize.conformer import embed_conformer
from cpmkit.featurize.graph_hu import hu_graph
from cpmkit.featurize.parse import FeaturizeError

VERSION = "hu3d-1"
#: cache key of the combined scheme: both parts' versions (the 3D one carries the RDKit release)
CACHE_VERSION = f"{VERSION}+{graph_hu.VERSION}+{conformer.CACHE_VERSION}"
#: GEM's atom-distance classification: distances clipped at 20 A
MAX_DISTANCE = 20.0


def hu3d_graph(mol: Chem.Mol, seed: int = 0) -> Data:
    """Hu et al.'s 2D graph of ``mol`` with its 3D conformer: ``x, edge_index, edge_attr, z, pos``.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        A parsed molecule (not modified). Explicit hydrogen atoms of the input stay atoms of
        both parts.
    seed : int
        ETKDG's seed (:func:`~cpmkit.featurize.conformer.embed_conformer`).

    Returns
    -------
    torch_geometric.data.Data
        The graph of :func:`~cpmkit.featurize.graph_hu.hu_graph` plus ``z`` (atomic numbers)
        and ``pos`` (Angstrom) of the same atoms in the same order, and ``note`` (what the
        embedding reported, e.g. MMFF without parameters).

    Raises
    ------
    FeaturizeError
        When either part fails (an atom outside Hu et al.'s tables, no 3D embedding); the
        message says which.
    """
    graph = hu_graph(mol)
    full = embed_conformer(mol, seed=seed, keep_hs=True)
    n = mol.GetNumAtoms()
    z, pos = full.z[:n], full.pos[:n]
    if not torch.equal(z - 1, graph.x[:, 0]):  # Hu et al.'s first atom feature: number - 1
        raise FeaturizeError("2D graph and conformer disagree on the atom order")
    graph.z, graph.pos, graph.note = z, pos, full.note
    return graph


def bond_lengths(edge_index: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Length in Angstrom of every (directed) bond of ``edge_index``: shape ``(E,)``."""
    return (pos[edge_index[0]] - pos[edge_index[1]]).norm(dim=1)


def bond_angle_triples(edge_index: torch.Tensor) -> torch.Tensor:
    """Every ``(i, j, k)`` with bonds ``i-j`` and ``j-k``, ``i != k``: shape ``(3, T)``, long.

    ``j`` is the shared atom (the angle's vertex). Each angle appears in both orders,
    ``(i, j, k)`` and ``(k, j, i)``, as in GEM's ``get_pretrain_bond_angle``. ``edge_index``
    holds every bond in both directions (as Hu et al.'s graphs do); batched graphs work
    unchanged, since bonds never cross molecules.
    """
    src, dst = edge_index
    # bonds into j: (i -> j); bonds out of j: (j -> k); pair them where the j agree
    same_centre = dst.view(-1, 1) == src.view(1, -1)
    first, second = torch.nonzero(same_centre, as_tuple=True)
    i, j, k = src[first], dst[first], dst[second]
    keep = i != k
    return torch.stack([i[keep], j[keep], k[keep]])


def bond_angles(triples: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Angle at ``j`` of each ``(i, j, k)`` in radians, in ``[0, pi]``: shape ``(T,)``."""
    i, j, k = triples
    a, b = pos[i] - pos[j], pos[k] - pos[j]
    cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp(min=1e-8)
    return torch.arccos(cos.clamp(-1.0, 1.0))


def atom_pairs(batch: torch.Tensor) -> torch.Tensor:
    """Every ordered pair ``(i, j)`` of atoms of the same molecule, ``i == j`` included.

    ``batch`` maps atoms to molecules (PyG's ``batch`` vector; ``zeros(N)`` for one molecule).
    Returns ``(2, sum of N_m^2)``, molecule by molecule, row-major within each.
    """
    same = batch.view(-1, 1) == batch.view(1, -1)
    return torch.stack(torch.nonzero(same, as_tuple=True))


def distance_bins(
    distance: torch.Tensor, num_bins: int = 30, max_distance: float = MAX_DISTANCE
) -> torch.Tensor:
    """GEM's distance classes: ``floor(clip(d, 0, max) / max * num_bins)``, long.

    Values run from 0 to ``num_bins`` (a distance of ``max_distance`` or more lands in the last
    class, ``num_bins``): a classifier needs ``num_bins + 1`` outputs.
    """
    if num_bins < 1 or max_distance <= 0:
        raise ValueError("num_bins must be >= 1 and max_distance > 0")
    clipped = distance.clamp(0.0, max_distance)
    return torch.floor(clipped / max_distance * num_bins).long()


def geometry_labels(data: Data, num_bins: int = 30) -> dict[str, torch.Tensor]:
    """GEM's three label sets of one molecule (or a batch) with ``edge_index`` and ``pos``.

    Returns ``bond_length`` (E,), ``angle_triples`` (3, T), ``bond_angle`` (T, radians),
    ``pairs`` (2, P) and ``distance_bin`` (P,).
    """
    batch = getattr(data, "batch", None)
    if batch is None:
        batch = torch.zeros(data.pos.size(0), dtype=torch.long)
    triples = bond_angle_triples(data.edge_index)
    pairs = atom_pairs(batch)
    distance = (data.pos[pairs[0]] - data.pos[pairs[1]]).norm(dim=1)
    return {
        "bond_length": bond_lengths(data.edge_index, data.pos),
        "angle_triples": triples,
        "bond_angle": bond_angles(triples, data.pos),
        "pairs": pairs,
        "distance_bin": distance_bins(distance, num_bins),
    }


__all__ = [
    "CACHE_VERSION",
    "MAX_DISTANCE",
    "VERSION",
    "atom_pairs",
    "bond_angle_triples",
    "bond_angles",
    "bond_lengths",
    "distance_bins",
    "geometry_labels",
    "hu3d_graph",
]
