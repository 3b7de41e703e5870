"""The DuckDB store on a real file: round trips, migrations, ownership, tokens, counts."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest
from arena_helpers import seeded_store

from arena.errors import StoreBusyError, VoteRefused
from arena.store import DB_NAME, SCHEMA_VERSION, Store
from generators.errors import InputError


def test_round_trip_survives_reopen(data_dir):
    store = seeded_store(data_dir)
    clip = store.clips()[0]
    store.close()
    with Store.open(data_dir) as again:
        assert again.schema_version() == SCHEMA_VERSION
        assert again.clip(clip.id) == clip
        assert {m.name for m in again.models()} == {"alpha", "beta", "gamma"}
        assert again.counts()["clips"] == 9


def test_a_newer_file_is_refused_and_left_alone(data_dir):
    Store.open(data_dir).close()
    con = duckdb.connect(str(data_dir / DB_NAME))
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    before = (data_dir / DB_NAME).read_bytes()
    with pytest.raises(InputError, match="newer than this Paddock"):
        Store.open(data_dir)
    assert (data_dir / DB_NAME).read_bytes() == before


def test_an_old_file_is_migrated(data_dir):
    con = duckdb.connect(str(data_dir / DB_NAME))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    con.close()
    with Store.open(data_dir) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.models() == []


def test_second_writer_gets_a_clear_message(data_dir):
    import json
    import os
    import subprocess
    import sys

    Store.open(data_dir).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from arena.store import Store; s=Store.open(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        (data_dir / "server.json").write_text(json.dumps({"pid": holder.pid, "port": 7999}))
        with pytest.raises(StoreBusyError, match=f"port 7999 \\(pid {holder.pid}\\)"):
            Store.open(data_dir)
    finally:
        holder.kill()
        holder.wait()
    assert os.path.exists(data_dir / DB_NAME)


def test_tokens_are_one_time_bound_and_expiring(data_dir):
    store = seeded_store(data_dir)
    clips = store.clips()
    same_prompt = [c for c in clips if c.prompt_id == clips[0].prompt_id]
    new = store.create_battle(
        clips[0].prompt_id, same_prompt[0].id, same_prompt[1].id, "rater-1", 0.5
    )
    with pytest.raises(VoteRefused, match="not valid"):
        store.cast_vote(new.battle.id, new.token + "x", "rater-1", "left")
    with pytest.raises(VoteRefused, match="another rater"):
        store.cast_vote(new.battle.id, new.token, "rater-2", "left")
    with pytest.raises(VoteRefused, match="names are revealed only after a vote"):
        store.reveal(new.battle.id)
    store.cast_vote(new.battle.id, new.token, "rater-1", "both_bad", played_left=1.0)
    with pytest.raises(VoteRefused, match="already"):
        store.cast_vote(new.battle.id, new.token, "rater-1", "left")
    old = store.create_battle(
        clips[0].prompt_id,
        same_prompt[0].id,
        same_prompt[1].id,
        "rater-1",
        0.5,
        ttl=timedelta(seconds=-1),
    )
    with pytest.raises(VoteRefused, match="expired"):
        store.cast_vote(old.battle.id, old.token, "rater-1", "left")
    assert store.vote_count() == 1
    counts = store.vote_counts()
    assert counts[["winner", "count"]].values.tolist() == [["tie (bothbad)", 1]]
    assert counts["ipw"].iloc[0] == pytest.approx(2.0)


def test_import_battles_is_all_or_nothing(data_dir):
    store = seeded_store(data_dir)
    good = pd.DataFrame(
        {"model_a": ["alpha", "beta"], "model_b": ["beta", "gamma"], "winner": ["model_a", "tie"]}
    )
    assert store.import_battles(good) == 2
    bad = pd.DataFrame(
        {"model_a": ["alpha", "nobody"], "model_b": ["beta", "gamma"], "winner": ["model_a", "tie"]}
    )
    with pytest.raises(InputError, match="nobody"):
        store.import_battles(bad)
    assert store.vote_count() == 2
    counts = store.vote_counts()
    assert counts["count"].sum() == 2


def test_filters_pick_the_pool(data_dir):
    store = seeded_store(data_dir)
    frame = pd.DataFrame(
        {
            "model_a": ["alpha"] * 3,
            "model_b": ["beta"] * 3,
            "winner": ["model_a"] * 3,
            "rater": ["good", "good", "spammer"],
        }
    )
    store.import_battles(frame)
    store.flag_rater("spammer", "failed gold checks")
    assert store.vote_counts()["count"].sum() == 2
    assert store.vote_counts(exclude_flagged=False)["count"].sum() == 3
    assert store.vote_counts(category="i2v").empty
