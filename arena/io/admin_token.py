"""The admin token: read from the environment or a file, never a default; compared in constant time."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from arena.errors import AdminDenied
from generators.errors import InputError

TOKEN_ENV = "PADDOCK_ADMIN_TOKEN"
TOKEN_FILE_ENV = "PADDOCK_ADMIN_TOKEN_FILE"
MIN_TOKEN_CHARS = 16


def load_admin_token(environ: dict[str, str] | None = None) -> str | None:
    """The configured admin token, or None when admin actions are off.

    ``PADDOCK_ADMIN_TOKEN`` holds the token itself; ``PADDOCK_ADMIN_TOKEN_FILE`` names a file whose
    first line is the token (for secrets mounted as files). A token shorter than 16 characters is
    refused rather than accepted weakly.
    """
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    source = TOKEN_ENV
    file_name = env.get(TOKEN_FILE_ENV, "").strip()
    if not token and file_name:
        path = Path(file_name).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{TOKEN_FILE_ENV}: cannot read {path}: {exc}") from None
        token = lines[0].strip() if lines else ""
        source = f"{TOKEN_FILE_ENV} ({path})"
    if not token:
        return None
    if len(token) < MIN_TOKEN_CHARS:
        raise InputError(f"{source}: the admin token must be at least {MIN_TOKEN_CHARS} characters")
    return token


def check_admin_token(expected: str | None, given: str | None) -> None:
    """Raise AdminDenied unless admin is configured and ``given`` is its token."""
    if expected is None:
        raise AdminDenied(
            f"admin actions are off: set {TOKEN_ENV} or {TOKEN_FILE_ENV} before starting the server"
        )
    if not given or not secrets.compare_digest(expected.encode(), given.strip().encode()):
        raise AdminDenied("wrong admin token")
