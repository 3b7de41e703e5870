"""Targeted-voting detection: per-rater, per-model offsets against the board (leaderboards.targeted)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from arena.domain.sim_raters import RaterModel, taste_votes, true_ratings
from leaderboards.errors import RatingInputError
from leaderboards.targeted import RESULT_COLUMNS, benjamini_hochberg, detect_targeted

#: Honest raters who differ: a shared style axis with a wide spread of tastes, consistency that
#: varies by rater, a tenth voting at random.
TASTES = RaterModel(taste_sd=60.0, consistency_sd=0.3, rater_votes=(20, 200))


def _truth(k: int = 6) -> dict[str, float]:
    return {f"m{i}": float(r) for i, r in enumerate(true_ratings(k))}


def _shill(truth: dict[str, float], target: str, n: int, seed: int, rater: str) -> pd.DataFrame:
    """A rater who votes for ``target`` whenever it is shown and honestly otherwise."""
    rng = np.random.default_rng(seed)
    names = sorted(truth)
    left = rng.integers(0, len(names), n)
    right = (left + rng.integers(1, len(names), n)) % len(names)
    rows = []
    for i, j in zip(left, right, strict=True):
        a, b = names[i], names[j]
        if target in (a, b):
            outcome = "left" if a == target else "right"
        else:
            p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
            outcome = "left" if rng.random() < p else "right"
        rows.append((rater, a, b, outcome))
    return pd.DataFrame(rows, columns=["rater_id", "left_model", "right_model", "outcome"])


@pytest.fixture(scope="module")
def honest():
    truth = _truth()
    votes, careless = taste_votes(TASTES, truth, 400, seed=3)
    return truth, votes, careless


def test_a_rater_voting_for_one_model_is_flagged_and_honest_tastes_are_not(honest):
    truth, votes, _ = honest
    # The third model, voted for whenever shown: the board has it well below the top.
    shill = _shill(truth, "m2", 150, seed=1, rater="shill")
    flags = detect_targeted(pd.concat([votes, shill], ignore_index=True))
    assert list(flags.columns) == RESULT_COLUMNS
    mine = flags[flags["rater_id"] == "shill"]
    assert len(mine) == 1 and mine.iloc[0]["model"] == "m2" and mine.iloc[0]["direction"] == "for"
    row = mine.iloc[0]
    assert row["observed"] == row["votes"] and row["expected"] < 0.8 * row["votes"]
    assert row["p_value"] <= row["q_value"] <= 0.01
    honest_flagged = set(flags["rater_id"]) - {"shill"}
    assert len(honest_flagged) <= 4  # 1% of 400 raters


def test_a_rater_voting_against_one_model_is_flagged(honest):
    truth, votes, _ = honest
    spoiler = _shill(truth, "m0", 150, seed=2, rater="spoiler")
    has_top = (spoiler["left_model"] == "m0") | (spoiler["right_model"] == "m0")
    other = np.where(spoiler["left_model"] == "m0", "right", "left")
    spoiler.loc[has_top, "outcome"] = other[has_top]
    flags = detect_targeted(pd.concat([votes, spoiler], ignore_index=True))
    mine = flags[flags["rater_id"] == "spoiler"]
    assert set(zip(mine["model"], mine["direction"], strict=True)) == {("m0", "against")}


def test_honest_raters_with_shared_style_tastes_are_not_flagged():
    truth = _truth(8)
    flagged = 0
    for seed in range(3):
        votes, _ = taste_votes(TASTES, truth, 300, seed=seed)
        flagged += detect_targeted(votes)["rater_id"].nunique()
    assert flagged <= 9  # 1% of 900 raters


def test_given_ratings_and_fitted_ones_agree_and_errors_name_the_problem(honest):
    truth, votes, _ = honest
    shill = _shill(truth, "m2", 150, seed=1, rater="shill")
    both = pd.concat([votes, shill], ignore_index=True)
    given = detect_targeted(both, ratings=truth)
    assert "shill" in set(given["rater_id"])
    with pytest.raises(RatingInputError, match="m5"):
        detect_targeted(both, ratings={m: r for m, r in truth.items() if m != "m5"})
    with pytest.raises(RatingInputError, match="'draw'"):
        detect_targeted(both.assign(outcome="draw"))
    assert detect_targeted(both, min_votes=10**6).empty


def test_benjamini_hochberg_matches_the_step_up_rule():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    # sorted .01 .03 .04 .5 times 4 / rank: .04 .06 .0533 .5, then the running minimum from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_runs_on_100k_votes_in_seconds():
    truth = _truth(10)
    votes, _ = taste_votes(RaterModel(taste_sd=60.0, rater_votes=(20, 80)), truth, 2000, seed=9)
    assert len(votes) > 90_000
    start = time.perf_counter()
    detect_targeted(votes)
    assert time.perf_counter() - start < 20.0  # a few seconds; slack for a loaded machine
