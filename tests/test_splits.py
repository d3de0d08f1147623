"""Splits: Hu et al.'s exact scaffold semantics, seeded random splits, stable hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from cpmkit.data.splits import (
    Split,
    make_split,
    random_scaffold_split,
    random_split,
    scaffold,
    scaffold_groups,
    scaffold_split,
)

MIRROR = Path(os.environ.get("CPMKIT_DATA_MIRROR", "") or "/nonexistent-cpmkit-mirror")

# index: SMILES  (scaffold group)
HAND_MADE = [
    "CCO",  # 0 acyclic
    "c1ccccc1",  # 1 benzene
    "C1CCCCC1",  # 2 cyclohexane
    "Cc1ccccc1",  # 3 benzene
    "c1ccncc1",  # 4 pyridine
    "CCC",  # 5 acyclic
    "CC1CCCCC1",  # 6 cyclohexane
    "CCc1ccccc1",  # 7 benzene
    "c1ccc2ccccc2c1",  # 8 naphthalene
    "Oc1ccccc1",  # 9 benzene
]


def assert_partition(split: Split, n: int) -> None:
    every = np.concatenate(list(split))
    assert sorted(every.tolist()) == list(range(n))


def test_scaffolds_keep_chirality_and_acyclics_share_the_empty_one():
    assert scaffold("CCO") == scaffold("CCCCN") == scaffold("[Na+].[Cl-]") == ""
    assert scaffold("c1ccccc1CC(=O)O") == "c1ccccc1"
    # trans- and cis-decalin differ only in stereo: different scaffolds with includeChirality
    assert scaffold("C1CC[C@H]2CCCC[C@@H]2C1") != scaffold("C1CC[C@@H]2CCCC[C@@H]2C1")


def test_hand_made_scaffold_split():
    groups = scaffold_groups(HAND_MADE)
    assert groups[""] == [0, 5] and groups["c1ccccc1"] == [1, 3, 7, 9]
    split = scaffold_split(HAND_MADE)
    # benzene (4) -> train; the two size-2 groups in order of first index, descending:
    # cyclohexane (first 2) then acyclic (first 0) -> train (8 <= 0.8 * 10);
    # naphthalene (first 8) -> valid (8 + 0 + 1 <= 9); pyridine (first 4) -> test
    assert split.train.tolist() == [1, 3, 7, 9, 2, 6, 0, 5]
    assert split.valid.tolist() == [8]
    assert split.test.tolist() == [4]


def test_ties_in_size_go_by_first_index_descending():
    smiles = [
        "CCO",  # 0
        "C1CCCCC1",  # 1  group B (first index 1)
        "C1CCNCC1",  # 2  group E (first index 2)
        "CC1CCCCC1",  # 3  B
        "CC1CCNCC1",  # 4  E
        "CCC",
        "CCCC",
        "CCCCC",
        "CCN",  # 5-8 acyclic: 5 with row 0
        "c1ccccc1",  # 9  single
    ]
    split = scaffold_split(smiles)
    # acyclic (5) -> train 5; E before B (first index 2 > 1): E -> train 7;
    # B -> 9 > 8 so valid (7 + 0 + 2 <= 9); benzene -> train 8
    assert split.train.tolist() == [0, 5, 6, 7, 8, 2, 4, 9]
    assert split.valid.tolist() == [1, 3]
    assert split.test.tolist() == []


def test_scaffold_split_is_deterministic_and_rejects_bad_input():
    assert scaffold_split(HAND_MADE).sha256() == scaffold_split(list(HAND_MADE)).sha256()
    with pytest.raises(ValueError, match="item 1"):
        scaffold_split(["CCO", "C1CC"])
    with pytest.raises(ValueError, match="frac"):
        scaffold_split(HAND_MADE, frac=(0.8, 0.1, 0.2))


def test_random_split_is_seeded_and_complete():
    split = random_split(101, seed=3)
    assert split.sizes() == (80, 10, 11)
    assert_partition(split, 101)
    assert random_split(101, seed=3).sha256() == split.sha256()
    assert random_split(101, seed=4).sha256() != split.sha256()
    assert split.method == "random" and split.seed == 3


def test_random_scaffold_split_keeps_groups_whole():
    smiles = HAND_MADE * 3  # 30 molecules, 6 scaffolds
    split = random_scaffold_split(smiles, seed=1)
    assert_partition(split, 30)
    assert len(split.valid) <= 3 and len(split.test) <= 3
    where = {}
    for part, idx in zip(("train", "valid", "test"), split):
        for i in idx:
            where.setdefault(scaffold(smiles[i]), set()).add(part)
    assert all(len(parts) == 1 for parts in where.values())
    assert random_scaffold_split(smiles, seed=1).sha256() == split.sha256()


def test_split_hash_format_and_round_trip():
    split = Split([2, 0], [1], [3], method="scaffold")
    expected = hashlib.sha256(b"train:2,0\nvalid:1\ntest:3\n").hexdigest()
    assert split.sha256() == expected
    train, valid, test = split
    assert train.dtype == np.int64 and split.sizes() == (2, 1, 1)
    again = Split.from_dict(split.to_dict())
    assert again.sha256() == expected and again.method == "scaffold"
    tampered = split.to_dict() | {"test": [4]}
    with pytest.raises(ValueError, match="sha256"):
        Split.from_dict(tampered)


def test_make_split_dispatches():
    assert make_split("scaffold", HAND_MADE).sha256() == scaffold_split(HAND_MADE).sha256()
    assert make_split("random", HAND_MADE, seed=2).sha256() == random_split(10, 2).sha256()
    with pytest.raises(ValueError, match="unknown split method"):
        make_split("stratified", HAND_MADE)


@pytest.mark.skipif(
    not (MIRROR / "MANIFEST.tsv").is_file(), reason="set CPMKIT_DATA_MIRROR to the data mirror"
)
def test_bbbp_scaffold_split_has_no_leak(tmp_path, monkeypatch):
    from cpmkit.data.tables import read_molecules

    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    smiles = read_molecules("bbbp").smiles
    split = scaffold_split(smiles)
    n = len(smiles)
    assert_partition(split, n)
    train, valid, test = split.sizes()
    assert train <= 0.8 * n and train + valid <= 0.9 * n
    assert abs(train / n - 0.8) < 0.02 and abs(valid / n - 0.1) < 0.02
    scaffolds = {
        part: {scaffold(smiles[i]) for i in idx}
        for part, idx in zip(("train", "valid", "test"), split)
    }
    assert not scaffolds["train"] & scaffolds["valid"]
    assert not scaffolds["train"] & scaffolds["test"]
    assert not scaffolds["valid"] & scaffolds["test"]
    assert scaffold_split(smiles).sha256() == split.sha256()
