"""The sign rule of the published-vs-ours tables (``cpmkit.comparison``): a gain has a sign only
when it is clear of the seed noise, and the Table 1 note column."""

from __future__ import annotations

import math

import pandas as pd

from cpmkit.comparison import UNCLEAR, gain_signs, gain_table, sign_agreement, strategy_table


def _runs(values: dict[tuple[str, str], list[float]], key: str = "pretraining") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {key: method, "dataset": dataset, "seed": seed, "test": v}
            for (method, dataset), vs in values.items()
            for seed, v in enumerate(vs)
        ]
    )


def test_sign_agreement_needs_two_standard_errors():
    assert sign_agreement(3.0, 1.0, 2.0) is True
    assert sign_agreement(-3.0, 1.0, 2.0) is False
    assert sign_agreement(2.0, 1.0, 2.0) == UNCLEAR  # exactly two: not clear
    assert sign_agreement(0.5, 1.0, -2.0) == UNCLEAR
    assert sign_agreement(3.0, math.nan, 2.0) == UNCLEAR  # one seed: no error estimate
    assert sign_agreement(3.0, 1.0, 0.0) == UNCLEAR  # the paper's 0.0 has no sign
    assert sign_agreement(3.0, 1.0, math.nan) is None


PUBLISHED = pd.DataFrame(
    [
        {"pretraining": "none", "dataset": "A", "mean": 70.0},
        {"pretraining": "cp", "dataset": "A", "mean": 72.0},
        {"pretraining": "none", "dataset": "B", "mean": 60.0},
        {"pretraining": "cp", "dataset": "B", "mean": 61.0},
    ]
)


def test_gain_signs_says_unclear_inside_the_noise():
    runs = _runs(
        {
            ("none", "A"): [0.70, 0.71, 0.69],
            ("cp", "A"): [0.80, 0.81, 0.79],  # +10 points, se ~0.8: clear, same sign
            ("none", "B"): [0.60, 0.70, 0.50],
            ("cp", "B"): [0.59, 0.69, 0.49],  # -1 point, se ~8: unclear
        }
    )
    gains = gain_signs(runs, PUBLISHED).set_index("dataset")
    assert gains.loc["A", "same sign"] is True and gains.loc["A", "clear"]
    assert gains.loc["B", "same sign"] == UNCLEAR and not gains.loc["B", "clear"]


def test_gain_table_zero_gain_is_unclear_not_true():
    published = pd.DataFrame(
        [
            {"architecture": "gat", "pretraining": "none", "dataset": "Average", "mean": 66.8},
            {"architecture": "gat", "pretraining": "cp", "dataset": "Average", "mean": 66.8},
        ]
    )
    runs = _runs({("none", "A"): [0.7, 0.72], ("cp", "A"): [0.8, 0.82]}).assign(architecture="gat")
    row = gain_table(runs, published, key="architecture", treatment="cp").iloc[0]
    assert row["paper gain"] == 0.0 and row["same sign"] == UNCLEAR
    assert row["ours se"] > 0 and row["ours gain"] == 10.0


def test_strategy_table_note_column():
    runs = _runs({("none", "A"): [0.7, 0.72], ("cp", "A"): [0.8, 0.82]})
    table = strategy_table(runs, PUBLISHED, notes={"cp": "corpus holds A"})
    assert table.loc[(table["pretraining"] == "cp") & (table["source"] == "ours"), "note"].item()
    assert set(table.loc[table["source"] == "paper", "note"]) == {""}
    assert "note" not in strategy_table(runs, PUBLISHED).columns
