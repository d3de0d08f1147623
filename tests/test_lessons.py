"""The README's lesson table is generated from the notebooks and must be current."""

import json
from pathlib import Path

import pytest

from cpmkit.lessons import END, START, lesson_header, lesson_table, update_readme

ROOT = Path(__file__).resolve().parents[1]


def test_readme_lesson_table_is_current():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    current = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == lesson_table(ROOT / "notebooks").strip(), (
        "run `cpmkit lessons --update README.md` after changing a lesson's title or aims"
    )


def _lesson(path, first, practice):
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": first},
        {"cell_type": "markdown", "metadata": {}, "source": practice},
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
    )


def test_header_parsing_and_update(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _lesson(
        folder / "07_toy.ipynb",
        "# 07 · Toy lesson\n\ntext",
        "## Aim\n**Contents in Practice**\n- first thing\n- second thing\n",
    )
    assert lesson_header(folder / "07_toy.ipynb") == {
        "number": "07",
        "title": "Toy lesson",
        "practice": ["first thing", "second thing"],
        "file": "07_toy.ipynb",
    }
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold\n{END}\nend\n")
    assert update_readme(readme, folder) is True
    assert "| 07 | [Toy lesson](notebooks/07_toy.ipynb) | first thing; second thing |" in (
        readme.read_text()
    )
    assert update_readme(readme, folder) is False
    _lesson(folder / "08_bad.ipynb", "no title here", "")
    with pytest.raises(ValueError, match="NN · Title"):
        lesson_table(folder)
