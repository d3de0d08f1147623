"""Fine-tune from several starting points on several data sets: the transfer comparison.

Pre-training is judged by what it does downstream: the same architecture, split and seeds,
started from random weights (``None``) or from each pre-trained encoder. One row per run, ready
for :func:`cpmkit.report.strategy_table` (Hu et al. Table 1) and
:func:`cpmkit.report.gain_signs`. Taught in ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

import pandas as pd
from tqdm.auto import tqdm

from cpmkit.data.registry import display_name
from cpmkit.data.splits import scaffold_split
from cpmkit.tasks.finetune import FinetuneConfig
from cpmkit.tasks.seeds import run_seeds


def transfer_runs(
    datasets: dict,
    starts: dict,
    config: FinetuneConfig,
    seeds,
    splits: dict | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Fine-tune ``config``'s model from every start on every data set, once per seed.

    Parameters
    ----------
    datasets
        Registry name -> dataset (e.g. ``MoleculeDataset("bbbp")``).
    starts
        Label -> what ``finetune(pretrained=...)`` takes: ``None`` (from scratch), a path to an
        encoder state_dict, or a published weight name.
    splits
        Registry name -> ``Split``; default Hu et al.'s scaffold split of each data set, the
        same for every start and seed.

    Returns
    -------
    DataFrame
        ``pretraining, dataset`` (the printed name, ``BBBP``), ``name`` (registry name) and
        the columns of :func:`~cpmkit.tasks.finetune.run_seeds`.

    Taught in ``notebooks/05_context_prediction``.
    """
    splits = dict(splits or {})
    tables = []
    jobs = [(name, label) for name in datasets for label in starts]
    for name, label in tqdm(jobs, desc="fine-tuning", disable=not progress):
        data = datasets[name]
        if name not in splits:
            splits[name] = scaffold_split(data.smiles)
        table = run_seeds(
            data, config, seeds, split=splits[name], pretrained=starts[label], progress=False
        )
        table.insert(0, "pretraining", label)
        table.insert(1, "dataset", display_name(name) if _registered(name) else name)
        table.insert(2, "name", name)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _registered(name: str) -> bool:
    from cpmkit.data.registry import list_datasets

    return any(info.name == name for info in list_datasets())


__all__ = ["transfer_runs"]
