"""`paddock clips import`: bring in ready clips from a folder or a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store

clips_app = typer.Typer(help="Import ready clips.", no_args_is_help=True)


@clips_app.command("import")
def clips_import(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="SOURCE", help="Folder MODEL/PROMPT_ID.mp4, or a CSV/JSONL manifest."
        ),
    ],
    data: DataOpt = DEFAULT_DATA,
    keep_going: Annotated[
        bool, typer.Option(help="Import the good clips even when some are bad.")
    ] = False,
) -> None:
    """Import ready clips; each bad file is reported, and by default a bad file imports nothing."""
    from arena.io.clip_import import import_clips
    from arena.io.serving_file import load_serving_profile
    from arena.jobs.serving_renditions import render_for_serving

    serving = load_serving_profile()  # a bad [serving] section stops here, naming the key
    with open_store(data) as store:
        report = import_clips(store, source, keep_going=keep_going)
    for line in report.errors:
        typer.echo(f"error: {line}", err=True)
    if report.errors and not keep_going:
        typer.echo(f"nothing imported: {len(report.errors)} bad clip(s)", err=True)
        raise typer.Exit(2)
    echo(f"imported {report.imported} clips")
    not_served = render_for_serving(data, serving, echo) if report.imported else 0
    if report.errors or not_served:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.add_typer(clips_app, name="clips")
