"""The `paddock` command: a thin typer layer over the library's functions.

Each command group is a module `arena/cli/<name>_cmd.py` with `register(app)`; COMMAND_MODULES
lists them in the order `paddock --help` shows them.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store
from arena.errors import USER_ERRORS, exit_code

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

COMMAND_MODULES = (
    "demo_cmd",
    "serve_cmd",
    "models_cmd",
    "prompts_cmd",
    "clips_cmd",
    "votes_cmd",
    "raters_cmd",
    "generate_cmd",
    "metrics_cmd",
    "leaderboard_cmd",
    "regress_cmd",
    "backup_cmd",
    "export_cmd",
    "providers_cmd",
    "audit_cmd",
    "simulate_cmd",
)

app = typer.Typer(
    help="Paddock: a blind-preference arena for video generation models with native audio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain click help: rich's boxed table squeezes descriptions into a word-wide column at 80
    # columns, and its usage line shows an argument as {file}.
    rich_markup_mode=None,
)
for _name in COMMAND_MODULES:
    importlib.import_module(f"arena.cli.{_name}").register(app)


def _name_arguments(command) -> None:
    # typer writes a required argument as {file} in usage lines; say FILE (and [FILE] when
    # optional), as man pages and click do.
    for param in command.params:
        if param.param_type_name == "argument":
            name = (param.metavar or param.name or "arg").upper()
            piece = name if param.required else f"[{name}]"
            param.get_usage_pieces = lambda ctx, piece=piece: [piece]
    for sub in getattr(command, "commands", {}).values():
        _name_arguments(sub)


def cli_command():
    """The `paddock` click command, as main runs it."""
    command = typer.main.get_command(app)
    _name_arguments(command)
    return command


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        cli_command()()
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exit_code(exc))
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = [
    "DEFAULT_DATA",
    "COMMAND_MODULES",
    "DataOpt",
    "app",
    "cli_command",
    "echo",
    "main",
    "open_store",
]
