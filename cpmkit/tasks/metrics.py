r"""Losses and metrics for MoleculeNet-style multi-task data with missing labels.

Labels are floats with ``NaN`` = not measured (Tox21 has ~17 % missing, ToxCast ~70 %). A missing
label must contribute nothing: not to the loss, not to its gradient, not to a metric.

.. math::
    \mathcal{L} = \frac{1}{|M|} \sum_{(g,t) \in M} \mathrm{BCE}(\sigma(z_{gt}), y_{gt}),
    \qquad M = \{(g, t) : y_{gt} \text{ is not NaN}\}

which is Hu et al.'s loss (their labels were -1/0/+1 with 0 = missing). ROC-AUC is averaged
over the tasks whose evaluated split holds both classes, as Hu et al. did; how many tasks
counted is returned too, because a 0.75 over 2 of 12 tasks is not a 0.75 over 12.
Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import mean_absolute_error, mean_squared_error, roc_auc_score


def _masked(loss_fn, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    y = y.reshape(pred.shape).to(pred.dtype)
    mask = ~torch.isnan(y)
    # Replace NaN targets *before* the loss: NaN * 0 is NaN, and would poison the gradient.
    target = torch.where(mask, y, torch.zeros_like(y))
    loss = loss_fn(pred, target, reduction="none")
    loss = torch.where(mask, loss, torch.zeros_like(loss))
    return loss.sum() / mask.sum().clamp_min(1)


def masked_bce_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits, averaged over the labels that are not NaN.

    ``y`` may be (B, T) or anything that reshapes to ``logits.shape``; a batch with no valid
    label gives 0 (with zero gradient), not NaN. Taught in ``notebooks/11_property_prediction``.
    """
    return _masked(F.binary_cross_entropy_with_logits, logits, y)


def masked_mse_loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the labels that are not NaN (regression fine-tuning).

    Taught in ``notebooks/11_property_prediction``.
    """
    return _masked(F.mse_loss, pred, y)


class AUCResult(NamedTuple):
    """``mean`` over the counted tasks, ``per_task`` (NaN where skipped), ``n_valid_tasks``."""

    mean: float
    per_task: np.ndarray
    n_valid_tasks: int


def _as_2d(a) -> np.ndarray:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=float)
    return a.reshape(len(a), -1).astype(float)


def roc_auc_multitask(y_true, y_score) -> AUCResult:
    """ROC-AUC per task over its non-NaN labels; mean over the tasks that have both classes.

    Parameters
    ----------
    y_true : array (N, T) or (N,)
        0/1 labels, NaN = missing.
    y_score : array of the same shape
        Scores (logits or probabilities; AUC depends only on their order).

    Returns
    -------
    AUCResult
        ``(mean, per_task, n_valid_tasks)``; ``mean`` is NaN when no task counted.

    Taught in ``notebooks/11_property_prediction``.
    """
    y_true, y_score = _as_2d(y_true), _as_2d(y_score)
    if y_true.shape != y_score.shape:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} differ in shape")
    per_task = np.full(y_true.shape[1], np.nan)
    for t in range(y_true.shape[1]):
        valid = ~np.isnan(y_true[:, t])
        labels = y_true[valid, t]
        if (labels == 1).any() and (labels == 0).any():
            per_task[t] = roc_auc_score(labels, y_score[valid, t])
    counted = ~np.isnan(per_task)
    mean = float(per_task[counted].mean()) if counted.any() else float("nan")
    return AUCResult(mean, per_task, int(counted.sum()))


def _per_task(metric, y_true, y_pred) -> float:
    y_true, y_pred = _as_2d(y_true), _as_2d(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    scores = []
    for t in range(y_true.shape[1]):
        valid = ~np.isnan(y_true[:, t])
        if valid.any():
            scores.append(metric(y_true[valid, t], y_pred[valid, t]))
    return float(np.mean(scores)) if scores else float("nan")


def rmse(y_true, y_pred) -> float:
    """Root-mean-squared error per task (NaN labels skipped), averaged over tasks.

    Taught in ``notebooks/11_property_prediction``.
    """
    return _per_task(lambda a, b: np.sqrt(mean_squared_error(a, b)), y_true, y_pred)


def mae(y_true, y_pred) -> float:
    """Mean absolute error per task (NaN labels skipped), averaged over tasks.

    Taught in ``notebooks/11_property_prediction``.
    """
    return _per_task(mean_absolute_error, y_true, y_pred)


__all__ = [
    "AUCResult",
    "mae",
    "masked_bce_loss",
    "masked_mse_loss",
    "rmse",
    "roc_auc_multitask",
]
