"""paddock.toml's `aspects` list: the follow-up questions the page asks after each vote.

    aspects = ["picture", "sound", "prompt", "consistency"]   # at the top, before any [section]

A missing file or key means all four; `aspects = []` asks none. An unknown name is refused,
naming the key, before the server starts.
"""

from __future__ import annotations

import os

from arena.domain.abuse import MAX_FOLLOWUPS
from arena.store import ASPECTS, check_aspects
from generators.config_file import config_error, location, read_paddock_toml

DEFAULT_ASPECTS: tuple[str, ...] = tuple(ASPECTS)


def load_aspects(path: str | os.PathLike | None = None) -> tuple[str, ...]:
    """The follow-ups a paddock.toml asks ($PADDOCK_CONFIG or ./paddock.toml by default)."""
    path, data = read_paddock_toml(path)
    if "aspects" not in data:
        return DEFAULT_ASPECTS
    names = data["aspects"]
    if not isinstance(names, list):
        raise config_error(
            path, None, "aspects", 'must be a list of names, e.g. ["picture", "sound"]'
        )
    if len(names) > MAX_FOLLOWUPS:
        raise config_error(
            path, None, "aspects", f"lists {len(names)} names; at most {MAX_FOLLOWUPS}"
        )
    return check_aspects(names, location(path, None, "aspects"))
