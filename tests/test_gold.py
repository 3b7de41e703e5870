"""Gold checks: their share of battles, scoring raters, flagging and leaving them out."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from arena.domain.battles import submit_vote
from arena.domain.gold import GOLD_FLAG, GoldPolicy, gold_answer_correct, record_gold_result
from arena.domain.scheduler import Scheduler, SchedulerConfig
from arena.store import Reveal
from tests.test_scheduler import make_store

GOLD = ("pony", "pony-lag", "pony-mute")


def test_gold_share_and_pairs(data_dir):
    store, _ = make_store(data_dir, ("alpha", "beta", "gamma", *GOLD), n_prompts=2)
    cfg = SchedulerConfig(refit_seconds=math.inf, gold_share=0.05)
    scheduler = Scheduler(store, seed=11, config=cfg)
    kinds: Counter = Counter()
    n = 4000
    for _ in range(n):
        c = scheduler.choose()
        kinds[c.kind] += 1
        if c.kind == "gold":
            assert "pony" in (c.left_model, c.right_model)
            assert {c.left_model, c.right_model} & {"pony-lag", "pony-mute"}
    assert abs(kinds["gold"] / n - 0.05) < 0.015
    # Gold pairs are also ordinary pairs here; their recorded probability is the marginal one.
    probs = scheduler.pair_probabilities("t2v")
    assert abs(sum(probs.values()) - 1) < 1e-9


def test_gold_only_models_never_appear_in_normal_battles(data_dir):
    store, _ = make_store(data_dir, ("alpha", "beta", *GOLD), n_prompts=1)
    cfg = SchedulerConfig(refit_seconds=math.inf, gold_share=0.1, gold_only_models=GOLD)
    scheduler = Scheduler(store, seed=12, config=cfg)
    for _ in range(500):
        c = scheduler.choose()
        if c.kind == "normal":
            assert {c.left_model, c.right_model} == {"alpha", "beta"}
        else:
            assert "pony" in (c.left_model, c.right_model)


def test_gold_answers_ties_and_both_bad_are_wrong():
    def reveal(outcome, left="pony", right="pony-lag"):
        return Reveal("b", outcome, left, right, "c1", "c2")

    assert gold_answer_correct(reveal("left"))
    assert not gold_answer_correct(reveal("right"))
    assert gold_answer_correct(reveal("right", "pony-mute", "pony"))
    assert not gold_answer_correct(reveal("tie"))
    assert not gold_answer_correct(reveal("both_bad"))


def test_failing_rater_is_flagged_and_left_out(data_dir):
    store, _ = make_store(data_dir, ("alpha", "beta", *GOLD), n_prompts=1)
    policy = GoldPolicy(min_seen=4, min_accuracy=0.7)
    for i in range(3):
        result = record_gold_result(store, "careless-1", i == 0, policy)
        assert not result.flagged  # too few gold answers yet
    result = record_gold_result(store, "careless-1", False, policy)
    assert result.flagged and result.seen == 4 and result.n_correct == 1
    for _ in range(5):
        assert not record_gold_result(store, "careful-01", True, policy).flagged
    table = store.gold_table().set_index("rater")
    assert GOLD_FLAG in list(table.loc["careless-1", "flags"])
    assert list(table.loc["careful-01", "flags"]) == []
    assert table.loc["careful-01", "accuracy"] == 1.0
    # Recovering above the threshold clears the gold flag.
    for _ in range(6):
        record_gold_result(store, "careless-1", True, policy)
    assert store.rater_flags("careless-1")[0] == ()


def test_submit_vote_scores_gold_battles(data_dir):
    store, _ = make_store(data_dir, GOLD, n_prompts=3)
    cfg = SchedulerConfig(refit_seconds=math.inf, gold_share=1.0, gold_only_models=GOLD)
    scheduler = Scheduler(store, seed=13, config=cfg)
    rater = "gold-rater-1"
    for _ in range(3):
        new = scheduler.next_battle(rater)
        assert new.battle.kind == "gold"
        # Always vote for the right-hand clip: correct only when pony is on the right.
        submit_vote(store, new.battle.id, new.token, rater, "right")
    table = store.gold_table().set_index("rater")
    assert table.loc[rater, "gold_seen"] == 3
    # Gold votes stay ordinary votes.
    assert store.vote_counts(exclude_flagged=False)["count"].sum() == 3


def test_new_raters_are_screened_with_more_gold(data_dir):
    store, _ = make_store(data_dir, ("alpha", "beta", *GOLD), n_prompts=2)
    cfg = SchedulerConfig(refit_seconds=math.inf, screen_gold_answers=2, screen_gold_share=0.3)
    scheduler = Scheduler(store, seed=14, config=cfg)
    default = scheduler.pair_probabilities("t2v")  # under the default 5% share
    battles = [scheduler.next_battle(f"new-rater-{i:03d}").battle for i in range(200)]
    kinds = Counter(b.kind for b in battles)
    assert abs(kinds["gold"] / 200 - 0.3) < 0.1
    # The recorded probability of a screened rater's pair is its marginal under the 30% share:
    # (1 - 0.3) * normal part + 0.3 * gold part, times 1/2 for the prompt.
    names = {m.id: m.name for m in store.models()}
    clip_model = {c.id: names[c.model_id] for c in store.clips()}
    for b in battles[:40]:
        pair = tuple(sorted((clip_model[b.left_clip], clip_model[b.right_clip])))
        gold_part = 0.5 if pair in (("pony", "pony-lag"), ("pony", "pony-mute")) else 0.0
        normal_part = (default[pair] - 0.05 * gold_part) / 0.95
        assert b.sampling_prob == pytest.approx((0.7 * normal_part + 0.3 * gold_part) / 2)
    # A rater past screening gets the default share.
    for _ in range(2):
        record_gold_result(store, "veteran-01", True)
    veteran = Counter(scheduler.next_battle("veteran-01").battle.kind for _ in range(100))
    assert veteran["gold"] < 20
