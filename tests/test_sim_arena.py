"""A small, fast run of the arena simulator (real scheduler, store and fit) and an IPW check."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arena.domain.scheduler import Scheduler, SchedulerConfig
from leaderboards import RatingSettings, compute_leaderboard
from tests.test_scheduler import make_store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import sim_arena  # noqa: E402


def test_small_simulation_runs_and_reports(tmp_path):
    cfg = sim_arena.SimConfig(k=5, n_prompts=3, budget=1500, batch=150, n_bootstrap=50)
    result = sim_arena.run(cfg, seed=0, mode="active")
    assert result.votes <= 1500 + 0.05 * 1500 + 150
    assert 0.0 <= result.coverage_ipw <= 1.0
    assert result.votes_tau90 is None or result.votes_tau90 <= result.votes
    summary = sim_arena.summarise([result, sim_arena.run(cfg, 0, "uniform")], cfg)
    for key in ("votes_ratio_tau90", "votes_ratio_10elo", "coverage"):
        assert key in summary


def test_true_ratings_leave_no_pair_between_ten_and_twenty_elo():
    r = sim_arena.true_ratings(20)
    gaps = np.abs(r[:, None] - r[None, :])
    assert abs(r.mean() - 1000) < 1e-9
    assert ((gaps > 0) & (gaps < 10)).any()
    assert not ((gaps >= 10) & (gaps < 20)).any()


def test_ipw_fit_is_unbiased_under_active_sampling(tmp_path):
    # Independent small arenas driven by the active scheduler: the IPW ratings average to
    # the truth (within a few standard errors of the mean over arenas).
    names = [f"m{i}" for i in range(4)]
    truth = np.array([60.0, 20.0, -20.0, -60.0])
    estimates = []
    for rep in range(6):
        store, _ = make_store(tmp_path / f"arena{rep}", names, n_prompts=2)
        scheduler = Scheduler(store, seed=rep, config=SchedulerConfig(refit_seconds=math.inf))
        rng = np.random.default_rng(rep)
        for _ in range(4):
            rows = []
            for _ in range(250):
                c = scheduler.choose()
                a, b = names.index(c.left_model), names.index(c.right_model)
                p = 1 / (1 + 10 ** (-(truth[a] - truth[b]) / 400))
                winner = "model_a" if rng.random() < p else "model_b"
                rows.append((c.left_model, c.right_model, winner, c.prompt_id, c.left_clip,
                             c.right_clip, "sim-rater-1", c.prob))  # fmt: skip
            store.import_battles(pd.DataFrame(rows, columns=COLUMNS))
            scheduler.refresh()
        board = compute_leaderboard(store.vote_counts(), RatingSettings(ipw=True, n_bootstrap=0))
        estimates.append(board.ratings().reindex(names).to_numpy() - 1000)
        store.close()
    estimates = np.array(estimates)
    se = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    assert (np.abs(estimates.mean(axis=0) - truth) < 4 * se + 5).all()


COLUMNS = ["model_a", "model_b", "winner", "prompt_id", "clip_a", "clip_b", "rater",
           "sampling_prob"]  # fmt: skip


@pytest.mark.parametrize("k", [8])
def test_true_ratings_sizes(k):
    assert len(sim_arena.true_ratings(k)) == k
