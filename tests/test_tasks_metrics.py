"""Masked losses and multi-task metrics against hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cpmkit.tasks.metrics import mae, masked_bce_loss, masked_mse_loss, rmse, roc_auc_multitask

NAN = float("nan")


def test_masked_bce_is_the_mean_over_labelled_entries():
    logits = torch.tensor([[0.0, 2.0], [-1.0, 0.5]])
    y = torch.tensor([[1.0, NAN], [0.0, 1.0]])
    expected = np.mean([math.log(2), math.log(1 + math.e**-1), math.log(1 + math.exp(-0.5))])
    assert masked_bce_loss(logits, y).item() == pytest.approx(expected, rel=1e-6)


def test_masked_entries_change_neither_loss_nor_gradient():
    y = torch.tensor([[1.0, NAN, 0.0], [NAN, 1.0, NAN]])
    logits = torch.tensor([[0.3, -2.0, 1.0], [5.0, 0.1, -7.0]], requires_grad=True)
    loss = masked_bce_loss(logits, y)
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert (logits.grad[torch.isnan(y)] == 0).all()
    assert (logits.grad[~torch.isnan(y)] != 0).all()
    # another value under the mask: same loss
    other = logits.detach().clone()
    other[torch.isnan(y)] = torch.tensor([100.0, -100.0, 3.0])
    assert masked_bce_loss(other, y).item() == pytest.approx(loss.item(), rel=1e-7)
    # an unmasked change does move the loss (the test above can fail)
    other[0, 0] = -3.0
    assert masked_bce_loss(other, y).item() != pytest.approx(loss.item(), rel=1e-3)


def test_all_missing_gives_zero_not_nan():
    logits = torch.zeros(2, 2, requires_grad=True)
    loss = masked_bce_loss(logits, torch.full((2, 2), NAN))
    loss.backward()
    assert loss.item() == 0.0 and (logits.grad == 0).all()


def test_masked_mse():
    pred = torch.tensor([[1.0], [2.0], [4.0]])
    y = torch.tensor([[0.0], [NAN], [1.0]])
    assert masked_mse_loss(pred, y).item() == pytest.approx((1 + 9) / 2)


def test_roc_auc_known_answer_and_shape_handling():
    y = np.array([0, 0, 1, 1], dtype=float)
    s = np.array([0.1, 0.4, 0.35, 0.8])
    result = roc_auc_multitask(y, s)
    assert result.mean == pytest.approx(0.75)
    assert result.n_valid_tasks == 1 and result.per_task.shape == (1,)
    mean, per_task, n = roc_auc_multitask(torch.tensor(y), torch.tensor(s))  # unpacks as a tuple
    assert mean == pytest.approx(0.75) and n == 1


def test_roc_auc_skips_single_class_tasks_and_ignores_nan():
    y = np.array(
        [
            [0, 1, 1, NAN],
            [1, 1, 0, NAN],
            [0, 1, NAN, 1],
            [1, 1, 1, 1],
        ],
        dtype=float,
    )
    s = np.array(
        [
            [0.1, 0.5, 0.9, 0.0],
            [0.9, 0.2, 0.1, 0.0],
            [0.2, 0.3, 123.0, 0.0],  # the score under a NaN label must not matter
            [0.8, 0.4, 0.8, 0.0],
        ]
    )
    result = roc_auc_multitask(y, s)
    # task 0: perfect; task 1: only positives -> skipped; task 2: labels (1,0,1) scores
    # (0.9, 0.1, 0.8) -> perfect; task 3: only positives among its labels -> skipped
    assert result.n_valid_tasks == 2
    assert result.per_task[0] == pytest.approx(1.0) and result.per_task[2] == pytest.approx(1.0)
    assert np.isnan(result.per_task[1]) and np.isnan(result.per_task[3])
    assert result.mean == pytest.approx(1.0)
    s[1, 2] = 0.95  # now task 2 ranks a negative above both positives
    assert roc_auc_multitask(y, s).mean == pytest.approx((1.0 + 0.0) / 2)


def test_roc_auc_without_any_valid_task_is_nan():
    result = roc_auc_multitask(np.ones((3, 2)), np.zeros((3, 2)))
    assert math.isnan(result.mean) and result.n_valid_tasks == 0


def test_roc_auc_shape_mismatch_fails():
    with pytest.raises(ValueError, match="shape"):
        roc_auc_multitask(np.zeros((3, 2)), np.zeros((3, 1)))


def test_rmse_and_mae_known_answers_with_missing_labels():
    y = np.array([[1.0, 0.0], [2.0, NAN], [3.0, 2.0]])
    p = np.array([[1.0, 1.0], [4.0, 50.0], [0.0, 2.0]])
    # task 0 errors (0, 2, -3); task 1 errors (1, 0) -- the 50 is unlabelled
    assert rmse(y, p) == pytest.approx((math.sqrt(13 / 3) + math.sqrt(1 / 2)) / 2)
    assert mae(y, p) == pytest.approx((5 / 3 + 1 / 2) / 2)
    assert rmse([1.0, 2.0], [1.0, 4.0]) == pytest.approx(math.sqrt(2))
    assert mae(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0])) == pytest.approx(1.0)
