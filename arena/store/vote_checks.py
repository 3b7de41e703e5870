"""The one set of rules for a battle table's rows (a votes file or a frame), checked in SQL.

Import, `paddock leaderboard --votes`, its composite and style control all read a battle table
through `stage_votes` (a typed view, ``incoming_votes``) and report its first bad row with
`raise_first_bad_row`, so a bad row is named the same way wherever it is found:
``<file>, line 7, column winner: unknown label 'draw' (expected model_a, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from arena.store.aspect_votes import ASPECTS
from generators.errors import InputError

# Chatbot Arena's winner labels (the same as db.WINNER_LABELS' values, in its order).
WINNER_VALUES = ("model_a", "model_b", "tie", "tie (bothbad)")
LABELS_SQL = ", ".join(f"'{w}'" for w in WINNER_VALUES)
REQUIRED = ("model_a", "model_b", "winner")
MAX_TSTAMP = 253402300799  # the last second of year 9999, the end of DuckDB's timestamps
TEXT_COLUMNS = ("prompt_id", "clip_a", "clip_b", "rater", "aspect")
ASPECT_NAMES = ("overall", *ASPECTS)
ASPECTS_SQL = ", ".join(f"'{a}'" for a in ASPECT_NAMES)
NON_SCALAR = ("[]", "STRUCT", "MAP", "UNION", "BLOB")

#: The checks on every row, in order: (SQL condition on the staged row, column, problem).
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
#: Text conditions (on model_a, model_b, winner, aspect: checkable per distinct value) and
#: number conditions (per row), each joined into one.
TEXT_BAD = " OR ".join(f"({c})" for c, column, _ in ROW_CHECKS if column not in NUMBERS)
NUMBER_BAD = " OR ".join(f"({c})" for c, column, _ in ROW_CHECKS if column in NUMBERS)


def file_reader(path: Path) -> str:
    """The DuckDB table function that reads ``path`` (one ``?`` parameter: the path)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "read_parquet(?)"
    if suffix == ".csv":
        return "read_csv(?, header = true, all_varchar = false)"
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "read_json_auto(?)"
    raise InputError(f"unsupported votes file type {suffix!r}: use .parquet, .csv, .json or .jsonl")


def where_line(path: Path, row: int) -> str:
    """Where data row ``row`` (1-based, file order) is: the file's line, or the row in Parquet."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"row {row}"
    if suffix == ".csv":
        return f"line {row + 1}"  # after the header line
    with path.open("rb") as handle:
        first = handle.read(4096).lstrip()
        if first.startswith(b"["):
            return f"record {row}"
        handle.seek(0)
        seen = 0
        for number, line in enumerate(handle, 1):
            seen += bool(line.strip())
            if seen == row:
                return f"line {number}"
    return f"row {row}"


def in_file(path: Path) -> Callable[[int], str]:
    """Names a row of a votes file by its place in the file ("FILE, line 7")."""
    return lambda row: f"{path}, {where_line(path, row)}"


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def missing_columns(where: Callable[[int], str], missing: list[str] | tuple[str, ...]) -> InputError:
    """The error for a file without the required columns, naming the file as `where` does."""
    place = where(1).rsplit(",", 1)[0]
    return InputError(f"{place}: missing column(s) {', '.join(missing)} (line 1)")


def stage_votes(
    con: duckdb.DuckDBPyConnection, source_sql: str, params: list, where: Callable[[int], str]
) -> dict[str, str]:
    """Name the rows, typed, as the temporary view ``incoming_votes``; returns the source's
    column types. InputError for a missing required column or a list or object where a value
    belongs.

    A view, not a copy: each pass reads only the columns it needs from the file (a copy of 10M
    rows cost more than all the passes together). Row numbers are counted only to name a bad row.
    """
    types = dict(
        (r[0], str(r[1]))
        for r in con.execute(f"DESCRIBE SELECT * FROM {source_sql}", params).fetchall()
    )
    missing = [c for c in REQUIRED if c not in types]
    if missing:
        raise missing_columns(where, missing)
    for column in (*REQUIRED, *TEXT_COLUMNS, "tstamp", "sampling_prob"):
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
        f"""CREATE OR REPLACE TEMP VIEW incoming_votes AS
              SELECT CAST(model_a AS VARCHAR) AS model_a, CAST(model_b AS VARCHAR) AS model_b,
                CAST(winner AS VARCHAR) AS winner,
                {", ".join(text(c) for c in TEXT_COLUMNS)},
                {number("tstamp", "ts")}, {number("sampling_prob", "prob")}
              FROM {table}"""
    )
    return types


def check_staged_rows(con: duckdb.DuckDBPyConnection, where: Callable[[int], str]) -> None:
    """InputError for the first bad row of ``incoming_votes``. A good table pays for one pass
    over the distinct values of the text columns the checks name (a few thousand) and one over
    its numbers; only a bad one is searched row by row."""
    bad = con.execute(
        f"""SELECT (SELECT count(*) FROM (SELECT DISTINCT model_a, model_b, winner, aspect
                                          FROM incoming_votes) WHERE {TEXT_BAD}),
                   (SELECT count(*) FROM incoming_votes WHERE {NUMBER_BAD})"""
    ).fetchall()[0]
    if any(bad):
        raise_first_bad_row(con, where)


def raise_first_bad_row(con: duckdb.DuckDBPyConnection, where: Callable[[int], str]) -> None:
    """InputError naming the first row of ``incoming_votes`` that breaks a rule (place, column,
    problem); returns when every row keeps them."""
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
    row, problem, *rest = bad[0]
    named = dict(zip(dict.fromkeys(VALUE_OF.values()), rest, strict=True))
    _, column, message = ROW_CHECKS[problem]
    value = named[VALUE_OF[column]]
    text = message.format(value=value, labels=LABELS_SQL.replace("'", ""), aspect=named["aspect"])
    place = where(row) + (f", column {column}" if column else "")
    raise InputError(f"{place}: {text}")
