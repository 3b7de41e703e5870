"""Active battle scheduling: exact probabilities, floor, no repeats, new-model boost, prompts."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arena.domain.scheduler import Scheduler, SchedulerConfig
from arena.store import Clip, Store
from generators.errors import InputError


@dataclass(frozen=True)
class _Prompt:
    id: str
    text: str
    category: str = "t2v"
    image: str | None = None
    audio: bool = True
    suite: str = "test"
    tags: tuple[str, ...] = ()
    seed: int = 0


def add_models(store: Store, names, prompts, clips_per_prompt: int = 1) -> None:
    """Register models with clip rows (no files) on every given prompt."""
    rows = []
    for name in names:
        model = store.add_model(name, "imported", exist_ok=True)
        for prompt in prompts:
            for seed in range(clips_per_prompt):
                cid = store.make_id(12)
                rows.append(
                    Clip(cid, model.id, prompt.id, seed, f"clips/{cid}.mp4", "", 1.0, 12.0,
                         64, 48, True, None)
                )  # fmt: skip
    store.add_clips(rows)


def make_store(
    data_dir: Path, names, n_prompts=3, categories=("t2v",), clips_per_prompt=1, ids=None
):
    """A store with clip rows; ``ids`` (e.g. `seeded_ids(seed)`) makes its model and clip ids."""
    store = Store.open(data_dir)
    if ids is not None:
        store.make_id = ids
    prompts = [
        _Prompt(f"{cat}-p{i}", f"prompt {cat} {i}", category=cat)
        for cat in categories
        for i in range(n_prompts)
    ]
    store.upsert_prompts(prompts)
    add_models(store, names, prompts, clips_per_prompt)
    return store, prompts


def vote_between(store: Store, winner: str, loser: str, n: int, rater: str = "goodrater1") -> None:
    frame = pd.DataFrame(
        {"model_a": [winner] * n, "model_b": [loser] * n, "winner": ["model_a"] * n,
         "rater": [rater] * n, "prompt_id": ["t2v-p0"] * n}
    )  # fmt: skip
    store.import_battles(frame)


NAMES = ("alpha", "beta", "gamma", "delta")


def test_pair_probabilities_sum_to_one_and_match_frequencies(data_dir):
    store, _ = make_store(data_dir, NAMES)
    vote_between(store, "alpha", "beta", 60)
    vote_between(store, "gamma", "delta", 3)
    cfg = SchedulerConfig(refit_seconds=math.inf, new_model_boost=0.0)
    scheduler = Scheduler(store, seed=1, config=cfg)
    scheduler.refresh()
    probs = scheduler.pair_probabilities("t2v")
    assert len(probs) == 6
    assert sum(probs.values()) == pytest.approx(1.0)
    # Not uniform: the resolved pair gets less than the uncertain one.
    assert probs[("alpha", "beta")] < probs[("delta", "gamma")]
    n = 6000
    counts: Counter = Counter()
    for _ in range(n):
        choice = scheduler.choose("t2v")
        pair = tuple(sorted((choice.left_model, choice.right_model)))
        counts[pair] += 1
        # Recorded probability = P(pair) * P(prompt) (one category, three shared prompts).
        assert choice.prob == pytest.approx(probs[pair] / 3)
    for pair, p in probs.items():
        expected = n * p
        assert abs(counts[pair] - expected) < 4.5 * math.sqrt(expected * (1 - p)) + 1


def test_choice_space_probabilities_sum_to_one_with_category_weights(data_dir):
    store, _ = make_store(data_dir, NAMES[:3], n_prompts=2, categories=("t2v", "i2v"))
    cfg = SchedulerConfig(refit_seconds=math.inf, category_weights={"t2v": 3.0, "i2v": 1.0})
    scheduler = Scheduler(store, seed=2, config=cfg)
    assert scheduler.categories() == ["i2v", "t2v"]
    seen_probs = {}
    cats: Counter = Counter()
    for _ in range(3000):
        c = scheduler.choose()
        seen_probs[(c.category, frozenset((c.left_model, c.right_model)), c.prompt_id)] = c.prob
        cats[c.category] += 1
    # 2 categories x 3 pairs x 2 prompts; their probabilities add up to one.
    assert len(seen_probs) == 12
    assert sum(seen_probs.values()) == pytest.approx(1.0)
    assert cats["t2v"] / 3000 == pytest.approx(0.75, abs=0.04)
    # A rater asking for one category: that category has probability 1.
    assert scheduler.choose("i2v").prob == pytest.approx(1 / 3 / 2)


def test_exploration_floor_keeps_every_pair(data_dir):
    store, _ = make_store(data_dir, NAMES)
    # Everything is resolved except one pair: the others still keep the floor.
    for w, loser in (("alpha", "beta"), ("beta", "gamma"), ("gamma", "delta"), ("alpha", "delta")):
        vote_between(store, w, loser, 300)
    cfg = SchedulerConfig(refit_seconds=math.inf, exploration=0.1, gold_share=0.0)
    scheduler = Scheduler(store, seed=3, config=cfg)
    scheduler.refresh()
    probs = scheduler.pair_probabilities("t2v")
    assert min(probs.values()) >= 0.1 / 6 - 1e-12
    assert max(probs.values()) > 0.3  # the active part still concentrates


def test_no_clip_pair_repeats_for_a_rater_while_others_exist(data_dir):
    store, _ = make_store(data_dir, NAMES[:3], n_prompts=2)
    scheduler = Scheduler(store, seed=4)
    # 3 model pairs x 2 prompts, one clip each: 6 distinct clip pairs.
    pairs = set()
    for _ in range(6):
        battle = scheduler.next_battle("rater-0001").battle
        pairs.add(frozenset((battle.left_clip, battle.right_clip)))
    assert len(pairs) == 6
    # Once every pair is seen, the rater still gets battles (repeats allowed again).
    assert scheduler.next_battle("rater-0001").battle.sampling_prob > 0
    # Another rater starts afresh.
    battle = scheduler.next_battle("rater-0002").battle
    assert frozenset((battle.left_clip, battle.right_clip)) in pairs


def test_exhausted_pairs_renormalise_the_recorded_probability(data_dir):
    store, _ = make_store(data_dir, NAMES[:3], n_prompts=1)
    cfg = SchedulerConfig(refit_seconds=math.inf)
    scheduler = Scheduler(store, seed=5, config=cfg)
    first = scheduler.choose("t2v")
    seen = {frozenset((first.left_clip, first.right_clip))}
    probs = scheduler.pair_probabilities("t2v")
    p_first = probs[tuple(sorted((first.left_model, first.right_model)))]
    for _ in range(50):
        c = scheduler.choose("t2v", seen)
        assert frozenset((c.left_clip, c.right_clip)) not in seen
        p = probs[tuple(sorted((c.left_model, c.right_model)))]
        assert c.prob == pytest.approx(p / (1 - p_first))


def test_new_model_gets_a_boost(data_dir):
    store, prompts = make_store(data_dir, NAMES)
    for w, loser in (("alpha", "beta"), ("beta", "gamma"), ("gamma", "delta"), ("alpha", "gamma")):
        vote_between(store, w, loser, 150)
    add_models(store, ["newcomer"], prompts)
    shares = {}
    for boost in (0.0, 0.4):
        cfg = SchedulerConfig(refit_seconds=math.inf, new_model_boost=boost, gold_share=0.0)
        scheduler = Scheduler(store, seed=6, config=cfg)
        scheduler.refresh()
        probs = scheduler.pair_probabilities("t2v")
        shares[boost] = sum(p for pair, p in probs.items() if "newcomer" in pair)
    # 4 of the 10 pairs involve the new model; with a boost it gets well over that share.
    assert shares[0.4] > shares[0.0]
    assert shares[0.4] > 0.6


def test_prompts_are_used_evenly_per_pair(data_dir):
    store, _ = make_store(data_dir, NAMES[:2], n_prompts=5)
    scheduler = Scheduler(store, seed=7)
    used = Counter(scheduler.next_battle(f"rater-{i:04d}").battle.prompt_id for i in range(23))
    assert len(used) == 5
    assert max(used.values()) - min(used.values()) <= 1
    # A new scheduler (a restarted server) continues from the battles in the store.
    again = Scheduler(store, seed=8)
    used2 = Counter(again.next_battle(f"rater-{i:04d}").battle.prompt_id for i in range(100, 102))
    least = [p for p, n in used.items() if n == min(used.values())]
    assert set(used2) <= set(least)


def test_sides_are_random(data_dir):
    store, _ = make_store(data_dir, NAMES[:2], n_prompts=1)
    scheduler = Scheduler(store, seed=9)
    left = Counter(scheduler.choose().left_model for _ in range(400))
    assert 150 < left["alpha"] < 250


def test_next_battle_is_fast_from_cached_weights(data_dir):
    names = [f"model{i:02d}" for i in range(20)]
    store, _ = make_store(data_dir, names, n_prompts=4)
    scheduler = Scheduler(store, seed=10)
    scheduler.next_battle("warmup-rater")
    times = []
    for i in range(40):
        start = time.perf_counter()
        scheduler.next_battle(f"rater-{i % 5:04d}")
        times.append(time.perf_counter() - start)
    assert float(np.quantile(times, 0.95)) < 0.2


def test_ratings_are_refitted_in_the_background(data_dir):
    store, _ = make_store(data_dir, NAMES)
    scheduler = Scheduler(store, seed=11, config=SchedulerConfig(refit_seconds=0.0))
    before = scheduler.pair_probabilities("t2v")
    vote_between(store, "alpha", "beta", 200)
    deadline = time.monotonic() + 10
    after = before
    while after == before and time.monotonic() < deadline:
        scheduler.choose("t2v")  # the request only starts the refit; it does not wait for it
        time.sleep(0.05)
        after = scheduler.pair_probabilities("t2v")
    assert after[("alpha", "beta")] < before[("alpha", "beta")]


def test_lookahead_weighs_the_drop_in_misorder_of_every_pair_one_vote_moves():
    from scipy.stats import norm

    from arena.domain import sampling

    rng = np.random.default_rng(0)
    k = 6
    root = rng.normal(size=(k, k))
    cov = root @ root.T / k + 0.05 * np.eye(k)
    i, j = np.triu_indices(k, 1)
    var = cov[i, i] + cov[j, j] - 2 * cov[i, j]
    margin = rng.uniform(0.05, 0.5, len(i))
    info = rng.uniform(0.1, 0.25, len(i))
    normal = np.ones(len(i))
    got = sampling._lookahead(i, j, cov, var, margin, info, normal)
    for q in range(len(i)):
        b = np.zeros(k)
        b[i[q]], b[j[q]] = 1.0, -1.0
        after = cov - info[q] * np.outer(cov @ b, cov @ b) / (1 + info[q] * b @ cov @ b)
        var_after = after[i, i] + after[j, j] - 2 * after[i, j]
        # Small steps: the drop in expected misorders is the slope times the variance drop.
        eps = 1e-6
        drop = norm.cdf(-margin / np.sqrt(var)) - norm.cdf(
            -margin / np.sqrt(var - eps * (var - var_after))
        )
        assert got[q] == pytest.approx(drop.sum() / eps, rel=1e-3)


def test_lookahead_sends_votes_to_the_pairs_that_tell_an_unsettled_pair_apart(data_dir):
    # alpha-beta unsettled (no direct votes, both well measured against gamma); the pairs
    # lookahead rule gives it the most weight, a settled pair little, and keeps the floor.
    store, _ = make_store(data_dir, NAMES)
    for w, loser, n in (("alpha", "gamma", 200), ("beta", "gamma", 200), ("gamma", "delta", 300)):
        vote_between(store, w, loser, n)
        vote_between(store, loser, w, n // 3)
    cfg = SchedulerConfig(refit_seconds=math.inf, gold_share=0.0, active="lookahead")
    scheduler = Scheduler(store, seed=1, config=cfg)
    scheduler.refresh()
    probs = scheduler.pair_probabilities("t2v")
    assert sum(probs.values()) == pytest.approx(1.0)
    assert min(probs.values()) >= 0.1 / 6 - 1e-12
    assert max(probs, key=probs.get) == ("alpha", "beta")
    assert probs[("delta", "gamma")] < probs[("alpha", "beta")] / 3


def test_unknown_active_rule_is_refused():
    with pytest.raises(InputError, match="active"):
        SchedulerConfig(active="greedy")
