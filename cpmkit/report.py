"""The run summary: ``SUMMARY.md`` of a run folder, built from the results lessons saved.

Lessons write their results as data (:mod:`cpmkit.results`); :func:`write_summary` turns a run
folder into one markdown table (status, runtime, headline, figures) without parsing any
notebook output. Published-vs-ours tables live in :mod:`cpmkit.comparison`. Both modules' names
are re-exported here, so ``from cpmkit.report import save_results`` keeps working.

Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cpmkit.atomic import atomic_write_text
from cpmkit.comparison import (
    UNCLEAR,
    format_mean_std,
    gain_signs,
    gain_table,
    published_vs_ours,
    sign_agreement,
    strategy_table,
)
from cpmkit.results import (
    OUTPUT_ENV,
    RESULTS_SUFFIX,
    compute_facts,
    load_results,
    markdown_table,
    notebook_name,
    output_dir,
    package_versions,
    save_results,
    save_table,
)

SUMMARY_NAME = "SUMMARY.md"
RECORDS_NAME = "runs.json"  # written by cpmkit.run: status and runtime of each notebook


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
        records.append(
            {
                "notebook": name,
                "status": "failed" if error else "ok",
                "runtime_s": None,
                "error": error,
                "output_path": str(executed) if executed.is_file() else None,
            }
        )
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


def write_summary(run_dir: str | os.PathLike, records: Iterable[Any] | None = None) -> Path:
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
        for name in results
        if name not in known
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
            _link(png, run_dir, png.name[len(name) + 1 : -len(".png")])
            for png in _figures(run_dir, name)
        )
        lines.append(
            f"| {title} | {_cell(status)} | {runtime_text} | {_cell(headline)} | {figures} |"
        )
    path = run_dir / SUMMARY_NAME
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


__all__ = [
    "OUTPUT_ENV",
    "RECORDS_NAME",
    "RESULTS_SUFFIX",
    "SUMMARY_NAME",
    "UNCLEAR",
    "compute_facts",
    "format_mean_std",
    "gain_signs",
    "gain_table",
    "load_results",
    "markdown_table",
    "notebook_name",
    "output_dir",
    "package_versions",
    "published_vs_ours",
    "save_results",
    "save_table",
    "sign_agreement",
    "strategy_table",
    "write_summary",
]
