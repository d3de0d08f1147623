"""Run by ``torchrun --nproc_per_node 2`` from tests/test_pretrain_contract.py (gloo, CPU).

Each rank pre-trains the toy contrastive strategy (negatives gathered across processes) and
saves its final weights and loss history as ``rank<R>.pt``.
"""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for toys.py

from toys import ToyContrast, ToyGraphEncoder  # noqa: E402

from cpmkit.data.dataset import MoleculeDataset  # noqa: E402
from cpmkit.pretrain import PretrainConfig, pretrain  # noqa: E402
from cpmkit.seed import seed_everything  # noqa: E402

out = Path(sys.argv[1])
corpus = MoleculeDataset("nci5k", subset=96)
seed_everything(0)
strategy = ToyContrast(ToyGraphEncoder())
result = pretrain(
    strategy,
    corpus,
    PretrainConfig(num_epochs=2, batch_size=32, lr=1e-2),
    out_dir=out / "run",
    progress=False,
)
torch.save(
    {
        "state": strategy.state_dict(),
        "losses": torch.tensor(result.history["loss"]),
        "world": dist.get_world_size(),
    },
    out / f"rank{dist.get_rank()}.pt",
)
dist.destroy_process_group()
