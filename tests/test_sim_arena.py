"""A small, fast run of the arena simulator (real scheduler, store and fit) and an IPW check."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arena.domain.scheduler import Scheduler, SchedulerConfig
from arena.store import seeded_ids
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
    for key in ("saved_tau_median", "saved_elo10_median", "saved_tau_ci", "coverage"):
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
        store, _ = make_store(tmp_path / f"arena{rep}", names, n_prompts=2, ids=seeded_ids(rep))
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


def test_same_seed_gives_the_same_figures_and_another_seed_differs(tmp_path):
    # Model ids come from the seed too (the scheduler orders models by id): before they did,
    # the same seed gave a different run each time.
    cfg = sim_arena.SimConfig(k=5, n_prompts=3, budget=600, batch=150, n_bootstrap=20)
    first = sim_arena.figures(sim_arena.run(cfg, seed=3, mode="active"))
    again = sim_arena.figures(sim_arena.run(cfg, seed=3, mode="active"))
    other = sim_arena.figures(sim_arena.run(cfg, seed=4, mode="active"))
    assert first == again
    assert other != first


def test_seeded_ids_repeat_per_seed_and_the_store_stays_random_by_default(tmp_path):
    from arena.store import Store

    assert [seeded_ids(1)(8) for _ in range(2)] == [seeded_ids(1)(8)] * 2
    ids = seeded_ids(1)
    assert len({ids(8) for _ in range(50)}) == 50
    assert seeded_ids(1)(8) != seeded_ids(2)(8)
    assert len(seeded_ids(1)(8)) == 16
    stores = [Store.open(tmp_path / f"d{i}") for i in range(2)]
    assert stores[0].add_model("m", "imported").id != stores[1].add_model("m", "imported").id
    seeded = [Store.open(tmp_path / f"s{i}") for i in range(2)]
    for store in seeded:
        store.make_id = seeded_ids(7)
    assert seeded[0].add_model("m", "imported").id == seeded[1].add_model("m", "imported").id
    for store in stores + seeded:
        store.close()


def test_median_interval_uses_order_statistics():
    values = list(range(1, 21))  # 20 seeds: ranks 6 and 15 cover the median at >= 95%
    median, low, high = sim_arena.median_ci([float(v) for v in values])
    assert (median, low, high) == (10.5, 6.0, 15.0)
    assert sim_arena.median_ci([3.0, 1.0, 2.0]) == (2.0, 1.0, 3.0)


def test_summary_reports_medians_intervals_and_share_of_the_bound():
    cfg = sim_arena.SimConfig(k=5)

    def result(mode, seed, tau, elo):
        return sim_arena.RunResult(mode, seed, tau, elo, 5000, 0.9, 0.9, 1, 0, 1.0)

    runs = [result("active", s, 100, 200) for s in range(6)]
    runs += [result("uniform", s, 100 * (1 + s), 300) for s in range(6)]
    bound = {"oracle_ratio_tau90": 2.0, "oracle_ratio_10elo": 1.5}
    out = sim_arena.summarise(runs, cfg, bound)
    assert out["saved_tau_median"] == 3.5
    assert out["saved_tau_ci"] == [1.0, 6.0]
    assert out["saved_elo10_median"] == 1.5
    assert out["share_of_bound_tau"] == 1.75
    assert out["share_of_bound_elo10"] == 1.0


def _nth_votes(log):
    """{(pair, n): (left model, careless, outcome)} of a run's vote log."""
    seen: dict = {}
    out = {}
    for left, right, careless, outcome in log:
        pair = frozenset((left, right))
        n = seen.get(pair, 0)
        seen[pair] = n + 1
        out[(pair, n)] = (left, careless, outcome)
    return out


def _agreement(cfg, seed):
    """Votes on the same pair, same n-th, same left model and rater kind under both schedulers:
    (how many, how many with the same outcome)."""
    logs = {mode: [] for mode in ("active", "uniform")}
    for mode, log in logs.items():
        sim_arena.run(cfg, seed, mode, log=log)
    active, uniform = _nth_votes(logs["active"]), _nth_votes(logs["uniform"])
    both = [key for key in active if key in uniform and active[key][:2] == uniform[key][:2]]
    same = sum(active[key][2] == uniform[key][2] for key in both)
    return len(both), same


def test_the_nth_vote_on_a_pair_has_the_same_outcome_under_both_schedulers():
    # Common random numbers: the two runs of a seed differ only by which pairs were asked.
    cfg = sim_arena.SimConfig(k=5, n_prompts=3, budget=600, batch=150, n_bootstrap=10)
    compared, same = _agreement(cfg, seed=2)
    assert compared >= 50
    assert same == compared
    # Without them the two runs draw different outcomes for the same vote.
    compared, same = _agreement(dataclasses.replace(cfg, crn=False), seed=2)
    assert compared >= 50
    assert same < 0.8 * compared


def test_common_random_numbers_keep_the_raters_and_the_vote_distribution():
    from scipy.special import expit

    from arena.domain.sim_raters import RaterModel, SimRaters
    from leaderboards.leaderboard import ELO_PER_NAT

    truth = {"a": 1040.0, "b": 1000.0, "c": 960.0}
    cfg = RaterModel()

    def pool(rng_seed, crn_seed):
        sim = SimRaters(cfg, np.random.default_rng(rng_seed), truth, crn_seed=crn_seed)
        sim.rater()
        return sim, [(r.id, r.careless, r.left) for r in sim.raters]

    # The n-th rater comes from (seed, n), whatever else the run's stream drew.
    assert pool(0, 5)[1] == pool(1, 5)[1]
    assert pool(0, 5)[1] != pool(0, 6)[1]
    assert pool(0, None)[1] != pool(1, None)[1]
    # The votes on a pair come from its own stream: votes on other pairs in between change
    # nothing.
    alone, mixed = pool(0, 5)[0], pool(1, 5)[0]
    rater = next(r for r in alone.raters if not r.careless)
    plain = [alone.vote(rater, "a", "b", gold=False) for _ in range(40)]
    interleaved = []
    for _ in range(40):
        mixed.vote(rater, "b", "c", gold=False)
        interleaved.append(mixed.vote(rater, "a", "b", gold=False))
    assert interleaved == plain
    assert len(set(plain)) > 1
    # Same distribution as one stream: Bradley-Terry expected score, ties as configured.
    votes = [alone.vote(rater, "b", "a", gold=False) for _ in range(20_000)]
    p = float(expit((-40.0 + cfg.left_bias_elo) / ELO_PER_NAT))
    score = np.mean([{"left": 1.0, "right": 0.0}.get(v, 0.5) for v in votes])
    ties = np.mean([v in ("tie", "both_bad") for v in votes])
    assert abs(score - p) < 0.015
    assert abs(ties - 4 * cfg.tie_rate * p * (1 - p)) < 0.015
