"""`paddock audit fingerprint`: how well the served format alone tells which model made a clip."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo

audit_app = typer.Typer(help="Audit what raters can learn before they vote.", no_args_is_help=True)


class Content(StrEnum):
    offline = "offline"
    clip = "clip"
    both = "both"


class Gate(StrEnum):
    format = "format"
    content = "content"
    both = "both"


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
    clip_weights: Annotated[
        Path | None,
        typer.Option(
            "--clip-weights",
            envvar="PADDOCK_CLIP_WEIGHTS",
            help="Local open_clip checkpoint: also measure how well the content alone "
            "(CLIP embeddings of served frames) names the model.",
        ),
    ] = None,
    clip_model: Annotated[
        str,
        typer.Option(
            "--clip-model", envvar="PADDOCK_CLIP_MODEL", help="open_clip model of --clip-weights."
        ),
    ] = "ViT-B-32",
    content_mode: Annotated[
        Content | None,
        typer.Option(
            "--content",
            help="What the content classifier reads: offline (colour, texture, motion, face, "
            "sound; no weights), clip (--clip-weights) or both. Default: clip with "
            "--clip-weights, else offline.",
        ),
    ] = None,
    gate: Annotated[
        Gate,
        typer.Option(help="Which classifier sets exit code 1: format, content or both."),
    ] = Gate.format,
) -> None:
    """Play the rater on a copy of the data dir, learn the names from the reveals, and fit a
    cross-validated classifier of the model from the format; exit 1 if it beats chance.
    Also fit one on what the clips show (reported, not gated by default): an offline signature,
    CLIP embeddings with --clip-weights, or both."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from arena.jobs.content_audit import ContentProbe, fails_gate
    from arena.web.audit_rater import run_audit
    from generators.errors import InputError

    console = Console(stderr=True)
    mode = content_mode or (Content.clip if clip_weights is not None else Content.offline)
    if mode == Content.offline:
        content = ContentProbe.offline()
    elif clip_weights is None:
        raise InputError(f"--content {mode.value} needs --clip-weights (an open_clip checkpoint)")
    else:  # a bad checkpoint is refused before anything runs
        content = ContentProbe.load(clip_model, clip_weights, mode=mode.value)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("playing battles", total=battles)
        report = run_audit(
            data,
            battles,
            threshold,
            renditions,
            on_progress=lambda done, total: progress.update(task, completed=done),
            content=content,
        )
    report.gate = gate.value
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
        _recall_rows(table, "format", report.recall)
        if report.content_accuracy is not None:
            low, high = report.content_ci
            table.add_row(
                f"identifiable by content alone, {mode.value} (95% CI)",
                f"{report.content_accuracy:.1%} ({low:.1%}-{high:.1%})",
            )
            _recall_rows(table, "content", report.content_recall)
        else:
            table.add_row("identifiable by content alone", "not measured (play more battles)")
        table.add_row("exit code set by", report.gate)
        for name, weight in report.top_features:
            table.add_row(f"  feature {name}", f"{weight:.3f}")
        Console().print(table)
    echo(json.dumps(report.to_dict()))
    if fails_gate(report, report.gate):
        raise typer.Exit(1)


def _recall_rows(table, kind: str, recall: dict[str, float]) -> None:
    for model, share in recall.items():
        table.add_row(f"  {kind} recall {model}", f"{share:.0%}")


def register(app: typer.Typer) -> None:
    """Add the `audit` command group to the `paddock` app."""
    app.add_typer(audit_app, name="audit")
