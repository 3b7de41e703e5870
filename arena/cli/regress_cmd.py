"""`paddock regress`: the checkpoint regression check, with table, JSON, markdown and JUnit output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt
from generators.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("regress")(regress)


def regress(
    baseline: Annotated[str, typer.Option(help="The previous checkpoint (model name).")],
    candidate: Annotated[str, typer.Option(help="The new checkpoint (model name).")],
    data: DataOpt = DEFAULT_DATA,
    suite: Annotated[
        str, typer.Option(help="Prompt suite to generate and compare on.")
    ] = "default",
    metrics: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated metrics. Default: every metric that declares tolerances and "
            "needs no weights (`paddock metrics list` marks them 'regress default')."
        ),
    ] = None,
    tolerances: Annotated[
        Path | None, typer.Option(help="TOML file overriding the default tolerances.")
    ] = None,
    prompts: Annotated[
        int | None, typer.Option(help="Use at most this many suite prompts (for speed).")
    ] = None,
    duration: Annotated[float, typer.Option(help="Clip length in seconds.")] = 5.0,
    resolution: Annotated[str, typer.Option(help="480p, 720p or 1080p.")] = "720p",
    fmt: Annotated[str, typer.Option("--format", help="table, json or markdown.")] = "table",
    junit: Annotated[Path | None, typer.Option(help="Also write JUnit XML here.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    candidate_seed_offset: Annotated[
        int,
        typer.Option(
            help="Candidate clips use each prompt's seed + N (pairs by seed index); with it the "
            "candidate may be the baseline itself, to see its seed-to-seed noise."
        ),
    ] = 0,
) -> None:
    """Generate, score and compare candidate against baseline; exit 1 when something regressed."""
    from arena.jobs.generation import GenerationSettings
    from arena.jobs.regress import RegressOptions, junit_xml, markdown_summary, run_regression
    from metrics.regression import load_tolerances

    if fmt not in ("table", "json", "markdown"):
        raise InputError(f"unknown --format {fmt!r}; use table, json or markdown")
    if prompts is not None and prompts < 1:
        raise InputError("--prompts must be at least 1")
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics is not None else []
    if metrics is not None and not names:
        raise InputError("--metrics names no metric")
    options = RegressOptions(
        baseline=baseline,
        candidate=candidate,
        suite=suite,
        metrics=names,
        tolerances=load_tolerances(tolerances) if tolerances else {},
        prompts=prompts,
        settings=GenerationSettings(duration_s=duration, resolution=resolution),
        workers=workers,
        candidate_seed_offset=candidate_seed_offset,
    )
    result = run_regression(data, options)
    if junit:
        junit.write_text(junit_xml(result), encoding="utf-8")
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2))
    elif fmt == "markdown":
        typer.echo(markdown_summary(result), nl=False)
    else:
        _print_table(result)
    raise typer.Exit(1 if result.regressed else 0)


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"{result.candidate} vs {result.baseline} (same prompts, paired by seed)"
    table = Table(title=title)
    for column in (
        "metric",
        "better",
        "pairs",
        "baseline",
        "candidate",
        "diff",
        "95% CI",
        "p",
        "p worse Holm",
        "tol",
        "verdict",
    ):
        table.add_column(column)
    styles = {"regressed": "bold red", "improved": "green", "unchanged": ""}
    for c in result.comparisons:
        table.add_row(
            c.name,
            "higher" if c.higher_is_better else "lower",
            str(c.n_pairs),
            f"{c.baseline_mean:.4g}",
            f"{c.candidate_mean:.4g}",
            f"{c.mean_diff:+.4g}",
            f"[{c.ci_low:+.3g}, {c.ci_high:+.3g}]",
            f"{c.p_value:.3g}",
            f"{c.p_worse_holm:.3g}",
            f"{c.tolerance:g}",
            c.verdict,
            style=styles[c.verdict],
        )
    console = Console()
    if not console.is_terminal:  # CI logs: do not squeeze the table into 80 columns
        console = Console(width=160)
    console.print(table)
    if result.votes:
        v = result.votes
        console.print(f"votes: {v.status} (e-value {v.e_value:.3g})")
    for note in result.notes:
        console.print(f"note: {note}")
    verdict = ", ".join(c.name for c in result.regressed)
    console.print(f"REGRESSED: {verdict}" if verdict else "no regression")
