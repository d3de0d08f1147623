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

#: the optimiser settings of each paper's own code, as :class:`PretrainConfig` fields; a lesson
#: takes one by name (``PretrainConfig(num_epochs=..., **TRAINERS["molgpt"])``)
TRAINERS: dict[str, dict] = {
    # Hu et al.'s pretrain_*.py: Adam, lr 1e-3, constant; also the kit's default at ci/teach
    "hu2020": {"optimizer": "adam", "lr": 1e-3},
    # devalab/molgpt train/trainer.py (minGPT): AdamW (0.9, 0.95), weight decay 0.1 on matmul
    # weights, clip 1.0, linear warm-up then cosine to 10%, lr 6e-4 (train.py). Deviation: the
    # reference counts tokens (warm-up 0.1 x max_len tokens per molecule, about 0.1-0.2 epoch;
    # its cosine would reach the floor only after num_epochs x max_len / mean length epochs, so
    # it ends above it); here warm-up is 1% of the steps (0.1 epoch of 10) and the cosine ends
    # at the floor on the last step.
    "molgpt": {"optimizer": "adamw", "lr": 6e-4, "betas": (0.9, 0.95), "weight_decay": 0.1,
               "grad_clip": 1.0, "schedule": "warmup_cosine", "warmup_fraction": 0.01,
               "min_lr_ratio": 0.1},
    # seyonechithrananda/bert-loves-chemistry train_roberta.py: HuggingFace Trainer defaults
    # (AdamW (0.9, 0.999), no weight decay, linear decay to 0 without warm-up, clip 1.0), lr 5e-5
    "chemberta": {"optimizer": "adamw", "lr": 5e-5, "betas": (0.9, 0.999), "weight_decay": 0.0,
                  "grad_clip": 1.0, "schedule": "warmup_linear", "warmup_fraction": 0.0,
                  "min_lr_ratio": 0.0},
}  # fmt: skip


def lr_factor(
    step: int,
    total_steps: int,
    schedule: str = "constant",
    warmup_steps: int = 0,
    min_lr_ratio: float = 0.0,
) -> float:
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


def decay_groups(module: torch.nn.Module) -> list[dict]:
    """Two parameter groups as minGPT's ``configure_optimizers``: weight decay on the weights of
    linear (and HF ``Conv1D``) layers only; none on biases, norms, embeddings, positions.

    The first group leaves ``weight_decay`` to the optimizer's setting; the second sets 0.
    """
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
        {"params": decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "TRAINERS",
    "build_optimizer",
    "build_scheduler",
    "decay_groups",
    "lr_factor",
]
