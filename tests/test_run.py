"""cpmkit.run: papermill runs two throwaway notebooks, one of which fails."""

import json
import subprocess
import sys

import nbformat
import pytest

from cpmkit.run import RunRecord, check_kernel, find_notebooks, run_notebooks


@pytest.fixture(scope="module", autouse=True)
def python3_kernel():
    """papermill needs a kernel named python3; register it in this environment if missing."""
    try:
        check_kernel()
    except RuntimeError:
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
            check=True,
            capture_output=True,
        )
        check_kernel()


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = None  # ci, teach or paper\nnum_epochs = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture
def lessons(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    good = _notebook(
        folder / "00_good.ipynb",
        "import os, pathlib, pandas as pd\n"
        "from cpmkit.report import save_results\n"
        "pathlib.Path('written_in_cwd.txt').write_text('here')\n"
        "save_results('00_good', {'profile': profile, 'num_epochs': num_epochs},\n"
        "             pd.DataFrame({'x': [1]}), {'answer': 42.0})\n"
        "print('profile is', profile, 'epochs', num_epochs)",
    )
    bad = _notebook(folder / "01_bad.ipynb", "raise ZeroDivisionError('lesson broke on purpose')")
    return good, bad


def test_failure_is_recorded_and_the_others_still_run(lessons, tmp_path):
    good, bad = lessons
    out = tmp_path / "out"
    # the failing notebook first: the good one must still run after it
    records = run_notebooks(
        [bad, good], profile="ci", out_dir=out, parameters={"num_epochs": 2}, progress=False
    )

    assert [r.notebook for r in records] == ["01_bad", "00_good"]
    assert all(isinstance(r, RunRecord) for r in records)
    by_name = {r.notebook: r for r in records}
    assert by_name["00_good"].status == "ok" and by_name["00_good"].error is None
    assert by_name["01_bad"].status == "failed"
    assert "ZeroDivisionError" in by_name["01_bad"].error
    assert all(r.runtime_s > 0 for r in records)

    # executed copies named like the sources; the failing one is kept for reading
    assert (out / "00_good.ipynb").is_file() and (out / "01_bad.ipynb").is_file()
    # parameters were injected and the kernel ran in the notebooks folder
    executed = nbformat.read(out / "00_good.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'profile = "ci"' in injected[0].source
    outputs = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "profile is ci epochs 2" in outputs
    assert (good.parent / "written_in_cwd.txt").is_file()

    # results went to the run folder through CPMKIT_OUTPUT_DIR
    results = json.loads((out / "00_good.results.json").read_text())
    assert results["config"] == {"profile": "ci", "num_epochs": 2}

    summary = (out / "SUMMARY.md").read_text()
    bad_line = next(line for line in summary.splitlines() if "01_bad" in line)
    assert "failed: ZeroDivisionError: lesson broke on purpose" in bad_line
    good_line = next(line for line in summary.splitlines() if "00_good" in line)
    assert "| ok |" in good_line and "answer: 42" in good_line
    records_file = json.loads((out / "runs.json").read_text())
    assert {r["notebook"] for r in records_file["records"]} == {"00_good", "01_bad"}


def test_find_notebooks_rejects_unknown_name(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    _notebook(tmp_path / "notebooks" / "00_quickstart.ipynb", "x = 1")
    monkeypatch.chdir(tmp_path)
    assert [p.name for p in find_notebooks()] == ["00_quickstart.ipynb"]
    assert [p.name for p in find_notebooks(["00"])] == ["00_quickstart.ipynb"]
    with pytest.raises(FileNotFoundError, match="00_quickstart"):
        find_notebooks(["99_missing"])


def test_undeclared_parameter_fails_before_running(lessons, tmp_path):
    with pytest.raises(ValueError, match="num_epoch;.*num_epochs"):
        run_notebooks(
            [lessons[0]],
            profile="ci",
            out_dir=tmp_path / "x",
            parameters={"num_epoch": 3},
            progress=False,
        )
    assert not (tmp_path / "x").exists()


def test_unknown_profile_fails_before_running(lessons, tmp_path):
    with pytest.raises(ValueError, match="ci, teach, paper"):
        run_notebooks([lessons[0]], profile="large", out_dir=tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_missing_kernel_error_says_how_to_register():
    with pytest.raises(RuntimeError, match="ipykernel install --sys-prefix --name no_such_kernel"):
        check_kernel("no_such_kernel")
