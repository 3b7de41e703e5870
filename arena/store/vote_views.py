"""Imported votes in their own index-free table, and the views that read them with live votes.

A live battle and its vote sit in `battles` and `votes`, whose keys (battle id, media tokens,
one vote per battle) are what refuse a replayed or forged vote. Imported votes are history: no
one is ever served or votes on them, and their ids are unique by construction, so they need none
of those keys. Keeping them out of the keyed tables spares DuckDB the index upkeep that made a
10M-vote import take minutes. Readers that mean "every vote" read the views; the live path
(serving, casting, revealing) keeps reading `battles` and `votes`.
"""

from __future__ import annotations

#: One row per imported vote (and its battle). Its battle id is "imp" and its number `rn`
#: (each import numbers its rows after the last one: unique by construction, and of another
#: form than live ids), built only when asked for: a stored id string per row would cost more
#: to write than the rest of the row. For the same reason a column left NULL means its usual
#: value (rater "imported", aspect "overall", source "import", prompt "_imported", sampling
#: probability 1): DuckDB writes a NULL column almost for free, a repeated string not.
IMPORTED_VOTES_TABLE = """CREATE TABLE IF NOT EXISTS imported_votes (
    rn BIGINT NOT NULL, rater_id VARCHAR, outcome VARCHAR NOT NULL, aspect VARCHAR,
    voted_at TIMESTAMP NOT NULL, source VARCHAR, prompt_id VARCHAR,
    left_model VARCHAR NOT NULL, right_model VARCHAR NOT NULL, sampling_prob DOUBLE,
    left_clip VARCHAR NOT NULL, right_clip VARCHAR NOT NULL)"""

#: The usual values of the columns `imported_votes` leaves NULL.
IMPORTED_DEFAULTS = {
    "rater_id": "'imported'",
    "aspect": "'overall'",
    "source": "'import'",
    "prompt_id": "'_imported'",
    "sampling_prob": "1.0",
}


def _imported(column: str) -> str:
    return f"coalesce(i.{column}, {IMPORTED_DEFAULTS[column]})"


IMPORTED_ID = "('imp' || lpad(CAST(i.rn AS VARCHAR), 12, '0'))"

_VOTE_COLUMNS = (
    "battle_id, rater_id, outcome, aspect, voted_at, time_to_vote_s, played_left, played_right, "
    "source, prompt_id, left_model, right_model, sampling_prob, flags"
)
_IMPORTED_AS_VOTE = (
    f"{IMPORTED_ID}, {_imported('rater_id')}, i.outcome, {_imported('aspect')}, i.voted_at, "
    "CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), "
    f"{_imported('source')}, {_imported('prompt_id')}, i.left_model, i.right_model, "
    f"{_imported('sampling_prob')}, CAST([] AS VARCHAR[])"
)

#: Every vote, live and imported, with the columns of `votes`.
ALL_VOTES_VIEW = f"""CREATE OR REPLACE VIEW all_votes AS
    SELECT {_VOTE_COLUMNS} FROM votes
    UNION ALL SELECT {_IMPORTED_AS_VOTE} FROM imported_votes i"""

#: Every battle, live and imported, with the columns of `battles` (an imported battle has no
#: token and no media ids: it can be neither served nor voted on).
ALL_BATTLES_VIEW = f"""CREATE OR REPLACE VIEW all_battles AS
    SELECT id, prompt_id, left_clip, right_clip, rater_id, served_at, sampling_prob, token_hash,
           expires_at, left_media, right_media, kind, left_model, right_model FROM battles
    UNION ALL SELECT {IMPORTED_ID}, {_imported("prompt_id")}, i.left_clip, i.right_clip,
           {_imported("rater_id")}, i.voted_at, {_imported("sampling_prob")}, '', i.voted_at,
           CAST(NULL AS VARCHAR),
           CAST(NULL AS VARCHAR), 'imported', i.left_model, i.right_model
    FROM imported_votes i"""

#: Every vote with what its battle adds (clips, kind, served_at), without a join for imports.
VOTE_BATTLES_VIEW = f"""CREATE OR REPLACE VIEW vote_battles AS
    SELECT v.battle_id, v.rater_id, v.outcome, v.aspect, v.voted_at, v.time_to_vote_s,
           v.played_left, v.played_right, v.source, v.prompt_id, v.left_model, v.right_model,
           v.sampling_prob, v.flags, b.left_clip, b.right_clip, b.kind, b.served_at
    FROM votes v JOIN battles b ON b.id = v.battle_id
    UNION ALL SELECT {_IMPORTED_AS_VOTE}, i.left_clip, i.right_clip, 'imported', i.voted_at
    FROM imported_votes i"""

#: Migration 6: the table and the views.
IMPORTED_VOTES_SCHEMA = [IMPORTED_VOTES_TABLE, ALL_VOTES_VIEW, ALL_BATTLES_VIEW, VOTE_BATTLES_VIEW]
