"""`paddock backup`: a consistent copy of a data dir, taken through the server while it serves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo


def backup(
    out: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="New (or empty) folder for the copy.")
    ],
    data: DataOpt = DEFAULT_DATA,
    clips: Annotated[
        bool, typer.Option("--clips/--no-clips", help="Take the clip files too (hard links).")
    ] = True,
) -> None:
    """Copy the DuckDB file (consistent) and its clips into OUT; while `paddock serve` owns the
    data dir the server takes the copy (needs PADDOCK_ADMIN_TOKEN or PADDOCK_ADMIN_TOKEN_FILE)."""
    from arena.io.backup import backup as take_backup

    report = take_backup(data, out, clips=clips)
    echo(
        f"backed up {report.votes} votes, {report.battles} battles and {report.clips} clips "
        f"({report.clips_linked} linked, {report.clips_copied} copied) to {report.out} "
        f"in {report.seconds:.2f} s ({report.via})"
    )


def register(app: typer.Typer) -> None:
    """Add the `backup` command to the `paddock` app."""
    app.command("backup")(backup)
