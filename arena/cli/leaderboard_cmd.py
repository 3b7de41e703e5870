"""`paddock leaderboard`: Bradley-Terry ratings with bootstrap intervals from a store or a file."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Intervals(StrEnum):
    bootstrap = "bootstrap"
    sandwich = "sandwich"


class BoardOrder(StrEnum):
    rating = "rating"
    price = "price"
    speed = "speed"


class TiesModel(StrEnum):
    half = "half"
    davidson = "davidson"


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _anchor(text: str | None) -> tuple[str, float] | None:
    from leaderboards.errors import RatingInputError

    if not text:
        return None
    model, sep, rating = text.rpartition("=")
    try:
        if not sep or not model:
            raise ValueError
        return model, float(rating)
    except ValueError:
        raise RatingInputError(f"--anchor must look like MODEL=RATING, got {text!r}") from None


def leaderboard(
    data: DataOpt = DEFAULT_DATA,
    votes: Annotated[
        Path | None,
        typer.Option(
            "--votes",
            help="Chatbot Arena battle file (.parquet/.csv/.json/.jsonl) "
            "to rate instead of the store.",
        ),
    ] = None,
    category: Annotated[str | None, typer.Option(help="Pool: t2v or i2v.")] = None,
    audio: Annotated[
        bool | None, typer.Option("--audio/--silent", help="Pool: prompts with or without audio.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Pool: prompt tag (repeat).")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Votes cast at or after this time.")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Votes cast before this time.")] = None,
    include_flagged: Annotated[
        bool,
        typer.Option(
            "--include-flagged",
            help="Keep flagged votes (too fast) and votes of flagged or banned raters.",
        ),
    ] = False,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--models",
            help="Only votes among these models (comma-separated or "
            "repeated; two names give a head-to-head).",
        ),
    ] = None,
    ci: Annotated[
        Intervals,
        typer.Option(
            "--ci", help="Intervals: bootstrap percentiles, or sandwich (robust, no resampling)."
        ),
    ] = Intervals.bootstrap,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    min_votes: Annotated[int, typer.Option(help="Fewer votes: marked preliminary.")] = 50,
    provisional_votes: Annotated[
        int | None,
        typer.Option(
            "--provisional-votes",
            min=1,
            help="Fewer votes since the model was added or last changed: marked provisional "
            "(default: paddock.toml's [leaderboard] provisional_votes, else 500).",
        ),
    ] = None,
    max_variants: Annotated[
        int | None,
        typer.Option(
            "--max-variants",
            min=1,
            help="More variants of one family rated than this, some of them not shown: the "
            "board says how many were rated (default: paddock.toml's [leaderboard] "
            "max_variants, else 3).",
        ),
    ] = None,
    hide: Annotated[
        list[str] | None,
        typer.Option(
            "--hide",
            help="Models rated but not shown (comma-separated or repeated); their votes still "
            "rate the others.",
        ),
    ] = None,
    hide_inactive: Annotated[
        bool,
        typer.Option(
            "--hide-inactive", help="Do not show models that are no longer served (as the tab)."
        ),
    ] = False,
    ties: Annotated[TiesModel, typer.Option(help="Tie handling: half a win, or Davidson.")] = (
        TiesModel.half
    ),
    position_bias: Annotated[
        bool, typer.Option("--position-bias", help="Fit and report a left-side advantage.")
    ] = False,
    exclude_bothbad: Annotated[
        bool, typer.Option("--exclude-bothbad", help="Drop both-bad votes.")
    ] = False,
    anchor: Annotated[
        str | None, typer.Option(help="Pin one model's rating, e.g. pony=1000.")
    ] = None,
    ipw: Annotated[
        bool, typer.Option("--ipw", help="Weight votes by 1 / sampling probability.")
    ] = False,
    ridge: Annotated[float, typer.Option(help="Ridge penalty on log-strengths.")] = 0.01,
    control: Annotated[
        list[str] | None,
        typer.Option(
            "--control",
            help="Style control: features to take out (duration, frame_size, loudness, "
            "has_audio, speech, motion, sharpness; comma-separated): from each clip in the store, "
            "or from <name>_a / <name>_b columns of the --votes file.",
        ),
    ] = None,
    robustness: Annotated[
        bool,
        typer.Option(
            "--robustness",
            help="For each model, the fewest votes whose removal (or flip) puts the next "
            "model above it (a refit per step: slow on large boards).",
        ),
    ] = False,
    aspect: Annotated[
        str | None,
        typer.Option(
            "--aspect",
            help="Rate one follow-up question's answers (picture, sound, prompt, consistency) "
            "instead of the overall votes.",
        ),
    ] = None,
    composite: Annotated[
        bool,
        typer.Option(
            "--composite",
            help="One rating fitted across the overall votes and the follow-up answers "
            "(weighted by --weights).",
        ),
    ] = False,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            help="Weights of --composite, e.g. overall=1,sound=0.5 (default: each asked "
            "aspect with votes weighs 1).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
    sort: Annotated[
        BoardOrder,
        typer.Option(
            "--sort",
            help="Row order: rating, price (cheapest per minute of video first) or speed "
            "(fastest per second of video first); models without the figure last.",
        ),
    ] = BoardOrder.rating,
    snapshot: Annotated[
        Path | None, typer.Option(help="Write a reproducible snapshot (JSON + CSV) here.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Write the PNG figures here (with the price and speed charts)."),
    ] = None,
) -> None:
    """Rate models from votes: Bradley-Terry on the Elo scale with 95% intervals."""
    store_only = (category, audio, tag, since, until)
    # DuckDB reads and aggregates the file without holding the GIL: start it now, so that it
    # runs while the rating code below is imported (about half of the command's time).
    plain = not (control or composite or include_flagged) and aspect is None and weights is None
    reading = None
    if votes is not None and plain and all(v is None for v in store_only):
        from arena.io.board_votes import start_reading

        reading = start_reading(votes)
    # Imports stay inside: `paddock --help` and the other commands should not pay for them.
    from arena.cli.leaderboard_print import print_board, write_plots, write_snapshot
    from arena.io.board_file import load_board_settings
    from arena.io.board_votes import asked_aspects, read_pool
    from leaderboards.board import BoardOptions, build_board, composite_weights
    from leaderboards.leaderboard import RatingSettings

    settings = RatingSettings(
        ties=ties.value,
        position_bias=position_bias,
        exclude_bothbad=exclude_bothbad,
        anchor=_anchor(anchor),
        ipw=ipw,
        ridge=ridge,
        n_bootstrap=bootstrap,
        seed=seed,
        min_votes=min_votes,
        intervals=ci.value,
    )
    features = _split(control)
    names, tags = _split(models), _split(tag)
    combined = composite or weights is not None
    asked = None
    if aspect is not None or combined:
        asked = asked_aspects()
        _check_aspect_options(aspect, combined, features, asked)
    if features:
        _refuse_with_control(category, audio, tag, since, until, models, robustness, plot)
    if votes is not None and not features:  # a file is rated whole, also in a composite
        _refuse_store_filters(category, audio, tags, since, until, include_flagged)
    if votes is not None and hide_inactive:
        from leaderboards.errors import RatingInputError

        raise RatingInputError("--hide-inactive reads the store's models; a --votes file has none")
    weighed, explicit = composite_weights(weights, asked) if combined else (None, False)
    file_settings = load_board_settings()
    options = BoardOptions(
        settings=settings, models=tuple(names), aspect=aspect, weights=weighed,
        explicit_weights=explicit, control=tuple(features), robustness=robustness,
        sort=sort.value,
        provisional_votes=provisional_votes or file_settings.provisional_votes,
        max_variants=max_variants or file_settings.max_variants,
        hide=tuple(_split(hide)), hide_inactive=hide_inactive,
    )  # fmt: skip
    filters = None
    if votes is None and not features:  # the style-controlled board rates every vote
        from arena.store import VoteFilter

        filters = VoteFilter(
            category=category, audio=audio, tags=tags or None, since=since, until=until,
            exclude_flagged=not include_flagged, models=names or None,
        )  # fmt: skip
    pool_votes = read_pool(options, data=data, votes=votes, filters=filters, asked=asked,
                           first=reading)  # fmt: skip
    board = build_board(pool_votes, options)
    if board.weights is not None:
        shown = ", ".join(f"{n}={w:g}" for n, w in board.weights.items() if w > 0)
        typer.echo(f"composite of {shown}", err=True)
    if board.fragility:
        typer.echo(board.fragility[0].sentence(), err=True)
    if output_format.value in ("json", "csv"):  # the table and Markdown say it themselves
        for note in board.variants:
            typer.echo(note.sentence(), err=True)
    print_board(board, output_format.value)
    if snapshot is not None and board.style is None:  # (a controlled board has none yet)
        write_snapshot(board, snapshot, _pool_record(options, data, votes, filters, weights))
    if plot is not None:
        write_plots(board, plot)


def _pool_record(options, data: Path, votes: Path | None, filters, weights: str | None) -> dict:
    """The snapshot's record of which votes were rated."""
    pool: dict = {"models": list(options.models) or None}
    if options.aspect:
        pool["aspect"] = options.aspect
    if options.weights is not None:
        pool["composite"] = weights or "equal"
    if votes is not None:
        return {**pool, "votes_file": str(votes)}
    return {
        **pool,
        "data": str(data),
        "category": filters.category,
        "audio": filters.audio,
        "tags": list(filters.tags) if filters.tags else None,
        "since": filters.since.isoformat() if filters.since else None,
        "until": filters.until.isoformat() if filters.until else None,
        "exclude_flagged": filters.exclude_flagged,
    }


def _check_aspect_options(
    aspect: str | None, composite: bool, control: list[str], asked: tuple[str, ...]
) -> None:
    """RatingInputError for options that do not go together, or an aspect not asked."""
    from leaderboards.errors import RatingInputError

    if aspect is not None and composite:
        raise RatingInputError("--aspect rates one aspect; --composite fits them together")
    if control:
        raise RatingInputError(
            "--control fits the overall votes; it does not combine with --aspect or --composite"
        )
    if aspect is not None and aspect not in asked:
        raise RatingInputError(
            f"--aspect {aspect!r}: this arena does not ask about it (it asks {', '.join(asked)})"
        )


def _refuse_with_control(*given: object) -> None:
    """RatingInputError naming the options that the style-controlled board does not take yet
    (it rates every vote of the store or the file): refused, not silently ignored."""
    from leaderboards.errors import RatingInputError

    names = ("--category", "--audio/--silent", "--tag", "--since", "--until", "--models",
             "--robustness", "--plot")  # fmt: skip
    unset = (None, None, None, None, None, None, False, None)  # the options' defaults
    used = [n for n, v, d in zip(names, given, unset, strict=True) if v is not d and v != []]
    if used:
        raise RatingInputError(
            f"--control rates every vote; it does not combine with {', '.join(used)} "
            "(run those without --control)"
        )


def _refuse_store_filters(category, audio, tags, since, until, include_flagged) -> None:
    """RatingInputError for filters of a store's votes given with a --votes file."""
    from leaderboards.errors import RatingInputError

    filters = {"--category": category, "--audio/--silent": audio, "--tag": tags or None,
               "--since": since, "--until": until}  # fmt: skip
    used = [flag for flag, value in filters.items() if value is not None]
    if used or include_flagged:
        raise RatingInputError(
            f"{', '.join(used or ['--include-flagged'])} select votes in a store (--data); "
            f"a --votes file is rated as a whole (filter it first, or use --models)"
        )


def register(app: typer.Typer) -> None:
    """Add the `leaderboard` command to the `paddock` app."""
    app.command("leaderboard")(leaderboard)
