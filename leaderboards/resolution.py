"""Resolution of a leaderboard: which neighbours its intervals separate, and the votes to go."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import Leaderboard


@dataclass(frozen=True)
class NeighbourResolution:
    """One pair of models adjacent in the leaderboard order.

    Attributes:
        upper: the higher-rated model.
        lower: the model just below it.
        gap: rating difference (Elo points, >= 0).
        separated: the intervals do not overlap (``ci_low`` of ``upper`` > ``ci_high`` of
            ``lower``), so the two get different ranks.
        more_votes: estimated further votes (in this pool, spread like the votes so far) until
            the intervals separate; 0 when separated, None when the gap is too small to estimate
            (the ratings are equal) or there are no intervals.
    """

    upper: str
    lower: str
    gap: float
    separated: bool
    more_votes: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def neighbour_resolution(board: Leaderboard, max_factor: float = 1e4) -> list[NeighbourResolution]:
    """Separation of adjacent models and the votes needed to separate the rest.

    Intervals are assumed to shrink as 1 / sqrt(votes), the rate of a bootstrap interval when
    new votes are spread over the pairs as the existing ones are: two intervals of half-widths
    ``w_u`` and ``w_l`` around ratings ``gap`` apart separate once
    ``(w_u + w_l) * sqrt(N / (N + x)) < gap``, i.e. after ``x = N * (((w_u + w_l) / gap)^2 - 1)``
    more votes, N being the votes fitted. Half-widths are measured from each model's rating to
    the interval bound that faces the neighbour.

    Args:
        board: a fitted `Leaderboard` with bootstrap intervals.
        max_factor: estimates above ``max_factor * N`` more votes are reported as None (the
            pair is effectively tied at any realistic vote count).

    Raises:
        RatingInputError: the leaderboard has fewer than two models.
    """
    table = board.table
    if len(table) < 2:
        raise RatingInputError("resolution needs a leaderboard with at least two models")
    n = max(board.n_votes, 1)
    out = []
    for upper, lower in zip(table.iloc[:-1].itertuples(), table.iloc[1:].itertuples(), strict=True):
        gap = float(upper.rating - lower.rating)
        separated = bool(upper.ci_low > lower.ci_high)
        if separated:
            more: int | None = 0
        elif not (np.isfinite(upper.ci_low) and np.isfinite(lower.ci_high)) or gap <= 0:
            more = None
        else:
            width = (upper.rating - upper.ci_low) + (lower.ci_high - lower.rating)
            factor = (width / gap) ** 2
            more = None if factor > max_factor else max(1, math.ceil(n * (factor - 1.0)))
        out.append(NeighbourResolution(upper.model, lower.model, gap, separated, more))
    return out


def resolution_frame(board: Leaderboard) -> pd.DataFrame:
    """`neighbour_resolution` as a table: upper, lower, gap, separated, more_votes."""
    rows = [r.as_dict() for r in neighbour_resolution(board)]
    return pd.DataFrame(rows, columns=["upper", "lower", "gap", "separated", "more_votes"])


def _pairs(n: int) -> str:
    return "1 pair" if n == 1 else f"{n:,} pairs"


def resolution_text(done: int, total: int, pending: list[int], hopeless: int) -> str:
    """The resolution line in plain words, from its counts (pending: more votes each unseparated
    pair needs, smallest first)."""
    verb = "is" if done == 1 else "are"
    text = f"{done} of {total} neighbouring pairs {verb} separated"
    if pending:
        text += f"; about {pending[0]:,} more votes would separate the next pair"
        if len(pending) > 1:
            text += f", about {pending[-1]:,} all {len(pending)} pairs still apart"
    if hopeless:
        verb = "is" if hopeless == 1 else "are"
        text += f"; {_pairs(hopeless)} {verb} too close to tell apart with more votes"
    return text


def resolution_summary(board: Leaderboard) -> str:
    """One line for the leaderboard page, e.g. "2 of 6 neighbouring pairs are separated; about
    44 more votes would separate the next pair, about 18,324 all 4 pairs still apart"."""
    rows = neighbour_resolution(board)
    pending = sorted(r.more_votes for r in rows if not r.separated and r.more_votes is not None)
    hopeless = sum(not r.separated and r.more_votes is None for r in rows)
    return resolution_text(sum(r.separated for r in rows), len(rows), pending, hopeless)


__all__ = [
    "NeighbourResolution",
    "neighbour_resolution",
    "resolution_frame",
    "resolution_summary",
    "resolution_text",
]
