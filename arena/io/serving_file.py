"""paddock.toml's `[serving]` section: the pool's serving profile (see generators/serving/rendition.py).

    [serving]
    fps = 24
    loudness_lufs = -23
    crf = 23
    max_bitrate_kbps = 4000
    sizes = { "16:9" = "1280x720", "9:16" = "720x1280", "1:1" = "720x720" }

A missing file or section means the defaults; an unknown key or impossible value is refused,
naming the key, before the server starts.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from arena.io.models_file import default_models_file
from generators.errors import InputError
from generators.serving.profile import ServingProfile


def load_serving_profile(path: str | os.PathLike | None = None) -> ServingProfile:
    """The profile a paddock.toml declares ($PADDOCK_CONFIG or ./paddock.toml by default)."""
    explicit = path is not None
    path = Path(path) if explicit else default_models_file()
    if not path.exists():
        if explicit:
            raise InputError(f"{path}: no such file")
        return ServingProfile()
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from exc
    section = data.get("serving", {})
    if not isinstance(section, dict):
        raise InputError(f"{path}: [serving] must be a table")
    try:
        return ServingProfile.from_mapping(section)
    except TypeError as exc:  # a value of the wrong shape (e.g. a table where a number goes)
        raise InputError(f"{path}: [serving] {exc}") from exc
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
