"""The DuckDB store: the only place that writes SQL."""

from arena.store.db import *  # noqa: F401,F403
