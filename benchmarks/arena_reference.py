"""Chatbot Arena's rating method (FastChat `elo_analysis`), rebuilt as the benchmarks' reference."""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import resource
import time
from functools import partial

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit


def preprocess_for_bt(df: pd.DataFrame):
    """FastChat: deduplicate (model_a, model_b, outcome) rows into unique rows with counts."""
    n_rows = len(df)
    model_indices, models = pd.factorize(pd.concat([df["model_a"], df["model_b"]]))
    matchups = np.column_stack([model_indices[:n_rows], model_indices[n_rows:]])
    schedule = np.full((n_rows, 3), fill_value=1, dtype=np.int32)
    schedule[:, [0, 1]] = matchups
    schedule[(df["winner"] == "model_a").to_numpy(), 2] = 2
    schedule[(df["winner"] == "model_b").to_numpy(), 2] = 0
    matchups_outcomes, weights = np.unique(schedule, return_counts=True, axis=0)
    matchups = matchups_outcomes[:, [0, 1]]
    outcomes = matchups_outcomes[:, 2].astype(np.float64) / 2.0
    return matchups, outcomes, list(models), weights.astype(np.float64)


def bt_loss_and_grad(ratings, matchups, outcomes, weights, alpha=1.0):
    matchup_ratings = ratings[matchups]
    logits = alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1])
    probs = expit(logits)
    loss = -((np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)) * weights).sum()
    matchups_grads = -alpha * (outcomes - probs) * weights
    model_grad = np.zeros_like(ratings)
    np.add.at(
        model_grad,
        matchups[:, [0, 1]],
        matchups_grads[:, None] * np.array([1.0, -1.0], dtype=np.float64),
    )
    return loss, model_grad


def fit_bt(matchups, outcomes, weights, n_models, alpha, tol=1e-6):
    result = minimize(
        fun=bt_loss_and_grad,
        x0=np.zeros(n_models, dtype=np.float64),
        args=(matchups, outcomes, weights, alpha),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 100, "gtol": tol},
    )
    return result["x"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reference_method(df: pd.DataFrame, replicates: int, timed_replicates: int) -> dict:
    """Chatbot Arena's compute_bt + compute_bootstrap_bt; bootstrap time scaled to ``replicates``."""
    alpha = math.log(10.0)
    cpu0 = time.process_time() + _children_cpu()
    t0 = time.perf_counter()
    matchups, outcomes, models, weights = preprocess_for_bt(df)
    t1 = time.perf_counter()
    point = fit_bt(matchups, outcomes, weights, len(models), alpha)
    t2 = time.perf_counter()
    cpu2 = time.process_time() + _children_cpu()
    rng = np.random.default_rng(seed=0)
    idxs = rng.multinomial(n=len(df), pvals=weights / weights.sum(), size=timed_replicates)
    boot_weights = idxs.astype(np.float64) / len(df)
    bt_fn = partial(fit_bt, matchups, outcomes, n_models=len(models), alpha=alpha)
    with mp.get_context("fork").Pool(os.cpu_count()) as pool:
        results = list(pool.imap_unordered(bt_fn, boot_weights))
    t3 = time.perf_counter()
    cpu3 = time.process_time() + _children_cpu()
    boot = np.array(results) * 400.0 + 1000.0
    per_replicate = (t3 - t2) / timed_replicates
    return {
        "models": models,
        "ratings": point * 400.0 + 1000.0,
        "ci": np.percentile(boot, [2.5, 97.5], axis=0),
        "preprocess_s": t1 - t0,
        "fit_s": t2 - t1,
        "bootstrap_timed_s": t3 - t2,
        "bootstrap_timed_replicates": timed_replicates,
        "bootstrap_s": per_replicate * replicates,
        "cpu_timed_s": cpu3 - cpu0,
        "cpu_s": (cpu2 - cpu0) + (cpu3 - cpu2) * replicates / timed_replicates,
        "total_s": (t1 - t0) + (t2 - t1) + per_replicate * replicates,
        "unique_rows": len(weights),
    }
