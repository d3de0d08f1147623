"""The course site: the executed lessons as a static website, built offline, never re-executed.

Everything on the site is generated from files in the repository, so adding a lesson's executed
copy is all it takes to put the lesson on the site:

- ``notebooks/NN_*.ipynb`` give the course path: the order, each lesson's title and "Contents in
  Practice" bullets (:func:`cpmkit.lessons.lesson_header`) and the earlier lessons it builds on;
- ``reproductions/runs/teach/`` holds the executed copies (``make lessons``) and ``runs.json``,
  whose measured runtimes become the teach time of each lesson;
- ``reproductions/*.yml`` and ``reproductions/<name>/<scale>/*.md`` give one page per
  reproduction with its generated published-vs-ours tables;
- ``docs/`` holds the book's configuration and the hand-written pages (home page text, running
  the kit).

:func:`write_sources` turns these into a Jupyter Book 1 source tree under
``build/site/src`` (files rewritten only when their content changes, so Sphinx rebuilds only what
changed) and :func:`build_site` runs ``jupyter-book build`` on it into ``build/site/_build/html``.
Jupyter Book 1 (Sphinx, MyST-NB, sphinx-book-theme) is used because it builds from installed
packages alone; Jupyter Book 2 fetches its site template from a web service at build time.

A lesson whose teach copy is missing is listed on the home page as "not yet executed"; a copy
whose cells differ from its notebook source (a content hash of the cells, papermill's injected
parameters left out) is flagged as stale, as is one run with other settings than the lesson's
plain ``teach`` profile. Each case prints a ``warning:`` line during the build and is shown on the
page. Used by ``cpmkit site`` and ``make site``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from cpmkit.lessons import lesson_header
from cpmkit.report import RECORDS_NAME
from cpmkit.results import markdown_table
from cpmkit.run import NOTEBOOK_GLOB, project_root

TEACH_DIR = Path("reproductions") / "runs" / "teach"
SITE_DIR = Path("build") / "site"
DOCS_DIR = Path("docs")
COURSE_MARKER = "<!-- course-path -->"
ENTRY_LESSON = "00"  # the quickstart: every later lesson reuses its steps
# MathJax 2 as the notebook server ships it (pip package jupyter-server-mathjax), so formulas
# render on a machine without network, opened from file:// as well
MATHJAX_DIR = "_mathjax"
MATHJAX_SPHINX = {
    "html_static_path": [MATHJAX_DIR],
    "mathjax_path": "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full",
    "myst_update_mathjax": False,
    "mathjax2_config": {
        "tex2jax": {
            "inlineMath": [["\\(", "\\)"]],
            "displayMath": [["\\[", "\\]"]],
            "processEscapes": False,
            "processEnvironments": True,
        },
        "HTML-CSS": {
            "availableFonts": [],
            "imageFont": None,
            "preferredFont": None,
            "webFont": "STIX-Web",
        },
        "messageStyle": "none",
    },
}


@dataclass
class LessonInfo:
    """One lesson of the course path and the state of its executed teach copy."""

    number: str
    stem: str
    title: str
    practice: list[str]
    prerequisites: list[str]
    source: Path
    copy: Path | None = None
    runtime_s: float | None = None
    status: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def executed(self) -> bool:
        return self.copy is not None


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def cells_fingerprint(notebook: dict) -> str:
    """A hash of a notebook's cells (type and source), papermill's injected parameters left out.

    A clean source and its executed copy have the same fingerprint until the source changes.
    """
    cells = [
        (cell["cell_type"], _source_text(cell))
        for cell in notebook.get("cells", [])
        if "injected-parameters" not in cell.get("metadata", {}).get("tags", [])
    ]
    return hashlib.sha256(json.dumps(cells).encode("utf-8")).hexdigest()


def _read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _git_time(root: Path, path: Path) -> str | None:
    """The date of the last commit that touched ``path``, or None outside git."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%cd", "--date=format:%Y-%m-%d %H:%M", "--", str(path)],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


def prerequisites(path: Path, number: str) -> list[str]:
    """The earlier lessons a lesson builds on: those its text names ("lesson 03", "lessons 01
    and 05") with a lower number, and the quickstart for every lesson after it."""
    text = "\n".join(
        _source_text(c) for c in _read_notebook(path)["cells"] if c["cell_type"] == "markdown"
    )
    named = set()
    for group in re.findall(r"\b[Ll]essons? ((?:\d\d)(?:(?:, | and | or |-)\d\d)*)", text):
        named.update(re.findall(r"\d\d", group))
    if number != ENTRY_LESSON:
        named.add(ENTRY_LESSON)
    return sorted(n for n in named if n < number)


def _records(teach_dir: Path) -> dict[str, dict]:
    path = teach_dir / RECORDS_NAME
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8")).get("records", [])
    except ValueError:
        return {}
    return {r["notebook"]: r for r in records if "notebook" in r}


def collect_lessons(root: Path | None = None) -> list[LessonInfo]:
    """Every ``notebooks/NN_*.ipynb`` lesson, in order, with its teach copy checked."""
    root = Path(root or project_root())
    teach_dir = root / TEACH_DIR
    lessons = []
    for source in sorted((root / "notebooks").glob(NOTEBOOK_GLOB)):
        head = lesson_header(source)
        info = LessonInfo(
            number=head["number"],
            stem=source.stem,
            title=head["title"],
            practice=head["practice"],
            prerequisites=prerequisites(source, head["number"]),
            source=source,
        )
        copy = teach_dir / source.name
        if copy.is_file():
            info.copy = copy
            _check_copy(root, info)
        lessons.append(info)
    # only lessons of this kit can be prerequisites
    present = {lesson.number for lesson in lessons}
    for lesson in lessons:
        lesson.prerequisites = [n for n in lesson.prerequisites if n in present]
    return lessons


def _check_copy(root: Path, info: LessonInfo) -> None:
    executed = _read_notebook(info.copy)
    record = _records(info.copy.parent).get(info.stem, {})
    papermill = executed.get("metadata", {}).get("papermill", {})
    info.runtime_s = record.get("runtime_s", papermill.get("duration"))
    failed = papermill.get("exception") is True
    info.status = record.get("status", "failed" if failed else "ok")
    info.error = record.get("error")
    if info.status != "ok":
        info.warnings.append(f"the teach run failed: {info.error or 'see the page'}")
    parameters = papermill.get("parameters")
    if parameters is not None and parameters != {"profile": "teach"}:
        info.warnings.append(
            f"executed with parameters {parameters}, not the lesson's plain teach settings"
        )
    if cells_fingerprint(executed) != cells_fingerprint(_read_notebook(info.source)):
        when_source = _git_time(root, info.source.relative_to(root))
        when_copy = _git_time(root, info.copy.relative_to(root))
        dates = (
            f" (source last committed {when_source}, teach copy {when_copy}; uncommitted "
            "edits count too)"
            if when_source and when_copy
            else ""
        )
        info.warnings.append(
            f"stale teach copy: its cells differ from notebooks/{info.source.name}, which changed "
            f"after the copy was made{dates}; rerun it with `make lessons`"
        )


def format_runtime(seconds: float | None) -> str:
    """``18 s``, ``2.6 min``; an empty string for unknown."""
    if seconds is None:
        return ""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


# ---------------------------------------------------------------------------------------------
# page generation


def papermill_commands(stem: str) -> str:
    """The commands that re-run one lesson at the teach and at the paper profile."""
    run = f"papermill notebooks/{stem}.ipynb runs/{stem[:2]}"
    return (
        f"{run}_teach.ipynb -k python3 -p profile teach\n"
        f"{run}_paper.ipynb -k python3 -p profile paper\n"
        f"# or through the kit, which also writes the run summary:\n"
        f"cpmkit run {stem} --profile teach\n"
    )


def _lesson_banner(lesson: LessonInfo, lessons: dict[str, LessonInfo]) -> str:
    lines = []
    for warning in lesson.warnings:
        lines += ["```{warning}", f"This page may not match the lesson: {warning}.", "```", ""]
    builds_on = (
        ", ".join(
            f"[{n} · {lessons[n].title}]({lessons[n].stem}.ipynb)"
            if lessons[n].executed
            else f"{n} · {lessons[n].title}"
            for n in lesson.prerequisites
        )
        or "nothing: start here"
    )
    lines += [
        "````{admonition} About this page",
        ":class: tip",
        f"This is the executed copy `{TEACH_DIR.as_posix()}/{lesson.copy.name}` at the `teach` "
        f"profile ({format_runtime(lesson.runtime_s) or 'run time not recorded'}, measured), "
        "shown as it ran; the site does not execute anything.",
        "",
        f"- **Source**: `notebooks/{lesson.source.name}` "
        f"({{download}}`download the clean notebook <../_notebooks/{lesson.source.name}>`)",
        f"- **Builds on**: {builds_on}",
        "- **Re-run it** (see [Running the kit](../running.md)):",
        "",
        "```bash",
        papermill_commands(lesson.stem).rstrip(),
        "```",
        "````",
        "",
    ]
    return "\n".join(lines)


def lesson_page(lesson: LessonInfo, lessons: dict[str, LessonInfo]) -> str:
    """The executed copy with a banner cell after its title cell, as notebook JSON."""
    notebook = _read_notebook(lesson.copy)
    # widget state needs scripts from a CDN; the text fallback of each output is kept
    notebook.get("metadata", {}).pop("widgets", None)
    banner = {
        "cell_type": "markdown",
        "id": "cpmkit-site-banner",
        "metadata": {},
        "source": _lesson_banner(lesson, lessons),
    }
    notebook["cells"].insert(1, banner)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|")


def course_path(lessons: list[LessonInfo]) -> str:
    """The home page's course path: order, prerequisites, teach time, what each lesson teaches."""
    by_number = {lesson.number: lesson for lesson in lessons}
    rows = [
        "| # | lesson | builds on | time at `teach` | what it teaches (practice) |",
        "|---|---|---|---|---|",
    ]
    for lesson in lessons:
        if lesson.executed:
            name = f"[{_table_cell(lesson.title)}](lessons/{lesson.stem}.ipynb)"
            time = format_runtime(lesson.runtime_s) or "not recorded"
            if lesson.warnings:
                time += " (stale copy)" if any("stale" in w for w in lesson.warnings) else " (!)"
        else:
            name = (
                f"{_table_cell(lesson.title)} ({{download}}`source <_notebooks/"
                f"{lesson.source.name}>`)"
            )
            time = "*not yet executed*"
        builds_on = (
            ", ".join(
                f"[{n}](lessons/{by_number[n].stem}.ipynb)" if by_number[n].executed else n
                for n in lesson.prerequisites
            )
            or "start here"
        )
        practice = _table_cell("; ".join(lesson.practice))
        rows.append(f"| {lesson.number} | {name} | {builds_on} | {time} | {practice} |")
    executed = [lesson for lesson in lessons if lesson.executed]
    total = sum(lesson.runtime_s or 0 for lesson in executed)
    missing = [lesson.number for lesson in lessons if not lesson.executed]
    notes = [
        "",
        f"{len(executed)} of {len(lessons)} lessons executed at the `teach` profile; together "
        f"they ran in {format_runtime(total) or '0 s'} (measured, from "
        f"`{TEACH_DIR.as_posix()}/{RECORDS_NAME}`).",
    ]
    if missing:
        notes[-1] += (
            f" Not yet executed: {', '.join(missing)} (`make lessons` runs every lesson "
            "and refreshes this site's copies)."
        )
    stale = [lesson.number for lesson in executed if lesson.warnings]
    if stale:
        notes[-1] += (
            f" Lessons {', '.join(stale)} have a teach copy that may not match their "
            "source; their pages say why."
        )
    return "\n".join(rows + notes) + "\n"


def course_figure(lessons: list[LessonInfo]) -> bytes:
    """A bar chart of the measured teach time per lesson (missing lessons marked), as PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * len(lessons) + 1.0), dpi=100)
    labels = [f"{lesson.number} · {lesson.title[:45]}" for lesson in lessons]
    minutes = [(lesson.runtime_s or 0) / 60 for lesson in lessons]
    colors = [
        "#4c72b0"
        if lesson.executed and not lesson.warnings
        else "#dd8452"
        if lesson.executed
        else "#cccccc"
        for lesson in lessons
    ]
    ax.barh(range(len(lessons)), minutes, color=colors)
    for i, lesson in enumerate(lessons):
        text = format_runtime(lesson.runtime_s) if lesson.executed else "not yet executed"
        ax.text(minutes[i] + 0.05, i, text, va="center", fontsize=8)
    ax.set_yticks(range(len(lessons)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("measured time at the teach profile (minutes)")
    ax.set_xlim(0, max(minutes + [1]) * 1.3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    # no timestamp in the file, so an unchanged course gives the same bytes
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _spec_description(text: str) -> str:
    """The first paragraph of a reproduction spec's leading comment."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if not body:
            if lines:
                break
            continue
        lines.append(body)
    return " ".join(lines)


def reproduction_page(
    root: Path, spec_path: Path, lessons: dict[str, LessonInfo], files: dict[str, bytes]
) -> str:
    """One reproduction: what it reproduces, how to run it, and its generated tables."""
    text = spec_path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    name = spec.get("name", spec_path.stem)
    notebook = Path(spec.get("notebook", ""))
    number = notebook.name[:2]
    lesson = lessons.get(number)
    if lesson is not None and lesson.executed:
        lesson_link = f"[{lesson.number} · {lesson.title}](../lessons/{lesson.stem}.ipynb)"
    else:
        lesson_link = f"`{notebook.as_posix()}`"
    lines = [
        f"# {spec.get('title', name)}",
        "",
        _spec_description(text),
        "",
        f"- **Spec**: `reproductions/{spec_path.name}`",
        f"- **Notebook**: {lesson_link}",
    ]
    if spec.get("published"):
        lines.append(f"- **Published numbers**: `{spec['published']}` (each row cites its source)")
    lines += [
        "",
        "```bash",
        *(
            f"cpmkit reproduce reproductions/{spec_path.name}"
            + ("" if scale == "teach" else f" --scale {scale}")
            for scale in spec.get("scales", {})
        ),
        "```",
        "",
        "The tables below are generated by the notebook from the published numbers and our runs; "
        "none is typed by hand.",
        "",
    ]
    any_scale = False
    for scale in spec.get("scales", {}):
        folder = root / "reproductions" / name / scale
        if not folder.is_dir():
            continue
        any_scale = True
        record = next(iter(_records(folder).values()), {})
        lines += [f"## Scale `{scale}`", ""]
        if record:
            lines += [
                f"Ran {record.get('status', '?')} in "
                f"{format_runtime(record.get('runtime_s'))} "
                f"(`reproductions/{name}/{scale}/`).",
                "",
            ]
        parameters = spec["scales"][scale].get("parameters") or {}
        if parameters:
            shown = ", ".join(f"`{k}={v}`" for k, v in parameters.items())
            lines += [f"Parameters: {shown}.", ""]
        # the published-vs-ours tables first, then the other generated tables
        tables = sorted(
            (t for t in folder.glob("*.md") if t.name != "SUMMARY.md"),
            key=lambda t: (not re.search(r"table|published", t.name), t.name),
        )
        for table in tables:
            label = table.name.split(".", 1)[1].rsplit(".md", 1)[0].replace("_", " ")
            lines += [f"### {label}", "", _table_markdown(table), ""]
        figures = sorted(folder.glob("*.png"))
        if figures:
            lines += ["### Figures", ""]
        for figure in figures:
            target = f"reproductions/{name}/{scale}/{figure.name}"
            files[target] = figure.read_bytes()
            label = figure.name.split(".", 1)[1].rsplit(".png", 1)[0].replace("_", " ")
            lines += [
                f"```{{figure}} {name}/{scale}/{figure.name}",
                ":width: 90%",
                "",
                label,
                "```",
                "",
            ]
    if not any_scale:
        lines += ["*Not yet run at any scale.*", ""]
    return "\n".join(lines)


def local_mathjax() -> Path | None:
    """The MathJax 2 tree of the ``jupyter-server-mathjax`` package, if it is installed."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    return static if (static / "MathJax.js").is_file() else None


def _config(docs: Path, files: dict[str, bytes], warnings: list[str]) -> bytes:
    """docs/_config.yml, pointed at a local MathJax when there is one."""
    config = yaml.safe_load((docs / "_config.yml").read_text(encoding="utf-8"))
    mathjax = local_mathjax()
    if mathjax is None:
        warnings.append(
            "formulas will render only with network access (MathJax from a CDN); "
            "`pip install jupyter-server-mathjax` (in the dev extra) serves it locally"
        )
        return yaml.safe_dump(config, sort_keys=False).encode("utf-8")
    for path in sorted(mathjax.rglob("*")):
        if path.is_file():
            files[f"{MATHJAX_DIR}/mathjax/{path.relative_to(mathjax).as_posix()}"] = (
                path.read_bytes()
            )
    config.setdefault("sphinx", {}).setdefault("config", {}).update(MATHJAX_SPHINX)
    config.setdefault("exclude_patterns", []).append(f"{MATHJAX_DIR}/*")
    return yaml.safe_dump(config, sort_keys=False).encode("utf-8")


def _table_markdown(table: Path) -> str:
    """A saved table as markdown, re-rendered from its CSV twin when there is one, so that
    runs saved before ``markdown_table`` escaped SMILES still render as text."""
    twin = table.with_suffix(".csv")
    if not twin.is_file() or not twin.read_text(encoding="utf-8").strip():
        return table.read_text(encoding="utf-8").strip()
    # "n/a" and "None" are words in these tables, not missing values
    frame = pd.read_csv(twin, keep_default_na=False, na_values=[""])
    return markdown_table(frame).strip()


def _toc(lessons: list[LessonInfo], reproductions: list[str]) -> str:
    parts = []
    executed = [lesson for lesson in lessons if lesson.executed]
    if executed:
        parts.append(
            {
                "caption": "Lessons",
                "chapters": [{"file": f"lessons/{lesson.stem}"} for lesson in executed],
            }
        )
    if reproductions:
        parts.append(
            {
                "caption": "Reproductions",
                "chapters": [{"file": f"reproductions/{name}"} for name in reproductions],
            }
        )
    parts.append({"caption": "The kit", "chapters": [{"file": "running"}]})
    return yaml.safe_dump({"format": "jb-book", "root": "index", "parts": parts}, sort_keys=False)


def generate(root: Path | None = None) -> tuple[dict[str, bytes], list[str]]:
    """The book's source files (path -> bytes) and the build's warning lines."""
    root = Path(root or project_root())
    docs = root / DOCS_DIR
    lessons = collect_lessons(root)
    by_number = {lesson.number: lesson for lesson in lessons}
    files: dict[str, bytes] = {}
    warnings = []
    for lesson in lessons:
        files[f"_notebooks/{lesson.source.name}"] = lesson.source.read_bytes()
        if not lesson.executed:
            warnings.append(
                f"lesson {lesson.stem}: not yet executed (no "
                f"{TEACH_DIR.as_posix()}/{lesson.source.name}; run `make lessons`)"
            )
            continue
        warnings += [f"lesson {lesson.stem}: {w}" for w in lesson.warnings]
        files[f"lessons/{lesson.stem}.ipynb"] = lesson_page(lesson, by_number).encode("utf-8")

    home = (docs / "index.md").read_text(encoding="utf-8")
    path_text = course_path(lessons) + (
        "\n```{figure} course_time.png\n:width: 80%\n\n"
        "Measured time of each lesson at the `teach` profile (grey: not yet executed; orange: "
        "the teach copy may not match its source).\n```\n"
    )
    if COURSE_MARKER not in home:
        raise ValueError(f"{docs / 'index.md'} lacks the marker {COURSE_MARKER}")
    files["index.md"] = home.replace(COURSE_MARKER, path_text).encode("utf-8")
    files["course_time.png"] = course_figure(lessons)

    reproductions = []
    for spec_path in sorted((root / "reproductions").glob("*.yml")):
        name = yaml.safe_load(spec_path.read_text(encoding="utf-8")).get("name", spec_path.stem)
        page = reproduction_page(root, spec_path, by_number, files)
        files[f"reproductions/{name}.md"] = page.encode("utf-8")
        reproductions.append(name)

    for page in ("running.md",):
        files[page] = (docs / page).read_bytes()
    files["_config.yml"] = _config(docs, files, warnings)
    files["_toc.yml"] = _toc(lessons, reproductions).encode("utf-8")
    return files, warnings


def write_sources(files: dict[str, bytes], src_dir: Path) -> None:
    """Write the generated tree, touching only changed files and removing files no longer made."""
    src_dir.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = src_dir / rel
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for path in sorted(src_dir.rglob("*"), reverse=True):
        rel = path.relative_to(src_dir).as_posix()
        if path.is_file() and rel not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def html_dir(out: Path | None = None, root: Path | None = None) -> Path:
    """Where the built site's ``index.html`` lies."""
    root = Path(root or project_root())
    return (Path(out) if out else root / SITE_DIR) / "_build" / "html"


def build_site(
    root: Path | None = None, out: Path | None = None, strict: bool = False, quiet: bool = True
) -> tuple[Path, list[str]]:
    """Generate the sources and build the HTML site; returns (index.html, warning lines).

    Parameters
    ----------
    root
        The project checkout (default: found from the working directory).
    out
        The site folder (default ``build/site``): sources in ``src/``, HTML in ``_build/html``.
    strict
        Fail (``RuntimeError``) when a lesson is missing or stale, or Sphinx warns.
    quiet
        Hide Sphinx's progress output (its warnings are still printed).
    """
    root = Path(root or project_root())
    out = Path(out) if out else root / SITE_DIR
    files, warnings = generate(root)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr, flush=True)
    if strict and warnings:
        raise RuntimeError(f"{len(warnings)} lesson warning(s) with --strict")
    src = out / "src"
    write_sources(files, src)
    if html_dir(out, root).is_dir() and not (html_dir(out, root) / "index.html").is_file():
        shutil.rmtree(html_dir(out, root))  # a half-written earlier build
    command = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(src),
        "--path-output",
        str(out),
        "--builder",
        "html",
    ]
    if quiet:
        command.append("-q")
    if strict:
        command += ["-W", "--keep-going"]
    try:
        import jupyter_book  # noqa: F401
    except ImportError as err:
        raise RuntimeError(
            'the site needs Jupyter Book 1 (`pip install -e ".[dev]"` installs `jupyter-book<2`)'
        ) from err
    result = subprocess.run(command, cwd=root, check=False)
    index = html_dir(out, root) / "index.html"
    if result.returncode != 0 or not index.is_file():
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode})")
    return index, warnings


__all__ = [
    "LessonInfo",
    "build_site",
    "cells_fingerprint",
    "collect_lessons",
    "course_path",
    "generate",
    "html_dir",
    "papermill_commands",
    "prerequisites",
    "write_sources",
]
