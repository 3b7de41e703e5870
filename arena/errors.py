"""The arena's errors: each a `PaddockError` with one meaning, and how each is answered.

The family's root and the generation errors live in `generators/errors.py` (the lowest room, so
every room can raise them). The CLI maps an error to an exit code with `exit_code` and the web
layer to an HTTP status with `http_status`: each in this one place, by type, never by text.
"""

from __future__ import annotations

from generators.errors import PaddockError
from leaderboards.errors import RatingInputError


class StoreBusyError(PaddockError):
    """Another process owns the data dir's database."""


class VoteRefused(PaddockError):
    """A vote that cannot be counted: forged, replayed, expired or foreign token, bad outcome."""


class AlreadyVoted(VoteRefused):
    """The battle's vote was already counted: a repeated click, not a forgery."""


class RateLimited(VoteRefused):
    """Too many requests from one rater or one address in the configured window."""


class NoBattleAvailable(PaddockError):
    """No prompt has clips from two active models in the asked pool."""


class AdminDenied(PaddockError):
    """An admin action without the right token."""


class BackupError(PaddockError):
    """A backup that could not be taken (nothing usable was left behind)."""


class RayUnavailableError(PaddockError):
    """Ray is not installed, or the cluster cannot be reached."""


# What the CLI says for a user's mistake: one line on stderr and this exit code, no traceback.
# RatingInputError is not a PaddockError because leaderboards/ imports no other room.
USER_ERRORS: tuple[type[Exception], ...] = (PaddockError, RatingInputError)
USER_ERROR_EXIT_CODE = 2


def exit_code(exc: BaseException) -> int | None:
    """The CLI's exit code for a user-facing error, or None for a bug (let it raise)."""
    return USER_ERROR_EXIT_CODE if isinstance(exc, USER_ERRORS) else None


def http_status(exc: PaddockError) -> int:
    """The HTTP status a JSON route answers a refused action with."""
    # Refused votes conflict with the battle's state; no battle yet is a temporary lack.
    for kind, status in (
        (RateLimited, 429),
        (VoteRefused, 409),
        (NoBattleAvailable, 503),
        (AdminDenied, 403),
    ):
        if isinstance(exc, kind):
            return status
    return 400


__all__ = [
    "AdminDenied",
    "AlreadyVoted",
    "BackupError",
    "NoBattleAvailable",
    "RateLimited",
    "RayUnavailableError",
    "StoreBusyError",
    "VoteRefused",
    "exit_code",
    "http_status",
]
