r"""GraphCL's four graph augmentations on Hu et al. graphs, and checks of what they leave.

You et al. (NeurIPS 2020, *Graph Contrastive Learning with Augmentations*) make two views of a
molecule by one of four random edits, each touching a share ``ratio`` of the graph (0.2 in
their transfer-learning experiments):

- **node dropping** (``drop_nodes``): delete ``floor(ratio * n)`` atoms and their bonds;
- **edge perturbation** (``perturb_edges``): delete ``floor(ratio * m)`` bonds and, with
  ``add=True`` (the paper's definition), add as many new single bonds between random atom pairs;
- **attribute masking** (``mask_attributes``): set ``floor(ratio * n)`` atoms to the mask token
  ``[119, 0]`` (the features of Hu et al.'s attribute masking);
- **subgraph** (``subgraph``): keep a connected set of ``n - floor(ratio * n)`` atoms grown by a
  random walk-like expansion from a random atom (the frontier's atoms join in random order).

Every function is a pure tensor edit of a PyG ``Data`` with Hu et al.'s features (``x``: ``[atom
type, chirality]``, ``edge_attr``: ``[bond type, direction]``, both directions of a bond stored):
it returns a new graph, never changes its input, and draws from torch's global random generator
(which the pre-training loop seeds). A graph with a node attribute ``atom_id`` keeps it for the
atoms that stay (so a figure can draw a view on the original molecule). Each output is a valid
tensor graph (:func:`tensor_problems` is empty). Whether it is still a sensible *molecule* is
another question, answered by :func:`chemistry_problems`: an atom with more bonds than its element
allows, a fragment split off, a bond to a masked atom whose element is gone. GraphCL's own finding,
that edge perturbation hurts molecules, is a question of this kind.

Deviation from the authors' code (``Shen-Lab/GraphCL``, ``transferLearning_MoleculeNet_PPI/
chem``): edges added by ``perturb_edges(add=True)`` get the single-bond type (the code has no
rule for a new bond's type); the default there is ``add=False``, deletion only, which is what
the authors' molecule code does. Taught in ``notebooks/06_contrastive``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from rdkit import Chem
from torch_geometric.data import Data
from torch_geometric.utils import subgraph as induced_subgraph

from cpmkit.featurize.graph_hu import MASK_ATOM_INDEX, SELF_LOOP_BOND_INDEX

#: the least bond order of Hu et al.'s bond types (single, double, triple, aromatic) in a
#: Kekulé structure: an aromatic bond is single or double, so it counts 1 (a lower bound)
BOND_ORDER = (1.0, 2.0, 3.0, 1.0)


def _keep_atoms(data: Data, keep: torch.Tensor) -> Data:
    """The graph induced on the atoms ``keep`` (ascending), other attributes copied."""
    keep = keep.sort().values
    edge_index, edge_attr = induced_subgraph(
        keep, data.edge_index, data.edge_attr, relabel_nodes=True, num_nodes=data.num_nodes
    )
    out = data.clone()
    out.x = data.x[keep]
    out.edge_index, out.edge_attr = edge_index, edge_attr
    if "atom_id" in data:  # a trace of the original atoms, for drawing a view
        out.atom_id = data.atom_id[keep]
    return out


def _count(ratio: float, total: int) -> int:
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"ratio must be in [0, 1), got {ratio}")
    return int(ratio * total)


def drop_nodes(data: Data, ratio: float = 0.2) -> Data:
    """Delete ``floor(ratio * n)`` random atoms and every bond touching them."""
    n = data.num_nodes
    drop = _count(ratio, n)
    keep = torch.randperm(n)[drop:]
    return _keep_atoms(data, keep)


def _bond_ids(edge_index: torch.Tensor) -> torch.Tensor:
    """Per directed edge, the index of its undirected bond (both directions share one id)."""
    low, high = edge_index.min(0).values, edge_index.max(0).values
    pairs = low * (int(edge_index.max()) + 1 if edge_index.numel() else 1) + high
    return torch.unique(pairs, return_inverse=True)[1]


def perturb_edges(data: Data, ratio: float = 0.2, add: bool = False) -> Data:
    """Delete ``floor(ratio * bonds)`` random bonds (both directions); with ``add``, add as many.

    Added bonds join random atom pairs not yet bonded, typed as single bonds with no direction.
    """
    out = data.clone()
    if data.edge_index.numel() == 0:
        return out
    bond_of_edge = _bond_ids(data.edge_index)
    num_bonds = int(bond_of_edge.max()) + 1
    drop = _count(ratio, num_bonds)
    dropped = torch.randperm(num_bonds)[:drop]
    kept = ~torch.isin(bond_of_edge, dropped)
    out.edge_index, out.edge_attr = data.edge_index[:, kept], data.edge_attr[kept]
    if add and drop:
        n = data.num_nodes
        bonded = torch.zeros(n, n, dtype=torch.bool)
        bonded[data.edge_index[0], data.edge_index[1]] = True
        free = (~bonded).triu(diagonal=1).nonzero()
        chosen = free[torch.randperm(free.size(0))[:drop]]
        new_index = torch.cat([chosen.T, chosen.T.flip(0)], dim=1)
        new_attr = torch.zeros(
            new_index.size(1), data.edge_attr.size(1), dtype=data.edge_attr.dtype
        )
        out.edge_index = torch.cat([out.edge_index, new_index], dim=1)
        out.edge_attr = torch.cat([out.edge_attr, new_attr])
    return out


def mask_attributes(data: Data, ratio: float = 0.2) -> Data:
    """Set ``floor(ratio * n)`` random atoms to the mask token ``[119, 0]``."""
    out = data.clone()
    masked = torch.randperm(data.num_nodes)[: _count(ratio, data.num_nodes)]
    out.x = data.x.clone()
    out.x[masked] = torch.tensor([MASK_ATOM_INDEX, 0], dtype=data.x.dtype)
    return out


def subgraph(data: Data, ratio: float = 0.2) -> Data:
    """Keep a connected set of ``n - floor(ratio * n)`` atoms grown from a random atom.

    From a random start atom, neighbours of the kept set join one at a time in random order
    until the target size is reached; if the start's connected component is too small (a salt),
    the rest is filled from other atoms at random, as the authors' code does.
    """
    n = data.num_nodes
    target = n - _count(ratio, n)
    if n == 0:
        return data.clone()
    adjacency = [[] for _ in range(n)]
    for a, b in data.edge_index.T.tolist():
        adjacency[a].append(b)
    kept = {int(torch.randint(n, (1,)))}
    frontier = set(adjacency[next(iter(kept))])
    while len(kept) < target:
        frontier -= kept
        if not frontier:
            rest = torch.tensor(sorted(set(range(n)) - kept))
            kept.update(rest[torch.randperm(rest.numel())[: target - len(kept)]].tolist())
            break
        options = sorted(frontier)
        pick = options[int(torch.randint(len(options), (1,)))]
        kept.add(pick)
        frontier.update(adjacency[pick])
    return _keep_atoms(data, torch.tensor(sorted(kept)))


def identity(data: Data, ratio: float = 0.2) -> Data:
    """No edit (JOAO's ``none`` choice): a copy of the graph."""
    return data.clone()


#: the augmentations by name (GraphCL's four, and ``none`` for JOAO)
AUGMENTATIONS: dict[str, Callable[..., Data]] = {
    "none": identity,
    "drop_nodes": drop_nodes,
    "perturb_edges": perturb_edges,
    "mask_attributes": mask_attributes,
    "subgraph": subgraph,
}


def augment(data: Data, name: str, ratio: float = 0.2) -> Data:
    """Apply the augmentation ``name`` (a key of :data:`AUGMENTATIONS`) at ``ratio``."""
    if name not in AUGMENTATIONS:
        raise KeyError(f"unknown augmentation {name!r}; choose one of {sorted(AUGMENTATIONS)}")
    return AUGMENTATIONS[name](data, ratio)


def tensor_problems(data: Data) -> list[str]:
    """What makes ``data`` an invalid tensor graph (empty list: valid).

    Checks: edge indices in ``[0, num_nodes)``; ``edge_attr`` rows match edges; feature
    indices within Hu et al.'s tables; every bond stored in both directions.
    """
    problems = []
    n = data.num_nodes
    ei = data.edge_index
    if data.x.size(0) != n:
        problems.append(f"x has {data.x.size(0)} rows for {n} nodes")
    if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= n):
        problems.append("edge index out of range")
    if data.edge_attr.size(0) != ei.size(1):
        problems.append("edge_attr rows differ from edges")
    if data.x.numel() and not (
        0 <= int(data.x[:, 0].min()) and int(data.x[:, 0].max()) <= MASK_ATOM_INDEX
    ):
        problems.append("atom type index out of range")
    if data.edge_attr.numel() and int(data.edge_attr[:, 0].max()) >= SELF_LOOP_BOND_INDEX:
        problems.append("bond type index out of range")
    pairs = set(map(tuple, ei.T.tolist()))
    if any((b, a) not in pairs for a, b in pairs):
        problems.append("a bond stored in one direction only")
    return problems


_TABLE = Chem.GetPeriodicTable()


def chemistry_problems(data: Data, fragments: int | None = None) -> list[str]:
    """Why the graph is no longer a sensible molecule (empty list: it could be one).

    ``"valence"``: an atom whose bond orders sum above the largest valence RDKit allows its
    element plus one (a +1 charge; Hu et al.'s features hold no charge). An aromatic bond counts
    1, its lower bound (a pyrrole-type nitrogen has two aromatic bonds and valence 2), so the
    test is lenient: a flagged view is surely broken, an unflagged one may still be;
    ``"fragment"``: more connected components than the molecule had (``fragments``, e.g.
    :func:`fragment_count` of the original; default 1); ``"masked"``: an atom whose element is
    hidden (the graph is not a molecule until it is guessed back). Hydrogens are implicit, so
    deleting atoms never breaks valence; adding bonds can.
    """
    problems = []
    n = data.num_nodes
    types = data.x[:, 0].tolist()
    if any(t == MASK_ATOM_INDEX for t in types):
        problems.append("masked")
    order = torch.zeros(n)
    if data.edge_index.numel():
        bond = data.edge_attr[:, 0].clamp(max=3)
        order.index_add_(0, data.edge_index[0], torch.tensor(BOND_ORDER)[bond])
    for atom, total in enumerate(order.tolist()):
        if types[atom] == MASK_ATOM_INDEX:
            continue
        allowed = [v for v in _TABLE.GetValenceList(types[atom] + 1) if v >= 0]
        if allowed and total > max(allowed) + 1 + 1e-6:
            problems.append("valence")
            break
    if _components(data) > (fragments or 1):
        problems.append("fragment")
    return problems


def _components(data: Data) -> int:
    """Number of connected components (isolated atoms count)."""
    parent = list(range(data.num_nodes))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in data.edge_index.T.tolist():
        parent[find(a)] = find(b)
    return len({find(a) for a in range(data.num_nodes)})


def fragment_count(data: Data) -> int:
    """Connected components of a molecule graph (a salt has two)."""
    return _components(data)


__all__ = [
    "AUGMENTATIONS",
    "BOND_ORDER",
    "augment",
    "chemistry_problems",
    "drop_nodes",
    "fragment_count",
    "identity",
    "mask_attributes",
    "perturb_edges",
    "subgraph",
    "tensor_problems",
]
