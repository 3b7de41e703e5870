"""Making serving renditions in the background: every clip without one for the current profile.

Renditions are made by the job engine's workers (never on a rater's request); this process alone
records them. A clip that cannot be rendered is recorded as failed with its one-line reason,
logged, and never served. Files live under DATA/renditions/<profile digest>/.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.jobs.engine import InlineEngine, make_engine
from arena.jobs.loop import Work, run_jobs
from arena.store import Store
from generators.errors import MediaError, PaddockError
from generators.serving.profile import ServingProfile

log = logging.getLogger("paddock.renditions")


@dataclass
class RenditionReport:
    made: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def renditions_dir(store: Store, profile: ServingProfile) -> Path:
    return store.data_dir / "renditions" / profile.digest()


def _lower_priority() -> None:
    # Rendition workers yield the CPU to the server answering raters meanwhile.
    with contextlib.suppress(OSError):
        if os.getpriority(os.PRIO_PROCESS, 0) < 10:
            os.nice(10)
    # And end with the server: a worker left behind would hold the server's stdout open.
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def _render(src: str, dst: str, profile: ServingProfile) -> tuple[int, int, float]:
    """Worker entry: (frames, bytes, seconds) of the rendition written at dst."""
    from generators.serving.rendition import make_rendition

    result = make_rendition(src, dst, profile)
    return result.frames, result.bytes, result.seconds


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PaddockError):
        return str(exc)
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def render_missing(
    store: Store,
    profile: ServingProfile,
    workers: int = 1,
    first_prompts: Iterable[str] = (),
    on_progress: Callable[[int, int, str], None] | None = None,
    stop: threading.Event | None = None,
    engine: str = "local",
    runner: Any = None,
    only_prompts: set[str] | None = None,
) -> RenditionReport:
    """Make the rendition of every clip that has none for `profile` (clips of first_prompts
    first); resumable, since each is recorded as it finishes. workers=0 renders in this process."""
    digest = profile.digest()
    todo = store.clips_needing_rendition(digest, set(first_prompts))
    if only_prompts is not None:
        todo = [row for row in todo if row[2] in only_prompts]
    report = RenditionReport()
    if not todo:
        return report
    out_dir = renditions_dir(store, profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    own_runner = runner is None
    runner = runner or make_engine(engine, workers, initializer=_lower_priority)
    try:
        pending: dict[Future, str] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < 2 * runner.slots and not (stop and stop.is_set()):
                clip_id, _, _ = queue.pop(0)
                src = str(store.clip_path(clip_id))
                dst = str(out_dir / f"{clip_id}.mp4")
                pending[runner.submit(_render, src, dst, profile)] = clip_id
            if not pending:
                break
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                clip_id = pending.pop(future)
                try:
                    frames, size, seconds = future.result()
                except BrokenProcessPool:
                    raise  # the pool, not the clip: nothing is recorded, the next pass retries
                except Exception as exc:  # noqa: BLE001 - one bad clip must not stop the rest
                    reason = _reason(exc)
                    store.record_rendition(clip_id, digest, None, None, None, error=reason)
                    report.failed.append(f"clip {clip_id}: {reason}")
                    log.warning("clip %s cannot be rendered for serving: %s", clip_id, reason)
                else:
                    # Relative to the data dir, so a copied or moved data dir keeps its renditions.
                    relative = (out_dir / f"{clip_id}.mp4").relative_to(store.data_dir)
                    store.record_rendition(clip_id, digest, str(relative), frames, size)
                    report.made += 1
                    report.seconds.append(seconds)
                if on_progress:
                    on_progress(report.made + len(report.failed), len(todo), clip_id)
    finally:
        if own_runner:
            runner.close(cancel=True)
    return report


@dataclass(frozen=True)
class RenditionJob:
    """One clip to render: its id and its original (shipped to a Ray worker as bytes)."""

    clip_id: str
    src: str


def _render_job(job: RenditionJob, profile: ServingProfile, out_path: str):
    """Worker entry for run_jobs: (frames, bytes, seconds), or ("failed", reason) for a clip
    that cannot be rendered (so that this process records the reason on the clip)."""
    try:
        return _render(job.src, out_path, profile)
    except Exception as exc:  # noqa: BLE001 - the clip's failure is a result to record
        Path(out_path).touch()  # a shipping engine reads the output back; nothing is kept
        return ("failed", _reason(exc))


def render_stored(
    store: Store,
    profile: ServingProfile,
    clip_ids: Iterable[str] | None = None,
    *,
    engine: str = "local",
    workers: int = 2,
    ray_address: str | None = None,
    progress: str | None = "renditions",
    stop: threading.Event | None = None,
) -> RenditionReport:
    """Make the rendition of every stored clip (of clip_ids, when given) that has none for
    `profile`, through the job loop (local processes or Ray, with a progress bar), then the
    served files of their prompts. `paddock generate` and `paddock clips import` call it as
    clips enter the store. A clip that cannot be rendered is recorded as failed, never served,
    and is one line of the report naming it."""
    digest = profile.digest()
    wanted = set(clip_ids) if clip_ids is not None else None
    todo = [
        row for row in store.clips_needing_rendition(digest) if wanted is None or row[0] in wanted
    ]
    report = RenditionReport()
    if not todo:
        return report
    out_dir = renditions_dir(store, profile)
    tmp = out_dir / "incoming"
    tmp.mkdir(parents=True, exist_ok=True)
    names = {m.id: m.name for m in store.models()}
    works = []
    for clip_id, _, prompt_id in todo:
        model = names.get(store.clip(clip_id).model_id, "?")
        job = RenditionJob(clip_id, str(store.clip_path(clip_id)))
        label = f"clip {clip_id} ({model} / {prompt_id})"
        works.append(
            Work(job, _render_job, label, (profile,), ("src",), tmp / f"{clip_id}.part.mp4")
        )

    def record(work: Work, value) -> None:
        clip_id = work.job.clip_id
        if value[0] == "failed":
            store.record_rendition(clip_id, digest, None, None, None, error=value[1])
            log.warning("clip %s cannot be rendered for serving: %s", clip_id, value[1])
            raise MediaError(f"cannot be rendered, never served: {value[1]}")
        frames, size, seconds = value
        final = out_dir / f"{clip_id}.mp4"
        os.replace(work.output, final)
        store.record_rendition(
            clip_id, digest, str(final.relative_to(store.data_dir)), frames, size
        )
        report.seconds.append(seconds)

    loop = run_jobs(
        works,
        record,
        engine=engine,
        workers=workers,
        ray_address=ray_address,
        initializer=_lower_priority,
        stop=stop,
        progress=progress,
    )
    report.made, report.failed = loop.done, loop.failed
    if report.made:
        from arena.jobs.serving_cuts import prepare_served

        prepare_served(store, profile)
    return report


def render_for_serving(
    data_dir: Path,
    profile: ServingProfile,
    say: Callable[[str], None],
    engine: str = "local",
    workers: int = 2,
    ray_address: str | None = None,
) -> int:
    """Make the serving renditions of the clips that just entered the data dir's store (the job
    loop, with a progress bar); `say` gets one line per clip that cannot be rendered. Returns how
    many could not."""
    with Store.open(data_dir, create=False) as store:
        report = render_stored(
            store, profile, engine=engine, workers=workers, ray_address=ray_address
        )
    if report.made or report.failed:
        say(f"rendered {report.made} clip(s) for serving, {len(report.failed)} failed")
    for line in report.failed:
        say(f"  not served: {line}")
    return len(report.failed)


def start_serving(store: Store, profile: ServingProfile) -> None:
    """Serve renditions of `profile` only: battles wait for both clips' renditions."""
    store.set_serving_profile(profile.digest())


def rendition_loop(
    store: Store,
    profile: ServingProfile,
    stop: threading.Event,
    workers: int = 1,
    first_prompts: Iterable[str] = (),
    poll_s: float = 1.0,
) -> None:
    """Until stop: render every clip that has no rendition yet, then look again every poll_s
    (clips keep arriving from generation, imports and the admin page)."""
    first = set(first_prompts)
    # One pool for the loop's life: starting worker processes for every pass would cost more
    # than rendering the one or two clips a pass often finds.
    runner = None
    inline = InlineEngine()
    while not stop.is_set():
        try:
            if runner is None:
                runner = make_engine("local", workers, initializer=_lower_priority)
            # The first set's clips are rendered here, in this thread: starting worker processes
            # takes longer than the first clips do, and the first battle waits for them.
            report = render_missing(
                store, profile, workers, first, stop=stop, runner=inline, only_prompts=first
            )
            more = render_missing(store, profile, workers, first, stop=stop, runner=runner)
            report.made += more.made
            report.failed += more.failed
            if report.made and not stop.is_set():
                from arena.jobs.serving_cuts import prepare_served

                prepare_served(store, profile)
        except Exception:  # noqa: BLE001 - the server goes on; the next pass tries again
            log.exception("rendition pass failed")
            if runner is not None:
                runner.close(cancel=True)
            runner = None
        else:
            if report.made or report.failed:
                log.info("renditions: %d made, %d failed", report.made, len(report.failed))
        stop.wait(poll_s)
    if runner is not None:
        runner.close(cancel=True)


def start_rendition_thread(
    store: Store,
    profile: ServingProfile,
    stop: threading.Event,
    workers: int = 1,
    first_prompts: Iterable[str] = (),
) -> threading.Thread:
    """The background thread the server and the demo start: serving on, renditions made."""
    start_serving(store, profile)
    thread = threading.Thread(
        target=rendition_loop,
        args=(store, profile, stop, workers, tuple(first_prompts)),
        name="paddock-renditions",
        daemon=True,
    )
    thread.start()
    return thread
