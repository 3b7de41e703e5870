"""`paddock demo`: from nothing to an arena a rater can vote in, filling the rest in behind it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from arena.domain.registration import ensure_builtin_models
from arena.io.prompt_files import ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.store import Store
from arena.web.leaderboard_view import leaderboard_view

console = Console(stderr=True)
DEMO_SETTINGS = GenerationSettings(duration_s=5.0, resolution="720p", aspect="16:9", fps=24)


def _quick_prompts(prompts):
    """The suite's small, diverse first set, as the store's prompts."""
    from arena.domain.suite import quick_subset
    from arena.io.prompt_files import load_suite

    first = {p.id for p in quick_subset(load_suite())}
    return [p for p in prompts if p.id in first]


# After the first set, the suite is built a few prompts at a time, each chunk scored as soon as
# it is made, so metrics keep up with the clips raters see.
CHUNK_PROMPTS = 4
# The first set is made for these models alone: its size sets the time to the first reveal with
# metrics (within three minutes on two cores), so baselines added later do not lengthen it.
# Every other active model gets the first set's prompts right after it is scored.
FIRST_SET_MODELS = (
    "pony", "pony-lag", "pony-mute", "pony-drift", "pony-flicker", "pony-lowres", "pony-freeze",
)  # fmt: skip
LOG_EVERY_S = 15.0


@dataclass
class DemoLog:
    """What the demo is doing, in words a newcomer understands, printed every LOG_EVERY_S."""

    total: int  # clips the whole suite needs
    made: int  # clips that exist
    scored: int  # clips with their metrics recorded
    url: str | None = None
    started: float = field(default_factory=time.monotonic)
    last: float = 0.0

    def __post_init__(self) -> None:
        self._units_at_start = self.made + self.scored

    def time_left(self) -> str:
        done = self.made + self.scored - self._units_at_start
        left = 2 * self.total - self.made - self.scored
        if left <= 0:
            return "all done"
        if done < 5:  # a rate from the first clip or two is mostly start-up cost
            return "estimating the time left"
        seconds = (time.monotonic() - self.started) / done * left
        minutes = round(seconds / 60)
        return f"about {minutes} min left" if minutes >= 1 else "under a minute left"

    def line(self) -> str:
        text = (
            f"clips made {self.made}/{self.total}, clips scored {self.scored}/{self.total}, "
            f"{self.time_left()}"
        )
        return text + (f"; vote at {self.url}" if self.url else "")

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= LOG_EVERY_S:
            self.last = now
            console.print(self.line(), soft_wrap=True)


def _start_log(store: Store, prompts) -> DemoLog:
    from arena.jobs.generation import missing_jobs
    from arena.jobs.scoring import pending_jobs

    made = len(store.clips())
    missing = len(missing_jobs(store, store.models(active_only=True), prompts))
    return DemoLog(total=made + missing, made=made, scored=made - len(pending_jobs(store)))


def _generate(store: Store, models, prompts, workers: int, settings, log: DemoLog, stop=None):
    before = log.made

    def tick(done: int, total: int, what: str) -> None:
        log.made = before + done
        log.show()

    report = generate_missing(
        store,
        models,
        prompts,
        settings,
        workers,
        on_progress=tick,
        stop=stop,
    )
    for line in report.failed:
        console.print(f"[red]failed[/red] {line}")
    log.made = before + report.made
    return report


def _score(store: Store, workers: int, log: DemoLog, stop=None) -> None:
    from arena.jobs.scoring import score_missing

    before = log.scored

    def tick(done: int, total: int, what: str) -> None:
        log.scored = before + done
        log.show()

    report = score_missing(store, workers=workers, stop=stop, progress=False, on_progress=tick)
    log.scored = before + report.scored
    for line in report.failed:
        console.print(f"[red]metric failed[/red] {line}")


def _build(
    store: Store,
    first,
    rest,
    workers: int,
    settings: GenerationSettings,
    log: DemoLog,
    started: float,
    stop: threading.Event | None = None,
) -> None:
    """The first set made and scored (for FIRST_SET_MODELS), then for the other models, then the
    rest chunk by chunk: make, then score."""
    active = store.models(active_only=True)
    early = [m for m in active if m.name in FIRST_SET_MODELS] or active
    late = [m for m in active if m not in early]
    chunks = [(first, early), *([(first, late)] if late else [])]
    chunks += [(rest[i : i + CHUNK_PROMPTS], active) for i in range(0, len(rest), CHUNK_PROMPTS)]
    for i, (chunk, models) in enumerate(chunks):
        if stop is not None and stop.is_set():
            return
        _generate(store, models, chunk, workers, settings, log, stop)
        if i == 0:
            console.print(f"first set made {time.monotonic() - started:.0f} s after start")
        _score(store, workers, log, stop)
        if stop is not None and stop.is_set():
            return
        if i == 0:
            console.print(f"first set scored {time.monotonic() - started:.0f} s after start")
        log.show(force=True)


def run_demo(
    data: Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    serve: bool = True,
    workers: int = 2,
    full: bool = False,
    settings: GenerationSettings = DEMO_SETTINGS,
) -> None:
    """Serve at once and generate behind it: the first set first, so a pair is votable in seconds."""
    started = time.monotonic()
    from arena.io.serving_file import load_serving_profile

    serving = load_serving_profile()  # a bad [serving] section stops here, naming the key
    from arena.io.aspects_file import load_aspects

    aspects = load_aspects()  # so does an unknown follow-up in `aspects`
    store = Store.open(data)
    try:
        ensure_builtin_models(store)
        prompts = ensure_suite(store)
        first = _quick_prompts(prompts)
        rest = [p for p in prompts if p not in first]
        n_models = len(store.models(active_only=True))
        console.print(
            f"[bold]Paddock demo[/bold] in {data}: {n_models} models, {len(prompts)} "
            f"prompts; first set: {len(first)} prompts"
        )
        log = _start_log(store, prompts)
        log.show(force=True)
        if not serve:
            _build(store, first, rest if full else [], workers, settings, log, started)
            return

        def background(stop: threading.Event) -> None:
            _build(store, first, rest, workers, settings, log, started, stop)

        def ready(url: str) -> None:
            log.url = url
            console.print(
                f"[bold green]Vote at {url}[/bold green]  (Ctrl-C to stop); the first battles "
                "open as soon as two models have a clip for a prompt"
            )

        from arena.web.app import ArenaOptions
        from arena.web.server import run_server

        run_server(
            store,
            options=ArenaOptions(aspects=aspects),
            host=host,
            port=port,
            background=background,
            on_ready=ready,
            leaderboard=leaderboard_view,
            serving=serving,
            first_prompts=tuple(p.id for p in first),
        )
    finally:
        store.close()
