"""A seeded random sample of a corpus: same seed, same rows; rows name the source file's rows."""

import pytest

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.data.embedded import nci5k_smiles


def test_sample_is_seeded_and_keeps_source_rows():
    a = MoleculeDataset("nci5k", sample=50, sample_seed=3)
    b = MoleculeDataset("nci5k", sample=50, sample_seed=3)
    c = MoleculeDataset("nci5k", sample=50, sample_seed=4)
    assert list(a.rows) == list(b.rows) and list(a.rows) != list(c.rows)
    assert a.n_read == 50 == len(a) + len(a.rejects)
    assert list(a.rows) == sorted(a.rows) and a.rows.max() > 50  # spread over the file
    source = nci5k_smiles()
    assert all(source[row] == smiles for row, smiles in zip(a.rows, a.smiles))


def test_sample_and_subset_exclude_each_other():
    with pytest.raises(ValueError, match="not both"):
        MoleculeDataset("nci5k", subset=10, sample=10)
    with pytest.raises(ValueError, match="positive"):
        MoleculeDataset("nci5k", sample=0)
