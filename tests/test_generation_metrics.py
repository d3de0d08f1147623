"""MOSES generation metrics on hand-made sets whose answers are known."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from cpmkit.tasks import generation as gen

GARBAGE = [None, "", "   ", "xyz", "C1CC", float("nan"), 3, "c1cccc1"]


def _bits(smiles: str) -> np.ndarray:
    # An independent path to Morgan r2/1024 bits: numpy arrays, not RDKit's bulk similarity.
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    return generator.GetFingerprintAsNumPy(Chem.MolFromSmiles(smiles)).astype(bool)


def _tanimoto(a: str, b: str) -> float:
    x, y = _bits(a), _bits(b)
    return (x & y).sum() / (x | y).sum()


@pytest.fixture(scope="module")
def nci():
    from cpmkit.data.embedded import nci5k_smiles

    smiles = [s for s in nci5k_smiles()[:120] if gen.canonical_smiles(s) is not None]
    return smiles[:40], smiles[40:80]


def test_validity_counts_garbage_as_invalid():
    assert gen.validity(["CCO", "C1CC", "xyz", ""]) == 0.25
    assert gen.validity(["CCO", None, float("nan"), 7]) == 0.25
    assert gen.validity(["CCO", "c1ccccc1"]) == 1.0
    with pytest.raises(ValueError, match="empty"):
        gen.validity([])


def test_canonical_smiles():
    assert gen.canonical_smiles("OCC") == gen.canonical_smiles("CCO") == "CCO"
    assert gen.canonical_smiles("C1=CC=CC=C1") == "c1ccccc1"
    assert all(gen.canonical_smiles(s) is None for s in GARBAGE)


def test_uniqueness_canonicalises_and_counts_first_k_valid():
    assert gen.uniqueness(["CCO", "OCC", "C"]) == pytest.approx(2 / 3)
    # The first two *valid* samples are CCO twice; invalid ones do not use up k.
    assert gen.uniqueness(["CCO", "xyz", "OCC", "C", "N"], k=2) == 0.5
    assert gen.uniqueness(["CCO", "xyz", "OCC", "C", "N"], k=4) == 0.75
    with pytest.warns(UserWarning, match="only 2 valid"):
        assert gen.uniqueness(["CCO", "C", "xyz"], k=10) == 1.0
    assert math.isnan(gen.uniqueness(["xyz", None]))


def test_novelty_against_train_compares_canonical_smiles():
    samples = ["CCO", "OCC", "c1ccccc1", "CCN", "xyz"]
    train = ["OCC", "C1=CC=CC=C1", "not a smiles"]
    # Distinct valid samples: CCO, benzene, CCN; only CCN is not in train.
    assert gen.novelty(samples, train) == pytest.approx(1 / 3)
    assert gen.novelty(samples, []) == 1.0
    assert gen.novelty(["CCO"], ["CCO"]) == 0.0
    assert math.isnan(gen.novelty(["xyz"], train))


@pytest.mark.parametrize("p", [1, 2])
def test_internal_diversity_by_hand(p):
    assert gen.internal_diversity(["CCO", "OCC", "CCO", "xyz"], p=p) == pytest.approx(0.0)
    a, b = "c1ccccc1O", "c1ccccc1N"
    t = _tanimoto(a, b)
    assert 0.0 < t < 1.0
    # Full 2x2 matrix [[1, t], [t, 1]], self-pairs included (MOSES).
    expected = 1 - ((1 + t**p) / 2) ** (1 / p)
    assert gen.internal_diversity([a, b], p=p) == pytest.approx(expected)


def test_internal_diversity_takes_the_power_mean_per_row_like_moses():
    smiles = ["c1ccccc1O", "c1ccccc1N", "CCCCCCO"]
    sim = np.array([[_tanimoto(x, y) for y in smiles] for x in smiles])
    per_row = 1 - np.mean(np.mean(sim**2, axis=1) ** 0.5)
    global_root = 1 - np.mean(sim**2) ** 0.5
    assert abs(per_row - global_root) > 1e-4  # the case tells the two readings apart
    assert gen.internal_diversity(smiles, p=2) == pytest.approx(per_row)
    assert gen.internal_diversity(smiles, p=1) == pytest.approx(1 - sim.mean())


def test_snn():
    samples = ["c1ccccc1O", "c1ccccc1N"]
    assert gen.snn(samples, samples) == pytest.approx(1.0)
    reference = ["c1ccccc1O", "CCCCCC"]
    expected = np.mean([1.0, max(_tanimoto("c1ccccc1N", r) for r in reference)])
    assert gen.snn(samples + ["xyz"], reference) == pytest.approx(expected)


def test_scaffold_counts_follow_moses():
    counts = gen.scaffold_counts(["Cc1ccc2ccccc2c1", "c1ccc2ccccc2c1", "Cc1ccccc1", "CCO", "xyz"])
    # MOSES counts scaffolds of two rings or more: toluene's benzene and ethanol's none drop out.
    assert counts == {"c1ccc2ccccc2c1": 2}
    assert gen.scaffold_counts(["Cc1ccccc1"], min_rings=1) == {"c1ccccc1": 1}


def test_scaffold_similarity():
    naphthalenes = ["Cc1ccc2ccccc2c1", "OCc1ccc2ccccc2c1"]
    indoles = ["Cc1ccc2[nH]ccc2c1", "c1ccc2[nH]ccc2c1"]
    assert gen.scaffold_similarity(naphthalenes, naphthalenes) == pytest.approx(1.0)
    assert gen.scaffold_similarity(naphthalenes, indoles) == pytest.approx(0.0)
    # Counts {N: 2} against {N: 1, I: 1}: cosine 2 / (2 * sqrt 2).
    mixed = gen.scaffold_similarity(naphthalenes, naphthalenes[:1] + indoles[:1])
    assert mixed == pytest.approx(1 / math.sqrt(2))


def test_fragment_similarity():
    samples = ["CCOc1ccccc1", "CC(=O)Nc1ccccc1C"]
    assert gen.fragment_similarity(samples, samples) == pytest.approx(1.0)
    assert len(gen.fragment_counts(samples)) > 2  # BRICS did cut these molecules
    assert gen.fragment_similarity(["CCO"], ["c1ccccc1"]) == pytest.approx(0.0)
    assert gen.count_cosine({"a": 1, "b": 1}, {"a": 3}) == pytest.approx(1 / math.sqrt(2))
    assert math.isnan(gen.count_cosine({}, {"a": 1}))


def test_fcd_self_is_zero_and_other_set_is_far(nci):
    first, second = nci
    assert abs(gen.fcd_distance(first, first)) < 1e-3
    far = gen.fcd_distance(first, second)
    assert far > 1.0
    # Invalid samples are dropped before ChemNet, so they change nothing.
    clean = gen.chemnet_activations(first[:5])
    assert clean.shape == (5, 512)
    np.testing.assert_allclose(gen.chemnet_activations(first[:5] + GARBAGE), clean, rtol=1e-5)
    with pytest.warns(UserWarning, match="two valid"):
        assert math.isnan(gen.fcd_distance(["CCO", "xyz"], ["CCO", "CCN"]))


def test_fcd_without_the_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcd", None)  # makes `import fcd` raise ImportError
    with pytest.raises(ImportError, match="'fcd'"):
        gen.fcd_distance(["CCO", "CCN"], ["CCO", "CCN"])


def test_generation_metrics_with_garbage(nci):
    first, second = nci
    samples = first + GARBAGE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unique@1000 of 40 samples warns, as in MOSES
        result = gen.generation_metrics(samples, second, train=first[:10], k=(10, 1000))
    assert result["n_samples"] == len(samples) and result["n_valid"] == len(first)
    assert result["valid"] == pytest.approx(len(first) / len(samples))
    assert result["unique@10"] == 1.0
    assert result["novelty"] == pytest.approx(30 / 40)
    assert result["IntDiv"] == pytest.approx(gen.internal_diversity(first, p=1))
    assert result["IntDiv2"] == pytest.approx(gen.internal_diversity(first, p=2))
    assert result["SNN"] == pytest.approx(gen.snn(first, second))
    assert result["Frag"] == pytest.approx(gen.fragment_similarity(first, second))
    assert result["Scaf"] == pytest.approx(gen.scaffold_similarity(first, second))
    assert result["FCD"] > 1.0
    assert 0 < result["IntDiv2"] < result["IntDiv"] < 1


def test_generation_metrics_all_invalid_and_without_fcd():
    result = gen.generation_metrics(["xyz", None, ""], ["CCO", "CCN"], k=5, fcd=False)
    assert result["valid"] == 0.0 and result["n_valid"] == 0
    for key in ("unique@5", "novelty", "IntDiv", "IntDiv2", "FCD", "SNN", "Frag", "Scaf"):
        assert math.isnan(result[key]), key
    result = gen.generation_metrics(["CCO", "CCO"], ["CCO"], k=2, fcd=False)
    assert math.isnan(result["FCD"]) and math.isnan(result["novelty"])
    assert result["unique@2"] == 0.5 and result["IntDiv"] == pytest.approx(0.0)


def test_metrics_table():
    runs = {
        "copy": gen.generation_metrics(["CCO", "CCN"], ["CCO", "CCN"], k=2, fcd=False),
        "other": gen.generation_metrics(["CCO", "xyz"], ["CCO", "CCN"], k=1, fcd=False),
    }
    table = gen.metrics_table(runs)
    assert list(table.index) == ["copy", "other"]
    assert table.loc["other", "valid"] == 0.5 and table.loc["copy", "SNN"] == 1.0
    assert math.isnan(table.loc["copy", "unique@1"])  # each run keeps its own k columns


def test_token_hits_compare_smiles_tokens_position_by_position():
    assert gen.token_hits("CC(=O)Cl", "CC(=O)Cl") == 7  # C C ( = O ) Cl: Cl is one token
    assert gen.token_hits("CC(=O)Cl", "CC(=O)C") == 6  # Cl is not C
    assert gen.token_hits("OCC", "CCO") == 1  # only the middle C lines up
    assert gen.token_hits("", "CCO") == 0


def test_token_similarity_is_one_minus_levenshtein_over_tokens():
    assert gen.token_similarity("CCO", "CCO") == 1.0
    assert gen.token_similarity("", "") == 1.0
    assert gen.token_similarity("", "CCO") == 0.0
    # one dropped token: position by position the O no longer lines up (2 of 4 hits), but the
    # edit distance is 1 of the longer 4 tokens
    assert gen.token_hits("CCO", "CCCO") == 2
    assert gen.token_similarity("CCO", "CCCO") == pytest.approx(1 - 1 / 4)
    # [nH] and Br are single tokens: a substitution of either costs one edit
    assert gen.token_similarity("c1cc[nH]c1Br", "c1cc[nH]c1Cl") == pytest.approx(1 - 1 / 8)
    assert gen.token_similarity("CCO", "OCC") == pytest.approx(1 - 2 / 3)


def test_novelty_against_the_full_training_set_is_cached_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    full = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "OC1CCCC1", "not a smiles"]
    source = tmp_path / "train.csv"
    source.write_text("smiles\n" + "\n".join(full) + "\n")
    sampled_subset = full[:2]  # what a small model trained on
    samples = ["OCC", "CCN", "C(C)(=O)O", "CCCl"]  # "OCC" is "CCO" written otherwise

    train = gen.canonical_training_set(source)
    assert isinstance(train, gen.CanonicalSmilesSet) and len(train) == 5  # invalid row left out
    assert gen.novelty(samples, gen.novelty_train_set("corpus", "-", sampled_subset)) == 3 / 4
    assert gen.novelty(samples, train) == 1 / 4 == gen.novelty(samples, full)  # only CCCl is new
    assert gen.generation_metrics(samples, full, train=train, fcd=False)["novelty"] == 1 / 4

    (cached,) = (tmp_path / "cache" / "canonical").iterdir()
    first = cached.read_bytes()
    monkeypatch.setattr(gen, "_valid_canonical", lambda _: pytest.fail("rebuilt"))
    assert gen.canonical_training_set(source) == train  # read back, not canonicalised again
    assert cached.read_bytes() == first
    cached.unlink()
    monkeypatch.undo()
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    assert gen.canonical_training_set(source) == train and cached.read_bytes() == first

    source.write_text("smiles\nCCO\n")  # another source file: another key, another file
    assert gen.canonical_training_set(source) == {"CCO"}
    assert len(list((tmp_path / "cache" / "canonical").iterdir())) == 2
    with pytest.raises(ValueError, match="novelty_train"):
        gen.novelty_train_set("sample", "-", [])
