"""What does the kit's pre-training loop cost over a bare PyG training loop?

Both loops train the same Hu et al. GIN (5 layers x 300, the paper's encoder) with attribute
masking on the same corpus (the NCI molecules shipped inside RDKit), batch 256, Adam:

(a) bare: ``dataset.transform = strategy.transform``, PyG's ``DataLoader(shuffle=True)``, and
    ``loss = strategy.loss(batch); zero_grad; backward; step`` -- nothing else;
(b) ours: ``cpmkit.pretrain.pretrain(strategy, corpus, config)``, with everything the loop
    adds: a seeded ``DistributedSampler`` order, a copy of each graph before its view is made,
    the per-step loss history, a checkpoint (model, optimizer, generators) at every epoch end,
    the encoder file at the end.

Each side runs ``--epochs`` epochs, ``--repeats`` times, alternating, on one thread; the rate is
graphs per CPU second (``time.process_time``), the best of the repeats. The last line printed is
one JSON object with ``vs_bare_pyg_loop`` = rate (b) / rate (a) (target >= 0.9). Tests never
assert timings. Run: ``python benchmarks/pretrain.py [--epochs 1] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time

import torch
from torch_geometric.loader import DataLoader

from cpmkit.data.dataset import MoleculeDataset
from cpmkit.models.gnn import GNN
from cpmkit.pretrain import AttributeMasking, PretrainConfig, pretrain
from cpmkit.seed import seed_everything


def fresh_strategy(num_layer: int, emb_dim: int) -> AttributeMasking:
    seed_everything(0)
    return AttributeMasking(GNN(num_layer, emb_dim, drop_ratio=0.0, gnn_type="gin"))


def bare_loop(corpus, args) -> float:
    """Graphs per CPU second of a plain PyG loop."""
    strategy = fresh_strategy(args.num_layer, args.emb_dim)
    corpus.transform = strategy.transform
    loader = DataLoader(corpus, batch_size=args.batch_size, shuffle=True)
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-3)
    strategy.train()
    start = time.process_time()
    for _ in range(args.epochs):
        for batch in loader:
            loss, _ = strategy.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    spent = time.process_time() - start
    corpus.transform = None
    return args.epochs * len(corpus) / spent


def our_loop(corpus, args) -> float:
    """Graphs per CPU second of ``cpmkit.pretrain.pretrain`` (checkpoints included)."""
    strategy = fresh_strategy(args.num_layer, args.emb_dim)
    config = PretrainConfig(num_epochs=args.epochs, batch_size=args.batch_size, device="cpu")
    with tempfile.TemporaryDirectory() as out:
        start = time.process_time()
        pretrain(strategy, corpus, config, out_dir=out, resume=False, progress=False)
        spent = time.process_time() - start
    return args.epochs * len(corpus) / spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-layer", type=int, default=5)
    parser.add_argument("--emb-dim", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)

    corpus = MoleculeDataset("nci5k", scheme="hu")
    print(f"corpus: {corpus.summary()}; GIN {args.num_layer} x {args.emb_dim}, batch "
          f"{args.batch_size}, {args.epochs} epoch(s), best of {args.repeats}; "
          f"torch {torch.__version__}, {platform.processor() or platform.machine()}")
    bare, ours = [], []
    for repeat in range(args.repeats):
        bare.append(bare_loop(corpus, args))
        ours.append(our_loop(corpus, args))
        print(f"repeat {repeat + 1}: bare {bare[-1]:.0f} graphs/s, ours {ours[-1]:.0f} graphs/s")
    result = {
        "vs_bare_pyg_loop": round(max(ours) / max(bare), 3),
        "bare_graphs_per_s": round(max(bare), 1),
        "ours_graphs_per_s": round(max(ours), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
