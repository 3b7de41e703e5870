"""Reading prompts: the shipped suites and user prompt files (JSONL or CSV), validated by row."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from arena.domain.suite import CATEGORIES, DEFAULT_SUITE, FIELDS, SuiteMeta, SuitePrompt
from arena.io.suite_images import SKIMAGE_IMAGES, SKIMAGE_PREFIX, unknown_skimage_message
from arena.io.textfiles import decode_utf8, jsonl_objects
from arena.store import Prompt, Store
from generators.errors import InputError

_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


_SUITE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


_TRUE = {"true", "1", "yes", "y"}


_FALSE = {"false", "0", "no", "n"}


def _prompts_dir() -> Any:
    return resources.files("arena") / "data" / "prompts"


def available_suites() -> list[str]:
    """Names of the prompt suites shipped with Paddock."""
    return sorted(
        entry.name.removesuffix(".jsonl")
        for entry in _prompts_dir().iterdir()
        if entry.name.endswith(".jsonl")
    )


def _check_suite_name(name: str) -> None:
    if not _SUITE_NAME_PATTERN.match(name) or name not in available_suites():
        raise InputError(
            f"unknown prompt suite '{name}': available suites are {', '.join(available_suites())}"
        )


def suite_meta(name: str = DEFAULT_SUITE) -> SuiteMeta:
    """The version and licences recorded beside a shipped suite (`<name>.meta.json`)."""
    _check_suite_name(name)
    entry = _prompts_dir() / f"{name}.meta.json"
    if not entry.is_file():
        raise InputError(f"prompt suite '{name}' ships without {name}.meta.json")
    raw = json.loads(entry.read_text(encoding="utf-8"))
    return SuiteMeta(
        name=raw["name"],
        version=int(raw["version"]),
        licence=raw["licence"],
        description=raw.get("description", ""),
        images=raw.get("images", {}),
    )


def load_suite(name: str = DEFAULT_SUITE) -> list[SuitePrompt]:
    """Load and validate a shipped suite; every row must give every field."""
    _check_suite_name(name)
    text = (_prompts_dir() / f"{name}.jsonl").read_text(encoding="utf-8")
    records = _jsonl_records(text.splitlines(), f"suite '{name}'")
    return _validate(records, strict=True, suite=name, base_dir=None)


def ensure_suite(store: Store, suite: str = DEFAULT_SUITE) -> list[Prompt]:
    """Load a shipped prompt suite into the store (idempotent) and return its prompts."""
    store.upsert_prompts(load_suite(suite))
    return store.prompts(suite=suite)


def load_prompts_file(path: str | os.PathLike[str]) -> list[SuitePrompt]:
    """Load a user prompt file (JSONL or CSV with the suite's fields; text and category required).

    Missing fields default to: id from category and a hash of the text, audio true unless tagged
    `silent`, no tags, no image, seed 0, suite = the file's stem. CSV tags are separated by `;`
    or `|`. A relative image path is taken relative to the file.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputError(f"prompt file '{path}' not found")
    suffix = file.suffix.lower()
    text = decode_utf8(file.read_bytes(), str(file))
    if suffix in (".jsonl", ".ndjson"):
        records = _jsonl_records(text.splitlines(), str(file))
    elif suffix == ".csv":
        records = _csv_records(text, str(file))
    else:
        raise InputError(f"{file}: unsupported prompt file type '{suffix}' (use .jsonl or .csv)")
    if not records:
        raise InputError(f"{file}: no prompts in the file")
    return _validate(records, strict=False, suite=file.stem, base_dir=file.parent)


@dataclass
class _Record:
    where: str  # "<file>:<line>" for messages
    values: dict[str, Any]


def _jsonl_records(lines: Sequence[str], source: str) -> list[_Record]:
    rows = jsonl_objects("\n".join(lines), lambda number: f"{source}:{number}")
    return [_Record(f"{source}:{number}", values) for number, values in rows]


def _csv_records(text: str, source: str) -> list[_Record]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = reader.fieldnames or []
    for name in header:
        if name is None or name.strip() not in FIELDS:
            raise InputError(
                f"{source}:1: field '{name}': unknown column (columns: {', '.join(FIELDS)})"
            )
    records = []
    line_end = 1
    for row in reader:
        start, line_end = line_end + 1, reader.line_num
        where = f"{source}:{start}"
        if None in row:
            raise InputError(f"{where}: more values than the header has columns")
        values = {
            key.strip(): value for key, value in row.items() if value is not None and value != ""
        }
        if values:
            records.append(_Record(where, values))
    return records


def _validate(
    records: list[_Record], *, strict: bool, suite: str, base_dir: Path | None
) -> list[SuitePrompt]:
    prompts: list[SuitePrompt] = []
    first_seen: dict[str, str] = {}
    for record in records:
        prompt = _parse_record(record, strict=strict, suite=suite, base_dir=base_dir)
        if prompt.id in first_seen:
            raise InputError(
                f"{record.where}: field 'id': duplicate id '{prompt.id}' "
                f"(first used at {first_seen[prompt.id]})"
            )
        first_seen[prompt.id] = record.where
        prompts.append(prompt)
    return prompts


def _parse_record(
    record: _Record, *, strict: bool, suite: str, base_dir: Path | None
) -> SuitePrompt:
    where, values = record.where, record.values

    def fail(name: str, problem: str) -> InputError:
        return InputError(f"{where}: field '{name}': {problem}")

    for name in values:
        if name not in FIELDS:
            raise fail(name, f"unknown field (fields: {', '.join(FIELDS)})")
    required = FIELDS if strict else ("text", "category")
    for name in required:
        if name not in values:
            raise fail(name, "missing")

    text = values["text"]
    if not isinstance(text, str) or not text.strip():
        raise fail("text", "must be a non-empty string")
    text = text.strip()

    category = values["category"]
    if not isinstance(category, str) or category.strip().lower() not in CATEGORIES:
        raise fail("category", f"must be 't2v' or 'i2v', got {category!r}")
    category = category.strip().lower()

    tags = _parse_tags(values.get("tags", ()), fail)
    audio = _parse_bool(values["audio"], fail) if "audio" in values else "silent" not in tags
    if audio and "silent" in tags:
        raise fail("audio", "is true but the prompt is tagged 'silent'")
    if not audio and "dialogue" in tags:
        raise fail("audio", "is false but the prompt is tagged 'dialogue'")

    image = values.get("image") or None
    if image is not None and (not isinstance(image, str) or not image.strip()):
        raise fail("image", f"must be a file path or {SKIMAGE_PREFIX}<name>, got {image!r}")
    image = image.strip() if image is not None else None
    if category == "i2v" and image is None:
        raise fail("image", "i2v prompts need an input image")
    if category == "t2v" and image is not None:
        raise fail("image", "t2v prompts take no image (use category 'i2v')")
    if image is not None:
        image = _check_image_ref(image, base_dir, fail)

    seed = _parse_seed(values.get("seed", 0), fail)

    prompt_id = values.get("id")
    if prompt_id is None:
        prompt_id = f"{category}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"
    if not isinstance(prompt_id, str) or not _ID_PATTERN.match(prompt_id):
        raise fail("id", f"must be a short slug of letters, digits and . _ : -, got {prompt_id!r}")

    suite_name = values.get("suite", suite)
    if not isinstance(suite_name, str) or not suite_name.strip():
        raise fail("suite", "must be a non-empty string")
    if strict and suite_name != suite:
        raise fail("suite", f"expected '{suite}', got {suite_name!r}")

    return SuitePrompt(
        id=prompt_id,
        text=text,
        category=category,
        audio=audio,
        tags=tags,
        image=image,
        seed=seed,
        suite=suite_name.strip(),
    )


def _parse_tags(raw: Any, fail: Callable[[str, str], InputError]) -> tuple[str, ...]:
    if isinstance(raw, str):
        items: list[Any] = re.split(r"[;|]", raw)
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise fail("tags", f"must be a list of strings, got {type(raw).__name__}")
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise fail("tags", f"must be a list of strings, got {item!r}")
        tag = item.strip().lower()
        if not tag:
            if isinstance(raw, str):
                continue
            raise fail("tags", "contains an empty tag")
        if any(ch.isspace() for ch in tag):
            raise fail("tags", f"tag {tag!r} contains whitespace")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _parse_bool(raw: Any, fail: Callable[[str, str], InputError]) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise fail("audio", f"must be true or false, got {raw!r}")


def _parse_seed(raw: Any, fail: Callable[[str, str], InputError]) -> int:
    if isinstance(raw, str) and re.fullmatch(r"\s*\d+\s*", raw):
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < 2**63:
        raise fail("seed", f"must be a non-negative integer, got {raw!r}")
    return raw


def _check_image_ref(
    image: str, base_dir: Path | None, fail: Callable[[str, str], InputError]
) -> str:
    if image.startswith(SKIMAGE_PREFIX):
        name = image.removeprefix(SKIMAGE_PREFIX)
        if name not in SKIMAGE_IMAGES:
            raise fail("image", unknown_skimage_message(image))
        return image
    path = Path(image).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise fail("image", f"file '{image}' not found")
    return str(path)
