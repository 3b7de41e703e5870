"""Ratings that are not settled yet, and the variants of a family a board does not show.

A rating is *provisional* until its model has ``votes`` votes cast after it was added or last
changed (`mark_provisional`). This is not the *preliminary* mark, which says that the fit has
few votes of the model at all (its interval is wide): a model changed in place keeps its old
votes in the fit, so it can be far from preliminary and still provisional.

When a team rates many variants of one family and shows only the best, the shown rating is the
maximum of several noisy draws and reads higher than the model is (the selection effect that
"The Leaderboard Illusion" measured on Chatbot Arena). So when more than ``max_variants`` of a
family were rated and only some are shown, the board says so (`variant_notes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leaderboards.leaderboard import interval_ranks

DEFAULT_PROVISIONAL_VOTES = 500
DEFAULT_MAX_VARIANTS = 3


@dataclass(frozen=True)
class VariantNote:
    """A family with more than the allowed variants rated, of which only ``shown`` are on the
    board."""

    family: str
    rated: int
    shown: int

    def sentence(self) -> str:
        return f"{self.family}: {self.rated} variants rated, {self.shown} shown"


def mark_provisional(
    table: pd.DataFrame, since_change: Mapping[str, int], votes: int
) -> pd.DataFrame:
    """``table`` (a ``model`` column) with ``votes_since_change`` and ``provisional``.

    Args:
        table: one row per model.
        since_change: each model's votes cast at or after it was added or last changed (a model
            absent has none).
        votes: a model with fewer votes since its change is provisional.
    """
    counted = np.array([int(since_change.get(m, 0)) for m in table["model"]], dtype=np.int64)
    return table.assign(votes_since_change=counted, provisional=counted < votes)


def variant_notes(
    rated: Iterable[str],
    shown: Iterable[str],
    families: Mapping[str, str],
    max_variants: int,
) -> list[VariantNote]:
    """The families with more than ``max_variants`` models rated and fewer shown, largest first.

    Args:
        rated: the models with a rating on this board (shown or not).
        shown: those the board shows.
        families: model -> family (a model absent is its own family).
        max_variants: how many variants of a family may be rated without a note.
    """
    shown = set(shown)
    members: dict[str, list[str]] = {}
    for model in rated:
        members.setdefault(families.get(model, model), []).append(model)
    notes = [
        VariantNote(family, len(names), sum(n in shown for n in names))
        for family, names in members.items()
        if len(names) > max_variants and sum(n in shown for n in names) < len(names)
    ]
    return sorted(notes, key=lambda n: (-n.rated, n.family))


def hide_models(table: pd.DataFrame, hidden: Iterable[str]) -> pd.DataFrame:
    """``table`` without the ``hidden`` models' rows; ranks (where the table has them) counted
    again among the models shown, so that a gap in the ranks does not betray a hidden model."""
    out = table[~table["model"].isin(set(hidden))].reset_index(drop=True)
    if {"rank", "rating", "ci_low", "ci_high"} <= set(out.columns) and not out.empty:
        rating = out["rating"].to_numpy(dtype=np.float64)
        low = out["ci_low"].to_numpy(dtype=np.float64)
        high = out["ci_high"].to_numpy(dtype=np.float64)
        out = out.assign(
            rank=interval_ranks(_bound(rating, low, -np.inf), _bound(rating, high, np.inf))
        )
    return out


def _bound(rating: np.ndarray, bound: np.ndarray, open_end: float) -> np.ndarray:
    """An interval end for ranking, as the fit ranks: the rating where no model has intervals,
    open-ended where this one is unbounded."""
    if np.isnan(bound).all():
        return rating
    return np.where(np.isnan(bound), open_end, bound)
