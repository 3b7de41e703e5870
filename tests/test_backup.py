"""`paddock backup`: a consistent copy of a data dir, directly or through the serving process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arena_helpers import seeded_store
from test_load_durability import RatersInBackground, post

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_data import free_port, make_bench_data, start_server, stop_server  # noqa: E402
from load_test import SERVER_ARGS  # noqa: E402

from arena.domain.scheduler import Scheduler  # noqa: E402
from arena.errors import (
    BackupError,  # noqa: E402
    StoreBusyError,  # noqa: E402
)
from arena.io.backup import backup, backup_data_dir  # noqa: E402
from arena.store import DB_NAME, Store  # noqa: E402
from generators.errors import InputError  # noqa: E402

TOKEN = "backup-test-admin-token-0123456789"


def paddock(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from arena.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
    )


def test_direct_backup_is_complete_and_links_the_clips(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    store = seeded_store(data, n_prompts=2)
    scheduler = Scheduler(store, seed=0)
    for i in range(5):
        new = scheduler.next_battle(f"backup-rater-{i:02d}")
        store.cast_vote(new.battle.id, new.token, new.battle.rater_id, "left")
    report = backup_data_dir(store, tmp_path / "copy")
    counts = store.counts()
    clips = store.clips()
    store.close()
    assert report.votes == 5 and report.clips == len(clips) == report.clips_linked
    with Store.open(tmp_path / "copy", read_only=True) as copy:
        assert copy.counts() == counts
        assert copy.schema_version() == Store.open(data, read_only=True).schema_version()
        assert len(copy.battles_frame()) == 5
    for clip in clips:
        original, copied = data / clip.path, tmp_path / "copy" / clip.path
        assert copied.read_bytes() == original.read_bytes()
        assert os.stat(copied).st_ino == os.stat(original).st_ino  # a hard link, not a copy
    assert not (tmp_path / "copy" / "server.json").exists()


def test_backup_refuses_a_used_target_and_changes_nothing(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    seeded_store(data, n_prompts=1).close()
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an empty folder"):
        backup(data, used)
    assert sorted(p.name for p in used.iterdir()) == ["keep.txt"]
    result = paddock("backup", "--data", str(data), str(used))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "not an empty folder" in result.stderr
    with pytest.raises(InputError, match="no Paddock data"):
        backup(tmp_path / "nothing", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # The CLI without a server: a direct copy.
    ok = paddock("backup", "--data", str(data), str(tmp_path / "out"), "--no-clips")
    assert ok.returncode == 0 and "(direct)" in ok.stdout, ok.stderr
    assert not (tmp_path / "out" / "clips").exists()
    with Store.open(tmp_path / "out", read_only=True) as copy:
        assert copy.counts()["clips"] == 3


@pytest.mark.slow
def test_backup_while_serving_under_load_holds_every_vote_acknowledged_before_it(
    tmp_path, monkeypatch
):
    data = make_bench_data(tmp_path / "data", n_models=3, n_prompts=3, seconds=1.0)
    port = free_port()
    env = {"PADDOCK_ADMIN_TOKEN": TOKEN}
    server = start_server(data, port, SERVER_ARGS, env=env)
    try:
        with RatersInBackground(port, raters=6, prefix="backup-rater") as raters:
            raters.wait_for_votes(20)
            # Refused without the token, with a wrong one, and (the file is the server's) never
            # by opening the database beside it.
            monkeypatch.delenv("PADDOCK_ADMIN_TOKEN", raising=False)
            monkeypatch.delenv("PADDOCK_ADMIN_TOKEN_FILE", raising=False)
            with pytest.raises(InputError, match="admin token"):
                backup(data, tmp_path / "a")
            with pytest.raises(BackupError, match="wrong admin token"):
                backup(data, tmp_path / "a", token="x" * 32)
            with pytest.raises(StoreBusyError, match=f"port {port}"):
                Store.open(data)  # the server owns the file: nobody copies it from beside
            assert not (tmp_path / "a").exists()
            before = dict(raters.run.acked)  # acknowledged before the backup began
            t0 = time.monotonic()
            result = paddock("backup", "--data", str(data), str(tmp_path / "b"), env=env)
            took = time.monotonic() - t0
            assert result.returncode == 0, result.stderr
            assert "(server)" in result.stdout
            raters.wait_for_votes(len(raters.run.acked) + 5)  # the arena kept serving
        assert raters.result is not None and not raters.result.errors
        # The admin route answers only the token holder, on loopback.
        status, body = post(port, "/admin/backup", {"out": str(tmp_path / "c")})
        assert status == 403 and "admin token" in body["error"]
    finally:
        stop_server(server)
    with Store.open(tmp_path / "b", read_only=True) as copy:
        stored = copy.vote_outcomes(list(before))
        assert all(stored[b] == [o] for b, o in before.items()), "an acknowledged vote is missing"
        frame = copy.battles_frame()
        assert len(frame) == copy.counts()["votes"] >= len(before)
        for clip in copy.clips():
            assert (tmp_path / "b" / clip.path).is_file()
    with Store.open(data, read_only=True) as live:
        assert live.counts()["votes"] > len(frame)  # votes went on after the copy
    assert (tmp_path / "b" / DB_NAME).stat().st_size > 0 and took < 60
