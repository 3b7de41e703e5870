"""The DuckDB store: the one module that writes SQL, and the owner of the data dir's database file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from arena.store.renditions import RENDITION_TABLES, RenditionQueries
from generators.errors import InputError, PaddockError

DB_NAME = "paddock.duckdb"
SERVER_FILE = "server.json"
SCHEMA_VERSION = 3

OUTCOMES = ("left", "right", "tie", "both_bad")
# Chatbot Arena's winner labels, in the order of OUTCOMES (model_a is the model shown on the left).
WINNER_LABELS = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
OUTCOME_OF_WINNER = {label: outcome for outcome, label in WINNER_LABELS.items()}
MODEL_KINDS = ("builtin", "baseline", "diffusers", "http", "imported", "checkpoint")


class StoreBusyError(PaddockError):
    """Another process owns the data dir's database."""


class VoteRefused(PaddockError):
    """A vote that cannot be counted: forged, replayed, expired or foreign token, bad outcome."""


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_id(nbytes: int = 16) -> str:
    """An opaque random id: says nothing about what it names."""
    return secrets.token_hex(nbytes)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Each migration takes the schema from version N-1 to N; a file newer than the code is refused.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE models (
            id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, display_name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL, generator VARCHAR, parent VARCHAR, params VARCHAR,
            created_at TIMESTAMP NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE)""",
        """CREATE TABLE prompts (
            id VARCHAR PRIMARY KEY, text VARCHAR NOT NULL, category VARCHAR NOT NULL,
            image VARCHAR, audio BOOLEAN NOT NULL, suite VARCHAR, tags VARCHAR[],
            seed INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE clips (
            id VARCHAR PRIMARY KEY, model_id VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL,
            seed INTEGER NOT NULL, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
            duration DOUBLE, fps DOUBLE, width INTEGER, height INTEGER, has_audio BOOLEAN NOT NULL,
            generation_s DOUBLE, created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE raters (
            id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, flags VARCHAR[],
            banned BOOLEAN NOT NULL DEFAULT FALSE, gold_seen INTEGER NOT NULL DEFAULT 0,
            gold_correct INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE battles (
            id VARCHAR PRIMARY KEY, prompt_id VARCHAR NOT NULL, left_clip VARCHAR NOT NULL,
            right_clip VARCHAR NOT NULL, rater_id VARCHAR NOT NULL, served_at TIMESTAMP NOT NULL,
            sampling_prob DOUBLE NOT NULL, token_hash VARCHAR NOT NULL,
            expires_at TIMESTAMP NOT NULL, left_media VARCHAR NOT NULL UNIQUE,
            right_media VARCHAR NOT NULL UNIQUE, kind VARCHAR NOT NULL DEFAULT 'normal',
            left_model VARCHAR NOT NULL, right_model VARCHAR NOT NULL)""",
        """CREATE TABLE votes (
            battle_id VARCHAR PRIMARY KEY, rater_id VARCHAR NOT NULL, outcome VARCHAR NOT NULL,
            aspect VARCHAR NOT NULL DEFAULT 'overall', voted_at TIMESTAMP NOT NULL,
            time_to_vote_s DOUBLE, played_left DOUBLE, played_right DOUBLE,
            source VARCHAR NOT NULL DEFAULT 'arena', prompt_id VARCHAR NOT NULL,
            left_model VARCHAR NOT NULL, right_model VARCHAR NOT NULL,
            sampling_prob DOUBLE NOT NULL)""",
        """CREATE TABLE metric_results (
            clip_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, version VARCHAR NOT NULL,
            status VARCHAR NOT NULL, "values" VARCHAR, units VARCHAR, reason VARCHAR,
            backend VARCHAR, weights_sha256 VARCHAR, params VARCHAR, clip_sha256 VARCHAR,
            computed_at TIMESTAMP NOT NULL, PRIMARY KEY (clip_id, metric, version))""",
        "CREATE INDEX battles_rater ON battles(rater_id)",
    ],
    # Issue 8: a vote can be accepted but flagged (e.g. cast faster than the clips could be
    # watched); flagged votes stay out of the leaderboard by default.
    2: ["ALTER TABLE votes ADD COLUMN flags VARCHAR[] DEFAULT []"],
    # Serving renditions per (clip, profile) and each battle's common cut (arena/store/renditions.py).
    3: RENDITION_TABLES,
}


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


@dataclass(frozen=True)
class Battle:
    id: str
    prompt_id: str
    left_clip: str
    right_clip: str
    rater_id: str
    served_at: datetime
    sampling_prob: float
    expires_at: datetime
    left_media: str
    right_media: str
    kind: str


@dataclass(frozen=True)
class NewBattle:
    """A battle just written, with the one-time token that only its rater receives."""

    battle: Battle
    token: str


@dataclass(frozen=True)
class Reveal:
    battle_id: str
    outcome: str
    left_model: str
    right_model: str
    left_clip: str
    right_clip: str
    kind: str = "normal"


@dataclass(frozen=True)
class VoteTiming:
    """When a vote arrives, by the server's clock and the database: what a judge of it may use."""

    rater_id: str
    served_at: datetime
    voted_at: datetime
    left_duration: float | None
    right_duration: float | None


def _check_outcome(outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise VoteRefused(
            f"unknown vote outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}"
        )
    return outcome


def read_server_info(data_dir: Path) -> dict | None:
    """The running server's pid and port, if a server wrote them and its process is alive."""
    path = Path(data_dir) / SERVER_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


class Store(RenditionQueries):
    """The data dir's database. One process owns the file; its threads share this object."""

    def __init__(self, data_dir: Path, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.data_dir = Path(data_dir)
        self.clips_dir = self.data_dir / "clips"
        self.read_only = read_only
        self._con = con
        # DuckDB connections are not safe to share between threads: every use goes through this lock.
        self._lock = threading.RLock()
        self._pending: list[_PendingWrite] = []  # one-row writes waiting for a group commit
        self._pending_lock = threading.Lock()
        # Bumped whenever models or clips change, so readers can cache what depends on them.
        self.epoch = 0
        self._known_raters: set[str] = set()  # raters already in the table (never deleted)
        self._prompt_cache: dict[str, Prompt] = {}
        # This process is the file's only writer, so what it wrote can be served from memory:
        # the vote path reads both caches on every battle or vote.
        self._metrics_cache: dict[str, list[dict]] = {}
        self._gold_seen_cache: dict[str, int] = {}

    # ---------------------------------------------------------------- opening and schema
    @classmethod
    def open(cls, data_dir: str | Path, read_only: bool = False, create: bool = True) -> Store:
        data_dir = Path(data_dir)
        db_path = data_dir / DB_NAME
        if not db_path.exists():
            if read_only or not create:
                raise InputError(
                    f"no Paddock data in {data_dir}: run `paddock init --data {data_dir}`"
                )
            data_dir.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(db_path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise InputError(f"cannot open {db_path}: {exc}") from exc
            info = read_server_info(data_dir)
            where = (
                f"the Paddock server on port {info.get('port')} (pid {info.get('pid')})"
                if info
                else "another process"
            )
            raise StoreBusyError(
                f"{db_path} is in use by {where}; stop it first, or use a read-only command"
            ) from exc
        store = cls(data_dir, con, read_only)
        store._migrate()
        if not read_only:
            store.clips_dir.mkdir(parents=True, exist_ok=True)
        return store

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        with self._lock:
            exists = self._con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
            ).fetchone()[0]
            if not exists:
                return 0
            row = self._con.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            return int(row[0]) if row else 0

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise InputError(
                f"{self.data_dir / DB_NAME} has schema version {current}, newer than this Paddock "
                f"({SCHEMA_VERSION}); upgrade Paddock rather than rewrite the file"
            )
        if current == SCHEMA_VERSION:
            return
        if self.read_only:
            raise InputError(
                f"{self.data_dir / DB_NAME} needs a schema migration ({current} -> {SCHEMA_VERSION}); "
                "open it once read-write (e.g. `paddock init`)"
            )
        with self.transaction() as con:
            con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    con.execute(statement)
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )
            con.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", [now().isoformat()])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: commit on success, roll back on any exception."""
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def _write_one(self, sql: str, params: Sequence[Any]) -> None:
        """One statement, committed when this returns; concurrent ones share a commit (see
        `_commit_pending`: the commit's fsync, not the statement, is what costs)."""
        write = _PendingWrite(sql, params)
        with self._pending_lock:
            self._pending.append(write)
        with self._lock:
            if not write.done:
                self._commit_pending()
        if write.error is not None:
            raise write.error

    def _query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, params or []).fetchall()

    def _frame(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        with self._lock:
            return self._con.execute(sql, params or []).df()

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    # ---------------------------------------------------------------- models
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
        model_id = new_id(8)
        with self.transaction() as con:
            con.execute(
                "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
                [
                    model_id,
                    name,
                    display_name or name,
                    kind,
                    generator,
                    parent_id,
                    json.dumps(params or {}),
                    now(),
                ],
            )
        self.epoch += 1
        return self.model_by_name(name)

    def _model(self, row: tuple) -> Model:
        return Model(*row)

    _MODEL_COLS = "id, name, display_name, kind, generator, parent, active, created_at"

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

    def set_model_active(self, name: str, active: bool) -> None:
        model = self.model_by_name(name)
        with self.transaction() as con:
            con.execute("UPDATE models SET active = ? WHERE id = ?", [active, model.id])
        self.epoch += 1

    # ---------------------------------------------------------------- prompts
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

    _PROMPT_COLS = "id, text, category, image, audio, suite, tags, seed"

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

    # ---------------------------------------------------------------- clips
    def clip_path(self, clip_id: str) -> Path:
        return self.clips_dir / f"{clip_id}.mp4"

    def add_clips(self, clips: Sequence[Clip]) -> None:
        """Record clips whose files are already in place, all or none."""
        with self.transaction() as con:
            for c in clips:
                con.execute(
                    "INSERT INTO clips VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    ],
                )
        self.epoch += 1

    _CLIP_COLS = (
        "id, model_id, prompt_id, seed, path, sha256, duration, fps, width, height, has_audio, "
        "generation_s"
    )

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

    def battle_candidates(self, category: str | None = None) -> pd.DataFrame:
        """Clips of active models: one row per clip with its prompt's pool, for the scheduler."""
        sql = """SELECT c.id AS clip_id, c.model_id, m.name AS model, c.prompt_id,
                    p.category, p.audio, c.has_audio
                 FROM clips c JOIN models m ON m.id = c.model_id JOIN prompts p ON p.id = c.prompt_id
                 WHERE m.active"""
        params: list[Any] = []
        if category:
            sql += " AND p.category = ?"
            params.append(category)
        return self._frame(sql + " ORDER BY c.id", params)

    # ---------------------------------------------------------------- raters
    def ensure_rater(self, rater_id: str) -> None:
        with self.transaction() as con:
            con.execute(
                "INSERT OR IGNORE INTO raters (id, created_at, flags) VALUES (?, ?, [])",
                [rater_id, now()],
            )

    def rater_flags(self, rater_id: str) -> tuple[tuple[str, ...], bool]:
        rows = self._query("SELECT flags, banned FROM raters WHERE id = ?", [rater_id])
        if not rows:
            return (), False
        return tuple(rows[0][0] or ()), bool(rows[0][1])

    def flag_rater(self, rater_id: str, flag: str) -> None:
        self.ensure_rater(rater_id)
        with self.transaction() as con:
            con.execute(
                "UPDATE raters SET flags = list_distinct(list_append(flags, ?)) WHERE id = ?",
                [flag, rater_id],
            )

    def ban_rater(self, rater_id: str, banned: bool = True) -> None:
        self.ensure_rater(rater_id)
        with self.transaction() as con:
            con.execute("UPDATE raters SET banned = ? WHERE id = ?", [banned, rater_id])

    # ---------------------------------------------------------------- battles and votes
    def create_battle(
        self,
        prompt_id: str,
        left_clip: str,
        right_clip: str,
        rater_id: str,
        sampling_prob: float,
        ttl: timedelta = timedelta(hours=2),
        kind: str = "normal",
    ) -> NewBattle:
        """Write the battle, with a one-time token, before its clips are shown."""
        if left_clip == right_clip:
            raise InputError("a battle needs two different clips")
        token = secrets.token_urlsafe(24)
        served = now()
        battle = Battle(
            id=new_id(12),
            prompt_id=prompt_id,
            left_clip=left_clip,
            right_clip=right_clip,
            rater_id=rater_id,
            served_at=served,
            sampling_prob=float(sampling_prob),
            expires_at=served + ttl,
            left_media=new_id(16),
            right_media=new_id(16),
            kind=kind,
        )
        if rater_id not in self._known_raters:
            self._write_one(
                "INSERT OR IGNORE INTO raters (id, created_at, flags) VALUES (?, ?, [])",
                [rater_id, served],
            )
        self._write_one(
            "INSERT INTO battles SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "(SELECT model_id FROM clips WHERE id = ?), (SELECT model_id FROM clips WHERE id = ?)",
            [
                battle.id,
                prompt_id,
                left_clip,
                right_clip,
                rater_id,
                served,
                battle.sampling_prob,
                token_digest(token),
                battle.expires_at,
                battle.left_media,
                battle.right_media,
                kind,
                left_clip,
                right_clip,
            ],
        )
        self._known_raters.add(rater_id)
        return NewBattle(battle, token)

    _BATTLE_COLS = (
        "id, prompt_id, left_clip, right_clip, rater_id, served_at, sampling_prob, expires_at, "
        "left_media, right_media, kind"
    )

    def battle(self, battle_id: str) -> Battle:
        rows = self._query(f"SELECT {self._BATTLE_COLS} FROM battles WHERE id = ?", [battle_id])
        if not rows:
            raise VoteRefused("unknown battle")
        return Battle(*rows[0])

    def media_clip(self, media_id: str) -> Path | None:
        """The clip file behind a battle's opaque media id, or None."""
        rows = self._query(
            """SELECT c.id FROM battles b JOIN clips c
               ON c.id = CASE WHEN b.left_media = ? THEN b.left_clip ELSE b.right_clip END
               WHERE b.left_media = ? OR b.right_media = ?""",
            [media_id, media_id, media_id],
        )
        return self.clip_path(rows[0][0]) if rows else None

    def cast_vote(
        self,
        battle_id: str,
        token: str,
        rater_id: str,
        outcome: str,
        time_to_vote_s: float | None = None,
        played_left: float | None = None,
        played_right: float | None = None,
        aspect: str = "overall",
        judge: Callable[[VoteTiming], Sequence[str]] | None = None,
    ) -> Reveal:
        """Consume the battle's token and record the vote; committed before this returns.

        `judge` (the abuse rules) sees the vote's timing once the token checks pass: it returns
        flags to store with the vote, or raises VoteRefused to refuse it (nothing is written).
        """
        _check_outcome(outcome)
        with self._lock:
            # One read answers every check and the reveal: the vote path is the hot path.
            rows = self._query(
                """SELECT b.token_hash, b.rater_id, b.expires_at, coalesce(r.banned, FALSE),
                          ml.name, mr.name, b.left_clip, b.right_clip, b.kind,
                          b.served_at, cl.duration, cr.duration
                   FROM battles b JOIN models ml ON ml.id = b.left_model
                   JOIN models mr ON mr.id = b.right_model
                   LEFT JOIN clips cl ON cl.id = b.left_clip
                   LEFT JOIN clips cr ON cr.id = b.right_clip
                   LEFT JOIN raters r ON r.id = b.rater_id WHERE b.id = ?""",
                [battle_id],
            )
            if not rows or not secrets.compare_digest(rows[0][0], token_digest(token or "")):
                raise VoteRefused("this battle token is not valid; load a new battle")
            (_, owner, expires_at, banned, left_model, right_model, left_clip, right_clip, kind) = (
                rows[0][:9]
            )
            served_at, left_duration, right_duration = rows[0][9:]
            if owner != rater_id:
                raise VoteRefused("this battle was served to another rater")
            voted_at = now()
            if voted_at > expires_at:
                raise VoteRefused("this battle has expired; load a new battle")
            if banned:
                raise VoteRefused("this rater is banned")
            flags: list[str] = []
            if judge is not None:
                timing = VoteTiming(rater_id, served_at, voted_at, left_duration, right_duration)
                flags = list(judge(timing))
        # Written after the lock is let go: votes arriving meanwhile share the next commit, and
        # the primary key still lets only one vote per battle through.
        try:
            # The vote carries its battle's pair and propensity so tallies need no join.
            self._write_one(
                "INSERT INTO votes SELECT ?, ?, ?, ?, ?, ?, ?, ?, 'arena', prompt_id, "
                "left_model, right_model, sampling_prob, ? FROM battles WHERE id = ?",
                [
                    battle_id,
                    rater_id,
                    outcome,
                    aspect,
                    voted_at,
                    time_to_vote_s,
                    played_left,
                    played_right,
                    flags,
                    battle_id,
                ],
            )
        except duckdb.ConstraintException as exc:
            raise VoteRefused("this battle has already been voted on") from exc
        return Reveal(battle_id, outcome, left_model, right_model, left_clip, right_clip, kind)

    def reveal(self, battle_id: str) -> Reveal:
        """Model names of a battle; only once it has a vote."""
        rows = self._query(
            """SELECT v.outcome, ml.name, mr.name, b.left_clip, b.right_clip, b.kind
               FROM battles b JOIN votes v ON v.battle_id = b.id
               JOIN models ml ON ml.id = b.left_model JOIN models mr ON mr.id = b.right_model
               WHERE b.id = ?""",
            [battle_id],
        )
        if not rows:
            raise VoteRefused("names are revealed only after a vote")
        return Reveal(battle_id, *rows[0])

    def voted_battle_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT battle_id FROM votes")}

    def vote_count(self) -> int:
        return self._query("SELECT count(*) FROM votes")[0][0]

    def rater_seen_pairs(self, rater_id: str) -> set[frozenset[str]]:
        rows = self._query(
            "SELECT left_clip, right_clip FROM battles WHERE rater_id = ?", [rater_id]
        )
        return {frozenset(r) for r in rows}

    def pair_vote_counts(self) -> pd.DataFrame:
        """Votes per unordered model pair (model ids), for the scheduler."""
        return self._frame(
            """SELECT least(left_model, right_model) AS m1,
                      greatest(left_model, right_model) AS m2, count(*) AS n
               FROM votes GROUP BY ALL"""
        )

    # ---------------------------------------------------------------- vote tables
    def _vote_filter(
        self,
        category: str | None,
        audio: bool | None,
        tags: Sequence[str] | None,
        since: datetime | None,
        until: datetime | None,
        exclude_flagged: bool,
        models: Sequence[str] | None,
    ) -> tuple[str, list[Any]]:
        where = ["TRUE"]
        params: list[Any] = []
        if category:
            where.append("p.category = ?")
            params.append(category)
        if audio is not None:
            where.append("p.audio = ?")
            params.append(audio)
        for tag in tags or ():
            where.append("list_contains(p.tags, ?)")
            params.append(tag)
        if since:
            where.append("v.voted_at >= ?")
            params.append(since)
        if until:
            where.append("v.voted_at < ?")
            params.append(until)
        if (
            exclude_flagged
            and self._query("SELECT count(*) FROM raters WHERE banned OR len(flags) > 0")[0][0]
        ):
            where.append(
                "NOT EXISTS (SELECT 1 FROM raters r WHERE r.id = v.rater_id "
                "AND (r.banned OR len(r.flags) > 0))"
            )
        if exclude_flagged:
            # Votes flagged on arrival (e.g. too fast), whoever cast them.
            where.append("coalesce(len(v.flags), 0) = 0")
        if models:
            where.append("ml.name IN ? AND mr.name IN ?")
            params += [list(models), list(models)]
        return " AND ".join(where), params

    _VOTE_JOINS = """FROM votes v JOIN prompts p ON p.id = v.prompt_id
        JOIN models ml ON ml.id = v.left_model JOIN models mr ON mr.id = v.right_model"""

    def _winner_sql(self, outcome: str = "v.outcome") -> str:
        cases = " ".join(f"WHEN '{o}' THEN '{w}'" for o, w in WINNER_LABELS.items())
        return f"CASE {outcome} {cases} END"

    def vote_counts(
        self,
        category: str | None = None,
        audio: bool | None = None,
        tags: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        exclude_flagged: bool = True,
        models: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """One GROUP BY over the votes: model_a (left), model_b, winner, count, ipw, ipw2."""
        where, params = self._vote_filter(
            category, audio, tags, since, until, exclude_flagged, models
        )
        joins = "FROM votes v"
        if category or audio is not None or tags:
            joins += " JOIN prompts p ON p.id = v.prompt_id"
        if models:
            joins += (
                " JOIN models ml ON ml.id = v.left_model JOIN models mr ON mr.id = v.right_model"
            )
        # Group by model ids first and name them after: the aggregation is the only pass over votes.
        return self._frame(
            f"""WITH g AS (
                  SELECT v.left_model AS a, v.right_model AS bm, v.outcome, count(*) AS count,
                         sum(1.0 / v.sampling_prob) AS ipw,
                         sum(1.0 / (v.sampling_prob * v.sampling_prob)) AS ipw2
                  {joins} WHERE {where} GROUP BY ALL)
                SELECT ml.name AS model_a, mr.name AS model_b,
                       {self._winner_sql("g.outcome")} AS winner,
                       g.count, g.ipw, g.ipw2
                FROM g JOIN models ml ON ml.id = g.a JOIN models mr ON mr.id = g.bm
                ORDER BY ALL""",
            params,
        )

    def battles_frame(
        self,
        category: str | None = None,
        audio: bool | None = None,
        tags: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        exclude_flagged: bool = False,
        models: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Every vote as a Chatbot Arena battle row (model_a is the model shown on the left)."""
        where, params = self._vote_filter(
            category, audio, tags, since, until, exclude_flagged, models
        )
        return self._frame(
            f"""SELECT ml.name AS model_a, mr.name AS model_b, {self._winner_sql()} AS winner,
                       v.prompt_id, p.text AS prompt, p.category, b.left_clip AS clip_a,
                       b.right_clip AS clip_b, v.rater_id AS rater,
                       epoch(v.voted_at) AS tstamp, v.sampling_prob, v.aspect,
                       v.time_to_vote_s, v.source
                {self._VOTE_JOINS} JOIN battles b ON b.id = v.battle_id
                WHERE {where} ORDER BY v.voted_at, b.id""",
            params,
        )

    def import_battles(self, df: pd.DataFrame, source: str = "import") -> int:
        """Bulk insert Chatbot Arena battle rows (validated by the caller), one transaction.

        Each row becomes a battle and its vote. Models and prompts named by the rows must exist;
        clips that are not in the store are recorded as placeholders without files.
        """
        if df.empty:
            return 0
        frame = df.copy()
        frame["outcome"] = frame["winner"].map(OUTCOME_OF_WINNER)
        n = len(frame)
        for col, default in (
            ("prompt_id", None),
            ("clip_a", None),
            ("clip_b", None),
            ("rater", "imported"),
            ("tstamp", None),
            ("sampling_prob", 1.0),
        ):
            if col not in frame.columns:
                frame[col] = default
        frame["battle_id"] = [new_id(12) for _ in range(n)]
        with self.transaction() as con:
            con.register("incoming", frame)
            try:
                con.execute(
                    """CREATE TEMP TABLE inc AS SELECT i.*, ma.id AS ma_id, mb.id AS mb_id,
                         coalesce(i.prompt_id, '_imported') AS pid,
                         coalesce(CAST(i.clip_a AS VARCHAR),
                                  'imp_' || md5(i.model_a || '|' || coalesce(i.prompt_id, ''))) AS ca,
                         coalesce(CAST(i.clip_b AS VARCHAR),
                                  'imp_' || md5(i.model_b || '|' || coalesce(i.prompt_id, ''))) AS cb,
                         coalesce(to_timestamp(CAST(i.tstamp AS DOUBLE))::TIMESTAMP,
                                  now()::TIMESTAMP) AS ts
                       FROM incoming i
                       LEFT JOIN models ma ON ma.name = i.model_a
                       LEFT JOIN models mb ON mb.name = i.model_b"""
                )
                missing = con.execute(
                    "SELECT DISTINCT model_a FROM inc WHERE ma_id IS NULL UNION "
                    "SELECT DISTINCT model_b FROM inc WHERE mb_id IS NULL"
                ).fetchall()
                if missing:
                    raise InputError(
                        "unknown model(s) in votes: "
                        + ", ".join(sorted(str(m[0]) for m in missing))
                    )
                con.execute(
                    """INSERT INTO prompts SELECT '_imported', 'imported votes without a prompt',
                         't2v', NULL, TRUE, NULL, [], 0, now()::TIMESTAMP
                       WHERE EXISTS (SELECT 1 FROM inc WHERE prompt_id IS NULL)
                       ON CONFLICT DO NOTHING"""
                )
                con.execute(
                    """INSERT INTO clips SELECT id, any_value(m), any_value(p), 0, '', '', NULL,
                         NULL, NULL, NULL, FALSE, NULL, min(ts) FROM (
                         SELECT ca AS id, ma_id AS m, pid AS p, ts FROM inc UNION ALL
                         SELECT cb, mb_id, pid, ts FROM inc)
                       WHERE id NOT IN (SELECT id FROM clips) GROUP BY id"""
                )
                con.execute(
                    """INSERT INTO raters SELECT DISTINCT CAST(rater AS VARCHAR),
                         now()::TIMESTAMP, [], FALSE, 0, 0 FROM inc ON CONFLICT DO NOTHING"""
                )
                con.execute(
                    """INSERT INTO battles SELECT battle_id, pid, ca, cb, CAST(rater AS VARCHAR), ts,
                         sampling_prob, '', ts, 'imp_' || battle_id || '_l',
                         'imp_' || battle_id || '_r', 'imported', ma_id, mb_id FROM inc"""
                )
                con.execute(
                    f"""INSERT INTO votes SELECT battle_id, CAST(rater AS VARCHAR), outcome,
                          'overall', ts, NULL, NULL, NULL, '{source}', pid, ma_id, mb_id,
                          sampling_prob, [] FROM inc"""
                )
                con.execute("DROP TABLE IF EXISTS inc")
            except duckdb.Error as exc:
                # A value the caller's checks let through: the whole import is rolled back
                # (the temporary table with it) and the user gets one line, not a traceback.
                raise InputError(f"votes not imported: {_first_line(exc)}") from exc
            finally:
                con.unregister("incoming")
        return n

    # ---------------------------------------------------------------- metrics
    def clips_needing_metric(self, metric: str, version: str) -> list[ClipRow]:
        rows = self._query(
            """SELECT c.id, c.path, c.sha256, m.name, p.id, p.text, p.image
               FROM clips c JOIN models m ON m.id = c.model_id JOIN prompts p ON p.id = c.prompt_id
               WHERE c.path <> '' AND NOT EXISTS (
                 SELECT 1 FROM metric_results r WHERE r.clip_id = c.id AND r.metric = ?
                 AND r.version = ? AND r.clip_sha256 = c.sha256)
               ORDER BY c.created_at""",
            [metric, version],
        )
        return [
            ClipRow(r[0], str(self.data_dir / r[1]), r[2], r[3], r[4], r[5], self._image_path(r[6]))
            for r in rows
        ]

    def _image_path(self, image: str | None) -> str | None:
        if not image:
            return None
        if ":" in image.split("/", 1)[0]:
            return image  # a reference such as skimage:astronaut, resolved by its reader
        path = Path(image)
        return str(path if path.is_absolute() else self.data_dir / path)

    def record_metric_results(self, clip_id: str, results: Sequence[Any]) -> None:
        """Store MetricResult objects for a clip (replacing results of the same version)."""
        sha = self.clip(clip_id).sha256
        with self.transaction() as con:
            self._metrics_cache.pop(clip_id, None)  # under the lock a reader holds to fill it
            for r in results:
                con.execute(
                    "INSERT OR REPLACE INTO metric_results VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        clip_id,
                        r.metric,
                        r.version,
                        r.status,
                        json.dumps(r.values, default=str),
                        json.dumps(r.units),
                        r.reason,
                        r.backend,
                        r.weights_sha256,
                        json.dumps(r.params, default=str),
                        sha,
                        now(),
                    ],
                )

    def metric_table(self) -> pd.DataFrame:
        """Numeric metric values, one row per value: clip_id, model, prompt_id, category, seed,
        metric, version, key, value."""
        frame = self._frame(
            """SELECT r.clip_id, m.name AS model, c.prompt_id, p.category, c.seed, r.metric,
                      r.version, r."values" AS payload
               FROM metric_results r JOIN clips c ON c.id = r.clip_id
               JOIN models m ON m.id = c.model_id JOIN prompts p ON p.id = c.prompt_id
               WHERE r.status = 'ok'"""
        )
        rows = []
        for rec in frame.itertuples(index=False):
            for key, value in json.loads(rec.payload or "{}").items():
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                rows.append((*rec[:-1], key, float(value)))
        columns = [*frame.columns[:-1], "key", "value"]
        return pd.DataFrame(rows, columns=columns)

    def clips_metrics(self, clip_ids: Sequence[str]) -> dict[str, list[dict]]:
        """Metric results of several clips (one query for those not cached yet)."""
        cache = self._metrics_cache
        missing = [c for c in clip_ids if c not in cache]
        if not missing:
            return {c: list(cache[c]) for c in clip_ids}
        with self._lock:
            rows = self._query(
                """SELECT clip_id, metric, version, status, "values", units, reason
                   FROM metric_results WHERE clip_id IN ? ORDER BY metric""",
                [missing],
            )
            out: dict[str, list[dict]] = {c: [] for c in missing}
            for r in rows:
                out[r[0]].append(
                    {
                        "metric": r[1],
                        "version": r[2],
                        "status": r[3],
                        "values": json.loads(r[4] or "{}"),
                        "units": json.loads(r[5] or "{}"),
                        "reason": r[6],
                    }
                )
            if not self.read_only:  # a reader's file may change under it
                cache.update(out)
        return {c: list(cache[c]) if c in cache else out[c] for c in clip_ids}

    def clip_metrics(self, clip_id: str) -> list[dict]:
        return self.clips_metrics([clip_id])[clip_id]

    def checkpoint(self) -> None:
        with self._lock:
            self._con.execute("CHECKPOINT")

    def counts(self) -> dict[str, int]:
        tables = ("models", "prompts", "clips", "battles", "votes", "raters", "metric_results")
        return {t: self._query(f"SELECT count(*) FROM {t}")[0][0] for t in tables}

    # ---- scheduling (issue 7) ----
    def pair_prompt_usage(self) -> pd.DataFrame:
        """Battles served per (prompt, unordered model pair): prompt_id, m1, m2 (model ids), n."""
        return self._frame(
            """SELECT prompt_id, least(left_model, right_model) AS m1,
                      greatest(left_model, right_model) AS m2, count(*) AS n
               FROM battles GROUP BY ALL"""
        )

    def record_gold_answer(
        self, rater_id: str, correct: bool, min_seen: int, min_accuracy: float, flag: str
    ) -> tuple[int, int, bool]:
        """Count one gold answer; set or clear `flag` by accuracy once `min_seen` are answered.

        Returns (gold seen, gold correct, flagged now).
        """
        self.ensure_rater(rater_id)
        with self.transaction() as con:
            seen, right = con.execute(
                """UPDATE raters SET gold_seen = gold_seen + 1,
                          gold_correct = gold_correct + ? WHERE id = ?
                   RETURNING gold_seen, gold_correct""",
                [int(bool(correct)), rater_id],
            ).fetchone()
            failing = seen >= min_seen and right < min_accuracy * seen
            if failing:
                con.execute(
                    "UPDATE raters SET flags = list_distinct(list_append(flags, ?)) WHERE id = ?",
                    [flag, rater_id],
                )
            else:
                con.execute(
                    "UPDATE raters SET flags = list_filter(flags, lambda f: f <> ?) WHERE id = ?",
                    [flag, rater_id],
                )
            self._gold_seen_cache[rater_id] = int(seen)
        return int(seen), int(right), bool(failing)

    def gold_table(self) -> pd.DataFrame:
        """Raters with gold answers: rater, gold_seen, gold_correct, accuracy, flags, votes."""
        return self._frame(
            """SELECT r.id AS rater, r.gold_seen, r.gold_correct,
                      r.gold_correct / r.gold_seen AS accuracy, r.flags,
                      (SELECT count(*) FROM votes v WHERE v.rater_id = r.id) AS votes
               FROM raters r WHERE r.gold_seen > 0 ORDER BY accuracy, rater"""
        )

    def rater_gold_seen(self, rater_id: str) -> int:
        """Gold checks this rater has answered (0 for an unknown rater)."""
        cached = self._gold_seen_cache.get(rater_id)
        if cached is not None:
            return cached
        with self._lock:
            rows = self._query("SELECT gold_seen FROM raters WHERE id = ?", [rater_id])
            seen = int(rows[0][0]) if rows else 0
            if not self.read_only and rows:
                self._gold_seen_cache[rater_id] = seen
        return seen

    # ---- end scheduling ----

    # ---- load, durability and backups (issue 8) ----
    def copy_database(self, target: Path) -> None:
        """Write a consistent copy of the database file to ``target`` (which must not exist).

        Under the store's lock no write of this process can land between the checkpoint (which
        folds the write-ahead log into the file) and the end of the copy, so the copy is the
        state after the last committed write, complete without a WAL.
        """
        import shutil

        if self.read_only:
            raise InputError("a backup needs the store opened for writing (to checkpoint it)")
        target = Path(target)
        with self._lock:
            self._con.execute("CHECKPOINT")
            with open(self.data_dir / DB_NAME, "rb") as src, open(target, "xb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())

    def vote_outcomes(self, battle_ids: Sequence[str]) -> dict[str, list[str]]:
        """Every recorded vote outcome of these battles (a list per battle, empty when none), to
        check that acknowledged votes are stored exactly once."""
        out: dict[str, list[str]] = {b: [] for b in battle_ids}
        if out:
            rows = self._query(
                "SELECT battle_id, outcome FROM votes WHERE battle_id IN ?", [list(out)]
            )
            for battle_id, outcome in rows:
                out[battle_id].append(outcome)
        return out

    def _commit_pending(self) -> None:
        """Run every queued one-row write in one transaction: one commit (one WAL fsync, about
        3 ms on this disk) for all of them. Called with the store's lock held.

        Writers queue while another thread holds the lock (during its commit's fsync), so
        under load each commit carries many battles. If the batch fails (a duplicate vote's
        key, say), it is rolled back and each write runs alone, so each caller gets its own
        result and no other write is lost with it.
        """
        with self._pending_lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        began = False
        if len(batch) > 1:
            # Refused only inside a caller's own transaction(): then the rows join that one,
            # one by one below, as a single write always has.
            with contextlib.suppress(duckdb.Error):
                self._con.execute("BEGIN TRANSACTION")
                began = True
        if began:
            try:
                for write in batch:
                    self._con.execute(write.sql, write.params)
                self._con.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(duckdb.Error):
                    self._con.execute("ROLLBACK")
                if not isinstance(exc, duckdb.Error):
                    for write in batch:
                        write.error, write.done = PaddockError("the write was interrupted"), True
                    raise
            else:
                for write in batch:
                    write.done = True
                return
        try:
            for write in batch:  # one by one, in autocommit mode (each its own transaction)
                try:
                    self._con.execute(write.sql, write.params)
                except duckdb.Error as exc:
                    write.error = exc
                write.done = True
        finally:  # interrupted: whatever did not run is reported to its caller, never dropped
            for write in batch:
                if not write.done:
                    write.error = PaddockError("the write was interrupted; nothing was counted")
                    write.done = True

    # ---- end load, durability and backups ----

    # ---- dataset export and notebooks (issue 10) ----
    @classmethod
    @contextlib.contextmanager
    def open_snapshot(cls, data_dir: str | Path, attempts: int = 5) -> Iterator[Store]:
        """The store read-only; while a server owns the file, a consistent copy of it.

        DuckDB lets no other process open a file that one process writes, so the database and
        its write-ahead log are copied to a temporary folder and the copy is opened (opening
        replays the log). A copy during which the server checkpointed may be torn, so it is
        retried when the files changed while they were copied.
        """
        import shutil
        import tempfile

        data_dir = Path(data_dir)
        try:
            store = cls.open(data_dir, read_only=True)
        except StoreBusyError:
            store = None
        if store is not None:
            with store:
                yield store
            return
        db = data_dir / DB_NAME
        wal = db.with_name(DB_NAME + ".wal")

        def state() -> tuple:
            return tuple(
                (p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None for p in (db, wal)
            )

        with tempfile.TemporaryDirectory(prefix="paddock-snapshot-") as tmp:
            for attempt in range(attempts):
                before = state()
                shutil.copyfile(db, Path(tmp) / DB_NAME)
                if wal.exists():
                    shutil.copyfile(wal, Path(tmp) / wal.name)
                if state() == before or attempt == attempts - 1:
                    break
            try:
                con = duckdb.connect(str(Path(tmp) / DB_NAME), read_only=True)
            except duckdb.Error as exc:
                raise InputError(
                    f"could not read a snapshot of {db} while it is being written: {exc}"
                ) from exc
            store = cls(data_dir, con, read_only=True)
            with store:
                store._migrate()
                yield store

    def clips_frame(self) -> pd.DataFrame:
        """Every clip with its model's name: clip_id, model, prompt_id, seed, path, sha256,
        duration, fps, width, height, has_audio, generation_s, created_at."""
        return self._frame(
            """SELECT c.id AS clip_id, m.name AS model, c.prompt_id, c.seed, c.path, c.sha256,
                      c.duration, c.fps, c.width, c.height, c.has_audio, c.generation_s,
                      c.created_at
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

    def raters_frame(self) -> pd.DataFrame:
        """Every rater: rater, created_at, flags, banned, gold_seen, gold_correct, votes."""
        return self._frame(
            """SELECT r.id AS rater, r.created_at, r.flags, r.banned, r.gold_seen, r.gold_correct,
                      (SELECT count(*) FROM votes v WHERE v.rater_id = r.id) AS votes
               FROM raters r ORDER BY r.created_at, r.id"""
        )

    def clip_pair_counts(
        self,
        category: str | None = None,
        audio: bool | None = None,
        tags: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        exclude_flagged: bool = True,
        models: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Votes per (left clip, right clip, winner): clip_a, clip_b, winner, count.

        One GROUP BY, so metric-human agreement costs the number of clip pairs, not of votes.
        """
        where, params = self._vote_filter(
            category, audio, tags, since, until, exclude_flagged, models
        )
        return self._frame(
            f"""SELECT b.left_clip AS clip_a, b.right_clip AS clip_b,
                       {self._winner_sql()} AS winner, count(*) AS count
                {self._VOTE_JOINS} JOIN battles b ON b.id = v.battle_id
                WHERE {where} GROUP BY ALL ORDER BY ALL""",
            params,
        )

    def vote_battle_kinds(self) -> list[str]:
        """Each vote's battle kind (normal / gold / imported), in `battles_frame` row order."""
        rows = self._query(
            """SELECT b.kind FROM votes v JOIN battles b ON b.id = v.battle_id
               ORDER BY v.voted_at, b.id"""
        )
        return [r[0] for r in rows]

    # ---- end dataset export and notebooks ----

    # ---- abuse and admin (issue 8) ----
    def has_rater(self, rater_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM raters WHERE id = ?", [rater_id]))

    def rater_overview(self, limit: int = 2000) -> pd.DataFrame:
        """Raters for the admin view: rater, created_at, votes, flagged_votes, gold_seen,
        gold_correct, gold_accuracy, flags, banned (banned and most-flagged first)."""
        return self._frame(
            """SELECT r.id AS rater, r.created_at, coalesce(v.votes, 0) AS votes,
                      coalesce(v.flagged, 0) AS flagged_votes, r.gold_seen, r.gold_correct,
                      CASE WHEN r.gold_seen > 0 THEN r.gold_correct / r.gold_seen END
                        AS gold_accuracy,
                      r.flags, r.banned
               FROM raters r LEFT JOIN (
                 SELECT rater_id, count(*) AS votes,
                        count(*) FILTER (WHERE len(flags) > 0) AS flagged
                 FROM votes GROUP BY rater_id) v ON v.rater_id = r.id
               ORDER BY r.banned DESC, flagged_votes DESC, votes DESC, rater LIMIT ?""",
            [limit],
        )

    def flagged_votes(self, limit: int = 100) -> pd.DataFrame:
        """The latest votes stored with a flag: voted_at, rater, battle_id, flags,
        seconds_after_served, model_a, model_b, outcome."""
        return self._frame(
            """SELECT v.voted_at, v.rater_id AS rater, v.battle_id, v.flags,
                      round(epoch(v.voted_at) - epoch(b.served_at), 2) AS seconds_after_served,
                      ml.name AS model_a, mr.name AS model_b, v.outcome
               FROM votes v JOIN battles b ON b.id = v.battle_id
               JOIN models ml ON ml.id = v.left_model JOIN models mr ON mr.id = v.right_model
               WHERE len(v.flags) > 0 ORDER BY v.voted_at DESC, v.battle_id LIMIT ?""",
            [limit],
        )

    # ---- end abuse and admin ----

    # ---- models file (issue 9) ----
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
            ids[row["name"]] = new_id(8)
        with self.transaction() as con:
            for row in rows:
                parent = row.get("parent")
                con.execute(
                    "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
                    [
                        ids[row["name"]],
                        row["name"],
                        row.get("display_name") or row["name"],
                        row["kind"],
                        row.get("generator"),
                        ids[parent] if parent else None,
                        json.dumps(row.get("params") or {}),
                        now(),
                    ],
                )
        self.epoch += 1
        return [self.model_by_name(row["name"]) for row in rows]

    # ---- end models file ----


@dataclass
class _PendingWrite:
    """A one-row write queued for the next group commit, and what became of it."""

    sql: str
    params: Sequence[Any]
    done: bool = False
    error: Exception | None = None


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
            raise InputError(f"cannot read votes file {path}: {_first_line(exc)}") from exc
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


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
