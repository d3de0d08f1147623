"""Run lesson notebooks with papermill at one profile and write the run's ``SUMMARY.md``.

Each notebook runs in its own kernel (named ``python3``), in its own folder, with the
``profile`` parameter injected and ``$CPMKIT_OUTPUT_DIR`` pointing at the run folder, where
:func:`cpmkit.report.save_results` and :func:`cpmkit.plotting.save_figure` put their files.
A failing notebook is recorded with its error and the others still run.

Used by ``cpmkit run`` and ``make lessons``; taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cpmkit.profiles import PROFILES
from cpmkit.report import OUTPUT_ENV, RECORDS_NAME, notebook_name, write_summary

KERNEL_NAME = "python3"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


@dataclass
class RunRecord:
    """What happened to one notebook: ``status`` is ``"ok"`` or ``"failed"``.

    ``error`` is ``"Name: message (In [n])"`` for a failed cell; ``output_path`` the executed
    copy (kept for a failed notebook too, with the error in place), ``None`` if none was written.
    """

    notebook: str
    status: str
    runtime_s: float
    error: str | None
    output_path: str | None


def project_root(start: Path | None = None) -> Path:
    """The checkout that holds ``notebooks/`` and ``pyproject.toml`` (walking up), else cwd."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


def default_run_dir(profile: str) -> Path:
    """``reproductions/runs/<profile>/`` in the project: where ``cpmkit run`` writes."""
    return project_root() / "reproductions" / "runs" / profile


def find_notebooks(names: Sequence[str | os.PathLike] | None = None) -> list[Path]:
    """Resolve notebook arguments: paths, ``"00_quickstart"`` or a prefix such as ``"00"``.

    Without names, every ``notebooks/NN_*.ipynb`` of the project, in order.
    """
    folder = project_root() / "notebooks"
    if not names:
        found = sorted(folder.glob(NOTEBOOK_GLOB))
        if not found:
            raise FileNotFoundError(f"no notebooks matching {NOTEBOOK_GLOB} in {folder}")
        return found
    paths = []
    for name in names:
        path = Path(name)
        if path.is_file():
            paths.append(path.resolve())
            continue
        stem = notebook_name(name)
        candidates = sorted(folder.glob(f"{stem}.ipynb")) or sorted(folder.glob(f"{stem}*.ipynb"))
        if len(candidates) != 1:
            what = "no notebook" if not candidates else f"{len(candidates)} notebooks"
            available = ", ".join(p.stem for p in sorted(folder.glob(NOTEBOOK_GLOB))) or "none"
            raise FileNotFoundError(f"{what} match {str(name)!r}; available: {available}")
        paths.append(candidates[0])
    return paths


def check_kernel(name: str = KERNEL_NAME) -> None:
    """Fail early, with the fix, when no Jupyter kernel called ``name`` is installed."""
    from jupyter_client.kernelspec import find_kernel_specs

    if name not in find_kernel_specs():
        raise RuntimeError(
            f"no Jupyter kernel named {name!r} in this environment; papermill needs it. "
            f"Register it with: {sys.executable} -m ipykernel install --sys-prefix --name {name}"
        )


def check_parameters(notebooks: Sequence[Path], parameters: Mapping[str, Any]) -> None:
    """Refuse a parameter that a notebook's ``parameters`` cell does not declare.

    papermill would only print a warning and inject a variable nobody reads, so an
    ``-p num_epoch 3`` typo would silently run the full-size lesson.
    """
    from papermill import inspect_notebook

    problems = []
    for path in notebooks:
        declared = inspect_notebook(str(path))
        unknown = [key for key in parameters if key != "profile" and key not in declared]
        if unknown:
            problems.append(
                f"{path.name}: unknown parameter(s) {', '.join(unknown)}; its parameters cell "
                f"declares: {', '.join(declared) or 'nothing (no cell tagged parameters)'}"
            )
    if problems:
        raise ValueError("; ".join(problems))


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the kernels started inside the block, then restore."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _kernel_env(out_dir: Path, profile: str) -> dict[str, str]:
    env = {OUTPUT_ENV: str(out_dir), "CPMKIT_PROFILE": profile}
    # the kernel must import this same cpmkit, even from a checkout that was not pip-installed
    source = Path(__file__).resolve().parent.parent
    if (source / "pyproject.toml").is_file():
        parts = [str(source), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    return env


def _error_text(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue} (In [{exc.exec_count}])"
    return f"{type(exc).__name__}: {exc}"


def run_notebooks(
    paths: Sequence[str | os.PathLike] | None = None,
    profile: str = "teach",
    out_dir: str | os.PathLike | None = None,
    parameters: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    progress: bool = True,
) -> list[RunRecord]:
    """Execute notebooks with papermill and summarise the run.

    Parameters
    ----------
    paths
        Notebooks to run (paths or names, see :func:`find_notebooks`); default all
        ``notebooks/NN_*.ipynb``.
    profile
        ``"ci"``, ``"teach"`` or ``"paper"``, injected as the ``profile`` parameter.
    out_dir
        Where executed notebooks (named like the source), results and figures go; default
        ``reproductions/runs/<profile>/`` in the project.
    parameters
        Further parameters to inject (override settings, e.g. ``{"num_epochs": 3}``).
    timeout
        Seconds allowed per cell (``None``: no limit).
    progress
        Show papermill's per-cell progress bar and one status line per notebook.

    Returns
    -------
    list[RunRecord]
        One record per notebook, in order; ``out_dir/SUMMARY.md`` and ``out_dir/runs.json``
        are written even if some (or all) notebooks failed.

    Taught in ``notebooks/00_quickstart``.
    """
    import papermill

    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    notebooks = find_notebooks(paths)
    check_kernel()
    check_parameters(notebooks, parameters or {})
    out = (Path(out_dir) if out_dir is not None else default_run_dir(profile)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    injected = {"profile": profile, **(parameters or {})}

    records: list[RunRecord] = []
    try:
        with _environment(_kernel_env(out, profile)):
            for i, source in enumerate(notebooks, 1):
                target = out / source.name
                name = notebook_name(source)
                if progress:
                    print(f"[{i}/{len(notebooks)}] {name} ({profile})", flush=True)
                _clear_previous(out, name, target)
                started = time.perf_counter()
                try:
                    papermill.execute_notebook(
                        str(source),
                        str(target),
                        parameters=injected,
                        kernel_name=KERNEL_NAME,
                        cwd=str(source.parent),
                        progress_bar=progress,
                        execution_timeout=timeout,
                    )
                    status, error = "ok", None
                except Exception as exc:  # one broken lesson must not stop the others
                    status, error = "failed", _error_text(exc)
                runtime = round(time.perf_counter() - started, 2)
                records.append(
                    RunRecord(
                        notebook=name,
                        status=status,
                        runtime_s=runtime,
                        error=error,
                        output_path=str(target) if target.exists() else None,
                    )
                )
                if progress:
                    tail = "ok" if error is None else f"FAILED: {error.splitlines()[0]}"
                    print(f"    {tail} ({runtime:.1f} s)", flush=True)
    finally:  # also after Ctrl-C: summarise what finished
        all_records = _merge_records(out, records)
        (out / RECORDS_NAME).write_text(
            json.dumps(
                {"profile": profile, "parameters": injected, "records": all_records},
                indent=2,
                default=str,
            )
            + "\n",
            encoding="utf-8",
        )
        write_summary(out, all_records)
    return records


def _clear_previous(out: Path, name: str, target: Path) -> None:
    """Remove a previous run's files of this notebook, so none is mistaken for this run's."""
    stale = [target, out / f"{name}.results.json", out / f"{name}.results.csv"]
    stale += out.glob(f"{glob.escape(name)}.*.png")
    for path in stale:
        path.unlink(missing_ok=True)


def _merge_records(out: Path, records: list[RunRecord]) -> list[dict[str, Any]]:
    """This run's records plus earlier ones in the same folder for notebooks not rerun."""
    merged: dict[str, dict[str, Any]] = {}
    path = out / RECORDS_NAME
    if path.is_file():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8")).get("records", [])
        except ValueError:
            earlier = []
        merged.update({r["notebook"]: r for r in earlier if "notebook" in r})
    for record in records:  # paths relative to the run folder, which may move (or be committed)
        entry = asdict(record)
        if entry["output_path"]:
            entry["output_path"] = Path(entry["output_path"]).name
        merged[record.notebook] = entry
    return [merged[name] for name in sorted(merged)]


__all__ = [
    "RunRecord",
    "check_kernel",
    "check_parameters",
    "default_run_dir",
    "find_notebooks",
    "project_root",
    "run_notebooks",
]
