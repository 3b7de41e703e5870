"""Filling the store with generated clips: every missing (model, prompt, seed), in worker processes."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from arena.clipfiles import check_clip, commit_staged, stage_clip
from arena.store import Model, Prompt, Store
from generators.errors import InputError, PaddockError


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

    def __post_init__(self) -> None:
        self.failed = self.failed or []


def _resolve_image(store: Store, prompt: Prompt) -> str | None:
    if not prompt.image:
        return None
    from arena.suite import materialize_image

    return str(materialize_image(prompt.image, store.data_dir / "images"))


def missing_jobs(store: Store, models: Sequence[Model], prompts: Sequence[Prompt]) -> list[Job]:
    """The (model, prompt, seed) triples that have no clip yet, prompts first so pools fill evenly."""
    jobs = []
    for prompt in prompts:
        for model in models:
            if not model.generator:
                continue
            if store.has_clip(model.id, prompt.id, prompt.seed):
                continue
            image = _resolve_image(store, prompt)
            jobs.append(Job(model.name, model.generator, prompt, prompt.seed, image))
    return jobs


def _lower_priority() -> None:
    # Workers yield the CPU to the server that may be answering raters meanwhile.
    with contextlib.suppress(OSError):
        os.nice(10)


def _run_job(job: Job, settings: GenerationSettings, out_path: str):
    """Worker-process entry: build the generator and render one clip to out_path."""
    from generators.base import GenerationRequest, build_generator

    request = GenerationRequest(
        prompt=job.prompt.text,
        seed=job.seed,
        duration_s=settings.duration_s,
        resolution=settings.resolution,
        aspect=settings.aspect,
        fps=settings.fps,
        audio=job.prompt.audio,
        image=job.image,
    )
    return build_generator(job.spec).generate(request, out_path)


def _record(store: Store, job: Job, out_path: Path, seconds: float) -> None:
    info = check_clip(out_path, job.prompt, require_audio=False)
    model = store.model_by_name(job.model)
    staged = stage_clip(store, out_path, model.id, job.prompt, job.seed, info, seconds, move=True)
    commit_staged(store, [staged])


def generate_missing(
    store: Store,
    models: Sequence[Model],
    prompts: Sequence[Prompt],
    settings: GenerationSettings | None = None,
    workers: int = 2,
    on_progress: Callable[[int, int, str], None] | None = None,
    stop: threading.Event | None = None,
) -> GenerationReport:
    """Generate every missing clip; resumable because finished clips are recorded one by one."""
    settings = settings or GenerationSettings()
    jobs = missing_jobs(store, models, prompts)
    report = GenerationReport()
    if not jobs:
        return report
    tmp = store.data_dir / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)  # leftovers of an interrupted run are never recorded
    tmp.mkdir(parents=True)
    total = len(jobs)
    context = multiprocessing.get_context("spawn")  # the server's threads make fork unsafe
    with ProcessPoolExecutor(
        max_workers=max(1, workers), mp_context=context, initializer=_lower_priority
    ) as pool:
        pending: dict[Future, tuple[Job, Path]] = {}
        queue = list(jobs)
        while queue or pending:
            while queue and len(pending) < 2 * max(1, workers) and not (stop and stop.is_set()):
                job = queue.pop(0)
                out = tmp / f"{len(queue)}-{job.prompt.id}.mp4".replace("/", "_")
                pending[pool.submit(_run_job, job, settings, str(out))] = (job, out)
            if not pending:
                break
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                job, out = pending.pop(future)
                label = f"{job.model} / {job.prompt.id}"
                try:
                    result = future.result()
                    _record(store, job, out, result.seconds)
                    report.made += 1
                except PaddockError as exc:
                    report.failed.append(f"{label}: {exc}")
                except Exception as exc:  # a generator bug must not stop the rest of the suite
                    report.failed.append(f"{label}: {type(exc).__name__}: {exc}")
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        out.unlink()
                if on_progress:
                    on_progress(report.made + len(report.failed), total, label)
    shutil.rmtree(tmp, ignore_errors=True)
    return report


def generate_suite(
    data_dir: str | Path,
    model: str | None,
    suite: str = "default",
    workers: int = 2,
    settings: GenerationSettings | None = None,
) -> GenerationReport:
    """`paddock generate --suite`: fill the store with every missing clip, with a progress bar."""
    from rich.progress import Progress

    from arena.catalog import ensure_suite

    with Store.open(data_dir) as store:
        prompts = ensure_suite(store, suite)
        models = [store.model_by_name(model)] if model else store.models(active_only=True)
        if not any(m.generator for m in models):
            raise InputError("no model with a generator to run; add one with `paddock models add`")
        with Progress() as progress:
            task = progress.add_task("generating", total=None)

            def tick(done: int, total: int, label: str) -> None:
                progress.update(task, total=total, completed=done, description=label)

            return generate_missing(store, models, prompts, settings, workers, on_progress=tick)
