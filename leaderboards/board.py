"""One board builder: the votes of a pool and the options asked for, in; the board to render, out.

Every view of a leaderboard (the `paddock leaderboard` formats, the arena's raw,
style-controlled and per-aspect boards) is `build_board` on a `VotePool`, which arena's one vote
reader fills from the store or a votes file. The views only render the `Board`: the columns
declared in `leaderboards.columns` reach all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from leaderboards.columns import with_added_columns
from leaderboards.composite import compute_composite, parse_weights
from leaderboards.counts import PairCounts, pair_counts_from_battles, pair_counts_from_frame
from leaderboards.errors import RatingInputError
from leaderboards.leaderboard import Estimate, Leaderboard, RatingSettings, compute_leaderboard
from leaderboards.provisional import (
    DEFAULT_MAX_VARIANTS,
    DEFAULT_PROVISIONAL_VOTES,
    VariantNote,
    hide_models,
    mark_provisional,
    variant_notes,
)

if TYPE_CHECKING:  # imported when a board asks for them: `paddock leaderboard` stays quick
    from leaderboards.robustness import Fragility
    from leaderboards.style_control import StyleBoard

OVERALL = "overall"


@dataclass(frozen=True)
class VotePool:
    """The votes a board is built from, as the reader hands them over.

    Attributes:
        counts: a count table (``Store.vote_counts`` layout) per aspect read ("overall", ...);
            an aspect that was read and has no votes maps to an empty table.
        battles: one row per overall vote with ``<feature>_a`` / ``<feature>_b`` columns, for
            style control (None when not read).
        asked: the aspects this arena asks, overall first.
        clips: the pool's clips with their time and price (`leaderboards.price_speed`), for the
            price and speed columns (None: not read, as from a votes file).
        since_change: each model's votes in the pool cast after it was added or last changed
            (None: not known, as for a votes file; every vote counts).
        families: model -> family (a model absent is its own family).
        inactive: the models no longer served (hidden by ``BoardOptions.hide_inactive``).
    """

    counts: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    battles: pd.DataFrame | None = None
    asked: tuple[str, ...] = (OVERALL,)
    clips: pd.DataFrame | None = None
    since_change: Mapping[str, int] | None = None
    families: Mapping[str, str] = field(default_factory=dict)
    inactive: tuple[str, ...] = ()


@dataclass(frozen=True)
class BoardOptions:
    """Which board to build.

    Attributes:
        settings: how each board is fitted.
        models: only the votes among these models (empty: all).
        aspect: rate one follow-up question's answers instead of the overall votes.
        weights: a composite's weight per aspect (None: no composite); ``explicit_weights``
            False means the default (each asked aspect with votes weighs 1).
        control: style-control features (the style-controlled board).
        per_aspect: one rating per model and per asked aspect with votes (the tab's view).
        robustness: add each model's ``holds_unless`` against the next one down.
        sort: the raw or composite board's row order: "rating", or "price" / "speed" (needs
            the pool's clips).
        provisional_votes: a model with fewer votes since it was added or last changed is
            marked provisional.
        max_variants: more variants of one family rated than this, with some not shown, and
            the board says how many were rated.
        hide: models fitted but not shown (their votes still rate the others).
        hide_inactive: hide the pool's inactive models too.
    """

    settings: RatingSettings = field(default_factory=RatingSettings)
    models: tuple[str, ...] = ()
    aspect: str | None = None
    weights: Mapping[str, float] | None = None
    explicit_weights: bool = False
    control: tuple[str, ...] = ()
    per_aspect: bool = False
    robustness: bool = False
    sort: str = "rating"
    provisional_votes: int = DEFAULT_PROVISIONAL_VOTES
    max_variants: int = DEFAULT_MAX_VARIANTS
    hide: tuple[str, ...] = ()
    hide_inactive: bool = False

    def aspects_to_read(self) -> tuple[str, ...]:
        """The aspects whose count tables the board needs (none for a style-controlled one)."""
        if self.control:
            return ()
        if self.weights is not None:
            return tuple(name for name, weight in self.weights.items() if weight > 0)
        return (self.aspect or OVERALL,)


@dataclass(frozen=True)
class Board:
    """A built board: ``table`` is what every format and view shows, one row per model.

    Attributes:
        table: the raw or composite board (`leaderboards.columns.COLUMNS`), the style-controlled
            one (`StyleBoard.table`'s columns) or the per-aspect one (``rating_<aspect>``,
            ``ci_low_<aspect>``, ``ci_high_<aspect>`` per aspect with votes); each with the
            declared added columns.
        leaderboard: the fitted raw or composite board (None for the other two).
        style: the style-controlled fit, with its coefficients.
        fragility: each model against the next one down, when robustness was asked.
        aspect_votes: votes per aspect fitted on a per-aspect board.
        weights: the composite's weights as fitted (aspects without votes dropped).
        variants: families with more variants rated than shown (`leaderboards.provisional`).
        provisional_votes: the votes since a change that settle a rating.
    """

    table: pd.DataFrame
    leaderboard: Leaderboard | None = None
    style: StyleBoard | None = None
    fragility: tuple[Fragility, ...] = ()
    aspect_votes: Mapping[str, int] = field(default_factory=dict)
    weights: Mapping[str, float] | None = None
    variants: tuple[VariantNote, ...] = ()
    provisional_votes: int = DEFAULT_PROVISIONAL_VOTES

    # What the text formats and snapshots of a raw or composite board read.
    @property
    def settings(self) -> RatingSettings:
        return self.leaderboard.settings

    @property
    def n_votes(self) -> int:
        if self.style is not None:
            return self.style.n_votes
        if self.leaderboard is None:
            return sum(self.aspect_votes.values())
        return self.leaderboard.n_votes

    @property
    def vote_set_hash(self) -> str:
        return self.leaderboard.vote_set_hash

    @property
    def position_bias(self) -> Estimate | None:
        return self.leaderboard.position_bias if self.leaderboard else None

    @property
    def tie_parameter(self) -> Estimate | None:
        return self.leaderboard.tie_parameter if self.leaderboard else None


def composite_weights(text: str | None, asked: tuple[str, ...]) -> tuple[dict[str, float], bool]:
    """(weights, explicit) of a composite: ``"overall=1,sound=0.5"`` parsed against the asked
    aspects, or by default each asked aspect weighing 1."""
    if text is None:
        return dict.fromkeys(asked, 1.0), False
    return parse_weights(text, asked), True


def build_board(pool: VotePool, options: BoardOptions | None = None) -> Board:
    """The board ``options`` asks for, from the votes in ``pool``.

    Raises:
        RatingInputError: no votes in the pool (or for the aspect asked), a composite aspect
            weighed above 0 without votes, or anything `compute_leaderboard` refuses.
    """
    options = options or BoardOptions()
    _check_sort(pool, options)
    if options.control:
        return _settled(_style_board(pool, options), pool, options)
    if options.per_aspect:
        return _settled(_aspect_board(pool, options), pool, options)
    weights = None
    if options.weights is not None:
        frames = {name: _among(frame, options.models) for name, frame in pool.counts.items()}
        weights = _fitted_weights(frames, options)
        board = compute_composite(frames, weights, options.settings)
    else:
        aspect = options.aspect or OVERALL
        frame = pool.counts.get(aspect)  # models are kept by `_counts`, naming any unknown
        if frame is None or frame.empty:
            where = "" if options.aspect is None else f" for the aspect {aspect!r}"
            raise RatingInputError(f"no votes{where} in this pool" if where else
                                   "no votes match this pool")  # fmt: skip
        board = compute_leaderboard(_counts(frame, options.models), options.settings)
    table, found = board.table, ()
    if options.robustness:
        from leaderboards.robustness import neighbour_fragility

        # Each shown model against the next shown one: a hidden model is no one's neighbour.
        order = [m for m in table["model"] if m not in _hidden(pool, options)]
        found = tuple(neighbour_fragility(board.counts, order))
        cells = {f.leader: holds_unless(f) for f in found}
        table = table.assign(holds_unless=[cells.get(m, "") for m in table["model"]])
    table = with_added_columns(table, board.counts)
    if pool.clips is not None:
        from leaderboards.price_speed import with_price_speed

        table = with_price_speed(table, pool.clips, options.sort)
    return _settled(
        Board(table, leaderboard=board, fragility=found, weights=weights), pool, options
    )


def _settled(board: Board, pool: VotePool, options: BoardOptions) -> Board:
    """``board`` with each rating's provisional mark, the hidden models left out of what it
    shows, and a note for each family with more variants rated than shown."""
    table = board.table
    if table.empty or "model" not in table.columns:
        return board
    rated = list(table["model"])
    since = pool.since_change
    if since is None:  # nothing known of changes (a votes file): every vote counts
        since = _votes(table, pool)
    table = mark_provisional(table, since, options.provisional_votes)
    unknown = [n for n in options.hide if n not in rated and n not in pool.families]
    if unknown:  # (a store's pool knows every registered model, rated here or not)
        raise RatingInputError(f"--hide: no model {unknown[0]!r} on this board")
    hidden = _hidden(pool, options)
    shown = [m for m in rated if m not in hidden]
    if not shown:
        raise RatingInputError("every rated model is hidden (--hide, or no longer served)")
    notes = variant_notes(rated, shown, pool.families, options.max_variants)
    fitted = board.leaderboard
    if hidden & set(rated):
        table = hide_models(table, hidden)
        if fitted is not None:
            fitted = replace(fitted, table=hide_models(fitted.table, hidden))
    return replace(
        board, table=table, leaderboard=fitted, variants=tuple(notes),
        provisional_votes=options.provisional_votes,
    )  # fmt: skip


def _hidden(pool: VotePool, options: BoardOptions) -> set[str]:
    """The models the board fits but does not show."""
    return set(options.hide) | (set(pool.inactive) if options.hide_inactive else set())


def _votes(table: pd.DataFrame, pool: VotePool) -> dict[str, int]:
    """Each model's votes: the table's ``votes`` column, or (a style-controlled or per-aspect
    board) counted from the pool."""
    if "votes" in table.columns:
        return dict(zip(table["model"], table["votes"], strict=True))
    from leaderboards.counts import model_totals

    if pool.battles is not None and not pool.battles.empty:
        counts = pair_counts_from_battles(pool.battles[["model_a", "model_b", "winner"]])
    else:
        counts = _union([f for f in pool.counts.values() if f is not None and not f.empty])
    return model_totals(counts)["votes"].to_dict()


def _check_sort(pool: VotePool, options: BoardOptions) -> None:
    """RatingInputError for a price or speed order the board cannot give."""
    if options.sort == "rating":
        return
    from leaderboards.price_speed import SORTS

    if options.sort not in SORTS:
        raise RatingInputError(f"unknown sort {options.sort!r} (known: {', '.join(SORTS)})")
    if options.control or options.per_aspect:
        raise RatingInputError(f"sorting by {options.sort} is for the raw or composite board")
    if pool.clips is None:
        raise RatingInputError(
            f"sorting by {options.sort} needs the clips' times and prices, which a votes "
            "file does not carry (rate the store instead)"
        )


def holds_unless(f: Fragility) -> str:
    """A model's robustness cell: votes removed (flipped) that swap it with the next one."""
    removed = f"{'' if f.removed_exact else '≥ '}{f.removed} removed"
    return f"{removed} / {'' if f.flipped_exact else '≥ '}{f.flipped} flipped"


def _among(frame: pd.DataFrame | None, models: tuple[str, ...]) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame()
    if not models or frame.empty:
        return frame
    return frame[frame["model_a"].isin(models) & frame["model_b"].isin(models)]


def _counts(frame: pd.DataFrame, models: tuple[str, ...]) -> PairCounts:
    counts = pair_counts_from_frame(frame)
    return counts.restricted_to(list(models)) if models else counts


def _fitted_weights(frames: Mapping[str, pd.DataFrame], options: BoardOptions) -> dict:
    """The composite's weights; an aspect without votes is refused when it was weighed
    explicitly (or is overall), else left out."""
    weights = dict(options.weights or {})
    names = [n for n, w in weights.items() if w > 0]
    empty = [n for n in names if frames.get(n) is None or frames[n].empty]
    if empty and (options.explicit_weights or OVERALL in empty):
        raise RatingInputError(
            f"no votes for the aspect {empty[0]!r} in this pool; weigh it 0 or leave it out"
        )
    for name in empty:
        weights.pop(name)
    return weights


def _style_board(pool: VotePool, options: BoardOptions) -> Board:
    from leaderboards.style_control import FEATURES, style_board

    unknown = [f for f in options.control if f not in FEATURES]
    if unknown:
        raise RatingInputError(
            f"unknown feature(s) {', '.join(unknown)} (known: {', '.join(FEATURES)})"
        )
    if pool.battles is None or pool.battles.empty:
        raise RatingInputError("no votes match this pool")
    s = options.settings
    style = style_board(
        pool.battles, list(options.control), s.intervals, s.n_bootstrap, s.seed, ridge=s.ridge
    )

    def counts() -> PairCounts:
        return pair_counts_from_battles(pool.battles[["model_a", "model_b", "winner"]])

    return Board(with_added_columns(style.table, counts), style=style)


def _aspect_board(pool: VotePool, options: BoardOptions) -> Board:
    """Each model's rating and interval per aspect with votes (overall first), best overall
    first; an aspect whose votes cannot be fitted is left out."""
    columns: dict[str, pd.Series] = {}
    votes: dict[str, int] = {}
    fitted: list[pd.DataFrame] = []
    for aspect in pool.asked:
        frame = _among(pool.counts.get(aspect), options.models)
        if frame.empty:
            continue
        try:
            board = compute_leaderboard(frame, options.settings)
        except RatingInputError:
            continue
        table = board.table.set_index("model")
        for name in ("rating", "ci_low", "ci_high"):
            columns[f"{name}_{aspect}"] = table[name]
        votes[aspect] = board.n_votes
        fitted.append(frame)
    if not columns:
        return Board(pd.DataFrame(), aspect_votes=votes)
    frame = pd.DataFrame(columns)
    frame = frame.sort_values(next(iter(columns)), ascending=False)
    frame = frame.rename_axis("model").reset_index()
    return Board(with_added_columns(frame, lambda: _union(fitted)), aspect_votes=votes)


def _union(frames: list[pd.DataFrame]) -> PairCounts:
    """One count table with every vote of ``frames`` (the per-aspect board's added columns)."""
    merged = pd.concat([f[["model_a", "model_b", "winner", "count"]] for f in frames])
    merged = merged.groupby(["model_a", "model_b", "winner"], as_index=False, sort=True).sum()
    return pair_counts_from_frame(merged)


def with_settings(options: BoardOptions, **changes) -> BoardOptions:
    """``options`` with some fit settings changed (e.g. sandwich intervals for the tab)."""
    return replace(options, settings=replace(options.settings, **changes))
