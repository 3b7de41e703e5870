"""`paddock metrics ...`: score clips in the store (run) or one file without a store (score)."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store
from arena.cli.generate_cmd import EngineOpt, RayAddressOpt

metrics_app = typer.Typer(
    help="Automatic metrics: lip-sync, identity, temporal, audio, ...", no_args_is_help=True
)

MetricsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--metrics",
        "--metric",
        "-m",
        help="Metric names (repeat or comma-separate); all by default.",
    ),
]
SyncnetOpt = Annotated[
    Path | None,
    typer.Option(
        "--syncnet-weights",
        envvar="PADDOCK_SYNCNET_WEIGHTS",
        help="syncnet_python's syncnet_v2.model (enables the syncnet metric).",
    ),
]
ClipWeightsOpt = Annotated[
    Path | None,
    typer.Option(
        "--clip-weights",
        envvar="PADDOCK_CLIP_WEIGHTS",
        help="Local open_clip checkpoint (enables clip_score, clip_consistency).",
    ),
]
ClipModelOpt = Annotated[
    str,
    typer.Option(
        "--clip-model", envvar="PADDOCK_CLIP_MODEL", help="open_clip model name of --clip-weights."
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML file with metric settings ([metrics] table).")
]


class Format(StrEnum):
    json = "json"
    table = "table"


def _names(metrics: list[str] | None) -> list[str] | None:
    if not metrics:
        return None
    return [n.strip() for item in metrics for n in item.split(",") if n.strip()]


def _config(
    config_file: Path | None,
    syncnet: Path | None,
    clip_weights: Path | None,
    clip_model: str | None,
):
    from metrics.base import MetricsConfig

    config = MetricsConfig.load(str(config_file)) if config_file else MetricsConfig.from_env()
    if syncnet:
        config.syncnet_weights = str(syncnet)
    if clip_weights:
        config.clip_weights = str(clip_weights)
    if clip_model:
        config.clip_model = clip_model
    return config


def results_json(results) -> dict:
    """{metric: {status, reason, <values...>, version, units, backend, weights_sha256, params}}."""
    out = {}
    for r in results:
        entry = {"status": r.status, "reason": r.reason}
        entry.update(r.values)
        entry.update(
            {
                "version": r.version,
                "units": r.units,
                "backend": r.backend,
                "weights_sha256": r.weights_sha256,
                "params": r.params,
            }
        )
        out[r.metric] = entry
    return out


def _print_table(path: Path, results) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=str(path))
    table.add_column("metric")
    table.add_column("status")
    table.add_column("values / reason")
    for r in results:
        if r.status == "ok":
            shown = ", ".join(
                f"{k}={v}{(' ' + r.units[k]) if k in r.units and r.units[k] else ''}"
                for k, v in r.values.items()
            )
        else:
            shown = r.reason or ""
        table.add_row(f"{r.metric} v{r.version}", r.status, shown)
    Console().print(table)


@metrics_app.command("list")
def list_cmd() -> None:
    """List the metrics, their version and headline values (+ = higher is better)."""
    from metrics.registry import METRICS

    for m in METRICS.values():
        heads = ", ".join(f"{k} ({'+' if up else '-'})" for k, up in m.higher_is_better.items())
        default = " (regress default)" if m.regress_default else ""
        echo(f"{m.name} v{m.version}: {m.description}" + (f" [{heads}]" if heads else "") + default)


@metrics_app.command("score")
def score_cmd(
    file: Annotated[Path, typer.Argument(metavar="CLIP", help="Clip to score.")],
    metrics: MetricsOpt = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="i2v input image (identity reference).")
    ] = None,
    prompt: Annotated[
        str | None, typer.Option("--prompt", help="Prompt text (clip_score, speech).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    syncnet_weights: SyncnetOpt = None,
    clip_weights: ClipWeightsOpt = None,
    clip_model: ClipModelOpt = "",
    config: ConfigOpt = None,
) -> None:
    """Score one file (no store needed)."""
    from metrics.registry import check_ready, score_clip

    check_ready(_names(metrics))
    cfg = _config(config, syncnet_weights, clip_weights, clip_model or None)
    results = score_clip(
        file,
        _names(metrics),
        reference_image=str(image) if image else None,
        config=cfg,
        prompt=prompt,
    )
    if fmt == Format.json:
        typer.echo(json.dumps(results_json(results), indent=2, default=str))
    else:
        _print_table(file, results)


@metrics_app.command("run")
def run_cmd(
    data: DataOpt = DEFAULT_DATA,
    metrics: MetricsOpt = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = max(
        1, min(4, os.cpu_count() or 1)
    ),
    syncnet_weights: SyncnetOpt = None,
    clip_weights: ClipWeightsOpt = None,
    clip_model: ClipModelOpt = "",
    config: ConfigOpt = None,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Score every clip lacking a current result (same clip hash and metric version)."""
    from arena.jobs.engine import check_engine
    from arena.jobs.scoring import score_missing
    from generators.extras import require_ml
    from metrics.registry import check_ready, get_metric

    check_engine(engine, ray_address)
    names = _names(metrics)
    check_ready(names)
    for name in names or []:
        metric = get_metric(name)
        require_ml(f"the {metric.name} metric", metric.requires)
    cfg = _config(config, syncnet_weights, clip_weights, clip_model or None)
    with open_store(data, create=False) as store:
        report = score_missing(
            store, names, workers=workers, config=cfg, engine=engine, ray_address=ray_address
        )
    echo(
        f"{report.clips} clips needed scoring: {report.scored} scored, {report.results} "
        f"results recorded ({report.unavailable} unavailable), {len(report.failed)} failed"
    )
    for line in report.skipped:
        echo(f"skipped {line}")
    for line in report.failed:
        echo(f"failed: {line}")


def register(app: typer.Typer) -> None:
    app.add_typer(metrics_app, name="metrics")
