"""`paddock generate`: one clip from a prompt, or every missing clip of a prompt suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo
from generators.errors import InputError

EngineOpt = Annotated[
    str,
    typer.Option("--engine", help="Where jobs run: local (worker processes) or ray (Ray tasks)."),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        envvar="RAY_ADDRESS",
        help="Ray cluster to join (ray://HOST:10001 or HOST:6379); a local Ray when omitted.",
    ),
]


def generate(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="A model name in the store or a built-in name (pony, pony-lag, ...), or a "
            "generator spec (builtin:pony-lag?ms=200, ...); with --suite, a model name in the "
            "store (all models when omitted).",
        ),
    ] = "",
    prompt: Annotated[str | None, typer.Option("--prompt", help="Text of the clip.")] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Input image (image-to-video).")
    ] = None,
    duration: Annotated[float, typer.Option("--duration", help="Seconds, 1 to 15.")] = 5.0,
    resolution: Annotated[str, typer.Option("--resolution", help="480p, 720p or 1080p.")] = "720p",
    aspect: Annotated[str, typer.Option("--aspect", help="16:9, 9:16 or 1:1.")] = "16:9",
    fps: Annotated[int, typer.Option("--fps")] = 24,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Encode sound.")] = True,
    out: Annotated[Path | None, typer.Option("--out", help="Output .mp4 (single clip).")] = None,
    suite: Annotated[
        str | None,
        typer.Option(
            "--suite", help="Fill the store with every missing clip of this prompt suite."
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (--suite).")] = 2,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="With --suite: print per model the clips that would be made, their expected "
            "price and time; make no request, write nothing.",
        ),
    ] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            help="With --suite: US dollars. Stop before the first request when the expected "
            "price is higher, and start no new clip once reported prices pass it.",
        ),
    ] = None,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    data: DataOpt = DEFAULT_DATA,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print what pony understood of --prompt (JSON).")
    ] = False,
) -> None:
    """Generate one clip (--prompt ... --out ...) or a whole suite into the store (--suite)."""
    if suite is not None:
        if prompt is not None or out is not None or image is not None:
            raise InputError(
                "--suite fills the store: do not combine it with --prompt, --image or --out"
            )
        from arena.io.serving_file import load_serving_profile
        from arena.jobs.engine import check_engine
        from arena.jobs.generation import generate_suite

        if dry_run:
            from arena.jobs.budget import check_budget, estimate_lines
            from arena.jobs.generation import plan_suite

            rows = plan_suite(data, model or None, suite, workers)
            for line in estimate_lines(rows):
                echo(line)
            if max_cost is not None:
                check_budget(rows, max_cost)
            return
        check_engine(engine, ray_address)
        serving = load_serving_profile()  # a bad [serving] section stops here, naming the key

        report = generate_suite(
            data,
            model or None,
            suite,
            workers,
            engine=engine,
            ray_address=ray_address,
            max_cost=max_cost,
        )
        echo(
            f"generated {report.made} clip(s), {len(report.failed or [])} failed"
            + (
                f", {report.skipped} skipped (prompts the model cannot take)"
                if report.skipped
                else ""
            )
            + (f", ${report.spent_usd:.2f} known price" if report.spent_usd else "")
        )
        if report.over_budget:
            echo(f"  stopped: the clips made passed --max-cost {max_cost:g}; no new clip started")
        for line in report.failed or []:
            echo(f"  failed: {line}")
        from arena.jobs.serving_renditions import render_for_serving

        not_served = render_for_serving(data, serving, echo, engine, workers, ray_address)
        if report.failed or not_served:
            raise typer.Exit(1)
        return
    if explain:
        if prompt is None:
            raise InputError("--explain needs --prompt")
        from generators.pony.plan import explain_prompt

        echo(json.dumps(explain_prompt(prompt, seed, duration, image is not None), indent=2))
        return
    if prompt is None or out is None:
        raise InputError("give --prompt and --out for one clip, or --suite NAME for a suite")
    if engine != "local" or ray_address:
        raise InputError("--engine ray runs a suite: use it with --suite")
    if dry_run or max_cost is not None:
        raise InputError("--dry-run and --max-cost plan a suite: use them with --suite")
    if not model:
        raise InputError("give --model, e.g. --model builtin:pony")
    if out.suffix.lower() != ".mp4":
        raise InputError(f"--out {out} must end in .mp4")
    from generators.base import GenerationRequest
    from generators.registry import build_generator

    request = GenerationRequest(
        prompt=prompt,
        seed=seed,
        duration_s=duration,
        resolution=resolution,
        aspect=aspect,
        fps=fps,
        audio=audio,
        image=str(image) if image else None,
    )
    generator = build_generator(model_spec(model, data))
    result = generator.generate(request, str(out))
    echo(
        json.dumps(
            {
                "path": result.path,
                "seconds": round(result.seconds, 3),
                "frames": result.frames,
                "fps": result.fps,
                "width": result.width,
                "height": result.height,
                "duration_s": result.duration_s,
                "has_audio": result.has_audio,
            }
        )
    )


def model_spec(model: str, data: Path) -> str:
    """The generator spec --model names: a spec as given, else the generator of the store's model
    of that name, else a built-in model's name (as the leaderboard spells them all)."""
    from arena.store import Store
    from arena.store.db import DB_NAME
    from generators.registry import builtin_spec

    if ":" in model:
        return model
    if (data / DB_NAME).exists():
        with Store.open_snapshot(data) as store:
            found = store.find_model(model)
        if found is not None:
            if not found.generator:
                raise InputError(
                    f"model {model!r} has no generator (its clips were imported): "
                    "give a generator spec such as builtin:pony"
                )
            return found.generator
    return builtin_spec(model)


def register(app: typer.Typer) -> None:
    """Add `paddock generate` to the main app."""
    app.command("generate")(generate)
