"""paddock.toml's `aspects` list: the follow-up questions the page asks after each vote.

    aspects = ["picture", "sound", "prompt", "consistency"]   # at the top, before any [section]

A missing file or key means all four; `aspects = []` asks none. An unknown name is refused,
naming the key, before the server starts.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from arena.domain.abuse import MAX_FOLLOWUPS
from arena.io.models_file import default_models_file
from arena.store import ASPECTS, check_aspects
from generators.errors import InputError

DEFAULT_ASPECTS: tuple[str, ...] = tuple(ASPECTS)


def load_aspects(path: str | os.PathLike | None = None) -> tuple[str, ...]:
    """The follow-ups a paddock.toml asks ($PADDOCK_CONFIG or ./paddock.toml by default)."""
    explicit = path is not None
    path = Path(path) if explicit else default_models_file()
    if not path.exists():
        if explicit:
            raise InputError(f"{path}: no such file")
        return DEFAULT_ASPECTS
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc
    if "aspects" not in data:
        return DEFAULT_ASPECTS
    names = data["aspects"]
    if not isinstance(names, list):
        raise InputError(f'{path}: aspects must be a list of names, e.g. ["picture", "sound"]')
    if len(names) > MAX_FOLLOWUPS:
        raise InputError(f"{path}: aspects lists {len(names)} names; at most {MAX_FOLLOWUPS}")
    return check_aspects(names, f"{path}: aspects")
