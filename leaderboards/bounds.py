"""Models that never won (or never lost): kept out of the fit, given a one-sided rating bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from leaderboards.counts import BOTHBAD, LEFT_WIN, RIGHT_WIN, TIE, PairCounts, comparison_groups


@dataclass(frozen=True)
class OneSided:
    """A model whose every vote went one way (ties count half, so it has no ties either).

    Attributes:
        model: its name.
        never_won: True if it lost every vote, False if it won every vote.
        votes: how many votes it took part in.
    """

    model: str
    never_won: bool
    votes: int

    @property
    def note(self) -> str:
        what = "won" if self.never_won else "lost"
        return f"never {what} in {self.votes} votes: rating is a bound"


def one_sided_models(counts: PairCounts) -> list[OneSided]:
    """The models that only lost or only won, when the others can be rated without them.

    Their maximum-likelihood strength is minus (plus) infinity, so with them in the fit the
    ridge alone sets their rating and, through the centring and their games, shifts everyone
    else. Their votes say nothing about how the other models compare (in the limit each such
    game has probability one), so the others are fitted without them. Empty when leaving them
    out would leave fewer than two models, leave a model with no votes, or split the comparison
    graph.
    """
    c = counts.counts
    k = counts.n_models
    ties = c[:, TIE] + c[:, BOTHBAD]
    won = np.bincount(counts.left, c[:, LEFT_WIN] + ties, k) + np.bincount(
        counts.right, c[:, RIGHT_WIN] + ties, k
    )
    lost = np.bincount(counts.left, c[:, RIGHT_WIN] + ties, k) + np.bincount(
        counts.right, c[:, LEFT_WIN] + ties, k
    )
    found = [
        OneSided(counts.models[i], bool(won[i] == 0), int(won[i] + lost[i]))
        for i in range(k)
        if (won[i] == 0) != (lost[i] == 0)
    ]
    rest = [m for m in counts.models if m not in {f.model for f in found}]
    if len(found) == 2 and not rest:  # two models, one won every vote: see `pair_bounds`
        return found
    if not found or len(rest) < 2:
        return []
    others = counts.restricted_to(rest)
    # a model whose every vote was against one-sided models would drop out of the fit unrated
    if others.n_models < len(rest) or len(comparison_groups(others)) > 1:
        return []
    return found


def bound_rating(
    side: OneSided,
    counts: PairCounts,
    ratings: dict[str, float],
    elo_per_nat: float,
    alpha: float,
) -> float:
    """The Elo rating at which the model's one-sided record has probability ``alpha``.

    For a model that never won: the highest rating under which losing all its votes against
    the rated opponents (at their fitted ratings) still has probability ``alpha``; ratings above
    it are rejected at that level, so it is an upper bound. Mirrored for a model that never lost.
    """
    index = counts.models.index(side.model)
    mine = (counts.left == index) | (counts.right == index)
    opponent = np.where(counts.left[mine] == index, counts.right[mine], counts.left[mine])
    n = counts.counts[mine].sum(axis=1).astype(np.float64)
    keep = np.array([counts.models[o] in ratings for o in opponent], dtype=bool)
    if not keep.any():
        return math.nan
    r = np.array([ratings[counts.models[o]] for o in opponent[keep]])
    n = n[keep]
    sign = 1.0 if side.never_won else -1.0
    target = math.log(alpha)

    def log_prob(x: float) -> float:
        # log P(every vote went the observed way | rating x): log sigmoid of the rating gap.
        gap = sign * (r - x) / elo_per_nat
        return float(-(n * np.logaddexp(0.0, -gap)).sum())

    # log_prob falls as x moves past the opponents in the wrong direction: bisect for target.
    inner, outer = float(r.mean()) - sign * 4000.0, float(r.mean()) + sign * 4000.0
    for _ in range(100):
        mid = 0.5 * (inner + outer)
        if log_prob(mid) > target:
            inner = mid
        else:
            outer = mid
    return 0.5 * (inner + outer)


def pair_bounds(
    sides: list[OneSided], alpha: float, elo_per_nat: float, anchor: tuple[str, float] | None
) -> dict[str, float]:
    """Each model's bound when a board has two models and one won every vote.

    Neither can be fitted against the other, but the gap between them has a lower bound: the
    gap at which winning all n votes still has probability ``alpha``, logit(alpha^(1/n)). The
    winner is rated at least, the loser at most, half of it either side of 1000 (or of the
    anchored model's rating, the other model the whole gap away).
    """
    n = sides[0].votes
    gap = elo_per_nat * math.log(alpha ** (1.0 / n) / (1.0 - alpha ** (1.0 / n)))
    winner = next(s.model for s in sides if not s.never_won)
    loser = next(s.model for s in sides if s.never_won)
    if anchor is None:
        return {winner: 1000.0 + gap / 2.0, loser: 1000.0 - gap / 2.0}
    if anchor[0] == winner:
        return {winner: anchor[1], loser: anchor[1] - gap}
    return {winner: anchor[1] + gap, loser: anchor[1]}


def merge_bounds(
    everything: PairCounts,
    fitted: PairCounts,
    sides: list[OneSided],
    rating: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    replicates: np.ndarray,
    alpha: float,
    elo_per_nat: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ratings, bounds and replicates over all models, one-sided ones given their bound.

    A model that never won is rated at its upper bound (``ci_high``; ``ci_low`` is NaN: no lower
    limit), one that never lost at its lower bound; their replicate columns are NaN.
    """
    fitted_rating = dict(zip(fitted.models, rating, strict=True))
    column = {m: i for i, m in enumerate(fitted.models)}
    k = everything.n_models
    out = np.full((4, k), np.nan)
    reps = np.full((len(replicates), k), np.nan)
    by_name = {side.model: side for side in sides}
    for i, name in enumerate(everything.models):
        if name in column:
            j = column[name]
            out[:3, i] = rating[j], low[j], high[j]
            reps[:, i] = replicates[:, j]
            continue
        side = by_name[name]
        bound = bound_rating(side, everything, fitted_rating, elo_per_nat, alpha)
        out[0, i] = bound
        out[2 if side.never_won else 1, i] = bound
    return out[0], out[1], out[2], reps
