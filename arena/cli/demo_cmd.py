"""`paddock init` and `demo`: make a data dir (and, for the demo, fill it and serve it)."""

from __future__ import annotations

from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store


def init(data: DataOpt = DEFAULT_DATA) -> None:
    """Create a data dir with the built-in model, its baselines and the default prompt suite."""
    from arena.domain.registration import ensure_builtin_models
    from arena.io.prompt_files import ensure_suite

    with open_store(data) as store:
        models = ensure_builtin_models(store)
        prompts = ensure_suite(store)
    echo(f"{data}: {len(models)} models, {len(prompts)} prompts")


def demo(
    data: DataOpt = DEFAULT_DATA,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve when built.")] = True,
    workers: Annotated[int, typer.Option(help="Generation worker processes.")] = 2,
    full: Annotated[bool, typer.Option(help="With --no-serve: build the whole suite.")] = False,
    duration: Annotated[float, typer.Option(help="Clip length in seconds (1-15).")] = 5.0,
    resolution: Annotated[str, typer.Option(help="480p, 720p or 1080p.")] = "720p",
) -> None:
    """From nothing to a running arena: models, prompts, a first set of clips, then serve."""
    from arena.jobs.generation import GenerationSettings
    from arena.web.demo import run_demo

    settings = GenerationSettings(duration_s=duration, resolution=resolution)
    run_demo(data, host=host, port=port, serve=serve, workers=workers, full=full, settings=settings)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(demo)
