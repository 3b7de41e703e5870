"""`paddock leaderboard`: reads a store or a battle file, prints, snapshots and plots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.store import Store
from leaderboards import RatingSettings, compute_leaderboard, vote_set_hash
from leaderboards.counts import pair_counts_from_battles
from leaderboards.errors import RatingInputError

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]
COLUMNS = {
    "model",
    "rating",
    "ci_low",
    "ci_high",
    "rank",
    "votes",
    "wins",
    "ties",
    "losses",
    "win_rate",
    "preliminary",
    "note",
    "votes_since_change",  # every board marks provisional ratings
    "provisional",
}


@pytest.fixture(scope="module")
def battles() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    names = np.array(["pony", "pony-lag", "pony-mute", "pony-drift"])
    strength = np.array([1.0, 0.3, 0.0, -0.8])
    a = rng.integers(0, 4, 1200)
    b = (a + rng.integers(1, 4, 1200)) % 4
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    u = rng.random(1200)
    winner = np.where(
        u < 0.9 * p,
        "model_a",
        np.where(u < 0.9, "model_b", np.where(u < 0.96, "tie", "tie (bothbad)")),
    )
    return pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner})


def run(*args: str) -> object:
    return CliRunner().invoke(app, ["leaderboard", *args], catch_exceptions=True)


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
def test_votes_file_json_matches_library(
    tmp_path: Path, battles: pd.DataFrame, suffix: str
) -> None:
    path = tmp_path / f"votes.{suffix}"
    if suffix == "parquet":
        battles.to_parquet(path)
    elif suffix == "csv":
        battles.to_csv(path, index=False)
    else:
        battles.to_json(path, orient="records", lines=True)
    result = run("--votes", str(path), "--bootstrap", "200", "--seed", "5", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [set(r) for r in rows] == [COLUMNS] * 4
    board = compute_leaderboard(
        pair_counts_from_battles(battles), RatingSettings(n_bootstrap=200, seed=5)
    )
    expected = board.table.set_index("model")
    for row in rows:
        assert row["rating"] == pytest.approx(expected.loc[row["model"], "rating"], abs=0.01)
        assert row["ci_low"] == pytest.approx(expected.loc[row["model"], "ci_low"], abs=0.01)
    assert rows[0]["model"] == "pony" and rows[0]["rank"] == 1


def test_store_pool_snapshot_and_plots(tmp_path: Path, battles: pd.DataFrame) -> None:
    data = tmp_path / "data"
    with Store.open(data) as store:
        for name in sorted(set(battles["model_a"])):
            store.add_model(name, "imported")
        store.import_battles(battles)
    snap, plots = tmp_path / "snap", tmp_path / "plots"
    result = run(
        "--data",
        str(data),
        "--bootstrap",
        "100",
        "--format",
        "csv",
        "--ties",
        "davidson",
        "--position-bias",
        "--snapshot",
        str(snap),
        "--plot",
        str(plots),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("model,rating,ci_low,ci_high,rank")
    (snapshot,) = snap.glob("leaderboard-*.json")
    content = json.loads(snapshot.read_text())
    assert content["vote_set_hash"] == vote_set_hash(pair_counts_from_battles(battles))
    assert content["settings"]["ties"] == "davidson" and content["settings"]["position_bias"]
    assert content["position_bias_elo"]["value"] is not None
    assert content["pool"]["exclude_flagged"] is True
    assert snapshot.with_suffix(".csv").is_file()
    assert sorted(p.name for p in plots.iterdir()) == [
        "battle_count.png",
        "rating_vs_votes.png",
        "ratings.png",
        "win_rate.png",
    ]
    head = run(
        "--data",
        str(data),
        "--bootstrap",
        "0",
        "--models",
        "pony,pony-lag",
        "--format",
        "markdown",
        "--anchor",
        "pony-lag=1100",
    )
    assert head.exit_code == 0, head.output
    # (marked † while provisional: fewer than 500 votes since it was added)
    assert "| 2 | pony-lag † | 1100.0 |" in head.stdout or "pony-lag † | 1100.0" in head.stdout
    assert "pony-mute" not in head.stdout
    table = run("--data", str(data), "--bootstrap", "50", "--category", "t2v", "--audio")
    assert table.exit_code == 0 and "pony-drift" in table.stdout
    silent = run("--data", str(data), "--silent", "--since", "2020-01-01")
    assert "no votes match this pool" in str(silent.exception)


def test_user_errors_are_one_line_exit_2(tmp_path: Path, battles: pd.DataFrame) -> None:
    bad = battles.copy()
    bad.loc[7, "winner"] = "draw"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    proc = subprocess.run(
        [*PADDOCK, "leaderboard", "--votes", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown label 'draw'" in proc.stderr
    split = pd.DataFrame({"model_a": ["a", "c"], "model_b": ["b", "d"], "winner": ["tie", "tie"]})
    split.to_csv(path, index=False)
    result = run("--votes", str(path))
    assert isinstance(result.exception, RatingInputError)
    assert "group 1: a, b; group 2: c, d" in str(result.exception)
    for args, message in [
        (["--category", "t2v"], "--category select votes in a store"),
        (["--anchor", "pony"], "--anchor must look like MODEL=RATING"),
    ]:
        result = run("--votes", str(path), *args)
        assert message in str(result.exception)
