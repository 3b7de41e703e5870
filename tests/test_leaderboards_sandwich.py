"""Sandwich intervals: agree with the bootstrap, cover the true ratings, reach the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_leaderboards import centred_elo, expand_votes, simulate_counts
from typer.testing import CliRunner

from arena.cli import app
from leaderboards import ELO_PER_NAT, PairCounts, RatingSettings
from leaderboards import compute_leaderboard as fit
from leaderboards.errors import RatingInputError


def test_sandwich_matches_the_bootstrap_widths() -> None:
    rng = np.random.default_rng(11)
    theta = np.linspace(-1.0, 1.0, 8)
    counts = simulate_counts(rng, theta, 6000, tie_rate=0.1)
    for options in ({}, {"position_bias": True}, {"ties": "davidson"}, {"anchor": ("m02", 900.0)}):
        boot = fit(counts, RatingSettings(n_bootstrap=1000, seed=2, **options))
        sand = fit(counts, RatingSettings(intervals="sandwich", **options))
        b = boot.table.set_index("model").sort_index()
        s = sand.table.set_index("model").sort_index()
        assert np.allclose(b["rating"], s["rating"])
        width_b, width_s = b["ci_high"] - b["ci_low"], s["ci_high"] - s["ci_low"]
        assert np.allclose(width_s[width_b > 0], width_b[width_b > 0], rtol=0.15), options
        assert np.allclose(s["ci_high"] - s["rating"], s["rating"] - s["ci_low"])
        assert sand.replicates.empty
    bias = fit(counts, RatingSettings(intervals="sandwich", position_bias=True)).position_bias
    assert bias is not None and bias.low < bias.value < bias.high
    nu = fit(counts, RatingSettings(intervals="sandwich", ties="davidson")).tie_parameter
    assert nu is not None and 0 < nu.low < nu.value < nu.high


def test_sandwich_is_the_inverse_information_and_grows_with_overdispersion() -> None:
    # Two models, one pair: the variance of the log-odds is 1 / (n p (1 - p)), centred halves.
    counts = PairCounts(("a", "b"), np.array([0]), np.array([1]), np.array([[300, 100, 0, 0]]),
                        np.array([[300.0, 100.0, 0.0, 0.0]]))  # fmt: skip
    table = fit(counts, RatingSettings(intervals="sandwich", ridge=0.0)).table.set_index("model")
    se = 0.5 * np.sqrt(1 / (400 * 0.75 * 0.25)) * ELO_PER_NAT
    assert table.loc["a", "ci_high"] - table.loc["a", "rating"] == pytest.approx(1.959964 * se)
    # Ties are half a win whose variance is smaller than a coin's: the meat shrinks with them.
    tied = PairCounts(("a", "b"), np.array([0]), np.array([1]), np.array([[250, 50, 100, 0]]),
                      np.array([[250.0, 50.0, 100.0, 0.0]]))  # fmt: skip
    tied_table = fit(tied, RatingSettings(intervals="sandwich")).table.set_index("model")
    assert tied_table.loc["a", "ci_high"] - tied_table.loc["a", "rating"] < 1.959964 * se


def _coverage(seeds: range, ties: str, tie_rate: float) -> float:
    theta = np.linspace(-1.2, 1.2, 10)
    truth = centred_elo(theta)
    hits = []
    for seed in seeds:
        counts = simulate_counts(np.random.default_rng(seed), theta, 3000, tie_rate=tie_rate)
        board = fit(counts, RatingSettings(ties=ties, intervals="sandwich"))
        table = board.table.set_index("model").reindex(list(counts.models))
        hits.append((table["ci_low"] <= truth) & (truth <= table["ci_high"]))
    return float(np.mean(np.concatenate(hits)))


def test_sandwich_covers_true_ratings_95_percent() -> None:
    coverage = _coverage(range(600), "half", 0.0)
    assert 0.93 <= coverage <= 0.97, coverage


def test_sandwich_cli_and_bad_choice(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    votes = expand_votes(simulate_counts(rng, np.array([0.8, 0.0, -0.5, -0.9]), 1500))
    path = tmp_path / "votes.parquet"
    votes.to_parquet(path)
    result = CliRunner().invoke(
        app, ["leaderboard", "--votes", str(path), "--ci", "sandwich", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(r["ci_low"] < r["rating"] < r["ci_high"] for r in rows)
    assert rows[0]["model"] == "m00"
    bad = CliRunner().invoke(app, ["leaderboard", "--votes", str(path), "--ci", "jackknife"])
    assert bad.exit_code == 2
    with pytest.raises(RatingInputError, match="intervals must be one of"):
        RatingSettings(intervals="jackknife")
