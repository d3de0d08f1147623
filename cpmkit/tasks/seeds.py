"""Several seeds on one split: fine-tune once per seed, then mean ± std over seeds.

As Hu et al. report Table 1 (10 seeds on the one deterministic scaffold split: only the model
seed changes). Taught in ``notebooks/11_property_prediction``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cpmkit.tasks.finetune import FinetuneConfig, finetune, resolve_split


def run_seeds(dataset, config: FinetuneConfig, seeds, split=None, pretrained=None,
              progress: bool = True, split_seed: int | None = None, model_factory=None,
              split_method: str | None = None, return_results: bool = False,
              part: str | None = None,
              ):  # fmt: skip
    """Fine-tune once per seed and return one row per seed.

    Parameters
    ----------
    split : Split, str or None
        A fixed :class:`~cpmkit.data.splits.Split`, or a method name for
        ``cpmkit.data.splits`` (None = ``"scaffold"``). The scaffold split is deterministic,
        so, as in Hu et al., every seed sees the same split and only the model seed changes.
        For ``"random"``/``"random_scaffold"`` the split seed is ``split_seed`` if given,
        else the run's seed. ``split_method=`` is accepted as another name for a method.
    pretrained, model_factory, part : see :func:`finetune` (``part`` picks a named part of a
        pre-training folder, e.g. SMICLR's ``"smiles"``).
    return_results : bool
        Also return the list of :class:`FinetuneResult` (histories and models), for curves.

    Returns
    -------
    pandas.DataFrame, or (DataFrame, list of FinetuneResult) with ``return_results``
        Columns ``seed, metric, best_epoch, val, test, val_last, test_last, runtime_s,
        split, split_sha256``. Feed it to :func:`summarize`.

    Taught in ``notebooks/11_property_prediction``.
    """
    if split_method is not None:
        if split is not None:
            raise TypeError("give split= or split_method=, not both")
        split = split_method
    rows, results, cache = [], [], {}
    for seed in tqdm(list(seeds), desc="seeds", disable=not progress):
        run_split, method = resolve_split(
            dataset, split, seed if split_seed is None else split_seed, cache
        )
        result = finetune(
            dataset,
            run_split,
            dataclasses.replace(config, seed=int(seed)),
            pretrained=pretrained,
            progress=progress,
            model_factory=model_factory,
            part=part,
        )
        results.append(result)
        row = result.summary()
        row["split"] = method
        row["split_sha256"] = run_split.sha256() if hasattr(run_split, "sha256") else None
        rows.append(row)
    table = pd.DataFrame(rows)
    return (table, results) if return_results else table


def summarize(results, by=None, columns=("test", "test_last", "val"), digits: int = 3,
              ) -> pd.DataFrame:  # fmt: skip
    """Mean ± standard deviation over seeds (sample std, ddof=1), optionally per group.

    ``results`` is a :func:`run_seeds` table or a list of :class:`FinetuneResult`. Returns one
    row per group with ``n``, ``<col>_mean``, ``<col>_std`` and a text column ``<col>``
    (``"0.712 ± 0.013"``). Taught in ``notebooks/11_property_prediction``.
    """
    if not isinstance(results, pd.DataFrame):
        results = pd.DataFrame([r.summary() for r in results])
    groups = results.groupby(by, sort=False) if by else [((), results)]
    rows = []
    for key, frame in groups:
        row = dict(zip([by] if isinstance(by, str) else list(by or []), np.atleast_1d(key)))
        row["n"] = len(frame)
        for col in columns:
            mean, std = frame[col].mean(), frame[col].std(ddof=1)
            row[f"{col}_mean"], row[f"{col}_std"] = mean, std
            text = f"{mean:.{digits}f}"
            row[col] = f"{text} ± {std:.{digits}f}" if len(frame) > 1 else text
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["run_seeds", "summarize"]
