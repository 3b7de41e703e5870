"""Clips of the same content from four "models" that differ as real ones do (encoder and settings,
frame size, frame rate, length, loudness, audio format), in a store, for the fair-serving tests."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
from arena_helpers import free_port

from arena.domain.abuse import AbuseConfig
from arena.domain.scheduler import Scheduler
from arena.io.clip_staging import check_clip, commit_staged, stage_clip
from arena.io.prompt_files import ensure_suite
from arena.store import Store
from generators.serving.loudness import normalize_loudness
from generators.serving.profile import ServingProfile

#: A serving profile small enough for tests on two cores.
TINY_PROFILE = ServingProfile(
    sizes=(("16:9", 128, 72),), fps=24, gop_frames=12, pad_bucket_bytes=4096, preset="veryfast"
)


@dataclass(frozen=True)
class Maker:
    """How one fixture "model" encodes: what a real provider's pipeline would choose."""

    name: str
    codec: str
    options: dict
    width: int
    height: int
    fps: int
    seconds: float
    lufs: float
    audio_codec: str
    sample_rate: int
    layout: str
    audio_kbps: int


MAKERS = (
    Maker("studio", "libx264", {"preset": "ultrafast", "crf": "16"}, 128, 72, 24, 1.04, -14.0,
          "aac", 48000, "stereo", 192),
    Maker("cloud", "libx264", {"preset": "medium", "crf": "22"}, 192, 108, 30, 0.96, -26.0,
          "aac", 44100, "mono", 64),
    Maker("lab", "libx264", {"profile": "baseline", "g": "10", "crf": "20", "preset": "fast"},
          160, 90, 25, 1.0, -20.0, "aac", 48000, "stereo", 128),
    Maker("webm", "libvpx-vp9", {"crf": "24", "b": "0", "deadline": "realtime", "cpu-used": "8"},
          144, 80, 24, 1.08, -18.0, "libopus", 48000, "stereo", 96),
)  # fmt: skip


def content_frame(prompt_index: int, t: float, width: int, height: int) -> np.ndarray:
    """The prompt's picture at time t: the same scene at any size (a smooth gradient and a soft
    moving blob, so scaling changes little); prompts differ in colours, blob size and path."""
    rng = np.random.default_rng(prompt_index)
    c0, c1, blob = rng.uniform(30, 225, size=(3, 3))
    radius = rng.uniform(0.08, 0.25)
    speed, phase = rng.uniform(0.3, 1.2), rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:height, 0:width]
    u, v = x / width, y / height
    cx = 0.5 + 0.3 * np.cos(phase + 2 * np.pi * speed * t)
    cy = 0.5 + 0.25 * np.sin(phase + 2 * np.pi * speed * t * 0.7)
    weight = np.exp(-((u - cx) ** 2 + ((v - cy) * height / width) ** 2) / (2 * radius**2))
    base = c0[None, None, :] * (1 - u[..., None]) + c1[None, None, :] * u[..., None]
    frame = base * (1 - weight[..., None]) + blob[None, None, :] * weight[..., None]
    return np.clip(frame, 0, 255).astype(np.uint8)


def content_audio(prompt_index: int, seconds: float, rate: int) -> np.ndarray:
    rng = np.random.default_rng(1000 + prompt_index)
    t = np.arange(int(seconds * rate)) / rate
    f1, f2 = rng.uniform(150, 400), rng.uniform(500, 1500)
    wobble = 1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t)
    tones = 0.3 * np.sin(2 * np.pi * f1 * t) * wobble + 0.1 * np.sin(2 * np.pi * f2 * t)
    room = 0.01 * rng.standard_normal(len(t))  # a room's noise floor, as real recordings have
    return (tones + room).astype(np.float32)


def make_clip(path: Path, maker: Maker, prompt_index: int) -> Path:
    n = int(round(maker.seconds * maker.fps))
    audio = content_audio(prompt_index, n / maker.fps, maker.sample_rate)
    audio = normalize_loudness(audio, maker.sample_rate, maker.lufs, -0.5)
    channels = 2 if maker.layout == "stereo" else 1
    planar = np.ascontiguousarray(np.repeat(audio[None, :], channels, axis=0))
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream(maker.codec, rate=maker.fps)
        video.width, video.height, video.pix_fmt = maker.width, maker.height, "yuv420p"
        video.time_base = Fraction(1, maker.fps)
        video.options = dict(maker.options)
        sound = out.add_stream(maker.audio_codec, rate=maker.sample_rate, layout=maker.layout)
        sound.bit_rate = maker.audio_kbps * 1000
        for i in range(n):
            rgb = content_frame(prompt_index, i / maker.fps, maker.width, maker.height)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, maker.fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        size = sound.codec_context.frame_size or 1024
        for start in range(0, planar.shape[1], size):
            chunk = np.ascontiguousarray(planar[:, start : start + size])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=maker.layout)
            frame.sample_rate, frame.pts = maker.sample_rate, start
            frame.time_base = Fraction(1, maker.sample_rate)
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return path


def fingerprint_store(data_dir: Path, n_prompts: int, seed: int = 0) -> Store:
    """A store with every maker's clip of the first n_prompts sound prompts; seed picks other
    content (pictures and sounds) for the same prompts."""
    store = Store.open(data_dir)
    prompts = [p for p in ensure_suite(store) if p.audio][:n_prompts]
    src = data_dir / "src"
    src.mkdir(exist_ok=True)
    jobs = [(maker, pi) for maker in MAKERS for pi in range(len(prompts))]
    content = [pi + 1000 * seed for _, pi in jobs]
    # Two processes: the clips are independent, and the suite runs on two cores.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        paths = list(
            pool.map(
                make_clip,
                [src / f"{m.name}-{pi}.mp4" for m, pi in jobs],
                [m for m, _ in jobs],
                content,
            )
        )
    models = {maker.name: store.add_model(maker.name, "imported") for maker in MAKERS}
    staged = []
    for (maker, pi), path in zip(jobs, paths, strict=True):
        prompt = prompts[pi]
        info = check_clip(path, prompt)
        model = models[maker.name]
        staged.append(stage_clip(store, path, model.id, prompt, prompt.seed, info, 0.1))
    commit_staged(store, staged)
    return store


class Serving:
    """The real server (uvicorn) serving renditions, in a thread of the test process."""

    def __init__(self, store, profile) -> None:
        import uvicorn

        from arena.web.app import ArenaOptions
        from arena.web.server import build_server

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        options = ArenaOptions(require_full_play=False, abuse=AbuseConfig.unlimited())
        app = build_server(store, Scheduler(store, seed=0), options, serving=profile)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def battle(self, rater: str) -> httpx.Response:
        return httpx.post(f"{self.url}/api/battle", json={"rater_id": rater}, timeout=30)
