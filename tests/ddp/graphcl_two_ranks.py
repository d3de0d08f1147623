"""Run by ``torchrun --nproc_per_node 2`` from tests/test_contrastive.py (gloo, CPU).

Both ranks build the same GraphCL strategy around the toy encoder (no BatchNorm) and the same
two augmented views of 32 molecules; each computes the loss of its half of the batch (its
anchors against every rank's candidates, gathered with gradients) and backpropagates. The
mean loss and the mean gradient over ranks are saved by rank 0 as ``graphcl.pt``.
"""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for toys.py

from toys import ToyGraphEncoder

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.pretrain.contrastive import GraphCL
from cpmkit.pretrain.distributed import distributed_context
from cpmkit.seed import seed_everything

out = Path(sys.argv[1])
rank, world, _ = distributed_context()
corpus = MoleculeDataset("nci5k", subset=32)
seed_everything(0)
strategy = GraphCL(ToyGraphEncoder(), fp_weighting=float(sys.argv[2]))
torch.manual_seed(1)
items = [strategy.transform(corpus[i].clone()) for i in range(len(corpus))]
share = len(items) // world
batch = strategy.collate(items[rank * share : (rank + 1) * share])
loss, _ = strategy.loss(batch)
loss.backward()
total = loss.detach().clone()
dist.all_reduce(total)
grads = {}
for name, param in strategy.named_parameters():
    grad = param.grad.clone()
    dist.all_reduce(grad)
    grads[name] = grad / world
if rank == 0:
    torch.save({"loss": total / world, "grads": grads, "world": world}, out / "graphcl.pt")
dist.destroy_process_group()
