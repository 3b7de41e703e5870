"""Online Elo over battles in order (the classic arena rating, for comparison only)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from leaderboards.counts import OUTCOMES
from leaderboards.errors import RatingInputError


def online_elo(
    model_a: Sequence[str],
    model_b: Sequence[str],
    winner: Sequence[str],
    k: float = 4.0,
    scale: float = 400.0,
    base: float = 10.0,
    init: float = 1000.0,
) -> pd.Series:
    """Sequential Elo updates, as FastChat's ``compute_online_elo``.

    For each battle in order, with ratings r_a, r_b: expected e_a = 1 / (1 + base^((r_b - r_a) /
    scale)); score s_a = 1 for a left win, 0 for a right win, 0.5 for a tie or both-bad; then
    r_a += k (s_a - e_a) and r_b -= k (s_a - e_a). The result depends on the order of battles,
    which is why the headline rating is the Bradley-Terry fit.

    Args:
        model_a: left model of each battle.
        model_b: right model of each battle.
        winner: one of ``"model_a"``, ``"model_b"``, ``"tie"``, ``"tie (bothbad)"`` per battle.
        k: update size (4 in Chatbot Arena).
        scale: rating points per factor ``base`` in odds (400).
        base: odds base (10).
        init: starting rating of every model (1000).

    Returns:
        Ratings indexed by model, best first.

    Raises:
        RatingInputError: lengths differ, an unknown winner label, or a model battling itself.
    """
    if not len(model_a) == len(model_b) == len(winner):
        raise RatingInputError("model_a, model_b and winner must have the same length")
    score = {OUTCOMES[0]: 1.0, OUTCOMES[1]: 0.0, OUTCOMES[2]: 0.5, OUTCOMES[3]: 0.5}
    rating: dict[str, float] = {}
    for row, (a, b, w) in enumerate(zip(model_a, model_b, winner, strict=True)):
        if w not in score:
            raise RatingInputError(f"row {row}: unknown winner label {w!r}")
        if a == b:
            raise RatingInputError(f"row {row}: model {a!r} battles itself")
        ra = rating.setdefault(a, init)
        rb = rating.setdefault(b, init)
        expected = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        delta = k * (score[w] - expected)
        rating[a] = ra + delta
        rating[b] = rb - delta
    return pd.Series(rating, dtype=float).sort_values(ascending=False)
