"""The `paddock` command: a thin typer layer over the library's functions."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from generators.errors import PaddockError

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

app = typer.Typer(
    help="Paddock: a blind-preference arena for video generation models with native audio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Register and list models.", no_args_is_help=True)
prompts_app = typer.Typer(help="List and import prompts.", no_args_is_help=True)
clips_app = typer.Typer(help="Import ready clips.", no_args_is_help=True)
votes_app = typer.Typer(
    help="Export and import votes (Chatbot Arena battle layout).", no_args_is_help=True
)
app.add_typer(models_app, name="models")
app.add_typer(prompts_app, name="prompts")
app.add_typer(clips_app, name="clips")
app.add_typer(votes_app, name="votes")

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


@app.command()
def init(data: DataOpt = DEFAULT_DATA) -> None:
    """Create a data dir with the built-in model, its baselines and the default prompt suite."""
    from arena.domain.catalog import ensure_builtin_models, ensure_suite

    with open_store(data) as store:
        models = ensure_builtin_models(store)
        prompts = ensure_suite(store)
    echo(f"{data}: {len(models)} models, {len(prompts)} prompts")


@app.command()
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
    from arena.jobs.demo import run_demo
    from arena.jobs.generation import GenerationSettings

    settings = GenerationSettings(duration_s=duration, resolution=resolution)
    run_demo(data, host=host, port=port, serve=serve, workers=workers, full=full, settings=settings)


@app.command("serve")
def serve_cmd(
    data: DataOpt = DEFAULT_DATA,
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    no_gate: Annotated[
        bool, typer.Option("--no-gate", help="Allow voting before both clips played.")
    ] = False,
    rate_window: Annotated[float | None, typer.Option(help="Rate-limit window, s [10].")] = None,
    rater_votes: Annotated[int | None, typer.Option(help="Votes per rater per window [5].")] = None,
    ip_votes: Annotated[int | None, typer.Option(help="Votes per address per window [60].")] = None,
    rater_battles: Annotated[
        int | None, typer.Option(help="Battles per rater per window [10].")
    ] = None,
    ip_battles: Annotated[
        int | None, typer.Option(help="Battles per address per window [120].")
    ] = None,
    no_rate_limits: Annotated[
        bool, typer.Option("--no-rate-limits", help="No rate limits (e.g. a load test).")
    ] = False,
    min_watch: Annotated[
        float | None, typer.Option(help="Too fast below this share of the shorter clip [0.5].")
    ] = None,
    too_fast: Annotated[str | None, typer.Option(help="flag or refuse too-fast votes.")] = None,
    duel: Annotated[
        tuple[str, str] | None,
        typer.Option(
            help="Only these two models (A B), with a sequential stop rule.", metavar="A B"
        ),
    ] = None,
) -> None:
    """Serve the arena on an existing data dir (0 turns a rate limit off)."""
    from arena.domain.abuse import AbuseConfig
    from arena.jobs.demo import leaderboard_view
    from arena.web.app import ArenaOptions
    from arena.web.server import run_server

    given = {
        "window_s": rate_window,
        "votes_per_rater": rater_votes,
        "votes_per_ip": ip_votes,
        "battles_per_rater": rater_battles,
        "battles_per_ip": ip_battles,
        "min_watch_fraction": min_watch,
        "too_fast": too_fast,
    }
    given = {k: v for k, v in given.items() if v is not None}
    abuse = AbuseConfig.unlimited(**given) if no_rate_limits else AbuseConfig(**given)
    from arena.io.serving_file import load_serving_profile

    serving = load_serving_profile()  # a bad [serving] section stops here, naming the key
    with open_store(data, create=False) as store:
        board, scheduler_config = leaderboard_view, None
        if duel:
            from arena.domain.duel import check_duel, duel_leaderboard, duel_status

            match = check_duel(store, *duel)
            board = duel_leaderboard(match, board)
            scheduler_config = match.scheduler_config()
            echo(f"Duel {match.a} vs {match.b}: {duel_status(store, match)}")
        run_server(
            store,
            host=host,
            port=port,
            options=ArenaOptions(require_full_play=not no_gate, abuse=abuse),
            on_ready=lambda url: echo(f"Paddock arena at {url}"),
            leaderboard=board,
            scheduler_config=scheduler_config,
            serving=serving,
        )


@models_app.command("list")
def models_list(data: DataOpt = DEFAULT_DATA) -> None:
    """List registered models."""
    with open_store(data, read_only=True) as store:
        for m in store.models():
            flag = "" if m.active else "  (inactive)"
            echo(f"{m.name}\t{m.kind}\t{m.generator or '-'}{flag}")


@models_app.command("add")
def models_add(
    name: str,
    generator: Annotated[str | None, typer.Option("--generator", help="Generator spec.")] = None,
    parent: Annotated[str | None, typer.Option(help="Parent model (for checkpoints).")] = None,
    kind: Annotated[str | None, typer.Option(help="Model kind; inferred when omitted.")] = None,
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Register a model (a checkpoint when --parent is given)."""
    from arena.web.admin import register_model

    with open_store(data) as store:
        model = register_model(store, name, generator, parent, kind)
    echo(f"added model {model.name} ({model.kind})")


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
    from arena.domain.suite import load_prompts_file

    prompts = load_prompts_file(file)
    with open_store(data) as store:
        n = store.upsert_prompts(prompts)
    echo(f"imported {n} prompts")


@clips_app.command("import")
def clips_import(
    source: Annotated[
        Path, typer.Argument(help="Folder MODEL/PROMPT_ID.mp4, or a CSV/JSONL manifest.")
    ],
    data: DataOpt = DEFAULT_DATA,
    keep_going: Annotated[
        bool, typer.Option(help="Import the good clips even when some are bad.")
    ] = False,
) -> None:
    """Import ready clips; each bad file is reported, and by default a bad file imports nothing."""
    from arena.io.clip_import import import_clips

    with open_store(data) as store:
        report = import_clips(store, source, keep_going=keep_going)
    for line in report.errors:
        typer.echo(f"error: {line}", err=True)
    if report.errors and not keep_going:
        typer.echo(f"nothing imported: {len(report.errors)} bad clip(s)", err=True)
        raise typer.Exit(2)
    echo(f"imported {report.imported} clips")
    if report.errors:
        raise typer.Exit(2)


@votes_app.command("export")
def votes_export(
    out: Path,
    data: DataOpt = DEFAULT_DATA,
    fmt: Annotated[str | None, typer.Option("--format", help="parquet, csv or jsonl.")] = None,
) -> None:
    """Export every vote as Chatbot Arena battle rows."""
    from arena.io.votes_io import export_votes

    with open_store(data, read_only=True) as store:
        n = export_votes(store, out, fmt)
    echo(f"wrote {n} votes to {out}")


@votes_app.command("import")
def votes_import(
    file: Path,
    data: DataOpt = DEFAULT_DATA,
    fmt: Annotated[str | None, typer.Option("--format", help="parquet, csv or jsonl.")] = None,
    add_models: Annotated[bool, typer.Option(help="Register unknown models as imported.")] = False,
) -> None:
    """Import votes in the Chatbot Arena battle layout (all or nothing)."""
    from arena.io.votes_io import import_votes

    with open_store(data) as store:
        n = import_votes(store, file, fmt, add_models=add_models)
    echo(f"imported {n} votes")


def _register_extensions() -> None:
    import importlib

    for name in (
        "generate_cmd",
        "metrics_cmd",
        "leaderboard_cmd",
        "regress_cmd",
        "backup_cmd",
        "audit_cmd",
    ):
        try:
            module = importlib.import_module(f"arena.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"arena.cli.{name}":
                raise
            continue
        module.register(app)


_register_extensions()
from arena.cli import export_cmd  # noqa: E402  (issue 10: `paddock export dataset`)

export_cmd.register(app)
from arena.cli import models_cmd  # noqa: E402  (issue 9: `paddock models sync`)

models_cmd.register(app)


def user_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [PaddockError]
    try:
        from leaderboards.errors import RatingInputError

        errors.append(RatingInputError)
    except ImportError:
        pass
    return tuple(errors)


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        app()
    except user_errors() as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
