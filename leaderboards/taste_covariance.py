"""Honest raters' tastes: how far their offsets on each model spread, and how they go together.

Helpers of `leaderboards.targeted`. An offset is a rater's extra log-odds for a model over what
the board predicts. Honest raters' offsets are modelled as N(0, Sigma) over the K models: a
style that many raters like (or dislike) is one direction of Sigma. `model_spreads` gives a
robust start (each model's spread alone, from medians); `taste_scores` estimates Sigma and
scores every rater's offset on every model against it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import chdtri

#: A rater-model pair enters the spread estimate tau_m only with this much information on delta
#: (about 4 battles at even odds); fewer battles say almost nothing about a rater's taste.
MIN_INFORMATION = 1.0
#: Models tested on fewer rater pairs than this take the spread pooled over all models.
MIN_PAIRS_FOR_SPREAD = 10
#: Sigma (K x K) is estimated only from at least this many raters per model (else its
#: diagonal, the per-model spreads, stands alone).
MIN_RATERS_PER_MODEL = 4
_CHI2_1_MEDIAN = 0.454936423119572


def model_spreads(z: np.ndarray, info: np.ndarray, model_of: np.ndarray, k: int) -> np.ndarray:
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


def taste_scores(rater, li, ri, resid, weight, n_raters, spread, k):
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
    keep = np.ones(len(u), dtype=bool)
    for _ in range(3):
        # Once out, a rater stays out: a covariance that took in a group of accounts pushing
        # one model would otherwise make them look like a shared taste at the next round.
        keep &= (z * z).max(axis=1) <= cutoff
        if keep.sum() < MIN_RATERS_PER_MODEL * k:
            break  # too few raters for K x K: the per-model spreads stand
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
    flat = lap.reshape(len(lap), k * k)
    # sum_r s L[r,i,a] L[r,b,j], with L symmetric: a Gram matrix of the flattened L's.
    gram = flat.T @ (scale[:, None] * flat)
    a = gram.reshape(k, k, k, k).transpose(0, 2, 1, 3).reshape(k * k, k * k)
    b = ((u.T * scale) @ u - np.tensordot(scale, lap, axes=1)).ravel()
    # Sigma is identified up to adding c 1' + 1 c' (L 1 = 0): a tiny ridge picks one solution.
    a += 1e-9 * np.trace(a) / (k * k) * np.eye(k * k)
    sigma = np.linalg.solve(a, b).reshape(k, k)
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


__all__ = ["MIN_INFORMATION", "model_spreads", "taste_scores"]
