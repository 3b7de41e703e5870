"""Helpers for arena tests: tiny real clips and a real server on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np

from arena.io.clip_staging import check_clip, commit_staged, stage_clip
from arena.io.prompt_files import ensure_suite
from arena.store import Store
from generators.encode import encode_clip

MODELS = ("alpha", "beta", "gamma")


def tiny_clip(path: Path, shade: int, seconds: float = 1.0, audio: bool = True) -> Path:
    """A real H.264/AAC clip: a flat colour with a moving bar, and a tone."""
    fps, w, h = 12, 64, 48
    n = int(seconds * fps)
    frames = []
    for i in range(n):
        frame = np.full((h, w, 3), shade, np.uint8)
        frame[:, (i * 4) % w : (i * 4) % w + 6] = 255 - shade
        frames.append(frame)
    sound = None
    if audio:
        t = np.arange(int(seconds * 48000)) / 48000
        sound = (0.2 * np.sin(2 * np.pi * (220 + shade) * t)).astype(np.float32)
    encode_clip(path, frames, fps=fps, width=w, height=h, audio=sound, sample_rate=48000)
    return path


def tag_clip(src: Path, dst: Path, title: str) -> Path:
    """Remux a clip with a title and comment tag, as files made elsewhere often carry."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        out.metadata["title"] = title
        out.metadata["comment"] = f"made by {title}"
        mapping = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
    return dst


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seeded_store(data_dir: Path, n_prompts: int = 3, models=MODELS, category: str = "t2v") -> Store:
    """A store with a few models, prompts (of ``category``) and real tiny clips for each."""
    store = Store.open(data_dir)
    for name in models:
        store.add_model(name, "imported")
    prompts = [p for p in ensure_suite(store) if p.category == category][:n_prompts]
    src = data_dir / "src"
    src.mkdir(exist_ok=True)
    staged = []
    for mi, name in enumerate(models):
        model = store.model_by_name(name)
        for pi, prompt in enumerate(prompts):
            path = tiny_clip(src / f"{mi}_{pi}.mp4", 40 + 60 * mi + pi, audio=True)
            path = tag_clip(path, src / f"{mi}_{pi}_tagged.mp4", name)
            info = check_clip(path, prompt)
            staged.append(stage_clip(store, path, model.id, prompt, prompt.seed, info, 0.1))
    commit_staged(store, staged)
    return store


class ServerThread:
    """The real arena server (uvicorn + Gradio) in a thread of the test process."""

    def __init__(self, store: Store, **options) -> None:
        import uvicorn

        from arena.domain.scheduler import Scheduler
        from arena.web.app import ArenaOptions
        from arena.web.leaderboard_view import leaderboard_view
        from arena.web.server import build_server

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        app = build_server(
            store, Scheduler(store, seed=0), ArenaOptions(**options), leaderboard_view
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def wait_until_servable(port: int, timeout: float = 120.0) -> None:
    """Wait until a `paddock serve` has made the serving renditions of all its clips."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        except httpx.HTTPError:
            health = {}
        if health.get("clips") and health.get("servable", health["clips"]) >= health["clips"]:
            return
        time.sleep(0.25)
    raise RuntimeError(f"renditions not ready within {timeout} s")
