"""Toy strategies and encoders for the contract tests (no BatchNorm, no random views, so one
process and two processes, or one batch and two accumulated halves, must agree)."""

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GraphConv, global_mean_pool

from cpmkit.pretrain import Strategy
from cpmkit.pretrain.distributed import gather_with_grad, global_offset


class ToyGraphEncoder(nn.Module):
    """Atom-type embedding and one PyG GraphConv: a graph encoder of the contract."""

    family = "graph"

    def __init__(self, dim: int = 8):
        super().__init__()
        self.embedding = nn.Embedding(120, dim)
        self.conv = GraphConv(dim, dim)
        self.out_dim = dim

    def forward(self, x, edge_index, edge_attr=None):
        return self.conv(self.embedding(x[:, 0]), edge_index)


def without_bonds(data):
    view = data.clone()
    view.edge_index = torch.empty(2, 0, dtype=torch.long)
    view.edge_attr = data.edge_attr[:0]
    return view


class ToyContrast(Strategy):
    """Two views (the molecule, and its atoms without bonds) as a tuple batch; InfoNCE against
    every process's second views, gathered with gradients."""

    name = "toy_contrast"

    def __init__(self, encoder, temperature: float = 0.5):
        super().__init__(encoder)
        self.temperature = temperature
        self.steps_seen = []

    def transform(self, data):
        return data, without_bonds(data)

    def vectors(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        return F.normalize(global_mean_pool(nodes, batch.batch, size=batch.num_graphs), dim=1)

    def loss(self, batch):
        first, second = batch
        z1, z2 = self.vectors(first), self.vectors(second)
        candidates = gather_with_grad(z2)
        logits = z1 @ candidates.T / self.temperature
        labels = global_offset(z1.size(0)) + torch.arange(z1.size(0))
        return F.cross_entropy(logits, labels)

    def after_step(self, step):
        self.steps_seen.append(step)

    def hparams(self):
        return {"temperature": self.temperature}


class ToyTwoParts(Strategy):
    """Two encoders that should agree on each molecule's vector: parts "graph" and "atoms"."""

    name = "toy_two_parts"

    def __init__(self, graph, atoms):
        super().__init__(graph)
        self.atoms = atoms

    def parts(self):
        return {"graph": self.encoder, "atoms": self.atoms}

    def loss(self, batch):
        a = global_mean_pool(self.encoder(batch.x, batch.edge_index, batch.edge_attr), batch.batch)
        b = global_mean_pool(self.atoms(batch.x, batch.edge_index[:, :0]), batch.batch)
        return F.mse_loss(a, b) + (a.pow(2).mean() - 1).pow(2)


class ToyReadout(Strategy):
    """Predict each molecule's atom count (a mean over molecules: accumulation-exact)."""

    name = "toy_readout"

    def __init__(self, encoder):
        super().__init__(encoder)
        self.head = nn.Linear(encoder.out_dim, 1)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        guess = self.head(global_mean_pool(nodes, batch.batch)).view(-1)
        return F.mse_loss(guess, torch.bincount(batch.batch).float() / 10)

    def param_groups(self):
        # the head without weight decay: a strategy may shape its optimizer groups
        return [
            {"params": list(self.encoder.parameters())},
            {"params": list(self.head.parameters()), "weight_decay": 0.0},
        ]
