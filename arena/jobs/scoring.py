"""The metric runner: find clips without a current result, score them in parallel, record."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from arena.io.suite_images import SKIMAGE_PREFIX, materialize_image
from arena.jobs.engine import make_engine
from generators.errors import PaddockError
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


def score_job_shipped(
    job: ScoringJob, config: MetricsConfig | None, clip: bytes, image: bytes | None
) -> list[MetricResult]:
    """Ray task entry: the clip (and reference image) come as bytes, since a worker on another
    node shares no disk with the driver."""
    import dataclasses
    import tempfile

    with tempfile.TemporaryDirectory(prefix="paddock-score-") as tmp:
        path = Path(tmp) / f"clip{Path(job.path).suffix or '.mp4'}"
        path.write_bytes(clip)
        local_image = None
        if image is not None and job.image:
            local_image = Path(tmp) / f"image{Path(job.image).suffix}"
            local_image.write_bytes(image)
        local = dataclasses.replace(
            job, path=str(path), image=str(local_image) if local_image else None
        )
        return score_job(local, config)


def _submit_job(runner, job: ScoringJob, config: MetricsConfig | None) -> Future:
    if not runner.ships_files:
        return runner.submit(score_job, job, config)
    image = job.image if job.image and os.path.exists(job.image) else None
    return runner.submit(
        score_job_shipped,
        job,
        config,
        Path(job.path).read_bytes(),
        Path(image).read_bytes() if image else None,
    )


def _error_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # a Ray task's error wraps the worker's own
    if isinstance(cause, BaseException):
        exc = cause
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


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
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="metrics", unit="clip")

    processed = 0

    def done(job: ScoringJob, results: list[MetricResult] | None, error: str | None) -> None:
        nonlocal processed
        if error is not None:
            report.failed.append(f"{job.clip_id}: {error}")
        else:
            record_results(store, job, results, report)
        processed += 1
        if bar is not None:
            bar.update(1)
        if on_progress is not None:
            on_progress(processed, len(jobs), os.path.basename(job.path))

    try:
        if workers <= 1 and engine == "local" and not ray_address:
            for job in jobs:
                if stop is not None and stop.is_set():
                    break
                try:
                    done(job, score_job(job, config), None)
                except (PaddockError, OSError) as exc:
                    done(job, None, str(exc))
        else:
            # spawn, not fork (LocalEngine): a forked child of a process that already runs torch
            # or OpenMP threads can hang on their locks.
            runner = make_engine(engine, workers, ray_address, initializer=init_worker)
            try:
                queue = list(jobs)
                running: dict[Future, ScoringJob] = {}
                while queue or running:
                    while (
                        queue and len(running) < 2 * runner.slots and not (stop and stop.is_set())
                    ):
                        job = queue.pop(0)
                        try:
                            running[_submit_job(runner, job, config)] = job
                        except OSError as exc:
                            done(job, None, str(exc))
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        job = running.pop(future)
                        try:
                            done(job, future.result(), None)
                        except Exception as exc:  # noqa: BLE001 - report, go on to the next clip
                            done(job, None, _error_line(exc))
            finally:
                runner.close(cancel=True)
    finally:
        if bar is not None:
            bar.close()
    return report
