"""Run by ``torchrun --nproc_per_node 2`` from tests/test_pretrain_loop.py (gloo, CPU).

Each rank pre-trains the same strategy through the one loop, then saves its final weights as
``rank<R>.pt`` so the test can compare the ranks.
"""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.models.gnn import GNN
from cpmkit.pretrain import AttributeMasking, PretrainConfig, pretrain
from cpmkit.seed import seed_everything

out = Path(sys.argv[1])
corpus = MoleculeDataset("nci5k", subset=96)
seed_everything(0)
strategy = AttributeMasking(GNN(num_layer=2, emb_dim=16, drop_ratio=0.0))
result = pretrain(
    strategy,
    corpus,
    PretrainConfig(num_epochs=2, batch_size=32, seed=0),
    out_dir=out / "run",
    progress=False,
)
rank = dist.get_rank()
torch.save(
    {"state": strategy.state_dict(), "world": dist.get_world_size(), "steps": len(result.history)},
    out / f"rank{rank}.pt",
)
dist.destroy_process_group()
