"""What every command module shares: the data-dir option, output, opening the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataOpt = Annotated[
    Path,
    typer.Option("--data", envvar="PADDOCK_DATA", help="Data dir (DuckDB file and clips)."),
]
DEFAULT_DATA = Path("paddock-data")


def echo(message: str) -> None:
    typer.echo(message)


def open_store(data: Path, read_only: bool = False, create: bool = True):
    from arena.store import Store

    return Store.open(data, read_only=read_only, create=create)
