"""Abuse rules on a real store: rate limits per rater and address, the too-fast rule, bans."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest
from arena_helpers import seeded_store

from arena.domain.abuse import TOO_FAST_FLAG, AbuseConfig, AbuseGuard
from arena.domain.battles import serve_battle, submit_vote
from arena.domain.scheduler import Scheduler
from arena.errors import RateLimited, VoteRefused
from arena.store import DB_NAME, SCHEMA_VERSION, Store
from generators.errors import InputError


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_rater_limit_refuses_with_the_wait_and_refills():
    clock = FakeClock()
    guard = AbuseGuard(AbuseConfig(window_s=10, votes_per_rater=3, votes_per_ip=0), clock=clock)
    for _ in range(3):
        guard.check_vote("rater-aaaa", "10.0.0.1")
    with pytest.raises(RateLimited, match=r"too many votes from this rater; wait 4 s"):
        guard.check_vote("rater-aaaa", "10.0.0.1")
    guard.check_vote("rater-bbbb", "10.0.0.1")  # another rater is not held up
    clock.t += 3.4  # one vote comes back every 10/3 s
    guard.check_vote("rater-aaaa", "10.0.0.1")
    with pytest.raises(RateLimited):
        guard.check_vote("rater-aaaa", "10.0.0.1")
    assert guard.refused_counts()["rater-aaaa"] == {"vote": 2, "battle": 0}
    assert guard.recent_refusals()[0].client_ip == "10.0.0.1"


def test_address_limit_spans_raters_and_a_refusal_takes_nothing():
    clock = FakeClock()
    config = AbuseConfig(votes_per_rater=2, votes_per_ip=3, battles_per_rater=1, battles_per_ip=0)
    guard = AbuseGuard(config, clock=clock)
    guard.check_vote("rater-aaaa", "10.0.0.9")
    guard.check_vote("rater-aaaa", "10.0.0.9")
    with pytest.raises(RateLimited, match="from this rater"):
        guard.check_vote("rater-aaaa", "10.0.0.9")
    # The refused vote took no token from the address: one is left for another rater.
    guard.check_vote("rater-bbbb", "10.0.0.9")
    with pytest.raises(RateLimited, match="too many votes from this address"):
        guard.check_vote("rater-cccc", "10.0.0.9")
    guard.check_vote("rater-cccc", None)  # no address known: only the rater's limit applies
    guard.check_battle("rater-aaaa", "10.0.0.9")
    with pytest.raises(RateLimited, match="too many battle requests from this rater"):
        guard.check_battle("rater-aaaa", "10.0.0.9")
    unlimited = AbuseGuard(AbuseConfig.unlimited(), clock=clock)
    for _ in range(1000):
        unlimited.check_vote("rater-aaaa", "10.0.0.9")


def test_limits_are_exact_under_threads_and_cheap():
    clock = FakeClock()  # frozen time: no refill, so exactly the burst gets through
    guard = AbuseGuard(AbuseConfig(votes_per_rater=5, votes_per_ip=50), clock=clock)
    allowed = []

    def hammer(n: int) -> None:
        for i in range(n):
            try:
                guard.check_vote(f"rater-{i % 4:04d}", "10.0.0.1")
                allowed.append(i)
            except RateLimited:
                pass

    threads = [threading.Thread(target=hammer, args=(200,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 4 * 5  # 4 raters x 5 each, under the address's 50
    fast = AbuseGuard(AbuseConfig())
    start = time.perf_counter()
    for i in range(20_000):
        fast.check_vote(f"rater-{i:06d}", f"10.{i // 250}.{i % 250}.1")
    per_call = (time.perf_counter() - start) / 20_000
    assert per_call < 100e-6, f"{per_call * 1e6:.1f} us per vote check"


def test_config_is_validated():
    with pytest.raises(InputError, match="too_fast must be one of flag, refuse"):
        AbuseConfig(too_fast="ignore")
    with pytest.raises(InputError, match="votes_per_rater must be a whole number"):
        AbuseConfig(votes_per_rater=-1)
    with pytest.raises(InputError, match="window must be positive"):
        AbuseConfig(window_s=0)
    with pytest.raises(InputError, match="min_watch_fraction"):
        AbuseConfig(min_watch_fraction=2)


@pytest.fixture
def arena(data_dir):
    store = seeded_store(data_dir)
    yield store, Scheduler(store, seed=0)
    store.close()


def test_rate_limited_vote_writes_nothing_and_its_token_stays_good(arena):
    store, scheduler = arena
    guard = AbuseGuard(AbuseConfig(votes_per_rater=1, min_watch_fraction=0))
    first = serve_battle(store, scheduler, "rater-0001", client_ip="10.1.1.1", guard=guard)
    second = serve_battle(store, scheduler, "rater-0001", client_ip="10.1.1.1", guard=guard)
    submit_vote(
        store, first.battle_id, first.token, "rater-0001", "left", client_ip="10.1.1.1", guard=guard
    )
    with pytest.raises(RateLimited, match="too many votes from this rater; wait"):
        submit_vote(store, second.battle_id, second.token, "rater-0001", "left", guard=guard)
    assert store.vote_count() == 1
    # Later (here: without the guard) the same token still counts: the refusal consumed nothing.
    submit_vote(store, second.battle_id, second.token, "rater-0001", "right")
    assert store.vote_count() == 2


def test_battle_requests_are_limited_too(arena):
    store, scheduler = arena
    guard = AbuseGuard(AbuseConfig(battles_per_rater=2))
    before = store.counts()["battles"]
    serve_battle(store, scheduler, "rater-0001", guard=guard)
    serve_battle(store, scheduler, "rater-0001", guard=guard)
    with pytest.raises(RateLimited, match="battle requests from this rater"):
        serve_battle(store, scheduler, "rater-0001", guard=guard)
    assert store.counts()["battles"] == before + 2
    assert guard.refused_counts()["rater-0001"]["battle"] == 1


def test_too_fast_votes_are_flagged_stored_and_left_out_of_the_leaderboard(arena):
    store, scheduler = arena
    guard = AbuseGuard(AbuseConfig.unlimited(min_watch_fraction=0.5))
    quick = serve_battle(store, scheduler, "rater-0001", guard=guard)
    slow = serve_battle(store, scheduler, "rater-0002", guard=guard)
    submit_vote(store, quick.battle_id, quick.token, "rater-0001", "left", guard=guard)
    time.sleep(0.55)  # the test clips last 1 s: half of the shorter one must pass
    submit_vote(store, slow.battle_id, slow.token, "rater-0002", "left", guard=guard)
    flagged = store.flagged_votes()
    assert flagged["battle_id"].tolist() == [quick.battle_id]
    assert list(flagged["flags"].iloc[0]) == [TOO_FAST_FLAG]
    assert flagged["seconds_after_served"].iloc[0] < 0.5
    assert store.vote_count() == 2
    assert store.vote_counts()["count"].sum() == 1  # the leaderboard's default
    assert store.vote_counts(exclude_flagged=False)["count"].sum() == 2
    assert len(store.battles_frame()) == 2  # exports keep every vote
    assert len(store.battles_frame(exclude_flagged=True)) == 1


def test_too_fast_votes_can_be_refused_instead(arena):
    store, scheduler = arena
    guard = AbuseGuard(AbuseConfig.unlimited(min_watch_fraction=1.0, too_fast="refuse"))
    view = serve_battle(store, scheduler, "rater-0001", guard=guard)
    with pytest.raises(VoteRefused, match=r"after the clips were served; watch them first"):
        submit_vote(store, view.battle_id, view.token, "rater-0001", "left", guard=guard)
    assert store.vote_count() == 0
    assert "watch them first" in guard.recent_refusals()[0].reason
    time.sleep(1.05)
    submit_vote(store, view.battle_id, view.token, "rater-0001", "left", guard=guard)
    assert store.vote_count() == 1 and store.flagged_votes().empty


def test_banned_rater_is_refused_and_earlier_votes_are_excluded(arena):
    store, scheduler = arena
    for rater in ("rater-good", "rater-bad1"):
        view = serve_battle(store, scheduler, rater)
        submit_vote(store, view.battle_id, view.token, rater, "left")
    pending = serve_battle(store, scheduler, "rater-bad1")
    store.ban_rater("rater-bad1")
    guard = AbuseGuard()
    with pytest.raises(VoteRefused, match="banned"):
        submit_vote(store, pending.battle_id, pending.token, "rater-bad1", "left", guard=guard)
    assert guard.refused_counts()["rater-bad1"]["vote"] == 1
    assert store.vote_count() == 2
    assert store.vote_counts()["count"].sum() == 1
    assert store.vote_counts(exclude_flagged=False)["count"].sum() == 2
    store.ban_rater("rater-bad1", False)
    assert store.vote_counts()["count"].sum() == 2


def test_version_1_file_gains_vote_flags_and_keeps_its_votes(data_dir):
    store = seeded_store(data_dir)
    view = serve_battle(store, Scheduler(store, seed=0), "rater-0001")
    submit_vote(store, view.battle_id, view.token, "rater-0001", "tie")
    store.close()
    con = duckdb.connect(str(data_dir / DB_NAME))
    con.execute("ALTER TABLE votes DROP COLUMN flags")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    with Store.open(data_dir) as again:
        assert again.schema_version() == SCHEMA_VERSION >= 2
        assert again.vote_counts()["count"].sum() == 1
        assert again.flagged_votes().empty
