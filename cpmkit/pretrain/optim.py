r"""The optimiser and learning-rate schedule of a pre-training run, from :class:`PretrainConfig`.

Three schedules, as factors of the base ``lr`` by optimizer step :math:`t` out of :math:`T`,
with :math:`W` warm-up steps and a floor :math:`f` (``min_lr_ratio``):

.. math::
    \eta_t/\eta = \begin{cases} (t+1)/W & t < W \\
      \max\big(f,\ \tfrac12(1+\cos\pi p_t)\big) & \text{warmup_cosine} \\
      \max\big(f,\ 1-p_t\big) & \text{warmup_linear} \end{cases}
    \qquad p_t = \min\Big(1, \frac{t-W}{T-W}\Big)

``constant`` keeps :math:`\eta` (Hu et al.'s runs). ``warmup_cosine`` with :math:`f = 0.1` is
minGPT's trainer, which MolGPT's code uses (it counts tokens instead of steps; here a step is
the unit, see :func:`cpmkit.pretrain.autoregressive` notes); ``warmup_linear`` with
:math:`W = 0, f = 0` is the HuggingFace ``Trainer``'s default, which ChemBERTa's code uses.
Taught in ``notebooks/03_autoregressive``.
"""

from __future__ import annotations

import math

import torch

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
SCHEDULES = ("constant", "warmup_cosine", "warmup_linear")


def lr_factor(step: int, total_steps: int, schedule: str = "constant",
              warmup_steps: int = 0, min_lr_ratio: float = 0.0) -> float:
    """The factor of the base learning rate at optimizer step ``step`` (0-based)."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {SCHEDULES}")
    if schedule == "constant":
        return 1.0
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    if schedule == "warmup_cosine":
        return max(min_lr_ratio, 0.5 * (1.0 + math.cos(math.pi * progress)))
    return max(min_lr_ratio, 1.0 - progress)


def build_optimizer(param_groups, config) -> torch.optim.Optimizer:
    """``config.optimizer`` (Adam or AdamW) over ``param_groups`` with the config's settings."""
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; choose one of "
                         f"{sorted(OPTIMIZERS)}")  # fmt: skip
    return OPTIMIZERS[config.optimizer](
        param_groups, lr=config.lr, betas=tuple(config.betas), weight_decay=config.weight_decay
    )


def build_scheduler(optimizer, config, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` over :func:`lr_factor`; stepped once per optimizer step."""
    warmup = round(config.warmup_fraction * total_steps)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: lr_factor(step, total_steps, config.schedule, warmup, config.min_lr_ratio),
    )


def decay_groups(module: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two parameter groups as minGPT's ``configure_optimizers``: weight decay on the weights of
    linear (and HF ``Conv1D``) layers only; none on biases, norms, embeddings, positions."""
    decay, no_decay = {}, {}
    for child in module.modules():
        for name, param in child.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            matmul = type(child).__name__ in ("Linear", "Conv1D", "Bilinear")
            (decay if matmul and name == "weight" else no_decay)[id(param)] = param
    # a tied weight (an LM head sharing the token embedding) is an embedding: no decay
    decay = [param for key, param in decay.items() if key not in no_decay]
    no_decay = list(no_decay.values())
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "build_optimizer",
    "build_scheduler",
    "decay_groups",
    "lr_factor",
]
