"""Style control: a contextual Bradley-Terry fit separates format from quality."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from typer.testing import CliRunner

from arena.cli import app
from leaderboards import ELO_PER_NAT
from leaderboards.errors import RatingInputError
from leaderboards.style_control import style_board

NAMES = np.array(["pony", "pony-lag", "pony-mute", "pony-drift", "pony-long"])


def simulate(strength: np.ndarray, gamma: float, n: int = 6000, seed: int = 0) -> pd.DataFrame:
    """Votes where each model's clips have their own typical duration; P(left wins) =
    sigmoid(strength gap + gamma * (duration_a - duration_b))."""
    rng = np.random.default_rng(seed)
    k = len(strength)
    typical = np.linspace(2.0, 8.0, k)  # seconds: the models differ in how long they run
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    dur_a = typical[a] + rng.normal(0, 1.0, n)
    dur_b = typical[b] + rng.normal(0, 1.0, n)
    p = expit(strength[a] - strength[b] + gamma * (dur_a - dur_b))
    winner = np.where(rng.random(n) < p, "model_a", "model_b")
    loud = rng.normal(-20, 3, (2, n))
    return pd.DataFrame(
        {
            "model_a": NAMES[:k][a], "model_b": NAMES[:k][b], "winner": winner,
            "duration_a": dur_a, "duration_b": dur_b,
            "loudness_a": loud[0], "loudness_b": loud[1],
        }
    )  # fmt: skip


@pytest.mark.parametrize("intervals", ["sandwich", "bootstrap"])
def test_outcome_driven_by_duration_alone(intervals: str) -> None:
    gamma = 0.25
    votes = simulate(np.zeros(5), gamma)
    board = style_board(votes, ["duration"], intervals=intervals, n_bootstrap=100)
    table = board.table.set_index("model")
    # Raw: the longest-running model is clearly ahead of the shortest.
    assert table.loc["pony-long", "raw_ci_low"] > table.loc["pony", "raw_ci_high"]
    assert table.loc["pony-long", "raw_rank"] == 1 and table.loc["pony", "raw_rank"] > 1
    # Controlled: every interval overlaps every other (all ranks 1).
    assert table["ci_low"].max() < table["ci_high"].min()
    assert (table["rank"] == 1).all()
    coef = board.coefficients.set_index("feature").loc["duration"]
    d = votes["duration_a"] - votes["duration_b"]
    truth = gamma * d.std(ddof=0) * ELO_PER_NAT
    assert coef["ci_low"] < truth < coef["ci_high"]
    assert coef["sd"] == pytest.approx(d.std(ddof=0))


def test_no_style_effect_boards_agree() -> None:
    strength = np.array([0.9, 0.4, 0.0, -0.5, -0.8])
    votes = simulate(strength, 0.0, seed=1)
    # Durations independent of the model here, so controlling for them changes nothing.
    rng = np.random.default_rng(2)
    votes["duration_a"], votes["duration_b"] = rng.normal(5, 1, (2, len(votes)))
    board = style_board(votes, ["duration", "loudness"])
    table = board.table
    assert (table["rating"] - table["raw_rating"]).abs().max() < 5.0
    assert list(table["model"]) == list(NAMES)
    assert (table["rank_change"] == 0).all()
    coefs = board.coefficients
    assert ((coefs["ci_low"] < 0) & (coefs["ci_high"] > 0)).all()


def test_missing_values_are_left_out_and_counted() -> None:
    votes = simulate(np.zeros(5), 0.25, n=2000)
    votes.loc[[3, 10, 11], "duration_b"] = np.nan
    board = style_board(votes, ["duration"])
    assert board.left_out == {"duration": 3} and board.n_votes == 1997


def run(*args: str):
    return CliRunner().invoke(app, ["leaderboard", *args])


def test_cli_prints_both_boards_and_refuses_bad_features(tmp_path: Path) -> None:
    votes = simulate(np.zeros(5), 0.25, n=3000)
    path = tmp_path / "votes.csv"
    votes.to_csv(path, index=False)
    result = run("--votes", str(path), "--control", "duration,loudness", "--ci", "sandwich")
    assert result.exit_code == 0, result.output
    assert "Style-controlled" in result.stdout and "duration: +" in result.stdout
    as_json = run("--votes", str(path), "--control", "duration", "--format", "json")
    content = json.loads(as_json.stdout)
    assert {r["model"] for r in content["models"]} == set(NAMES)
    assert content["coefficients"][0]["feature"] == "duration"
    one_sided = votes.drop(columns="duration_b")
    one_sided.to_csv(tmp_path / "one.csv", index=False)
    text = votes.astype({"duration_a": object})
    text.loc[4, "duration_a"] = "long"
    text.to_csv(tmp_path / "text.csv", index=False)
    infinite = votes.copy()
    infinite.loc[6, "loudness_b"] = np.inf
    infinite.to_csv(tmp_path / "inf.csv", index=False)
    for args, message in [
        ((path, "colour"), "unknown feature(s) colour"),
        ((tmp_path / "one.csv", "duration"), "column duration_a has no partner duration_b"),
        ((path, "motion"), "feature motion: the votes have no motion_a/motion_b columns"),
        ((tmp_path / "text.csv", "duration"), "line 6, column duration_a: 'long' is not a"),
        ((tmp_path / "inf.csv", "loudness"), "line 8, column loudness_b: inf is not a finite"),
    ]:
        result = run(
            "--votes", str(args[0]), "--control", args[1], "--snapshot", str(tmp_path / "s")
        )
        assert isinstance(result.exception, RatingInputError)
        assert message in str(result.exception), (message, result.exception)
    assert not (tmp_path / "s").exists()


def test_cli_refuses_options_the_controlled_board_would_ignore(tmp_path: Path) -> None:
    votes = simulate(np.zeros(5), 0.25, n=300)
    path = tmp_path / "votes.csv"
    votes.to_csv(path, index=False)
    for extra, named in [
        (("--robustness",), "--robustness"),
        (("--silent",), "--audio/--silent"),
        (("--category", "t2v", "--plot", str(tmp_path / "plots")), "--category, --plot"),
    ]:
        result = run("--votes", str(path), "--control", "duration", *extra)
        assert isinstance(result.exception, RatingInputError), result.output
        assert f"does not combine with {named}" in str(result.exception)
    assert not (tmp_path / "plots").exists()


def test_cli_style_controlled_board_in_each_format(tmp_path: Path) -> None:
    votes = simulate(np.zeros(5), 0.25, n=1000)
    path = tmp_path / "votes.csv"
    votes.to_csv(path, index=False)
    markdown = run("--votes", str(path), "--control", "duration", "--format", "markdown",
                   "--ci", "sandwich").stdout  # fmt: skip
    lines = markdown.splitlines()
    assert lines[0] == "| rank | model | controlled | 95% CI | raw | raw 95% CI | change |"
    assert lines[1] == "|---:|---|---:|---:|---:|---:|---:|"
    assert sum(line.startswith("| ") for line in lines) == 1 + len(NAMES)
    assert any(line.startswith("duration: ") and "Elo per SD" in line for line in lines)
    csv = run("--votes", str(path), "--control", "duration", "--format", "csv", "--ci", "sandwich")
    frame = pd.read_csv(io.StringIO(csv.stdout))
    assert set(frame["model"]) == set(NAMES) and "raw_rating" in frame.columns
