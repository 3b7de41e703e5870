"""Where a hosted model's clip came from (request id, reported cost, rounding), kept per clip.

One JSON file per clip under <data dir>/provenance/, named by the clip's opaque id. It is never
served to raters (only clips go through the media route), and it stays out of the database until
a migration gives clips a column for it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from arena.store import Store


def provenance_path(store: Store, clip_id: str) -> Path:
    return store.data_dir / "provenance" / f"{clip_id}.json"


def save_provenance(store: Store, clip_id: str, record: dict) -> None:
    """Write the record beside the store, whole or not at all (temporary file, then rename)."""
    path = provenance_path(store, clip_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_text(json.dumps(record, sort_keys=True, default=str), encoding="utf-8")
    os.replace(part, path)


def load_provenance(store: Store, clip_id: str) -> dict:
    """The clip's record; empty for a clip that no remote API made."""
    try:
        return json.loads(provenance_path(store, clip_id).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
