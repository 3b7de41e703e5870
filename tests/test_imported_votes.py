"""Imported votes in their own table: upgraded data dirs, readers that see both, live keys kept."""

from __future__ import annotations

import pandas as pd
import pytest
from arena_helpers import seeded_store

import arena.store.db as db
from arena.errors import AlreadyVoted, VoteRefused
from arena.store import SCHEMA_VERSION, Store


def _battles(n: int, winner: str = "model_a") -> pd.DataFrame:
    return pd.DataFrame(
        {"model_a": ["alpha"] * n, "model_b": ["beta"] * n, "winner": [winner] * n,
         "rater": ["r1"] * n, "tstamp": [1.7e9 + i for i in range(n)]}
    )  # fmt: skip


def _live_vote(store: Store, outcome: str = "left"):
    clips = {c.model_id: c for c in store.clips()}
    alpha, beta = store.model_by_name("alpha").id, store.model_by_name("beta").id
    new = store.create_battle(
        clips[alpha].prompt_id, clips[alpha].id, clips[beta].id, "rater-live", 0.5
    )
    store.cast_vote(new.battle.id, new.token, "rater-live", outcome)
    return new


def test_a_schema_4_data_dir_is_upgraded_in_place(data_dir, monkeypatch) -> None:
    # A data dir as Paddock wrote it at schema 4: a live vote, and an imported one kept, as
    # imports then did, in the keyed battles and votes tables.
    monkeypatch.setattr(db, "SCHEMA_VERSION", 4)
    # Today's queries read migration 7's columns; its statements are idempotent, so the old file
    # gets them early and the upgrade below runs them again.
    monkeypatch.setitem(db.MIGRATIONS, 4, db.MIGRATIONS[4] + db.MIGRATIONS[7])
    store = seeded_store(data_dir, n_prompts=1)
    assert store.schema_version() == 4
    live = _live_vote(store)
    alpha, beta = store.model_by_name("alpha").id, store.model_by_name("beta").id
    clip = store.clips()[0]
    with store.transaction() as con:
        con.execute(
            """INSERT INTO battles VALUES ('iold_0000000001', ?, ?, ?, 'imported', now(), 1.0,
                 '', now(), 'imp_old_l', 'imp_old_r', 'imported', ?, ?)""",
            [clip.prompt_id, clip.id, clip.id, beta, alpha],
        )
        con.execute(
            """INSERT INTO votes VALUES ('iold_0000000001', 'imported', 'right', 'overall', now(),
                 NULL, NULL, NULL, 'import', ?, ?, ?, 1.0, [])""",
            [clip.prompt_id, beta, alpha],
        )
    store.close()
    monkeypatch.setattr(db, "SCHEMA_VERSION", SCHEMA_VERSION)

    with Store.open(data_dir) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.vote_count() == 2 and store.counts()["battles"] == 2
        assert store.import_battles(_battles(3)) == 3
        assert store.vote_count() == 5 and store.counts()["votes"] == 5
        frame = store.battles_frame()
        assert frame["source"].tolist().count("import") == 4
        assert store.vote_battle_kinds().count("imported") == 4
        counts = store.vote_counts().set_index(["model_a", "model_b", "winner"])["count"]
        # The live vote and the new imports: alpha (left) beat beta; the old import: beta won.
        assert counts[("alpha", "beta", "model_a")] == 4
        assert counts[("beta", "alpha", "model_b")] == 1
        # The upgraded file still refuses a replayed vote on its live battle.
        with pytest.raises(AlreadyVoted):
            store.cast_vote(live.battle.id, live.token, "rater-live", "right")


def test_imported_battles_cannot_be_voted_on_and_live_keys_still_hold(data_dir) -> None:
    store = seeded_store(data_dir, n_prompts=1)
    try:
        assert store.import_battles(_battles(4)) == 4
        assert store.import_battles(_battles(2, "tie")) == 2  # numbered after the first import
        ids = [r[0] for r in store._query("SELECT id FROM all_battles ORDER BY id")]
        assert len(set(ids)) == 6 and all(i.startswith("imp") for i in ids)
        for battle_id in ids[:2]:  # an imported battle has no token: nothing can vote on it
            for token in ("", "x"):
                with pytest.raises(VoteRefused):
                    store.cast_vote(battle_id, token, "r1", "left")
        live = _live_vote(store)
        with pytest.raises(AlreadyVoted):
            store.cast_vote(live.battle.id, live.token, "rater-live", "left")
        with pytest.raises(VoteRefused, match="not valid"):
            store.cast_vote(live.battle.id, "forged", "rater-live", "left")
        assert store.vote_count() == 7
        assert store.vote_outcomes([live.battle.id]) == {live.battle.id: ["left"]}
        raters = store.raters_frame().set_index("rater")["votes"]
        assert raters["r1"] == 6 and raters["rater-live"] == 1
        pairs = store.clip_pair_counts()
        assert pairs["count"].sum() == 7
    finally:
        store.close()
