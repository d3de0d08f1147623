"""Results as data: each lesson saves its table with its resolved config; ``report`` gathers them.

A notebook ends with :func:`save_results`, which writes ``<notebook>.results.json`` (notebook,
profile, resolved config, headline metrics, the table, runtime, package versions) and
``<notebook>.results.csv`` into :func:`output_dir`. :func:`write_summary` later turns a run
folder into ``SUMMARY.md`` without parsing any notebook output. Published numbers enter through
:func:`published_vs_ours` from a cited data file, never typed into a cell.

Taught in ``notebooks/00_quickstart`` (saving results) and ``notebooks/11_property_prediction``
(published vs ours).
"""

from __future__ import annotations

import dataclasses
import glob
import json
import math
import os
import platform
import time
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

OUTPUT_ENV = "CPMKIT_OUTPUT_DIR"
RESULTS_SUFFIX = ".results.json"
SUMMARY_NAME = "SUMMARY.md"
RECORDS_NAME = "runs.json"  # written by cpmkit.run: status and runtime of each notebook

# packages whose versions decide a number; read from metadata, so nothing heavy is imported
_VERSIONED = (
    "cpmkit", "torch", "torch-geometric", "rdkit", "numpy", "pandas", "scikit-learn",
    "transformers", "papermill",
)
_IMPORTED_AT = time.time()  # fallback start time when the process start is unknown


def notebook_name(notebook: str | os.PathLike) -> str:
    """``"notebooks/01_descriptors.ipynb"`` or ``"01_descriptors"`` -> ``"01_descriptors"``."""
    name = Path(notebook).name
    return name[: -len(".ipynb")] if name.endswith(".ipynb") else name


def output_dir(notebook: str) -> Path:
    """The folder a notebook writes its results and figures to (created if missing).

    ``$CPMKIT_OUTPUT_DIR`` when set (``cpmkit run`` points it at its run folder, shared by all
    notebooks of the run), else ``runs/<notebook>/`` under the current working directory.

    Taught in ``notebooks/00_quickstart``.
    """
    env = os.environ.get(OUTPUT_ENV)
    path = Path(env) if env else Path.cwd() / "runs" / notebook_name(notebook)
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------------------------
# saving and loading one notebook's results
# --------------------------------------------------------------------------------------------
def package_versions() -> dict[str, str | None]:
    """Versions of Python and the packages that shape the numbers (``None``: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    if versions.get("cpmkit") is None:  # a source checkout that was never pip-installed
        from cpmkit import __version__

        versions["cpmkit"] = __version__
    return versions


def _process_runtime() -> float:
    """Seconds since this process (the notebook's kernel) started."""
    try:
        import psutil

        started = psutil.Process().create_time()
    except Exception:  # psutil missing or no permission: time since cpmkit.report was imported
        started = _IMPORTED_AT
    return max(0.0, time.time() - started)


def _config_dict(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if hasattr(config, "to_dict"):
        return dict(config.to_dict())
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if isinstance(config, Mapping):
        return dict(config)
    raise TypeError(f"config must be a Config, a dataclass or a dict, got {type(config).__name__}")


def _json_value(value: Any) -> Any:
    """Plain JSON types: numpy scalars -> Python numbers, NaN/inf -> None."""
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()  # numpy / torch scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    # pandas' own JSON writer handles numpy dtypes, NaN (-> null) and timestamps
    return json.loads(table.to_json(orient="records", double_precision=15))


def save_results(
    notebook: str,
    config: Any,
    table: pd.DataFrame,
    headline: Mapping[str, float | str],
    runtime_s: float | None = None,
) -> Path:
    """Save one notebook's results next to its figures; returns the JSON path.

    Parameters
    ----------
    notebook
        The notebook's name, e.g. ``"11_property_prediction"``.
    config
        The resolved :class:`cpmkit.profiles.Config` (or a dataclass / dict of settings).
    table
        The notebook's results table (one row per dataset, method, seed, ...).
    headline
        A few numbers (or short strings) for the run summary, e.g. ``{"bbbp ROC-AUC": 0.71}``.
    runtime_s
        Seconds the notebook took; by default the age of the kernel process.

    Writes ``<notebook>.results.json`` and ``<notebook>.results.csv`` in
    ``output_dir(notebook)``.

    Taught in ``notebooks/00_quickstart``.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    name = notebook_name(notebook)
    settings = _config_dict(config)
    profile = getattr(config, "profile", None) or settings.get("profile")
    if runtime_s is None:
        runtime_s, runtime_source = _process_runtime(), "kernel process age"
    else:
        runtime_source = "given"
    payload = {
        "notebook": name,
        "profile": profile,
        "config": _json_value(settings),
        "headline": _json_value(dict(headline)),
        "table": _table_records(table),
        "columns": [str(c) for c in table.columns],
        "runtime_s": round(float(runtime_s), 2),
        "runtime_source": runtime_source,
        "versions": package_versions(),
    }
    folder = output_dir(name)
    json_path = folder / f"{name}{RESULTS_SUFFIX}"
    _atomic_write(json_path, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    _atomic_write(folder / f"{name}.results.csv", table.to_csv(index=False))
    return json_path


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _read_results(path: Path) -> dict[str, Any]:
    result = json.loads(path.read_text(encoding="utf-8"))
    result["table"] = pd.DataFrame.from_records(
        result.get("table", []), columns=result.get("columns") or None
    )
    return result


def load_results(run_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Read every ``*.results.json`` in ``run_dir`` (a run folder or one results file).

    Returns ``{notebook: results}``, each ``results`` the saved JSON with ``"table"`` turned
    back into a DataFrame. Sorted by notebook name.

    Taught in ``notebooks/00_quickstart``.
    """
    path = Path(run_dir)
    if path.is_file():
        result = _read_results(path)
        return {result["notebook"]: result}
    if not path.is_dir():
        raise FileNotFoundError(f"no run folder at {path}")
    files = sorted(path.glob(f"*{RESULTS_SUFFIX}"))
    results = {}
    for file in files:
        result = _read_results(file)
        result["path"] = str(file)
        results[result.get("notebook") or file.name[: -len(RESULTS_SUFFIX)]] = result
    return dict(sorted(results.items()))


# --------------------------------------------------------------------------------------------
# published vs ours
# --------------------------------------------------------------------------------------------
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
    """Ours beside published: the average over data sets without and with pre-training, and the gain.

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
        One row per ``key``: ``ours <baseline>``, ``ours <treatment>``, ``ours gain``, the same
        three for the paper, ``same sign`` (whether both gains point the same way) and
        ``datasets`` (how many data sets our average covers).

    Taught in ``notebooks/11_property_prediction``.
    """
    per_set = runs.groupby([key, "pretraining", "dataset"], sort=False)[value].mean() * scale
    ours = per_set.groupby(level=[0, 1], sort=False).agg(["mean", "count"])
    if "dataset" in published.columns and (published["dataset"] == "Average").any():
        published = published[published["dataset"] == "Average"]
    paper = published.set_index([key, "pretraining"])["mean"]
    rows = []
    for name in dict.fromkeys(per_set.index.get_level_values(0)):
        row = {key: name}
        for side, table in (("ours", ours["mean"]), ("paper", paper)):
            before = table.get((name, baseline), math.nan)
            after = table.get((name, treatment), math.nan)
            row[f"{side} {baseline}"] = round(float(before), decimals)
            row[f"{side} {treatment}"] = round(float(after), decimals)
            row[f"{side} gain"] = round(float(after - before), decimals)
        gains = (row["ours gain"], row["paper gain"])
        row["same sign"] = (math.copysign(1, gains[0]) == math.copysign(1, gains[1])
                            if not any(math.isnan(g) for g in gains) else None)
        row["datasets"] = int(ours["count"].get((name, baseline), 0))
        rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(table: pd.DataFrame, float_digits: int = 3) -> str:
    """A GitHub-flavoured markdown table of ``table`` (no index); NaN/None print as blank.

    Written here rather than through ``DataFrame.to_markdown`` to avoid the ``tabulate``
    dependency. Taught in ``notebooks/11_property_prediction``.
    """

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if isinstance(value, float):
            return str(round(value, float_digits))
        return str(value).replace("|", "\\|").replace("\n", " ")

    header = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def save_table(notebook: str, name: str, table: pd.DataFrame) -> Path:
    """Save a derived table as ``<notebook>.<name>.csv`` and ``.md`` beside the results.

    Returns the markdown path. Taught in ``notebooks/11_property_prediction``.
    """
    nb = notebook_name(notebook)
    folder = output_dir(nb)
    _atomic_write(folder / f"{nb}.{name}.csv", table.to_csv(index=False))
    path = folder / f"{nb}.{name}.md"
    _atomic_write(path, markdown_table(table))
    return path


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
        (published, [*on, published_value] + ([published_std] if published_std else []),
         "published"),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise KeyError(
                f"{label} table lacks column(s) {missing}; it has {list(frame.columns)}"
            )
    grouped = ours.groupby(on, sort=False, dropna=False)[value]
    mine = pd.DataFrame({
        "ours_mean": grouped.mean() * scale,
        "ours_std": grouped.std(ddof=1) * scale,  # sample std over seeds, as papers report
        "n_runs": grouped.count(),
    }).reset_index()
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
    columns = [*on, "ours", "published", "delta", "ours_mean", "ours_std", "n_runs",
               "published_mean", "published_std", "source"]
    return table[columns]


def _per_set(runs: pd.DataFrame, keys: list[str], value: str, scale: float) -> pd.DataFrame:
    grouped = runs.groupby(keys, sort=False)[value]
    return pd.DataFrame({"mean": grouped.mean() * scale, "std": grouped.std(ddof=1) * scale,
                         "n": grouped.count()}).reset_index()


def strategy_table(
    runs: pd.DataFrame,
    published: pd.DataFrame,
    method: str = "pretraining",
    value: str = "test",
    scale: float = 100.0,
    decimals: int = 1,
) -> pd.DataFrame:
    """A paper's method x data set table (Hu et al. Table 1), our row above the paper's.

    ``runs`` holds one row per fine-tuning run with columns ``method``, ``"dataset"`` and
    ``value``; ``published`` the cited rows with the same ``method`` and ``dataset`` names and
    ``mean``/``std``. Cells read ``mean ± std`` (ours over seeds). ``Average`` is the mean over
    the data sets of this run on both sides (recomputed for the paper from its cells, so the two
    averages cover the same sets). Returns one row per (method, ``source``) with ``source`` in
    ``ours``/``paper``. Taught in ``notebooks/05_context_prediction``.
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
        row_ours["Average"] = format_mean_std(mine.loc[mine.index.isin(sets), "mean"].mean(),
                                              None, decimals)
        cells = [float(paper.loc[(name, d), "mean"]) for d in sets if (name, d) in paper.index]
        row_paper["Average"] = (format_mean_std(sum(cells) / len(cells), None, decimals)
                                if len(cells) == len(sets) else "n/a")
        rows += [row_ours, row_paper]
    return pd.DataFrame(rows).fillna("n/a")


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
    ``clear`` says whether our gain is more than two of them away from zero, so a sign that
    disagrees inside the noise reads as such. Taught in ``notebooks/05_context_prediction``.
    """
    ours = _per_set(runs, [method, "dataset"], value, scale).set_index([method, "dataset"])
    paper = published.set_index([method, "dataset"])["mean"].astype(float)
    rows = []
    for (name, dataset), m in ours.iterrows():
        if name == baseline or (baseline, dataset) not in ours.index:
            continue
        b = ours.loc[(baseline, dataset)]
        gain = m["mean"] - b["mean"]
        se = math.sqrt((m["std"] ** 2) / m["n"] + (b["std"] ** 2) / b["n"]) if min(
            m["n"], b["n"]) > 1 else float("nan")
        theirs = (paper.get((name, dataset), math.nan) - paper.get((baseline, dataset), math.nan))
        same = None if math.isnan(theirs) else (gain > 0) == (theirs > 0)
        rows.append({method: name, "dataset": dataset, "ours gain": round(gain, decimals),
                     "ours se": round(se, decimals), "paper gain": round(theirs, decimals),
                     "same sign": same, "clear": bool(abs(gain) > 2 * se) if se == se else None})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# the run summary
# --------------------------------------------------------------------------------------------
def _load_records(run_dir: Path) -> list[dict[str, Any]] | None:
    path = run_dir / RECORDS_NAME
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("records", []))


def _notebook_error(path: Path) -> str | None:
    """The first error output of an executed notebook, as ``"Name: message"``."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "executed notebook unreadable"
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error":
                return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
    return None


def _infer_records(run_dir: Path) -> list[dict[str, Any]]:
    """Records for a folder that ``cpmkit run`` did not write: from notebooks and results."""
    names = {p.name[: -len(RESULTS_SUFFIX)] for p in run_dir.glob(f"*{RESULTS_SUFFIX}")}
    names |= {p.stem for p in run_dir.glob("*.ipynb")}
    records = []
    for name in sorted(names):
        executed = run_dir / f"{name}.ipynb"
        error = _notebook_error(executed) if executed.is_file() else None
        records.append({
            "notebook": name,
            "status": "failed" if error else "ok",
            "runtime_s": None,
            "error": error,
            "output_path": str(executed) if executed.is_file() else None,
        })
    return records


def _as_dict(record: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.asdict(record)
    return dict(record)


def _cell(text: Any) -> str:
    """Text safe inside one markdown table cell."""
    return str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|").strip()


def _first_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    line = lines[0].strip() if lines else "unknown error"
    return line if len(line) <= 160 else line[:157] + "..."


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "n/a" if value is None else str(value)


def _link(path: Path, run_dir: Path, label: str) -> str:
    try:
        rel = path.resolve().relative_to(run_dir.resolve()).as_posix()
    except ValueError:
        rel = path.resolve().as_posix()
    return f"[{_cell(label)}]({rel.replace(' ', '%20')})"


def _figures(run_dir: Path, name: str) -> list[Path]:
    """PNGs that :func:`cpmkit.plotting.save_figure` wrote for this notebook."""
    return sorted(run_dir.glob(f"{glob.escape(name)}.*.png"))


def write_summary(
    run_dir: str | os.PathLike, records: Iterable[Any] | None = None
) -> Path:
    """Write ``run_dir/SUMMARY.md``: one table row per notebook; returns its path.

    Each row holds the status (``ok`` or ``failed: <first line of the error>``), runtime,
    headline metrics from ``<notebook>.results.json``, and links to the executed notebook and
    its figures. ``records`` (``RunRecord`` objects or dicts) default to the ``runs.json`` that
    ``cpmkit run`` wrote, else they are inferred from the files in ``run_dir``.

    Taught in ``notebooks/00_quickstart``.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder at {run_dir}")
    if records is None:
        records = _load_records(run_dir)
    rows = [_as_dict(r) for r in records] if records is not None else _infer_records(run_dir)
    results = load_results(run_dir)
    # notebooks that saved results but have no record (run by hand into the same folder)
    known = {notebook_name(r["notebook"]) for r in rows}
    rows += [
        {"notebook": name, "status": "ok", "runtime_s": None, "error": None, "output_path": None}
        for name in results if name not in known
    ]

    profiles = sorted({str(r["profile"]) for r in results.values() if r.get("profile")})
    n_failed = sum(1 for r in rows if r.get("status") != "ok")
    lines = [
        f"# Run summary: {run_dir.name}",
        "",
        f"{len(rows)} notebook(s): {len(rows) - n_failed} ok, {n_failed} failed"
        + (f"; profile {', '.join(profiles)}" if profiles else "")
        + ".",
        "",
        "| notebook | status | runtime | headline | figures |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        name = notebook_name(row["notebook"])
        result = results.get(name, {})
        status = "ok" if row.get("status") == "ok" else f"failed: {_first_line(row.get('error'))}"
        runtime = row.get("runtime_s")
        if runtime is None:
            runtime = result.get("runtime_s")
        runtime_text = f"{float(runtime):.1f} s" if runtime is not None else "n/a"
        headline = "; ".join(
            f"{k}: {_format_value(v)}" for k, v in (result.get("headline") or {}).items()
        )
        if not headline:
            headline = "(no results saved)" if status == "ok" else ""
        executed = Path(row["output_path"]) if row.get("output_path") else None
        if executed is not None and not executed.is_absolute():
            executed = run_dir / executed
        title = _link(executed, run_dir, name) if executed and executed.exists() else name
        figures = ", ".join(
            _link(png, run_dir, png.name[len(name) + 1: -len(".png")])
            for png in _figures(run_dir, name)
        )
        lines.append(
            f"| {title} | {_cell(status)} | {runtime_text} | {_cell(headline)} | {figures} |"
        )
    path = run_dir / SUMMARY_NAME
    _atomic_write(path, "\n".join(lines) + "\n")
    return path


__all__ = [
    "format_mean_std",
    "gain_signs",
    "strategy_table",
    "load_results",
    "notebook_name",
    "output_dir",
    "package_versions",
    "published_vs_ours",
    "save_results",
    "write_summary",
]
