"""Lessons 03 and 12 build one MolGPT run from their configs: same identity, one training."""

from types import SimpleNamespace

import pytest
import torch

from cpmkit.featurize.augment import canonical_smiles
from cpmkit.pretrain.loop import default_out_dir, run_identity
from cpmkit.pretrain.molgpt_run import molgpt_setup, molgpt_strategy, train_molgpt


def lesson_config(**changes):
    settings = dict(
        corpus="nci5k",
        corpus_size=40,
        trainer="hu2020",
        num_layers=1,
        num_heads=2,
        hidden_size=16,
        dropout=0.0,
        num_epochs=1,
        batch_size=16,
        lr=1e-3,
    )
    return SimpleNamespace(**{**settings, **changes})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_setup_holds_the_canonical_sample_and_room_for_the_longest(cache):
    setup = molgpt_setup(lesson_config())
    assert setup.molecules.n_read == len(setup.molecules) + len(setup.molecules.rejects)
    assert len(setup.train_smiles) == len(setup.corpus) == len(setup.molecules) <= 40
    assert setup.train_smiles == [canonical_smiles(s) for s in setup.molecules.smiles]
    assert setup.corpus.name == "nci5k-40-canonical"
    assert molgpt_setup(lesson_config(corpus_size=None)).corpus.name == "nci5k-all-canonical"
    longest = max(len(setup.tokenizer(s)["input_ids"]) for s in setup.train_smiles)
    assert setup.lengths.max() == longest
    assert setup.model_config.max_length == longest + 2
    assert (setup.model_config.hidden_size, setup.model_config.num_layers) == (16, 1)
    assert setup.pretrain_config.seed == 0 and setup.pretrain_config.lr == 1e-3


def test_two_lessons_get_one_run(cache):
    first, second = molgpt_setup(lesson_config()), molgpt_setup(lesson_config())
    a, b = molgpt_strategy(first), molgpt_strategy(second)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name  # seeded: the same initial weights every time
    identity = run_identity(a, first.corpus, first.pretrain_config)
    assert identity == run_identity(b, second.corpus, second.pretrain_config)
    randomized = molgpt_strategy(first, randomize=True)
    assert default_out_dir(identity) != default_out_dir(
        run_identity(randomized, first.corpus, first.pretrain_config)
    )

    trained = train_molgpt(first)
    assert trained.trained and trained.out_dir == default_out_dir(identity)
    assert str(trained.out_dir).startswith(str(cache))
    reloaded = train_molgpt(second)  # what lesson 12 does after lesson 03
    assert not reloaded.trained and reloaded.out_dir == trained.out_dir
    assert reloaded.final_loss == trained.final_loss
    changed = train_molgpt(molgpt_setup(lesson_config(lr=2e-3)))
    assert changed.trained and changed.out_dir != trained.out_dir
