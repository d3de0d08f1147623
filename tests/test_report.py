"""cpmkit.results, .comparison, .report and .plotting: results as data, published vs ours, the
run summary."""

import json
import math
import re

import matplotlib
import pandas as pd
import pytest
import torch

from cpmkit.comparison import format_mean_std, published_vs_ours
from cpmkit.profiles import resolve
from cpmkit.report import write_summary
from cpmkit.results import load_results, output_dir, save_results

matplotlib.use("Agg")

TABLE = {p: {"num_epochs": n, "lr": 1e-3} for p, n in (("ci", 1), ("teach", 5), ("paper", 100))}


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    monkeypatch.setenv("CPMKIT_OUTPUT_DIR", str(folder))
    return folder


def test_output_dir_env_else_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("CPMKIT_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert output_dir("01_x.ipynb") == tmp_path / "runs" / "01_x"
    assert (tmp_path / "runs" / "01_x").is_dir()
    monkeypatch.setenv("CPMKIT_OUTPUT_DIR", str(tmp_path / "elsewhere"))
    assert output_dir("01_x") == tmp_path / "elsewhere"


def test_save_and_load_results_round_trip(run_dir):
    config = resolve("ci", TABLE, num_epochs=2)
    table = pd.DataFrame(
        {"dataset": ["bbbp", "bace"], "seed": [0, 0], "test": [0.71, float("nan")]}
    )
    path = save_results(
        "11_demo", config, table, {"bbbp ROC-AUC": 0.71, "note": "tiny"}, runtime_s=3.5
    )
    assert path == run_dir / "11_demo.results.json"
    assert (run_dir / "11_demo.results.csv").is_file()
    raw = json.loads(path.read_text())
    assert raw["profile"] == "ci"
    assert raw["config"] == {"profile": "ci", "num_epochs": 2, "lr": 1e-3}
    assert raw["runtime_s"] == 3.5
    assert raw["versions"]["cpmkit"]
    assert raw["table"][1]["test"] is None  # NaN -> null, valid JSON
    # what decides bitwise reproducibility beside the versions: threads and vector kernels
    assert raw["compute"]["torch_num_threads"] == torch.get_num_threads()
    assert raw["compute"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()

    results = load_results(run_dir)
    assert list(results) == ["11_demo"]
    loaded = results["11_demo"]
    assert loaded["headline"] == {"bbbp ROC-AUC": 0.71, "note": "tiny"}
    assert list(loaded["table"].columns) == ["dataset", "seed", "test"]
    assert loaded["table"]["test"].iloc[0] == 0.71
    assert math.isnan(loaded["table"]["test"].iloc[1])


def test_results_record_the_thread_count_in_force(run_dir):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        path = save_results("02_threads", {"a": 1}, pd.DataFrame({"x": [1]}), {"x": 1.0})
        assert json.loads(path.read_text())["compute"]["torch_num_threads"] == 1
    finally:
        torch.set_num_threads(before)


def test_save_results_without_runtime_uses_process_age(run_dir):
    path = save_results("02_demo", {"a": 1}, pd.DataFrame({"x": [1]}), {"x": 1.0})
    raw = json.loads(path.read_text())
    assert raw["runtime_s"] >= 0 and raw["runtime_source"] == "kernel process age"
    assert raw["profile"] is None


def test_summary_lists_failed_notebook_with_error(run_dir):
    import matplotlib.pyplot as plt

    from cpmkit.plotting import save_figure, use_style

    save_results("00_good", resolve("ci", TABLE), pd.DataFrame({"x": [1]}), {"ROC-AUC": 0.7123456})
    use_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = save_figure(fig, "00_good", "training curve")
    plt.close(fig)
    assert png == run_dir / "00_good.training_curve.png" and png.stat().st_size > 0
    (run_dir / "00_good.ipynb").write_text("{}")
    records = [
        {
            "notebook": "00_good",
            "status": "ok",
            "runtime_s": 1.25,
            "error": None,
            "output_path": "00_good.ipynb",
        },
        {
            "notebook": "01_bad",
            "status": "failed",
            "runtime_s": 0.5,
            "error": "ZeroDivisionError: division by zero\nmore | text",
            "output_path": None,
        },
    ]
    summary = write_summary(run_dir, records).read_text()
    lines = {
        line.split("|")[1].strip(): line
        for line in summary.splitlines()
        if line.startswith("| ") and "---" not in line
    }
    assert "failed: ZeroDivisionError: division by zero" in lines["01_bad"]
    assert "more" not in lines["01_bad"]  # first line of the error only
    good = lines["[00_good](00_good.ipynb)"]
    assert "| ok |" in good and "1.2 s" in good and "ROC-AUC: 0.7123" in good
    assert "[training_curve](00_good.training_curve.png)" in good
    assert "1 failed" in summary


def test_summary_infers_records_from_folder(run_dir):
    run_dir.mkdir(parents=True)
    failed_nb = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "error",
                        "ename": "KeyError",
                        "evalue": "'smiles'",
                        "traceback": [],
                    }
                ],
            }
        ]
    }
    (run_dir / "03_broken.ipynb").write_text(json.dumps(failed_nb))
    save_results("04_fine", {}, pd.DataFrame({"x": [1]}), {"rmse": 1.5}, runtime_s=2.0)
    summary = write_summary(run_dir).read_text()
    assert "failed: KeyError: 'smiles'" in summary
    assert "rmse: 1.5" in summary and "2.0 s" in summary


def test_format_mean_std():
    assert format_mean_std(0.71234, 0.0123) == "0.712 ± 0.012"
    assert format_mean_std(0.5) == "0.500"
    assert format_mean_std(0.5, float("nan"), decimals=1) == "0.5"
    assert format_mean_std(float("nan"), 0.1) == "n/a"


def test_published_vs_ours_joins_on_keys():
    ours = pd.DataFrame(
        {
            "dataset": ["bbbp"] * 3 + ["bace"] * 3 + ["tox21"],
            "method": ["gin"] * 7,
            "seed": [0, 1, 2, 0, 1, 2, 0],
            "test": [0.60, 0.70, 0.80, 0.70, 0.70, 0.70, 0.75],
        }
    )
    published = pd.DataFrame(
        {
            "dataset": ["bace", "bbbp", "hiv"],
            "method": ["gin", "gin", "gin"],
            "value": [70.1, 65.8, 75.3],
            "std": [5.4, 4.5, 1.9],
            "source": ["Hu et al. 2020 Table 1"] * 3,
        }
    )
    table = published_vs_ours(
        ours, published, on=["dataset", "method"], published_std="std", scale=100, decimals=1
    )
    assert list(table["dataset"]) == ["bbbp", "bace", "tox21"]  # ours' rows, left join
    bbbp = table.set_index("dataset").loc["bbbp"]
    assert bbbp["ours"] == "70.0 ± 10.0" and bbbp["n_runs"] == 3
    assert bbbp["published"] == "65.8 ± 4.5" and bbbp["source"] == "Hu et al. 2020 Table 1"
    assert bbbp["delta"] == pytest.approx(4.2)
    tox21 = table.set_index("dataset").loc["tox21"]
    assert tox21["published"] == "n/a" and tox21["ours"] == "75.0"
    with pytest.raises(KeyError, match="score"):
        published_vs_ours(ours, published, on=["dataset"], value="score")


def test_molecule_grid_draws_every_molecule(tmp_path, monkeypatch):
    from rdkit import Chem

    from cpmkit.plotting import molecule_grid, save_figure

    monkeypatch.setenv("CPMKIT_OUTPUT_DIR", str(tmp_path))
    mols = [Chem.MolFromSmiles(s) for s in ["CCO", "c1ccccc1", "CC(=O)O"]]
    fig = molecule_grid(mols, legends=["a", "b", "c"], per_row=2, size=(100, 80))
    image = fig.axes[0].images[0].get_array()
    assert image.shape[:2] == (160, 200)  # 2 rows x 2 columns of 100 x 80 panels
    assert save_figure(fig, "00_quickstart", "grid").stat().st_size > 0
    with pytest.raises(ValueError):
        molecule_grid([])


def test_markdown_table_and_save_table(tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd

    from cpmkit.results import markdown_table, save_table

    frame = pd.DataFrame({"model": ["a|b", "c"], "auc": [0.71234, np.nan], "n": [3, 4]})
    text = markdown_table(frame)
    assert text.splitlines() == [
        "| model | auc | n |",
        "|---|---|---|",
        "| a\\|b | 0.712 | 3 |",
        "| c |  | 4 |",
    ]
    monkeypatch.setenv("CPMKIT_OUTPUT_DIR", str(tmp_path))
    path = save_table("11_property_prediction", "table2", frame)
    assert path.read_text() == text
    assert pd.read_csv(tmp_path / "11_property_prediction.table2.csv").shape == (2, 3)


def test_markdown_table_keeps_smiles_as_text():
    import pandas as pd
    from markdown_it import MarkdownIt

    from cpmkit.results import markdown_table

    smiles = ["O=C(O)[C@](C(CO)=O)(O)CC1", "F/C=C\\Cl", "*c1ccccc1", "C`C<C"]
    html = (
        MarkdownIt("commonmark")
        .enable("table")
        .render(markdown_table(pd.DataFrame({"smiles": smiles})))
    )
    assert "<a " not in html and "<em>" not in html and "<code>" not in html
    cells = re.findall(r"<td>(.*?)</td>", html)
    assert [c.replace("&lt;", "<") for c in cells] == smiles


def test_site_renders_saved_tables_from_their_csv(tmp_path):
    import pandas as pd

    from cpmkit.results import markdown_table
    from cpmkit.site import _table_markdown

    frame = pd.DataFrame({"start": ["none", "mpg"], "paper": ["n/a", "None"], "auc": [0.5, 0.7]})
    md = tmp_path / "07_x.comparison.md"
    md.write_text("| stale | table |\n|---|---|\n")
    assert _table_markdown(md) == "| stale | table |\n|---|---|"
    md.with_suffix(".csv").write_text("\n")  # an empty table saves an empty CSV
    assert _table_markdown(md) == "| stale | table |\n|---|---|"
    frame.to_csv(md.with_suffix(".csv"), index=False)
    assert _table_markdown(md) == markdown_table(frame).strip()


def test_gain_table_averages_datasets_and_compares_signs():
    import pandas as pd

    from cpmkit.comparison import UNCLEAR, gain_table

    runs = pd.DataFrame(
        [  # GCN gains 10 points on A and 0 on B (average +5); GAT loses 10 on A only
            ("GCN", "none", "A", 0.64),
            ("GCN", "none", "A", 0.66),
            ("GCN", "pre", "A", 0.74),
            ("GCN", "pre", "A", 0.76),
            ("GCN", "none", "B", 0.79),
            ("GCN", "none", "B", 0.81),
            ("GCN", "pre", "B", 0.79),
            ("GCN", "pre", "B", 0.81),
            ("GAT", "none", "A", 0.69),
            ("GAT", "none", "A", 0.71),
            ("GAT", "pre", "A", 0.59),
            ("GAT", "pre", "A", 0.61),
            ("GIN", "none", "A", 0.70),
            ("GIN", "pre", "A", 0.80),  # one seed: no error bar
        ],
        columns=["architecture", "pretraining", "dataset", "test"],
    )
    published = pd.DataFrame(
        [
            ("GCN", "none", "Average", 68.9, "s"),
            ("GCN", "pre", "Average", 72.2, "s"),
            ("GAT", "none", "Average", 66.8, "s"),
            ("GAT", "pre", "Average", 70.0, "s"),
            ("GIN", "none", "Average", 66.8, "s"),
            ("GIN", "pre", "Average", 70.0, "s"),
            ("GAT", "pre", "BBBP", 1.0, "s"),
        ],
        columns=["architecture", "pretraining", "dataset", "mean", "source"],
    )
    table = gain_table(runs, published, key="architecture", treatment="pre").set_index(
        "architecture"
    )
    assert table.loc["GCN", "ours none"] == 72.5  # mean of A (65) and B (80): each set once
    assert table.loc["GCN", "ours gain"] == 5.0
    assert table.loc["GCN", "ours se"] == 1.0  # sqrt((1 + 1) / 4 + (1 + 1) / 4)
    assert table.loc["GCN", "paper gain"] == 3.3
    assert table.loc["GCN", "same sign"] is True  # +5 > 2 se, paper +3.3
    assert table.loc["GAT", "same sign"] is False  # ours -10 (se 1), paper +3.2
    assert table.loc["GIN", "same sign"] == UNCLEAR  # +10, but one seed: no standard error
    assert table.loc["GCN", "datasets"] == 2 and table.loc["GAT", "datasets"] == 1


def test_as_image_accepts_pil_png_bytes_and_ipython_objects():
    import io
    from types import SimpleNamespace

    from PIL import Image

    from cpmkit.plotting import as_image

    picture = Image.new("RGB", (4, 3), "white")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    assert as_image(picture) is picture
    assert as_image(buffer.getvalue()).size == (4, 3)
    assert as_image(SimpleNamespace(data=buffer.getvalue())).size == (4, 3)  # IPython Image


def test_report_still_exports_every_public_name():
    # notebooks import from cpmkit.report: the split must not break them
    import cpmkit.comparison
    import cpmkit.report
    import cpmkit.results

    for module in (cpmkit.comparison, cpmkit.results):
        for name in module.__all__:
            assert getattr(cpmkit.report, name) is getattr(module, name), name
            assert name in cpmkit.report.__all__, name


def test_results_files_are_written_atomically(run_dir, monkeypatch):
    # a failed write leaves the old file whole and no temporary file behind
    import cpmkit.atomic

    path = save_results("03_demo", {"a": 1}, pd.DataFrame({"x": [1]}), {"x": 1.0})
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(cpmkit.atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_results("03_demo", {"a": 2}, pd.DataFrame({"x": [2]}), {"x": 2.0})
    assert path.read_text() == before
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "03_demo.results.csv",
        "03_demo.results.json",
    ]
