"""Aggregating a votes file with DuckDB's readers, without loading it into a store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from arena.store.battles import WINNER_LABELS
from arena.store.db import first_line
from generators.errors import InputError


def aggregate_votes_file(path: str | Path) -> pd.DataFrame:
    """A Chatbot Arena battle file (Parquet, CSV, JSON, JSONL) as a count table, in one GROUP BY.

    Columns: model_a, model_b, winner, count, ipw, ipw2 (sums of 1/sampling_prob and of its
    square when the file has a sampling_prob column, else the count).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"votes file not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"votes file {path} is empty")
    reader = _file_reader(path)
    con = duckdb.connect()
    try:
        try:
            columns = [
                r[0]
                for r in con.execute(f"DESCRIBE SELECT * FROM {reader}", [str(path)]).fetchall()
            ]
        except duckdb.Error as exc:
            raise InputError(f"cannot read votes file {path}: {first_line(exc)}") from exc
        missing = [c for c in ("model_a", "model_b", "winner") if c not in columns]
        if missing:
            raise InputError(f"votes file {path} lacks column(s): {', '.join(missing)}")
        labels = ", ".join(f"'{w}'" for w in WINNER_LABELS.values())
        ipw = "sum(1.0 / sampling_prob)" if "sampling_prob" in columns else "count(*)::DOUBLE"
        ipw2 = (
            "sum(1.0 / (sampling_prob * sampling_prob))"
            if "sampling_prob" in columns
            else "count(*)::DOUBLE"
        )
        counts = con.execute(
            f"""SELECT CAST(model_a AS VARCHAR) AS model_a, CAST(model_b AS VARCHAR) AS model_b,
                       winner, count(*) AS count, {ipw} AS ipw, {ipw2} AS ipw2
                FROM {reader} GROUP BY ALL ORDER BY ALL""",
            [str(path)],
        ).df()
        if counts["winner"].isin(list(WINNER_LABELS.values())).all():
            return counts
        # Only a bad file pays for a second pass, to name the first offending row.
        bad = con.execute(
            f"""SELECT row_number, winner FROM (
                  SELECT row_number() OVER () AS row_number, winner FROM {reader})
                WHERE winner IS NULL OR winner NOT IN ({labels}) LIMIT 1""",
            [str(path)],
        ).fetchall()
        raise InputError(
            f"votes file {path}, row {bad[0][0]}: unknown winner label {bad[0][1]!r} "
            f"(expected one of {labels})"
        )
    finally:
        con.close()


def _file_reader(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "read_parquet(?)"
    if suffix == ".csv":
        return "read_csv(?, header = true, all_varchar = false)"
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "read_json_auto(?)"
    raise InputError(f"unsupported votes file type {suffix!r}: use .parquet, .csv, .json or .jsonl")
