r"""Autoregressive modelling on graphs (survey section 2.2): GPT-GNN and MGSSL.

A SMILES string has an order; a molecular graph has none, so a graph autoregressive model must
fix one and factorise the molecule along it. Two methods the survey names:

**GPT-GNN** (Hu, Dong, Wang, Chang, Sun, KDD 2020; code ``acbull/GPT-GNN``) generates a graph
one node at a time in a permutation :math:`\pi`: node :math:`\pi_t`'s attributes, then its
edges to the nodes already generated, each given the partial graph :math:`G_{<t}`:

.. math::
    \log p(G) = \sum_t \Big[\log p\big(X_{\pi_t} \mid G_{<t}\big)
              + \log p\big(E_{\pi_t} \mid X_{\pi_t}, G_{<t}\big)\Big].

Here the attribute is the atom type (:class:`GPTGNN`, a 120-way softmax) and each edge of the
new atom is scored against the earlier atoms it is *not* bonded to, a contrastive edge loss as
in their code (``link_loss``: the true neighbour against negatives, one softmax):

.. math::
    \mathcal{L}_{E} = -\frac{1}{|E_{\pi_t}|}\sum_{j \in E_{\pi_t}}
      \log\frac{\exp s(q_t, h_j)}{\exp s(q_t, h_j) + \sum_{k \in N_t} \exp s(q_t, h_k)},

with :math:`q_t` the new atom's query (the partial graph's context and the embedding of its
true atom type, teacher forcing) and :math:`h_j` the encoder's vectors of the partial graph.
The order is a parameter: ``"bfs"`` (breadth-first from a random atom, new each epoch) or
``"canonical"`` (RDKit's canonical atom ranking, the same every epoch).

**MGSSL** (Zhang, Liu, Wang, Lu, Lee, NeurIPS 2021; code ``zaixizhang/MGSSL``) generates the
molecule's *motif tree* (:mod:`cpmkit.featurize.motifs`: BRICS plus ring motifs) instead of its
atoms: from the molecule vector of the GNN, a decoder walks the tree in ``"dfs"`` or ``"bfs"``
order and at each step predicts the **topology** (add a new neighbour motif here, or stop) and,
when it adds one, the new **motif's label** (a class of the corpus's motif vocabulary):

.. math::
    \mathcal{L} = \mathrm{CE}(\text{root label}) + \sum_t \mathrm{BCE}(\text{expand}_t)
                 + \sum_{t:\,\text{expand}} \mathrm{CE}(\text{label}_t).

Deviations, named:

- **Encoder**: the kit's GIN (Hu et al.'s) in both, not GPT-GNN's heterogeneous graph
  transformer (HGT), which is built for typed academic graphs; MGSSL itself uses the GIN.
- **GPT-GNN's node split**: their code duplicates each generated node into an
  "attribute node" and an "edge node" and keeps a share of its edges observed, so that all
  generated nodes are trained in one pass over one sub-graph without seeing their own
  attributes. We encode each partial graph :math:`G_{<t}` itself (the atoms before
  :math:`\pi_t`, no edge of :math:`\pi_t` observed) and, to keep a molecule cheap, train
  ``steps_per_molecule`` random positions :math:`t` per molecule and epoch, not all of them.
  The context of step :math:`t` is the mean of the partial graph's atom vectors beside the
  vector of the atom generated last (:math:`\pi_{t-1}`; their new node's own vector from its
  observed edges has no counterpart without those edges).
- **GPT-GNN's negatives**: every earlier atom not bonded to the new one (a molecule is small),
  not up to ``neg_samp_num`` (255) nodes of the sampled sub-graph, and no adaptive queue of
  earlier batches' node vectors (their ``queue_size``). Their code removes about half of a
  target node's edges (the rest stay observed); we remove all of them, as the factorisation over
  :math:`G_{<t}` says. Their loss weights, ``attr_ratio * attr + (1 - attr_ratio) * link``
  with ``attr_ratio = 0.5``, are kept; their AdamW, one-cycle schedule and clipping are the
  loop's settings to choose (``PretrainConfig``).
- **MGSSL's decoder**: their JT-VAE-style decoder (``util/dfs.py``, ``util/bfs.py``) passes
  messages along the tree edges with a tree GRU whose input at each step is the current motif's
  vector (the sum of the GNN's atom vectors over its atoms); ours is one GRU over the sequence
  of decisions, fed at each step that same motif vector, the motif's label and the outcome of
  the previous step (the label just added, or "stop"), teacher forced, started from the
  molecule vector (mean of the atom vectors), which the heads also read. The order still decides
  what the decoder has seen before each decision, which is what the order comparison measures.
- **MGSSL's topology**: their depth-first decoder scores expand/backtrack with a BCE at every
  step (as ours); their breadth-first one folds "stop" into the label softmax as one more class
  and switches the BCE off; ours keeps the same BCE in both orders, so that the two orders
  differ only in the sequence. Their root motif's label is not predicted (the line is commented
  out); ours is, from the molecule vector, so that a one-motif molecule still has a target.
  Their losses are sums divided by the number of molecules; ours are means over decisions.
- **MGSSL's vocabulary**: from the pre-training corpus, with motifs rarer than ``min_count``
  in one ``"other"`` class (see :func:`cpmkit.featurize.motifs.motif_vocabulary`).

Taught in ``notebooks/03_autoregressive``.
"""

from __future__ import annotations

import hashlib
from collections import deque
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F
from rdkit import Chem
from torch import nn
from torch_geometric.data import Data
from torch_geometric.nn import global_add_pool, global_mean_pool
from torch_geometric.utils import scatter, to_dense_batch

from cpmkit.data.embedded import nci5k_smiles
from cpmkit.featurize.graph_hu import NUM_ATOM_TYPE
from cpmkit.featurize.motifs import ORDERS as MOTIF_ORDERS
from cpmkit.featurize.motifs import (
    OTHER,
    MotifTree,
    motif_vocabulary,
    smiles_motif_tree,
    traversal,
)
from cpmkit.featurize.parse import parse_smiles
from cpmkit.pretrain.base import Strategy

ATOM_ORDERS = ("bfs", "canonical")


# -- GPT-GNN ------------------------------------------------------------------------------------
def bfs_order(edge_index: torch.Tensor, num_nodes: int, start: int) -> torch.Tensor:
    """Atoms in breadth-first order from ``start`` (neighbours by index); a further fragment
    starts at its lowest unvisited atom. A permutation of ``range(num_nodes)``."""
    adjacent: list[list[int]] = [[] for _ in range(num_nodes)]
    for a, b in edge_index.t().tolist():
        adjacent[a].append(b)
    seen = [False] * num_nodes
    order: list[int] = []
    for root in [start, *range(num_nodes)]:
        if seen[root]:
            continue
        seen[root] = True
        queue = deque([root])
        while queue:
            node = queue.popleft()
            order.append(node)
            for nb in sorted(adjacent[node]):
                if not seen[nb]:
                    seen[nb] = True
                    queue.append(nb)
    return torch.tensor(order, dtype=torch.long)


def canonical_order(mol: Chem.Mol) -> torch.Tensor:
    """Atoms sorted by RDKit's canonical rank (``Chem.CanonicalRankAtoms``): the atom order of
    the canonical SMILES's ranking, the same for every way the molecule was written."""
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=True))
    return torch.tensor(sorted(range(len(ranks)), key=ranks.__getitem__), dtype=torch.long)


def generation_order(data: Data, order: str = "bfs") -> torch.Tensor | None:
    """The order GPT-GNN generates ``data``'s atoms in (``order[k]`` = the k-th atom).

    ``"bfs"``: breadth-first from a random atom (torch's global generator); ``"canonical"``:
    RDKit's canonical ranking of ``data.smiles`` (``None`` if it does not parse to the same
    number of atoms). Taught in ``notebooks/03_autoregressive``.
    """
    if order not in ATOM_ORDERS:
        raise ValueError(f"order must be one of {ATOM_ORDERS}, got {order!r}")
    n = data.num_nodes
    if order == "bfs":
        start = int(torch.randint(n, (1,)))
        return bfs_order(data.edge_index, n, start)
    mol = parse_smiles(getattr(data, "smiles", None)).mol
    if mol is None or mol.GetNumAtoms() != n:
        return None
    return canonical_order(mol)


class GenerationSteps(Data):
    """Some generation steps of one molecule, each its partial graph, as one PyG ``Data``.

    ``x``/``edge_index``/``edge_attr``: the partial graphs side by side; ``node_step``: the step
    of each atom; per step ``target_type`` (the new atom's type) and ``last_node`` (the atom
    generated just before); per candidate edge ``cand_node`` (an earlier atom), ``cand_step``
    and ``cand_pos`` (bonded to the new atom or not).
    """

    def __inc__(self, key: str, value: Any, *args, **kwargs) -> Any:
        if key in ("node_step", "cand_step"):
            return int(self.target_type.size(0))
        if key in ("last_node", "cand_node"):
            return self.num_nodes
        return super().__inc__(key, value, *args, **kwargs)


def generation_steps(data: Data, order: torch.Tensor, positions: list[int]) -> GenerationSteps:
    """The partial graphs :math:`G_{<t}` of ``data`` for the steps ``positions`` (each in
    ``1..n-1``) of the generation ``order``, with the new atom's type and its candidate edges."""
    xs, edges, attrs, node_step, last, types = [], [], [], [], [], []
    cand_node, cand_step, cand_pos = [], [], []
    offset = 0
    src, dst = data.edge_index
    for step, t in enumerate(positions):
        before = order[:t]
        where = torch.full((data.num_nodes,), -1, dtype=torch.long)
        where[before] = torch.arange(t)
        keep = (where[src] >= 0) & (where[dst] >= 0)
        xs.append(data.x[before])
        edges.append(where[data.edge_index[:, keep]] + offset)
        attrs.append(data.edge_attr[keep])
        node_step.append(torch.full((t,), step, dtype=torch.long))
        last.append(offset + t - 1)
        new = int(order[t])
        types.append(int(data.x[new, 0]))
        neighbours = dst[src == new]
        cand_node.append(torch.arange(t) + offset)
        cand_step.append(torch.full((t,), step, dtype=torch.long))
        cand_pos.append(torch.isin(before, neighbours))
        offset += t
    return GenerationSteps(
        x=torch.cat(xs),
        edge_index=torch.cat(edges, dim=1),
        edge_attr=torch.cat(attrs),
        node_step=torch.cat(node_step),
        target_type=torch.tensor(types, dtype=torch.long),
        last_node=torch.tensor(last, dtype=torch.long),
        cand_node=torch.cat(cand_node),
        cand_step=torch.cat(cand_step),
        cand_pos=torch.cat(cand_pos),
        num_nodes=offset,
    )


class GPTGNN(Strategy):
    """GPT-GNN's attribute and edge generation around any graph ``encoder`` (module docs).

    Parameters
    ----------
    encoder : nn.Module
        A graph encoder of the contract (``encoder(x, edge_index, edge_attr)``, ``out_dim``).
    order : ``"bfs"`` or ``"canonical"``
        The generation order (module docs).
    steps_per_molecule : int
        Positions :math:`t` trained per molecule and epoch (random, without repetition).
    attr_ratio : float
        Weight of the attribute loss; the edge loss gets ``1 - attr_ratio`` (their
        ``attr_ratio``, 0.5).

    Taught in ``notebooks/03_autoregressive``.
    """

    name = "gptgnn"

    def __init__(
        self,
        encoder: nn.Module,
        order: str = "bfs",
        steps_per_molecule: int = 4,
        attr_ratio: float = 0.5,
    ):
        super().__init__(encoder)
        if order not in ATOM_ORDERS:
            raise ValueError(f"order must be one of {ATOM_ORDERS}, got {order!r}")
        if steps_per_molecule < 1 or not 0.0 <= attr_ratio <= 1.0:
            raise ValueError("need steps_per_molecule >= 1 and 0 <= attr_ratio <= 1")
        self.order = order
        self.steps_per_molecule = steps_per_molecule
        self.attr_ratio = attr_ratio
        dim = encoder.out_dim
        self.attr_head = nn.Sequential(
            nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, NUM_ATOM_TYPE)
        )
        self.type_embedding = nn.Embedding(NUM_ATOM_TYPE, dim)
        self.query = nn.Sequential(nn.Linear(3 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.key = nn.Linear(dim, dim)

    def transform(self, data: Data) -> GenerationSteps | None:
        n = data.num_nodes
        if n < 2:
            return None
        order = generation_order(data, self.order)
        if order is None:
            return None
        k = min(self.steps_per_molecule, n - 1)
        positions = sorted((torch.randperm(n - 1)[:k] + 1).tolist())
        return generation_steps(data, order, positions)

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        h = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        num_steps = batch.target_type.size(0)
        context = torch.cat(
            [global_mean_pool(h, batch.node_step, size=num_steps), h[batch.last_node]], dim=1
        )
        # attribute generation: the new atom's type from the partial graph
        attr_logits = self.attr_head(context)
        attr_loss = F.cross_entropy(attr_logits, batch.target_type)
        attr_acc = (attr_logits.argmax(1) == batch.target_type).float().mean()
        # edge generation: the new atom (its true type given) against every earlier atom
        query = self.query(torch.cat([context, self.type_embedding(batch.target_type)], dim=1))
        keys = self.key(h[batch.cand_node])
        score = (query[batch.cand_step] * keys).sum(1) / keys.size(1) ** 0.5
        pos, step = batch.cand_pos.bool(), batch.cand_step
        neg = ~pos
        neg_score = score.masked_fill(pos, float("-inf"))
        neg_max = scatter(neg_score.detach(), step, dim_size=num_steps, reduce="max")
        neg_count = scatter(neg.long(), step, dim_size=num_steps, reduce="sum")
        shift = neg_max.clamp(min=-1e4)  # a step without negatives: any finite shift
        # exp only of negatives' scores (<= their step's max): no overflow
        neg_exp = torch.exp(torch.where(neg, score - shift[step], torch.zeros_like(score)))
        neg_sum = scatter(neg_exp * neg, step, dim_size=num_steps, reduce="sum")
        scored = pos & (neg_count[step] > 0)  # a bond with someone to beat
        if scored.any():
            s = score[scored]
            st = step[scored]
            lse = torch.logaddexp(s, shift[st] + torch.log(neg_sum[st]))
            edge_loss = (lse - s).mean()
            edge_acc = (s > neg_max[st]).float().mean()
        else:
            edge_loss = score.sum() * 0.0
            edge_acc = torch.tensor(float("nan"))
        loss = self.attr_ratio * attr_loss + (1.0 - self.attr_ratio) * edge_loss
        logs = {"attr_loss": attr_loss, "edge_loss": edge_loss, "acc": attr_acc,
                "edge_acc": edge_acc}  # fmt: skip
        return loss, {key: float(value.detach()) for key, value in logs.items()}

    def hparams(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "steps_per_molecule": self.steps_per_molecule,
            "attr_ratio": self.attr_ratio,
        }


# -- MGSSL --------------------------------------------------------------------------------------
class MotifSteps(Data):
    """One molecule's graph with its motif tree's generation decisions, as one PyG ``Data``.

    ``atom_motif``: the motif of each atom; ``root_label``; per decision ``step_context`` (the
    motif where it is taken; 0 with ``step_has_context`` False for a further fragment's root),
    ``step_context_label``, ``step_prev`` (the previous decision's outcome: a label, or stop),
    ``step_expand`` (1: add a motif) and ``step_label`` (its class; -100 on a stop).
    """

    def __inc__(self, key: str, value: Any, *args, **kwargs) -> Any:
        if key in ("atom_motif", "step_context"):
            return int(self.num_motifs)
        return super().__inc__(key, value, *args, **kwargs)


def motif_steps(data: Data, tree: MotifTree, index: dict[str, int], order: str) -> MotifSteps:
    """The teacher-forced decisions that generate ``tree`` in ``order`` (``"bfs"``/``"dfs"``).

    ``index`` maps a motif label to its class (unknown labels to the ``"other"`` class);
    class ``len(index)`` stands for "stop" and ``len(index) + 1`` for "no context".
    """
    other = index[OTHER]
    stop, none = len(index), len(index) + 1
    labels = [index.get(label, other) for label in tree.labels]
    root = tree.atom_motif[0]
    context, context_label, prev, expand, target = [], [], [], [], []
    previous = labels[root]
    for ctx, child in traversal(tree, order):
        context.append(0 if ctx is None else ctx)
        context_label.append(none if ctx is None else labels[ctx])
        prev.append(previous)
        expand.append(child is not None)
        target.append(-100 if child is None else labels[child])
        previous = stop if child is None else labels[child]
    long = lambda values: torch.tensor(values, dtype=torch.long)  # noqa: E731
    return MotifSteps(
        x=data.x,
        edge_index=data.edge_index,
        edge_attr=data.edge_attr,
        atom_motif=long(tree.atom_motif),
        num_motifs=tree.num_motifs,
        root_label=long([labels[root]]),
        step_context=long(context),
        step_has_context=torch.tensor([c != none for c in context_label], dtype=torch.bool),
        step_context_label=long(context_label),
        step_prev=long(prev),
        step_expand=torch.tensor(expand, dtype=torch.float),
        step_label=long(target),
        num_nodes=data.num_nodes,
    )


@lru_cache(maxsize=1)
def default_vocabulary() -> tuple[str, ...]:
    """The motif vocabulary of RDKit's NCI 5K set (motifs seen >= 2 times, then ``"other"``):
    :class:`MGSSL`'s stand-in when no corpus vocabulary is given (computed once, seconds)."""
    return tuple(motif_vocabulary(nci5k_smiles(), min_count=2))


def vocabulary_hash(vocab: list[str]) -> str:
    """A short hash of a motif vocabulary (part of a run's identity)."""
    return hashlib.sha256("\n".join(vocab).encode()).hexdigest()[:16]


class MGSSL(Strategy):
    """MGSSL's motif-tree generation around any graph ``encoder`` (module docs).

    Parameters
    ----------
    encoder : nn.Module
        A graph encoder of the contract.
    vocab : list of str, optional
        Motif labels, ending in ``"other"``: :func:`cpmkit.featurize.motifs.motif_vocabulary`
        of the pre-training corpus's SMILES, as MGSSL builds it (a recipe passes it as
        ``hparams={"mgssl": {"vocab": ...}}``). ``pretrain_recipe`` builds the corpus's own
        through :meth:`corpus_settings` (motifs seen at least ``min_count`` = 5 times).
        Built directly without one, :func:`default_vocabulary` (the motifs of RDKit's NCI 5K
        set seen at least twice) stands in; ``hparams()`` records which (``vocab_source``).
    order : ``"dfs"`` or ``"bfs"``
        The order the tree is generated in (MGSSL's code offers both; depth-first is
        JT-VAE's, which their decoder descends from).
    hidden : int, optional
        Width of the decoder's GRU (default: the encoder's ``out_dim``).

    Molecules whose SMILES (``data.smiles``) does not parse to the graph's atoms are skipped.
    Taught in ``notebooks/03_autoregressive``.
    """

    name = "mgssl"
    follow_batch = ("step_expand",)

    @classmethod
    def corpus_settings(cls, corpus, settings: dict) -> dict:
        """The corpus's own motif vocabulary, as MGSSL builds it (``pretrain_recipe`` calls
        this; a ``vocab`` in ``settings`` wins). ``min_count`` (default 5) is the cut-off."""
        if settings.get("vocab") is not None:
            return {}
        smiles = [corpus[i].smiles for i in range(len(corpus))]
        # popped: a cut-off of the vocabulary, not a setting of the strategy itself
        return {"vocab": motif_vocabulary(smiles, min_count=settings.pop("min_count", 5))}

    def __init__(
        self,
        encoder: nn.Module,
        vocab: list[str] | None = None,
        order: str = "dfs",
        hidden: int | None = None,
    ):
        super().__init__(encoder)
        self.vocab_source = "given"
        if vocab is None:
            vocab, self.vocab_source = list(default_vocabulary()), "nci5k default"
        if not vocab:
            raise ValueError("an empty motif vocabulary: use motif_vocabulary(smiles)")
        if order not in MOTIF_ORDERS:
            raise ValueError(f"order must be one of {MOTIF_ORDERS}, got {order!r}")
        vocab = list(vocab)
        if vocab[-1] != OTHER or vocab.count(OTHER) != 1:
            vocab = [label for label in vocab if label != OTHER] + [OTHER]
        self.vocab = vocab
        self.index = {label: i for i, label in enumerate(vocab)}
        self.order = order
        dim = encoder.out_dim
        self.hidden = hidden or dim
        num_labels = len(vocab)
        self.label_embedding = nn.Embedding(num_labels + 2, dim)  # + stop, + no context
        self.init = nn.Linear(dim, self.hidden)
        self.gru = nn.GRU(3 * dim, self.hidden, batch_first=True)
        self.topology_head = nn.Sequential(
            nn.Linear(self.hidden + dim, dim), nn.ReLU(), nn.Linear(dim, 1)
        )
        self.label_head = nn.Sequential(
            nn.Linear(self.hidden + dim, dim), nn.ReLU(), nn.Linear(dim, num_labels)
        )

    def transform(self, data: Data) -> MotifSteps | None:
        tree = smiles_motif_tree(getattr(data, "smiles", None) or "")
        if tree is None or len(tree.atom_motif) != data.num_nodes or data.num_nodes == 0:
            return None
        return motif_steps(data, tree, self.index, self.order)

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        h = self.encoder(batch.x, batch.edge_index, batch.edge_attr)
        num_graphs = batch.num_graphs
        molecule = global_mean_pool(h, batch.batch, size=num_graphs)
        # a motif's vector: the sum of its atoms' vectors (their clique embedding)
        motif = global_add_pool(h, batch.atom_motif, size=int(batch.num_motifs.sum()))
        context = motif[batch.step_context] * batch.step_has_context.unsqueeze(1)
        inputs = torch.cat(
            [context, self.label_embedding(batch.step_context_label),
             self.label_embedding(batch.step_prev)], dim=1)  # fmt: skip
        step_graph = batch.step_expand_batch
        dense, mask = to_dense_batch(inputs, step_graph, batch_size=num_graphs)
        start = torch.tanh(self.init(molecule))
        states, _ = self.gru(dense, start.unsqueeze(0).contiguous())
        states = states[mask]
        per_step = torch.cat([states, molecule[step_graph]], dim=1)
        # topology: add a motif here, or stop
        topo_logits = self.topology_head(per_step).view(-1)
        topo_loss = F.binary_cross_entropy_with_logits(topo_logits, batch.step_expand)
        topo_acc = ((topo_logits > 0).float() == batch.step_expand).float().mean()
        # labels: the root's from the molecule alone, each added motif's from its step
        root_logits = self.label_head(torch.cat([start, molecule], dim=1))
        expanded = batch.step_expand.bool()
        label_logits = torch.cat([root_logits, self.label_head(per_step[expanded])])
        label_target = torch.cat([batch.root_label, batch.step_label[expanded]])
        label_loss = F.cross_entropy(label_logits, label_target)
        label_acc = (label_logits.argmax(1) == label_target).float().mean()
        loss = label_loss + topo_loss
        logs = {"label_loss": label_loss, "topo_loss": topo_loss, "acc": label_acc,
                "topo_acc": topo_acc}  # fmt: skip
        return loss, {key: float(value.detach()) for key, value in logs.items()}

    def hparams(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "hidden": self.hidden,
            "vocab_source": self.vocab_source,
            "vocab_size": len(self.vocab),
            "vocab_sha256": vocabulary_hash(self.vocab),
        }


__all__ = [
    "ATOM_ORDERS",
    "GPTGNN",
    "MGSSL",
    "GenerationSteps",
    "MotifSteps",
    "bfs_order",
    "canonical_order",
    "default_vocabulary",
    "generation_order",
    "generation_steps",
    "motif_steps",
    "vocabulary_hash",
]
