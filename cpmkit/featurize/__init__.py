"""How a molecule becomes tensors: one entry point for every featurization scheme.

=========  ==========================================  ==================================
scheme     what comes out                              module
=========  ==========================================  ==================================
``hu``     PyG graph, 2 atom + 2 bond features         :mod:`.graph_hu` (Hu et al. 2020)
``ogb``    PyG graph, 9 atom + 3 bond features         :mod:`.graph_ogb` (OGB / PyG tables)
``ecfp``   numpy bit (or count) vector                 :mod:`.fingerprints`
``maccs``  numpy vector of the 166 MACCS keys (+1)     :mod:`.fingerprints`
``3d``     PyG ``Data(z, pos)``, ETKDGv3 + MMFF94      :mod:`.conformer`
``hu3d``   ``hu`` graph + ``z, pos``, same atom order  :mod:`.geometry` (3D Infomax, GEM)
=========  ==========================================  ==================================

:func:`featurize_smiles` is the loader-facing path: it never raises on bad input, it keeps every
rejected row with its index and reason, and ``n_read == len(items) + len(rejects)``.
The SMILES tokenizer for sequence models lives in :mod:`.tokenizer`.
Taught in ``notebooks/00_quickstart`` and ``notebooks/01_descriptors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from cpmkit.featurize import conformer, fingerprints, geometry, graph_hu, graph_ogb
from cpmkit.featurize.conformer import embed_conformer
from cpmkit.featurize.fingerprints import ecfp, fingerprint_matrix, maccs
from cpmkit.featurize.geometry import hu3d_graph
from cpmkit.featurize.graph_hu import hu_graph
from cpmkit.featurize.graph_ogb import ogb_graph
from cpmkit.featurize.parallel import check_num_workers, map_chunks
from cpmkit.featurize.parse import FeaturizeError, Parsed, parse_smiles, quiet_rdkit

SCHEMES = ("hu", "ogb", "ecfp", "maccs", "3d", "hu3d")
GRAPH_SCHEMES = ("hu", "ogb")
FINGERPRINT_SCHEMES = ("ecfp", "maccs")

_VERSIONS = {
    "hu": graph_hu.VERSION,
    "ogb": graph_ogb.VERSION,
    "ecfp": f"ecfp-{fingerprints.VERSION}",
    "maccs": f"maccs-{fingerprints.VERSION}",
    "3d": conformer.CACHE_VERSION,
    "hu3d": geometry.CACHE_VERSION,
}


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown featurization scheme {scheme!r}; choose one of {SCHEMES}")


def scheme_version(scheme: str) -> str:
    """The version string of ``scheme``'s output, for cache keys (changes when outputs change).

    The ``3d`` version includes the RDKit release, because ETKDG coordinates depend on it.
    Taught in ``notebooks/00_quickstart``.
    """
    _check_scheme(scheme)
    return _VERSIONS[scheme]


def featurize_mol(mol: Chem.Mol, scheme: str, **kw) -> Any:
    """Featurize one parsed molecule with ``scheme``.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
    scheme : {"hu", "ogb", "ecfp", "maccs", "3d", "hu3d"}
    **kw
        Options of the scheme's function: :func:`~.fingerprints.ecfp` for ``"ecfp"``
        (``radius``, ``n_bits``, ``counts``), :func:`~.conformer.embed_conformer` for ``"3d"``
        (``seed``, ``optimize``, ``keep_hs``), :func:`~.geometry.hu3d_graph` for ``"hu3d"``
        (``seed``); the others take none.

    Returns
    -------
    torch_geometric.data.Data or numpy.ndarray
        A graph for ``hu``/``ogb``/``3d``/``hu3d``, a vector for ``ecfp``/``maccs``.

    Raises
    ------
    FeaturizeError
        The molecule cannot be represented by ``scheme`` (the message is the reason).
        Taught in ``notebooks/01_descriptors``.
    """
    _check_scheme(scheme)
    if not isinstance(mol, Chem.Mol):
        raise TypeError(f"expected an RDKit Chem.Mol, got {type(mol).__name__}")
    if scheme in ("hu", "ogb", "maccs") and kw:
        raise TypeError(f"scheme {scheme!r} takes no options, got {sorted(kw)}")
    if scheme == "hu":
        return hu_graph(mol)
    if scheme == "ogb":
        return ogb_graph(mol)
    if scheme == "ecfp":
        return ecfp(mol, **kw)
    if scheme == "maccs":
        return maccs(mol)
    if scheme == "hu3d":
        return hu3d_graph(mol, **kw)
    return embed_conformer(mol, **kw)


@dataclass
class FeaturizeResult:
    """What :func:`featurize_smiles` kept and what it rejected.

    Attributes
    ----------
    items : list
        One featurized item per kept SMILES, in input order.
    rows : numpy.ndarray
        0-based input position of each item (``items[k]`` came from ``smiles_list[rows[k]]``).
    rejects : pandas.DataFrame
        Columns ``row``, ``smiles``, ``reason``: one line per SMILES that failed to parse or
        to featurize.
    n_read : int
        Number of inputs read; always ``len(items) + len(rejects)``.

    Taught in ``notebooks/00_quickstart``.
    """

    items: list
    rows: np.ndarray
    rejects: pd.DataFrame
    n_read: int

    def __len__(self) -> int:
        return len(self.items)

    def matrix(self) -> np.ndarray:
        """Stack fingerprint items into an ``(N, D)`` array (fingerprint schemes only)."""
        if not self.items:
            raise ValueError("no items to stack")
        if not isinstance(self.items[0], np.ndarray):
            raise TypeError("matrix() stacks fingerprint vectors; these items are graphs")
        return np.stack(self.items)


def _featurize_chunk(smiles_list: Sequence, start: int, scheme: str, kw: dict) -> tuple:
    """Parse and featurize one chunk: ``(items, rows, rejects, n_read)``, rows from ``start``.

    Module-level so that a worker process can run it (see :mod:`.parallel`).
    """
    items: list = []
    rows: list[int] = []
    rejects: list[tuple[int, str, str]] = []
    n_read = 0
    for row, smiles in enumerate(smiles_list, start):
        n_read += 1
        parsed = parse_smiles(smiles)
        if parsed.mol is None:
            rejects.append((row, parsed.smiles, parsed.reason))
            continue
        try:
            items.append(featurize_mol(parsed.mol, scheme, **kw))
        except FeaturizeError as error:
            rejects.append((row, parsed.smiles, str(error)))
            continue
        rows.append(row)
    return items, rows, rejects, n_read


def featurize_smiles(
    smiles_list: Iterable, scheme: str, *, num_workers: int = 1, **kw
) -> FeaturizeResult:
    """Parse and featurize many SMILES, keeping every failure as data instead of raising.

    Parameters
    ----------
    smiles_list : iterable
        SMILES strings; ``None``, NaN, empty strings and non-strings are rejected with a reason.
    scheme : {"hu", "ogb", "ecfp", "maccs", "3d", "hu3d"}
    num_workers : int
        Processes to featurize on (contiguous chunks, :func:`.parallel.map_chunks`); the result
        is the same as with one (same items, rows and rejects, in input order).
    **kw
        Passed to :func:`featurize_mol` (e.g. ``n_bits=1024`` for ``"ecfp"``, ``seed=1`` for
        ``"3d"``).

    Returns
    -------
    FeaturizeResult
        ``items`` (what :func:`featurize_mol` returns, unchanged), ``rows``, ``rejects`` and
        ``n_read``, with ``n_read == len(items) + len(rejects)``.
        Taught in ``notebooks/00_quickstart``.
    """
    _check_scheme(scheme)
    if check_num_workers(num_workers) == 1:
        parts = [_featurize_chunk(smiles_list, 0, scheme, kw)]  # streams: no list is made
    else:
        parts = map_chunks(_featurize_chunk, list(smiles_list), num_workers, scheme, kw)
    items = [item for part in parts for item in part[0]]
    rows = [row for part in parts for row in part[1]]
    rejects = [reject for part in parts for reject in part[2]]
    return FeaturizeResult(
        items=items,
        rows=np.array(rows, dtype=np.int64),
        rejects=pd.DataFrame(rejects, columns=["row", "smiles", "reason"]).astype(
            {"row": np.int64, "smiles": object, "reason": object}
        ),
        n_read=sum(part[3] for part in parts),
    )


__all__ = [
    "FINGERPRINT_SCHEMES",
    "GRAPH_SCHEMES",
    "SCHEMES",
    "FeaturizeError",
    "FeaturizeResult",
    "Parsed",
    "embed_conformer",
    "featurize_mol",
    "featurize_smiles",
    "fingerprint_matrix",
    "hu3d_graph",
    "hu_graph",
    "ogb_graph",
    "parse_smiles",
    "quiet_rdkit",
    "scheme_version",
]
