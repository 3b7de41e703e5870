"""The leaderboard: Elo-scale ratings with bootstrap intervals, ranks and per-model totals."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property
from statistics import NormalDist

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from leaderboards.bootstrap import bootstrap_params, fit_cells
from leaderboards.bounds import merge_bounds, one_sided_models, pair_bounds
from leaderboards.bradley_terry import TIES_MODELS, PairwiseModel, fit_pairwise
from leaderboards.columns import TABLE_COLUMNS
from leaderboards.counts import (
    PairCounts,
    check_connected,
    model_totals,
    pair_counts_from_frame,
    vote_set_hash,
)
from leaderboards.errors import RatingInputError
from leaderboards.sandwich import parameter_interval, rating_half_widths, sandwich_covariance

#: Elo points per natural-log unit of strength: 400 points are 10:1 odds.
ELO_PER_NAT = 400.0 / math.log(10.0)
CENTRE = 1000.0
INTERVALS = ("bootstrap", "sandwich")


@dataclass(frozen=True)
class RatingSettings:
    """How a leaderboard is fitted; recorded in snapshots so it can be reproduced.

    Attributes:
        ties: ``"half"`` (ties and both-bad count half a win each) or ``"davidson"``.
        position_bias: also fit an advantage of the left-hand clip (reported in Elo points).
        exclude_bothbad: drop both-bad votes before fitting.
        anchor: ``(model, rating)`` to pin one model's rating instead of centring on 1000.
        ipw: weight votes by the inverse of their recorded sampling probability.
        ridge: Gaussian penalty on log-strengths (keeps all-win models finite).
        n_bootstrap: bootstrap replicates (0: no intervals).
        seed: seed of the bootstrap.
        min_votes: models with fewer votes are marked preliminary.
        confidence: coverage of the intervals.
        intervals: ``"bootstrap"`` (percentiles of ``n_bootstrap`` refits of resampled votes) or
            ``"sandwich"`` (normal intervals from the robust covariance; no resampling).
    """

    ties: str = "half"
    position_bias: bool = False
    exclude_bothbad: bool = False
    anchor: tuple[str, float] | None = None
    ipw: bool = False
    ridge: float = 0.01
    n_bootstrap: int = 1000
    seed: int = 0
    min_votes: int = 50
    confidence: float = 0.95
    intervals: str = "bootstrap"

    def __post_init__(self) -> None:
        if self.intervals not in INTERVALS:
            raise RatingInputError(
                f"intervals must be one of {', '.join(INTERVALS)}, got {self.intervals!r}"
            )
        if self.ties not in TIES_MODELS:
            raise RatingInputError(
                f"ties must be one of {', '.join(TIES_MODELS)}, got {self.ties!r}"
            )
        if self.n_bootstrap < 0:
            raise RatingInputError(f"bootstrap replicates must be >= 0, got {self.n_bootstrap}")
        if not 0.0 < self.confidence < 1.0:
            raise RatingInputError(f"confidence must be in (0, 1), got {self.confidence}")
        if self.ridge < 0:
            raise RatingInputError(f"ridge must be >= 0, got {self.ridge}")

    def as_dict(self) -> dict:
        out = asdict(self)
        out["anchor"] = list(self.anchor) if self.anchor else None
        return out


@dataclass(frozen=True)
class Estimate:
    """A fitted quantity with its bootstrap interval (NaN bounds without a bootstrap)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Leaderboard:
    """A fitted leaderboard.

    Attributes:
        table: one row per model, best first, columns `TABLE_COLUMNS`.
        replicates: (R, K) bootstrap ratings, one column per model (empty without bootstrap).
        position_bias: left-side advantage in Elo points, when fitted.
        tie_parameter: Davidson's nu (tie propensity), when fitted.
        settings: the `RatingSettings` used.
        n_votes: votes fitted.
        counts: the count table that was fitted (after excluding both-bad votes if asked).
    """

    table: pd.DataFrame
    replicates: pd.DataFrame
    position_bias: Estimate | None
    tie_parameter: Estimate | None
    settings: RatingSettings
    n_votes: int
    counts: PairCounts

    @cached_property
    def vote_set_hash(self) -> str:
        """`vote_set_hash` of the count table that was fitted (computed when first asked for:
        on 10M votes among 100 models it costs more than the fit)."""
        return vote_set_hash(self.counts)

    def ratings(self) -> pd.Series:
        """Ratings indexed by model name, best first."""
        return self.table.set_index("model")["rating"]


def compute_leaderboard(
    counts: PairCounts | pd.DataFrame, settings: RatingSettings | None = None
) -> Leaderboard:
    """Fit a leaderboard from a count table.

    Args:
        counts: a `PairCounts`, or a count DataFrame in the ``Store.vote_counts`` layout
            (model_a, model_b, winner, count[, ipw]).
        settings: fit options (`RatingSettings` defaults: Bradley-Terry with half ties, 1000
            bootstrap replicates, seed 0, centred on 1000).

    Returns:
        A `Leaderboard`. Ratings are 1000 + 400 * log10(strength), centred so their mean is 1000
        (or shifted so the anchor model has its given rating, in every replicate too). Intervals
        are bootstrap percentiles; rank = 1 + the number of models whose lower bound is above this
        model's upper bound.

    Raises:
        RatingInputError: bad rows or columns, fewer than two models, an unknown anchor model, or
            a disconnected comparison graph (the message names the groups).
    """
    settings = settings or RatingSettings()
    if isinstance(counts, pd.DataFrame):
        counts = pair_counts_from_frame(counts)
    if settings.exclude_bothbad:
        counts = counts.without_bothbad()
    if counts.n_models < 2:
        raise RatingInputError(
            f"need votes between at least two models, got {', '.join(counts.models) or 'none'}"
        )
    check_connected(counts)
    if settings.anchor and settings.anchor[0] not in counts.models:
        raise RatingInputError(f"anchor model {settings.anchor[0]!r} has no votes in this pool")
    rated = counts
    sides = one_sided_models(counts)
    if len(sides) == counts.n_models:  # two models, one won every vote: bounds, no fit
        return _pair_of_bounds(counts, sides, settings)
    if sides:
        for side in sides:
            if settings.anchor and settings.anchor[0] == side.model:
                raise RatingInputError(
                    f"anchor model {side.model!r} {side.note}; anchor another model"
                )
        left_out = {side.model for side in sides}
        counts = counts.restricted_to([m for m in counts.models if m not in left_out])
    cells = fit_cells(counts, settings.position_bias, settings.ipw)
    model = PairwiseModel(
        counts.n_models,
        cells.first,
        cells.second,
        settings.ties,
        settings.position_bias,
        settings.ridge,
    )
    # One BLAS thread: the matrices are small and the bootstrap already runs a thread per core,
    # so more BLAS threads only contend with those (and cost a slow first call).
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            full = fit_pairwise(model, cells.outcomes(cells.count)).params
        except np.linalg.LinAlgError:
            full = np.full(model.n_params, np.nan)
        if not np.isfinite(full).all():
            raise RatingInputError(
                "the ratings have no finite maximum without a ridge (some models only win or "
                "only lose against the rest): use --ridge above 0 (the default is 0.01)"
            )
        sandwich = settings.intervals == "sandwich"
        cov = sandwich_covariance(model, cells, full) if sandwich else None
        reps = (
            bootstrap_params(model, cells, full, settings.n_bootstrap, settings.seed)
            if settings.n_bootstrap and not sandwich
            else np.empty((0, model.n_params))
        )
    k = counts.n_models
    rating = _to_elo(full[None, :k], counts.models, settings.anchor)[0]
    rep_ratings = _to_elo(reps[:, :k], counts.models, settings.anchor)
    alpha = (1.0 - settings.confidence) / 2.0
    if cov is not None:
        anchor = counts.models.index(settings.anchor[0]) if settings.anchor else None
        half = rating_half_widths(cov, k, anchor, NormalDist().inv_cdf(1.0 - alpha), ELO_PER_NAT)
        low, high = rating - half, rating + half
    elif len(reps):
        low, high = np.quantile(rep_ratings, [alpha, 1.0 - alpha], axis=0)
    else:
        low = high = np.full(k, np.nan)
    if sides:
        rating, low, high, rep_ratings = merge_bounds(
            rated, counts, sides, rating, low, high, rep_ratings, alpha, ELO_PER_NAT
        )
        counts = rated
    table = _table(counts, rating, low, high, {side.model: side.note for side in sides}, settings)
    return Leaderboard(
        table=table,
        replicates=pd.DataFrame(rep_ratings, columns=list(counts.models)),
        position_bias=_estimate(full, reps, cov, model.bias_index, alpha, ELO_PER_NAT, exp=False),
        tie_parameter=_estimate(full, reps, cov, model.nu_index, alpha, 1.0, exp=True),
        settings=settings,
        n_votes=counts.n_votes,
        counts=counts,
    )


def _table(
    counts: PairCounts,
    rating: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    notes: dict[str, str],
    settings: RatingSettings,
) -> pd.DataFrame:
    """The board's table (`TABLE_COLUMNS`), best first, from ratings in ``counts.models`` order."""
    table = model_totals(counts)
    table.insert(0, "rating", rating)
    table.insert(1, "ci_low", low)
    table.insert(2, "ci_high", high)
    table.insert(
        3,
        "rank",
        interval_ranks(_rank_bound(rating, low, True), _rank_bound(rating, high, False)),
    )
    table["win_rate"] = (table["wins"] + 0.5 * table["ties"]) / table["votes"]
    table["preliminary"] = table["votes"] < settings.min_votes
    table["note"] = [notes.get(m, "") for m in table.index]
    table = table.rename_axis("model").reset_index()
    table = table.sort_values(["rating", "model"], ascending=[False, True], ignore_index=True)
    return table[list(TABLE_COLUMNS)]


def _pair_of_bounds(counts: PairCounts, sides: list, settings: RatingSettings) -> Leaderboard:
    """The board of two models where one won every vote: each rated at its one-sided bound
    (`leaderboards.bounds.pair_bounds`), as a one-sided model of a larger board is."""
    alpha = (1.0 - settings.confidence) / 2.0
    bound = pair_bounds(sides, alpha, ELO_PER_NAT, settings.anchor)
    rating = np.array([bound[m] for m in counts.models])
    never_won = np.array([next(s.never_won for s in sides if s.model == m) for m in counts.models])
    low = np.where(never_won, np.nan, rating)
    high = np.where(never_won, rating, np.nan)
    table = _table(counts, rating, low, high, {s.model: s.note for s in sides}, settings)
    # On a few votes the gap's bound is below zero (the loser's bound above the winner's): the
    # winner still heads the table, and both rank first, as neither is shown to be ahead.
    table = table.sort_values("win_rate", ascending=False, ignore_index=True, kind="stable")
    return Leaderboard(
        table=table,
        replicates=pd.DataFrame(np.empty((0, 2)), columns=list(counts.models)),
        position_bias=None,
        tie_parameter=None,
        settings=settings,
        n_votes=counts.n_votes,
        counts=counts,
    )


def interval_ranks(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Rank = 1 + number of models whose lower bound is above this model's upper bound."""
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    return 1 + (low[None, :] > high[:, None]).sum(axis=1)


def _rank_bound(rating: np.ndarray, bound: np.ndarray, lower: bool) -> np.ndarray:
    """Interval ends for ranking: the rating without intervals, open-ended where unbounded."""
    if np.isnan(bound).all():
        return rating
    return np.where(np.isnan(bound), -np.inf if lower else np.inf, bound)


def _to_elo(
    theta: np.ndarray, models: tuple[str, ...], anchor: tuple[str, float] | None
) -> np.ndarray:
    elo = ELO_PER_NAT * theta
    if anchor is None:
        return CENTRE + elo - elo.mean(axis=1, keepdims=True)
    index = models.index(anchor[0])
    return anchor[1] + elo - elo[:, index : index + 1]


def _estimate(
    full: np.ndarray,
    reps: np.ndarray,
    cov: np.ndarray | None,
    index: int | None,
    alpha: float,
    scale: float,
    exp: bool,
) -> Estimate | None:
    if index is None:
        return None
    if cov is not None:
        return Estimate(
            *parameter_interval(cov, full, index, NormalDist().inv_cdf(1.0 - alpha), scale, exp)
        )
    values = np.exp(reps[:, index]) if exp else scale * reps[:, index]
    value = float(np.exp(full[index]) if exp else scale * full[index])
    if len(values) == 0:
        return Estimate(value, math.nan, math.nan)
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return Estimate(value, float(low), float(high))
