"""The one job loop: ship work to an engine, record each result here, report failures by line.

Generation, scoring and the regression check all run through `run_jobs`. It keeps a few jobs in
flight per engine slot, records every result from this process (the store's only writer), turns
a job that fails into one line (`label: reason`) and goes on, and shows one rich progress bar.
On an engine that ships files (Ray), the input files a job names travel with it as bytes and
the file it writes comes back as bytes: the only file-shipping path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.jobs.engine import make_engine
from generators.errors import PaddockError


@dataclass(frozen=True)
class Work:
    """One job for the loop: `fn(job, *args)` runs on a worker, with `output` appended when set.

    files names the fields of `job` (a dataclass) that hold paths of input files; output is
    where fn writes its file, on this machine.
    """

    job: Any
    fn: Callable[..., Any]
    label: str
    args: tuple = ()
    files: tuple[str, ...] = ()
    output: Path | None = None
    gpu: bool = False


@dataclass
class LoopReport:
    done: int = 0
    failed: list[str] = field(default_factory=list)  # "label: reason", one line each


def failure_line(exc: BaseException) -> str:
    """One line naming why a job failed; a Ray task's error is unwrapped to the worker's own."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        exc = cause
    if isinstance(exc, PaddockError):
        return str(exc)
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def _run_shipped(
    fn: Callable[..., Any],
    job: Any,
    args: tuple,
    files: dict[str, bytes],
    output_suffix: str | None,
) -> tuple[Any, bytes | None]:
    """Worker side of shipping: input files are written to a temporary folder, the job is
    pointed at them, and the file fn writes is read back."""
    with tempfile.TemporaryDirectory(prefix="paddock-job-") as tmp:
        local = {}
        for i, (name, data) in enumerate(files.items()):
            path = Path(tmp) / f"in{i}{Path(getattr(job, name)).suffix}"
            path.write_bytes(data)
            local[name] = str(path)
        job = dataclasses.replace(job, **local)
        if output_suffix is None:
            return fn(job, *args), None
        out = Path(tmp) / f"out{output_suffix}"
        value = fn(job, *args, str(out))
        return value, out.read_bytes()


def _submit(engine, work: Work) -> Future:
    if not engine.ships_files:
        tail = (str(work.output),) if work.output is not None else ()
        return engine.submit(work.fn, work.job, *work.args, *tail, gpu=work.gpu)
    files = {
        name: Path(getattr(work.job, name)).read_bytes()
        for name in work.files
        if getattr(work.job, name)
    }
    suffix = work.output.suffix if work.output is not None else None
    return engine.submit(_run_shipped, work.fn, work.job, work.args, files, suffix, gpu=work.gpu)


def _collect(engine, work: Work, future: Future) -> Any:
    value = future.result()
    if not engine.ships_files:
        return value
    value, data = value
    if work.output is not None and data is not None:
        work.output.write_bytes(data)
    return value


def run_jobs(
    works: Sequence[Work],
    record: Callable[[Work, Any], None],
    *,
    engine: str = "local",
    workers: int = 2,
    ray_address: str | None = None,
    initializer: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
    progress: str | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> LoopReport:
    """Run every work item and record its result with `record(work, value)` in this process.

    engine "local" runs `workers` processes here (0: this process), "ray" Ray tasks. A job whose
    worker or record step raises is one line in the report; the rest go on. progress, when
    given, is the label of a rich progress bar; on_progress(done, total, label) is called too.
    Stops submitting when `stop` is set and returns once the jobs in flight are done.
    """
    report = LoopReport()
    if not works:
        return report
    total = len(works)
    bar = _progress_bar(progress, total)
    runner = make_engine(engine, workers, ray_address, initializer=initializer)
    try:
        queue = list(works)
        pending: dict[Future, Work] = {}
        while queue or pending:
            while queue and len(pending) < 2 * runner.slots and not (stop and stop.is_set()):
                work = queue.pop(0)
                try:
                    pending[_submit(runner, work)] = work
                except OSError as exc:  # an input file vanished: that job fails, not the run
                    _finish(report, work, failure_line(exc), total, bar, on_progress)
            if not pending:
                break
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                work = pending.pop(future)
                error = None
                try:
                    record(work, _collect(runner, work, future))
                except Exception as exc:  # noqa: BLE001 - one bad job must not stop the rest
                    error = failure_line(exc)
                finally:
                    if work.output is not None:
                        with contextlib.suppress(FileNotFoundError):
                            work.output.unlink()
                _finish(report, work, error, total, bar, on_progress)
    finally:
        runner.close(cancel=True)
        if bar is not None:
            bar[0].stop()
    return report


def _finish(report: LoopReport, work: Work, error, total: int, bar, on_progress) -> None:
    if error is None:
        report.done += 1
    else:
        report.failed.append(f"{work.label}: {error}")
    processed = report.done + len(report.failed)
    if bar is not None:
        progress, task, label = bar
        progress.update(task, completed=processed, description=f"{label}: {work.label}")
    if on_progress is not None:
        on_progress(processed, total, work.label)


def _progress_bar(label: str | None, total: int):
    if label is None:
        return None
    from rich.progress import Progress

    progress = Progress(transient=False)
    task = progress.add_task(label, total=total)
    progress.start()
    return progress, task, label
