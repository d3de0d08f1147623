"""Conformer sets for 3D pre-training and fine-tuning: a seeded MOSES sample, QM8, QM9.

- :func:`conformer_corpus`: ``sample`` molecules drawn from a registry corpus (``moses_train``,
  the kit's unlabelled drug-like set) with a seeded generator, each embedded once by the kit's
  ETKDGv3 + MMFF94 featurizer (scheme ``"3d"``, :mod:`cpmkit.featurize.conformer`) and cached
  by :class:`~cpmkit.data.dataset.MoleculeDataset`; every molecule that fails is a reject with
  its row and reason, and ``n_read == len(corpus) + len(corpus.rejects)``.
- :func:`reject_summary`: the rejects counted by reason (the reason's text up to its details).
- :func:`qm9`: PyG's ``QM9`` (130k molecules with DFT coordinates and 19 targets), which is not
  in the kit's mirror: it downloads itself from PyG's URL on first use. Offline it raises
  :class:`QM9Unavailable` with a message saying so, which a lesson prints instead of failing.

Taught in ``notebooks/08_denoising``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.fetch import cache_dir

#: PyG QM9's target columns (``data.y[:, i]``; energies in eV as PyG converts them)
QM9_TARGETS = ["mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G", "cv",
               "U0_atom", "U_atom", "H_atom", "G_atom", "A", "B", "C"]  # fmt: skip


class QM9Unavailable(RuntimeError):
    """QM9 could not be downloaded (no network) and is not in the cache."""


def conformer_corpus(name: str = "moses_train", sample: int | None = 1000, seed: int = 0,
                     num_workers: int = 1, **kw) -> MoleculeDataset:  # fmt: skip
    """One seeded conformer per molecule of a seeded sample of ``name`` (cached).

    ``sample=None`` takes every molecule. ``kw`` goes to :class:`MoleculeDataset`
    (``label_cols=``, ``root=``). Each item is ``Data(z, pos, y, smiles, row, note)``.
    """
    return MoleculeDataset(name, scheme="3d", sample=sample, sample_seed=seed,
                           num_workers=num_workers, **kw)  # fmt: skip


def reject_summary(dataset) -> pd.DataFrame:
    """``reason, count`` of the dataset's rejects, most frequent first; the counts add up to
    ``len(dataset.rejects)``. The reason is cut before its details (seed, counts)."""
    reasons = [re.split(r" \(|: ", str(text), maxsplit=1)[0] for text in dataset.rejects["reason"]]
    if not reasons:
        return pd.DataFrame({"reason": pd.Series(dtype=str), "count": pd.Series(dtype=int)})
    counts = pd.Series(reasons).value_counts()
    return pd.DataFrame({"reason": counts.index, "count": counts.to_numpy()})


def qm9(root: str | os.PathLike | None = None):
    """PyG's ``QM9`` under ``cache_dir()/qm9`` (downloaded on first use; needs the network).

    Raises :class:`QM9Unavailable` with a readable message when the download fails.
    """
    from torch_geometric.datasets import QM9

    root = Path(root) if root is not None else cache_dir() / "qm9"
    try:
        return QM9(str(root))
    except Exception as err:  # URLError, socket errors, a half-written archive
        raise QM9Unavailable(
            f"QM9 is not in the kit's mirror and could not be downloaded into {root} "
            f"({type(err).__name__}: {err}). The paper profile needs the network once; the ci "
            "and teach profiles use QM8 (in the mirror) instead."
        ) from err


__all__ = ["QM9Unavailable", "QM9_TARGETS", "conformer_corpus", "qm9", "reject_summary"]
