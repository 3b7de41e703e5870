"""`paddock demo`: from nothing to an arena a rater can vote in, filling the rest in behind it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from arena.domain.catalog import ensure_builtin_models, ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.store import Store
from arena.web.leaderboard_view import leaderboard_view

console = Console(stderr=True)
DEMO_SETTINGS = GenerationSettings(duration_s=5.0, resolution="720p", aspect="16:9", fps=24)


def _quick_prompts(prompts):
    """The suite's small, diverse first set, as the store's prompts."""
    from arena.domain.suite import load_suite, quick_subset

    first = {p.id for p in quick_subset(load_suite())}
    return [p for p in prompts if p.id in first]


def _fill(
    store: Store,
    prompts,
    workers: int,
    label: str,
    settings: GenerationSettings,
    stop: threading.Event | None = None,
):
    models = store.models(active_only=True)
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task(label, total=None)

        def tick(done: int, total: int, what: str) -> None:
            progress.update(task, total=total, completed=done, description=f"{label}: {what}")

        report = generate_missing(
            store, models, prompts, settings, workers, on_progress=tick, stop=stop
        )
    for line in report.failed:
        console.print(f"[red]failed[/red] {line}")
    return report


def _score(store: Store, workers: int, stop: threading.Event | None = None) -> None:
    try:
        from arena.jobs.scoring import score_missing
    except ImportError:
        return
    score_missing(store, workers=workers, stop=stop)


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
        if not serve:
            _fill(store, first, workers, "first clips", settings)
            console.print(f"first set ready in {time.monotonic() - started:.0f} s")
            if full:
                _fill(store, rest, workers, "rest of the suite", settings)
                _score(store, workers)
            return

        def background(stop: threading.Event) -> None:
            _fill(store, first, workers, "first clips", settings, stop)
            if not stop.is_set():
                console.print(f"first set ready {time.monotonic() - started:.0f} s after start")
                _fill(store, rest, workers, "rest of the suite", settings, stop)
            if not stop.is_set():
                _score(store, workers, stop)

        from arena.web.server import run_server

        run_server(
            store,
            host=host,
            port=port,
            background=background,
            on_ready=lambda url: console.print(
                f"[bold green]Paddock arena at {url}[/bold green]  (Ctrl-C to stop); the first "
                "battles open as soon as two models have a clip for a prompt"
            ),
            leaderboard=leaderboard_view,
            serving=serving,
            first_prompts=tuple(p.id for p in first),
        )
    finally:
        store.close()
