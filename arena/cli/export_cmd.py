"""`paddock export dataset`: Parquet tables and a data card, read from a snapshot of the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo

export_app = typer.Typer(help="Export the arena's data for publication.", no_args_is_help=True)


@export_app.command("dataset")
def export_dataset_cmd(
    out: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="Empty folder to write the dataset into.")
    ],
    data: DataOpt = DEFAULT_DATA,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the dataset files in a non-empty folder.")
    ] = False,
    with_clips: Annotated[
        bool, typer.Option("--with-clips", help="Also copy the clip files.")
    ] = False,
    license: Annotated[
        str, typer.Option("--license", help="SPDX licence of the votes and metric values.")
    ] = "CC-BY-4.0",
) -> None:
    """Votes (Chatbot Arena layout), clips, prompts and metric results as Parquet, with a data card.

    Reads a consistent snapshot of the store, so it works while `paddock serve` runs.
    """
    from arena.io.dataset_export import check_target, export_dataset
    from arena.store import Store

    check_target(out, force)  # before opening the store: a bad target changes nothing
    with Store.open_snapshot(data) as store:
        report = export_dataset(store, out, force=force, with_clips=with_clips, license=license)
    rows = ", ".join(f"{name} {n}" for name, n in report.rows.items())
    echo(f"wrote {out}: {rows}" + (f", {report.clip_files} clip files" if with_clips else ""))


def register(app: typer.Typer) -> None:
    """Add the `export` command group to the `paddock` app."""
    app.add_typer(export_app, name="export")
