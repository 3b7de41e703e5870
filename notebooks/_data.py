"""What the notebooks read: a Paddock data dir's tables, from a read-only snapshot of its DuckDB file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from arena.store import Store

#: Rater ids the test suite's demo data gives its simulated raters.
SIMULATED_PREFIX = "simulated-"


@dataclass
class ArenaData:
    """Everything the notebooks analyse, as DataFrames.

    Attributes:
        data_dir: the data dir read.
        battles: every vote in Chatbot Arena layout (``Store.battles_frame``), flagged raters
            included, with ``excluded`` marking votes the leaderboard leaves out.
        counts: the leaderboard's count table (``Store.vote_counts``: flagged raters left out).
        metrics: headline metric values per clip (those with a declared direction).
        directions: ``"metric.key"`` -> True when higher is better.
        gold: gold-check record per rater (``Store.gold_table``).
        clips: every clip with its model (``Store.clips_frame``).
    """

    data_dir: Path
    battles: pd.DataFrame
    counts: pd.DataFrame
    metrics: pd.DataFrame
    directions: dict[str, bool]
    gold: pd.DataFrame
    clips: pd.DataFrame

    @property
    def simulated_votes(self) -> int:
        """Votes cast by the test suite's simulated raters (0 on a real arena)."""
        return int(self.battles["rater"].astype(str).str.startswith(SIMULATED_PREFIX).sum())

    @property
    def counted(self) -> pd.DataFrame:
        """The votes the leaderboard counts (flagged and banned raters left out)."""
        return self.battles[~self.battles["excluded"]]


def data_dir_from_env() -> Path:
    """``$PADDOCK_DATA``, as every paddock command reads it (default ``./paddock-data``)."""
    return Path(os.environ.get("PADDOCK_DATA", "paddock-data"))


def load(data_dir: str | Path | None = None) -> ArenaData:
    """Read a data dir once (read-only; a consistent copy while a server owns the file)."""
    from arena.web.leaderboard_view import headline_metric_values
    from metrics.registry import headline_directions

    data_dir = Path(data_dir) if data_dir else data_dir_from_env()
    with Store.open_snapshot(data_dir) as store:
        battles = store.battles_frame()
        raters = store.raters_frame()
        counts = store.vote_counts()
        metrics = headline_metric_values(store)
        gold = store.gold_table()
        clips = store.clips_frame()
    excluded = set(raters.loc[raters["banned"] | (raters["flags"].map(len) > 0), "rater"])
    battles = battles.assign(excluded=battles["rater"].isin(excluded))
    return ArenaData(data_dir, battles, counts, metrics, headline_directions(), gold, clips)
