"""A data dir and a real `paddock serve` subprocess for server benchmarks and load tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from arena.io.clip_staging import check_clip, commit_staged, stage_clip
from arena.io.prompt_files import ensure_suite
from arena.store import Store
from generators.encode import encode_clip


def make_clip(path: Path, shade: int, seconds: float = 2.0) -> Path:
    fps, w, h = 12, 160, 96
    frames = [
        np.full((h, w, 3), (shade + 3 * i) % 256, np.uint8) for i in range(int(fps * seconds))
    ]
    t = np.arange(int(seconds * 48000)) / 48000
    audio = (0.2 * np.sin(2 * np.pi * (200 + shade) * t)).astype(np.float32)
    encode_clip(path, frames, fps=fps, width=w, height=h, audio=audio, sample_rate=48000)
    return path


def make_bench_data(
    data_dir: Path, n_models: int = 6, n_prompts: int = 8, seconds: float = 2.0
) -> Path:
    """Models bench-0.., each with one clip per prompt; returns the data dir."""
    store = Store.open(data_dir)
    try:
        prompts = ensure_suite(store)[:n_prompts]
        src = data_dir / "src"
        src.mkdir(exist_ok=True)
        staged = []
        for m in range(n_models):
            model = store.add_model(f"bench-{m}", "imported")
            for p, prompt in enumerate(prompts):
                path = make_clip(src / f"{m}-{p}.mp4", 20 * m + p, seconds)
                info = check_clip(path, prompt)
                staged.append(stage_clip(store, path, model.id, prompt, prompt.seed, info, None))
        commit_staged(store, staged)
    finally:
        store.close()
    return data_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    data: Path,
    port: int,
    extra_args: tuple[str, ...] = ("--no-gate",),
    env: dict[str, str] | None = None,
    timeout_s: float = 60.0,
) -> subprocess.Popen:
    """`paddock serve` on 127.0.0.1:port as a subprocess; returns once /healthz answers and every
    clip has its serving rendition.

    Its stderr goes to server.log beside the data dir (a pipe nobody reads could fill and stall it).
    """
    import urllib.request

    full_env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", **(env or {}))
    log_path = Path(data).parent / "server.log"
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from arena.cli import main; main()",
                "serve",
                "--data",
                str(data),
                "--port",
                str(port),
                *extra_args,
            ],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                health = json.loads(r.read() or b"{}")
                # Serving renditions: ready once every clip has one (battles wait for them).
                if r.status == 200 and health.get("servable", health.get("clips", 0)) >= health.get(
                    "clips", 0
                ):
                    return proc
                time.sleep(0.2)
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}") from None
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"server did not start within {timeout_s:.0f} s")


def stop_server(proc: subprocess.Popen, timeout_s: float = 30.0) -> int:
    """Stop the server as Ctrl-C would (it checkpoints and releases the file); kill it if stuck."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
