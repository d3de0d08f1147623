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

``forward`` is ``loss``, so ``DistributedDataParallel(strategy)(batch)`` works unchanged, and
``after_step()`` runs after each optimizer step (an EMA target network updates there).
Taught in ``notebooks/04_masked_components`` and ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

from typing import Any

import torch
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
        """Inputs -> one batch; ``None`` items are dropped; ``None`` if nothing is left."""
        items = [item for item in items if item is not None]
        if not items:
            return None
        return Batch.from_data_list(items, follow_batch=list(self.follow_batch))

    def loss(self, batch) -> torch.Tensor | tuple[torch.Tensor, dict[str, float]]:
        """The pre-training objective on one batch (a scalar to minimise)."""
        raise NotImplementedError(f"{type(self).__name__} must define loss(batch)")

    def forward(self, batch):
        # DistributedDataParallel synchronises gradients of what forward() computed
        return self.loss(batch)

    def after_step(self) -> None:
        """Hook after each optimizer step (e.g. a momentum update of a target network)."""

    # -- what is saved -----------------------------------------------------------------------
    def hparams(self) -> dict[str, Any]:
        """The method's own settings as plain JSON (saved with checkpoints and results)."""
        return {}

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights fine-tuning starts from (for a Hu et al. GNN: the published keys)."""
        return self.encoder.state_dict()

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.hparams().items())


def encoder_hparams(encoder: nn.Module) -> dict[str, Any]:
    """The architecture of a Hu et al. GNN (or any module with the same attributes) as JSON."""
    keys = ("num_layer", "emb_dim", "JK", "drop_ratio", "gnn_type")
    found = {key: getattr(encoder, key) for key in keys if hasattr(encoder, key)}
    return {"class": type(encoder).__name__, **found}


__all__ = ["Strategy", "encoder_hparams"]
