"""`paddock clips import`: ready clips from a folder (MODEL/PROMPT_ID.mp4) or a manifest."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from arena.io.clip_staging import check_clip, commit_staged, discard_staged, stage_clip
from arena.io.textfiles import decode_utf8, jsonl_objects
from arena.store import Prompt, Store
from generators.errors import InputError, PaddockError

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv")


@dataclass(frozen=True)
class ImportItem:
    source: str  # where the item was named: a path, or manifest line
    model: str
    prompt: str  # a prompt id, or a prompt's text
    path: Path
    seed: int = 0


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[str] = field(default_factory=list)


def items_from_folder(folder: Path) -> list[ImportItem]:
    items = []
    for model_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(model_dir.iterdir()):
            if path.is_file():
                items.append(ImportItem(str(path), model_dir.name, path.stem, path))
    if not items:
        raise InputError(f"{folder}: no clips found (expected MODEL/PROMPT_ID.mp4)")
    return items


def items_from_manifest(manifest: Path) -> list[ImportItem]:
    """Rows with model, prompt_id or prompt (text), path and optional seed; paths relative to it."""
    text = decode_utf8(manifest.read_bytes(), str(manifest))
    rows: list[tuple[int, dict]] = []
    if manifest.suffix.lower() == ".csv":
        # newline="" lets the csv module see bare carriage returns as the line breaks they are.
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            rows = [(i + 2, dict(r)) for i, r in enumerate(reader)]
        except csv.Error as exc:
            raise InputError(f"{manifest}, line {reader.line_num}: malformed CSV ({exc})") from exc
    elif manifest.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = jsonl_objects(text, lambda number: f"{manifest}, line {number}")
    else:
        raise InputError(f"{manifest}: a manifest must be .csv or .jsonl")
    items = []
    for number, row in rows:
        where = f"{manifest}, line {number}"
        model = str(row.get("model") or "").strip()
        prompt = str(row.get("prompt_id") or row.get("prompt") or "").strip()
        raw_path = str(row.get("path") or "").strip()
        for name, value in (("model", model), ("prompt_id or prompt", prompt), ("path", raw_path)):
            if not value:
                raise InputError(f"{where}: column {name} is missing or empty")
        try:
            seed = int(row.get("seed") or 0)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}, column seed: not an integer") from exc
        path = Path(raw_path)
        if not path.is_absolute():
            path = manifest.parent / path
        items.append(ImportItem(where, model, prompt, path, seed))
    if not items:
        raise InputError(f"{manifest}: the manifest lists no clips")
    return items


def _resolve_prompt(store: Store, ref: str) -> Prompt:
    try:
        return store.prompt(ref)
    except InputError:
        found = store.find_prompt_by_text(ref)
        if found is None:
            raise InputError(f"unknown prompt {ref!r}") from None
        return found


def import_clips(store: Store, source: Path, keep_going: bool = False) -> ImportReport:
    """Check every clip, then record all of them in one transaction.

    Each bad item is reported by name; unless keep_going, one bad item imports nothing.
    """
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    items = items_from_folder(source) if source.is_dir() else items_from_manifest(source)
    report = ImportReport()
    checked = []
    for item in items:
        try:
            if item.path.suffix.lower() not in VIDEO_SUFFIXES:
                raise InputError(
                    f"{item.path.name} is not a video file ({', '.join(VIDEO_SUFFIXES)})"
                )
            model = store.model_by_name(item.model)
            prompt = _resolve_prompt(store, item.prompt)
            if store.has_clip(model.id, prompt.id, item.seed):
                raise InputError(f"model {model.name!r} already has a clip for {prompt.id!r}")
            info = check_clip(item.path, prompt)
            checked.append((item, model, prompt, info))
        except PaddockError as exc:
            report.errors.append(f"{item.source}: {exc}")
    if report.errors and not keep_going:
        return report
    staged = []
    try:
        for item, model, prompt, info in checked:
            staged.append(stage_clip(store, item.path, model.id, prompt, item.seed, info, None))
    except BaseException:
        discard_staged(staged)
        raise
    commit_staged(store, staged)
    report.imported = len(staged)
    return report
