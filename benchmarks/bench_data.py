"""A data dir for server benchmarks: a few models with small real clips for a few prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from arena.catalog import ensure_suite
from arena.clipfiles import check_clip, commit_staged, stage_clip
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


def make_bench_data(data_dir: Path, n_models: int = 6, n_prompts: int = 8) -> Path:
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
                path = make_clip(src / f"{m}-{p}.mp4", 20 * m + p)
                info = check_clip(path, prompt)
                staged.append(stage_clip(store, path, model.id, prompt, prompt.seed, info, None))
        commit_staged(store, staged)
    finally:
        store.close()
    return data_dir
