"""Store plumbing: opening the file, schema and migrations, the lock and group commit, snapshots and copies."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import duckdb

from arena.errors import StoreBusyError
from arena.store.vote_views import IMPORTED_VOTES_SCHEMA
from generators.errors import InputError, PaddockError

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import pandas as pd

DB_NAME = "paddock.duckdb"


SERVER_FILE = "server.json"


SCHEMA_VERSION = 7


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_id(nbytes: int = 16) -> str:
    """An opaque random id: says nothing about what it names."""
    return secrets.token_hex(nbytes)


def seeded_ids(seed: int) -> Callable[[int], str]:
    """Ids like `new_id`'s drawn from ``seed``: for simulations only, so that the same seed
    names every model alike (the scheduler orders models by id). Never for a served store."""
    rng = random.Random(f"paddock-ids-{seed}")

    def make_id(nbytes: int = 16) -> str:
        return rng.getrandbits(8 * nbytes).to_bytes(nbytes, "big").hex()

    return make_id


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


RENDITION_TABLES = [  # the serving renditions and battle cuts
    """CREATE TABLE IF NOT EXISTS renditions (
        clip_id VARCHAR NOT NULL, profile VARCHAR NOT NULL, path VARCHAR, frames INTEGER,
        bytes BIGINT, status VARCHAR NOT NULL, error VARCHAR, created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (clip_id, profile))""",
    """CREATE TABLE IF NOT EXISTS battle_cuts (
        battle_id VARCHAR PRIMARY KEY, profile VARCHAR NOT NULL, frames INTEGER NOT NULL,
        bytes BIGINT NOT NULL, left_path VARCHAR NOT NULL, right_path VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
]

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
    # A vote can be accepted but flagged (e.g. cast faster than the clips could be watched),
    # so that a suspect vote is kept for review but stays out of the leaderboard by default.
    2: ["ALTER TABLE votes ADD COLUMN flags VARCHAR[] DEFAULT []"],
    # What a generator says of each clip it made, as JSON text: pony's plan of the prompt, a
    # hosted model's request id, reported cost and any rounding of the request.
    3: ["ALTER TABLE clips ADD COLUMN IF NOT EXISTS params VARCHAR"],
    # Serving renditions per (clip, profile) and each battle's common cut (arena/store/serving.py).
    4: RENDITION_TABLES,
    # Aspect votes are rows beside the battle's vote: key (battle, aspect), re-keyed by a copy.
    5: [
        """CREATE TABLE votes_v5 (battle_id VARCHAR NOT NULL, rater_id VARCHAR NOT NULL,
            outcome VARCHAR NOT NULL, aspect VARCHAR NOT NULL DEFAULT 'overall',
            voted_at TIMESTAMP NOT NULL, time_to_vote_s DOUBLE, played_left DOUBLE,
            played_right DOUBLE, source VARCHAR NOT NULL DEFAULT 'arena',
            prompt_id VARCHAR NOT NULL, left_model VARCHAR NOT NULL, right_model VARCHAR NOT NULL,
            sampling_prob DOUBLE NOT NULL, flags VARCHAR[] DEFAULT [],
            PRIMARY KEY (battle_id, aspect))""",
        "INSERT INTO votes_v5 SELECT * FROM votes",
        "DROP TABLE votes",
        "ALTER TABLE votes_v5 RENAME TO votes",
    ],
    6: IMPORTED_VOTES_SCHEMA,  # imported votes without keys, read through views (vote_views.py)
    # What each clip cost and how long it waited (price in US dollars with its source: reported
    # by the provider, a dated price table, paddock.toml, compute time, or unknown); each model's
    # family and when it was last changed (provisional ratings); raters flagged for voting for
    # or against one model, with the evidence, kept until an admin clears the flag.
    7: [
        "ALTER TABLE clips ADD COLUMN IF NOT EXISTS queue_s DOUBLE",
        "ALTER TABLE clips ADD COLUMN IF NOT EXISTS price_usd DOUBLE",
        "ALTER TABLE clips ADD COLUMN IF NOT EXISTS price_source VARCHAR",
        "ALTER TABLE models ADD COLUMN IF NOT EXISTS family VARCHAR",
        "ALTER TABLE models ADD COLUMN IF NOT EXISTS changed_at TIMESTAMP",
        "UPDATE models SET changed_at = created_at WHERE changed_at IS NULL",
        """CREATE TABLE IF NOT EXISTS rater_flags (
            rater_id VARCHAR NOT NULL, model VARCHAR NOT NULL, direction VARCHAR NOT NULL,
            votes INTEGER, expected DOUBLE, observed DOUBLE, p_value DOUBLE, q_value DOUBLE,
            flagged_at TIMESTAMP NOT NULL, cleared_at TIMESTAMP, cleared_by VARCHAR,
            PRIMARY KEY (rater_id, model, direction))""",
    ],
}


def read_server_info(data_dir: Path) -> dict | None:
    """The running server's pid and port, if a server wrote them and its process is alive."""
    path = Path(data_dir) / SERVER_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


@dataclass
class _PendingWrite:
    """A one-row write queued for the next group commit, and what became of it."""

    sql: str
    params: Sequence[Any]
    done: bool = False
    error: Exception | None = None


def first_line(exc: Exception) -> str:
    """The first line of an exception's message (DuckDB's run to several)."""
    return str(exc).strip().splitlines()[0]


class Database:
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
        # New model ids; a simulation swaps in `seeded_ids(seed)` so that a seed fixes them too.
        self.make_id: Callable[[int], str] = new_id
        self._known_raters: set[str] = set()  # raters already in the table (never deleted)
        self._prompt_cache: dict[str, Any] = {}  # prompt id -> Prompt
        # This process is the file's only writer, so what it wrote can be served from memory:
        # the vote path reads both caches on every battle or vote.
        self._metrics_cache: dict[str, list[dict]] = {}
        self._gold_seen_cache: dict[str, int] = {}

    @classmethod
    def open(cls, data_dir: str | Path, read_only: bool = False, create: bool = True) -> Self:
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

    def __enter__(self) -> Self:
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
                for statement in MIGRATIONS.get(version, ()):  # a number may be unused
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

    def checkpoint(self) -> None:
        with self._lock:
            self._con.execute("CHECKPOINT")

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

    @classmethod
    @contextlib.contextmanager
    def open_snapshot(cls, data_dir: str | Path, attempts: int = 5) -> Iterator[Self]:
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
