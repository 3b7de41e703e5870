"""paddock.toml's `[leaderboard]` section: when a rating stops being provisional, and when the
board says how many variants of a family were rated.

    [leaderboard]
    provisional_votes = 500   # votes since a model was added or last changed
    max_variants = 3          # more variants of one family rated, some not shown: say so

A missing file, section or key means these defaults; a command-line flag overrides the file.
An unknown key or a value below 1 is refused, naming the key.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

from generators.config_file import check_section, read_paddock_toml, table
from leaderboards.provisional import DEFAULT_MAX_VARIANTS, DEFAULT_PROVISIONAL_VOTES


class BoardSettings(BaseModel):
    """The `[leaderboard]` section."""

    model_config = ConfigDict(extra="forbid")

    provisional_votes: int = Field(DEFAULT_PROVISIONAL_VOTES, ge=1, strict=True)
    max_variants: int = Field(DEFAULT_MAX_VARIANTS, ge=1, strict=True)


def load_board_settings(path: str | os.PathLike | None = None) -> BoardSettings:
    """The `[leaderboard]` settings of a paddock.toml ($PADDOCK_CONFIG or ./paddock.toml)."""
    path, data = read_paddock_toml(path)
    section = table(data, path, "leaderboard", default={})
    return check_section(path, "leaderboard", BoardSettings.model_validate, section)
