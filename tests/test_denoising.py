"""3D denoising pre-training: the noise targets (a perfect predictor scores zero), the
strategies' views, conformer failures reported, and the pre-trained 3D encoder loading into
fine-tuning."""

import math

import pandas as pd
import pytest
import torch
from torch_geometric.data import Batch, Data

from cpmkit.data.conformers import QM9Unavailable, qm9, reject_summary
from cpmkit.data.dataset import MoleculeDataset
from cpmkit.models.geometric import GeometryPredictor, SchNetEncoder
from cpmkit.models.unimol import MASK_TYPE, UniMolEncoder
from cpmkit.pretrain.denoising import (
    CoordinateDenoising,
    DistanceDenoising,
    UniMolDenoising,
    distance_score_targets,
    noise_ladder,
    noise_loss,
)
from cpmkit.pretrain.loop import PretrainConfig, pretrain
from cpmkit.seed import seed_everything
from cpmkit.tasks.finetune import FinetuneConfig, finetune


def molecules(count: int = 4):
    torch.manual_seed(0)
    out = []
    for i in range(count):
        n = 5 + i
        out.append(Data(z=torch.randint(1, 10, (n,)), pos=torch.randn(n, 3) * 1.5,
                        y=torch.tensor([[float(i)]])))  # fmt: skip
    return out


def views(strategy, mols):
    torch.manual_seed(1)
    return Batch.from_data_list([strategy.transform(m.clone()) for m in mols])


def test_coordinate_noise_is_what_the_target_says_and_a_perfect_predictor_scores_zero():
    strategy = CoordinateDenoising(SchNetEncoder(16, 2), noise_scale=0.1)
    batch = views(strategy, molecules())
    assert torch.allclose(batch.pos - batch.pos_clean, 0.1 * batch.noise, atol=1e-6)
    assert noise_loss(batch.noise, batch.noise).item() == 0.0
    assert noise_loss(torch.zeros_like(batch.noise), batch.noise).item() > 0.5
    strategy.predict_noise = lambda z, pos, index: batch.noise  # the perfect predictor
    assert strategy.loss(batch)[0].item() == 0.0


def test_unimol_view_masks_types_moves_only_masked_atoms_and_clean_coords_score_zero():
    strategy = UniMolDenoising(UniMolEncoder(16, 2, 2), mask_rate=0.3, noise=1.0)
    mols = molecules()
    batch = views(strategy, mols)
    masked = batch.masked
    assert masked.sum() == sum(max(1, round(0.3 * m.z.numel())) for m in mols)
    assert (batch.z[masked] == MASK_TYPE).all() and (batch.z[~masked] > 0).all()
    moved = (batch.pos - batch.pos_clean).abs()
    assert torch.equal(moved[~masked], torch.zeros_like(moved[~masked]))
    assert moved[masked].max() <= 1.0 and moved[masked].max() > 0
    coord, dist = strategy.geometry_losses(batch.pos_clean, batch)
    assert coord.item() == 0.0 and dist.item() == 0.0
    coord, dist = strategy.geometry_losses(batch.pos, batch)
    assert coord.item() > 0 and dist.item() > 0
    loss, logs = strategy.loss(batch)
    assert loss.item() > 0 and 0.0 <= logs["acc"] <= 1.0


def test_distance_targets_are_the_scaled_distance_score_and_a_perfect_predictor_scores_zero():
    strategy = DistanceDenoising(SchNetEncoder(16, 2), sigma_min=0.05, sigma_max=0.5, levels=4)
    ladder = torch.tensor([0.5, 0.5 * 0.1 ** (1 / 3), 0.5 * 0.1 ** (2 / 3), 0.05])
    assert torch.allclose(strategy.sigmas, ladder)
    batch = views(strategy, molecules())
    assert set(batch.sigma.tolist()) <= set(strategy.sigmas.tolist())
    edge_index, noisy = strategy.pairs(batch)
    target = distance_score_targets(batch, edge_index, noisy)
    i, j = int(edge_index[0, 0]), int(edge_index[1, 0])
    sigma = float(batch.sigma[batch.batch[i]])
    clean = float((batch.pos_clean[i] - batch.pos_clean[j]).norm())
    assert math.isclose(float(target[0]), (clean - float(noisy[0])) / sigma, rel_tol=1e-4)
    strategy.predict_scores = lambda b, e, d: distance_score_targets(b, e, d)
    assert strategy.loss(batch)[0].item() == 0.0
    assert noise_ladder(0.01, 1.0, 3)[1].item() == pytest.approx(0.1)


def test_conformer_failures_are_reported_with_reasons_and_counts_add_up(tmp_path):
    csv = tmp_path / "mols.csv"
    pd.DataFrame({"smiles": ["CCO", "C1#CC1", "not a smiles", "c1ccccc1O"]}).to_csv(
        csv, index=False
    )
    data = MoleculeDataset(str(csv), scheme="3d", root=tmp_path / "cache")
    assert len(data) == 2 and data.n_read == len(data) + len(data.rejects) == 4
    reasons = dict(zip(data.rejects["row"], data.rejects["reason"]))
    assert "3D embedding failed" in reasons[1]
    assert 2 in reasons and "3D embedding" not in reasons[2]
    summary = reject_summary(data)
    assert summary["count"].sum() == len(data.rejects) and "3D embedding failed" in set(
        summary["reason"]
    )


def test_qm9_without_network_says_so(monkeypatch, tmp_path):
    import torch_geometric.datasets

    def offline(root):
        raise OSError("Name or service not known")

    monkeypatch.setattr(torch_geometric.datasets, "QM9", offline)
    with pytest.raises(QM9Unavailable, match="not in the kit's mirror"):
        qm9(tmp_path)


def test_pretrained_geometry_encoder_loads_into_finetune(tmp_path):
    mols = [Data(z=m.z, pos=m.pos, y=m.y) for m in molecules(8)]
    seed_everything(0)
    strategy = CoordinateDenoising(SchNetEncoder(16, 2), noise_scale=0.1)
    result = pretrain(strategy, mols, PretrainConfig(num_epochs=1, batch_size=4),
                      out_dir=tmp_path / "pre", progress=False)  # fmt: skip
    assert result.trained and result.history["loss"].notna().all()
    saved = torch.load(result.encoder_path, weights_only=True)

    class Split:
        train, valid, test = [0, 1, 2, 3, 4], [5, 6], [7]

    config = FinetuneConfig(num_epochs=0, task_type="regression", metric="mae", device="cpu")
    tuned = finetune(
        mols,
        Split(),
        config,
        pretrained=result.out_dir,
        progress=False,
        model_factory=lambda n: GeometryPredictor(SchNetEncoder(16, 2), n),
    )
    for key, value in tuned.model.encoder.state_dict().items():
        assert torch.equal(value, saved[key]), key
    with pytest.raises(ValueError, match="do not fit"):
        finetune(
            mols,
            Split(),
            config,
            pretrained=result.out_dir,
            progress=False,
            model_factory=lambda n: GeometryPredictor(UniMolEncoder(16, 2, 2), n),
        )
