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
graphs per CPU second (``time.process_time``), the best of the repeats. The same comparison is
made for one contrastive method, GraphCL (two augmented views per molecule, node dropping and
subgraph at ratio 0.2, InfoNCE at temperature 0.1): the bare loop lets PyG's ``DataLoader``
collate the pairs of views into two batches and computes the same ``strategy.loss``. The last
line printed is one JSON object with ``vs_bare_pyg_loop`` (attribute masking) and
``graphcl_vs_bare_loop`` = rate (b) / rate (a) (target >= 0.9 each). Coordinate denoising
(Zaidi et al.; :class:`~cpmkit.pretrain.denoising.CoordinateDenoising`, SchNet 3 x 64, noise
0.04 Angstrom, batch 32) is compared the same way on ETKDG + MMFF conformers of a seeded MOSES
sample (``--denoising-molecules``, the cache lesson 08 builds), molecules per CPU second, key
``denoising_vs_bare_loop``. Tests never assert timings. Run:
``python benchmarks/pretrain.py [--epochs 1] [--repeats 3] [--methods denoising]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time

import torch
from torch.utils.data import Subset
from torch_geometric.loader import DataLoader

from cpmkit.data.conformers import conformer_corpus
from cpmkit.data.dataset import MoleculeDataset
from cpmkit.models.geometric import SchNetEncoder
from cpmkit.models.gnn import GNN
from cpmkit.pretrain import AttributeMasking, GraphCL, PretrainConfig, pretrain
from cpmkit.pretrain.denoising import CoordinateDenoising
from cpmkit.seed import seed_everything

METHODS = {
    "attrmasking": lambda args: AttributeMasking(_gin(args)),
    "graphcl": lambda args: GraphCL(_gin(args)),
    "denoising": lambda args: CoordinateDenoising(SchNetEncoder(64, 3), noise_scale=0.04),
}
#: the denoising comparison's batch (the lesson's), smaller molecules sets than the GIN's
DENOISING_BATCH = 32


def _gin(args):
    return GNN(args.num_layer, args.emb_dim, drop_ratio=0.0, gnn_type="gin")


def fresh_strategy(args, method: str = "attrmasking"):
    seed_everything(0)
    return METHODS[method](args)


def _batch_size(args, method: str) -> int:
    return DENOISING_BATCH if method == "denoising" else args.batch_size


def _loss(strategy, batch):
    # PyG's collater turns pairs of views into a list of two batches; the strategy takes a tuple
    out = strategy.loss(tuple(batch) if isinstance(batch, list) else batch)
    return out[0] if isinstance(out, tuple) else out


def bare_loop(corpus, args, method: str = "attrmasking") -> float:
    """Graphs per CPU second of a plain PyG loop."""
    strategy = fresh_strategy(args, method)
    dataset = getattr(corpus, "dataset", corpus)  # a Subset reads its dataset's transform
    dataset.transform = strategy.transform
    loader = DataLoader(corpus, batch_size=_batch_size(args, method), shuffle=True)
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-3)
    strategy.train()
    start = time.process_time()
    for _ in range(args.epochs):
        for batch in loader:
            loss = _loss(strategy, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    spent = time.process_time() - start
    dataset.transform = None
    return args.epochs * len(corpus) / spent


def our_loop(corpus, args, method: str = "attrmasking") -> float:
    """Graphs per CPU second of ``cpmkit.pretrain.pretrain`` (checkpoints included)."""
    strategy = fresh_strategy(args, method)
    config = PretrainConfig(
        num_epochs=args.epochs, batch_size=_batch_size(args, method), device="cpu"
    )
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
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--denoising-molecules", type=int, default=800)
    args = parser.parse_args()
    torch.set_num_threads(1)

    corpus = MoleculeDataset("nci5k", scheme="hu")
    print(
        f"corpus: {corpus.summary()}; GIN {args.num_layer} x {args.emb_dim}, batch "
        f"{args.batch_size}, {args.epochs} epoch(s), best of {args.repeats}; "
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}"
    )
    result = {}
    keys = {"attrmasking": "vs_bare_pyg_loop", "graphcl": "graphcl_vs_bare_loop",
            "denoising": "denoising_vs_bare_loop"}  # fmt: skip
    for method, key in keys.items():
        if method not in args.methods:
            continue
        data = corpus
        if method == "denoising":
            data = conformer_corpus("moses_train", sample=args.denoising_molecules, seed=0)
            print(f"denoising corpus: {data.summary()}")
        if method == "graphcl":  # GraphCL skips one-atom molecules; a bare loop cannot: drop them
            data = Subset(corpus, [i for i in range(len(corpus)) if corpus[i].num_nodes >= 2])
        bare, ours = [], []
        for repeat in range(args.repeats):
            bare.append(bare_loop(data, args, method))
            ours.append(our_loop(data, args, method))
            print(
                f"{method} repeat {repeat + 1}: bare {bare[-1]:.0f} graphs/s, "
                f"ours {ours[-1]:.0f} graphs/s"
            )
        prefix = "" if method == "attrmasking" else f"{method}_"
        result |= {
            key: round(max(ours) / max(bare), 3),
            f"{prefix}bare_graphs_per_s": round(max(bare), 1),
            f"{prefix}ours_graphs_per_s": round(max(ours), 1),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
