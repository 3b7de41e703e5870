"""Targeted voting: raters whose votes favour (or disfavour) one model beyond what the board says.

Model. The board gives each model a log-strength theta (Bradley-Terry, ties and both-bad as half
a win). For rater r, the board predicts that in a battle of models i and j the left one wins with
probability expit(a_r * (theta_i - theta_j)), where a_r is the rater's own consistency (1 for a
rater who agrees with the board, near 0 for one who votes at random; fitted per rater with a
weak prior at 1, so careless raters are not read as voting against the strong models). A rater
who votes for model m adds an offset delta to m's side in every battle of m:
expit(a_r * (theta_m - theta_j) + delta).

Board. Given ratings are used as they are. Without them the board is fitted here so that a
group of accounts pushing one model cannot move it much: each rater weighs at most as much as
the median rater, each model is then moved until the median rater has no offset on it, and the
board is refitted without the raters who look suspect by the chance test below (a few rounds).
A board fitted to every vote would carry the attack, and the attackers would look honest
against it.

Test. For each rater with at least ``min_votes`` votes and each model m they saw, delta = 0 is
tested two ways, and a p-value is the larger of the two (both must hold):

- against the population's tastes: honest raters differ, and a style many raters share moves
  each of them by their own offsets on the models that have it. Their offsets are modelled as
  N(0, Sigma) over the K models, Sigma estimated from all raters by moments (robustly: each
  rater's equation weighs alike, and raters outlying under the previous estimate are left out;
  see `leaderboards.taste_covariance`). A shared style axis is then one direction of Sigma, so a rater who
  favours every model that has the style is explained by it, while a rater who favours one
  model alone is not. The statistic is the generalised least-squares score statistic of a
  one-model offset given Sigma;
- beyond chance on these battles: the signed root w of the likelihood-ratio statistic on the
  rater's battles that involve m, continuity-corrected by half a win towards the expectation,
  so a single surprise win over a much weaker model is not strong evidence (the first statistic
  is a normal approximation, poor in the tails when there are few battles).

Both directions are tested ("for": the model wins more than predicted; "against": less), and
the Benjamini-Hochberg procedure controls the false discovery rate at ``alpha`` over all
(rater, model, direction) tests.

Everything is vectorised over votes (bincount on group codes) and raters (batched K x K
algebra), so 100,000 votes from thousands of raters take a few seconds at most.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, log_expit, ndtr

from leaderboards.bradley_terry import PairwiseModel, fit_pairwise
from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import ELO_PER_NAT
from leaderboards.taste_covariance import MIN_INFORMATION, model_spreads, taste_scores

#: Vote outcomes (the store's labels) and the score of the left model for each.
OUTCOME_SCORE = {"left": 1.0, "right": 0.0, "tie": 0.5, "both_bad": 0.5}
COLUMNS = ("rater_id", "left_model", "right_model", "outcome")
RESULT_COLUMNS = [
    "rater_id",
    "model",
    "direction",
    "votes",
    "expected",
    "observed",
    "p_value",
    "q_value",
]
#: A rater with a raw p-value below this on any test is left out of the board the tests use.
SUSPECT_P = 1e-3
#: Refits of the board without the suspects, at most.
REFITS = 3
#: The prior on a rater's consistency a_r: normal around 1 with this standard deviation.
CONSISTENCY_PRIOR_SD = 1.0


def detect_targeted(
    votes: pd.DataFrame,
    *,
    min_votes: int = 20,
    alpha: float = 0.01,
    ratings: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Raters who vote for or against one model beyond what the board predicts (see module doc).

    Args:
        votes: one row per vote with columns rater_id, left_model, right_model and outcome
            (left, right, tie or both_bad; tie and both-bad count half a win each).
        min_votes: raters with fewer votes are not tested.
        alpha: false discovery rate (Benjamini-Hochberg over every rater, model and direction).
        ratings: the board's ratings on the Elo scale (1000 + 400 * log10 strength; only
            differences matter), one per model in ``votes``. None (recommended): fitted here
            from ``votes`` (Bradley-Terry, ties half, as the headline board), robustly to the
            raters under test (see the module docstring).

    Returns:
        One row per flag: rater_id, model, direction ("for" or "against"), votes (the rater's
        battles that involve the model), expected (the model's wins in them as the board
        predicts, ties half), observed (its wins, ties half), p_value, q_value (BH-adjusted);
        most significant first. ``attrs["spread_elo"]``: the spread of honest raters' offsets per
        model (Elo), from ``attrs["taste_covariance"]``, Sigma (K x K, natural-log units);
        ``attrs["board"]``: the board the tests used, log-strength (nats) per model.
    """
    if not 0 < alpha < 1:
        raise RatingInputError(f"alpha must be between 0 and 1, not {alpha}")
    tests = targeted_tests(votes, min_votes=min_votes, ratings=ratings)
    flags = tests[tests["q_value"] <= alpha].reset_index(drop=True)
    flags.attrs = dict(tests.attrs)
    return flags


def targeted_tests(
    votes: pd.DataFrame, *, min_votes: int = 20, ratings: dict[str, float] | None = None
) -> pd.DataFrame:
    """Every (rater, model, direction) test of `detect_targeted`, flagged or not, same columns."""
    missing = [c for c in COLUMNS if c not in votes.columns]
    if missing:
        raise RatingInputError(f"vote table lacks column(s): {', '.join(missing)}")
    outcome = votes["outcome"].astype(str).to_numpy()
    bad = sorted(set(np.unique(outcome)) - set(OUTCOME_SCORE))
    if bad:
        raise RatingInputError(
            f"unknown outcome {bad[0]!r}: expected one of {', '.join(OUTCOME_SCORE)}"
        )
    if min_votes < 1:
        raise RatingInputError(f"min_votes must be at least 1, not {min_votes}")
    left = votes["left_model"].astype(str).to_numpy()
    right = votes["right_model"].astype(str).to_numpy()
    y = np.select(
        [outcome == "left", outcome == "right"], [1.0, 0.0], 0.5
    )  # tie and both_bad: half
    models, codes = np.unique(np.concatenate([left, right]), return_inverse=True)
    li, ri = codes[: len(left)], codes[len(left) :]
    rater_names, rater = np.unique(votes["rater_id"].astype(str).to_numpy(), return_inverse=True)
    per_rater = np.bincount(rater, minlength=len(rater_names))
    if not (per_rater >= min_votes).any():
        return pd.DataFrame({c: pd.Series(dtype=float) for c in RESULT_COLUMNS})
    arrays = (models, rater_names, rater, li, ri, y, min_votes)
    if ratings is not None:
        return _tests(arrays, _strengths(models, li, ri, y, ratings)).drop(columns="p_chance")
    # A board fitted to every vote is the one the attackers pushed. Fit it with each rater
    # weighing at most as much as the median rater, test, and fit it again without the raters
    # who look suspect on any test (a raw p below SUSPECT_P by the chance test alone, tastes
    # not allowed for): honest raters left out of the fit cost precision, attackers left in
    # would bias it towards themselves.
    weight = np.minimum(1.0, np.median(per_rater) / per_rater)[rater]
    theta = _median_rater(_strengths(models, li, ri, y, None, weight), rater, li, ri, y)
    suspects = np.zeros(len(rater_names), dtype=bool)
    for _ in range(REFITS):
        tests = _tests(arrays, theta)
        found = np.isin(rater_names, tests["rater_id"][tests["p_chance"] < SUSPECT_P].unique())
        if not (found & ~suspects).any():
            return tests.drop(columns="p_chance")
        suspects |= found
        clean = ~suspects[rater]
        theta = _strengths(
            models, li[clean], ri[clean], y[clean], None, weight[clean], k=len(models)
        )
    return _tests(arrays, theta).drop(columns="p_chance")


def _median_rater(theta: np.ndarray, rater, li, ri, y, rounds: int = 8) -> np.ndarray:
    """Move the board until the median rater has no offset on any model.

    A fit to every vote gives a group of accounts that all push one model a share of the
    board equal to their share of the votes (or of the raters, when each weighs alike). Here
    each model's strength is moved by the median, over raters, of their one-step offset on it
    (wins minus expected wins over the information), so the board follows the typical rater
    and only a majority could move it."""
    k = len(theta)
    theta = theta.copy()
    keys, group = np.unique(np.concatenate([rater * k + li, rater * k + ri]), return_inverse=True)
    for _ in range(rounds):
        p = expit(theta[li] - theta[ri])
        resid = np.concatenate([y - p, p - y])
        info = np.bincount(group, np.tile(p * (1.0 - p), 2), len(keys))
        offset = np.bincount(group, resid, len(keys)) / np.maximum(info, 1e-12)
        usable = info >= MIN_INFORMATION
        if not usable.any():
            break
        frame = pd.DataFrame({"model": keys[usable] % k, "offset": offset[usable]})
        shift = np.zeros(k)
        medians = frame.groupby("model")["offset"].median()
        shift[medians.index.to_numpy()] = np.clip(medians.to_numpy(), -1.0, 1.0)
        theta += shift - shift.mean()
        if np.abs(shift).max() < 1e-4:
            break
    return theta


def _tests(arrays, theta: np.ndarray) -> pd.DataFrame:
    """The tests of every rater with enough votes against the board ``theta`` (nats)."""
    models, rater_names, rater, li, ri, y, min_votes = arrays
    keep = np.bincount(rater, minlength=len(rater_names))[rater] >= min_votes
    rater, li, ri, y = rater[keep], li[keep], ri[keep], y[keep]
    d = theta[li] - theta[ri]
    a = _consistency(rater, d, y, len(rater_names))
    eta = a[rater] * d
    # Each vote is evidence about both of its models: the left one as is, the right one mirrored.
    k = len(models)
    group_key = np.concatenate([rater * k + li, rater * k + ri])
    keys, group = np.unique(group_key, return_inverse=True)
    eta2 = np.concatenate([eta, -eta])
    score = np.concatenate([y, 1.0 - y])
    board = expit(np.concatenate([d, -d]))
    g = len(keys)
    n = np.bincount(group, minlength=g).astype(float)
    observed = np.bincount(group, score, g)
    p0 = expit(eta2)
    mean0 = np.bincount(group, p0, g)
    info = np.bincount(group, p0 * (1.0 - p0), g)
    w = _signed_lr_root(group, eta2, observed, mean0, g)
    model_of = keys % k
    spread = model_spreads((observed - mean0) / np.sqrt(np.maximum(info, 1e-12)), info, model_of, k)
    p = expit(eta)
    z_taste, sigma = taste_scores(rater, li, ri, y - p, p * (1.0 - p), len(rater_names), spread, k)
    z = z_taste[keys // k, model_of]
    # Both must hold: the rater's offset on the model is beyond the population's tastes (z),
    # and beyond chance on these few battles (w, exact enough in the tails where z is not).
    p_for = np.maximum(ndtr(-z), ndtr(-w))
    p_against = np.maximum(ndtr(z), ndtr(w))
    tests = pd.DataFrame(
        {
            "rater_id": np.tile(rater_names[keys // k], 2),
            "model": np.tile(models[model_of], 2),
            "direction": np.repeat(["for", "against"], g),
            "votes": np.tile(n.astype(int), 2),
            "expected": np.tile(np.bincount(group, board, g), 2),
            "observed": np.tile(observed, 2),
            "p_value": np.concatenate([p_for, p_against]),
            "p_chance": np.concatenate([ndtr(-w), ndtr(w)]),
        }
    )
    tests["q_value"] = benjamini_hochberg(tests["p_value"].to_numpy())
    tests = tests.sort_values(["q_value", "p_value", "rater_id", "model"], kind="stable")
    tests = tests.reset_index(drop=True)
    centred = sigma - sigma.mean(axis=0) - sigma.mean(axis=1)[:, None] + sigma.mean()
    spread = np.sqrt(np.maximum(np.diag(centred), 0.0))
    tests.attrs["spread_elo"] = dict(
        zip(models.tolist(), (spread * ELO_PER_NAT).tolist(), strict=True)
    )
    tests.attrs["taste_covariance"] = sigma
    tests.attrs["board"] = dict(zip(models.tolist(), theta.tolist(), strict=True))
    return tests


def fitted_ratings(votes: pd.DataFrame) -> dict[str, float]:
    """Bradley-Terry ratings of the votes on the Elo scale (ties half), centred at 1000."""
    left = votes["left_model"].astype(str).to_numpy()
    right = votes["right_model"].astype(str).to_numpy()
    y = votes["outcome"].map(OUTCOME_SCORE).to_numpy(dtype=float)
    models, codes = np.unique(np.concatenate([left, right]), return_inverse=True)
    theta = _strengths(models, codes[: len(left)], codes[len(left) :], y, None)
    return dict(zip(models.tolist(), (1000.0 + ELO_PER_NAT * theta).tolist(), strict=True))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order of ``p``."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(ranked, 1.0)
    return q


def _strengths(models, li, ri, y, ratings, weight=None, k: int | None = None) -> np.ndarray:
    """Log-strengths (nats) per model: from the given Elo ratings, or fitted to the votes
    (each vote counted ``weight`` times; a model without votes sits at the mean)."""
    if ratings is not None:
        unrated = [m for m in models if m not in ratings]
        if unrated:
            raise RatingInputError(f"no rating given for model {unrated[0]!r}")
        return np.array([float(ratings[m]) for m in models]) / ELO_PER_NAT
    k = len(models) if k is None else k
    weight = np.ones(len(li)) if weight is None else weight
    first, second = np.minimum(li, ri), np.maximum(li, ri)
    pair_key, pair = np.unique(first * k + second, return_inverse=True)
    first_score = np.where(li == first, y, 1.0 - y)
    wins = np.bincount(pair, weight * (first_score == 1.0), len(pair_key))
    losses = np.bincount(pair, weight * (first_score == 0.0), len(pair_key))
    ties = np.bincount(pair, weight * (first_score == 0.5), len(pair_key))
    model = PairwiseModel(k, pair_key // k, pair_key % k)
    return fit_pairwise(model, np.stack([wins, losses, ties], axis=1)).params


def _consistency(rater: np.ndarray, d: np.ndarray, y: np.ndarray, n_raters: int) -> np.ndarray:
    """Each rater's a_r: penalised ML of expit(a * d) against their scores (Newton, per rater)."""
    a = np.ones(n_raters)
    precision = 1.0 / CONSISTENCY_PRIOR_SD**2
    for _ in range(25):
        p = expit(a[rater] * d)
        grad = np.bincount(rater, d * (y - p), n_raters) - precision * (a - 1.0)
        hess = np.bincount(rater, d * d * p * (1.0 - p), n_raters) + precision
        step = grad / hess
        a = np.clip(a + step, 0.0, 4.0)
        if np.abs(step).max() < 1e-8:
            break
    return a


def _signed_lr_root(group, eta, observed, mean0, g) -> np.ndarray:
    """sign(observed - expected) * sqrt(LR) for an offset delta per group, continuity-corrected.

    The offset's likelihood depends on the votes only through the group's total score S, so
    LR / 2 = delta * S - sum(softplus(eta + delta) - softplus(eta)) at the delta solving
    sum(expit(eta + delta)) = S; S is first moved half a win towards the expectation.
    """
    gap = observed - mean0
    corrected = np.where(np.abs(gap) <= 0.5, mean0, observed - 0.5 * np.sign(gap))
    lo, hi = np.full(g, -20.0), np.full(g, 20.0)
    for _ in range(50):  # bisection: the expected score is increasing in delta
        mid = 0.5 * (lo + hi)
        above = np.bincount(group, expit(eta + mid[group]), g) > corrected
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    delta = 0.5 * (lo + hi)
    # softplus(x) = -log_expit(-x)
    shift = np.bincount(group, log_expit(-eta) - log_expit(-(eta + delta[group])), g)
    half_lr = np.maximum(delta * corrected - shift, 0.0)
    return np.sign(gap) * np.sqrt(2.0 * half_lr)


__all__ = [
    "OUTCOME_SCORE",
    "RESULT_COLUMNS",
    "benjamini_hochberg",
    "detect_targeted",
    "fitted_ratings",
    "targeted_tests",
]
