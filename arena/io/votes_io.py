"""Votes in and out of the store in Chatbot Arena's battle layout (Parquet, CSV, JSONL)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from arena.io.textfiles import decode_utf8, jsonl_objects
from arena.store import ASPECTS, OVERALL, WINNER_LABELS, Store
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


def read_votes_file(path: Path, fmt: str | None = None) -> pd.DataFrame:
    """Read and validate a battle file; InputError names the line and column of the first problem."""
    if not path.is_file():
        raise InputError(f"votes file not found: {path}")
    fmt = format_of(path, fmt)
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"votes file {path} is empty")
    first_line = 1  # the file line of the frame's first row
    if fmt == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(raw))
        except Exception as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    else:
        text = decode_utf8(raw, str(path))
        if fmt == "csv":
            try:
                frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            except Exception as exc:
                raise InputError(f"{path}: malformed CSV ({exc})") from exc
            first_line = 2
        else:
            frame = _read_jsonl(path, text)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (line 1)")
    labels = set(WINNER_LABELS.values())
    for i, row in enumerate(frame[list(REQUIRED)].itertuples(index=False)):
        line = first_line + i
        for column, value in zip(REQUIRED, row, strict=True):
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"{path}, line {line}, column {column}: empty or not text")
        if row.winner not in labels:
            raise InputError(
                f"{path}, line {line}, column winner: unknown label {row.winner!r} "
                f"(expected {', '.join(sorted(labels))})"
            )
        if row.model_a == row.model_b:
            raise InputError(f"{path}, line {line}: model {row.model_a!r} battles itself")
    if "tstamp" in frame.columns:
        stamps = _numbers(path, first_line, frame["tstamp"], "tstamp", "a number of seconds")
        _check_range(path, first_line, stamps, "tstamp", 0, MAX_TSTAMP, "seconds since 1970")
        frame["tstamp"] = stamps
    if "sampling_prob" in frame.columns:
        probs = _numbers(path, first_line, frame["sampling_prob"], "sampling_prob", "a number")
        _check_range(path, first_line, probs, "sampling_prob", 0, 1, "a probability in (0, 1]")
        frame["sampling_prob"] = probs.fillna(1.0)
    for column in TEXT_COLUMNS:
        if column in frame.columns:
            frame[column] = _text_column(path, first_line, frame[column], column)
    if "rater" in frame.columns:
        frame["rater"] = frame["rater"].replace("", None).fillna("imported")
    if "aspect" in frame.columns:
        _check_aspects(path, first_line, frame)
    return frame


def _check_aspects(path: Path, first_line: int, frame: pd.DataFrame) -> None:
    """Aspects are blank or overall (the battle's vote) or a known follow-up answered A, B or
    tie; InputError naming the first line that is not."""
    names = (OVERALL, *ASPECTS)
    for i, (aspect, winner) in enumerate(zip(frame["aspect"], frame["winner"], strict=True)):
        if aspect is None or aspect == "" or aspect == OVERALL:
            continue
        if aspect not in names:
            raise InputError(
                f"{path}, line {first_line + i}, column aspect: unknown aspect {aspect!r} "
                f"(expected {', '.join(names)})"
            )
        if winner == WINNER_LABELS["both_bad"]:
            raise InputError(
                f"{path}, line {first_line + i}, column winner: a follow-up answer ({aspect}) "
                f"is model_a, model_b or tie, not {winner!r}"
            )


MAX_TSTAMP = 253402300799  # the last second of year 9999, the end of DuckDB's timestamps
TEXT_COLUMNS = ("prompt_id", "prompt", "category", "clip_a", "clip_b", "rater", "aspect")


def _numbers(path: Path, first_line: int, values: pd.Series, column: str, what: str) -> pd.Series:
    """The column as numbers (blanks as NaN); InputError naming the first line that is not one."""
    numbers = pd.to_numeric(values, errors="coerce")
    blank = values.isna() | values.astype(str).str.len().eq(0)
    bad = numbers.isna() & ~blank
    if bad.any():
        line = first_line + int(bad.to_numpy().argmax())
        raise InputError(f"{path}, line {line}, column {column}: not {what}")
    return numbers


def _check_range(
    path: Path, first_line: int, values: pd.Series, column: str, low: float, high: float, what: str
) -> None:
    """Finite values in (low, high] (sampling_prob) or [low, high] (tstamp); blanks pass."""
    import numpy as np

    given = values.notna()
    inside = np.isfinite(values) & (values <= high)
    inside &= values > low if column == "sampling_prob" else values >= low
    bad = given & ~inside
    if bad.any():
        at = int(bad.to_numpy().argmax())
        raise InputError(
            f"{path}, line {first_line + at}, column {column}: {values.iloc[at]!r} is not {what}"
        )


def _text_column(path: Path, first_line: int, values: pd.Series, column: str) -> pd.Series:
    """Ids and text as str (numbers allowed, written as text), blanks as None; lists and
    objects are refused by line."""
    out = []
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and value != value):
            out.append(None)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out.append(str(value))
        else:
            raise InputError(
                f"{path}, line {first_line + i}, column {column}: expected text, "
                f"got {type(value).__name__}"
            )
    return pd.Series(out, index=values.index, dtype=object)


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array of rows
        try:
            rows = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {exc.lineno}: malformed JSON ({exc.msg})") from exc
        if not all(isinstance(r, dict) for r in rows):
            raise InputError(f"{path}: a JSON array of objects was expected")
        return pd.DataFrame(rows)
    rows = jsonl_objects(text, lambda number: f"{path}, line {number}")
    return pd.DataFrame([row for _, row in rows])


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
    frame = read_votes_file(path, fmt)
    names = set(frame["model_a"]) | set(frame["model_b"])
    unknown = sorted(n for n in names if store.find_model(n) is None)
    if unknown and not add_models:
        raise InputError(
            f"{path}: unknown model(s) {', '.join(unknown)}; register them first or pass --add-models"
        )
    if "prompt_id" in frame.columns:
        known = {p.id for p in store.prompts()}
        ids = frame["prompt_id"].replace("", None)
        bad = ids.notna() & ~ids.isin(known)
        if bad.any():
            raise InputError(f"{path}: unknown prompt id {ids[bad].iloc[0]!r}")
        frame["prompt_id"] = ids
    for name in unknown:
        store.add_model(name, "imported")
    keep = [c for c in (*EXPORT_COLUMNS, "sampling_prob", "aspect") if c in frame.columns]
    frame = frame[keep].copy()
    for col in ("clip_a", "clip_b", "rater"):
        if col in frame.columns:
            frame[col] = frame[col].replace("", None)
    return store.import_battles(frame)
