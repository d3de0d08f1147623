"""The shape every pre-training method of the survey takes: a :class:`Strategy`.

A strategy wraps an encoder (the network whose weights fine-tuning later starts from) and adds
what its method needs: heads, a second encoder, a target network. It answers three questions,
and the one loop (:func:`cpmkit.pretrain.loop.pretrain`) does the rest -- batching, the
optimizer, checkpoints, resume, several processes:

1. ``transform(data)``: how one molecule becomes the method's input (mask 15% of its atoms,
   cut a context ring, draw negative edges ...). Runs per molecule inside the data loader, with
   torch's global random generator, which the loop seeds and checkpoints.
2. ``collate(items)``: how inputs become a batch (PyG's ``Batch`` by default; a sequence
   method pads token ids instead). An item may be ``None`` (nothing to learn from that molecule,
   e.g. a context ring that falls outside a small molecule) and is dropped here.
3. ``loss(batch)``: the objective, a scalar tensor, or ``(loss, {"acc": ...})`` to log more.

``forward`` is ``loss``, so ``DistributedDataParallel(strategy)(batch)`` works unchanged.

The rest of the contract, for methods that need more:

- **Any batch shape.** ``collate`` may return a PyG ``Batch``, a tensor, or any nesting of
  tuples, lists and dicts of them (``(view1, view2)`` for two augmented views); the loop moves
  every leaf to the device.
- **After each optimizer step** the loop calls ``after_step(step)`` with the number of optimizer
  steps taken so far (a momentum target network or a queue updates there; a schedule of the
  momentum reads ``step``).
- **Parameter groups.** ``param_groups()`` returns what the optimizer gets; override it to,
  say, exempt biases and norms from weight decay (MolGPT's trainer does).
- **Named parts.** ``parts()`` names the networks fine-tuning may start from; the default is
  ``{"encoder": self.encoder}``. A two-encoder method (2D + 3D, graph + SMILES, text +
  molecule) returns e.g. ``{"graph": ..., "geometry": ...}``; the loop writes each as
  ``<part>.pt`` and ``finetune(pretrained=out_dir, part="graph")`` starts from one.
- **Encoders** follow the contract of :mod:`cpmkit.models.encoders` (what a graph, a 3D and a
  sequence encoder take and return).
- **Several processes.** Under ``torchrun`` each process computes ``loss`` on its share of the
  global batch. A loss over in-batch negatives that should see the *global* batch gathers its
  vectors with :func:`cpmkit.pretrain.distributed.gather_with_grad`; then N processes optimise
  the same objective as one. Hu et al.'s strategies do not (their negatives, as in their code,
  come from the process's own share).

Taught in ``notebooks/04_masked_components`` and ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch


class Strategy(nn.Module):
    """Base class of a pre-training method around ``encoder``.

    Subclasses set ``name``, build their extra modules in ``__init__`` (after calling
    ``super().__init__(encoder)``), and override ``loss`` and, when the method needs its own
    view of a molecule, ``transform``. ``hparams()`` returns the method's settings as plain
    JSON; they are saved in every checkpoint and key the loop's cache.

    A toy strategy is a few lines::

        class NormPenalty(Strategy):
            name = "norm"
            def loss(self, batch):
                return self.encoder(batch).pow(2).mean()

    Taught in ``notebooks/04_masked_components``.
    """

    name: str = "strategy"
    #: what the method reads: ``"graph"`` (a Hu et al. GNN is built for it by
    #: ``recipes.build_strategy``), ``"sequence"`` (SMILES tokens) or ``"geometry"`` (3D)
    input_family: str = "graph"
    #: batch attributes that need their own ``<key>_batch`` vector (PyG ``follow_batch``)
    follow_batch: tuple[str, ...] = ()

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    # -- what the loop calls ---------------------------------------------------------------
    def transform(self, data: Any) -> Any:
        """One molecule -> this method's input (default: unchanged). ``None`` drops it."""
        return data

    def collate(self, items: list) -> Any:
        """Inputs -> one batch; ``None`` items are dropped; ``None`` if nothing is left.

        Graphs become one PyG ``Batch``; items that are tuples of graphs (two views of each
        molecule) become a tuple of ``Batch`` objects, view by view.
        """
        items = [item for item in items if item is not None]
        if not items:
            return None
        follow = list(self.follow_batch)
        if isinstance(items[0], tuple):
            return tuple(Batch.from_data_list(list(view), follow_batch=follow)
                         for view in zip(*items))  # fmt: skip
        return Batch.from_data_list(items, follow_batch=follow)

    def loss(self, batch) -> torch.Tensor | tuple[torch.Tensor, dict[str, float]]:
        """The pre-training objective on one batch (a scalar to minimise)."""
        raise NotImplementedError(f"{type(self).__name__} must define loss(batch)")

    def forward(self, batch):
        # DistributedDataParallel synchronises gradients of what forward() computed
        return self.loss(batch)

    def after_step(self, step: int) -> None:
        """Hook after optimizer step number ``step`` (1, 2, ...), e.g. a momentum update."""

    def param_groups(self) -> list[dict[str, Any]]:
        """What the optimizer optimises: one group of every parameter by default.

        Override to give groups their own settings, e.g. ``{"params": [...],
        "weight_decay": 0.0}`` for biases and norms; the loop's ``lr`` and ``weight_decay``
        fill what a group leaves out.
        """
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def parts(self) -> dict[str, nn.Module]:
        """The networks fine-tuning can start from, by name (default: ``{"encoder": ...}``)."""
        return {"encoder": self.encoder}

    # -- what is saved -----------------------------------------------------------------------
    def hparams(self) -> dict[str, Any]:
        """The method's own settings as plain JSON (saved with checkpoints and results)."""
        return {}

    def part_state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Each part's weights as a bare state_dict (for a Hu et al. GNN: the published keys)."""
        return {name: module.state_dict() for name, module in self.parts().items()}

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        """The first part's weights: what ``encoder.pt`` holds."""
        return next(iter(self.part_state_dicts().values()))

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.hparams().items())


def strategy_classes(module_prefix: str = "cpmkit.pretrain") -> dict[str, type[Strategy]]:
    """Every strategy class the kit defines, by its ``name`` (what recipes look names up in).

    Walks the subclasses of :class:`Strategy` (so a new method is one class in its family's
    file, nothing else to register), keeping the kit's own (``module_prefix``). Two classes
    with one name fail loudly.
    """
    found: dict[str, type[Strategy]] = {}
    todo = list(Strategy.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not cls.__module__.startswith(module_prefix):
            continue
        if cls.name in found and found[cls.name] is not cls:
            raise ValueError(f"two strategies are named {cls.name!r}: {found[cls.name]} and {cls}")
        found[cls.name] = cls
    return dict(sorted(found.items()))


def cycle_index(num: int, shift: int = 1) -> torch.Tensor:
    """``i -> (i + shift) mod num``: pairs each molecule of a batch with another one.

    How Hu et al. draw negatives from the batch itself (infomax, context prediction): with
    ``0 < shift < num`` a molecule is never its own negative.
    """
    return (torch.arange(num) + shift) % num


class PairLoss(NamedTuple):
    """:func:`binary_pair_loss`'s parts: the two mean losses and which scores were right."""

    pos: torch.Tensor
    neg: torch.Tensor
    pos_right: torch.Tensor
    neg_right: torch.Tensor

    def accuracy(self) -> float:
        """Share of right answers over all positive and negative pairs."""
        return torch.cat([self.pos_right, self.neg_right]).float().mean().item()


def binary_pair_loss(pos_logits: torch.Tensor, neg_logits: torch.Tensor) -> PairLoss:
    r"""Binary cross-entropy of positive pairs against 1 and negative pairs against 0.

    .. math:: \mathcal{L}_+ = -\overline{\log\sigma(s^+)}, \qquad
              \mathcal{L}_- = -\overline{\log(1-\sigma(s^-))}

    The objective of Hu et al.'s infomax, edge prediction and context prediction, which
    weigh the two means differently. Taught in ``notebooks/05_context_prediction``.
    """
    loss_pos = F.binary_cross_entropy_with_logits(pos_logits, torch.ones_like(pos_logits))
    loss_neg = F.binary_cross_entropy_with_logits(neg_logits, torch.zeros_like(neg_logits))
    return PairLoss(loss_pos, loss_neg, pos_logits > 0, neg_logits < 0)


def encoder_hparams(encoder: nn.Module) -> dict[str, Any]:
    """The architecture of a Hu et al. GNN (or any module with the same attributes) as JSON."""
    keys = ("num_layer", "emb_dim", "JK", "drop_ratio", "gnn_type")
    found = {key: getattr(encoder, key) for key in keys if hasattr(encoder, key)}
    return {"class": type(encoder).__name__, **found}


def parts_hparams(strategy: Strategy) -> dict[str, dict[str, Any]]:
    """:func:`encoder_hparams` of each named part (``parts.json`` in the output folder)."""
    return {name: encoder_hparams(module) for name, module in strategy.parts().items()}


__all__ = [
    "PairLoss",
    "Strategy",
    "binary_pair_loss",
    "cycle_index",
    "encoder_hparams",
    "parts_hparams",
    "strategy_classes",
]
