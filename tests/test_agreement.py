"""Metric-human agreement and rater statistics: pure functions, and the Leaderboard tab's table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arena_helpers import seeded_store
from scipy.stats import kendalltau, spearmanr

from leaderboards.agreement import (
    AGREEMENT_COLUMNS,
    agreement_display,
    agreement_table,
    kendall_rows,
    pairwise_accuracy,
    rank_agreement,
    spearman_rows,
)
from leaderboards.errors import RatingInputError
from leaderboards.raters import (
    _alpha_from_codes,
    agreement_with_others,
    gold_accuracy,
    inter_rater_agreement,
    time_to_vote,
)
from metrics.base import MetricResult


def _values(per_clip: dict[str, float], metric="m", key="k", model=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "clip_id": list(per_clip),
            "model": [model(c) if model else c[0] for c in per_clip],
            "metric": metric,
            "key": key,
            "value": list(per_clip.values()),
        }
    )


def _battles(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["clip_a", "clip_b", "winner"])


def test_pairwise_accuracy_counts_decisive_votes_in_the_metric_direction():
    values = _values({"a1": 3.0, "b1": 2.0, "c1": 1.0, "d1": 1.0})
    battles = _battles(
        [
            ("a1", "b1", "model_a"),  # metric right (a higher)
            ("c1", "b1", "model_b"),  # right (b higher)
            ("c1", "a1", "model_a"),  # wrong
            ("a1", "b1", "tie"),  # left out
            ("a1", "c1", "tie (bothbad)"),  # left out
            ("c1", "d1", "model_a"),  # equal values: half
            ("a1", "x9", "model_a"),  # x9 has no value: left out
        ]
    )
    higher = pairwise_accuracy(battles, values, {"m.k": True}, n_bootstrap=500)
    row = higher.iloc[0]
    assert list(higher.columns) == list(AGREEMENT_COLUMNS[:7])
    assert row["n_pairs"] == 4 and row["metric_ties"] == 1
    assert row["accuracy"] == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"]
    lower = pairwise_accuracy(battles, values, {"m.k": False}, n_bootstrap=0).iloc[0]
    assert lower["accuracy"] == pytest.approx((0 + 0 + 1 + 0.5) / 4)
    assert np.isnan(lower["accuracy_low"])
    assert pairwise_accuracy(battles, values, {"other.k": True}).empty


def test_pairwise_accuracy_interval_shrinks_with_more_votes_and_covers_the_truth():
    rng = np.random.default_rng(1)
    clips = {f"c{i}": float(v) for i, v in enumerate(rng.normal(size=200))}
    names = list(clips)

    def votes(n):
        a = rng.integers(0, 200, n)
        b = (a + rng.integers(1, 200, n)) % 200
        agree = rng.random(n) < 0.7  # the rater follows the metric 70% of the time
        higher = np.array([clips[names[i]] > clips[names[j]] for i, j in zip(a, b, strict=True)])
        winner = np.where(higher == agree, "model_a", "model_b")
        return _battles(zip(np.array(names)[a], np.array(names)[b], winner, strict=True))

    values = _values(clips)
    small = pairwise_accuracy(votes(200), values, {"m.k": True}).iloc[0]
    many = votes(5000)
    large = pairwise_accuracy(many, values, {"m.k": True}).iloc[0]
    # Votes aggregated per (clip pair, winner), as the store hands them over, give the same.
    counted = many.groupby(["clip_a", "clip_b", "winner"]).size().reset_index(name="count")
    assert len(counted) < len(many)
    same = pairwise_accuracy(counted, values, {"m.k": True}).iloc[0]
    assert same.equals(large)
    assert (
        large["accuracy_high"] - large["accuracy_low"]
        < small["accuracy_high"] - small["accuracy_low"]
    )
    assert large["accuracy_low"] < 0.7 < large["accuracy_high"]


def test_row_correlations_match_scipy_with_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (20, 9)).astype(float)
    y = rng.normal(size=(20, 9))
    y[:, 3] = y[:, 4]
    for r in range(20):
        assert spearman_rows(x[r], y[r])[0] == pytest.approx(spearmanr(x[r], y[r])[0])
        assert kendall_rows(x[r], y[r])[0] == pytest.approx(kendalltau(x[r], y[r])[0])
    assert np.isnan(spearman_rows(np.ones(5), np.arange(5.0))[0])


def test_rank_agreement_orients_lower_is_better_metrics():
    ratings = pd.Series({"p": 1200.0, "q": 1100.0, "r": 1000.0, "s": 900.0})
    rng = np.random.default_rng(0)
    rows = []
    for rank, model in enumerate(ratings.index):
        for i in range(10):
            rows.append((f"{model}{i}", model, "lag", "ms", 10.0 * rank + rng.normal(0, 1)))
    values = pd.DataFrame(rows, columns=["clip_id", "model", "metric", "key", "value"])
    replicates = pd.DataFrame(
        ratings.to_numpy() + rng.normal(0, 5, (300, 4)), columns=list(ratings.index)
    )
    good = rank_agreement(values, ratings, {"lag.ms": False}, replicates, n_bootstrap=300)
    row = good.iloc[0]
    assert row["spearman"] == pytest.approx(1.0) and row["kendall"] == pytest.approx(1.0)
    assert row["spearman_low"] > 0.5 and row["n_models"] == 4
    wrong = rank_agreement(values, ratings, {"lag.ms": True}, n_bootstrap=0).iloc[0]
    assert wrong["spearman"] == pytest.approx(-1.0)
    few = rank_agreement(values, ratings.iloc[:2], {"lag.ms": False}).iloc[0]
    assert few["n_models"] == 2 and np.isnan(few["spearman"])


def test_agreement_table_and_display_and_bad_input():
    values = _values({"a1": 2.0, "b1": 1.0, "c1": 0.0}, model=lambda c: c[0])
    battles = _battles([("a1", "b1", "model_a"), ("b1", "c1", "model_a"), ("a1", "c1", "model_b")])
    ratings = pd.Series({"a": 1100.0, "b": 1000.0, "c": 900.0})
    table = agreement_table(battles, values, {"m.k": True}, ratings, n_bootstrap=100)
    assert list(table.columns) == list(AGREEMENT_COLUMNS)
    assert table.loc[0, "accuracy"] == pytest.approx(2 / 3) and table.loc[0, "n_models"] == 3
    shown = agreement_display(table)
    assert shown.loc[0, "pairwise accuracy [95% CI]"].startswith("0.67 [")
    assert shown.loc[0, "pairs"] == 3
    with pytest.raises(RatingInputError, match="clip_b"):
        pairwise_accuracy(battles.drop(columns="clip_b"), values, {"m.k": True})
    with pytest.raises(RatingInputError, match="value"):
        rank_agreement(values.drop(columns="value"), ratings, {"m.k": True})


def test_krippendorff_alpha_matches_the_published_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units,
    # nominal alpha = 0.743.
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    item, code = [], []
    for row in coders:
        for unit, value in enumerate(row):
            if value is not None:
                item.append(unit)
                code.append(value - 1)
    alpha, n = _alpha_from_codes(np.array(item), np.array(code), 5)
    assert alpha == pytest.approx(0.743, abs=5e-4)
    assert n == 40


def test_inter_rater_agreement_compares_the_same_clips_across_sides():
    rows = []
    for k in range(6):
        a, b = f"x{k}", f"y{k}"
        rows.append((a, b, "model_a", "r1"))  # r1 prefers x
        rows.append((b, a, "model_b", "r2"))  # r2 saw the sides swapped and also prefers x
    battles = pd.DataFrame(rows, columns=["clip_a", "clip_b", "winner", "rater"])
    same = inter_rater_agreement(battles, n_bootstrap=50)
    assert same["items"] == 6 and same["raw_agreement"] == 1.0
    battles.loc[battles["rater"] == "r2", "winner"] = "model_a"
    battles.loc[11, "winner"] = "tie"  # a second category so alpha is defined
    opposite = inter_rater_agreement(battles, n_bootstrap=50)
    assert opposite["raw_agreement"] == 0.0 and opposite["alpha"] < 0
    per_rater = agreement_with_others(battles)
    assert set(per_rater["rater"]) == {"r1", "r2"} and (per_rater["agree"] == 0).all()
    lonely = inter_rater_agreement(battles[battles["rater"] == "r1"])
    assert lonely["items"] == 0 and np.isnan(lonely["alpha"])


def test_gold_accuracy_and_time_to_vote():
    gold = pd.DataFrame({"rater": ["a", "b"], "gold_seen": [10, 4], "gold_correct": [8, 1]})
    table = gold_accuracy(gold).set_index("rater")
    assert table.loc["a", "accuracy"] == 0.8
    assert table.loc["a", "low"] == pytest.approx(0.490, abs=1e-3)
    assert table.loc["a", "high"] == pytest.approx(0.943, abs=1e-3)
    votes = pd.DataFrame({"rater": ["a", "a", "a", "b"], "time_to_vote_s": [2.0, 4.0, None, 9.0]})
    times = time_to_vote(votes).set_index("rater")
    assert times.loc["a", "votes"] == 3 and times.loc["a", "timed"] == 2
    assert times.loc["a", "median_s"] == 3.0
    with pytest.raises(RatingInputError, match="gold_seen"):
        gold_accuracy(gold.drop(columns="gold_seen"))


def _flicker(i: float) -> list[MetricResult]:
    return [
        MetricResult(
            metric="temporal",
            version="1",
            status="ok",
            values={"flicker": i, "verdict": "fine"},
            units={},
            reason=None,
            backend="test",
            weights_sha256=None,
            params={},
        )
    ]


def test_leaderboard_tab_shows_the_agreement_table(data_dir):
    from arena.web.leaderboard_view import compute_board, leaderboard_view

    store = seeded_store(data_dir)
    by_model = {}
    for clip in store.clips():
        by_model.setdefault(store.model_by_id(clip.model_id).name, []).append(clip)
    view = compute_board(store, "all", n_bootstrap=50)
    assert view.agreement is None and "No ratings yet" in view.agreement_summary
    # alpha beats beta beats gamma; beta's clips have no metric at all.
    rows = []
    for i in range(60):
        first, second = ("alpha", "beta", "gamma")[i % 3], ("beta", "gamma", "alpha")[i % 3]
        winner = "model_a" if (first, second) != ("gamma", "alpha") else "model_b"
        a, b = by_model[first][i % 3], by_model[second][i % 3]
        rows.append((first, second, winner, a.id, b.id, a.prompt_id))
    store.import_battles(
        pd.DataFrame(
            rows, columns=["model_a", "model_b", "winner", "clip_a", "clip_b", "prompt_id"]
        )
    )
    view = compute_board(store, "all", n_bootstrap=50)
    assert view.agreement is None and "No metric results" in view.agreement_summary
    # temporal.flicker (higher is better): alpha's clips 0.9, gamma's 0.1.
    for name, level in (("alpha", 0.9), ("gamma", 0.1)):
        for clip in by_model[name]:
            store.record_metric_results(clip.id, _flicker(level))
    view = leaderboard_view(store, "all")
    # (the clips have generation times, so the speed chart comes too: price-speed.md)
    assert set(view.figures) - {"speed"} == {"ratings", "win rates", "battles"}
    note, table = view.agreement_summary, view.agreement
    assert "78%" in note and "45%" in note
    row = table.set_index("metric").loc["temporal.flicker"]
    assert row["pairs"] == 20  # only alpha-gamma votes have both clips scored
    assert row["pairwise accuracy [95% CI]"].startswith("1.00")
    assert row["models"] == 2 and row["Spearman [95% CI]"] == "–"
    store.close()
