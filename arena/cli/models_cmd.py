"""`paddock models`: list, add and sync the models of a data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store

models_app = typer.Typer(help="Register and list models.", no_args_is_help=True)


@models_app.command("list")
def models_list(data: DataOpt = DEFAULT_DATA) -> None:
    """List registered models (with the family a board counts their variants in)."""
    from arena.domain.families import model_families

    with open_store(data, read_only=True) as store:
        models = store.models()
        families = model_families(models)
        for m in models:
            flag = "" if m.active else "  (inactive)"
            family = "" if families[m.name] == m.name else f"\tfamily {families[m.name]}"
            echo(f"{m.name}\t{m.kind}\t{m.generator or '-'}{family}{flag}")


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


@models_app.command("change")
def models_change(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A registered model.")],
    generator: Annotated[str, typer.Option("--generator", help="The new generator spec.")],
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Replace a model's generator in place; its rating is provisional again until it has the
    provisional votes since now."""
    from arena.domain.registration import change_model_generator

    with open_store(data) as store:
        model = change_model_generator(store, name, generator)
    echo(f"changed model {model.name}: {model.generator} (rating provisional from now)")


@models_app.command("deactivate")
def models_deactivate(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A registered model.")],
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Stop serving a model in battles; its votes stay and still rate the others, and the
    arena's Leaderboard tab no longer shows it."""
    with open_store(data) as store:
        store.set_model_active(name, False)
    echo(f"model {name} is no longer served")


@models_app.command("activate")
def models_activate(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A registered model.")],
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Serve a model in battles again (not a change: its earlier votes still count)."""
    with open_store(data) as store:
        store.set_model_active(name, True)
    echo(f"model {name} is served again")


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
    for name in report.family_set:
        echo(f"family of {name} set")
    echo(f"{len(report.added)} added, {len(report.unchanged)} unchanged")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
