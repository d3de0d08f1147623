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


# --- pair tasks: drug-target affinity (regression) and drug-drug interaction types -------------


def _tied_pairs(*columns) -> int:
    """Number of pairs equal in every given column: sum over groups of c (c - 1) / 2."""
    _, counts = np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def concordance_index(y_true, y_pred) -> float:
    r"""Concordance index, in O(n log n) (KIBA's test fold has about 20k pairs).

    .. math::
        \mathrm{CI} = \frac{1}{Z}\sum_{y_i > y_j} h(f_i - f_j), \qquad
        h(x) = \begin{cases}1 & x > 0\\ 0.5 & x = 0\\ 0 & x < 0\end{cases}

    over every pair with different labels (:math:`Z` of them). The counts come from Kendall's
    tau-b, which scipy computes by merge sort: with :math:`n_0` pairs, :math:`n_1` tied in
    ``y_true``, :math:`n_2` tied in ``y_pred`` and :math:`n_3` tied in both, concordant minus
    discordant is :math:`\tau_b\sqrt{(n_0-n_1)(n_0-n_2)}` (an integer, so rounded exactly),
    concordant plus discordant is :math:`Z - (n_2 - n_3)` with :math:`Z = n_0 - n_1`.
    Checked against :func:`concordance_index_slow` in the tests. Returns NaN when all labels tie.

    Deviation: DeepDTA's ``emetrics.get_cindex`` loops over ``j < i`` and counts a pair only
    when ``Y[i] > Y[j]``, so a pair whose earlier element has the larger label is skipped and
    its value depends on the order of the rows; this is the order-free definition GraphDTA's
    ``ci`` (which sorts by label first) computes.
    Taught in ``notebooks/13_drug_target_interaction``.
    """
    from scipy.stats import kendalltau

    y = np.asarray(y_true, dtype=np.float64).ravel()
    f = np.asarray(y_pred, dtype=np.float64).ravel()
    if y.shape != f.shape:
        raise ValueError(f"y_true {y.shape} and y_pred {f.shape} differ in shape")
    n0 = len(y) * (len(y) - 1) // 2
    n1, n2, n3 = _tied_pairs(y), _tied_pairs(f), _tied_pairs(y, f)
    total = n0 - n1
    if total == 0:
        return float("nan")
    if n0 == n2:  # every prediction equal: every pair is a tie
        return 0.5
    tau = kendalltau(y, f, variant="b").statistic
    con_minus_dis = int(np.rint(float(tau) * np.sqrt(float(n0 - n1) * float(n0 - n2))))
    pred_ties = n2 - n3
    con = (con_minus_dis + total - pred_ties) // 2
    return float((con + 0.5 * pred_ties) / total)


def concordance_index_slow(y_true, y_pred, chunk: int = 2048) -> float:
    """The O(n^2) reference of :func:`concordance_index`: every pair compared (in chunks)."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    f = np.asarray(y_pred, dtype=np.float64).ravel()
    score, total = 0.0, 0
    for start in range(0, len(y), chunk):
        yi, fi = y[start : start + chunk, None], f[start : start + chunk, None]
        larger = yi > y[None, :]  # pairs (i, j) with y_i > y_j, each unordered pair once
        total += int(larger.sum())
        score += float((larger & (fi > f[None, :])).sum()) + 0.5 * float(
            (larger & (fi == f[None, :])).sum()
        )
    return score / total if total else float("nan")


def rm2(y_true, y_pred) -> float:
    r"""DeepDTA's :math:`r_m^2 = r^2\,(1 - \sqrt{|r^2 \cdot r^2 - r_0^2 \cdot r_0^2|})`.

    :math:`r^2` is the squared Pearson correlation and :math:`r_0^2 = 1 - \sum (y - k f)^2 /
    \sum (y - \bar y)^2` with :math:`k = \sum y f / \sum f^2` (the regression through the
    origin). As in DeepDTA's ``emetrics.get_rm2``, the square root is of the difference of the
    *squares* of :math:`r^2` and :math:`r_0^2` (Roy et al. write :math:`\sqrt{|r^2 - r_0^2|}`).
    Taught in ``notebooks/13_drug_target_interaction``.
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    f = np.asarray(y_pred, dtype=np.float64).ravel()
    r2 = pearson(y, f) ** 2
    k = float((y * f).sum() / (f * f).sum())
    r02 = 1.0 - float(((y - k * f) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    return float(r2 * (1.0 - np.sqrt(abs(r2 * r2 - r02 * r02))))


def pearson(y_true, y_pred) -> float:
    """Pearson correlation of labels and predictions."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    f = np.asarray(y_pred, dtype=np.float64).ravel()
    return float(np.corrcoef(y, f)[0, 1])


def affinity_metrics(y_true, y_pred) -> dict[str, float]:
    """MSE, CI, r_m^2 and Pearson of an affinity prediction (DeepDTA's and GraphDTA's table)."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    f = np.asarray(y_pred, dtype=np.float64).ravel()
    return {
        "mse": float(np.mean((y - f) ** 2)),
        "ci": concordance_index(y, f),
        "rm2": rm2(y, f),
        "pearson": pearson(y, f),
    }


def interaction_metrics(y_true, y_pred, num_classes: int | None = None) -> dict[str, float]:
    """Accuracy, macro-F1 (over the types present in ``y_true`` or predicted) and Cohen's kappa
    of a multi-class DDI prediction, by scikit-learn.
    Taught in ``notebooks/14_drug_drug_interaction``."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

    y, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return {
        "accuracy": float(accuracy_score(y, p)),
        "macro_f1": float(f1_score(y, p, average="macro", zero_division=0)),
        "kappa": float(cohen_kappa_score(y, p)),
    }


def per_type_f1(y_true, y_pred, labels) -> np.ndarray:
    """F1 of each class in ``labels`` (0 where a class is neither present nor predicted)."""
    from sklearn.metrics import f1_score

    return f1_score(
        np.asarray(y_true), np.asarray(y_pred), labels=list(labels), average=None, zero_division=0
    )


__all__ = [
    "AUCResult",
    "affinity_metrics",
    "concordance_index",
    "concordance_index_slow",
    "interaction_metrics",
    "mae",
    "masked_bce_loss",
    "masked_mse_loss",
    "pearson",
    "per_type_f1",
    "rm2",
    "rmse",
    "roc_auc_multitask",
]
