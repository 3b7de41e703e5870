"""Edge cases of `paddock leaderboard`: ridge 0, models that never won, empty files, line numbers."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leaderboards import RatingSettings, compute_leaderboard
from leaderboards.counts import pair_counts_from_battles

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]


def small_arena(seed: int = 4, rare_wins: int = 1) -> pd.DataFrame:
    """8 models, 600 votes; m7 takes part in only 25 of them and wins ``rare_wins``."""
    rng = np.random.default_rng(seed)
    names = np.array([f"m{i}" for i in range(8)])
    strength = np.linspace(1.0, -1.0, 7)
    a = rng.integers(0, 7, 575)
    b = (a + rng.integers(1, 7, 575)) % 7
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    winner = np.where(rng.random(575) < p, "model_a", "model_b")
    rows = pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner})
    rare = pd.DataFrame(
        {
            "model_a": ["m7"] * 25,
            "model_b": names[rng.integers(0, 7, 25)],
            "winner": ["model_a"] * rare_wins + ["model_b"] * (25 - rare_wins),
        }
    )
    return pd.concat([rows, rare], ignore_index=True)


def test_ridge_zero_bootstrap_with_one_sided_replicates_gives_ratings(tmp_path: Path) -> None:
    # m7 wins 1 of 25: about a third of the bootstrap replicates see it never win, which made
    # the unpenalised Newton solve hit a singular matrix.
    path = tmp_path / "small.csv"
    small_arena().to_csv(path, index=False)
    proc = subprocess.run(
        [*PADDOCK, "leaderboard", "--votes", str(path), "--ridge", "0", "--bootstrap", "200",
         "--format", "csv"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    table = pd.read_csv(io.StringIO(proc.stdout)).set_index("model")
    assert np.isfinite(table.loc["m7", ["rating", "ci_low", "ci_high"]].to_numpy(float)).all()
    assert table.loc["m7", "ci_low"] < table.loc["m7", "rating"] < table.loc["m7", "ci_high"]


def test_ridge_zero_library_fit_matches_tiny_ridge() -> None:
    counts = pair_counts_from_battles(small_arena())
    zero = compute_leaderboard(counts, RatingSettings(ridge=0.0, n_bootstrap=100))
    tiny = compute_leaderboard(counts, RatingSettings(ridge=1e-9, n_bootstrap=0))
    assert np.allclose(zero.ratings().sort_index(), tiny.ratings().sort_index(), atol=1e-3)


def test_never_won_model_is_a_bound_and_does_not_shift_the_rest() -> None:
    with_loser = pair_counts_from_battles(small_arena(rare_wins=0))
    without = pair_counts_from_battles(small_arena(rare_wins=0).query("model_a != 'm7'"))
    settings = RatingSettings(n_bootstrap=100)
    board = compute_leaderboard(with_loser, settings)
    table = board.table.set_index("model")
    alone = compute_leaderboard(without, settings).table.set_index("model")
    # The other models' ratings and intervals are those of the file without m7's 25 losses.
    assert np.allclose(table.loc[alone.index, "rating"], alone["rating"], atol=1e-6)
    assert np.allclose(table.loc[alone.index, "ci_low"], alone["ci_low"], atol=1e-6)
    assert table.loc["m7", "note"] == "never won in 25 votes: rating is a bound"
    assert (table.drop(index="m7")["note"] == "").all()
    # An upper bound only: no lower limit, and at most the weakest opponent it lost to.
    assert np.isnan(table.loc["m7", "ci_low"])
    assert table.loc["m7", "ci_high"] == table.loc["m7", "rating"]
    assert table.loc["m7", "rating"] < alone["rating"].max()
    assert board.table["model"].iloc[-1] == "m7" and table.loc["m7", "rank"] > 1


def test_never_lost_model_is_a_lower_bound_in_the_cli(tmp_path: Path) -> None:
    votes = small_arena(rare_wins=25)
    path = tmp_path / "champ.csv"
    votes.to_csv(path, index=False)
    proc = subprocess.run(
        [*PADDOCK, "leaderboard", "--votes", str(path), "--bootstrap", "50"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    line = next(row for row in proc.stdout.splitlines() if " m7 " in row)
    assert "≥" in line and "never lost in 25 votes" in proc.stdout


@pytest.mark.parametrize("intervals", ["bootstrap", "sandwich"])
@pytest.mark.parametrize("n", [2, 20])
def test_two_models_where_one_won_every_vote_are_bounds(n: int, intervals: str) -> None:
    frame = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["model_a"], "count": [n]})
    board = compute_leaderboard(frame, RatingSettings(n_bootstrap=100, intervals=intervals))
    table = board.table.set_index("model")
    # A lower bound for the winner and an upper one for the loser, as a one-sided model of a
    # larger board gets: never a zero-width interval around a rating the ridge made up.
    assert list(board.table["model"]) == ["x", "y"]
    assert (
        np.isnan(table.loc["x", "ci_high"]) and table.loc["x", "ci_low"] == table.loc["x", "rating"]
    )
    assert (
        np.isnan(table.loc["y", "ci_low"]) and table.loc["y", "ci_high"] == table.loc["y", "rating"]
    )
    assert table.loc["x", "note"] == f"never lost in {n} votes: rating is a bound"
    assert table.loc["y", "note"] == f"never won in {n} votes: rating is a bound"
    # Winning all of n votes has probability 2.5% at the gap's bound: logit(0.025 ** (1 / n)).
    p = 0.025 ** (1 / n)
    gap = 400 / np.log(10) * np.log(p / (1 - p))
    assert np.isclose(table.loc["x", "rating"] - table.loc["y", "rating"], gap)
    assert np.isclose(table["rating"].mean(), 1000.0)
    # Two votes do not separate them (both rank first); twenty do.
    assert list(board.table["rank"]) == ([1, 1] if n == 2 else [1, 2])


def test_two_model_board_prints_bounds_in_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    pd.DataFrame({"model_a": ["x", "x"], "model_b": ["y", "y"], "winner": ["model_a"] * 2}).to_csv(
        path, index=False
    )
    proc = subprocess.run(
        [*PADDOCK, "leaderboard", "--votes", str(path), "--format", "markdown"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    x = next(row for row in proc.stdout.splitlines() if "| x " in row)
    y = next(row for row in proc.stdout.splitlines() if "| y " in row)
    assert "| ≥ 854.7 | ≥ 854.7 |" in x and "| ≤ 1145.3 | ≤ 1145.3 |" in y
    assert " – " not in proc.stdout


@pytest.mark.parametrize("kind", ["header.csv", "empty.csv", "rows0.parquet", "blank.jsonl"])
def test_a_votes_file_without_votes_says_so(tmp_path: Path, kind: str) -> None:
    path = tmp_path / kind
    if kind == "header.csv":
        path.write_text("model_a,model_b,winner\n")
    elif kind == "empty.csv":
        path.write_text("")
    elif kind == "rows0.parquet":
        pd.DataFrame({"model_a": [], "model_b": [], "winner": []}, dtype=str).to_parquet(path)
    else:
        path.write_text("\n  \n")
    proc = subprocess.run(
        [*PADDOCK, "leaderboard", "--votes", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert f"votes file {path} has no votes" in proc.stderr


def test_bad_rows_are_named_by_the_files_line(tmp_path: Path) -> None:
    votes = small_arena().head(20).copy()
    votes.loc[7, "winner"] = "draw"  # the 8th data row
    csv = tmp_path / "bad.csv"
    votes.to_csv(csv, index=False)
    jsonl = tmp_path / "bad.jsonl"
    lines = votes.to_json(orient="records", lines=True).splitlines()
    jsonl.write_text("\n".join(lines[:3] + [""] + lines[3:]) + "\n")  # a blank line 4
    parquet = tmp_path / "bad.parquet"
    votes.to_parquet(parquet)
    selfie = tmp_path / "self.csv"
    twin = small_arena().head(20).copy()
    twin.loc[2, "model_b"] = twin.loc[2, "model_a"]
    twin.to_csv(selfie, index=False)
    prob = tmp_path / "prob.csv"
    weighted = small_arena().head(20).assign(sampling_prob=0.5)
    weighted.loc[4, "sampling_prob"] = 1.5
    weighted.to_csv(prob, index=False)
    for path, where in [
        (csv, "line 9, column winner: unknown label 'draw'"),
        (jsonl, "line 9, column winner: unknown label 'draw'"),
        (parquet, "row 8, column winner: unknown label 'draw'"),
        (selfie, f"line 4: model {twin.loc[2, 'model_a']!r} battles itself"),
        (prob, "line 6, column sampling_prob: '1.5' is not a probability in (0, 1]"),
    ]:
        proc = subprocess.run(
            [*PADDOCK, "leaderboard", "--votes", str(path), "--bootstrap", "0"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert f"{path}, {where}" in proc.stderr


def test_a_model_that_only_met_one_sided_models_is_still_rated() -> None:
    # m8 beat m7 (which never won) and lost to m9 (which never lost, and met only m8): leaving
    # the one-sided models out would leave m8 with no votes at all.
    votes = small_arena(rare_wins=0)
    rare = pd.DataFrame(
        {"model_a": ["m8"] * 6 + ["m9"] * 6, "model_b": ["m7"] * 6 + ["m8"] * 6,
         "winner": "model_a"}
    )  # fmt: skip
    counts = pair_counts_from_battles(pd.concat([votes, rare], ignore_index=True))
    table = compute_leaderboard(counts, RatingSettings(n_bootstrap=50)).table.set_index("model")
    assert set(table.index) == {f"m{i}" for i in range(10)}
    assert np.isfinite(table["rating"]).all()
