"""Battle files (Parquet, CSV, JSON, JSONL) read by DuckDB: aggregated, checked, line numbers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from arena.store.db import first_line
from generators.errors import InputError

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import numpy as np
    import pandas as pd

# Chatbot Arena's winner labels (the same as db.WINNER_LABELS' values, in its order).
WINNER_VALUES = ("model_a", "model_b", "tie", "tie (bothbad)")
LABELS_SQL = ", ".join(f"'{w}'" for w in WINNER_VALUES)


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


def check_not_blank(path: Path) -> None:
    """InputError when the file does not exist or holds nothing but white space."""
    if not path.is_file():
        raise InputError(f"votes file not found: {path}")
    with path.open("rb") as head:
        if not head.read(4096).strip() and path.stat().st_size <= 4096:
            raise InputError(f"votes file {path} has no votes (it is empty)")


def file_columns(con: duckdb.DuckDBPyConnection, reader: str, path: Path) -> list[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {reader}", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"cannot read votes file {path}: {first_line(exc)}") from exc
    return [r[0] for r in rows]


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


#: (SQL condition on one row that makes it bad, message) in the order they are checked.
ROW_CHECKS = (
    ("model_a IS NULL OR trim(CAST(model_a AS VARCHAR)) = ''", "column model_a is empty"),
    ("model_b IS NULL OR trim(CAST(model_b AS VARCHAR)) = ''", "column model_b is empty"),
    (f"winner IS NULL OR CAST(winner AS VARCHAR) NOT IN ({LABELS_SQL})", "winner"),
    ("CAST(model_a AS VARCHAR) = CAST(model_b AS VARCHAR)", "battles itself"),
)
PROB_CHECK = (
    "NOT (TRY_CAST(sampling_prob AS DOUBLE) > 0 AND TRY_CAST(sampling_prob AS DOUBLE) <= 1)"
)


def first_bad_row(
    con: duckdb.DuckDBPyConnection, reader: str, path: Path, columns: list[str]
) -> str | None:
    """The one-line message for the first bad row of the file, or None when every row is good."""
    checks = list(ROW_CHECKS)
    if "sampling_prob" in columns:
        checks.append((f"sampling_prob IS NOT NULL AND {PROB_CHECK}", "sampling_prob"))
    cases = " ".join(f"WHEN {cond} THEN {i}" for i, (cond, _) in enumerate(checks))
    found = con.execute(
        f"""SELECT rn, problem, CAST(model_a AS VARCHAR), CAST(winner AS VARCHAR), {
            "CAST(sampling_prob AS VARCHAR)" if "sampling_prob" in columns else "NULL"
        } FROM (
              SELECT row_number() OVER () AS rn, CASE {cases} END AS problem, *
              FROM {reader})
            WHERE problem IS NOT NULL ORDER BY rn LIMIT 1""",
        [str(path)],
    ).fetchone()
    if found is None:
        return None
    row, problem, model_a, winner, prob = found
    where = f"votes file {path}, {where_line(path, row)}"
    message = checks[problem][1]
    if message == "winner":
        return f"{where}, column winner: unknown winner label {winner!r} (expected one of {LABELS_SQL})"
    if message == "battles itself":
        return f"{where}: model {model_a!r} battles itself"
    if message == "sampling_prob":
        return f"{where}, column sampling_prob: {prob!r} is not a probability in (0, 1]"
    return f"{where}: {message}"


def open_battle_file(path: Path) -> tuple[duckdb.DuckDBPyConnection, str, list[str]]:
    """A connection, the reader for a battle file and its columns; InputError for a blank file
    or one without model_a, model_b and winner (the connection is closed then)."""
    check_not_blank(path)
    reader = file_reader(path)
    con = duckdb.connect()
    try:
        columns = file_columns(con, reader, path)
        missing = [c for c in ("model_a", "model_b", "winner") if c not in columns]
        if missing:
            raise InputError(f"votes file {path} lacks column(s): {', '.join(missing)}")
    except BaseException:
        con.close()
        raise
    return con, reader, columns


ASPECT_SQL = "coalesce(nullif(trim(CAST(aspect AS VARCHAR)), ''), 'overall')"


def aspect_filter(path: Path, columns: list[str], aspect: str) -> str:
    """The WHERE clause that keeps one aspect's rows (blank or no aspect column: overall)."""
    if "aspect" in columns:
        return f"WHERE {ASPECT_SQL} = '{aspect}'"
    if aspect != "overall":
        raise InputError(
            f"votes file {path} has no aspect column: it holds overall votes only, none for "
            f"{aspect!r}"
        )
    return ""


#: A count row that cannot be rated: the file then pays for the search of its first bad row.
BAD_COUNT_ROW = (
    f"bad_prob > 0 OR winner IS NULL OR winner NOT IN ({LABELS_SQL}) OR model_a IS NULL "
    "OR trim(model_a) = '' OR model_b IS NULL OR trim(model_b) = '' OR model_a = model_b"
)


def aggregate_votes_columns(
    path: str | Path, aspect: str = "overall"
) -> dict[str, np.ndarray]:
    """`aggregate_votes_file` as numpy columns, without pandas: DuckDB's GROUP BY straight to
    arrays, so the command can aggregate while the rating code is still being imported. Only the
    rows of ``aspect`` count (a file without an aspect column holds overall votes)."""
    path = Path(path)
    con, reader, columns = open_battle_file(path)
    if "aspect" in columns:
        # Refused before the query: the name goes into its SQL.
        from arena.store.aspect_votes import ASPECTS

        if aspect != "overall" and aspect not in ASPECTS:
            con.close()
            raise InputError(f"unknown aspect {aspect!r} (known: overall, {', '.join(ASPECTS)})")
    try:
        only = aspect_filter(path, columns, aspect)
        has_prob = "sampling_prob" in columns
        prob = "coalesce(TRY_CAST(sampling_prob AS DOUBLE), 1.0)"
        ipw = f"sum(1.0 / {prob})" if has_prob else "count(*)::DOUBLE"
        ipw2 = f"sum(1.0 / ({prob} * {prob}))" if has_prob else "count(*)::DOUBLE"
        bad_prob = (
            f"count(*) FILTER (sampling_prob IS NOT NULL AND {PROB_CHECK})" if has_prob else "0"
        )
        try:
            counts = con.execute(
                f"""SELECT model_a, model_b, winner, count, ipw, ipw2,
                           coalesce({BAD_COUNT_ROW}, TRUE) AS bad FROM (
                      SELECT CAST(model_a AS VARCHAR) AS model_a,
                             CAST(model_b AS VARCHAR) AS model_b,
                             CAST(winner AS VARCHAR) AS winner, count(*) AS count, {ipw} AS ipw,
                             {ipw2} AS ipw2, {bad_prob} AS bad_prob
                      FROM {reader} {only} GROUP BY ALL)
                    ORDER BY ALL""",
                [str(path)],
            ).fetchnumpy()
        except duckdb.Error as exc:
            raise InputError(f"cannot read votes file {path}: {first_line(exc)}") from exc
        if len(counts["count"]) == 0 and only and aspect != "overall":
            raise InputError(f"votes file {path} has no votes for the aspect {aspect!r}")
        if len(counts["count"]) == 0:
            raise InputError(f"votes file {path} has no votes (no data rows)")
        if counts.pop("bad").any():
            message = first_bad_row(con, reader, path, columns)
            if message:
                raise InputError(message)
        return counts  # no NULL is left (a NULL name is a bad row): plain arrays
    finally:
        con.close()


def aggregate_votes_file(path: str | Path, aspect: str = "overall") -> pd.DataFrame:
    """A Chatbot Arena battle file (Parquet, CSV, JSON, JSONL) as a count table, in one GROUP BY.

    Columns: model_a, model_b, winner, count, ipw, ipw2 (sums of 1/sampling_prob and of its
    square when the file has a sampling_prob column, else the count). A bad row is reported by
    the file's line number (the row number in Parquet); only a bad file pays for that search.
    Only the rows of ``aspect`` count (a file without an aspect column holds overall votes).
    """
    import pandas as pd

    return pd.DataFrame(aggregate_votes_columns(path, aspect))


def read_battles_file(path: str | Path, extra: list[str]) -> pd.DataFrame:
    """The rows of a battle file (model_a, model_b, winner and the ``extra`` columns present),
    one per vote, indexed by where each is in the file ("FILE, line 7")."""
    path = Path(path)
    con, reader, columns = open_battle_file(path)
    try:
        wanted = ["model_a", "model_b", "winner", *(c for c in extra if c in columns)]
        select = ", ".join(f'"{c}"' for c in wanted)
        # Only the overall votes: a follow-up answer is not another battle.
        only = aspect_filter(path, columns, "overall")
        try:
            frame = con.execute(
                f"SELECT rn, {select} FROM (SELECT row_number() OVER () AS rn, * FROM {reader}) "
                f"{only} ORDER BY rn",
                [str(path)],
            ).df()
        except duckdb.Error as exc:
            raise InputError(f"cannot read votes file {path}: {first_line(exc)}") from exc
        if frame.empty:
            raise InputError(f"votes file {path} has no votes (no data rows)")
        message = first_bad_row(con, reader, path, columns)
        if message:
            raise InputError(message)
    finally:
        con.close()
    rows = frame.pop("rn").astype(int)
    if path.suffix.lower() == ".csv":
        frame.index = [f"votes file {path}, line {i + 1}" for i in rows]
    else:
        frame.index = [f"votes file {path}, row {i}" for i in rows]
    return frame
