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

from generators.config_file import check_section, read_paddock_toml, table
from generators.serving.profile import ServingProfile


def load_serving_profile(path: str | os.PathLike | None = None) -> ServingProfile:
    """The profile a paddock.toml declares ($PADDOCK_CONFIG or ./paddock.toml by default)."""
    path, data = read_paddock_toml(path)
    section = table(data, path, "serving", default={})
    return check_section(path, "serving", ServingProfile.from_mapping, section)
