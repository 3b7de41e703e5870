"""The Leaderboard tab's content: Bradley-Terry table per pool, metric columns, figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from arena_helpers import seeded_store

from arena.web.leaderboard_view import compute_board
from leaderboards.metric_columns import metric_columns, metric_means
from metrics.base import MetricResult


def _votes(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    strength = {"alpha": 2.0, "beta": 1.0, "gamma": 0.5}
    names = list(strength)
    a = rng.integers(0, 3, n)
    b = (a + rng.integers(1, 3, n)) % 3
    p = np.array(
        [
            strength[names[i]] / (strength[names[i]] + strength[names[j]])
            for i, j in zip(a, b, strict=True)
        ]
    )
    winner = np.where(rng.random(n) < p, "model_a", "model_b")
    return pd.DataFrame(
        {"model_a": np.array(names)[a], "model_b": np.array(names)[b], "winner": winner}
    )


def test_board_ranks_by_strength_and_shows_metric_columns(data_dir):
    store = seeded_store(data_dir)
    store.import_battles(_votes(3000))
    for i, clip in enumerate(store.clips()):
        store.record_metric_results(
            clip.id,
            [
                MetricResult(
                    metric="temporal",
                    version="1",
                    status="ok",
                    values={"flicker": 0.9 + 0.001 * i, "verdict": "fine"},
                    units={},
                    reason=None,
                    backend="test",
                    weights_sha256=None,
                    params={},
                )
            ],
        )
    view = compute_board(store, "all", n_bootstrap=200)
    assert list(view.table["model"]) == ["alpha", "beta", "gamma"]
    assert (view.table["ci_low"] <= view.table["rating"]).all()
    assert "temporal.flicker" in view.table.columns
    # The clips have generation times but no prices: the speed chart, no price chart.
    assert set(view.figures) == {"ratings", "win rates", "battles", "speed"}
    empty = compute_board(store, "i2v, silent")
    assert empty.table.empty and "No votes" in empty.summary
    store.close()


def test_metric_means_interval_brackets_the_mean():
    values = pd.DataFrame(
        {
            "model": ["a"] * 50 + ["b"] * 50,
            "metric": "m",
            "key": "k",
            "value": np.r_[np.linspace(0, 1, 50), np.linspace(2, 3, 50)],
        }
    )
    means = metric_means(values, n_bootstrap=300)
    a = means.set_index("model").loc["a"]
    assert a["low"] < a["mean"] < a["high"] and abs(a["mean"] - 0.5) < 1e-9
    wide = metric_columns(means)
    assert list(wide.columns) == ["model", "m.k"] and wide.loc[0, "m.k"].startswith("0.5 [")


def test_tab_hides_tables_with_nothing_to_show(data_dir):
    """Votes but no metric results: the agreement note says why, and no empty grid is drawn."""
    from arena.web.app import board_updates
    from arena.web.leaderboard_view import leaderboard_view

    store = seeded_store(data_dir)
    store.import_battles(_votes(300))
    summary, table, ratings, wins, battles, note, agreement, *_ = board_updates(
        leaderboard_view(store)
    )
    assert "No metric results yet" in note
    assert agreement["visible"] is False
    assert table["visible"] is True and ratings["visible"] is True
    summary, table, *_ = board_updates(leaderboard_view(store, "i2v, silent"))
    assert "No votes" in summary and table["visible"] is False
    store.close()
