"""Leaderboard resolution: separated neighbours and the votes still needed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from leaderboards import RatingSettings, compute_leaderboard
from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import ELO_PER_NAT
from leaderboards.resolution import neighbour_resolution, resolution_frame, resolution_summary


def simulated_counts(
    elo: dict[str, float], per_pair: int, seed: int = 0, exact: bool = False
) -> pd.DataFrame:
    """Votes between every pair; ``exact``: the expected number of wins (no sampling noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    names = list(elo)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            p = expit((elo[a] - elo[b]) / ELO_PER_NAT)
            wins = round(per_pair * p) if exact else rng.binomial(per_pair, p)
            rows += [(a, b, "model_a", wins), (a, b, "model_b", per_pair - wins)]
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner", "count"])


def test_far_models_are_separated_close_ones_need_more_votes():
    elo = {"top": 1300.0, "mid": 1000.0, "twin": 1000.0}
    board = compute_leaderboard(simulated_counts(elo, 100), RatingSettings(n_bootstrap=200, seed=1))
    rows = neighbour_resolution(board)
    assert [(r.upper, r.lower) for r in rows][0] == ("top", rows[1].upper)
    assert rows[0].separated and rows[0].more_votes == 0
    close = rows[1]
    assert not close.separated
    assert close.more_votes is None or close.more_votes > board.n_votes
    frame = resolution_frame(board)
    assert list(frame.columns) == ["upper", "lower", "gap", "separated", "more_votes"]
    assert "1 of 2" in resolution_summary(board)


def test_estimate_predicts_when_intervals_separate():
    # Noise-free vote tables (expected win counts) so the gap stays the true one: the
    # estimate from a small table says when the intervals of a larger one stop overlapping.
    elo = {"a": 1020.0, "b": 980.0}
    small = compute_leaderboard(
        simulated_counts(elo, 60, exact=True), RatingSettings(n_bootstrap=400)
    )
    (row,) = neighbour_resolution(small)
    assert not row.separated and row.more_votes > 0
    total = small.n_votes + row.more_votes

    def separated_at(n: int) -> bool:
        board = compute_leaderboard(
            simulated_counts(elo, n, exact=True), RatingSettings(n_bootstrap=400)
        )
        return neighbour_resolution(board)[0].separated

    assert separated_at(round(1.3 * total))
    assert not separated_at(round(0.7 * total))


def test_needs_two_models():
    board = compute_leaderboard(
        simulated_counts({"a": 1000.0, "b": 1000.0}, 10), RatingSettings(n_bootstrap=20)
    )
    object.__setattr__(board, "table", board.table.iloc[:1])
    with pytest.raises(RatingInputError):
        neighbour_resolution(board)


def test_resolution_line_reads_as_plain_words():
    from leaderboards.resolution import resolution_text

    line = resolution_text(2, 6, [44, 900, 18324], 1)
    assert line == (
        "2 of 6 neighbouring pairs are separated; about 44 more votes would separate the next "
        "pair, about 18,324 all 3 pairs still apart; 1 pair is too close to tell apart with "
        "more votes"
    )
    assert resolution_text(1, 1, [], 0) == "1 of 1 neighbouring pairs is separated"
    assert "~" not in resolution_text(0, 3, [5, 7], 0)
