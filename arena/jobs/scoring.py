"""The metric runner: find clips without a current result, score them in parallel, record."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from arena.io.suite_images import SKIMAGE_PREFIX, materialize_image
from arena.jobs.loop import Work, run_jobs
from generators.errors import PaddockError
from generators.extras import ML_INSTALL, missing_modules
from metrics.base import MetricResult, MetricsConfig
from metrics.registry import ERROR_PREFIX, available_metrics, get_metric, score_clip


@dataclass
class ScoringJob:
    """One clip and the metrics it lacks."""

    clip_id: str
    path: str
    metrics: list[str]
    image: str | None = None
    prompt: str | None = None


@dataclass
class ScoringReport:
    clips: int = 0
    scored: int = 0
    results: int = 0
    unavailable: int = 0
    failed: list[str] = field(default_factory=list)  # "clip_id: reason", not recorded
    skipped: list[str] = field(default_factory=list)  # metrics left out, with the reason


def pending_jobs(
    store,
    metrics: list[str] | None = None,
    config: MetricsConfig | None = None,
    skipped: list[str] | None = None,
) -> list[ScoringJob]:
    """Clips lacking a current result (same clip hash and metric version), grouped per clip.

    Metrics that need weights the config does not give are left out (and named in skipped):
    "no weights configured" says nothing about a clip, so it is not recorded for each one.
    """
    config = config or MetricsConfig.from_env()
    names = metrics or available_metrics()
    jobs: dict[str, ScoringJob] = {}
    for name in names:
        metric = get_metric(name)
        if metric.weights is not None and not metric.weights(config):
            if skipped is not None:
                skipped.append(f"{metric.name}: no weights configured")
            continue
        missing = missing_modules(metric.requires)
        if missing:  # an install matter: one line for the run, not a failure per clip
            if skipped is not None:
                skipped.append(f"{metric.name}: needs {', '.join(missing)}: {ML_INSTALL}")
            continue
        for row in store.clips_needing_metric(metric.name, metric.version_for(config)):
            job = jobs.get(row.id)
            if job is None:
                job = jobs[row.id] = ScoringJob(
                    clip_id=row.id,
                    path=row.path,
                    metrics=[],
                    image=_reference_image(store, getattr(row, "image", None)),
                    prompt=getattr(row, "prompt_text", None),
                )
            job.metrics.append(metric.name)
    return list(jobs.values())


def _reference_image(store, image: str | None) -> str | None:
    """The i2v input image as a file: suite references (`skimage:<name>`) are written out."""
    if not image:
        return None
    if SKIMAGE_PREFIX in image:
        ref = image[image.index(SKIMAGE_PREFIX) :]
        try:
            return str(materialize_image(ref, Path(store.data_dir) / "images"))
        except (PaddockError, OSError, ValueError):
            return None
    return image if os.path.isfile(image) else None


def init_worker() -> None:
    # Workers share the machine: one thread each for torch and OpenCV.
    import cv2

    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is optional for the core metrics
        pass


def score_job(job: ScoringJob, config: MetricsConfig | None = None) -> list[MetricResult]:
    """Score one job's clip (runs in a worker process)."""
    image = job.image if job.image and os.path.exists(job.image) else None
    return score_clip(
        job.path, job.metrics, reference_image=image, config=config, prompt=job.prompt
    )


def record_results(
    store, job: ScoringJob, results: list[MetricResult], report: ScoringReport
) -> None:
    # A crash inside a metric is a bug to fix, not a property of the clip: do not cache it.
    keep = [r for r in results if not (r.reason or "").startswith(ERROR_PREFIX)]
    for r in results:
        if r not in keep:
            report.failed.append(f"{job.clip_id} {r.metric}: {r.reason}")
    if keep:
        store.record_metric_results(job.clip_id, keep)
    report.scored += 1
    report.results += len(keep)
    report.unavailable += sum(r.status != "ok" for r in keep)


def score_missing(
    store,
    metrics: list[str] | None = None,
    workers: int = 1,
    config: MetricsConfig | None = None,
    stop: threading.Event | None = None,
    progress: bool = True,
    on_progress: Callable[[int, int, str], None] | None = None,
    engine: str = "local",
    ray_address: str | None = None,
) -> ScoringReport:
    """Score every clip lacking a current result for the given metrics (all by default).

    Clips are scored in worker processes (workers > 1), in this process (workers <= 1), or as
    Ray tasks (engine "ray"); results are recorded through the store from this process only.
    A clip that fails is reported and skipped; the run goes on.
    """
    config = config or MetricsConfig.from_env()
    skipped: list[str] = []
    jobs = pending_jobs(store, metrics, config, skipped)
    report = ScoringReport(clips=len(jobs), skipped=skipped)
    if not jobs:
        return report

    def record(work: Work, results: list[MetricResult]) -> None:
        record_results(store, work.job, results, report)

    # One worker runs in this process: no start-up cost for a handful of clips. Pools use
    # spawn, not fork (LocalEngine): a forked child of a process that already runs torch or
    # OpenMP threads can hang on their locks.
    inline = workers <= 1 and engine == "local" and not ray_address
    loop = run_jobs(
        [
            Work(job, score_job, job.clip_id, args=(config,), files=("path", "image"))
            for job in jobs
        ],
        record,
        engine=engine,
        workers=0 if inline else workers,
        ray_address=ray_address,
        initializer=init_worker,
        stop=stop,
        progress="metrics" if progress else None,
        on_progress=on_progress,
    )
    report.failed.extend(loop.failed)
    return report
