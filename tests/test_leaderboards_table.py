"""The leaderboard table and its outputs: columns, ranks, matrices, bad input, snapshots, plots."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from leaderboard_support import (
    sample_counts,
    simulate_counts,
)
from scipy.special import expit

from leaderboards import (
    PairCounts,
    RatingSettings,
    battle_count_matrix,
    compute_leaderboard,
    interval_ranks,
    online_elo,
    pair_counts_from_battles,
    pair_counts_from_frame,
    vote_set_hash,
    win_rate_matrix,
)
from leaderboards.errors import RatingInputError
from leaderboards.plots import figure_png, leaderboard_figures
from leaderboards.snapshot import snapshot_dict, snapshot_json, table_csv, table_markdown


@pytest.fixture(scope="module")
def votes_counts() -> PairCounts:
    return sample_counts()


def test_table_columns_totals_and_preliminary_flag() -> None:
    frame = pd.DataFrame(
        {
            "model_a": ["a", "a", "b", "b", "c", "a"],
            "model_b": ["b", "b", "a", "c", "a", "c"],
            "winner": ["model_a", "tie", "model_a", "tie (bothbad)", "model_b", "model_b"],
            "count": [30, 10, 20, 5, 3, 2],
        }
    )
    board = compute_leaderboard(frame, RatingSettings(n_bootstrap=100, min_votes=50))
    table = board.table.set_index("model")
    assert list(board.table.columns) == [
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
    ]
    assert table.loc["a"].to_dict() | {} == table.loc["a"].to_dict()
    assert (table.loc["a", "votes"], table.loc["a", "wins"], table.loc["a", "ties"]) == (65, 33, 10)
    assert table.loc["a", "losses"] == 22
    assert table.loc["a", "win_rate"] == pytest.approx((33 + 5) / 65)
    assert table.loc["c", "votes"] == 10 and table.loc["c", "preliminary"]
    assert not table.loc["a", "preliminary"]
    assert (board.table["ci_low"] <= board.table["rating"]).all()
    assert (board.table["rating"] <= board.table["ci_high"]).all()


def test_rank_rule() -> None:
    low = np.array([1100.0, 1080.0, 1000.0, 900.0])
    high = np.array([1150.0, 1120.0, 1090.0, 950.0])
    # model 2's upper bound 1090 is below model 0's lower bound 1100 only.
    assert interval_ranks(low, high).tolist() == [1, 1, 2, 4]
    board = compute_leaderboard(
        simulate_counts(np.random.default_rng(0), np.array([2.0, 0.0, 0.05, -2.0]), 4000),
        RatingSettings(n_bootstrap=200),
    )
    table = board.table
    expected = [1 + int((table["ci_low"] > high_i).sum()) for high_i in table["ci_high"]]
    assert table["rank"].tolist() == expected
    assert table["rank"].iloc[0] == 1 and table["rank"].iloc[-1] == 4


def test_matrices(votes_counts: PairCounts) -> None:
    games = battle_count_matrix(votes_counts)
    rates = win_rate_matrix(votes_counts)
    assert (games.to_numpy() == games.to_numpy().T).all()
    assert games.to_numpy().sum() == 2 * votes_counts.n_votes
    off = ~np.eye(len(rates), dtype=bool)
    assert np.allclose((rates + rates.T).to_numpy()[off], 1.0)
    assert np.isnan(np.diag(rates.to_numpy())).all()


def test_online_elo_sanity() -> None:
    first = online_elo(["a"], ["b"], ["model_a"])
    assert first["a"] == pytest.approx(1002.0) and first["b"] == pytest.approx(998.0)
    rng = np.random.default_rng(0)
    a = rng.choice(["x", "y", "z"], 3000)
    b = np.where(a == "x", "y", np.where(a == "y", "z", "x"))
    strength = {"x": 2.0, "y": 1.0, "z": 0.0}
    p = expit(np.array([strength[u] - strength[v] for u, v in zip(a, b, strict=True)]))
    winner = np.where(rng.random(3000) < p, "model_a", "model_b")
    ratings = online_elo(list(a), list(b), list(winner))
    assert list(ratings.index) == ["x", "y", "z"]
    assert ratings.sum() == pytest.approx(3000.0)
    assert online_elo(["a", "b"], ["b", "a"], ["tie", "tie (bothbad)"])["a"] == pytest.approx(
        1000.0
    )
    with pytest.raises(RatingInputError, match="row 1: unknown winner"):
        online_elo(["a", "a"], ["b", "b"], ["tie", "draw"])


# ---------------------------------------------------------------- bad input


def _frame(**overrides: list) -> pd.DataFrame:
    data = {
        "model_a": ["a", "b", "c"],
        "model_b": ["b", "c", "a"],
        "winner": ["model_a", "tie", "model_b"],
        "count": [3, 4, 5],
    }
    data.update(overrides)
    return pd.DataFrame(data)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame(winner=["model_a", "draw", "model_b"]), r"row 1: unknown winner label 'draw'"),
        (_frame(model_b=["b", "b", "a"]), r"row 1: model 'b' battles itself"),
        (_frame().iloc[0:0], "empty"),
        (_frame().drop(columns=["winner"]), "lacks column.*winner"),
        (_frame().drop(columns=["count", "model_b"]), "lacks column.*model_b, count"),
        (_frame(count=[3, -1, 5]), "row 1: count must be"),
        (_frame(count=[0, 0, 0]), "every count is zero"),
        (_frame(model_a=["a", "a", "a"], model_b=["b", "b", "b"], count=[0, 0, 1]).iloc[2:], None),
    ],
    ids=["label", "self", "empty", "column", "columns", "negative", "zero", "ok"],
)
def test_bad_count_tables(frame: pd.DataFrame, message: str | None) -> None:
    if message is None:
        assert pair_counts_from_frame(frame).n_models == 2
        return
    with pytest.raises(RatingInputError, match=message):
        compute_leaderboard(frame)


def test_single_model_and_bad_battles() -> None:
    with pytest.raises(RatingInputError, match="at least two models"):
        compute_leaderboard(pair_counts_from_frame(_frame()).restricted_to(["a"]))
    with pytest.raises(RatingInputError, match="row 2: sampling_prob"):
        pair_counts_from_battles(_frame().assign(sampling_prob=[0.5, 1.0, 0.0]))
    with pytest.raises(RatingInputError, match="battle table lacks column"):
        pair_counts_from_battles(pd.DataFrame({"model_a": ["a"], "model_b": ["b"]}))
    with pytest.raises(RatingInputError, match="empty"):
        pair_counts_from_battles(pd.DataFrame(columns=["model_a", "model_b", "winner"]))
    with pytest.raises(RatingInputError, match="ties must be one of"):
        RatingSettings(ties="rao-kupper")


def test_disconnected_graph_names_the_groups() -> None:
    frame = pd.DataFrame(
        {
            "model_a": ["a", "b", "x", "y", "a"],
            "model_b": ["b", "c", "y", "z", "c"],
            "winner": ["model_a"] * 5,
            "count": [5] * 5,
        }
    )
    with pytest.raises(RatingInputError, match=r"group 1: a, b, c; group 2: x, y, z"):
        compute_leaderboard(frame)
    # Head-to-head within one group is fine.
    counts = pair_counts_from_frame(frame).restricted_to(["x", "y"])
    assert counts.models == ("x", "y")


# ---------------------------------------------------------------- outputs


def test_snapshot_and_text_outputs(votes_counts: PairCounts) -> None:
    board = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=100, seed=4))
    snap = json.loads(
        snapshot_json(board, pool={"category": "t2v"}, created_at="2026-01-01T00:00Z")
    )
    assert snap["vote_set_hash"] == vote_set_hash(votes_counts)
    assert snap["settings"]["seed"] == 4 and snap["settings"]["n_bootstrap"] == 100
    assert snap["pool"] == {"category": "t2v"}
    assert set(snap["rows"][0]) == {
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
    }
    again = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=100, seed=4))
    assert snapshot_dict(again)["rows"] == snap["rows"]
    csv = table_csv(board)
    assert csv.splitlines()[0].startswith("model,rating,ci_low,ci_high,rank")
    assert len(csv.splitlines()) == votes_counts.n_models + 1
    assert table_markdown(board).startswith("| rank | model |")


def test_plots_produce_pngs(votes_counts: PairCounts) -> None:
    board = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=50, min_votes=900))
    figures = leaderboard_figures(board)
    assert set(figures) == {"ratings", "win_rate", "battle_count", "rating_vs_votes"}
    for figure in figures.values():
        png = figure_png(figure, dpi=50)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
