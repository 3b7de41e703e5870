"""Surge hold: a group of new accounts pushing one model, caught before any one of them can be.

The per-rater test (`leaderboards.targeted`) needs evidence from each account: a few accounts
that each cast some tens of votes lift a model before any of them is flagged. Here the raters
still young (fewer than ``young_votes`` votes) are tested together, per model m and direction:

    S_m = sum over young raters r of w_r (observed - expected) wins of m in r's battles of m,

expected under the same board the per-rater test fits (``attrs["board"]`` of its result), with
each rater's own consistency as there. Under honest voting S_m has mean 0 and variance
sum_r w_r^2 (I_rm + I_rm^2 s_m^2), I_rm = sum of p(1 - p) over r's battles of m and s_m the spread of
honest raters' offsets on m (``attrs["spread_elo"]``), so shared tastes do not make a surge.
z_m = S_m / sqrt(Var); one-sided p-values for "for" and "against", Benjamini-Hochberg over
models and directions at ``alpha``.

When m surges, the young raters who pushed it (their own residual on m in the surge's
direction) are *held*: their votes leave the board, nothing is flagged or deleted, and a held
rater is released once established (``young_votes`` votes) and passing the per-rater test
on every model (`released`). Honest young raters are only delayed. The weight w_r = 1 - votes_r / young_votes makes
the newest accounts count most (`youth_weights`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import ELO_PER_NAT
from leaderboards.targeted import COLUMNS, OUTCOME_SCORE, _consistency, benjamini_hochberg

#: Votes after which a rater is established (no longer young).
YOUNG_VOTES = 200
#: A held rater, once established (and not flagged), is released when their own offset on the
#: model they were held for is under this many standard deviations against the clean board.
RELEASE_Z = 2.0
#: Young raters are tested together while they have a vote among the last this many.
YOUNG_RECENT = 2000
SURGE_COLUMNS = ["model", "direction", "raters", "votes", "expected", "observed", "z", "p_value",
                 "q_value"]  # fmt: skip


def surge_tests(
    votes: pd.DataFrame,
    young: set[str] | dict[str, float],
    board: dict[str, float],
    spread_elo: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group score tests over the ``young`` raters' votes, per model and direction.

    Args:
        votes: rater_id, left_model, right_model, outcome (every rater; the consistencies are
            fitted on each rater's own votes).
        young: the rater ids tested together, or {rater_id: weight} (see `youth_weights`:
            the newest accounts weigh most, so a burst of new accounts stands out from the
            honest raters who are young only because they have not voted much yet).
        board: log-strength (nats) per model, as ``attrs["board"]`` of `targeted_tests`.
        spread_elo: honest raters' offset spread per model (Elo); None or missing: 0.

    Returns:
        (tests: one row per model and direction, SURGE_COLUMNS, most significant first;
        residuals: one row per young rater and model they saw: rater_id, model, residual).
    """
    missing = [c for c in COLUMNS if c not in votes.columns]
    if missing:
        raise RatingInputError(f"vote table lacks column(s): {', '.join(missing)}")
    unrated = sorted(
        (set(votes["left_model"].astype(str)) | set(votes["right_model"].astype(str))) - set(board)
    )
    if unrated:
        raise RatingInputError(f"no board strength for model {unrated[0]!r}")
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in SURGE_COLUMNS})
    rid = votes["rater_id"].astype(str).to_numpy()
    if len(votes) == 0:
        return empty, pd.DataFrame(columns=["rater_id", "model", "residual"])
    models = np.array(sorted(board))
    k = len(models)
    theta = np.array([board[m] for m in models])
    li = np.searchsorted(models, votes["left_model"].astype(str).to_numpy())
    ri = np.searchsorted(models, votes["right_model"].astype(str).to_numpy())
    y = votes["outcome"].map(OUTCOME_SCORE).to_numpy(dtype=float)
    names, rater = np.unique(rid, return_inverse=True)
    d = theta[li] - theta[ri]
    a = _consistency(rater, d, y, len(names))
    weights = young if isinstance(young, dict) else dict.fromkeys(young, 1.0)
    w_rater = np.array([float(weights.get(n, 0.0)) for n in names])
    keep = (w_rater > 0)[rater]
    if not keep.any():
        return empty, pd.DataFrame(columns=["rater_id", "model", "residual"])
    rater, li, ri, y, eta = rater[keep], li[keep], ri[keep], y[keep], (a[rater] * d)[keep]
    keys, group = np.unique(np.concatenate([rater * k + li, rater * k + ri]), return_inverse=True)
    p = expit(np.concatenate([eta, -eta]))
    score = np.concatenate([y, 1.0 - y])
    g = len(keys)
    resid = np.bincount(group, score - p, g)
    info = np.bincount(group, p * (1.0 - p), g)
    model_of = keys % k
    w = w_rater[keys // k]
    spread = np.array([(spread_elo or {}).get(m, 0.0) for m in models]) / ELO_PER_NAT
    var = np.bincount(model_of, w**2 * (info + info**2 * spread[model_of] ** 2), k)
    total = np.bincount(model_of, w * resid, k)
    z = total / np.sqrt(np.maximum(var, 1e-12))
    seen = var > 0
    n = np.bincount(model_of, np.bincount(group, minlength=g), k)
    tests = pd.DataFrame(
        {
            "model": np.tile(models[seen], 2),
            "direction": np.repeat(["for", "against"], seen.sum()),
            "raters": np.tile(np.bincount(model_of, minlength=k)[seen], 2),
            "votes": np.tile(n[seen].astype(int), 2),
            "expected": np.tile(np.bincount(model_of, np.bincount(group, p, g), k)[seen], 2),
            "observed": np.tile(np.bincount(model_of, np.bincount(group, score, g), k)[seen], 2),
            "z": np.concatenate([z[seen], -z[seen]]),
            "p_value": np.concatenate([ndtr(-z[seen]), ndtr(z[seen])]),
        }
    )
    tests["q_value"] = benjamini_hochberg(tests["p_value"].to_numpy())
    tests = tests.sort_values(["q_value", "model"], kind="stable").reset_index(drop=True)
    residuals = pd.DataFrame(
        {"rater_id": names[keys // k], "model": models[model_of], "residual": resid}
    )
    return tests, residuals


def young_raters(
    votes: pd.DataFrame,
    young_votes: int = YOUNG_VOTES,
    recent: int = YOUNG_RECENT,
    exclude: set[str] = frozenset(),
    held: set[str] = frozenset(),
) -> dict[str, float]:
    """The raters the surge test weighs together, with `youth_weights`: fewer than
    ``young_votes`` votes, a vote among the last ``recent`` rows of ``votes`` (in the order
    cast) or already ``held``, and not in ``exclude`` (e.g. flagged)."""
    counts = votes["rater_id"].astype(str).value_counts().to_dict()
    active = set(votes["rater_id"].astype(str).iloc[-recent:]) | set(held)
    chosen = {r: n for r, n in counts.items() if r in active and r not in exclude}
    return youth_weights(chosen, young_votes)


def youth_weights(votes_cast: dict[str, int], young_votes: int = YOUNG_VOTES) -> dict[str, float]:
    """Each young rater's weight in the surge test: 1 - votes / young_votes (established: 0)."""
    return {rid: 1.0 - n / young_votes for rid, n in votes_cast.items() if 0 <= n < young_votes}


def released(
    votes: pd.DataFrame, held: dict[str, tuple[str, str]], board: dict[str, float]
) -> set[str]:
    """Held raters who pass: against ``board`` (nats; the board without the held and flagged
    raters, which they could not have pushed), their own wins on the model they were held for
    are within RELEASE_Z standard deviations of the expected in the held direction.

    ``held``: {rater_id: (model, direction)}. A rater without votes on the model passes.
    """
    out = set()
    if not held:
        return out
    _, residuals = surge_tests(votes, set(held), board)
    by = {(r, m): x for r, m, x in residuals[["rater_id", "model", "residual"]].itertuples(False)}
    info = _information(votes, set(held), board)
    for rater, (model, direction) in held.items():
        sign = 1.0 if direction == "for" else -1.0
        z = sign * by.get((rater, model), 0.0) / np.sqrt(max(info.get((rater, model), 0.0), 1e-12))
        if z < RELEASE_Z:
            out.add(rater)
    return out


def _information(votes: pd.DataFrame, raters: set[str], board: dict[str, float]) -> dict:
    """{(rater_id, model): sum of p(1 - p)} over the raters' battles of each model."""
    mine = votes[votes["rater_id"].astype(str).isin(raters)]
    left = mine["left_model"].astype(str).to_numpy()
    right = mine["right_model"].astype(str).to_numpy()
    d = np.array([board[x] for x in left]) - np.array([board[x] for x in right])
    q = expit(d) * (1.0 - expit(d))
    frame = pd.DataFrame(
        {
            "rater_id": np.concatenate([mine["rater_id"].astype(str).to_numpy()] * 2),
            "model": np.concatenate([left, right]),
            "q": np.concatenate([q, q]),
        }
    )
    return frame.groupby(["rater_id", "model"])["q"].sum().to_dict()


def surge_holds(
    votes: pd.DataFrame,
    young: set[str] | dict[str, float],
    board: dict[str, float],
    spread_elo: dict[str, float] | None = None,
    alpha: float = 0.01,
    open_surges: list[tuple[str, str]] = (),
) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """The surges at false discovery rate ``alpha`` and the young raters to hold for them.

    ``open_surges``: (model, direction) that surged recently (the caller keeps them open for a
    while): young raters pushing them are held though the test does not fire now, so accounts
    that replace flagged ones are held from their first votes.

    Returns (surges: the rows of `surge_tests` with q_value <= alpha; {rater_id: (model, direction)} for
    each young rater whose own residual on a surging or open model is in its direction).
    """
    if not 0 < alpha < 1:
        raise RatingInputError(f"alpha must be between 0 and 1, not {alpha}")
    tests, residuals = surge_tests(votes, young, board, spread_elo)
    surges = tests[tests["q_value"] <= alpha].reset_index(drop=True)
    held: dict[str, tuple[str, str]] = {}
    pushed = list(zip(surges["model"], surges["direction"], strict=True)) + list(open_surges)
    for model, direction in pushed:
        rows = residuals[residuals["model"] == model]
        sign = 1.0 if direction == "for" else -1.0
        for rater in rows["rater_id"][sign * rows["residual"] > 0]:
            held.setdefault(str(rater), (str(model), str(direction)))
    return surges, held


__all__ = [
    "RELEASE_Z",
    "SURGE_COLUMNS",
    "YOUNG_RECENT",
    "YOUNG_VOTES",
    "released",
    "surge_holds",
    "surge_tests",
    "young_raters",
    "youth_weights",
]
