"""A column declared once in `leaderboards/columns.py` reaches every board, format and view."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_board_style import duration_biased_store
from typer.testing import CliRunner

from arena.cli import app
from leaderboards import columns
from leaderboards.counts import model_totals

HEADER = "decisive votes"


def decisive(counts) -> pd.Series:
    totals = model_totals(counts)
    return totals["wins"] + totals["losses"]


@pytest.fixture
def added_column(monkeypatch):
    """One more declared column: each model's votes that were not ties."""
    column = columns.Column("decisive", "int", compute=decisive, header=HEADER)
    monkeypatch.setattr(columns, "COLUMNS", (*columns.COLUMNS, column))
    return column


@pytest.fixture
def votes_file(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    rng = np.random.default_rng(5)
    names = np.array(["alpha", "beta", "gamma"])
    a = rng.integers(0, 3, 600)
    b = (a + rng.integers(1, 3, 600)) % 3
    winner = rng.choice(["model_a", "model_b", "tie"], 600, p=[0.45, 0.4, 0.15])
    frame = pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner})
    frame["duration_a"] = rng.normal(5, 1, 600)
    frame["duration_b"] = rng.normal(5, 1, 600)
    frame["aspect"] = ""
    sound = frame.head(200).assign(aspect="sound", winner=lambda f: f["winner"])
    path = tmp_path / "votes.csv"
    pd.concat([frame, sound]).to_csv(path, index=False)
    decisive_votes = frame[frame["winner"] != "tie"]
    expected = (
        pd.concat([decisive_votes["model_a"], decisive_votes["model_b"]]).value_counts().to_dict()
    )
    return path, expected


def run(*args: str):
    result = CliRunner().invoke(app, ["leaderboard", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_an_added_column_is_in_every_cli_format(added_column, votes_file, tmp_path) -> None:
    path, expected = votes_file
    base = ("--votes", str(path), "--bootstrap", "20")
    records = json.loads(run(*base, "--format", "json"))
    assert {r["model"]: r["decisive"] for r in records} == expected
    csv = pd.read_csv(io.StringIO(run(*base, "--format", "csv")))
    assert dict(zip(csv["model"], csv["decisive"], strict=True)) == expected
    markdown = run(*base, "--format", "markdown")
    assert f"| {HEADER} |" in markdown.splitlines()[0]
    assert f"| {expected['alpha']} |" in next(r for r in markdown.splitlines() if "alpha" in r)
    table = run(*base, "--robustness")  # the terminal table, with an optional column too
    assert HEADER.split()[0] in table and str(expected["alpha"]) in table
    run(*base, "--snapshot", str(tmp_path / "snap"))
    snapshot = json.loads(next((tmp_path / "snap").glob("*.json")).read_text())
    assert {r["model"]: r["decisive"] for r in snapshot["rows"]} == expected
    composite = json.loads(run(*base, "--composite", "--format", "json"))
    assert all("decisive" in r for r in composite)
    for fmt in ("json", "csv", "markdown", "table"):
        styled = run("--votes", str(path), "--control", "duration", "--ci", "sandwich",
                     "--format", fmt)  # fmt: skip
        if fmt == "json":
            models = json.loads(styled)["models"]
            assert {r["model"]: r["decisive"] for r in models} == expected
        elif fmt == "csv":
            assert "decisive" in styled.splitlines()[0]
        else:
            assert HEADER.split()[0] in styled and str(expected["beta"]) in styled


def test_an_added_column_is_in_every_view_of_the_tab(added_column, data_dir) -> None:
    from arena.web.aspect_boards import aspect_boards
    from arena.web.leaderboard_view import compute_board

    store = duration_biased_store(data_dir, 300)
    votes = store.battles_frame()
    expected = decisive_in(votes)
    view = compute_board(store, "all", n_bootstrap=20)
    assert dict(zip(view.table["model"], view.table["decisive"], strict=True)) == expected
    style = view.style.table
    assert dict(zip(style["model"], style[HEADER].astype(int), strict=True)) == expected
    answers = votes.head(50).assign(aspect="picture")
    store.import_battles(answers[["model_a", "model_b", "winner", "prompt_id", "clip_a",
                                  "clip_b", "aspect"]])  # fmt: skip
    _, table = aspect_boards(store, "all", ("picture",))
    both = pd.concat([votes, answers])
    assert dict(zip(table["model"], table[HEADER].astype(int), strict=True)) == decisive_in(both)
    store.close()


def decisive_in(votes: pd.DataFrame) -> dict[str, int]:
    won = votes[votes["winner"].isin(["model_a", "model_b"])]
    return pd.concat([won["model_a"], won["model_b"]]).value_counts().to_dict()
