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
    snapshot: Annotated[
        Path | None, typer.Option(help="Write a reproducible snapshot (JSON + CSV) here.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write the four PNG figures here.")] = None,
) -> None:
    """Rate models from votes: Bradley-Terry on the Elo scale with 95% intervals."""
    store_only = (category, audio, tag, since, until)
    # DuckDB reads and aggregates the file without holding the GIL: start it now, so that it
    # runs while the rating code below is imported (about half of the command's time).
    reading = (
        _read_in_background(votes)
        if votes is not None
        and all(v is None for v in store_only)
        and not include_flagged
        and not control
        and aspect is None
        and not composite
        else None
    )
    # Imports stay inside: `paddock --help` and the other commands should not pay for them.
    from leaderboards.counts import pair_counts_from_frame
    from leaderboards.errors import RatingInputError
    from leaderboards.leaderboard import RatingSettings, compute_leaderboard

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
    if aspect is not None or composite or weights is not None:
        from arena.cli.leaderboard_aspects import check_options

        check_options(aspect, composite or weights is not None, features)
    if features:
        from arena.cli.leaderboard_style import refuse_with_control, style_control

        refuse_with_control(category, audio, tag, since, until, models, robustness, plot)
        style_control(data, votes, features, ci.value, bootstrap, seed, ridge, output_format.value)
        return
    names = _split(models)
    tags = _split(tag)
    pool: dict = {"models": names or None, **({"aspect": aspect} if aspect else {})}
    board = None
    if votes is not None:  # a file is rated whole, also in a composite
        filters = {"--category": category, "--audio/--silent": audio, "--tag": tags or None,
                   "--since": since, "--until": until}  # fmt: skip
        used = [flag for flag, value in filters.items() if value is not None]
        if used or include_flagged:
            raise RatingInputError(
                f"{', '.join(used or ['--include-flagged'])} select votes in a store (--data); "
                f"a --votes file is rated as a whole (filter it first, or use --models)"
            )
    if composite or weights is not None:
        from arena.cli.leaderboard_aspects import composite_board

        store_filters = dict(
            category=category, audio=audio, tags=tags or None, since=since, until=until,
            exclude_flagged=not include_flagged, models=names or None,
        )  # fmt: skip
        board = composite_board(data, votes, weights, settings, store_filters, names)
        pool.update(composite=weights or "equal", **({"votes_file": str(votes)} if votes else {}))
    elif votes is not None:
        from arena.store import aggregate_votes_file

        frame = reading() if reading else aggregate_votes_file(votes, aspect or "overall")
        pool["votes_file"] = str(votes)
    else:
        from arena.store import Store

        # A consistent copy while the server owns the file (DuckDB admits one writer process).
        with Store.open_snapshot(data) as store:
            frame = store.vote_counts(
                category=category,
                audio=audio,
                tags=tags or None,
                since=since,
                until=until,
                exclude_flagged=not include_flagged,
                models=names or None,
                aspect=aspect or "overall",
            )
        pool.update(
            data=str(data),
            category=category,
            audio=audio,
            tags=tags or None,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            exclude_flagged=not include_flagged,
        )
    if board is None:
        if frame.empty and aspect is not None:
            raise RatingInputError(f"no votes for the aspect {aspect!r} in this pool")
        if frame.empty:
            raise RatingInputError("no votes match this pool")
        counts = pair_counts_from_frame(frame)
        if names:
            counts = counts.restricted_to(names)
        board = compute_leaderboard(counts, settings)
    if robustness:
        board = _with_robustness(board)
    _print(board, output_format)
    if snapshot is not None:
        _write_snapshot(board, snapshot, pool)
    if plot is not None:
        _write_plots(board, plot)


def _read_in_background(path: Path):
    """Start aggregating a votes file on a thread; returns a function that waits for the table."""
    import threading

    result: dict = {}

    def work() -> None:
        try:
            from arena.store.vote_files import aggregate_votes_columns  # no pandas: see wait()

            result["frame"] = aggregate_votes_columns(path)
        except BaseException as exc:  # handed to the caller, who reports it
            result["error"] = exc

    thread = threading.Thread(target=work, name="read-votes", daemon=True)
    thread.start()

    def wait():
        thread.join()
        if "error" in result:
            raise result["error"]
        import pandas as pd  # imported meanwhile by this thread, with the rating code

        return pd.DataFrame(result["frame"])

    return wait


def _with_robustness(board):
    """The board with a `holds_unless` column: votes removed (flipped) to swap with the next."""
    from dataclasses import replace

    from leaderboards.robustness import neighbour_fragility

    order = list(board.table["model"])
    found = neighbour_fragility(board.counts, order)
    cells = [
        f"{'' if f.removed_exact else '≥ '}{f.removed} removed / "
        f"{'' if f.flipped_exact else '≥ '}{f.flipped} flipped"
        for f in found
    ]
    table = board.table.copy()
    table["holds_unless"] = [*cells, ""]
    if found:
        typer.echo(found[0].sentence(), err=True)
    return replace(board, table=table)


def _print(board, output_format: OutputFormat) -> None:
    from leaderboards import snapshot as text

    if output_format is OutputFormat.json:
        import json

        typer.echo(json.dumps(text.table_records(board), indent=2))
    elif output_format is OutputFormat.csv:
        typer.echo(text.table_csv(board), nl=False)
    elif output_format is OutputFormat.markdown:
        typer.echo(text.table_markdown(board), nl=False)
    else:
        _print_rich(board)


def _print_rich(board) -> None:
    from rich.console import Console

    from leaderboards.columns import display_columns
    from leaderboards.snapshot import table_records

    records = table_records(board)
    shown = display_columns(records)
    console = Console()
    table = _rich_table(board, records, shown)
    below = []
    # The robustness cells are long: where the table would wrap them into a column a few
    # letters wide, they go under it, one model a line.
    if "holds_unless" in records[0] and _natural_width(console, table) > console.width:
        shown = [c for c in shown if c.needs != "holds_unless"]
        table = _rich_table(board, records, shown)
        below = [
            f"{a['model']} is ahead of {b['model']} unless {a['holds_unless']}"
            for a, b in zip(records, records[1:], strict=False)
        ]
    console.print(table)
    for line in below:
        console.print(line, soft_wrap=True)
    for row in records:
        if row["note"]:
            console.print(f"{row['model']}: {row['note']}")
    if board.position_bias is not None:
        b = board.position_bias
        console.print(
            f"left-side advantage: {b.value:+.1f} Elo (95% CI {b.low:+.1f} to {b.high:+.1f})"
        )
    if board.tie_parameter is not None:
        t = board.tie_parameter
        console.print(
            f"Davidson tie parameter nu: {t.value:.3f} (95% CI {t.low:.3f} to {t.high:.3f})"
        )


def _natural_width(console, table) -> int:
    """The width the table takes unwrapped (rich measures within the console's width)."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(10_000), table).maximum


def _rich_table(board, records: list[dict], shown: list):
    from rich.table import Table

    table = Table(title=f"Leaderboard: {board.n_votes} votes, {len(board.table)} models")
    for column in shown:
        table.add_column(column.header, justify=column.align)
    for row in records:
        marked = {
            **row,
            "model": row["model"] + (" [dim](preliminary)[/dim]" if row["preliminary"] else ""),
        }
        table.add_row(*(column.cell(marked) for column in shown))
    return table


def _write_snapshot(board, directory: Path, pool: dict) -> None:
    from datetime import UTC

    from leaderboards.snapshot import snapshot_json, table_csv

    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"leaderboard-{board.vote_set_hash[:12]}"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    stem.with_suffix(".json").write_text(snapshot_json(board, pool, created), encoding="utf-8")
    stem.with_suffix(".csv").write_text(table_csv(board), encoding="utf-8")
    typer.echo(f"snapshot: {stem}.json, {stem}.csv", err=True)


def _write_plots(board, directory: Path) -> None:
    from leaderboards.plots import figure_png, leaderboard_figures

    directory.mkdir(parents=True, exist_ok=True)
    for name, figure in leaderboard_figures(board).items():
        (directory / f"{name}.png").write_bytes(figure_png(figure))
    typer.echo(
        f"plots: {directory}/{{ratings,win_rate,battle_count,rating_vs_votes}}.png", err=True
    )


def register(app: typer.Typer) -> None:
    """Add the `leaderboard` command to the `paddock` app."""
    app.command("leaderboard")(leaderboard)
