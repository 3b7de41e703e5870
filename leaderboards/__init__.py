"""Paddock leaderboards: Bradley-Terry ratings with bootstrap intervals from count tables.

Names load on first use, so importing one small module (say `leaderboards.errors`) does not
pull in NumPy, pandas and SciPy: the CLI's start-up stays fast.
"""

import importlib

_WHERE = {
    "OUTCOMES": "counts",
    "PairCounts": "counts",
    "battle_count_matrix": "counts",
    "check_connected": "counts",
    "comparison_groups": "counts",
    "model_totals": "counts",
    "pair_counts_from_battles": "counts",
    "pair_counts_from_frame": "counts",
    "vote_set_hash": "counts",
    "win_rate_matrix": "counts",
    "online_elo": "elo",
    "ELO_PER_NAT": "leaderboard",
    "Estimate": "leaderboard",
    "Leaderboard": "leaderboard",
    "RatingSettings": "leaderboard",
    "compute_leaderboard": "leaderboard",
    "interval_ranks": "leaderboard",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'leaderboards' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"leaderboards.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
