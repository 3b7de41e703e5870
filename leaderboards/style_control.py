"""Style control: Bradley-Terry with battle-level features (contextual), beside the raw board.

P(left wins) = sigmoid(theta_left - theta_right + beta . z), where z holds, for each feature,
the left clip's value minus the right clip's, standardised over the votes (minus its mean,
over its standard deviation). beta_f, times 400 / ln 10, is how many Elo points one standard
deviation of that difference is worth; the thetas are the ratings with that effect taken out.
A ridge penalty keeps the coefficients finite when a feature nearly separates the outcomes.
This is the model of LMArena's style control (arena-rank's ContextualBradleyTerry); ties and
both-bad count half a win. Every sum here runs over votes with numpy (no loop over rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from leaderboards.bradley_terry import expit
from leaderboards.counts import OUTCOMES
from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import CENTRE, ELO_PER_NAT, interval_ranks

#: Features a clip can carry (from its metadata or metric results, or `<name>_a`/`<name>_b`).
FEATURES = ("duration", "frame_size", "loudness", "has_audio", "speech", "motion", "sharpness")
SCORE = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}


@dataclass(frozen=True)
class StyleVotes:
    """Votes ready for the contextual fit.

    Attributes:
        models: model names, sorted.
        left, right: (N,) model index of each vote's left and right clip.
        score: (N,) 1 left won, 0 right won, 0.5 tie or both bad.
        z: (N, F) standardised left-minus-right feature differences.
        features: the F feature names.
        scale: (F,) standard deviation of each raw difference (its unit per z unit).
        left_out: votes left out per feature because a clip had no value for it.
    """

    models: tuple[str, ...]
    left: np.ndarray
    right: np.ndarray
    score: np.ndarray
    z: np.ndarray
    features: tuple[str, ...]
    scale: np.ndarray
    left_out: dict[str, int]


def style_votes(battles: pd.DataFrame, features: list[str]) -> StyleVotes:
    """Check and standardise the feature columns of a battle table (one row per vote).

    Args:
        battles: columns model_a, model_b, winner and, per feature, ``<name>_a`` and
            ``<name>_b`` (numbers; NaN where the clip has no value: such votes are left out
            and counted, never taken as zero).
        features: names from `FEATURES`.

    Raises:
        RatingInputError: an unknown feature, columns for one side only or none, values that
            are not finite numbers, or a feature that does not vary.
    """
    if not features:
        raise RatingInputError("no features to control for")
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise RatingInputError(
            f"unknown feature(s) {', '.join(unknown)} (known: {', '.join(FEATURES)})"
        )
    diffs, keep, left_out = [], np.ones(len(battles), dtype=bool), {}
    for name in features:
        cols = [f"{name}_a", f"{name}_b"]
        have = [c for c in cols if c in battles.columns]
        if len(have) == 1:
            other = (set(cols) - set(have)).pop()
            raise RatingInputError(f"feature {name}: column {have[0]} has no partner {other}")
        if not have:
            raise RatingInputError(f"feature {name}: the votes have no {cols[0]}/{cols[1]} columns")
        values = []
        for col in cols:
            raw = battles[col]
            number = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
            bad = np.flatnonzero((np.isnan(number) & raw.notna().to_numpy()) | np.isinf(number))
            if bad.size:
                value = raw.iloc[bad[0]]
                shown = repr(value) if isinstance(value, str) else str(value)
                raise RatingInputError(
                    f"{_where(battles.index[bad[0]])}, column {col}: {shown} is not a finite number"
                )
            values.append(number)
        diff = values[0] - values[1]
        missing = np.isnan(diff)
        left_out[name] = int(missing.sum())
        keep &= ~missing
        diffs.append(diff)
    if not keep.any():
        raise RatingInputError("no vote has a value for every feature asked for")
    winner = battles["winner"].to_numpy(dtype=object)
    score = np.array([SCORE.get(w, np.nan) for w in winner], dtype=np.float64)
    if np.isnan(score).any():
        at = int(np.flatnonzero(np.isnan(score))[0])
        raise RatingInputError(
            f"{_where(battles.index[at])}: unknown winner label {winner[at]!r} (expected one of "
            f"{', '.join(repr(o) for o in OUTCOMES)})"
        )
    d = np.stack(diffs, axis=1)[keep]
    sd = d.std(axis=0)
    flat = [f for f, s in zip(features, sd, strict=True) if not s > 0]
    if flat:
        raise RatingInputError(f"feature(s) {', '.join(flat)} do not vary: nothing to control")
    a = battles["model_a"].astype(str).to_numpy()[keep]
    b = battles["model_b"].astype(str).to_numpy()[keep]
    models, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    return StyleVotes(
        tuple(str(m) for m in models), index[: len(a)], index[len(a) :], score[keep],
        (d - d.mean(axis=0)) / sd, tuple(features), sd, left_out,
    )  # fmt: skip


def _where(label: object) -> str:
    """A row label as a place: labels that are text ("votes.csv, line 7") are used as they are."""
    return label if isinstance(label, str) else f"row {label}"


def _hessian_parts(v: StyleVotes, w: np.ndarray) -> np.ndarray:
    """X^T diag(w) X for X = [model +1/-1 columns, z], assembled by sums over votes."""
    k, f = len(v.models), v.z.shape[1]
    out = np.zeros((k + f, k + f))
    pair = np.zeros((k, k))
    np.add.at(pair, (v.left, v.right), w)
    diag = np.bincount(v.left, w, k) + np.bincount(v.right, w, k)
    out[:k, :k] = np.diag(diag) - pair - pair.T
    wz = w[:, None] * v.z
    cross = np.zeros((k, f))
    for j in range(f):
        cross[:, j] = np.bincount(v.left, wz[:, j], k) - np.bincount(v.right, wz[:, j], k)
    out[:k, k:] = cross
    out[k:, :k] = cross.T
    out[k:, k:] = v.z.T @ wz
    return out


def _gradient(v: StyleVotes, r: np.ndarray) -> np.ndarray:
    k = len(v.models)
    return np.concatenate([np.bincount(v.left, r, k) - np.bincount(v.right, r, k), v.z.T @ r])


def fit_style(
    v: StyleVotes, ridge: float = 0.01, coef_ridge: float = 1.0, start: np.ndarray | None = None
) -> np.ndarray:
    """Penalised maximum likelihood by Newton: (K + F,) centred strengths, then coefficients."""
    k, f = len(v.models), v.z.shape[1]
    penalty = np.concatenate([np.full(k, ridge), np.full(f, coef_ridge)])
    params = np.zeros(k + f) if start is None else start.copy()
    mask = np.zeros(k + f)
    mask[:k] = 1.0
    for _ in range(100):
        d = params[v.left] - params[v.right] + v.z @ params[k:]
        p = expit(d)
        grad = _gradient(v, v.score - p) - penalty * params
        hess = _hessian_parts(v, p * (1 - p)) + np.diag(penalty)
        # The common shift of all strengths is free: stiffen it (the iterate is re-centred).
        hess += np.outer(mask, mask) * max(np.abs(np.diag(hess)).mean(), 1.0) / k
        step = np.linalg.solve(hess, grad)
        params = params + step
        params[:k] -= params[:k].mean()
        if np.abs(step).max() < 1e-10:
            break
    return params


def style_sandwich(
    v: StyleVotes, params: np.ndarray, ridge: float, coef_ridge: float
) -> np.ndarray:
    """Robust covariance H^-1 G H^-1 of `fit_style`'s parameters (strengths centred)."""
    k, f = len(v.models), v.z.shape[1]
    d = params[v.left] - params[v.right] + v.z @ params[k:]
    p = expit(d)
    bread = _hessian_parts(v, p * (1 - p)) + np.diag(
        np.concatenate([np.full(k, ridge), np.full(f, coef_ridge)])
    )
    mask = np.zeros(k + f)
    mask[:k] = 1.0
    bread += np.outer(mask, mask) * max(np.abs(np.diag(bread)).mean(), 1.0) / k
    meat = _hessian_parts(v, (v.score - p) ** 2)
    inv = np.linalg.inv(bread)
    cov = inv @ meat @ inv
    centre = np.eye(k + f)
    centre[:k, :k] -= 1.0 / k
    return centre @ cov @ centre.T


@dataclass(frozen=True)
class StyleBoard:
    """The controlled board beside the raw one.

    Attributes:
        table: model, rating, ci_low, ci_high, rank, raw_rating, raw_rank, rank_change
            (raw rank minus controlled rank: positive = moves up), best first.
        coefficients: feature, elo_per_sd, ci_low, ci_high, sd (of the raw difference).
        n_votes: votes fitted (with a value for every feature).
        left_out: votes left out per feature for want of a value.
    """

    table: pd.DataFrame
    coefficients: pd.DataFrame
    n_votes: int
    left_out: dict[str, int]


def style_board(
    battles: pd.DataFrame,
    features: list[str],
    intervals: str = "sandwich",
    n_bootstrap: int = 200,
    seed: int = 0,
    ridge: float = 0.01,
    coef_ridge: float = 1.0,
    confidence: float = 0.95,
) -> StyleBoard:
    """Fit the raw and the controlled Bradley-Terry boards on the same votes.

    Intervals: ``"sandwich"`` (normal, robust covariance) or ``"bootstrap"`` (percentiles of
    ``n_bootstrap`` refits on votes drawn with replacement).
    """
    v = style_votes(battles, features)
    k = len(v.models)
    plain = StyleVotes(v.models, v.left, v.right, v.score, v.z[:, :0], (), v.scale[:0], {})
    fits = {"raw": (plain, fit_style(plain, ridge, coef_ridge)), "style": (v, None)}
    fits["style"] = (v, fit_style(v, ridge, coef_ridge))
    alpha = (1.0 - confidence) / 2.0
    bounds = {}
    for key, (votes, params) in fits.items():
        if intervals == "sandwich":
            cov = style_sandwich(votes, params, ridge, coef_ridge)
            half = NormalDist().inv_cdf(1 - alpha) * np.sqrt(np.maximum(np.diag(cov), 0))
            bounds[key] = (params - half, params + half)
        else:
            rng = np.random.default_rng(seed)
            reps = []
            for _ in range(n_bootstrap):
                pick = rng.integers(0, len(votes.score), len(votes.score))
                drawn = StyleVotes(votes.models, votes.left[pick], votes.right[pick],
                                   votes.score[pick], votes.z[pick], votes.features,
                                   votes.scale, {})  # fmt: skip
                reps.append(fit_style(drawn, ridge, coef_ridge, start=params))
            low, high = np.quantile(np.array(reps), [alpha, 1 - alpha], axis=0)
            bounds[key] = (low, high)
    elo = {key: CENTRE + ELO_PER_NAT * params[:k] for key, (_, params) in fits.items()}
    raw_low, raw_high = (CENTRE + ELO_PER_NAT * b[:k] for b in bounds["raw"])
    low, high = (CENTRE + ELO_PER_NAT * b[:k] for b in bounds["style"])
    table = pd.DataFrame(
        {
            "model": list(v.models),
            "rating": elo["style"],
            "ci_low": low,
            "ci_high": high,
            "rank": interval_ranks(low, high),
            "raw_rating": elo["raw"],
            "raw_ci_low": raw_low,
            "raw_ci_high": raw_high,
            "raw_rank": interval_ranks(raw_low, raw_high),
        }
    )
    order_raw = table["raw_rating"].rank(ascending=False, method="first")
    order_style = table["rating"].rank(ascending=False, method="first")
    table["rank_change"] = (order_raw - order_style).astype(int)
    table = table.sort_values(["rating", "model"], ascending=[False, True], ignore_index=True)
    params = fits["style"][1]
    coef = pd.DataFrame(
        {
            "feature": list(v.features),
            "elo_per_sd": ELO_PER_NAT * params[k:],
            "ci_low": ELO_PER_NAT * bounds["style"][0][k:],
            "ci_high": ELO_PER_NAT * bounds["style"][1][k:],
            "sd": v.scale,
        }
    )
    return StyleBoard(table, coef, len(v.score), v.left_out)


#: A feature is used only when at least this share of the votes has a value for both clips:
#: each feature asked for leaves out every vote that lacks it.
MIN_COVERAGE = 0.5


def choose_features(battles: pd.DataFrame, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Features worth controlling for in these battle rows: (used, {skipped: why}).

    A feature is skipped when no clip in the votes has a value, when too few votes have one for
    both clips, or when its left-minus-right difference never varies (e.g. every clip has sound).
    """
    used, skipped = [], {}
    n = len(battles)
    for name in names:
        a = pd.to_numeric(battles.get(f"{name}_a"), errors="coerce")
        b = pd.to_numeric(battles.get(f"{name}_b"), errors="coerce")
        if a is None or b is None:
            skipped[name] = "not known for these clips"
            continue
        diff = (a - b).to_numpy(dtype=np.float64)
        known = np.isfinite(diff)
        if not known.any():
            skipped[name] = "no clip has a value"
        elif known.mean() < MIN_COVERAGE:
            skipped[name] = f"values for only {known.sum():,} of {n:,} votes"
        elif not np.std(diff[known]) > 0:
            skipped[name] = "the same for every pair of clips"
        else:
            used.append(name)
    return used, skipped
