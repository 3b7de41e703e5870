"""`paddock prompts`: list prompts and import prompt files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store

prompts_app = typer.Typer(help="List and import prompts.", no_args_is_help=True)


@prompts_app.command("list")
def prompts_list(
    data: DataOpt = DEFAULT_DATA,
    category: Annotated[str | None, typer.Option(help="t2v or i2v.")] = None,
) -> None:
    """List prompts."""
    with open_store(data, read_only=True) as store:
        for p in store.prompts(category=category):
            echo(f"{p.id}\t{p.category}\t{'audio' if p.audio else 'silent'}\t{p.text}")


@prompts_app.command("import")
def prompts_import(file: Path, data: DataOpt = DEFAULT_DATA) -> None:
    """Import prompts from a JSONL or CSV file (text and category required)."""
    from arena.io.prompt_files import load_prompts_file

    prompts = load_prompts_file(file)
    with open_store(data) as store:
        n = store.upsert_prompts(prompts)
    echo(f"imported {n} prompts")


def register(app: typer.Typer) -> None:
    app.add_typer(prompts_app, name="prompts")
