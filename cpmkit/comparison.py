"""Published vs ours: our numbers (mean ± std over seeds) beside a paper's, and the gains.

Published numbers enter from a cited data file (``reproductions/published/*.csv``), never typed
into a cell. :func:`published_vs_ours` joins row by row; :func:`strategy_table` lays out a
method x data set table (Hu et al. Table 1) with our row above the paper's;
:func:`gain_signs` and :func:`gain_table` put our gain from pre-training beside the paper's.

Taught in ``notebooks/11_property_prediction`` and ``notebooks/05_context_prediction``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd


def format_mean_std(mean: float | None, std: float | None = None, decimals: int = 3) -> str:
    """``0.71234, 0.0123`` -> ``"0.712 ± 0.012"``; without a std just the mean; NaN -> ``"n/a"``.

    Taught in ``notebooks/11_property_prediction``.
    """
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    text = f"{float(mean):.{decimals}f}"
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        text += f" ± {float(std):.{decimals}f}"
    return text


def published_vs_ours(
    ours: pd.DataFrame,
    published: pd.DataFrame,
    on: Sequence[str],
    value: str = "test",
    published_value: str = "value",
    published_std: str | None = None,
    source: str = "source",
    scale: float = 1.0,
    decimals: int = 3,
    how: str = "left",
) -> pd.DataFrame:
    """Put our numbers (mean ± std over seeds) beside published ones, row by row.

    Parameters
    ----------
    ours
        One row per run (e.g. per seed) with the key columns ``on`` and a ``value`` column.
    published
        Rows from a cited data file with the key columns, ``published_value``, optionally
        ``published_std``, and a ``source`` column (paper, table, URL).
    on
        Key columns shared by both tables, e.g. ``["dataset", "method"]``.
    scale
        Multiplies our numbers before comparing (``100`` when a paper reports percent).
    how
        Join kind: ``"left"`` keeps all of ours, ``"outer"`` also unmatched published rows.

    Returns
    -------
    DataFrame
        Columns: ``*on, ours, published, delta, ours_mean, ours_std, n_runs,
        published_mean, published_std, source``; ``ours`` and ``published`` are formatted
        strings, ``delta = ours_mean - published_mean``.

    Taught in ``notebooks/11_property_prediction``.
    """
    on = [on] if isinstance(on, str) else list(on)
    for frame, cols, label in (
        (ours, [*on, value], "ours"),
        (
            published,
            [*on, published_value] + ([published_std] if published_std else []),
            "published",
        ),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise KeyError(
                f"{label} table lacks column(s) {missing}; it has {list(frame.columns)}"
            )
    grouped = ours.groupby(on, sort=False, dropna=False)[value]
    mine = pd.DataFrame(
        {
            "ours_mean": grouped.mean() * scale,
            "ours_std": grouped.std(ddof=1) * scale,  # sample std over seeds, as papers report
            "n_runs": grouped.count(),
        }
    ).reset_index()
    theirs = published[on].copy()
    theirs["published_mean"] = pd.to_numeric(published[published_value], errors="coerce")
    theirs["published_std"] = (
        pd.to_numeric(published[published_std], errors="coerce") if published_std else float("nan")
    )
    theirs["source"] = published[source] if source in published.columns else None
    table = mine.merge(theirs, on=on, how=how)
    table["ours"] = [
        format_mean_std(m, s, decimals) for m, s in zip(table["ours_mean"], table["ours_std"])
    ]
    table["published"] = [
        format_mean_std(m, s, decimals)
        for m, s in zip(table["published_mean"], table["published_std"])
    ]
    table["delta"] = (table["ours_mean"] - table["published_mean"]).round(decimals)
    columns = [
        *on,
        "ours",
        "published",
        "delta",
        "ours_mean",
        "ours_std",
        "n_runs",
        "published_mean",
        "published_std",
        "source",
    ]
    return table[columns]


def _per_set(runs: pd.DataFrame, keys: list[str], value: str, scale: float) -> pd.DataFrame:
    grouped = runs.groupby(keys, sort=False)[value]
    return pd.DataFrame(
        {"mean": grouped.mean() * scale, "std": grouped.std(ddof=1) * scale, "n": grouped.count()}
    ).reset_index()


def strategy_table(
    runs: pd.DataFrame,
    published: pd.DataFrame,
    method: str = "pretraining",
    value: str = "test",
    scale: float = 100.0,
    decimals: int = 1,
    notes: dict[str, str] | None = None,
) -> pd.DataFrame:
    """A paper's method x data set table (Hu et al. Table 1), our row above the paper's.

    ``runs`` holds one row per fine-tuning run with columns ``method``, ``"dataset"`` and
    ``value``; ``published`` the cited rows with the same ``method`` and ``dataset`` names and
    ``mean``/``std``. Cells read ``mean ± std`` (ours over seeds). ``Average`` is the mean over
    the data sets of this run on both sides (recomputed for the paper from its cells, so the two
    averages cover the same sets). Returns one row per (method, ``source``) with ``source`` in
    ``ours``/``paper``. ``notes`` (method -> text) fills a ``note`` column on our rows, e.g.
    that a supervised pre-training corpus holds a downstream set's training labels; the column
    is there only when ``notes`` is given. Taught in ``notebooks/05_context_prediction``.
    """
    ours = _per_set(runs, [method, "dataset"], value, scale)
    sets = list(dict.fromkeys(ours["dataset"]))
    paper = published[published["dataset"].isin(sets)].set_index([method, "dataset"])
    rows = []
    for name in dict.fromkeys(ours[method]):
        mine = ours[ours[method] == name].set_index("dataset")
        row_ours, row_paper = {method: name, "source": "ours"}, {method: name, "source": "paper"}
        for dataset in sets:
            if dataset in mine.index:
                m = mine.loc[dataset]
                row_ours[dataset] = format_mean_std(m["mean"], m["std"], decimals)
            key = (name, dataset)
            if key in paper.index:
                p = paper.loc[key]
                std = pd.to_numeric(p.get("std"), errors="coerce")
                row_paper[dataset] = format_mean_std(float(p["mean"]), std, decimals)
        row_ours["Average"] = format_mean_std(
            mine.loc[mine.index.isin(sets), "mean"].mean(), None, decimals
        )
        cells = [float(paper.loc[(name, d), "mean"]) for d in sets if (name, d) in paper.index]
        row_paper["Average"] = (
            format_mean_std(sum(cells) / len(cells), None, decimals)
            if len(cells) == len(sets)
            else "n/a"
        )
        if notes is not None:
            row_ours["note"], row_paper["note"] = notes.get(name, ""), ""
        rows += [row_ours, row_paper]
    return pd.DataFrame(rows).fillna("n/a")


#: what ``same sign`` says when our gain is within two standard errors of zero (or has no error
#: estimate, one seed), or the paper's gain is exactly zero: no sign to compare
UNCLEAR = "unclear"


def sign_agreement(ours_gain: float, ours_se: float, paper_gain: float):
    """``True``/``False`` when both gains have a clear sign and they agree or not; ``"unclear"``
    when |our gain| <= 2 standard errors (or there is no standard error, i.e. one seed) or the
    paper's gain is 0.0; ``None`` when the paper has no number. Taught in
    ``notebooks/05_context_prediction``.
    """
    if paper_gain is None or math.isnan(paper_gain):
        return None
    if math.isnan(ours_se) or not abs(ours_gain) > 2 * ours_se or paper_gain == 0:
        return UNCLEAR
    return bool((ours_gain > 0) == (paper_gain > 0))


def gain_signs(
    runs: pd.DataFrame,
    published: pd.DataFrame,
    method: str = "pretraining",
    baseline: str = "none",
    value: str = "test",
    scale: float = 100.0,
    decimals: int = 1,
) -> pd.DataFrame:
    """Per method and data set: our gain over ``baseline`` beside the paper's, and whether the
    signs agree.

    ``ours se`` is the standard error of our gain (sample std over seeds of each side);
    ``clear`` says whether our gain is more than two of them away from zero (``None`` with one
    seed); ``same sign`` (:func:`sign_agreement`) is ``True``/``False`` only for a clear gain
    beside a non-zero paper gain, ``"unclear"`` otherwise (``None``: no paper number). Taught
    in ``notebooks/05_context_prediction``.
    """
    ours = _per_set(runs, [method, "dataset"], value, scale).set_index([method, "dataset"])
    paper = published.set_index([method, "dataset"])["mean"].astype(float)
    rows = []
    for (name, dataset), m in ours.iterrows():
        if name == baseline or (baseline, dataset) not in ours.index:
            continue
        b = ours.loc[(baseline, dataset)]
        gain = m["mean"] - b["mean"]
        se = (
            math.sqrt((m["std"] ** 2) / m["n"] + (b["std"] ** 2) / b["n"])
            if min(m["n"], b["n"]) > 1
            else float("nan")
        )
        theirs = paper.get((name, dataset), math.nan) - paper.get((baseline, dataset), math.nan)
        same = sign_agreement(gain, se, theirs)
        rows.append(
            {
                method: name,
                "dataset": dataset,
                "ours gain": round(gain, decimals),
                "ours se": round(se, decimals),
                "paper gain": round(theirs, decimals),
                "same sign": same,
                "clear": None if math.isnan(se) else bool(abs(gain) > 2 * se),
            }
        )
    return pd.DataFrame(rows)


def gain_table(
    runs: pd.DataFrame,
    published: pd.DataFrame,
    key: str,
    baseline: str = "none",
    treatment: str = "supervised_contextpred",
    value: str = "test",
    scale: float = 100.0,
    decimals: int = 1,
) -> pd.DataFrame:
    """Ours beside published: the average over data sets without and with pre-training, and
    the gain.

    Parameters
    ----------
    runs
        One row per run with columns ``key`` (e.g. ``"architecture"``), ``"pretraining"``,
        ``"dataset"`` and ``value``. Each data set's mean over seeds counts once in the average,
        as in a paper's "Average" column.
    published
        Rows with ``key``, ``"pretraining"``, ``"mean"`` and ``"source"`` (``dataset`` =
        ``"Average"`` rows are used when present), e.g. ``reproductions/published/hu2020.csv``.
    baseline, treatment
        The two ``pretraining`` values compared.

    Returns
    -------
    DataFrame
        One row per ``key``: ``ours <baseline>``, ``ours <treatment>``, ``ours gain``, ``ours
        se`` (the standard error of our average gain: per data set the seeds' variance of the
        mean, averaged over the data sets), the same three for the paper, ``same sign``
        (:func:`sign_agreement`: ``True``/``False`` only when our gain exceeds two standard
        errors and the paper's is not zero, else ``"unclear"``) and ``datasets`` (how many data
        sets our average covers).

    Taught in ``notebooks/11_property_prediction``.
    """
    per_set = _per_set(runs, [key, "pretraining", "dataset"], value, scale)
    ours = per_set.groupby([key, "pretraining"], sort=False)["mean"].agg(["mean", "count"])
    # variance of an average over data sets of per-set means over seeds (NaN with one seed)
    per_set["var"] = per_set["std"] ** 2 / per_set["n"]
    var = per_set.groupby([key, "pretraining"], sort=False)["var"].agg(
        lambda v: v.sum(min_count=len(v)) / len(v) ** 2
    )
    if "dataset" in published.columns and (published["dataset"] == "Average").any():
        published = published[published["dataset"] == "Average"]
    paper = published.set_index([key, "pretraining"])["mean"]
    rows = []
    for name in dict.fromkeys(per_set[key]):
        row = {key: name}
        for side, table in (("ours", ours["mean"]), ("paper", paper)):
            before = table.get((name, baseline), math.nan)
            after = table.get((name, treatment), math.nan)
            row[f"{side} {baseline}"] = round(float(before), decimals)
            row[f"{side} {treatment}"] = round(float(after), decimals)
            row[f"{side} gain"] = round(float(after - before), decimals)
            if side == "ours":
                se = math.sqrt(
                    var.get((name, baseline), math.nan) + var.get((name, treatment), math.nan)
                )
                row["ours se"] = round(se, decimals)
                gain = float(after - before)
        row["same sign"] = sign_agreement(gain, se, row["paper gain"])
        row["datasets"] = int(ours["count"].get((name, baseline), 0))
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "UNCLEAR",
    "format_mean_std",
    "gain_signs",
    "gain_table",
    "published_vs_ours",
    "sign_agreement",
    "strategy_table",
]
