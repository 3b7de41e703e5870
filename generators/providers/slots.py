"""A per-provider limit on jobs in flight, shared by every worker process on this machine."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def slot_dir() -> Path:
    return Path(os.environ.get("PADDOCK_SLOT_DIR") or tempfile.gettempdir()) / "paddock-slots"


@contextlib.contextmanager
def provider_slot(name: str, limit: int, deadline: float, poll_s: float = 0.05) -> Iterator[int]:
    """Hold one of `limit` slots for `name` (a lock file each, so worker processes and threads
    share the count) until the block ends; TimeoutError when none frees before deadline."""
    folder = slot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() else "_" for c in name)
    while True:
        for index in range(max(1, limit)):
            fh = open(folder / f"{safe}-{index}.lock", "a+b")  # noqa: SIM115 (held while in use)
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            try:
                yield index
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        if time.monotonic() + poll_s > deadline:
            raise TimeoutError(f"all {limit} slots of {name} stayed busy")
        time.sleep(poll_s)
