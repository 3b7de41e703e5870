"""`paddock models`: list, add and sync the models of a data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store

models_app = typer.Typer(help="Register and list models.", no_args_is_help=True)


@models_app.command("list")
def models_list(data: DataOpt = DEFAULT_DATA) -> None:
    """List registered models."""
    with open_store(data, read_only=True) as store:
        for m in store.models():
            flag = "" if m.active else "  (inactive)"
            echo(f"{m.name}\t{m.kind}\t{m.generator or '-'}{flag}")


@models_app.command("add")
def models_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Name shown on the board.")],
    generator: Annotated[str | None, typer.Option("--generator", help="Generator spec.")] = None,
    parent: Annotated[str | None, typer.Option(help="Parent model (for checkpoints).")] = None,
    kind: Annotated[str | None, typer.Option(help="Model kind; inferred when omitted.")] = None,
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Register a model (a checkpoint when --parent is given)."""
    from arena.domain.registration import register_model

    with open_store(data) as store:
        model = register_model(store, name, generator, parent, kind)
    echo(f"added model {model.name} ({model.kind})")


@models_app.command("sync")
def models_sync(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="CONFIG", help="paddock.toml ($PADDOCK_CONFIG or ./paddock.toml by default)."
        ),
    ] = None,
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Register every model of a paddock.toml that is not registered yet (all or nothing)."""
    from arena.io.models_file import load_models_file, sync_models
    from generators.config_file import paddock_toml_path

    decls = load_models_file(file or paddock_toml_path())
    with open_store(data) as store:
        report = sync_models(store, decls)
    specs = {d.name: d.spec for d in decls}
    for name in report.added:
        echo(f"added {name}\t{specs[name]}")
    for name in report.unchanged:
        echo(f"unchanged {name}")
    echo(f"{len(report.added)} added, {len(report.unchanged)} unchanged")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
