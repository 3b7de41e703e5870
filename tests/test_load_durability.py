"""Durability under load: `paddock serve` killed with SIGKILL mid-load loses no acknowledged vote;
and the JSON rater API that load tests and programmatic raters use."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_data import free_port, make_bench_data, start_server, stop_server  # noqa: E402
from load_test import SERVER_ARGS, LoadRun, check_acknowledged, run_raters  # noqa: E402

from arena.store import Store  # noqa: E402


def post(port: int, path: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class RatersInBackground:
    """Rater coroutines on their own event loop in a thread, stopped by an event."""

    def __init__(self, port: int, raters: int, prefix: str, seconds: float = 60.0) -> None:
        self.stop = threading.Event()
        self.run = LoadRun()
        self.result: LoadRun | None = None

        def main() -> None:
            self.result = asyncio.run(
                run_raters(
                    f"http://127.0.0.1:{port}/",
                    raters,
                    seconds,
                    stop=self.stop,
                    on_tick=self._tick,
                    prefix=prefix,
                )
            )

        self.thread = threading.Thread(target=main, daemon=True)

    def _tick(self, run: LoadRun, _elapsed: float) -> None:
        self.run = run  # the live record, readable while the raters run

    def __enter__(self) -> RatersInBackground:
        self.thread.start()
        return self

    def wait_for_votes(self, n: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.run.acked) < n:
            assert time.monotonic() < deadline, f"only {len(self.run.acked)} votes in {timeout_s} s"
            assert self.thread.is_alive()
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


@pytest.mark.slow
def test_sigkill_mid_load_loses_no_acknowledged_vote(tmp_path):
    data = make_bench_data(tmp_path / "data", n_models=3, n_prompts=3, seconds=1.0)
    port = free_port()
    server = start_server(data, port, SERVER_ARGS)
    try:
        with RatersInBackground(port, raters=8, prefix="durable-rater") as raters:
            raters.wait_for_votes(40)
            server.send_signal(signal.SIGKILL)  # no clean-up: whatever is in flight dies
            server.wait(timeout=10)
            errors_at_kill = len(raters.run.errors)
            time.sleep(0.5)  # the raters run into the dead server
        run = raters.result
        assert run is not None
        acked = dict(run.acked)
        assert len(acked) >= 40
        assert len(run.errors) > errors_at_kill, "the kill should have hit requests in flight"
        assert not any("vote answer" in e for e in run.errors)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    # The file opens cleanly after the kill (DuckDB replays its write-ahead log)...
    with Store.open(data, read_only=True) as store:
        counts = store.counts()
        assert counts["votes"] >= len(acked) and counts["battles"] >= counts["votes"]
    # ... and a restarted server on the same data dir serves and counts votes again.
    server = start_server(data, port, SERVER_ARGS)
    try:
        status, battle = post(port, "/api/battle", {"rater_id": "after-restart-01"})
        assert status == 200, battle
        status, vote = post(
            port,
            "/api/vote",
            {
                "battle_id": battle["battle_id"],
                "token": battle["token"],
                "rater_id": "after-restart-01",
                "outcome": "tie",
            },
        )
        assert status == 200 and vote["outcome"] == "tie", vote
        acked[battle["battle_id"]] = "tie"
    finally:
        assert stop_server(server) in (0, 130)  # 130: stopped by Ctrl-C, cleanly
    check = check_acknowledged(data, acked)
    assert check["lost"] == 0 and check["duplicated"] == 0 and check["wrong_outcome"] == 0, check


@pytest.fixture(scope="module")
def json_server(tmp_path_factory):
    from arena_helpers import ServerThread, seeded_store

    from arena.domain.abuse import AbuseConfig

    data_dir = tmp_path_factory.mktemp("api") / "data"
    data_dir.mkdir()
    store = seeded_store(data_dir, n_prompts=2)
    with ServerThread(store, require_full_play=False, abuse=AbuseConfig.unlimited()) as server:
        yield store, server
    store.close()


def test_json_api_battle_vote_and_refusals(json_server):
    store, server = json_server
    status, battle = post(server.port, "/api/battle", {"rater_id": "json-rater-01"})
    assert status == 200 and set(battle) >= {"battle_id", "token", "left_url", "right_url"}
    for model in store.models():
        assert model.name not in json.dumps(battle) and model.id not in json.dumps(battle)
    vote = {
        "battle_id": battle["battle_id"],
        "token": battle["token"],
        "rater_id": "json-rater-01",
        "outcome": "left",
    }
    assert post(server.port, "/api/vote", {**vote, "token": "forged"})[0] == 409
    assert post(server.port, "/api/vote", {**vote, "rater_id": "json-rater-02"})[0] == 409
    assert post(server.port, "/api/vote", {**vote, "outcome": "A"})[0] == 409
    status, result = post(server.port, "/api/vote", vote)
    assert status == 200 and result["outcome"] == "left"
    assert {result["left_model"], result["right_model"]} <= {m.name for m in store.models()}
    status, again = post(server.port, "/api/vote", vote)
    assert status == 409 and "already been voted" in again["error"]
    assert store.vote_outcomes([battle["battle_id"]]) == {battle["battle_id"]: ["left"]}
    # Bad payloads are refused at the edge, and nothing is written.
    before = store.counts()
    assert post(server.port, "/api/battle", {"rater_id": "x" * 65})[0] == 422
    assert post(server.port, "/api/battle", {"rater": "json-rater-01"})[0] == 422
    assert post(server.port, "/api/battle", {"rater_id": "bad id!"})[0] == 400
    assert (
        post(server.port, "/api/battle", {"rater_id": "json-rater-01", "category": "x"})[0] == 400
    )
    assert post(server.port, "/api/vote", {"battle_id": battle["battle_id"]})[0] == 422
    assert store.counts() == before


def test_many_concurrent_writers_share_commits_and_each_gets_its_own_answer(json_server):
    """Concurrent battles and votes go through shared commits; a vote cast twice at once (a
    duplicate key inside a shared commit) is refused alone, and no other write is lost with it."""
    from concurrent.futures import ThreadPoolExecutor

    from arena.domain.scheduler import Scheduler
    from arena.errors import VoteRefused

    store, server = json_server
    run = asyncio.run(
        run_raters(server.url, raters=12, seconds=2.0, max_votes=60, prefix="group-rater")
    )
    assert not run.errors and len(run.acked) >= 12
    stored = store.vote_outcomes(list(run.acked))
    assert all(stored[b] == [o] for b, o in run.acked.items())

    scheduler = Scheduler(store, seed=1)
    battles = [scheduler.next_battle(f"twice-rater-{i:02d}") for i in range(16)]

    def vote(i: int) -> str:
        new = battles[i // 2]
        try:
            store.cast_vote(new.battle.id, new.token, new.battle.rater_id, "tie")
        except VoteRefused as exc:
            return str(exc)
        return "counted"

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(vote, range(2 * len(battles))))
    for i in range(len(battles)):
        pair = sorted(answers[2 * i : 2 * i + 2])
        assert pair[0] == "counted" and "already been voted" in pair[1], pair
    stored = store.vote_outcomes([b.battle.id for b in battles])
    assert all(v == ["tie"] for v in stored.values())


def test_a_failing_write_in_a_shared_commit_takes_no_other_write_with_it(json_server):
    """Battles written from many threads at once share commits; one that the database refuses
    (a clip that does not exist) fails alone and every other battle is stored."""
    from concurrent.futures import ThreadPoolExecutor

    import duckdb

    store, _ = json_server
    clips = store.clips()
    good = (clips[0].prompt_id, clips[0].id, clips[1].id)

    def write(i: int) -> str | None:
        left = "no-such-clip" if i % 5 == 0 else good[1]
        try:
            return store.create_battle(
                good[0], left, good[2], f"shared-rater-{i:03d}", 0.5
            ).battle.id
        except duckdb.Error:
            return None

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(write, range(120)))
    assert [i for i, b in enumerate(ids) if b is None] == list(range(0, 120, 5))
    written = [b for b in ids if b is not None]
    for battle_id in written:
        assert store.battle(battle_id).left_clip == good[1]
