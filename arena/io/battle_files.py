"""Votes in and out of the store in Chatbot Arena's battle layout (Parquet, CSV, JSONL)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from arena.io.textfiles import decode_utf8, jsonl_objects
from arena.store import Store
from generators.errors import InputError

REQUIRED = ("model_a", "model_b", "winner")
EXPORT_COLUMNS = (
    "model_a",
    "model_b",
    "winner",
    "prompt_id",
    "prompt",
    "category",
    "clip_a",
    "clip_b",
    "rater",
    "tstamp",
)
FORMATS = ("parquet", "csv", "jsonl")


def format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("json", "ndjson"):
        suffix = "jsonl"
    if suffix not in FORMATS:
        raise InputError(
            f"cannot tell the format of {path}: use .parquet, .csv or .jsonl, or --format"
        )
    return suffix


def export_votes(store: Store, out: Path, fmt: str | None = None, **filters) -> int:
    """Write every vote as a battle row; returns the number of rows."""
    fmt = format_of(out, fmt)
    filters.setdefault("aspect", None)  # every vote row; the aspect column tells them apart
    frame = store.battles_frame(**filters)
    extra = [c for c in frame.columns if c not in EXPORT_COLUMNS]
    frame = frame[list(EXPORT_COLUMNS) + extra]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if fmt == "parquet":
        frame.to_parquet(tmp, index=False)
    elif fmt == "csv":
        frame.to_csv(tmp, index=False)
    else:
        frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    tmp.replace(out)
    return len(frame)


def read_votes_file(path: Path, fmt: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Decode a battle file's rows: (frame, where each row is in the file: "line 7").

    Bytes that are not UTF-8 and malformed CSV or JSON are named here, by line; the rows' rules
    (labels, models, numbers, aspects) are the store's (`arena.store.vote_checks`), checked when
    the frame is imported. Values are scalars as text (numbers too), blanks None.
    """
    if not path.is_file():
        raise InputError(f"votes file not found: {path}")
    fmt = format_of(path, fmt)
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"votes file {path} is empty")
    if fmt == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(raw))
        except Exception as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
        places = [f"row {i + 1}" for i in range(len(frame))]
    else:
        text = decode_utf8(raw, str(path))
        if fmt == "csv":
            try:
                frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            except Exception as exc:
                raise InputError(f"{path}: malformed CSV ({exc})") from exc
            places = [f"line {i + 2}" for i in range(len(frame))]
        else:
            frame, places = _read_jsonl(path, text)
    for column in (*REQUIRED, *TEXT_COLUMNS, "tstamp", "sampling_prob"):
        if column in frame.columns:
            frame[column] = _text_column(path, places, frame[column], column)
    return frame, places


TEXT_COLUMNS = ("prompt_id", "prompt", "category", "clip_a", "clip_b", "rater", "aspect")


def _text_column(path: Path, places: list[str], values: pd.Series, column: str) -> pd.Series:
    """Ids, text and numbers as str, blanks as None; lists, objects and booleans are refused
    by line, in the store's words."""
    out = []
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and value != value) or value == "":
            out.append(None)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out.append(str(value))
        else:
            raise InputError(f"{path}, {places[i]}, column {column}: expected text")
    return pd.Series(out, index=values.index, dtype=object)


def _read_jsonl(path: Path, text: str) -> tuple[pd.DataFrame, list[str]]:
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array of rows
        try:
            rows = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {exc.lineno}: malformed JSON ({exc.msg})") from exc
        if not all(isinstance(r, dict) for r in rows):
            raise InputError(f"{path}: a JSON array of objects was expected")
        return pd.DataFrame(rows), [f"record {i + 1}" for i in range(len(rows))]
    rows = list(jsonl_objects(text, lambda number: f"{path}, line {number}"))
    return pd.DataFrame([row for _, row in rows]), [f"line {number}" for number, _ in rows]


def import_votes(
    store: Store,
    path: Path,
    fmt: str | None = None,
    add_models: bool = False,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Validate a battle file whole, then add all its votes in one transaction (or none).

    A Parquet file goes straight to DuckDB, which checks and inserts it with SQL over the file
    (published arena dumps run to millions of votes); CSV and JSON are decoded here first, line
    by line, so that bad bytes and malformed JSON are named by line, then inserted the same way.
    ``progress`` is called with the name of each step.
    """
    if format_of(path, fmt) == "parquet":
        if not path.is_file():
            raise InputError(f"votes file not found: {path}")
        return store.import_votes_parquet(path, add_models=add_models, progress=progress)
    if progress:
        progress("reading")
    frame, places = read_votes_file(path, fmt)
    keep = [c for c in (*EXPORT_COLUMNS, "sampling_prob", "aspect") if c in frame.columns]
    return store.import_battles(
        frame[keep], where=lambda row: f"{path}, {_place(places, row)}", add_models=add_models
    )


def _place(places: list[str], row: int) -> str:
    """Where 1-based row `row` is in the file; a file with no rows is named by its first line."""
    return places[row - 1] if row <= len(places) else f"line {row}"
