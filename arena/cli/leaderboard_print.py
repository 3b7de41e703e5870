"""`paddock leaderboard`'s output: a built board in each format, its snapshot and its figures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer


def print_board(board, output_format: str) -> None:
    """Print a `leaderboards.board.Board` as a terminal table, JSON, CSV or Markdown."""
    from leaderboards import snapshot as text

    if board.style is not None:
        if output_format == "json":
            typer.echo(text.style_json(board))
        elif output_format == "csv":
            typer.echo(board.table.to_csv(index=False), nl=False)
        elif output_format == "markdown":
            typer.echo(text.style_markdown(board))
        else:
            _print_style_rich(board)
        return
    if output_format == "json":
        import json

        typer.echo(json.dumps(text.table_records(board), indent=2))
    elif output_format == "csv":
        typer.echo(text.table_csv(board), nl=False)
    elif output_format == "markdown":
        typer.echo(text.table_markdown(board), nl=False)
    else:
        _print_rich(board)


def _print_rich(board) -> None:
    from rich.console import Console

    from leaderboards.columns import display_columns
    from leaderboards.snapshot import table_records

    records = table_records(board)
    shown = display_columns(records)
    # A provisional rating's mark goes beside its votes: the model column is the widest already.
    marked = [
        {**r, "model": r["model"] + _marks(r["preliminary"], " [dim](preliminary)[/dim]"),
         "votes": f"{r['votes']}" + _marks(r.get("provisional"), " †")}
        for r in records
    ]  # fmt: skip
    title = f"Leaderboard: {board.n_votes} votes, {len(board.table)} models"
    console = Console()
    table = _rich_table(title, shown, marked)
    below = []
    # The robustness cells are long: where the table would wrap them into a column a few
    # letters wide, they go under it, one model a line.
    if "holds_unless" in records[0] and _natural_width(console, table) > console.width:
        shown = [c for c in shown if c.needs != "holds_unless"]
        table = _rich_table(title, shown, marked)
        below = [
            f"{a['model']} is ahead of {b['model']} unless {a['holds_unless']}"
            for a, b in zip(records, records[1:], strict=False)
        ]
    priced = [c for c in shown if c.needs in _PRICE_NEEDS]
    if priced and _natural_width(console, table) > console.width:
        # Too wide with the price and speed columns: they get a table of their own below.
        table = _rich_table(title, [c for c in shown if c not in priced], marked)
        below_table = _rich_table("Price and speed", shown[:2] + priced, records)
        console.print(table)
        console.print(below_table)
    else:
        console.print(table)
    for line in below:
        console.print(line, soft_wrap=True)
    for row in records:
        if row["note"]:
            console.print(f"{row['model']}: {row['note']}")
    if any(r.get("provisional") for r in records):
        from leaderboards.snapshot import provisional_sentence

        console.print(f"† provisional: {provisional_sentence(board)}")
    for note in board.variants:
        console.print(note.sentence())
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


_PRICE_NEEDS = ("gen_s_per_clip_s", "price_per_clip", "price_per_min", "clips_priced")


def _marks(flag: bool | None, mark: str) -> str:
    return mark if flag else ""


def _print_style_rich(board) -> None:
    from rich.console import Console

    from leaderboards.snapshot import style_display, style_notes

    title = f"Style-controlled leaderboard: {board.n_votes} votes"
    console = Console()
    rows = [
        {**r, "model": r["model"] + _marks(r.get("provisional"), " †")}
        for r in board.table.to_dict(orient="records")
    ]
    console.print(_rich_table(title, style_display(), rows))
    for note in style_notes(board.style):
        console.print(note)
    if any(r.get("provisional") for r in rows):
        from leaderboards.snapshot import provisional_sentence

        console.print(f"† provisional: {provisional_sentence(board)}")
    for note in board.variants:
        console.print(note.sentence())


def _natural_width(console, table) -> int:
    """The width the table takes unwrapped (rich measures within the console's width)."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(10_000), table).maximum


def _rich_table(title: str, shown: list, rows: list[dict]):
    from rich.table import Table

    table = Table(title=title)
    for column in shown:
        table.add_column(column.header, justify=column.align)
    for row in rows:
        table.add_row(*(column.cell(row) for column in shown))
    return table


def write_snapshot(board, directory: Path, pool: dict) -> None:
    """The board as a reproducible snapshot (JSON) and its table (CSV) in ``directory``."""
    from leaderboards.snapshot import snapshot_json, table_csv

    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"leaderboard-{board.vote_set_hash[:12]}"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    stem.with_suffix(".json").write_text(snapshot_json(board, pool, created), encoding="utf-8")
    stem.with_suffix(".csv").write_text(table_csv(board), encoding="utf-8")
    typer.echo(f"snapshot: {stem}.json, {stem}.csv", err=True)


def write_plots(board, directory: Path) -> None:
    """The board's figures as PNG files in ``directory``: the four of every board, and the
    price and speed Pareto charts when the board has those columns (read from a store)."""
    from leaderboards.plots import figure_png, leaderboard_figures, pareto_figures

    directory.mkdir(parents=True, exist_ok=True)
    figures = leaderboard_figures(board.leaderboard) | pareto_figures(board.table)
    for name, figure in figures.items():
        (directory / f"{name}.png").write_bytes(figure_png(figure))
    typer.echo(f"plots: {directory}/{{{','.join(figures)}}}.png", err=True)
