"""Bulk vote import in SQL: a battle file or frame checked and inserted by DuckDB, all or nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from arena.store.aspect_votes import ASPECTS
from arena.store.db import first_line
from arena.store.vote_files import LABELS_SQL, where_line
from generators.errors import InputError

MAX_TSTAMP = 253402300799  # the last second of year 9999, the end of DuckDB's timestamps
TEXT_COLUMNS = ("prompt_id", "clip_a", "clip_b", "rater", "aspect")
ASPECT_NAMES = ("overall", *ASPECTS)
ASPECTS_SQL = ", ".join(f"'{a}'" for a in ASPECT_NAMES)
OUTCOME_SQL = (
    "CASE winner WHEN 'model_a' THEN 'left' WHEN 'model_b' THEN 'right' "
    "WHEN 'tie' THEN 'tie' WHEN 'tie (bothbad)' THEN 'both_bad' END"
)
NON_SCALAR = ("[]", "STRUCT", "MAP", "UNION", "BLOB")

#: The checks on every row, in order: (SQL condition on the normalised row, column, message).
ROW_CHECKS = (
    ("model_a IS NULL OR trim(model_a) = ''", "model_a", "empty or not text"),
    ("model_b IS NULL OR trim(model_b) = ''", "model_b", "empty or not text"),
    ("winner IS NULL OR trim(winner) = ''", "winner", "empty or not text"),
    (f"winner NOT IN ({LABELS_SQL})", "winner", "unknown label {value!r} (expected {labels})"),
    ("model_a = model_b", None, "model {value!r} battles itself"),
    ("ts_given AND ts IS NULL", "tstamp", "not a number of seconds"),
    (
        f"ts IS NOT NULL AND NOT (ts >= 0 AND ts <= {MAX_TSTAMP})",
        "tstamp",
        "{value!r} is not seconds since 1970",
    ),
    ("prob_given AND prob IS NULL", "sampling_prob", "not a number"),
    (
        "prob IS NOT NULL AND NOT (prob > 0 AND prob <= 1)",
        "sampling_prob",
        "{value!r} is not a probability in (0, 1]",
    ),
    (
        f"aspect IS NOT NULL AND aspect NOT IN ({ASPECTS_SQL})",
        "aspect",
        "unknown aspect {value!r} (expected " + ", ".join(ASPECT_NAMES) + ")",
    ),
    (
        "coalesce(aspect, 'overall') <> 'overall' AND winner = 'tie (bothbad)'",
        "winner",
        "a follow-up answer ({aspect}) is model_a, model_b or tie, not {value!r}",
    ),
)
VALUE_OF = {"model_a": "model_a", "model_b": "model_b", "winner": "winner", None: "model_a",
            "tstamp": "ts_text", "sampling_prob": "prob_text", "aspect": "aspect"}  # fmt: skip
NUMBERS = ("tstamp", "sampling_prob")  # the checks on numbers, not on names


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
                con.register("incoming_frame", frame)
            try:
                step("reading")
                n = _stage(con, source_sql, params, where)
                if n:
                    step("checking")
                    _check_rows(con, where)
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
            lambda row: f"{path}, {where_line(path, row)}",
            add_models=add_models,
            progress=progress,
        )


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _stage(con: duckdb.DuckDBPyConnection, source_sql: str, params: list, where) -> int:
    """Name the rows, typed, as the temporary view ``incoming_votes``; returns their number.

    A view, not a copy: each pass below reads only the columns it needs from the file (a copy
    of 10M rows cost more than all the passes together). Row numbers are counted only to name
    a bad row.
    """
    types = dict(
        (r[0], str(r[1]))
        for r in con.execute(f"DESCRIBE SELECT * FROM {source_sql}", params).fetchall()
    )
    missing = [c for c in ("model_a", "model_b", "winner") if c not in types]
    if missing:
        raise InputError(
            f"{where(1).rsplit(',', 1)[0]}: missing column(s) {', '.join(missing)} (line 1)"
        )
    for column in ("model_a", "model_b", "winner", *TEXT_COLUMNS, "tstamp", "sampling_prob"):
        if column in types and any(t in types[column] for t in NON_SCALAR):
            row = con.execute(
                f"SELECT rn FROM (SELECT row_number() OVER () AS rn, {column} AS v "
                f"FROM {source_sql}) WHERE v IS NOT NULL ORDER BY rn LIMIT 1",
                params,
            ).fetchall()
            raise InputError(f"{where(row[0][0] if row else 1)}, column {column}: expected text")

    def text(column: str) -> str:
        if column not in types:
            return f"CAST(NULL AS VARCHAR) AS {column}"
        return f"nullif(CAST({column} AS VARCHAR), '') AS {column}"

    def number(column: str, name: str) -> str:
        if column not in types:
            return (f"CAST(NULL AS DOUBLE) AS {name}, FALSE AS {name}_given, "
                    f"CAST(NULL AS VARCHAR) AS {name}_text")  # fmt: skip
        raw = f"CAST({column} AS VARCHAR)"
        # A number column is given wherever it is not NULL; text ones may be blank.
        given = f"trim({raw}) <> ''" if "CHAR" in types[column] else "TRUE"
        return (
            f"TRY_CAST({column} AS DOUBLE) AS {name}, "
            f"({column} IS NOT NULL AND {given}) AS {name}_given, {raw} AS {name}_text"
        )

    table = source_sql
    for param in params:  # a view takes no parameters: they are written in as literals
        table = table.replace("?", _literal(param), 1)
    con.execute(
        f"""CREATE TEMP VIEW incoming_votes AS
              SELECT CAST(model_a AS VARCHAR) AS model_a, CAST(model_b AS VARCHAR) AS model_b,
                CAST(winner AS VARCHAR) AS winner,
                {", ".join(text(c) for c in TEXT_COLUMNS)},
                {number("tstamp", "ts")}, {number("sampling_prob", "prob")}
              FROM {table}"""
    )
    return con.execute("SELECT count(*) FROM incoming_votes").fetchall()[0][0]


def _check_rows(con: duckdb.DuckDBPyConnection, where) -> None:
    """InputError for the first bad row. A good file pays for one pass over the distinct values
    of the text columns the checks name (model_a, model_b, winner: a few thousand) and one over
    its numbers; only a bad file is searched row by row."""
    texts = [cond for cond, column, _ in ROW_CHECKS if column not in NUMBERS]
    numbers = " OR ".join(f"({cond})" for cond, column, _ in ROW_CHECKS if column in NUMBERS)
    named = [
        c
        for c in ("model_a", "model_b", "winner", *TEXT_COLUMNS)
        if any(re.search(rf"\b{c}\b", cond) for cond in texts)
    ]
    bad = con.execute(
        f"""SELECT (SELECT count(*) FROM (SELECT DISTINCT {", ".join(named)}
                                          FROM incoming_votes)
                    WHERE {" OR ".join(f"({cond})" for cond in texts)}),
                   (SELECT count(*) FROM incoming_votes WHERE {numbers})"""
    ).fetchall()[0]
    if any(bad):
        _first_bad_row(con, where)


def _first_bad_row(con: duckdb.DuckDBPyConnection, where) -> None:
    cases = " ".join(f"WHEN {cond} THEN {i}" for i, (cond, _, _) in enumerate(ROW_CHECKS))
    values = ", ".join(dict.fromkeys(VALUE_OF.values()))
    bad = con.execute(
        f"""SELECT rn, problem, {values} FROM (
              SELECT *, CASE {cases} END AS problem FROM (
                SELECT row_number() OVER () AS rn, * FROM incoming_votes))
            WHERE problem IS NOT NULL ORDER BY rn LIMIT 1"""
    ).fetchall()
    if not bad:
        return
    bad = bad[0]
    row, problem = bad[0], bad[1]
    named = dict(zip(dict.fromkeys(VALUE_OF.values()), bad[2:], strict=True))
    _, column, message = ROW_CHECKS[problem]
    value = named[VALUE_OF[column]]
    text = message.format(
        value=value, labels=LABELS_SQL.replace("'", ""), aspect=named["aspect"]
    )
    place = where(row) + (f", column {column}" if column else "")
    raise InputError(f"{place}: {text}")


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
        con.execute(
            """INSERT INTO models SELECT substr(md5(random()::VARCHAR || name), 1, 16), name, name,
                 'imported', NULL, NULL, '{}', now()::TIMESTAMP, TRUE FROM (
                 SELECT DISTINCT name FROM (SELECT model_a AS name FROM incoming_votes UNION
                                           SELECT model_b FROM incoming_votes)
                 WHERE name NOT IN (SELECT name FROM models))"""
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
