"""The one pre-training loop: a toy strategy plugs in, same seed same weights, resume after an
interruption gives the weights of an uninterrupted run, two torchrun processes agree."""

import pytest
import torch
from ddp.launch import run_two_ranks

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.models.gnn import GNN
from cpmkit.pretrain import AttributeMasking, PretrainConfig, Strategy, pretrain
from cpmkit.pretrain.loop import load_checkpoint_state
from cpmkit.seed import seed_everything


@pytest.fixture(scope="module")
def corpus():
    return MoleculeDataset("nci5k", subset=96)


def small_masking(seed=0, **kw):
    seed_everything(seed)
    return AttributeMasking(GNN(num_layer=2, emb_dim=16, drop_ratio=0.0), **kw)


def same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class Readout(Strategy):
    """A toy strategy in five lines: predict each molecule's atom count from its pooled vector."""

    name = "readout"

    def __init__(self, encoder):
        super().__init__(encoder)
        self.head = torch.nn.Linear(encoder.out_dim, 1)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        counts = torch.bincount(batch.batch).float()
        pooled = torch.zeros(len(counts), nodes.size(1)).index_add_(0, batch.batch, nodes)
        guess = self.head(pooled / counts[:, None]).view(-1)
        return torch.nn.functional.mse_loss(guess, counts / 10)


def test_toy_strategy_plugs_in_and_learns(corpus, tmp_path):
    seed_everything(0)
    strategy = Readout(GNN(num_layer=2, emb_dim=16, drop_ratio=0.0))
    result = pretrain(
        strategy,
        corpus,
        PretrainConfig(num_epochs=6, batch_size=32, lr=1e-2),
        out_dir=tmp_path,
        progress=False,
    )
    losses = result.epoch_losses()["loss"]
    assert len(result.history) == 6 * 3  # 96 molecules, batches of 32
    assert losses.iloc[-1] < 0.5 * losses.iloc[0]
    state = torch.load(result.encoder_path, weights_only=True)
    assert same_state(state, strategy.encoder.state_dict())
    assert (tmp_path / "history.csv").is_file() and (tmp_path / "run.json").is_file()


def test_same_seed_same_weights_and_other_seed_differs(corpus, tmp_path):
    config = PretrainConfig(num_epochs=2, batch_size=32)
    a, b, c = small_masking(), small_masking(), small_masking()
    pretrain(a, corpus, config, out_dir=tmp_path / "a", progress=False)
    pretrain(b, corpus, config, out_dir=tmp_path / "b", progress=False)
    pretrain(
        c,
        corpus,
        PretrainConfig(num_epochs=2, batch_size=32, seed=1),
        out_dir=tmp_path / "c",
        progress=False,
    )
    assert same_state(a.state_dict(), b.state_dict())
    assert not same_state(a.state_dict(), c.state_dict())


class Interrupted(Exception):
    pass


def test_resume_after_interruption_gives_the_same_weights(corpus, tmp_path):
    config = PretrainConfig(num_epochs=3, batch_size=32, checkpoint_every=2)
    whole = small_masking()
    pretrain(whole, corpus, config, out_dir=tmp_path / "whole", progress=False)

    broken = small_masking()
    calls = {"n": 0}
    original = broken.loss

    def crash_at_step_6(batch):
        calls["n"] += 1
        if calls["n"] == 6:  # mid-epoch 2, one step after the checkpoint of step 4
            raise Interrupted
        return original(batch)

    broken.loss = crash_at_step_6
    with pytest.raises(Interrupted):
        pretrain(broken, corpus, config, out_dir=tmp_path / "broken", progress=False)
    saved = load_checkpoint_state(tmp_path / "broken" / "checkpoint.pt")
    assert (saved["epoch"], saved["step_in_epoch"], saved["global_step"]) == (1, 1, 4)

    resumed = small_masking()  # a fresh process: same seed, same initial weights
    result = pretrain(resumed, corpus, config, out_dir=tmp_path / "broken", progress=False)
    assert result.resumed_from_step == 4 and result.trained
    assert len(result.history) == 9
    assert same_state(resumed.state_dict(), whole.state_dict())


def test_finished_run_is_loaded_not_repeated(corpus, tmp_path):
    config = PretrainConfig(num_epochs=1, batch_size=32)
    first = small_masking()
    pretrain(first, corpus, config, out_dir=tmp_path, progress=False)
    again = small_masking()
    result = pretrain(again, corpus, config, out_dir=tmp_path, progress=False)
    assert not result.trained and len(result.history) == 3
    assert same_state(again.state_dict(), first.state_dict())


def test_checkpoint_of_another_run_is_refused(corpus, tmp_path):
    pretrain(
        small_masking(),
        corpus,
        PretrainConfig(num_epochs=1, batch_size=32),
        out_dir=tmp_path,
        progress=False,
    )
    with pytest.raises(ValueError, match="another run"):
        pretrain(
            small_masking(mask_rate=0.3),
            corpus,
            PretrainConfig(num_epochs=1, batch_size=32),
            out_dir=tmp_path,
            progress=False,
        )


def test_checkpoint_loads_with_weights_only(corpus, tmp_path):
    pretrain(
        small_masking(),
        corpus,
        PretrainConfig(num_epochs=1, batch_size=32),
        out_dir=tmp_path,
        progress=False,
    )
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 1 and "optimizer" in state and len(state["rng"]) == 1


def test_default_out_dir_depends_on_the_run(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("CPMKIT_CACHE", str(tmp_path))
    a = pretrain(
        small_masking(), corpus, PretrainConfig(num_epochs=1, batch_size=32), progress=False
    )
    b = pretrain(
        small_masking(seed=1), corpus, PretrainConfig(num_epochs=1, batch_size=32), progress=False
    )
    assert a.out_dir != b.out_dir and a.out_dir.parent == tmp_path / "pretrain"


def test_two_torchrun_processes_agree_and_resume_in_one(corpus, tmp_path):
    run_two_ranks("pretrain_two_ranks.py", tmp_path)
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0["world"] == rank1["world"] == 2
    assert rank0["steps"] == 2 * 3  # 96 molecules / global batch 32, two epochs
    assert same_state(rank0["state"], rank1["state"])

    saved = load_checkpoint_state(tmp_path / "run" / "checkpoint.pt")
    assert saved["epoch"] == 2 and len(saved["rng"]) == 2
    assert same_state(saved["strategy"], rank0["state"])
    # one process picks the two-process run up and trains a third epoch
    resumed = small_masking()
    result = pretrain(
        resumed,
        corpus,
        PretrainConfig(num_epochs=3, batch_size=32),
        out_dir=tmp_path / "run",
        progress=False,
    )
    assert result.resumed_from_step == 6 and len(result.history) == 9
    assert not same_state(resumed.state_dict(), rank0["state"])
