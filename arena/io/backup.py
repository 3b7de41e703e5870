"""Backups of a data dir: a consistent DuckDB copy plus its clips, taken while serving or not."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from arena.errors import BackupError
from arena.store import DB_NAME, Store, read_server_info
from generators.errors import InputError

BACKUP_ROUTE = "/admin/backup"
PARTIAL = ".paddock.duckdb.partial"


@dataclass(frozen=True)
class BackupReport:
    """What a backup holds: the copy's data dir, its votes and battles, and its clip files."""

    out: str
    votes: int
    battles: int
    clips: int
    clips_linked: int
    clips_copied: int
    db_bytes: int
    seconds: float
    via: str  # "server" (taken by the serving process) or "direct"

    def to_dict(self) -> dict:
        return asdict(self)


def _check_out(out: Path) -> Path:
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"backup target {out} exists and is not an empty folder: pick a new one")
    return out


def backup_data_dir(store: Store, out: Path, clips: bool = True) -> BackupReport:
    """Copy ``store``'s database (consistent, under its lock) and, with ``clips``, its clip files
    into the new data dir ``out``; the copy is opened read-only to check it before returning.

    Clip files are hard-linked when ``out`` is on the same file system (clips are written once,
    to a temporary name then renamed, and never changed in place, so a link is a stable copy)
    and copied otherwise. Only the clips the copied database records are taken.
    """
    started = time.perf_counter()
    out = _check_out(out)
    if out.resolve() == store.data_dir.resolve():
        raise InputError("the backup target is the data dir itself")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    partial = out / PARTIAL
    try:
        store.copy_database(partial)
        os.replace(partial, out / DB_NAME)
        with Store.open(out, read_only=True) as copy:
            counts = copy.counts()
            paths = sorted({c.path for c in copy.clips() if c.path})
        linked = copied = 0
        if clips:
            linked, copied = _copy_clips(store.data_dir, out, paths)
    except BaseException:
        _remove_partial(out, created)
        raise
    return BackupReport(
        out=str(out),
        votes=counts["votes"],
        battles=counts["battles"],
        clips=len(paths) if clips else 0,
        clips_linked=linked,
        clips_copied=copied,
        db_bytes=(out / DB_NAME).stat().st_size,
        seconds=round(time.perf_counter() - started, 3),
        via="direct",
    )


def _copy_clips(src_dir: Path, out: Path, paths: list[str]) -> tuple[int, int]:
    linked = copied = 0
    src_root = src_dir.resolve()
    for rel in paths:
        src = (src_dir / rel).resolve()
        if src_root not in src.parents:
            raise BackupError(f"clip path {rel!r} points outside the data dir; backup stopped")
        if not src.is_file():
            raise BackupError(f"clip file {rel} is missing from {src_dir}; backup stopped")
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
            linked += 1
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            shutil.copy2(src, dst)
            copied += 1
    return linked, copied


def _remove_partial(out: Path, created: bool) -> None:
    """Leave nothing half-made: the target goes back to how it was (absent or empty)."""
    with contextlib.suppress(FileNotFoundError):
        (out / PARTIAL).unlink()
    if created:
        shutil.rmtree(out, ignore_errors=True)
    else:
        for child in out.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def backup(data_dir: Path, out: Path, clips: bool = True, token: str | None = None) -> BackupReport:
    """Back up ``data_dir`` into ``out``: through the running server when one owns the data dir
    (its admin route, with the admin token), else directly from the file."""
    out = _check_out(out)
    info = read_server_info(Path(data_dir))
    if info is None:
        with Store.open(data_dir, create=False) as store:
            return backup_data_dir(store, out, clips=clips)
    return backup_through_server(info, out, clips=clips, token=token)


def backup_through_server(
    info: dict, out: Path, clips: bool = True, token: str | None = None
) -> BackupReport:
    """Ask the serving process (loopback only) to write the backup; it owns the DuckDB file."""
    from arena.io.admin_token import TOKEN_ENV, TOKEN_FILE_ENV, load_admin_token

    token = token or load_admin_token()
    port = info.get("port")
    if token is None:
        raise InputError(
            f"the Paddock server on port {port} (pid {info.get('pid')}) owns this data dir: a "
            f"backup goes through it and needs its admin token ({TOKEN_ENV} or {TOKEN_FILE_ENV})"
        )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{BACKUP_ROUTE}",
        data=json.dumps({"out": str(out), "clips": clips}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except ValueError:
            message = exc.reason
        raise BackupError(f"the server on port {port} refused the backup: {message}") from None
    except OSError as exc:
        raise BackupError(f"cannot reach the server on port {port}: {exc}") from None
    return BackupReport(**{**payload, "via": "server"})
