"""`paddock models sync`: register the models a paddock.toml declares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli import DEFAULT_DATA, DataOpt, echo, models_app, open_store


@models_app.command("sync")
def models_sync(
    file: Annotated[
        Path | None,
        typer.Argument(help="paddock.toml ($PADDOCK_CONFIG or ./paddock.toml by default)."),
    ] = None,
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Register every model of a paddock.toml that is not registered yet (all or nothing)."""
    from arena.io.models_file import default_models_file, load_models_file, sync_models

    decls = load_models_file(file or default_models_file())
    with open_store(data) as store:
        report = sync_models(store, decls)
    specs = {d.name: d.spec for d in decls}
    for name in report.added:
        echo(f"added {name}\t{specs[name]}")
    for name in report.unchanged:
        echo(f"unchanged {name}")
    echo(f"{len(report.added)} added, {len(report.unchanged)} unchanged")


def register(app: typer.Typer) -> None:
    """The command is declared on the `models` group when this module is imported."""
