"""Rater statistics: agreement between raters, accuracy on gold checks, time to vote."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leaderboards.errors import RatingInputError

#: A vote's choice relative to its clip pair taken in a fixed (sorted) order, so two raters who
#: saw the same clips on opposite sides are compared correctly.
CHOICES = ("first", "second", "tie", "both_bad")


def oriented_votes(battles: pd.DataFrame) -> pd.DataFrame:
    """One row per vote: item (the unordered clip pair), rater, choice (one of `CHOICES`).

    Args:
        battles: votes with columns clip_a, clip_b, winner (Chatbot Arena labels), rater.
    """
    missing = [c for c in ("clip_a", "clip_b", "winner", "rater") if c not in battles.columns]
    if missing:
        raise RatingInputError(f"battle table lacks column(s): {', '.join(missing)}")
    a = battles["clip_a"].astype(str).to_numpy()
    b = battles["clip_b"].astype(str).to_numpy()
    swapped = a > b
    winner = battles["winner"].to_numpy()
    choice = np.select(
        [winner == "tie", winner == "tie (bothbad)", (winner == "model_a") != swapped],
        ["tie", "both_bad", "first"],
        "second",
    )
    item = np.where(swapped, b + "|" + a, a + "|" + b)
    return pd.DataFrame({"item": item, "rater": battles["rater"].to_numpy(), "choice": choice})


def _alpha_from_codes(item: np.ndarray, code: np.ndarray, n_codes: int) -> tuple[float, int]:
    """Krippendorff's alpha (nominal) of coded ratings grouped by item; (alpha, pairable values)."""
    order = np.argsort(item, kind="stable")
    item, code = item[order], code[order]
    _, start, m = np.unique(item, return_index=True, return_counts=True)
    counts = np.zeros((len(start), n_codes))
    np.add.at(counts, (np.repeat(np.arange(len(start)), m), code), 1.0)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    if len(m) == 0:
        return np.nan, 0
    # Coincidence matrix: every ordered pair of values within an item, weighted 1 / (m - 1).
    weights = 1.0 / (m - 1)
    o = np.einsum("u,uc,uk->ck", weights, counts, counts)
    o -= np.diag((counts * weights[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    observed = o.sum() - np.trace(o)
    expected = (n_c.sum() ** 2 - (n_c**2).sum()) / (n - 1)
    if expected <= 0:
        return np.nan, int(n)
    return float(1.0 - observed / expected), int(n)


def inter_rater_agreement(
    battles: pd.DataFrame, n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict:
    """How often two raters who judged the same clip pair chose the same way.

    Only clip pairs judged by at least two different raters count (a rater's repeat votes on a
    pair keep only the last one). Choices are first clip / second clip / tie / both bad.

    Returns:
        A dict with items (clip pairs judged by two or more raters), votes (their votes),
        raw_agreement (share of pairs of raters on the same item who agree), alpha
        (Krippendorff's alpha, nominal: 1 perfect, 0 chance level) with alpha_low / alpha_high
        (percentile bootstrap over items); NaN when no item has two raters.
    """
    votes = oriented_votes(battles).drop_duplicates(["item", "rater"], keep="last")
    per_item = votes.groupby("item")["rater"].transform("size")
    votes = votes[per_item >= 2]
    out = {"items": int(votes["item"].nunique()), "votes": len(votes)}
    if votes.empty:
        return out | dict.fromkeys(("raw_agreement", "alpha", "alpha_low", "alpha_high"), np.nan)
    code = pd.Categorical(votes["choice"], categories=CHOICES).codes.astype(np.int64)
    item_codes, items = pd.factorize(votes["item"])
    counts = np.zeros((len(items), len(CHOICES)))
    np.add.at(counts, (item_codes, code), 1.0)
    m = counts.sum(axis=1)
    agreeing = (counts * (counts - 1)).sum() / (m * (m - 1)).sum()
    alpha, _ = _alpha_from_codes(item_codes, code, len(CHOICES))
    low = high = np.nan
    if n_bootstrap:
        rng = np.random.default_rng(seed)
        boot = np.empty(n_bootstrap)
        members = [np.flatnonzero(item_codes == i) for i in range(len(items))]
        for r in range(n_bootstrap):
            picks = rng.integers(0, len(items), len(items))
            rows = np.concatenate([members[p] for p in picks])
            new_item = np.repeat(np.arange(len(picks)), [len(members[p]) for p in picks])
            boot[r] = _alpha_from_codes(new_item, code[rows], len(CHOICES))[0]
        alpha_quantiles = boot[np.isfinite(boot)]
        if len(alpha_quantiles):
            q = (1.0 - confidence) / 2.0
            low, high = (float(v) for v in np.quantile(alpha_quantiles, [q, 1.0 - q]))
    return out | {
        "raw_agreement": float(agreeing),
        "alpha": alpha,
        "alpha_low": low,
        "alpha_high": high,
    }


def agreement_with_others(battles: pd.DataFrame) -> pd.DataFrame:
    """Per rater: how often their choice matches the majority of the other raters on an item.

    Returns:
        Columns rater, items (clip pairs this rater shares with others), agree (share of those
        where the rater's choice equals the others' most common choice; ties between choices
        count as a match when the rater's choice is among them).
    """
    votes = oriented_votes(battles).drop_duplicates(["item", "rater"], keep="last")
    table = votes.groupby(["item", "choice"]).size().unstack(fill_value=0)
    rows = []
    for rater, own in votes.groupby("rater"):
        matched = []
        for item, choice in zip(own["item"], own["choice"], strict=True):
            others = table.loc[item].copy()
            others[choice] -= 1
            if others.sum() == 0:
                continue
            matched.append(others[choice] == others.max())
        rows.append((rater, len(matched), float(np.mean(matched)) if matched else np.nan))
    return pd.DataFrame(rows, columns=["rater", "items", "agree"]).sort_values(
        ["agree", "rater"], ignore_index=True
    )


def wilson_interval(successes: np.ndarray, trials: np.ndarray, z: float = 1.959964) -> tuple:
    """Wilson score interval of a binomial proportion (NaN where there are no trials)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def gold_accuracy(gold: pd.DataFrame) -> pd.DataFrame:
    """Per rater accuracy on gold checks with a 95% Wilson interval.

    Args:
        gold: rows with rater, gold_seen, gold_correct (``Store.gold_table()``).

    Returns:
        Columns rater, gold_seen, gold_correct, accuracy, low, high (worst first).
    """
    missing = [c for c in ("rater", "gold_seen", "gold_correct") if c not in gold.columns]
    if missing:
        raise RatingInputError(f"gold table lacks column(s): {', '.join(missing)}")
    out = gold[["rater", "gold_seen", "gold_correct"]].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["accuracy"] = out["gold_correct"] / out["gold_seen"]
    out["low"], out["high"] = wilson_interval(out["gold_correct"], out["gold_seen"])
    return out.sort_values(["accuracy", "rater"], ignore_index=True)


def time_to_vote(battles: pd.DataFrame) -> pd.DataFrame:
    """Per rater: votes, votes with a recorded time, median and 90th percentile seconds.

    Args:
        battles: votes with columns rater and time_to_vote_s (NaN where not recorded).
    """
    missing = [c for c in ("rater", "time_to_vote_s") if c not in battles.columns]
    if missing:
        raise RatingInputError(f"battle table lacks column(s): {', '.join(missing)}")
    seconds = pd.to_numeric(battles["time_to_vote_s"], errors="coerce")
    frame = pd.DataFrame({"rater": battles["rater"].to_numpy(), "s": seconds.to_numpy()})
    grouped = frame.groupby("rater")["s"]
    out = pd.DataFrame(
        {
            "votes": grouped.size(),
            "timed": grouped.count(),
            "median_s": grouped.median(),
            "p90_s": grouped.quantile(0.9),
        }
    )
    return out.rename_axis("rater").reset_index().sort_values("median_s", ignore_index=True)
