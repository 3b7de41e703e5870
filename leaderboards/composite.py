"""One rating vector from several vote sets (overall, picture, sound, ...) with a weight each.

The vote sets' count tables are stacked and fitted as one weighted Bradley-Terry model: each
vote of set s weighs w_s, as LMArena's rating library combines several vote sets. Weights are
relative (the fit scales them so they sum to the number of votes, as inverse-propensity
weights are); a set with weight 0 is left out. The stacked table goes through the same fit,
intervals and one-sided-model handling as a plain board (`compute_leaderboard` with ipw), so
a composite of the overall votes alone is the plain board.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import Leaderboard, RatingSettings, compute_leaderboard


def parse_weights(text: str, known: tuple[str, ...]) -> dict[str, float]:
    """``"overall=1,sound=0.5"`` as {name: weight}; RatingInputError naming a bad item."""
    weights: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            if not sep:
                raise ValueError
            weight = float(value)
        except ValueError:
            raise RatingInputError(
                f"--weights item {item!r} must look like NAME=WEIGHT (e.g. overall=1,sound=0.5)"
            ) from None
        if name not in known:
            raise RatingInputError(
                f"--weights names {name!r}: not an aspect of this arena ({', '.join(known)})"
            )
        if name in weights:
            raise RatingInputError(f"--weights names {name!r} twice")
        if not (math.isfinite(weight) and weight >= 0):
            raise RatingInputError(f"--weights {name}: {value.strip()!r} is not a weight >= 0")
        weights[name] = weight
    if not any(w > 0 for w in weights.values()):
        raise RatingInputError("--weights gives no vote set a weight above 0")
    return weights


def stack_vote_sets(
    frames: Mapping[str, pd.DataFrame], weights: Mapping[str, float], ipw: bool = False
) -> pd.DataFrame:
    """The count tables (``Store.vote_counts`` layout) of the weighted sets as one table whose
    ``ipw`` column carries each vote's set weight (times 1/sampling_prob when ``ipw``) and
    ``ipw2`` the sum of their squares, so cells shared by several sets keep their variance."""
    parts = []
    for name, weight in weights.items():
        if weight <= 0:
            continue
        frame = frames.get(name)
        if frame is None or frame.empty:
            raise RatingInputError(f"no votes for the aspect {name!r} in this pool")
        count = frame["count"].astype(float)
        base = frame["ipw"].astype(float) if ipw and "ipw" in frame.columns else count
        if ipw and "ipw2" in frame.columns:
            squares = frame["ipw2"].astype(float)
        else:
            squares = base**2 / count  # every vote of a cell weighs the cell's mean
        parts.append(
            pd.DataFrame(
                {
                    "model_a": frame["model_a"].astype(str),
                    "model_b": frame["model_b"].astype(str),
                    "winner": frame["winner"].astype(str),
                    "count": frame["count"].astype("int64"),
                    "ipw": weight * base,
                    "ipw2": weight * weight * squares,
                }
            )
        )
    stacked = pd.concat(parts, ignore_index=True)
    return stacked.groupby(["model_a", "model_b", "winner"], as_index=False, sort=True).sum()


def compute_composite(
    frames: Mapping[str, pd.DataFrame],
    weights: Mapping[str, float],
    settings: RatingSettings | None = None,
) -> Leaderboard:
    """One leaderboard fitted on every weighted vote set at once (see the module docstring)."""
    settings = settings or RatingSettings()
    stacked = stack_vote_sets(frames, weights, ipw=settings.ipw)
    return compute_leaderboard(stacked, replace(settings, ipw=True))
