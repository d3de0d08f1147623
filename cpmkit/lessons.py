"""The README's lesson table, generated from the notebooks' own headers.

Each lesson starts with ``# NN · Title`` and an ``## Aim`` cell whose "Contents in Practice"
bullets say what it teaches; the table is rebuilt from those, so it cannot drift from the
notebooks. ``cpmkit lessons --update README.md`` rewrites the part between the markers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

START, END = "<!-- lessons:start -->", "<!-- lessons:end -->"


def _markdown_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]


def lesson_header(path: Path) -> dict:
    """Number, title and the "Contents in Practice" bullets of one lesson notebook."""
    cells = _markdown_cells(path)
    title = re.search(r"^# (\d\d) · (.+)$", cells[0], re.MULTILINE) if cells else None
    if title is None:
        raise ValueError(f"{path}: the first cell must start with '# NN · Title'")
    text = "\n".join(cells)
    practice = re.search(r"\*\*Contents in Practice\*\*\n((?:- .+\n?)+)", text)
    bullets = [b[2:].strip() for b in practice.group(1).splitlines()] if practice else []
    return {
        "number": title.group(1),
        "title": title.group(2).strip(),
        "practice": bullets,
        "file": path.name,
    }


def lesson_table(notebooks_dir: str | Path = "notebooks") -> str:
    """A markdown table of every ``NN_*.ipynb`` lesson: number, title, what it practises."""
    rows = ["| # | lesson | what it teaches (practice) |", "|---|---|---|"]
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        head = lesson_header(path)
        link = f"[{head['title']}](notebooks/{head['file']})"
        rows.append(f"| {head['number']} | {link} | {'; '.join(head['practice'])} |")
    return "\n".join(rows) + "\n"


def update_readme(
    readme: str | Path = "README.md", notebooks_dir: str | Path = "notebooks"
) -> bool:
    """Rewrite the lesson table between the markers; returns True when the file changed."""
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{path} lacks the markers {START} ... {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{lesson_table(notebooks_dir)}{END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
