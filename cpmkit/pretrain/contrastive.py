r"""Contrastive learning, the survey's largest family (section 2.5): one loss, many views.

Two views of one molecule should agree, views of different molecules disagree. Every method
here scores agreement with one **InfoNCE / NT-Xent** loss (:func:`info_nce`): for a batch of
:math:`B` molecules with view vectors :math:`z_i, z'_i`,

.. math::
    \ell_i = -\log \frac{\exp(\cos(z_i, z'_i)/\tau)}
                        {\sum_{j} w_{ij}\exp(\cos(z_i, z'_j)/\tau)}, \qquad
    \mathcal{L} = \tfrac{1}{2B}\sum_i (\ell_i + \ell'_i)

with temperature :math:`\tau`, :math:`w_{ii} = 1` and :math:`w_{ij} = 1` for negatives unless
they are *down-weighted* (iMolCLR: :math:`w_{ij} = 1 - \mathrm{Tanimoto}(i, j)`, so a negative
that is nearly the same molecule counts little; see ``negative_weights``). Under ``torchrun``
the candidates :math:`z'_j` are gathered from every process with gradients
(:func:`cpmkit.pretrain.distributed.gather_with_grad`), so the loss sees the global batch.

The methods, by the survey's split:

- **Cross-scale** (molecule against its atoms): :class:`GraphInfomax` (Hu et al.'s DGI row),
  :class:`InfoGraph` (Sun et al. 2020; JSD or InfoNCE estimator), :class:`MVGRL` (Hassani &
  Khasahmadi 2020; a diffusion view from PyG's ``GDC``, atoms of one view against the molecule
  of the other).
- **Same-scale** (molecule against molecule): :class:`GraphCL` (You et al. 2020; the four
  augmentations of :mod:`cpmkit.featurize.graph_augment`), :class:`JOAO` (You et al. 2021; the
  pair of augmentations chosen by a min-max distribution updated in training), :class:`SimGRACE`
  (Xia et al. 2022; the second view from a copy of the encoder with perturbed weights).
- **Across descriptors**: :class:`SMICLR` (Pinheiro et al. 2022; the GNN on the graph against a
  SMILES Transformer on the string, two parts that either fine-tune).

False negatives (the survey's verdict, ProGCL, iMolCLR): :func:`negative_weights` softens
in-batch negatives by fingerprint similarity (``fp_weighting``);
:func:`cpmkit.featurize.similarity.near_duplicate_negatives` finds them in a batch,
``activity_cliffs`` in a labelled set.

Taught in ``notebooks/06_contrastive``.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch_geometric.data import Data
from torch_geometric.nn import global_add_pool, global_mean_pool

from cpmkit.featurize.graph_augment import AUGMENTATIONS, augment
from cpmkit.featurize.similarity import add_fingerprints, tanimoto_matrix
from cpmkit.models.encoders import NODE_POOLS
from cpmkit.pretrain.base import Strategy, binary_pair_loss, cycle_index
from cpmkit.pretrain.distributed import gather_with_grad, global_offset


# -- the one loss -------------------------------------------------------------------------------
def info_nce(
    z1: torch.Tensor,
    z2: torch.Tensor,
    temperature: float = 0.1,
    symmetric: bool = True,
    weights: torch.Tensor | None = None,
    include_positive: bool = True,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""InfoNCE / NT-Xent between row-paired views ``z1[i] <-> z2[i]`` (cosine similarity).

    Parameters
    ----------
    z1, z2 : Tensor
        ``(B, D)`` vectors of this process's molecules (not normalised; cosine is taken here).
        Under several processes the candidates of the other view are gathered from all.
    temperature : float
        :math:`\tau` (GraphCL and SimGRACE: 0.1 on molecules; SimCLR: 0.5).
    symmetric : bool
        Average the loss of both directions (``z1`` anchors, then ``z2`` anchors).
    weights : Tensor, optional
        ``(B, B_global)`` factors on the negatives' terms (row: anchor, column: candidate);
        iMolCLR-style down-weighting passes ``1 - similarity``. The positive keeps weight 1.
    include_positive : bool
        Keep the positive in the denominator (InfoNCE, NT-Xent). ``False`` gives the
        denominator of GraphCL's and SimGRACE's code (negatives only).
    reduction : ``"mean"`` or ``"none"``
        ``"none"`` returns one loss per anchor (per direction averaged when symmetric).

    Taught in ``notebooks/06_contrastive`` (checked against a hand computation in the tests).
    """
    z1, z2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    offset = global_offset(z1.size(0))
    rows = torch.arange(z1.size(0), device=z1.device)
    positives = offset + rows

    def one_way(anchors, candidates):
        logits = anchors @ candidates.T / temperature
        scale = torch.ones_like(logits) if weights is None else weights.to(logits).clone()
        scale[rows, positives] = 1.0
        if not include_positive:
            scale[rows, positives] = 0.0
        # log sum_j w_ij exp(s_ij), stable; w = 0 drops a term
        denominator = torch.logsumexp(logits + torch.log(scale.clamp(min=1e-12)), dim=1)
        denominator = torch.where(scale.sum(1) > 0, denominator, torch.zeros_like(denominator))
        return denominator - logits[rows, positives]

    loss = one_way(z1, gather_with_grad(z2))
    if symmetric:
        loss = 0.5 * (loss + one_way(z2, gather_with_grad(z1)))
    return loss.mean() if reduction == "mean" else loss


def agreement(z1: torch.Tensor, z2: torch.Tensor) -> float:
    """Share of anchors whose most similar candidate (this process's batch) is their partner."""
    with torch.no_grad():
        hit = (F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T).argmax(1)
        return float((hit == torch.arange(z1.size(0), device=z1.device)).float().mean())


def projection_head(dim: int) -> nn.Sequential:
    """GraphCL's projection ``Linear -> ReLU -> Linear`` (its chem code: width = emb_dim)."""
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim))


def negative_weights(fingerprints: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    r"""iMolCLR-style factors on negatives: :math:`w_{ij} = 1 - \lambda\,\mathrm{Tanimoto}(i,j)`.

    ``fingerprints``: this process's ECFP rows; the candidates' rows are gathered like the
    vectors. A near-duplicate negative (Tanimoto 1) then counts :math:`1 - \lambda` of a full
    negative. Wang et al. (iMolCLR) weigh faulty negatives this way with :math:`\lambda = 1`.
    """
    candidates = gather_with_grad(fingerprints.float())
    return 1.0 - strength * tanimoto_matrix(fingerprints, candidates)


def _graph_vectors(encoder: nn.Module, batch, pool: str = "mean") -> torch.Tensor:
    nodes = encoder(batch.x, batch.edge_index, batch.edge_attr)
    return NODE_POOLS[pool](nodes, batch.batch, size=batch.num_graphs)


class _SameScale:
    """Shared by GraphCL, JOAO and SimGRACE: encoder -> pooled -> projection -> InfoNCE.

    A mixin, not a :class:`Strategy` subclass, so it is no strategy of its own in recipes.
    """

    def _same_scale(
        self,
        encoder,
        temperature: float,
        symmetric: bool,
        pool: str,
        fp_weighting: float,
        include_positive: bool = True,
    ):
        Strategy.__init__(self, encoder)
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        if pool not in NODE_POOLS:
            raise ValueError(f"pool must be one of {sorted(NODE_POOLS)}, got {pool!r}")
        self.temperature = temperature
        self.symmetric = symmetric
        self.include_positive = include_positive
        self.pool = pool
        self.fp_weighting = fp_weighting
        self.projection = projection_head(encoder.out_dim)

    def prepared(self, data: Data) -> Data:
        """``data`` with its fingerprint when negatives are weighted by similarity."""
        if self.fp_weighting and not hasattr(data, "fp"):
            return add_fingerprints(data)
        return data

    def project(self, batch) -> torch.Tensor:
        return self.projection(_graph_vectors(self.encoder, batch, self.pool))

    def weights_for(self, batch):
        if not self.fp_weighting:
            return None
        if not hasattr(batch, "fp"):
            raise ValueError(
                "fp_weighting needs each molecule's fingerprint (data.fp); "
                "use add_fingerprints on the corpus"
            )
        return negative_weights(batch.fp, self.fp_weighting)

    def contrast(self, z1, z2, batch, reduction="mean"):
        return info_nce(
            z1,
            z2,
            self.temperature,
            self.symmetric,
            self.weights_for(batch),
            include_positive=self.include_positive,
            reduction=reduction,
        )

    def _base_hparams(self):
        settings = {
            "temperature": self.temperature,
            "symmetric": self.symmetric,
            "pool": self.pool,
            "fp_weighting": self.fp_weighting,
        }
        if not self.include_positive:  # runs with the default keep their identity
            settings["include_positive"] = False
        return settings


class GraphCL(_SameScale, Strategy):
    """Two augmented views of each molecule should agree (You et al., NeurIPS 2020).

    Parameters
    ----------
    augmentations : (str, str)
        The augmentation of each view, keys of ``graph_augment.AUGMENTATIONS``. GraphCL's
        molecule experiments pair node dropping and subgraph (the default).
    ratio : float
        Share of atoms or bonds each augmentation edits (paper: 0.2).
    temperature : float
        0.1 as in the authors' chem code.
    symmetric, include_positive : bool
        Both directions averaged, positive in the denominator (the defaults: the NT-Xent of
        the paper's equation). The authors' chem code (``pretrain_graphcl.py``) takes one
        direction and leaves the positive out of the denominator: ``symmetric=False,
        include_positive=False``, which lesson 06's paper profile uses.
    fp_weighting : float
        0: plain negatives (paper). > 0: iMolCLR-style down-weighting of negatives by ECFP4
        Tanimoto (needs ``data.fp``; :func:`add_fingerprints`).

    Paper profile (chem code): GIN 5 x 300, mean pooling, projection 300 -> 300 -> 300, batch
    256, Adam lr 1e-3, 100 epochs on 2M ZINC molecules (the kit: moses_train).
    Taught in ``notebooks/06_contrastive``.
    """

    name = "graphcl"

    def __init__(
        self,
        encoder,
        augmentations=("drop_nodes", "subgraph"),
        ratio: float = 0.2,
        temperature: float = 0.1,
        symmetric: bool = True,
        pool: str = "mean",
        fp_weighting: float = 0.0,
        include_positive: bool = True,
    ):
        self._same_scale(encoder, temperature, symmetric, pool, fp_weighting, include_positive)
        augmentations = tuple(augmentations)
        unknown = [a for a in augmentations if a not in AUGMENTATIONS]
        if len(augmentations) != 2 or unknown:
            raise ValueError(
                f"augmentations must be two of {sorted(AUGMENTATIONS)}, got {augmentations}"
            )
        self.augmentations = augmentations
        self.ratio = ratio

    def transform(self, data):
        if data.num_nodes < 2:
            return None
        data = self.prepared(data)
        return tuple(augment(data, a, self.ratio) for a in self.augmentations)

    def loss(self, batch):
        first, second = batch
        z1, z2 = self.project(first), self.project(second)
        return self.contrast(z1, z2, first), {"acc": agreement(z1, z2)}

    def hparams(self) -> dict[str, Any]:
        return {
            "augmentations": list(self.augmentations),
            "ratio": self.ratio,
            **self._base_hparams(),
        }


def project_to_simplex(v: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of ``v`` onto the probability simplex (sort-based, exact)."""
    u, _ = torch.sort(v, descending=True)
    cumulative = u.cumsum(0) - 1
    k = torch.arange(1, v.numel() + 1, dtype=v.dtype)
    rho = int((u - cumulative / k > 0).nonzero().max())
    theta = cumulative[rho] / (rho + 1)
    return (v - theta).clamp(min=0)


class JOAO(GraphCL):
    r"""GraphCL with the augmentation pair chosen by JOAO's min-max rule (You et al., ICML 2021).

    A distribution :math:`p` over all ordered pairs of ``pool_of_augmentations`` (JOAO: none,
    node dropping, subgraph, edge perturbation, attribute masking: 25 pairs) picks each
    molecule's pair. Every ``update_every`` optimizer steps, :math:`p` moves towards the pairs
    with the *highest* recent loss (the hardest views), held near uniform by :math:`\gamma`:

    .. math:: p \leftarrow \Pi_\Delta\big(p + \ell - \gamma (p - \tfrac{1}{K})\big)

    (the one projected-gradient step of JOAO's code, :math:`\Pi_\Delta` the projection onto the
    simplex). :math:`\ell` is each pair's mean per-molecule loss since the last update (pairs
    not seen keep their last value). Deviation: JOAO updates once per epoch from the loss
    measured per pair on extra batches; here the update reads the training batches themselves
    every ``update_every`` steps (the loop has no per-epoch hook; set it to the steps of an
    epoch for the paper's rhythm). Under several processes each keeps its own :math:`p`.
    """

    name = "joao"

    def __init__(
        self,
        encoder,
        pool_of_augmentations=(
            "none",
            "drop_nodes",
            "subgraph",
            "perturb_edges",
            "mask_attributes",
        ),
        ratio: float = 0.2,
        gamma: float = 0.1,
        update_every: int = 50,
        temperature: float = 0.1,
        symmetric: bool = True,
        pool: str = "mean",
        fp_weighting: float = 0.0,
    ):
        pairs = list(itertools.product(pool_of_augmentations, repeat=2))
        super().__init__(encoder, pairs[0], ratio, temperature, symmetric, pool, fp_weighting)
        self.pool_of_augmentations = tuple(pool_of_augmentations)
        self.pairs = pairs
        self.gamma = gamma
        self.update_every = update_every
        self.register_buffer("aug_prob", torch.full((len(pairs),), 1.0 / len(pairs)))
        self.register_buffer("pair_loss", torch.zeros(len(pairs)))
        self._sum = torch.zeros(len(pairs))
        self._count = torch.zeros(len(pairs))

    def transform(self, data):
        if data.num_nodes < 2:
            return None
        data = self.prepared(data)
        pair = int(torch.multinomial(self.aug_prob.cpu(), 1))
        views = []
        for name in self.pairs[pair]:
            view = augment(data, name, self.ratio)
            view.aug_pair = torch.tensor([pair])
            views.append(view)
        return tuple(views)

    def loss(self, batch):
        first, second = batch
        z1, z2 = self.project(first), self.project(second)
        per_molecule = self.contrast(z1, z2, first, reduction="none")
        with torch.no_grad():
            pairs = first.aug_pair.cpu()
            self._sum.index_add_(0, pairs, per_molecule.detach().cpu())
            self._count.index_add_(0, pairs, torch.ones_like(pairs, dtype=torch.float))
        return per_molecule.mean(), {"acc": agreement(z1, z2), "max_p": float(self.aug_prob.max())}

    def update_distribution(self) -> None:
        """One projected-gradient ascent step of :math:`p` on the recent per-pair losses."""
        seen = self._count > 0
        self.pair_loss[seen] = (self._sum[seen] / self._count[seen]).to(self.pair_loss)
        k = len(self.pairs)
        step = self.aug_prob + self.pair_loss - self.gamma * (self.aug_prob - 1.0 / k)
        self.aug_prob.copy_(project_to_simplex(step.double()).to(self.aug_prob))
        self._sum.zero_()
        self._count.zero_()

    def after_step(self, step: int) -> None:
        if step % self.update_every == 0:
            self.update_distribution()

    def hparams(self) -> dict[str, Any]:
        return {
            "pool_of_augmentations": list(self.pool_of_augmentations),
            "ratio": self.ratio,
            "gamma": self.gamma,
            "update_every": self.update_every,
            **self._base_hparams(),
        }


class SimGRACE(_SameScale, Strategy):
    r"""The second view from a perturbed copy of the encoder (Xia et al., WWW 2022).

    No data augmentation: the molecule goes once through the encoder :math:`f_\theta` and once
    through :math:`f_{\theta'}` with :math:`\theta'_l = \theta_l + \eta\,\epsilon_l`,
    :math:`\epsilon_l \sim \mathcal{N}(0, \sigma_l^2)` and :math:`\sigma_l` the standard
    deviation of weight tensor :math:`l` (tensors of one element are left unperturbed). The
    perturbed copy is made afresh each step from detached weights (``torch.func``), so the
    encoder's own weights never change and get no gradient through the second view; its
    BatchNorm statistics are a copy too. Authors' settings: :math:`\eta = 1`,
    :math:`\tau = 0.1` on molecules (chem transfer code), GIN 5 x 300, batch 256, lr 1e-3.
    Deviation: the projection head is not perturbed (SimGRACE's ``vice_model`` copies the
    whole model including its head); NT-Xent keeps the positive in the denominator, as for
    :class:`GraphCL`.
    """

    name = "simgrace"

    def __init__(
        self,
        encoder,
        eta: float = 1.0,
        temperature: float = 0.1,
        symmetric: bool = True,
        pool: str = "mean",
        fp_weighting: float = 0.0,
    ):
        self._same_scale(encoder, temperature, symmetric, pool, fp_weighting)
        self.eta = eta

    def transform(self, data):
        return self.prepared(data) if data.num_nodes >= 1 else None

    def perturbed_weights(self) -> dict[str, torch.Tensor]:
        """The encoder's weights plus scaled Gaussian noise, and copies of its buffers."""
        weights = {}
        for name, param in self.encoder.named_parameters():
            value = param.detach()
            if value.numel() > 1:
                value = value + self.eta * torch.randn_like(value) * value.std()
            weights[name] = value
        for name, buffer in self.encoder.named_buffers():
            weights[name] = buffer.clone()
        return weights

    def loss(self, batch):
        z1 = self.project(batch)
        with torch.no_grad():
            vice = self.perturbed_weights()
        nodes = functional_call(self.encoder, vice, (batch.x, batch.edge_index, batch.edge_attr))
        pooled = NODE_POOLS[self.pool](nodes.detach(), batch.batch, size=batch.num_graphs)
        z2 = self.projection(pooled)
        return self.contrast(z1, z2, batch), {"acc": agreement(z1, z2)}

    def hparams(self) -> dict[str, Any]:
        return {"eta": self.eta, **self._base_hparams()}


# -- cross-scale -------------------------------------------------------------------------------
def _jsd_scores(scores: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    r"""The Jensen-Shannon MI estimator's loss (InfoGraph, MVGRL, Deep InfoMax):
    :math:`E_{neg}[\mathrm{sp}(-s) + s] - E_{pos}[-\mathrm{sp}(-s)]` with sp = softplus."""
    e_pos = (-F.softplus(-scores))[positive].mean()
    e_neg = (F.softplus(-scores) + scores)[~positive].mean()
    return e_neg - e_pos


def _node_graph_nce(scores: torch.Tensor, owner: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE of each atom against all molecules, its own the positive."""
    return F.cross_entropy(scores / temperature, owner)


class _FeedForward(nn.Module):
    """InfoGraph's discriminator projection: a 3-layer MLP plus a linear shortcut."""

    def __init__(self, dim: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.Linear(dim, dim),
            nn.ReLU(),
            nn.Linear(dim, dim),
            nn.ReLU(),
            nn.Linear(dim, dim),
            nn.ReLU(),
        )
        self.shortcut = nn.Linear(dim, dim)

    def forward(self, x):
        return self.block(x) + self.shortcut(x)


class InfoGraph(Strategy):
    r"""A molecule's summary against its own atoms' patch vectors (Sun et al., ICLR 2020).

    Patch vectors :math:`h_v` are the encoder's atom outputs, the summary
    :math:`H_G = \sum_v h_v` (sum pooling, as InfoGraph's code); both pass a feed-forward
    projection and every (atom, molecule) pair of the batch is scored by a dot product. Atom
    and own molecule are positives, atom and any other molecule negatives, scored by the
    Jensen-Shannon estimator (``estimator="jsd"``, the paper's) or InfoNCE. Deviation: the
    patch vector is the last layer's (InfoGraph concatenates all layers' outputs; use an
    encoder with ``JK="concat"`` for that).
    """

    name = "infograph"

    def __init__(self, encoder, estimator: str = "jsd", temperature: float = 0.1):
        super().__init__(encoder)
        if estimator not in ("jsd", "infonce"):
            raise ValueError("estimator must be 'jsd' or 'infonce'")
        self.estimator = estimator
        self.temperature = temperature
        self.local_head = _FeedForward(encoder.out_dim)
        self.global_head = _FeedForward(encoder.out_dim)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        summary = global_add_pool(nodes, batch.batch, size=batch.num_graphs)
        local, glob = self.local_head(nodes), self.global_head(summary)
        scores = local @ glob.T
        positive = F.one_hot(batch.batch, batch.num_graphs).bool()
        if self.estimator == "jsd":
            loss = _jsd_scores(scores, positive)
        else:
            loss = _node_graph_nce(
                F.normalize(local, dim=1) @ F.normalize(glob, dim=1).T,
                batch.batch,
                self.temperature,
            )
        acc = (scores.argmax(1) == batch.batch).float().mean()
        return loss, {"acc": float(acc)}

    def hparams(self):
        return {"estimator": self.estimator, "temperature": self.temperature}


class _DiffusionGCN(nn.Module):
    """MVGRL's encoder of the diffusion view: atom-type embedding, weighted GCN layers."""

    def __init__(self, num_layer: int, dim: int):
        super().__init__()
        from torch_geometric.nn import GCNConv

        from cpmkit.featurize.graph_hu import NUM_ATOM_TYPE, NUM_CHIRALITY_TAG

        self.atom = nn.Embedding(NUM_ATOM_TYPE, dim)
        self.chirality = nn.Embedding(NUM_CHIRALITY_TAG, dim)
        self.convs = nn.ModuleList(GCNConv(dim, dim, normalize=False) for _ in range(num_layer))
        self.act = nn.PReLU()
        self.out_dim = dim

    def forward(self, x, edge_index, edge_weight):
        h = self.atom(x[:, 0]) + self.chirality(x[:, 1])
        for conv in self.convs:
            h = self.act(conv(h, edge_index, edge_weight))
        return h


def diffusion_view(data: Data, alpha: float = 0.2, eps: float = 1e-4) -> Data:
    """The personalised-PageRank diffusion of ``data``'s bond graph (PyG ``GDC``, exact).

    Returns a graph with the same atoms, ``edge_index`` of the diffused (dense, thresholded at
    ``eps``) matrix and its weights as ``edge_weight``; bond types are gone. MVGRL's setting:
    PPR with teleport :math:`\\alpha = 0.2`.
    """
    from torch_geometric.transforms import GDC

    plain = Data(edge_index=data.edge_index, num_nodes=data.num_nodes)
    gdc = GDC(
        self_loop_weight=1,
        normalization_in="sym",
        normalization_out="col",
        diffusion_kwargs={"method": "ppr", "alpha": alpha},
        sparsification_kwargs={"method": "threshold", "eps": eps},
        exact=True,
    )
    diffused = gdc(plain)
    return Data(
        x=data.x,
        edge_index=diffused.edge_index,
        edge_weight=diffused.edge_attr,
        num_nodes=data.num_nodes,
    )


class MVGRL(Strategy):
    r"""Atoms of one view against the molecule of the other (Hassani & Khasahmadi, ICML 2020).

    View 1 is the bond graph through the kit's GNN (the part kept for fine-tuning); view 2 is
    its graph diffusion (PPR, :func:`diffusion_view`) through a GCN of the same depth and width
    with edge weights. Atom vectors are projected by a 2-layer MLP, molecule summaries (sum
    pooling) by another; the loss scores atoms of view 1 against summaries of view 2 and atoms
    of view 2 against summaries of view 1, with the JSD estimator over all (atom, molecule)
    pairs of the batch. Deviations: MVGRL's graph-level model sums the layers' outputs
    (JK-sum) and shares projection heads; here the last layer and one head per scale, and the
    first view's encoder is Hu et al.'s GIN with bond types, not a GCN.
    """

    name = "mvgrl"

    def __init__(self, encoder, alpha: float = 0.2, eps: float = 1e-4):
        super().__init__(encoder)
        self.alpha = alpha
        self.eps = eps
        dim = encoder.out_dim
        self.diffusion_encoder = _DiffusionGCN(getattr(encoder, "num_layer", 2), dim)
        self.node_head = nn.Sequential(nn.Linear(dim, dim), nn.PReLU(), nn.Linear(dim, dim))
        self.graph_head = nn.Sequential(nn.Linear(dim, dim), nn.PReLU(), nn.Linear(dim, dim))

    def transform(self, data):
        if data.num_nodes < 1:
            return None
        return data, diffusion_view(data, self.alpha, self.eps)

    def loss(self, batch):
        bonds, diffused = batch
        n1 = self.encoder(bonds.x, bonds.edge_index, bonds.edge_attr)
        n2 = self.diffusion_encoder(diffused.x, diffused.edge_index, diffused.edge_weight)
        g1 = self.graph_head(global_add_pool(n1, bonds.batch, size=bonds.num_graphs))
        g2 = self.graph_head(global_add_pool(n2, diffused.batch, size=diffused.num_graphs))
        l1, l2 = self.node_head(n1), self.node_head(n2)
        positive = F.one_hot(bonds.batch, bonds.num_graphs).bool()
        loss = _jsd_scores(l1 @ g2.T, positive) + _jsd_scores(l2 @ g1.T, positive)
        acc = ((l1 @ g2.T).argmax(1) == bonds.batch).float().mean()
        return loss, {"acc": float(acc)}

    def hparams(self):
        return {"alpha": self.alpha, "eps": self.eps}


class GraphInfomax(Strategy):
    r"""Graph-level infomax as Hu et al.'s ``pretrain_deepgraphinfomax.py`` (DGI for molecules).

    An atom and the summary of its own molecule form a positive pair, the same atom and the
    summary of another molecule in the batch a negative one,

    .. math::
        s_G = \sigma\Big(\tfrac{1}{|G|}\sum_{v \in G} h_v\Big), \qquad
        \mathcal{L} = -\sum_{v} \Big[\log D(h_v, s_{G(v)})
                      + \log\big(1 - D(h_v, s_{G'(v)})\big)\Big]

    with a bilinear discriminator :math:`D(h, s) = \sigma(h^\top W s)` and :math:`G'` the next
    molecule of the batch (a cyclic shift). Taught in ``notebooks/06_contrastive`` (and as a
    Table 1 row in ``05_context_prediction``).
    """

    name = "infomax"

    def __init__(self, encoder: nn.Module):
        super().__init__(encoder)
        self.discriminator = nn.Bilinear(encoder.out_dim, encoder.out_dim, 1, bias=False)

    def loss(self, batch):
        nodes = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        summary = torch.sigmoid(global_mean_pool(nodes, batch.batch))
        other = summary[cycle_index(summary.size(0))]
        pos = self.discriminator(nodes, summary[batch.batch]).view(-1)
        neg = self.discriminator(nodes, other[batch.batch]).view(-1)
        pair = binary_pair_loss(pos, neg)
        return pair.pos + pair.neg, {"acc": pair.accuracy()}


# -- across descriptors ------------------------------------------------------------------------
class SMICLR(Strategy):
    r"""The graph of a molecule against its SMILES (Pinheiro et al., JCIM 2022): two encoders.

    The kit's GNN reads the molecular graph, a small RoBERTa (:class:`SequenceEncoder`) reads
    the SMILES; each vector passes its own projection head and :func:`info_nce` pulls the two
    descriptors of one molecule together and pushes those of different molecules apart. Both
    encoders are parts, ``{"graph": ..., "smiles": ...}``: the loop writes ``graph.pt`` and
    ``smiles.pt`` and either fine-tunes afterwards (``finetune(pretrained=out, part=...)``).

    Parameters
    ----------
    encoder : GNN
        The graph encoder (mean pooling).
    sequence_encoder : SequenceEncoder, optional
        Default: a ``RobertaModel`` of ``sequence_size`` over ``tokenizer`` (mean over tokens).
    tokenizer : optional
        Default: ``build_smiles_tokenizer()`` (NCI vocabulary plus the common tokens).
    randomize : bool
        Read a random SMILES of each molecule each epoch (SMICLR's SMILES enumeration view).
    temperature : float
        0.1 (SMICLR tunes it; we take GraphCL's value).

    Deviations: SMICLR's graph encoder is an MPNN/GIN of its own and its SMILES encoder a GRU
    or Transformer; SMICLR also combines cross-descriptor with same-descriptor augmentation
    (node dropping, SMILES enumeration). Here: Hu et al.'s GIN, a small RoBERTa, and only the
    SMILES enumeration (``randomize``) as an extra view.
    """

    name = "smiclr"

    def __init__(
        self,
        encoder,
        sequence_encoder=None,
        tokenizer=None,
        sequence_size=None,
        randomize: bool = False,
        temperature: float = 0.1,
        max_length: int = 128,
    ):
        super().__init__(encoder)
        from transformers import RobertaModel

        from cpmkit.featurize.tokenizer import build_smiles_tokenizer
        from cpmkit.models.chemberta import ChemBERTaConfig
        from cpmkit.models.encoders import SequenceEncoder

        self.tokenizer = tokenizer or build_smiles_tokenizer()
        if sequence_encoder is None:
            size = sequence_size or ChemBERTaConfig(
                hidden_size=encoder.out_dim, num_layers=2, num_heads=4, max_length=max_length
            )
            sequence_encoder = SequenceEncoder(
                RobertaModel(size.to_hf(self.tokenizer), add_pooling_layer=False)
            )
        self.sequence_encoder = sequence_encoder
        self.randomize, self.temperature = bool(randomize), float(temperature)
        self.max_length = int(max_length)
        self.graph_head = projection_head(encoder.out_dim)
        self.smiles_head = nn.Sequential(
            nn.Linear(sequence_encoder.out_dim, encoder.out_dim),
            nn.ReLU(),
            nn.Linear(encoder.out_dim, encoder.out_dim),
        )

    def parts(self):
        return {"graph": self.encoder, "smiles": self.sequence_encoder}

    def transform(self, data):
        from cpmkit.pretrain.smiles import encode, view_smiles

        ids = encode(
            self.tokenizer,
            view_smiles(data.smiles, self.randomize),
            self.max_length,
            truncate=True,
        )
        return data, {"input_ids": ids}

    def collate(self, items):
        from torch_geometric.data import Batch

        from cpmkit.pretrain.smiles import pad_batch

        items = [item for item in items if item is not None]
        if not items:
            return None
        graphs = Batch.from_data_list([graph for graph, _ in items])
        tokens = pad_batch([t for _, t in items], {"input_ids": self.tokenizer.pad_token_id})
        return graphs, tokens

    def loss(self, batch):
        from cpmkit.models.encoders import pool_tokens

        graphs, tokens = batch
        z_graph = self.graph_head(_graph_vectors(self.encoder, graphs))
        states = self.sequence_encoder(tokens["input_ids"], tokens["attention_mask"])
        z_smiles = self.smiles_head(pool_tokens(states, tokens["attention_mask"]))
        loss = info_nce(z_graph, z_smiles, self.temperature)
        return loss, {"acc": agreement(z_graph, z_smiles)}

    def hparams(self):
        from cpmkit.models.hub import model_summary
        from cpmkit.pretrain.smiles import tokenizer_digest

        return {
            "temperature": self.temperature,
            "randomize": self.randomize,
            "max_length": self.max_length,
            "tokenizer": tokenizer_digest(self.tokenizer),
            "smiles_model": model_summary(self.sequence_encoder.model),
        }


__all__ = [
    "JOAO",
    "MVGRL",
    "SMICLR",
    "GraphCL",
    "GraphInfomax",
    "InfoGraph",
    "SimGRACE",
    "agreement",
    "diffusion_view",
    "info_nce",
    "negative_weights",
    "project_to_simplex",
    "projection_head",
]
