"""The DuckDB store: the only place that writes SQL. `Store` is the facade the rest of Paddock uses."""

from arena.store.aspect_votes import (
    ASPECT_OUTCOMES,
    ASPECTS,
    OVERALL,
    AspectVoteQueries,
    check_aspects,
)
from arena.store.battles import (
    OUTCOME_OF_WINNER,
    OUTCOMES,
    WINNER_LABELS,
    Battle,
    BattleQueries,
    NewBattle,
    Reveal,
    VoteTiming,
)
from arena.store.catalog import MODEL_KINDS, CatalogQueries, Clip, ClipRow, Model, Prompt
from arena.store.db import (
    DB_NAME,
    SCHEMA_VERSION,
    SERVER_FILE,
    Database,
    new_id,
    now,
    read_server_info,
    seeded_ids,
)
from arena.store.metric_results import MetricQueries
from arena.store.model_changes import ModelChangeQueries
from arena.store.raters import RaterQueries
from arena.store.serving import RenditionQueries
from arena.store.vote_file_counts import aggregate_votes_file
from arena.store.vote_import import VoteImportMixin
from arena.store.votes import VoteFilter, VoteQueries


class Store(
    CatalogQueries,
    ModelChangeQueries,
    BattleQueries,
    VoteQueries,
    AspectVoteQueries,
    VoteImportMixin,
    RaterQueries,
    MetricQueries,
    RenditionQueries,
    Database,
):
    """The data dir's database: plumbing from `Database`, one mixin of queries per domain."""


__all__ = [
    "ASPECTS",
    "ASPECT_OUTCOMES",
    "OVERALL",
    "check_aspects",
    "DB_NAME",
    "MODEL_KINDS",
    "OUTCOMES",
    "OUTCOME_OF_WINNER",
    "SCHEMA_VERSION",
    "SERVER_FILE",
    "WINNER_LABELS",
    "Battle",
    "Clip",
    "ClipRow",
    "Model",
    "NewBattle",
    "Prompt",
    "Reveal",
    "Store",
    "VoteFilter",
    "VoteTiming",
    "aggregate_votes_file",
    "new_id",
    "now",
    "read_server_info",
    "seeded_ids",
]
