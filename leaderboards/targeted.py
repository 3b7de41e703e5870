"""Targeted voting: raters whose votes favour (or disfavour) one model beyond what the board says.

Model. The board gives each model a log-strength theta (Bradley-Terry, ties and both-bad as half
a win). For rater r, the board predicts that in a battle of models i and j the left one wins with
probability expit(a_r * (theta_i - theta_j)), where a_r is the rater's own consistency (1 for a
rater who agrees with the board, near 0 for one who votes at random; fitted per rater with a
weak prior at 1, so careless raters are not read as voting against the strong models). A rater
who votes for model m adds an offset delta to m's side in every battle of m:
expit(a_r * (theta_m - theta_j) + delta).

Test. For each rater with at least ``min_votes`` votes and each model m they saw, delta = 0 is
tested two ways, and a p-value is the larger of the two (both must hold):

- against the population's tastes: honest raters differ, and a style many raters share moves
  each of them by their own offsets on the models that have it. Their offsets are modelled as
  N(0, Sigma) over the K models, Sigma estimated from all raters by moments (robustly: each
  rater's equation weighs alike, and raters outlying under the previous estimate are left out;
  see `_taste_scores`). A shared style axis is then one direction of Sigma, so a rater who
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
from scipy.special import chdtri, expit, log_expit, ndtr

from leaderboards.bradley_terry import PairwiseModel, fit_pairwise
from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import ELO_PER_NAT

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
#: A rater-model pair enters the spread estimate tau_m only with this much information on delta
#: (about 4 battles at even odds); fewer battles say almost nothing about a rater's taste.
MIN_INFORMATION = 1.0
#: Models tested on fewer rater pairs than this take the spread pooled over all models.
MIN_PAIRS_FOR_SPREAD = 10
#: The prior on a rater's consistency a_r: normal around 1 with this standard deviation.
CONSISTENCY_PRIOR_SD = 1.0
_CHI2_1_MEDIAN = 0.454936423119572


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
            differences matter), one per model in ``votes``. None: fitted here from ``votes``
            (Bradley-Terry, ties half, as the headline board).

    Returns:
        One row per flag: rater_id, model, direction ("for" or "against"), votes (the rater's
        battles that involve the model), expected (the model's wins in them as the board
        predicts, ties half), observed (its wins, ties half), p_value, q_value (BH-adjusted);
        most significant first. ``attrs["spread_elo"]``: the spread of honest raters' offsets per
        model (Elo), from ``attrs["taste_covariance"]``, Sigma (K x K, natural-log units).
    """
    if not 0 < alpha < 1:
        raise RatingInputError(f"alpha must be between 0 and 1, not {alpha}")
    tests = targeted_tests(votes, min_votes=min_votes, ratings=ratings)
    flagged = tests["rater_id"][tests["q_value"] <= alpha].unique()
    if ratings is None and len(flagged):
        # The flagged raters' votes moved the fitted board towards them: test again against
        # the board fitted without them (once; their own tests use that board too).
        clean = votes[~votes["rater_id"].astype(str).isin(flagged)]
        if not clean.empty:
            board = fitted_ratings(clean)
            models = set(votes["left_model"].astype(str)) | set(votes["right_model"].astype(str))
            if models <= set(board):
                tests = targeted_tests(votes, min_votes=min_votes, ratings=board)
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
    theta = _strengths(models, li, ri, y, ratings)
    rater_names, rater = np.unique(votes["rater_id"].astype(str).to_numpy(), return_inverse=True)
    keep = np.bincount(rater, minlength=len(rater_names))[rater] >= min_votes
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in RESULT_COLUMNS})
    if not keep.any():
        return empty
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
    spread = _spread((observed - mean0) / np.sqrt(np.maximum(info, 1e-12)), info, model_of, k)
    p = expit(eta)
    z_taste, sigma = _taste_scores(rater, li, ri, y - p, p * (1.0 - p), len(rater_names), spread, k)
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


def _strengths(models, li, ri, y, ratings) -> np.ndarray:
    """Log-strengths (nats) per model: from the given Elo ratings, or fitted to the votes."""
    if ratings is not None:
        unrated = [m for m in models if m not in ratings]
        if unrated:
            raise RatingInputError(f"no rating given for model {unrated[0]!r}")
        return np.array([float(ratings[m]) for m in models]) / ELO_PER_NAT
    k = len(models)
    first, second = np.minimum(li, ri), np.maximum(li, ri)
    pair_key, pair = np.unique(first * k + second, return_inverse=True)
    first_score = np.where(li == first, y, 1.0 - y)
    wins = np.bincount(pair, first_score == 1.0, len(pair_key))
    losses = np.bincount(pair, first_score == 0.0, len(pair_key))
    ties = np.bincount(pair, first_score == 0.5, len(pair_key))
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


def _spread(z: np.ndarray, info: np.ndarray, model_of: np.ndarray, k: int) -> np.ndarray:
    """tau_m per model (nats), Sigma's starting diagonal: the spread of raters' offsets, from the
    median of the squared score statistics z = U / sqrt(I) (not continuity-corrected, so that
    its median is the chi-square one when tau is 0)."""
    usable = info >= MIN_INFORMATION
    pooled = _median_root(z[usable], info[usable])
    out = np.full(k, pooled)
    for m in range(k):
        rows = usable & (model_of == m)
        if rows.sum() >= MIN_PAIRS_FOR_SPREAD:
            out[m] = _median_root(z[rows], info[rows])
    return out


def _taste_scores(rater, li, ri, resid, weight, n_raters, spread, k):
    """Per rater and model, the offset's score statistic against the population's tastes.

    Under the rater's own consistency, their score vector U (K,) (wins minus expected wins per
    model) has covariance L, the information matrix of their battles (a graph Laplacian). Honest
    raters' offsets delta ~ N(0, Sigma) shift it by L delta, so U ~ N(0, C), C = L + L Sigma L.
    Sigma is the population's taste covariance (a shared style axis is one direction of it),
    estimated by moments (sum of U U' - L = sum of L Sigma L), from raters who are not outlying
    under the previous estimate (started from the per-model spreads, robust medians). A vote for
    model m shifts U by L e_m; its generalised least-squares score statistic is
    z = g' C^+ U / sqrt(g' C^+ g) with g = L e_m.

    Returns (z of shape (n_raters, K), zeros for models a rater did not see; Sigma (K, K)).
    """
    kk = k * k
    size = n_raters * k
    u = np.bincount(rater * k + li, resid, size) - np.bincount(rater * k + ri, resid, size)
    u = u.reshape(n_raters, k)
    base = rater * kk
    lap = (
        np.bincount(base + li * (k + 1), weight, n_raters * kk)
        + np.bincount(base + ri * (k + 1), weight, n_raters * kk)
        - np.bincount(base + li * k + ri, weight, n_raters * kk)
        - np.bincount(base + ri * k + li, weight, n_raters * kk)
    ).reshape(n_raters, k, k)
    seen = np.einsum("rii->ri", lap) > 0
    tested = seen.any(axis=1)
    u, lap, seen = u[tested], lap[tested], seen[tested]
    # Each rater's moment equation weighs alike (a rater with ten times the votes would weigh a
    # hundred times as much in the plain sum, so a few busy accounts could set Sigma).
    scale = 1.0 / np.maximum(np.einsum("rii->r", lap), 1.0) ** 2
    cutoff = chdtri(1, 0.001 / k)  # Bonferroni over a rater's models
    sigma = np.diag(spread**2)
    z = _gls_z(u, lap, seen, sigma)
    for _ in range(3):
        keep = (z * z).max(axis=1) <= cutoff
        if keep.sum() < max(2 * k, 10):
            break
        sigma = _moment_sigma(u[keep], lap[keep], scale[keep])
        z = _gls_z(u, lap, seen, sigma)
    out = np.zeros((n_raters, k))
    out[tested] = z
    return out, sigma


def _gls_z(u, lap, seen, sigma) -> np.ndarray:
    """z = g' C^+ U / sqrt(g' C^+ g) per rater and model, g = L e_m, C = L + L Sigma L."""
    pinv = np.linalg.pinv(lap + lap @ sigma @ lap, rcond=1e-9, hermitian=True)
    lc = lap @ pinv
    num = np.einsum("rij,rj->ri", lc, u)
    den = np.einsum("rij,rji->ri", lc, lap)
    return np.where(seen & (den > 1e-12), num / np.sqrt(np.maximum(den, 1e-12)), 0.0)


def _moment_sigma(u: np.ndarray, lap: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Sigma solving sum(s L Sigma L) = sum(s (U U' - L)) in least squares (s: each rater's
    weight), made positive semidefinite."""
    k = lap.shape[1]
    a = np.einsum("r,ria,rbj->ijab", scale, lap, lap, optimize=True).reshape(k * k, k * k)
    b = (np.einsum("r,ri,rj->ij", scale, u, u) - np.einsum("r,rij->ij", scale, lap)).ravel()
    sigma = np.linalg.lstsq(a, b, rcond=None)[0].reshape(k, k)
    sigma = 0.5 * (sigma + sigma.T)
    values, vectors = np.linalg.eigh(sigma)
    return (vectors * np.maximum(values, 0.0)) @ vectors.T


def _median_root(w: np.ndarray, info: np.ndarray) -> float:
    """The tau >= 0 at which median(w^2 / (1 + tau^2 info)) is the chi-square(1) median."""
    if len(w) == 0:
        return 0.0
    w2 = w * w
    if np.median(w2) <= _CHI2_1_MEDIAN:
        return 0.0
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if np.median(w2 / (1.0 + mid * mid * info)) > _CHI2_1_MEDIAN:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


__all__ = [
    "OUTCOME_SCORE",
    "RESULT_COLUMNS",
    "benjamini_hochberg",
    "detect_targeted",
    "fitted_ratings",
    "targeted_tests",
]
