"""Filling the store with generated clips: every missing (model, prompt, seed), in worker processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from arena.io.clip_staging import check_clip, commit_staged, stage_clip
from arena.jobs.loop import Work, run_jobs
from arena.store import Model, Prompt, Store
from generators.base import GenerationResult
from generators.errors import InputError, PaddockError
from generators.pricing import Price, PriceOverride, clip_price, sent_request
from generators.registry import needs_gpu


@dataclass(frozen=True)
class GenerationSettings:
    """How every model renders the suite, the same for all so that clips are comparable."""

    duration_s: float = 5.0
    resolution: str = "720p"
    aspect: str = "16:9"
    fps: int = 24


@dataclass(frozen=True)
class Job:
    model: str
    spec: str
    prompt: Prompt
    seed: int
    image: str | None


@dataclass
class GenerationReport:
    made: int = 0
    skipped: int = 0
    failed: list[str] | None = None
    spent_usd: float = 0.0  # the known prices of the clips made
    over_budget: bool = False  # --max-cost was passed: no new clip was started after that

    def __post_init__(self) -> None:
        self.failed = self.failed or []


def _resolve_image(store: Store, prompt: Prompt) -> str | None:
    if not prompt.image:
        return None
    from arena.io.suite_images import materialize_image

    return str(materialize_image(prompt.image, store.data_dir / "images"))


def model_categories(spec: str) -> frozenset[str] | None:
    """The prompt categories a generator says it serves (None: all, or it cannot tell)."""
    from generators.registry import build_generator

    try:
        generator = build_generator(spec)
    except PaddockError:
        return None  # every job of it fails with this reason, one line per clip
    categories = getattr(generator, "categories", None)
    return categories() if callable(categories) else None


def missing_pairs(
    store: Store,
    models: Sequence[Model],
    prompts: Sequence[Prompt],
    skipped: list[str] | None = None,
) -> list[tuple[Model, Prompt]]:
    """The (model, prompt) pairs that have no clip yet (at the prompt's seed), prompts first. A
    prompt of a category the model cannot take (an image prompt for a text-to-video pipeline)
    is left out and named in skipped. Reads only: nothing is written."""
    serves = {m.name: model_categories(m.generator) for m in models if m.generator}
    pairs = []
    for prompt in prompts:
        for model in models:
            if not model.generator:
                continue
            if store.has_clip(model.id, prompt.id, prompt.seed):
                continue
            categories = serves[model.name]
            if categories is not None and prompt.category not in categories:
                if skipped is not None:
                    skipped.append(
                        f"{model.name} / {prompt.id}: {model.name} does not take "
                        f"{prompt.category} prompts"
                    )
                continue
            pairs.append((model, prompt))
    return pairs


def missing_jobs(
    store: Store,
    models: Sequence[Model],
    prompts: Sequence[Prompt],
    skipped: list[str] | None = None,
) -> list[Job]:
    """The (model, prompt, seed) triples that have no clip yet, prompts first so pools fill evenly
    (diffusers jobs grouped by model at the end); see `missing_pairs`."""
    jobs = []
    for model, prompt in missing_pairs(store, models, prompts, skipped):
        image = _resolve_image(store, prompt)
        jobs.append(Job(model.name, model.generator, prompt, prompt.seed, image))
    # A worker keeps one diffusers pipeline loaded (loading is the slow part): their jobs go
    # model by model, after the others, so a worker does not reload a pipeline for every prompt.
    return sorted(jobs, key=lambda j: j.spec if needs_gpu(j.spec) else "")


def _lower_priority() -> None:
    # Workers yield the CPU to the server that may be answering raters meanwhile. A Ray worker
    # runs this before every task it is given: lower the priority once, not once per task.
    with contextlib.suppress(OSError):
        if os.getpriority(os.PRIO_PROCESS, 0) < 10:
            os.nice(10)


@dataclass(frozen=True)
class JobOutcome:
    """What a worker hands back: the result, and the generation time to record (None for clips
    that were made elsewhere: a `folder:` generator only copies them)."""

    result: GenerationResult
    generation_s: float | None


def _run_job(job: Job, settings: GenerationSettings, out_path: str) -> JobOutcome:
    """Worker entry: build the generator and render one clip to out_path."""
    from generators.base import GenerationRequest
    from generators.registry import build_generator

    request = GenerationRequest(
        prompt=job.prompt.text,
        seed=job.seed,
        duration_s=settings.duration_s,
        resolution=settings.resolution,
        aspect=settings.aspect,
        fps=settings.fps,
        audio=job.prompt.audio,
        image=job.image,
        prompt_id=job.prompt.id,
    )
    generator = build_generator(job.spec)
    result = generator.generate(request, out_path)
    ready_made = getattr(generator, "ready_made", False)
    return JobOutcome(result, None if ready_made else result.seconds)


def job_price(
    job: Job,
    settings: GenerationSettings,
    seconds: float | None,
    provenance: dict | None,
    override: PriceOverride | None = None,
) -> Price:
    """A made clip's price: reported, from paddock.toml, compute time, the table, or unknown."""
    resolution, length = sent_request(provenance, settings.resolution, settings.duration_s)
    return clip_price(job.spec, provenance, resolution, job.prompt.audio, length, seconds, override)


def _record(
    store: Store,
    job: Job,
    out_path: Path,
    seconds: float | None,
    provenance: dict | None = None,
    price: Price | None = None,
) -> None:
    info = check_clip(out_path, job.prompt, require_audio=False)
    model = store.model_by_name(job.model)
    # provenance: what the generator said of the clip (pony's plan, a provider's request id,
    # cost and rounding), stored with it.
    queue_s = (provenance or {}).get("queue_s")
    staged = stage_clip(
        store,
        out_path,
        model.id,
        job.prompt,
        job.seed,
        info,
        seconds,
        move=True,
        params=provenance,
        queue_s=queue_s if isinstance(queue_s, int | float) else None,
        price=(price.usd, price.source) if price is not None else (None, None),
    )
    commit_staged(store, [staged])


def generate_missing(
    store: Store,
    models: Sequence[Model],
    prompts: Sequence[Prompt],
    settings: GenerationSettings | None = None,
    workers: int = 2,
    on_progress: Callable[[int, int, str], None] | None = None,
    stop: threading.Event | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    progress: str | None = None,
    prices: dict[str, PriceOverride] | None = None,
    max_cost: float | None = None,
) -> GenerationReport:
    """Generate every missing clip; resumable because finished clips are recorded one by one.

    engine "local" runs jobs in `workers` processes here (0: in this process), "ray" as Ray
    tasks (on the cluster at ray_address, or a Ray started here); either way this process
    records every clip. A job that fails is reported and leaves nothing behind; the run goes on.
    Each clip records its price (prices: paddock.toml's, by model name); once the known prices
    of the clips made pass max_cost, no new clip is started and those in flight are finished.
    """
    settings = settings or GenerationSettings()
    prices = prices or {}
    if max_cost is not None and stop is None:
        stop = threading.Event()
    skipped: list[str] = []
    jobs = missing_jobs(store, models, prompts, skipped)
    report = GenerationReport(skipped=len(skipped))
    if not jobs:
        return report
    tmp = store.data_dir / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)  # leftovers of an interrupted run are never recorded
    tmp.mkdir(parents=True)
    works = [
        Work(
            job,
            _run_job,
            f"{job.model} / {job.prompt.id}",
            args=(settings,),
            files=("image",),
            output=tmp / f"{i}-{job.prompt.id}.mp4".replace("/", "_"),
            gpu=needs_gpu(job.spec),
        )
        for i, job in enumerate(jobs)
    ]

    def record(work: Work, outcome: JobOutcome) -> None:
        job, provenance = work.job, outcome.result.provenance
        price = job_price(job, settings, outcome.generation_s, provenance, prices.get(job.model))
        _record(store, job, work.output, outcome.generation_s, provenance, price)
        if price.usd is not None:
            report.spent_usd = round(report.spent_usd + price.usd, 6)
        if max_cost is not None and report.spent_usd > max_cost and not report.over_budget:
            report.over_budget = True
            stop.set()  # the jobs in flight are finished and recorded; no new one starts

    try:
        loop = run_jobs(
            works,
            record,
            engine=engine,
            workers=workers,
            ray_address=ray_address,
            initializer=_lower_priority,
            stop=stop,
            progress=progress,
            on_progress=on_progress,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.made = loop.done
    report.failed = loop.failed
    return report


def _suite_models(store: Store, model: str | None) -> list[Model]:
    models = [store.model_by_name(model)] if model else store.models(active_only=True)
    if not any(m.generator for m in models):
        raise InputError("no model with a generator to run; add one with `paddock models add`")
    return models


def plan_suite(
    data_dir: str | Path,
    model: str | None,
    suite: str = "default",
    workers: int = 2,
    settings: GenerationSettings | None = None,
) -> list:
    """`paddock generate --suite --dry-run`: per model, the clips that would be made, their
    expected price and time (arena/jobs/budget.py). No request is made and nothing is written."""
    from arena.io.models_file import load_price_overrides
    from arena.io.prompt_files import load_suite
    from arena.jobs.budget import estimate_generation

    prices = load_price_overrides()
    prompts = load_suite(suite)
    with Store.open_snapshot(data_dir) as store:
        models = _suite_models(store, model)
        pairs = missing_pairs(store, models, prompts)
        settings = settings or GenerationSettings()
        return estimate_generation(store, models, pairs, settings, workers, prices)


def generate_suite(
    data_dir: str | Path,
    model: str | None,
    suite: str = "default",
    workers: int = 2,
    settings: GenerationSettings | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    max_cost: float | None = None,
) -> GenerationReport:
    """`paddock generate --suite`: fill the store with every missing clip, with a progress bar.
    With max_cost (US dollars), an expected price above it stops the run before any request
    (InputError), and reported prices that pass it stop new clips during the run."""
    from arena.io.models_file import load_price_overrides
    from arena.io.prompt_files import ensure_suite, load_suite

    prices = load_price_overrides()  # a bad price in paddock.toml stops here, naming it
    with Store.open(data_dir) as store:
        models = _suite_models(store, model)
        if max_cost is not None:
            from arena.jobs.budget import check_budget, estimate_generation

            pairs = missing_pairs(store, models, load_suite(suite))
            plan = settings or GenerationSettings()
            check_budget(estimate_generation(store, models, pairs, plan, workers, prices), max_cost)
        prompts = ensure_suite(store, suite)
        return generate_missing(
            store,
            models,
            prompts,
            settings,
            workers,
            engine=engine,
            ray_address=ray_address,
            progress="generating",
            prices=prices,
            max_cost=max_cost,
        )
