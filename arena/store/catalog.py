"""Queries on what the arena holds: models, prompts and clips."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.store.db import now
from generators.errors import InputError
from generators.registry import model_kinds

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import pandas as pd

MODEL_KINDS = model_kinds()


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    display_name: str
    kind: str
    generator: str | None
    parent: str | None
    active: bool
    created_at: datetime
    # The family the model's variants share (None: its own, or its parent's for a checkpoint) and
    # when it was last added or changed: what provisional ratings count votes from.
    family: str | None = None
    changed_at: datetime | None = None


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    category: str
    image: str | None
    audio: bool
    suite: str | None
    tags: tuple[str, ...]
    seed: int


@dataclass(frozen=True)
class Clip:
    id: str
    model_id: str
    prompt_id: str
    seed: int
    path: str
    sha256: str
    duration: float | None
    fps: float | None
    width: int | None
    height: int | None
    has_audio: bool
    generation_s: float | None
    # What the generator said of the clip (pony's plan, a provider's request id and cost); read
    # with `clip_params`, not loaded with every clip.
    params: dict | None = None
    # Seconds the provider kept the request queued, where it says; the clip's price in US dollars
    # and where that figure came from (see arena/store/db.py, migration 7). None: not known.
    queue_s: float | None = None
    price_usd: float | None = None
    price_source: str | None = None


@dataclass(frozen=True)
class ClipRow:
    """A clip as the metric runner needs it: where it is and what it should be compared with."""

    id: str
    path: str
    sha256: str
    model: str
    prompt_id: str
    prompt_text: str
    image: str | None


class CatalogQueries:
    """Queries on what the arena holds: models, prompts and clips. Mixed into `Store`."""

    _MODEL_COLS = (
        "id, name, display_name, kind, generator, parent, active, created_at, family, changed_at"
    )

    _PROMPT_COLS = "id, text, category, image, audio, suite, tags, seed"

    _CLIP_COLS = (
        "id, model_id, prompt_id, seed, path, sha256, duration, fps, width, height, has_audio, "
        "generation_s, NULL AS params, queue_s, price_usd, price_source"
    )

    def add_model(
        self,
        name: str,
        kind: str,
        generator: str | None = None,
        parent: str | None = None,
        display_name: str | None = None,
        params: dict | None = None,
        exist_ok: bool = False,
    ) -> Model:
        if not name or not name.strip():
            raise InputError("a model needs a non-empty name")
        if kind not in MODEL_KINDS:
            raise InputError(
                f"unknown model kind {kind!r}: expected one of {', '.join(MODEL_KINDS)}"
            )
        existing = self.find_model(name)
        if existing is not None:
            if exist_ok:
                return existing
            raise InputError(f"a model named {name!r} already exists")
        parent_id = None
        if parent is not None:
            parent_id = self.model_by_name(parent).id
        model_id = self.make_id(8)
        stamp = now()
        with self.transaction() as con:
            con.execute(
                "INSERT INTO models (id, name, display_name, kind, generator, parent, params, "
                "created_at, active, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?)",
                [
                    model_id,
                    name,
                    display_name or name,
                    kind,
                    generator,
                    parent_id,
                    json.dumps(params or {}),
                    stamp,
                    stamp,
                ],
            )
        self.epoch += 1
        return self.model_by_name(name)

    def _model(self, row: tuple) -> Model:
        return Model(*row)

    def find_model(self, name: str) -> Model | None:
        rows = self._query(f"SELECT {self._MODEL_COLS} FROM models WHERE name = ?", [name])
        return self._model(rows[0]) if rows else None

    def model_by_name(self, name: str) -> Model:
        model = self.find_model(name)
        if model is None:
            known = ", ".join(m.name for m in self.models()) or "none registered"
            raise InputError(f"unknown model {name!r} (known: {known})")
        return model

    def model_by_id(self, model_id: str) -> Model:
        rows = self._query(f"SELECT {self._MODEL_COLS} FROM models WHERE id = ?", [model_id])
        if not rows:
            raise InputError(f"unknown model id {model_id!r}")
        return self._model(rows[0])

    def models(self, active_only: bool = False) -> list[Model]:
        where = "WHERE active" if active_only else ""
        rows = self._query(
            f"SELECT {self._MODEL_COLS} FROM models {where} ORDER BY created_at, name"
        )
        return [self._model(r) for r in rows]

    def upsert_prompts(self, prompts: Iterable[Any]) -> int:
        """Insert prompts (objects with id, text, category, image, audio, suite, tags, seed)."""
        rows = [
            [
                p.id,
                p.text,
                p.category,
                p.image,
                bool(p.audio),
                getattr(p, "suite", None),
                list(p.tags),
                int(getattr(p, "seed", 0)),
                now(),
            ]
            for p in prompts
        ]
        for p in rows:
            if p[2] not in ("t2v", "i2v"):
                raise InputError(f"prompt {p[0]!r}: category must be t2v or i2v, not {p[2]!r}")
        with self.transaction() as con:
            for row in rows:
                con.execute(
                    """INSERT INTO prompts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET text = excluded.text, category = excluded.category,
                    image = excluded.image, audio = excluded.audio, suite = excluded.suite,
                    tags = excluded.tags, seed = excluded.seed""",
                    row,
                )
        self._prompt_cache.clear()
        return len(rows)

    def _prompt(self, row: tuple) -> Prompt:
        return Prompt(*row[:6], tuple(row[6] or ()), row[7])

    def prompts(self, suite: str | None = None, category: str | None = None) -> list[Prompt]:
        sql = f"SELECT {self._PROMPT_COLS} FROM prompts WHERE 1=1"
        params: list[Any] = []
        if suite:
            sql += " AND suite = ?"
            params.append(suite)
        if category:
            sql += " AND category = ?"
            params.append(category)
        return [self._prompt(r) for r in self._query(sql + " ORDER BY id", params)]

    def prompt(self, prompt_id: str) -> Prompt:
        # Prompts change only through upsert_prompts: every battle reads one, so keep them.
        cached = self._prompt_cache.get(prompt_id)
        if cached is not None:
            return cached
        rows = self._query(f"SELECT {self._PROMPT_COLS} FROM prompts WHERE id = ?", [prompt_id])
        if not rows:
            raise InputError(f"unknown prompt {prompt_id!r}")
        prompt = self._prompt(rows[0])
        self._prompt_cache[prompt_id] = prompt
        return prompt

    def find_prompt_by_text(self, text: str) -> Prompt | None:
        rows = self._query(f"SELECT {self._PROMPT_COLS} FROM prompts WHERE text = ?", [text])
        return self._prompt(rows[0]) if rows else None

    def clip_path(self, clip_id: str) -> Path:
        return self.clips_dir / f"{clip_id}.mp4"

    def add_clips(self, clips: Sequence[Clip]) -> None:
        """Record clips whose files are already in place, all or none."""
        with self.transaction() as con:
            for c in clips:
                con.execute(
                    "INSERT INTO clips (id, model_id, prompt_id, seed, path, sha256, duration, fps, width, height, has_audio, generation_s, created_at, params, queue_s, price_usd, price_source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        c.id,
                        c.model_id,
                        c.prompt_id,
                        c.seed,
                        c.path,
                        c.sha256,
                        c.duration,
                        c.fps,
                        c.width,
                        c.height,
                        c.has_audio,
                        c.generation_s,
                        now(),
                        json.dumps(c.params, sort_keys=True, default=str) if c.params else None,
                        c.queue_s,
                        c.price_usd,
                        c.price_source,
                    ],
                )
        self.epoch += 1

    def clip_params(self, clip_id: str) -> dict:
        """What the generator said of a clip (empty when it said nothing)."""
        rows = self._query("SELECT params FROM clips WHERE id = ?", [clip_id])
        if not rows:
            raise InputError(f"unknown clip {clip_id!r}")
        return json.loads(rows[0][0]) if rows[0][0] else {}

    def clip(self, clip_id: str) -> Clip:
        rows = self._query(f"SELECT {self._CLIP_COLS} FROM clips WHERE id = ?", [clip_id])
        if not rows:
            raise InputError(f"unknown clip {clip_id!r}")
        return Clip(*rows[0])

    def clips(self, model: str | None = None) -> list[Clip]:
        if model is None:
            rows = self._query(f"SELECT {self._CLIP_COLS} FROM clips ORDER BY created_at")
        else:
            model_id = self.model_by_name(model).id
            rows = self._query(
                f"SELECT {self._CLIP_COLS} FROM clips WHERE model_id = ? ORDER BY created_at",
                [model_id],
            )
        return [Clip(*r) for r in rows]

    def has_clip(self, model_id: str, prompt_id: str, seed: int) -> bool:
        rows = self._query(
            "SELECT 1 FROM clips WHERE model_id = ? AND prompt_id = ? AND seed = ?",
            [model_id, prompt_id, seed],
        )
        return bool(rows)

    def _image_path(self, image: str | None) -> str | None:
        if not image:
            return None
        if ":" in image.split("/", 1)[0]:
            return image  # a reference such as skimage:astronaut, resolved by its reader
        path = Path(image)
        return str(path if path.is_absolute() else self.data_dir / path)

    def clips_frame(self) -> pd.DataFrame:
        """Every clip with its model's name: clip_id, model, prompt_id, seed, path, sha256,
        duration, fps, width, height, has_audio, generation_s, created_at, queue_s, price_usd,
        price_source."""
        return self._frame(
            """SELECT c.id AS clip_id, m.name AS model, c.prompt_id, c.seed, c.path, c.sha256,
                      c.duration, c.fps, c.width, c.height, c.has_audio, c.generation_s,
                      c.created_at, c.queue_s, c.price_usd, c.price_source
               FROM clips c JOIN models m ON m.id = c.model_id ORDER BY c.created_at, c.id"""
        )

    def prompts_frame(self) -> pd.DataFrame:
        """Every prompt: prompt_id, text, category, image, audio, suite, tags, seed."""
        return self._frame(
            """SELECT id AS prompt_id, text, category, image, audio, suite, tags, seed
               FROM prompts ORDER BY id"""
        )

    def models_frame(self) -> pd.DataFrame:
        """Every model: model, display_name, kind, generator, parent (name), active, created_at."""
        return self._frame(
            """SELECT m.name AS model, m.display_name, m.kind, m.generator, p.name AS parent,
                      m.active, m.created_at
               FROM models m LEFT JOIN models p ON p.id = m.parent ORDER BY m.name"""
        )

    def add_models(self, rows: Sequence[dict[str, Any]]) -> list[Model]:
        """Register several models in one transaction: all of them or none.

        Each row has name, kind, generator and optionally parent (a registered model or one
        earlier in rows), display_name and params.
        """
        ids: dict[str, str] = {}
        for row in rows:
            if row["kind"] not in MODEL_KINDS:
                raise InputError(f"unknown model kind {row['kind']!r} for {row['name']!r}")
            if self.find_model(row["name"]) is not None:
                raise InputError(f"a model named {row['name']!r} already exists")
            parent = row.get("parent")
            if parent and parent not in ids:
                ids[parent] = self.model_by_name(parent).id
            ids[row["name"]] = self.make_id(8)
        stamp = now()
        with self.transaction() as con:
            for row in rows:
                parent = row.get("parent")
                con.execute(
                    "INSERT INTO models (id, name, display_name, kind, generator, parent, params, "
                    "created_at, active, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?)",
                    [
                        ids[row["name"]],
                        row["name"],
                        row.get("display_name") or row["name"],
                        row["kind"],
                        row.get("generator"),
                        ids[parent] if parent else None,
                        json.dumps(row.get("params") or {}),
                        stamp,
                        stamp,
                    ],
                )
        self.epoch += 1
        return [self.model_by_name(row["name"]) for row in rows]
