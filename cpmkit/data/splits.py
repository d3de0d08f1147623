r"""Train/valid/test splits: scaffold (Hu et al. 2020, exactly), random, random scaffold.

A scaffold split puts whole Bemis-Murcko scaffold groups into one part, so the test set holds
ring systems the model never saw. Its details move results a lot, so
:func:`scaffold_split` follows ``pretrain-gnns/chem/splitters.py`` exactly:

1. scaffold = ``MurckoScaffoldSmiles(smiles=..., includeChirality=True)``; every acyclic
   molecule has the empty scaffold ``""`` and so they form one group;
2. groups are sorted by (size, first index), both descending;
3. a group goes to train if ``len(train) + len(group) <= 0.8 N``, else to valid if
   ``len(train) + len(valid) + len(group) <= 0.9 N``, else to test.

Store ``Split.sha256()`` with a result so that a reproduction can show it used the same split.
Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cpmkit.featurize.scaffold import murcko_scaffold

DEFAULT_FRAC = (0.8, 0.1, 0.1)
METHODS = ("scaffold", "random", "random_scaffold")


@dataclass(frozen=True, eq=False)
class Split:
    """Index arrays (into the dataset's kept molecules) for train, valid and test.

    Unpacks as ``train, valid, test = split``.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    method: str = ""
    seed: int | None = None

    def __post_init__(self):
        for part in ("train", "valid", "test"):
            object.__setattr__(self, part, np.asarray(getattr(self, part), dtype=np.int64))

    def __iter__(self):
        return iter((self.train, self.valid, self.test))

    def sizes(self) -> tuple[int, int, int]:
        """``(len(train), len(valid), len(test))``."""
        return len(self.train), len(self.valid), len(self.test)

    def sha256(self) -> str:
        """Hash of the three index lists, in order: ``train:i,j,...\\nvalid:...\\ntest:...\\n``.

        Two splits hash equal only if every index sits in the same part at the same position.
        """
        text = "".join(
            f"{part}:{','.join(map(str, getattr(self, part).tolist()))}\n"
            for part in ("train", "valid", "test")
        )
        return hashlib.sha256(text.encode("ascii")).hexdigest()

    def to_dict(self) -> dict:
        """Plain lists (JSON-ready), with the method, seed and hash."""
        return {
            "method": self.method,
            "seed": self.seed,
            "sha256": self.sha256(),
            "train": self.train.tolist(),
            "valid": self.valid.tolist(),
            "test": self.test.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Split:
        """Rebuild a split saved by :meth:`to_dict`; raises ValueError if the hash differs."""
        split = cls(
            data["train"], data["valid"], data["test"], data.get("method", ""), data.get("seed")
        )
        if "sha256" in data and data["sha256"] != split.sha256():
            raise ValueError("split indices do not match their stored sha256")
        return split


def _check_frac(frac: Sequence[float]) -> tuple[float, float, float]:
    if len(frac) != 3 or min(frac) < 0 or not np.isclose(sum(frac), 1.0):
        raise ValueError(f"frac must be three non-negative fractions summing to 1, got {frac}")
    return float(frac[0]), float(frac[1]), float(frac[2])


def scaffold(smiles_or_mol) -> str:
    """The Bemis-Murcko scaffold SMILES with chirality (``""`` for an acyclic molecule).

    Hu et al.'s definition, ``MurckoScaffoldSmiles(includeChirality=True)``, through the kit's
    one scaffold function :func:`cpmkit.featurize.scaffold.murcko_scaffold`.
    Taught in ``notebooks/11_property_prediction``.
    """
    return murcko_scaffold(smiles_or_mol, include_chirality=True)


def scaffold_groups(smiles: Sequence) -> dict[str, list[int]]:
    """``{scaffold: [indices in increasing order]}`` in order of first appearance.

    ``smiles`` may hold SMILES strings or RDKit molecules; an unparseable SMILES raises
    ValueError naming its index (read the table with ``read_molecules`` first).
    Taught in ``notebooks/11_property_prediction``.
    """
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(smiles):
        try:
            key = scaffold(item)
        except Exception as err:  # RDKit raises several types for a bad input
            raise ValueError(f"cannot compute the scaffold of item {i} ({item!r}): {err}") from err
        groups.setdefault(key, []).append(i)
    return groups


def scaffold_split(smiles: Sequence, frac: Sequence[float] = DEFAULT_FRAC) -> Split:
    """Deterministic scaffold split with the exact semantics of Hu et al. 2020.

    Parameters
    ----------
    smiles
        The dataset's kept molecules in dataset order (SMILES or RDKit mols); indices refer to
        this order.
    frac
        Train, valid and test fractions.

    Taught in ``notebooks/11_property_prediction``.
    """
    f_train, f_valid, _ = _check_frac(frac)
    n = len(smiles)
    groups = scaffold_groups(smiles)
    ordered = sorted(groups.values(), key=lambda g: (len(g), g[0]), reverse=True)
    # the same float expressions as the reference code, so ties at a cutoff fall the same way
    train_cutoff = f_train * n
    valid_cutoff = (f_train + f_valid) * n
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for group in ordered:
        if len(train) + len(group) > train_cutoff:
            if len(train) + len(valid) + len(group) > valid_cutoff:
                test.extend(group)
            else:
                valid.extend(group)
        else:
            train.extend(group)
    return Split(train, valid, test, method="scaffold")


def random_split(n: int, seed: int = 0, frac: Sequence[float] = DEFAULT_FRAC) -> Split:
    """Seeded random split of ``range(n)`` (Hu et al.'s ``random_split``: Python's ``random``
    shuffle, then ``int(f_train n)`` train and ``int(f_valid n)`` valid indices).

    Taught in ``notebooks/11_property_prediction``.
    """
    f_train, f_valid, _ = _check_frac(frac)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_train, n_valid = int(f_train * n), int(f_valid * n)
    return Split(
        order[:n_train],
        order[n_train : n_train + n_valid],
        order[n_train + n_valid :],
        method="random",
        seed=seed,
    )


def random_scaffold_split(
    smiles: Sequence, seed: int = 0, frac: Sequence[float] = DEFAULT_FRAC
) -> Split:
    """Scaffold groups in a seeded random order (Hu et al.'s ``random_scaffold_split``).

    Groups are permuted with ``numpy.random.RandomState(seed)``; a group fills valid while it
    stays within ``floor(f_valid N)``, else test within ``floor(f_test N)``, else goes to train.
    Taught in ``notebooks/11_property_prediction``.
    """
    _, f_valid, f_test = _check_frac(frac)
    n = len(smiles)
    groups = list(scaffold_groups(smiles).values())
    # permuting positions equals the reference's permutation of the ragged list of groups
    order = np.random.RandomState(seed).permutation(len(groups))
    n_valid, n_test = int(np.floor(f_valid * n)), int(np.floor(f_test * n))
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for k in order:
        group = groups[k]
        if len(valid) + len(group) <= n_valid:
            valid.extend(group)
        elif len(test) + len(group) <= n_test:
            test.extend(group)
        else:
            train.extend(group)
    return Split(train, valid, test, method="random_scaffold", seed=seed)


def make_split(
    method: str, smiles: Sequence, seed: int = 0, frac: Sequence[float] = DEFAULT_FRAC
) -> Split:
    """One entry point: ``method`` is ``"scaffold"`` (seed ignored: it is deterministic),
    ``"random"`` or ``"random_scaffold"``. Taught in ``notebooks/11_property_prediction``."""
    if method == "scaffold":
        return scaffold_split(smiles, frac)
    if method == "random":
        return random_split(len(smiles), seed, frac)
    if method == "random_scaffold":
        return random_scaffold_split(smiles, seed, frac)
    raise ValueError(f"unknown split method {method!r}; choose one of {METHODS}")


__all__ = [
    "DEFAULT_FRAC",
    "METHODS",
    "Split",
    "make_split",
    "random_scaffold_split",
    "random_split",
    "scaffold",
    "scaffold_groups",
    "scaffold_split",
]
