"""Simulated votes and a reference fit shared by the rating tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from leaderboards import ELO_PER_NAT, OUTCOMES, PairCounts

NAMES = tuple(f"m{k:02d}" for k in range(30))


def simulate_counts(
    rng: np.random.Generator,
    theta: np.ndarray,
    n_votes: int,
    *,
    nu: float | None = None,
    bias: float = 0.0,
    tie_rate: float = 0.0,
    bothbad_rate: float = 0.0,
) -> PairCounts:
    """Votes from Bradley-Terry (or Davidson when ``nu`` is given) on all ordered pairs."""
    k = len(theta)
    left, right = np.nonzero(~np.eye(k, dtype=bool))
    n = rng.multinomial(n_votes, np.full(len(left), 1.0 / len(left)))
    d = theta[left] - theta[right] + bias
    if nu is None:
        p = expit(d)
        keep = 1.0 - tie_rate - bothbad_rate
        probs = np.stack(
            [keep * p, keep * (1 - p), np.full_like(p, tie_rate), np.full_like(p, bothbad_rate)],
            axis=1,
        )
    else:
        z = np.exp(d / 2) + np.exp(-d / 2) + nu
        probs = np.stack([np.exp(d / 2) / z, np.exp(-d / 2) / z, nu / z, 0 * z], axis=1)
    counts = rng.multinomial(n, probs)
    return PairCounts(NAMES[:k], left, right, counts, counts.astype(np.float64))


def expand_votes(counts: PairCounts) -> pd.DataFrame:
    """One row per vote, in the Chatbot Arena layout."""
    rows = np.repeat(np.arange(len(counts.left)), counts.counts.sum(axis=1))
    outcome = np.concatenate([np.repeat(np.arange(4), c) for c in counts.counts])
    return pd.DataFrame(
        {
            "model_a": np.asarray(counts.models)[counts.left[rows]],
            "model_b": np.asarray(counts.models)[counts.right[rows]],
            "winner": np.asarray(OUTCOMES)[outcome],
        }
    )


def centred_elo(theta: np.ndarray) -> np.ndarray:
    return 1000.0 + ELO_PER_NAT * (theta - theta.mean())


def reference_mle(votes: pd.DataFrame, models: tuple[str, ...]) -> np.ndarray:
    """Plain Bradley-Terry MLE by L-BFGS on individual votes, ties and both-bad as half a win."""
    index = {m: i for i, m in enumerate(models)}
    a = votes["model_a"].map(index).to_numpy()
    b = votes["model_b"].map(index).to_numpy()
    score = votes["winner"].map({"model_a": 1.0, "model_b": 0.0}).fillna(0.5).to_numpy()

    def loss(x: np.ndarray) -> tuple[float, np.ndarray]:
        d = x[a] - x[b]
        value = -(score * log_expit(d) + (1 - score) * log_expit(-d)).sum()
        g = -(score - expit(d))
        grad = np.bincount(a, g, len(models)) - np.bincount(b, g, len(models))
        return value, grad

    result = minimize(
        loss,
        np.zeros(len(models)),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-9, "ftol": 1e-15, "maxiter": 1000},
    )
    return centred_elo(result.x)


def sample_counts() -> PairCounts:
    """4000 votes among ten models, with ties and both-bad votes (the tests' usual table)."""
    rng = np.random.default_rng(7)
    theta = rng.normal(0.0, 0.8, 10)
    return simulate_counts(rng, theta, 4000, tie_rate=0.08, bothbad_rate=0.04)
