"""A lesson's results as data: its table and headline saved with the resolved config.

A notebook ends with :func:`save_results`, which writes ``<notebook>.results.json`` (notebook,
profile, resolved config, headline metrics, the table, runtime, package versions) and
``<notebook>.results.csv`` into :func:`output_dir`; :func:`save_table` puts a derived table
beside it as CSV and markdown. :func:`load_results` reads them back, so the run summary
(:mod:`cpmkit.report`) never parses a notebook's output. Every file is written atomically.

Taught in ``notebooks/00_quickstart`` (saving results) and ``notebooks/11_property_prediction``
(derived tables).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import re
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from cpmkit.atomic import atomic_write_text

OUTPUT_ENV = "CPMKIT_OUTPUT_DIR"
RESULTS_SUFFIX = ".results.json"

# packages whose versions decide a number; read from metadata, so nothing heavy is imported
_VERSIONED = (
    "cpmkit",
    "torch",
    "torch-geometric",
    "rdkit",
    "numpy",
    "pandas",
    "scikit-learn",
    "transformers",
    "papermill",
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


def compute_facts() -> dict[str, int | str | None]:
    """What decides the last bits of a float result on this machine, beside the versions.

    ``torch_num_threads`` (``torch.get_num_threads()``: a reduction split over another number of
    threads sums in another order) and ``cpu_capability``
    (``torch.backends.cpu.get_cpu_capability()``, e.g. ``AVX2`` or ``AVX512``: which vector
    kernels run), plus the machine type. Same versions and same facts: the same seed gives the
    same numbers, bit for bit; otherwise the floats differ in their last digits, and after
    many training steps by more (see the README). Taught in ``notebooks/00_quickstart``.
    """
    import torch

    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # an older torch
        capability = None
    return {
        "torch_num_threads": int(torch.get_num_threads()),
        "cpu_capability": capability,
        "machine": platform.machine(),
    }


def _process_runtime() -> float:
    """Seconds since this process (the notebook's kernel) started."""
    try:
        import psutil

        started = psutil.Process().create_time()
    except Exception:  # psutil missing or no permission: time since cpmkit.results was imported
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
    ``output_dir(notebook)``. The JSON records the package versions and :func:`compute_facts`
    (torch's thread count and CPU capability), which decide whether a re-run gives the same
    numbers bit for bit.

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
        "compute": compute_facts(),
    }
    folder = output_dir(name)
    json_path = folder / f"{name}{RESULTS_SUFFIX}"
    atomic_write_text(json_path, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    atomic_write_text(folder / f"{name}.results.csv", table.to_csv(index=False))
    return json_path


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
        # SMILES are full of markdown: "[C@](C)" would render as a link, a backslash vanish
        text = re.sub(r"([\\`*\[\]<])", r"\\\1", str(value))
        return text.replace("|", "\\|").replace("\n", " ")

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
    atomic_write_text(folder / f"{nb}.{name}.csv", table.to_csv(index=False))
    path = folder / f"{nb}.{name}.md"
    atomic_write_text(path, markdown_table(table))
    return path


__all__ = [
    "OUTPUT_ENV",
    "RESULTS_SUFFIX",
    "compute_facts",
    "load_results",
    "markdown_table",
    "notebook_name",
    "output_dir",
    "package_versions",
    "save_results",
    "save_table",
]
