"""Per-model means of automatic metrics with bootstrap intervals, as leaderboard columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leaderboards.errors import RatingInputError

REQUIRED = ("model", "metric", "key", "value")


def metric_means(
    values: pd.DataFrame, n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """Mean of each metric value per model, with a percentile bootstrap interval over clips.

    Args:
        values: one row per clip and value, columns model, metric, key, value (NaN rows ignored).
        n_bootstrap: resamples of each model's clips (with replacement) for the interval.
        seed: seed of the resampling.
        confidence: coverage of the interval.

    Returns:
        Columns model, column ("metric.key"), mean, low, high, clips.
    """
    missing = [c for c in REQUIRED if c not in values.columns]
    if missing:
        raise RatingInputError(f"metric table lacks column(s): {', '.join(missing)}")
    frame = values.dropna(subset=["value"])
    rng = np.random.default_rng(seed)
    alpha = (1.0 - confidence) / 2.0
    rows = []
    for (model, metric, key), group in frame.groupby(["model", "metric", "key"], sort=True):
        x = group["value"].to_numpy(dtype=float)
        low = high = np.nan
        if len(x) > 1 and n_bootstrap:
            picks = rng.integers(0, len(x), size=(n_bootstrap, len(x)))
            low, high = np.quantile(x[picks].mean(axis=1), [alpha, 1.0 - alpha])
        rows.append((model, f"{metric}.{key}", float(x.mean()), float(low), float(high), len(x)))
    return pd.DataFrame(rows, columns=["model", "column", "mean", "low", "high", "clips"])


def metric_columns(means: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """One row per model, one text column per metric value: "mean [low, high]"."""
    if means.empty:
        return pd.DataFrame(columns=["model"])

    def cell(row: pd.Series) -> str:
        text = f"{row['mean']:.{digits}g}"
        if np.isfinite(row["low"]):
            text += f" [{row['low']:.{digits}g}, {row['high']:.{digits}g}]"
        return text

    shown = means.assign(text=means.apply(cell, axis=1))
    wide = shown.pivot(index="model", columns="column", values="text")
    return wide.reset_index().rename_axis(columns=None)
