"""The DuckDB store: the only place that writes SQL."""

from arena.store.db import *  # noqa: F401,F403
from arena.store.vote_files import aggregate_votes_file  # noqa: F401
