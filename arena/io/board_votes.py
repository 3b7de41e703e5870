"""The one reader of votes for a board: a store (or a snapshot of it) or a votes file, as a pool.

`read_pool` reads what `leaderboards.board.BoardOptions` needs (the count tables of the aspects
it rates, the battle rows with clip features for style control) and nothing else; the board is
then `leaderboards.board.build_board` on it, whoever asks (the CLI, the arena's tab).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store and pandas load on the reading thread (see `start_reading`)
    import pandas as pd

    from arena.store import Store, VoteFilter
    from leaderboards.board import BoardOptions, VotePool

OVERALL = "overall"


def asked_aspects(config: str | Path | None = None) -> tuple[str, ...]:
    """overall and the follow-ups this arena asks (paddock.toml's `aspects`)."""
    from arena.io.aspects_file import load_aspects

    return (OVERALL, *load_aspects(config))


def read_pool(
    options: BoardOptions,
    *,
    store: Store | None = None,
    data: Path | None = None,
    votes: Path | None = None,
    filters: VoteFilter | None = None,
    asked: tuple[str, ...] | None = None,
    first: Callable[[], pd.DataFrame] | None = None,
) -> VotePool:
    """The votes the board of ``options`` needs, from one source.

    Args:
        options: the board to build (which aspects, style control).
        store: an open store; or ``data``, a data dir read through a snapshot (a consistent
            copy while the server owns the file); or ``votes``, a votes file rated whole.
        filters: which of the store's votes (pool, time window, flags, models).
        asked: the aspects this arena asks, overall first (default: paddock.toml's, for a
            per-aspect board or a composite).
        first: the overall count table already being read (`start_reading`).
    """
    from leaderboards.board import VotePool

    if asked is None:  # paddock.toml is read only for a board of the follow-ups
        asked = asked_aspects() if options.per_aspect or options.weights else (OVERALL,)
    names = asked if options.per_aspect else options.aspects_to_read()
    if votes is not None:
        return VotePool(_file_counts(votes, names, options, first), _file_battles(votes, options),
                        asked)  # fmt: skip
    if store is not None:
        return _store_pool(store, names, options, filters, asked)
    from arena.store import Store

    with Store.open_snapshot(data) as snapshot:
        return _store_pool(snapshot, names, options, filters, asked)


def _store_pool(
    store: Store, names, options: BoardOptions, filters: VoteFilter | None, asked
) -> VotePool:
    from dataclasses import replace

    from arena.store import VoteFilter
    from leaderboards.board import VotePool

    filters = filters or VoteFilter()
    counts = {name: store.vote_counts(replace(filters, aspect=name)) for name in names}
    battles = None
    if options.control:
        from arena.domain.style_features import battles_with_features

        battles = battles_with_features(store, list(options.control), filters)
    from arena.domain.families import model_families

    clips = None if options.control or options.per_aspect else pool_clips(store, filters)
    # Counted over the overall votes of the same pool (the follow-ups are extra answers).
    since_change = store.votes_since_change(replace(filters, aspect=OVERALL))
    models = store.models()
    for name in options.hide:
        store.model_by_name(name)  # a name not registered is refused, listing the known ones
    inactive = tuple(m.name for m in models if not m.active)
    return VotePool(
        counts, battles, asked, clips, since_change, model_families(models), inactive
    )


#: Generator kinds that run on this machine: their clips cost compute time, not a price.
LOCAL_GENERATORS = ("builtin", "diffusers")


def pool_clips(store: Store, filters: VoteFilter | None = None) -> pd.DataFrame:
    """The clips of a pool (category, audio, models of ``filters``) with their time and price,
    and ``local`` for models whose generator runs here (`leaderboards.price_speed`)."""
    clips = store.clips_frame()
    prompts = store.prompts_frame().set_index("prompt_id")
    keep = clips["model"].notna()
    if filters is not None and filters.category is not None:
        keep &= clips["prompt_id"].map(prompts["category"]) == filters.category
    if filters is not None and filters.audio is not None:
        keep &= clips["prompt_id"].map(prompts["audio"]).fillna(False).astype(bool) == filters.audio
    if filters is not None and filters.models:
        keep &= clips["model"].isin(list(filters.models))
    return with_local_flag(clips[keep], store.models_frame())


def with_local_flag(clips: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """``clips`` with ``local``: whether the clip's model (``models_frame``) runs here."""
    kinds = models.set_index("model")["generator"].fillna("").str.split(":").str[0]
    local = kinds.isin(LOCAL_GENERATORS)
    return clips.assign(local=clips["model"].map(local).fillna(False).astype(bool))


def _file_counts(path: Path, names, options: BoardOptions, first) -> dict:
    """Each aspect's count table from the file; in a default composite, an aspect the file
    holds no votes of is empty (the board leaves it out) rather than an error."""
    import pandas as pd

    from arena.store.vote_file_counts import aggregate_votes_file
    from generators.errors import InputError

    counts = {}
    for name in names:
        if first is not None and name == OVERALL:
            counts[name] = first()
            continue
        try:
            counts[name] = aggregate_votes_file(path, name)
        except InputError:
            if options.weights is None or options.explicit_weights or name == OVERALL:
                raise
            counts[name] = pd.DataFrame()
    return counts


def _file_battles(path: Path, options: BoardOptions) -> pd.DataFrame | None:
    """The file's overall votes with each control feature's ``<name>_a`` / ``<name>_b``."""
    if not options.control:
        return None
    from arena.store.vote_file_counts import read_battles_file

    return read_battles_file(path, [f"{name}_{side}" for name in options.control for side in "ab"])


def start_reading(path: Path) -> Callable[[], pd.DataFrame]:
    """Start aggregating a votes file's overall votes on a thread; returns a function that waits
    for the count table. DuckDB reads without holding the GIL, so the caller imports the rating
    code meanwhile (about half of `paddock leaderboard --votes`'s time)."""
    result: dict = {}

    def work() -> None:
        try:
            from arena.store.vote_file_counts import (
                aggregate_votes_columns,  # no pandas: see wait()
            )

            result["frame"] = aggregate_votes_columns(path)
        except BaseException as exc:  # handed to the caller, who reports it
            result["error"] = exc

    thread = threading.Thread(target=work, name="read-votes", daemon=True)
    thread.start()

    def wait() -> pd.DataFrame:
        thread.join()
        if "error" in result:
            raise result["error"]
        import pandas as pd  # imported meanwhile by the caller's thread, with the rating code

        return pd.DataFrame(result["frame"])

    return wait
