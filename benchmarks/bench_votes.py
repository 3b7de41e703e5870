"""Synthetic votes with known Bradley-Terry strengths for the rating benchmarks, and their files."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import Progress
from scipy.special import expit

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
console = Console(stderr=True)


def generate_votes(
    n_votes: int, n_models: int, seed: int, tie_scale: float = 0.6
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(left, right, outcome codes, true log-strengths): uniform random pairs and sides.

    P(left wins) + P(tie) / 2 = expit(theta_left - theta_right), with P(tie or both bad) =
    ``tie_scale`` * p * (1 - p) (15% for an even pair; a third of them both-bad), so the
    half-a-win Bradley-Terry model is exactly right and its ratings are unbiased.
    """
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.0, n_models)
    left = np.empty(n_votes, dtype=np.int16)
    right = np.empty(n_votes, dtype=np.int16)
    outcome = np.empty(n_votes, dtype=np.int8)
    step = 1_000_000
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("generating votes", total=n_votes)
        for start in range(0, n_votes, step):
            n = min(step, n_votes - start)
            a = rng.integers(0, n_models, n)
            b = (a + rng.integers(1, n_models, n)) % n_models
            p = expit(theta[a] - theta[b])
            tie = tie_scale * p * (1.0 - p)
            win = p - tie / 2.0
            u = rng.random(n)
            code = np.where(
                u < win, 0, np.where(u < win + tie * 2 / 3, 2, np.where(u < win + tie, 3, 1))
            )
            left[start : start + n], right[start : start + n] = a, b
            outcome[start : start + n] = code
            progress.advance(task, n)
    return left, right, outcome, theta


def model_names(n_models: int) -> list[str]:
    return [f"model-{k:03d}" for k in range(n_models)]


def write_parquet(path: Path, left, right, outcome, names: list[str]) -> None:
    dictionary = pa.array(names)
    table = pa.table(
        {
            "model_a": pa.DictionaryArray.from_arrays(pa.array(left.astype(np.int32)), dictionary),
            "model_b": pa.DictionaryArray.from_arrays(pa.array(right.astype(np.int32)), dictionary),
            "winner": pa.DictionaryArray.from_arrays(
                pa.array(outcome.astype(np.int32)), pa.array(WINNERS)
            ),
        }
    )
    pq.write_table(table, path)


def battles_frame(left, right, outcome, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_a": pd.Categorical.from_codes(left, names),
            "model_b": pd.Categorical.from_codes(right, names),
            "winner": pd.Categorical.from_codes(outcome, list(WINNERS)),
        }
    )


def build_store(data_dir: Path, frame: pd.DataFrame, names: list[str]) -> float:
    from arena.store import Store

    start = time.perf_counter()
    with Store.open(data_dir) as store:
        for name in names:
            store.add_model(name, kind="imported")
        store.import_battles(frame)
        store.checkpoint()
    return time.perf_counter() - start
