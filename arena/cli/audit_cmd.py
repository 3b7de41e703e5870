"""`paddock audit fingerprint`: how well the served format alone tells which model made a clip."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo

audit_app = typer.Typer(help="Audit what raters can learn before they vote.", no_args_is_help=True)


@audit_app.command("fingerprint")
def fingerprint(
    data: DataOpt = DEFAULT_DATA,
    battles: Annotated[int, typer.Option(help="Battles to play through the JSON API.")] = 200,
    threshold: Annotated[
        float, typer.Option(help="Exit 1 when accuracy beats chance by more than this share.")
    ] = 0.05,
    renditions: Annotated[
        bool,
        typer.Option(
            "--renditions/--originals", help="Serve renditions (as `paddock serve`) or originals."
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON report.")] = False,
) -> None:
    """Play the rater on a copy of the data dir, learn the names from the reveals, and fit a
    cross-validated classifier of the model from the format; exit 1 if it beats chance."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from arena.web.fingerprint_audit import run_audit

    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("playing battles", total=battles)
        report = run_audit(
            data,
            battles,
            threshold,
            renditions,
            on_progress=lambda done, total: progress.update(task, completed=done),
        )
    if not as_json:
        table = Table(
            title="Fingerprint audit" + (" (renditions)" if renditions else " (originals)")
        )
        table.add_column("figure")
        table.add_column("value", justify="right")
        table.add_row("battles / distinct clips", f"{report.battles} / {report.clips}")
        table.add_row("models", str(len(report.models)))
        table.add_row(
            "accuracy (95% CI)", f"{report.accuracy:.1%} ({report.ci_low:.1%}-{report.ci_high:.1%})"
        )
        table.add_row("chance", f"{report.chance:.1%}")
        table.add_row("identifiable", "yes" if report.identifiable else "no")
        for name, weight in report.top_features:
            table.add_row(f"  feature {name}", f"{weight:.3f}")
        Console().print(table)
    echo(json.dumps(report.to_dict()))
    if report.identifiable:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `audit` command group to the `paddock` app."""
    app.add_typer(audit_app, name="audit")
