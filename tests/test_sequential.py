"""The duel's sequential test: error rates under continuous monitoring, power, interval, status."""

import math

import numpy as np
import pytest

from leaderboards.sequential import (
    first_rejection,
    log_mixture,
    sequential_test,
    status_line,
    votes_to_significance,
)

SEQUENCES, VOTES = 500, 2000
SLACK = 0.015  # about two standard errors of a 5% rate over 500 sequences


def votes(rng: np.random.Generator, p_win: float, p_tie: float = 0.0) -> np.ndarray:
    """SEQUENCES x VOTES scores for B: 1 win, 0 loss, 1/2 tie."""
    u = rng.random((SEQUENCES, VOTES))
    wins = u < p_win * (1 - p_tie)
    ties = u >= 1 - p_tie
    return np.where(ties, 0.5, wins.astype(float))


@pytest.mark.parametrize("p_tie", [0.0, 0.3])
def test_equal_models_are_rarely_called_different_however_often_one_looks(p_tie):
    # A == B: the test is checked after every single vote, up to 2000 of them.
    stops = first_rejection(votes(np.random.default_rng(11), 0.5, p_tie))
    assert (stops > 0).mean() <= 0.05 + SLACK


def test_a_better_model_is_found_well_before_2000_votes():
    stops = first_rejection(votes(np.random.default_rng(12), 0.6))
    assert (stops > 0).mean() >= 0.97
    assert np.median(stops[stops > 0]) < 400


def test_the_confidence_sequence_holds_the_true_rate_at_every_look():
    # Interval excludes p0 exactly when M_n(p0) >= 1/alpha: check that event over all looks.
    scores = votes(np.random.default_rng(13), 0.6, 0.2)
    true_rate = 0.6 * 0.8 + 0.5 * 0.2
    cum = np.cumsum(scores, axis=1)
    n = np.arange(1, VOTES + 1, dtype=float)
    missed = (log_mixture(cum, n[None, :], true_rate) >= math.log(20)).any(axis=1)
    assert missed.mean() <= 0.05 + SLACK


def test_interval_and_verdict_agree_and_the_status_says_when_to_stop():
    done = sequential_test(130, 82, 0)
    assert done.significant and done.ci_low > 0.5 and done.win_rate == pytest.approx(130 / 212)
    assert done.ci_low < done.win_rate < done.ci_high
    assert "significant (B is better), you can stop" in status_line(done)
    assert status_line(done, "v1", "v2").startswith("v2 wins 61% [")

    open_ = sequential_test(30, 25, 5)
    assert not open_.significant and open_.ci_low < 0.5 < open_.ci_high
    assert open_.win_rate == pytest.approx(32.5 / 60)
    line = status_line(open_)
    assert f"about {open_.more_votes} more votes" in line and "not significant yet" in line
    # The projection is what it says: at the same win rate, that many more votes are enough.
    total = 60 + open_.more_votes
    assert log_mixture(open_.win_rate * total, total) >= math.log(20)
    assert log_mixture(open_.win_rate * (total - 2), total - 2) < math.log(20)

    worse = sequential_test(40, 100, 10)
    assert worse.significant and worse.ci_high < 0.5 and "(A is better)" in status_line(worse)
    even = sequential_test(50, 50, 0)
    assert even.more_votes is None and "no difference seen so far" in status_line(even)
    assert votes_to_significance(0.5, 100) is None
    assert "No votes yet" in status_line(sequential_test(0, 0, 0))
    with pytest.raises(ValueError, match="alpha"):
        sequential_test(1, 1, alpha=1.5)
