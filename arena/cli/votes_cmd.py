"""`paddock votes`: export and import votes in Chatbot Arena's battle layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store

votes_app = typer.Typer(
    help="Export and import votes (Chatbot Arena battle layout).", no_args_is_help=True
)


@votes_app.command("export")
def votes_export(
    out: Annotated[Path, typer.Argument(metavar="FILE", help="Votes file to write.")],
    data: DataOpt = DEFAULT_DATA,
    fmt: Annotated[str | None, typer.Option("--format", help="parquet, csv or jsonl.")] = None,
) -> None:
    """Export every vote as Chatbot Arena battle rows."""
    from arena.io.battle_files import export_votes

    with open_store(data, read_only=True) as store:
        n = export_votes(store, out, fmt)
    echo(f"wrote {n} votes to {out}")


@votes_app.command("import")
def votes_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Votes file to read.")],
    data: DataOpt = DEFAULT_DATA,
    fmt: Annotated[str | None, typer.Option("--format", help="parquet, csv or jsonl.")] = None,
    add_models: Annotated[bool, typer.Option(help="Register unknown models as imported.")] = False,
) -> None:
    """Import votes in the Chatbot Arena battle layout (all or nothing)."""
    from rich.console import Console

    from arena.io.battle_files import import_votes

    with open_store(data) as store, Console(stderr=True).status("importing votes") as status:
        n = import_votes(
            store,
            file,
            fmt,
            add_models=add_models,
            progress=lambda step: status.update(f"importing votes: {step}"),
        )
    echo(f"imported {n} votes")


def register(app: typer.Typer) -> None:
    app.add_typer(votes_app, name="votes")
