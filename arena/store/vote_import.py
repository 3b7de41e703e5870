"""Bulk vote import in SQL: a battle file or frame checked and inserted by DuckDB, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from arena.store.db import first_line
from arena.store.vote_checks import (
    REQUIRED,
    check_staged_rows,
    in_file,
    missing_columns,
    stage_votes,
)
from generators.errors import InputError

OUTCOME_SQL = (
    "CASE winner WHEN 'model_a' THEN 'left' WHEN 'model_b' THEN 'right' "
    "WHEN 'tie' THEN 'tie' WHEN 'tie (bothbad)' THEN 'both_bad' END"
)


class VoteImportMixin:
    """`Store` methods that add many votes at once with set-based SQL (no loop over rows)."""

    def import_votes_sql(
        self,
        source_sql: str,
        params: list,
        where: Callable[[int], str],
        add_models: bool = False,
        source: str = "import",
        progress: Callable[[str], None] | None = None,
        frame: object | None = None,
    ) -> int:
        """Check every row of a battle table and insert them all as battles and votes, or none.

        Args:
            source_sql: a DuckDB table expression with the rows in order (``read_parquet(?)``,
                or a registered frame's name).
            params: its parameters.
            where: turns a 1-based row number into the place named in messages ("file, line 7").
            add_models: register unknown models as imported ones (in the same transaction);
                otherwise an unknown model is refused.
            source: the votes' source column.
            progress: called with the name of each step as it starts.
            frame: a DataFrame to read as the table ``incoming_frame`` (``source_sql``).

        Raises:
            InputError: the first bad row, by place and column, or unknown models or prompts.
        """
        step = progress or (lambda _name: None)
        with self.transaction() as con:
            if frame is not None:
                if not len(frame.columns):  # DuckDB cannot register a frame without columns
                    raise missing_columns(where, REQUIRED)
                con.register("incoming_frame", frame)
            try:
                step("reading")
                stage_votes(con, source_sql, params, where)
                n = con.execute("SELECT count(*) FROM incoming_votes").fetchall()[0][0]
                if n:
                    step("checking")
                    check_staged_rows(con, where)
                    _check_references(con, where, add_models)
                    step("inserting")
                    _insert(con, source)
                con.execute("DROP VIEW temp.incoming_votes")
            except duckdb.Error as exc:
                # Rolled back whole, the temporary view with it; one line, not a traceback.
                raise InputError(f"votes not imported: {first_line(exc)}") from exc
            finally:
                if frame is not None:
                    con.unregister("incoming_frame")
        self.epoch += 1
        return n

    def import_votes_parquet(
        self,
        path: Path,
        add_models: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> int:
        """Import a Parquet battle file straight from the file (bad rows named by row)."""
        try:
            probe = duckdb.connect()
            probe.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)])
            probe.close()
        except duckdb.Error as exc:
            raise InputError(f"{path}: not a readable Parquet file ({first_line(exc)})") from exc
        return self.import_votes_sql(
            "read_parquet(?)",
            [str(path)],
            in_file(path),
            add_models=add_models,
            progress=progress,
        )


def _check_references(con: duckdb.DuckDBPyConnection, where, add_models: bool) -> None:
    unknown = [
        r[0]
        for r in con.execute(
            """SELECT DISTINCT name FROM (
                 SELECT model_a AS name FROM incoming_votes UNION
                 SELECT model_b FROM incoming_votes)
               WHERE name NOT IN (SELECT name FROM models) ORDER BY name"""
        ).fetchall()
    ]
    place = where(1).rsplit(",", 1)[0]
    if unknown and not add_models:
        raise InputError(
            f"{place}: unknown model(s) {', '.join(unknown)}; "
            "register them first or pass --add-models"
        )
    prompt = con.execute(
        """SELECT prompt_id FROM (SELECT row_number() OVER () AS rn, prompt_id
             FROM incoming_votes WHERE prompt_id IS NOT NULL)
           WHERE prompt_id NOT IN (SELECT id FROM prompts) ORDER BY rn LIMIT 1"""
    ).fetchall()
    if prompt:
        raise InputError(f"{place}: unknown prompt id {prompt[0][0]!r}")
    if unknown:
        # A model known only from the file was added when its first vote there was cast: its
        # imported votes count towards settling its rating (provisional ratings).
        con.execute(
            """INSERT INTO models (id, name, display_name, kind, generator, parent, params,
                 created_at, active, changed_at)
               SELECT substr(md5(random()::VARCHAR || name), 1, 16), name, name,
                 'imported', NULL, NULL, '{}', now()::TIMESTAMP, TRUE,
                 coalesce(to_timestamp(min(ts))::TIMESTAMP, now()::TIMESTAMP) FROM (
                 SELECT name, ts FROM (SELECT model_a AS name, ts FROM incoming_votes UNION ALL
                                       SELECT model_b, ts FROM incoming_votes)
                 WHERE name NOT IN (SELECT name FROM models)) GROUP BY name"""
        )


def _insert(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Add the checked rows to `imported_votes` (no keys to keep up: arena/store/vote_views.py)
    with the prompts, clips and raters they name."""
    # One placeholder clip per (model, prompt) the file gives no clip for: found on the distinct
    # pairs (a few thousand), not on every row.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE incoming_clips AS
           SELECT s.name, s.prompt_id, s.clip, m.id AS model_id,
             coalesce(s.prompt_id, '_imported') AS pid,
             coalesce(s.clip, 'imp_' || md5(s.name || '|' || coalesce(s.prompt_id, ''))) AS id,
             coalesce(to_timestamp(min(s.ts))::TIMESTAMP, now()::TIMESTAMP) AS created_at
           FROM (SELECT model_a AS name, prompt_id, clip_a AS clip, ts FROM incoming_votes
                 UNION ALL SELECT model_b, prompt_id, clip_b, ts FROM incoming_votes) s
           JOIN models m ON m.name = s.name GROUP BY s.name, s.prompt_id, s.clip, m.id"""
    )
    con.execute(
        """INSERT INTO prompts SELECT '_imported', 'imported votes without a prompt',
             't2v', NULL, TRUE, NULL, [], 0, now()::TIMESTAMP
           WHERE EXISTS (SELECT 1 FROM incoming_votes WHERE prompt_id IS NULL)
           ON CONFLICT DO NOTHING"""
    )
    con.execute(
        """INSERT INTO clips (id, model_id, prompt_id, seed, path, sha256, duration, fps, width,
             height, has_audio, generation_s, created_at)
           SELECT id, any_value(model_id), any_value(pid), 0, '', '', NULL, NULL, NULL, NULL,
             FALSE, NULL, min(created_at)
           FROM incoming_clips WHERE id NOT IN (SELECT id FROM clips) GROUP BY id"""
    )
    con.execute(
        """INSERT INTO raters SELECT DISTINCT coalesce(rater, 'imported'), now()::TIMESTAMP, [],
             FALSE, 0, 0 FROM incoming_votes ON CONFLICT DO NOTHING"""
    )
    # Rows are numbered after the last imported one: that number is the battle's id, so imports
    # cannot collide. A usual value is stored as NULL (see arena/store/vote_views.py).
    last = con.execute("SELECT coalesce(max(rn), 0) FROM imported_votes").fetchall()[0][0]
    con.execute(
        f"""INSERT INTO imported_votes SELECT ? + i.rn, nullif(i.rater, 'imported'),
             {OUTCOME_SQL}, nullif(i.aspect, 'overall'), coalesce(to_timestamp(i.ts)::TIMESTAMP, now()::TIMESTAMP),
             nullif(?, 'import'), nullif(i.prompt_id, '_imported'), ca.model_id, cb.model_id,
             nullif(i.prob, 1.0), ca.id, cb.id
           FROM (SELECT row_number() OVER () AS rn, * FROM incoming_votes) i
           JOIN incoming_clips ca ON ca.name = i.model_a
             AND ca.prompt_id IS NOT DISTINCT FROM i.prompt_id
             AND ca.clip IS NOT DISTINCT FROM i.clip_a
           JOIN incoming_clips cb ON cb.name = i.model_b
             AND cb.prompt_id IS NOT DISTINCT FROM i.prompt_id
             AND cb.clip IS NOT DISTINCT FROM i.clip_b""",
        [last, source],
    )
    con.execute("DROP TABLE temp.incoming_clips")
