"""`paddock providers list|check`: the hosted video APIs Paddock knows by name."""

from __future__ import annotations

from typing import Annotated

import typer

providers_app = typer.Typer(help="Hosted video APIs known by name (fal, Runway, Veo, ...).")


@providers_app.command("list")
def providers_list() -> None:
    """Every preset: its spec, environment variables (set or not), T2V/I2V/audio."""
    from generators.providers.overview import provider_rows

    for row in provider_rows():
        env = ", ".join(f"{name} ({'set' if ok else 'not set'})" for name, ok in row.env.items())
        kinds = "/".join(k for k, ok in (("T2V", row.t2v), ("I2V", row.i2v)) if ok)
        audio = {"never": "silent", "always": "audio", "optional": "audio on/off"}[row.audio]
        typer.echo(f"{row.kind}\t{row.spec}\t{env}\t{kinds}, {audio} (e.g. {row.example})")
        if row.note:
            typer.echo(f"\t{row.note}")


@providers_app.command("check")
def providers_check(
    name: Annotated[
        str, typer.Argument(metavar="KIND", help="Provider kind: fal, runway, google, ...")
    ],
    model: Annotated[
        str | None, typer.Option(help="Model the check names, where it needs one.")
    ] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Another endpoint.")] = None,
) -> None:
    """Make the provider's cheapest authenticated call (none is made where it has none)."""
    from generators.providers.overview import check_provider

    typer.echo(check_provider(name, model, base_url))


def register(app: typer.Typer) -> None:
    app.add_typer(providers_app, name="providers")
