"""Battle files (Parquet, CSV, JSON, JSONL) read by DuckDB: aggregated and checked by the rules
of `arena.store.vote_checks`, bad rows named by line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from arena.store.db import first_line
from arena.store.vote_checks import (
    NUMBER_BAD,
    TEXT_BAD,
    check_staged_rows,
    file_reader,
    in_file,
    raise_first_bad_row,
    stage_votes,
)
from generators.errors import InputError

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import numpy as np
    import pandas as pd


def check_not_blank(path: Path) -> None:
    """InputError when the file does not exist or holds nothing but white space."""
    if not path.is_file():
        raise InputError(f"votes file not found: {path}")
    with path.open("rb") as head:
        if not head.read(4096).strip() and path.stat().st_size <= 4096:
            raise InputError(f"votes file {path} has no votes (it is empty)")


def open_battle_file(path: Path) -> tuple[duckdb.DuckDBPyConnection, str, list[str]]:
    """A connection with the file staged as ``incoming_votes`` (`stage_votes`), its reader and
    its columns; InputError for a blank file or one without model_a, model_b and winner (the
    connection is closed then)."""
    check_not_blank(path)
    reader = file_reader(path)
    con = duckdb.connect()
    try:
        try:
            types = stage_votes(con, reader, [str(path)], in_file(path))
        except duckdb.Error as exc:
            raise InputError(f"cannot read votes file {path}: {first_line(exc)}") from exc
    except BaseException:
        con.close()
        raise
    return con, reader, list(types)


def _check_aspect(path: Path, columns: list[str], aspect: str) -> None:
    """InputError for an aspect a file cannot hold (its name goes into the query's SQL)."""
    from arena.store.aspect_votes import ASPECTS

    if "aspect" not in columns and aspect != "overall":
        raise InputError(
            f"votes file {path} has no aspect column: it holds overall votes only, none for "
            f"{aspect!r}"
        )
    if aspect != "overall" and aspect not in ASPECTS:
        raise InputError(f"unknown aspect {aspect!r} (known: overall, {', '.join(ASPECTS)})")


def aggregate_votes_columns(path: str | Path, aspect: str = "overall") -> dict[str, np.ndarray]:
    """`aggregate_votes_file` as numpy columns, without pandas: DuckDB's GROUP BY straight to
    arrays, so the command can aggregate while the rating code is still being imported. Only the
    rows of ``aspect`` count (a file without an aspect column holds overall votes); every row is
    checked, in the same pass."""
    path = Path(path)
    con, _, columns = open_battle_file(path)
    try:
        _check_aspect(path, columns, aspect)
        prob = "coalesce(prob, 1.0)"
        try:
            # Grouped by every value the text rules read, with a count of rows whose numbers
            # break theirs: a good file is checked by the aggregation itself.
            counts = con.execute(
                f"""WITH g AS (
                      SELECT model_a, model_b, winner, coalesce(aspect, 'overall') AS aspect,
                             count(*) AS count, sum(1.0 / {prob}) AS ipw,
                             sum(1.0 / ({prob} * {prob})) AS ipw2,
                             count(*) FILTER ({NUMBER_BAD}) AS bad_numbers
                      FROM incoming_votes GROUP BY ALL)
                    SELECT model_a, model_b, winner, count, ipw, ipw2, bad FROM (
                      SELECT *, coalesce(({TEXT_BAD}) OR bad_numbers > 0, TRUE) AS bad FROM g)
                    WHERE aspect = ? OR bad
                    ORDER BY ALL""",
                [aspect],
            ).fetchnumpy()
        except duckdb.Error as exc:
            raise InputError(f"cannot read votes file {path}: {first_line(exc)}") from exc
        if counts.pop("bad").any():
            raise_first_bad_row(con, in_file(path))
        if len(counts["count"]) == 0 and aspect != "overall":
            raise InputError(f"votes file {path} has no votes for the aspect {aspect!r}")
        if len(counts["count"]) == 0:
            raise InputError(f"votes file {path} has no votes (no data rows)")
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
        only = "WHERE coalesce(nullif(trim(CAST(aspect AS VARCHAR)), ''), 'overall') = 'overall'"
        only = only if "aspect" in columns else ""
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
        check_staged_rows(con, in_file(path))
    finally:
        con.close()
    rows = frame.pop("rn").astype(int)
    if path.suffix.lower() == ".csv":
        frame.index = [f"votes file {path}, line {i + 1}" for i in rows]
    else:
        frame.index = [f"votes file {path}, row {i}" for i in rows]
    return frame
