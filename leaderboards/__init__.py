"""Paddock leaderboards: Bradley-Terry ratings with bootstrap intervals from count tables."""

from leaderboards.counts import (
    OUTCOMES,
    PairCounts,
    battle_count_matrix,
    check_connected,
    comparison_groups,
    model_totals,
    pair_counts_from_battles,
    pair_counts_from_frame,
    vote_set_hash,
    win_rate_matrix,
)
from leaderboards.elo import online_elo
from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import (
    ELO_PER_NAT,
    Estimate,
    Leaderboard,
    RatingSettings,
    compute_leaderboard,
    interval_ranks,
)

__all__ = [
    "ELO_PER_NAT",
    "OUTCOMES",
    "Estimate",
    "Leaderboard",
    "PairCounts",
    "RatingInputError",
    "RatingSettings",
    "battle_count_matrix",
    "check_connected",
    "comparison_groups",
    "compute_leaderboard",
    "interval_ranks",
    "model_totals",
    "online_elo",
    "pair_counts_from_battles",
    "pair_counts_from_frame",
    "vote_set_hash",
    "win_rate_matrix",
]
