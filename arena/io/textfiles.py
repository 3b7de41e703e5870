"""Reading user text files (prompts, manifests, votes): UTF-8 and JSON lines, errors by line."""

from __future__ import annotations

import json
from collections.abc import Callable

from generators.errors import InputError


def decode_utf8(raw: bytes, source: str) -> str:
    """The text of a file's bytes; InputError naming the line of the first bad byte otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{source}, line {line}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc


def jsonl_objects(text: str, where: Callable[[int], str]) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; `where(n)` names line n in errors."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{where(number)}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        if not isinstance(value, dict):
            raise InputError(f"{where(number)}: expected a JSON object, got {type(value).__name__}")
        rows.append((number, value))
    return rows
