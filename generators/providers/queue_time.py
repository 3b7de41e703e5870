"""How long a provider kept a job waiting before it started: from the answer's own timestamps
(Replicate's created_at -> started_at) where it gives them, else from the statuses polled."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from generators.http_jobs import field_at

# (created, started) pairs of answer fields, tried in turn.
TIMESTAMP_FIELDS = (("created_at", "started_at"),)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def reported_queue_s(answers: list[Any]) -> float | None:
    """Seconds from creation to start that an answer states (newest answer first); None when
    none states both, or they make no sense (start before creation)."""
    for answer in answers:
        for created_field, started_field in TIMESTAMP_FIELDS:
            created = _instant(field_at(answer, created_field))
            started = _instant(field_at(answer, started_field))
            if created is None or started is None:
                continue
            try:
                seconds = (started - created).total_seconds()
            except TypeError:  # one has a time zone, the other not
                continue
            if seconds >= 0:
                return round(seconds, 3)
    return None


class QueueWatch:
    """The statuses seen while polling one job: it was waiting at least until the last poll that
    found it queued (a lower bound, to within one poll interval)."""

    def __init__(self, queued_values: tuple[Any, ...]) -> None:
        self.queued_values = queued_values
        self.submitted = time.monotonic()
        self.last_queued: float | None = None

    def saw(self, status: Any) -> None:
        if status in self.queued_values:
            self.last_queued = time.monotonic()

    def seconds(self, answers: list[Any]) -> float | None:
        reported = reported_queue_s(answers)
        if reported is not None:
            return reported
        if self.last_queued is None:
            return None
        return round(self.last_queued - self.submitted, 3)
