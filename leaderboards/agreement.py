"""Metric-human agreement: how well each automatic metric predicts the votes and the ranking."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from leaderboards.errors import RatingInputError

#: Published pairwise accuracies at predicting human video preferences, for context only
#: (not measured here): the best learned video judge and CLIPScore.
REFERENCE_ACCURACY: dict[str, float] = {"best learned video judge": 0.78, "CLIPScore": 0.45}
AGREEMENT_COLUMNS = (
    "metric",
    "higher_is_better",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "n_pairs",
    "metric_ties",
    "spearman",
    "spearman_low",
    "spearman_high",
    "kendall",
    "kendall_low",
    "kendall_high",
    "n_models",
)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RatingInputError(f"{what} lacks column(s): {', '.join(missing)}")


def _column_values(values: pd.DataFrame) -> dict[str, pd.Series]:
    """Per "metric.key" column, one value per clip (the mean if a clip has several)."""
    frame = values.dropna(subset=["value"])
    frame = frame.assign(column=frame["metric"].astype(str) + "." + frame["key"].astype(str))
    return {
        column: group.groupby("clip_id")["value"].mean()
        for column, group in frame.groupby("column", sort=True)
    }


def _interval(x: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    finite = x[np.isfinite(x)]
    if len(finite) == 0:
        return np.nan, np.nan
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def pairwise_accuracy(
    battles: pd.DataFrame,
    values: pd.DataFrame,
    directions: Mapping[str, bool],
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """How often each metric picks the clip the rater preferred.

    Every decisive vote (winner ``model_a`` or ``model_b``; ties and both-bad are left out)
    whose two clips both have a value of the metric is one pair. The metric predicts the clip
    with the better value, "better" as ``directions`` says; it scores 1 when that is the clip the
    rater chose, 0 when not, and 1/2 when the two values are equal (a coin flip).

    Args:
        battles: votes with columns clip_a, clip_b, winner (Chatbot Arena labels), one row per
            vote or, with a ``count`` column, per (clip_a, clip_b, winner) with its number of
            votes (``Store.clip_pair_counts``).
        values: one row per clip and value with columns clip_id, metric, key, value.
        directions: ``"metric.key"`` -> True when higher is better; only these are scored.
        n_bootstrap: resamples of the pairs (with replacement) for the percentile interval.
        seed: seed of the resampling.
        confidence: coverage of the interval.

    Returns:
        One row per metric column in ``directions`` that has values: metric, higher_is_better,
        accuracy, accuracy_low, accuracy_high, n_pairs, metric_ties (NaN accuracy without pairs).
    """
    _require(battles, ("clip_a", "clip_b", "winner"), "battle table")
    _require(values, ("clip_id", "metric", "key", "value"), "metric table")
    decisive = battles[battles["winner"].isin(["model_a", "model_b"])]
    human = np.where(decisive["winner"].to_numpy() == "model_a", 1.0, -1.0)
    weight = (
        pd.to_numeric(decisive["count"]).to_numpy(dtype=np.int64)
        if "count" in decisive.columns
        else np.ones(len(decisive), dtype=np.int64)
    )
    rng = np.random.default_rng(seed)
    rows = []
    for column, per_clip in _column_values(values).items():
        if column not in directions:
            continue
        sign = 1.0 if directions[column] else -1.0
        a = decisive["clip_a"].map(per_clip).to_numpy(dtype=float)
        b = decisive["clip_b"].map(per_clip).to_numpy(dtype=float)
        ok = np.isfinite(a) & np.isfinite(b)
        predicted = np.sign(sign * (a[ok] - b[ok]))
        score = np.where(predicted == 0, 0.5, (predicted == human[ok]).astype(float))
        w = weight[ok]
        n = int(w.sum())
        accuracy = float((score * w).sum() / n) if n else np.nan
        low = high = np.nan
        if n and n_bootstrap:
            # Scores take three values, so resampling votes is a multinomial over those three.
            levels = np.array([0.0, 0.5, 1.0])
            freq = np.array([w[score == v].sum() for v in levels]) / n
            draws = rng.multinomial(n, freq, size=n_bootstrap) @ levels / n
            low, high = _interval(draws, confidence)
        ties = int(w[predicted == 0].sum())
        rows.append((column, directions[column], accuracy, low, high, n, ties))
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS[:7]))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank)."""
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of each row of x with the same row of y ((R, K) -> (R,))."""
    rx = _ranks(np.atleast_2d(x))
    ry = _ranks(np.atleast_2d(y))
    rx = rx - rx.mean(axis=1, keepdims=True)
    ry = ry - ry.mean(axis=1, keepdims=True)
    denom = np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rx * ry).sum(axis=1) / denom, np.nan)


def kendall_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row of x with the same row of y ((R, K) -> (R,))."""
    x = np.atleast_2d(x)
    y = np.atleast_2d(y)
    i, j = np.triu_indices(x.shape[1], k=1)
    sx = np.sign(x[:, i] - x[:, j])
    sy = np.sign(y[:, i] - y[:, j])
    denom = np.sqrt((sx != 0).sum(axis=1) * (sy != 0).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (sx * sy).sum(axis=1) / denom, np.nan)


def rank_agreement(
    values: pd.DataFrame,
    ratings: pd.Series,
    directions: Mapping[str, bool],
    rating_replicates: pd.DataFrame | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Rank correlation between per-model metric means and the models' ratings.

    Metric values are oriented so that a positive correlation means agreement (a lower-is-better
    metric is negated). The interval resamples each model's clips (with replacement) and, when
    ``rating_replicates`` is given, pairs bootstrap replicate r of the metric means with rating
    replicate r (cycling through them), so it carries the uncertainty of both sides.

    Args:
        values: one row per clip and value with columns model, metric, key, value.
        ratings: rating per model (index: model name), e.g. ``Leaderboard.ratings()``.
        directions: ``"metric.key"`` -> True when higher is better; only these are scored.
        rating_replicates: (R, K) bootstrap ratings with model names as columns
            (``Leaderboard.replicates``).
        n_bootstrap: bootstrap replicates of the correlations.
        seed: seed of the resampling.
        confidence: coverage of the intervals.

    Returns:
        One row per metric column: metric, spearman, spearman_low, spearman_high, kendall,
        kendall_low, kendall_high, n_models (NaN correlations with fewer than three models).
    """
    _require(values, ("model", "metric", "key", "value"), "metric table")
    frame = values.dropna(subset=["value"])
    frame = frame[frame["model"].isin(ratings.index)]
    frame = frame.assign(column=frame["metric"].astype(str) + "." + frame["key"].astype(str))
    rng = np.random.default_rng(seed)
    rows = []
    for column, group in frame.groupby("column", sort=True):
        if column not in directions:
            continue
        sign = 1.0 if directions[column] else -1.0
        per_model = {m: g["value"].to_numpy(dtype=float) * sign for m, g in group.groupby("model")}
        models = sorted(per_model)
        row = [column] + [np.nan] * 6 + [len(models)]
        if len(models) >= 3:
            means = np.array([per_model[m].mean() for m in models])
            rating = ratings.loc[models].to_numpy(dtype=float)
            row[1] = float(spearman_rows(means, rating)[0])
            row[4] = float(kendall_rows(means, rating)[0])
            if n_bootstrap:
                boot_means = np.column_stack(
                    [
                        per_model[m][
                            rng.integers(0, len(per_model[m]), (n_bootstrap, len(per_model[m])))
                        ].mean(axis=1)
                        for m in models
                    ]
                )
                if rating_replicates is not None and len(rating_replicates):
                    reps = rating_replicates[models].to_numpy(dtype=float)
                    boot_rating = reps[np.arange(n_bootstrap) % len(reps)]
                else:
                    boot_rating = np.broadcast_to(rating, boot_means.shape)
                row[2:4] = _interval(spearman_rows(boot_means, boot_rating), confidence)
                row[5:7] = _interval(kendall_rows(boot_means, boot_rating), confidence)
        rows.append(tuple(row))
    columns = ["metric", *AGREEMENT_COLUMNS[7:]]
    return pd.DataFrame(rows, columns=columns)


def agreement_table(
    battles: pd.DataFrame,
    values: pd.DataFrame,
    directions: Mapping[str, bool],
    ratings: pd.Series,
    rating_replicates: pd.DataFrame | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """`pairwise_accuracy` and `rank_agreement` side by side, best accuracy first.

    Args:
        battles: votes with clip_a, clip_b, winner (and optionally count), as in
            `pairwise_accuracy`.
        values: per-clip metric values with clip_id, model, metric, key, value.
        directions, ratings, rating_replicates, n_bootstrap, seed, confidence: as in
            `pairwise_accuracy` and `rank_agreement`.

    Returns:
        Columns `AGREEMENT_COLUMNS`, one row per metric column in ``directions`` with values.
    """
    accuracy = pairwise_accuracy(battles, values, directions, n_bootstrap, seed, confidence)
    ranks = rank_agreement(
        values, ratings, directions, rating_replicates, n_bootstrap, seed, confidence
    )
    table = accuracy.merge(ranks, on="metric", how="left")
    table["n_models"] = table["n_models"].fillna(0).astype(int)
    table = table.sort_values(["accuracy", "metric"], ascending=[False, True], na_position="last")
    return table[list(AGREEMENT_COLUMNS)].reset_index(drop=True)


def _with_interval(value: float, low: float, high: float, digits: int) -> str:
    if not np.isfinite(value):
        return "–"
    text = f"{value:.{digits}f}"
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    return text


def agreement_display(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """`agreement_table` as text for a page: value [low, high] per statistic."""
    rows = []
    for r in table.itertuples(index=False):
        rows.append(
            {
                "metric": r.metric,
                "better": "higher" if r.higher_is_better else "lower",
                "pairwise accuracy [95% CI]": _with_interval(
                    r.accuracy, r.accuracy_low, r.accuracy_high, digits
                ),
                "pairs": int(r.n_pairs),
                "Spearman [95% CI]": _with_interval(
                    r.spearman, r.spearman_low, r.spearman_high, digits
                ),
                "Kendall [95% CI]": _with_interval(
                    r.kendall, r.kendall_low, r.kendall_high, digits
                ),
                "models": int(r.n_models),
            }
        )
    return pd.DataFrame(rows)
