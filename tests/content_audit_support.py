"""Tiny silent clips from four "models" that differ by content (a style of their own, or a look:
colour cast, sharpness, motion) or only by format (the same pictures at other sizes, rates and
qualities), for the content audit tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from fair_serving_support import content_frame

from arena.io.clip_staging import check_clip, commit_staged, stage_clip
from arena.io.prompt_files import ensure_suite
from arena.store import Store
from generators.encode import encode_clip

SECONDS = 0.5
#: One format for every model; each paints the prompt's scene in a colour cast of its own.
STYLES = {
    "amber": (230, 150, 20),
    "teal": (20, 170, 160),
    "violet": (140, 40, 200),
    "slate": (60, 70, 90),
}
#: The prompt's scene as it is, in a format of each model's own: (width, height, fps, crf).
FORMATS = {
    "wide": (96, 54, 12, 18),
    "small": (48, 28, 10, 30),
    "mid": (64, 36, 15, 23),
    "odd": (80, 44, 12, 35),
}


#: One format for every model; each differs from "plain" in one way a viewer sees.
LOOKS = ("plain", "warm", "soft", "lively")
LOOK_SIZE = (96, 54, 12)  # width, height, fps


def look_frame(model: str, prompt_index: int, t: float) -> np.ndarray:
    """The prompt's scene with a fine grain of its own, as `model` shows it: a warm cast, soft
    (blurred), lively (a camera that pans) or plain."""
    width, height, fps = LOOK_SIZE
    frame = content_frame(prompt_index, t, width, height).astype(float)
    grain = np.random.default_rng(500 + prompt_index).uniform(-40, 40, (height // 2, width // 2))
    frame += np.kron(grain, np.ones((2, 2)))[..., None]
    if model == "lively":
        frame = np.roll(frame, int(round(3 * t * fps)), axis=1)
    if model == "warm":
        frame = 0.75 * frame + 0.25 * np.array([255.0, 150.0, 40.0])
    if model == "soft":
        frame = cv2.GaussianBlur(frame, (0, 0), 2.5)
    return np.clip(frame, 0, 255).astype(np.uint8)


def look_clip(path: Path, model: str, prompt_index: int) -> Path:
    width, height, fps = LOOK_SIZE
    frames = (look_frame(model, prompt_index, i / fps) for i in range(int(round(SECONDS * fps))))
    encode_clip(
        path, frames, fps=fps, width=width, height=height, audio=None, crf=20, preset="ultrafast"
    )
    return path


def styled_clip(path: Path, model: str, prompt_index: int, by: str) -> Path:
    """The prompt's clip as `model` makes it: by="style" (STYLES), "look" (LOOKS) or "format"
    (FORMATS)."""
    if by == "look":
        return look_clip(path, model, prompt_index)
    if by == "style":
        width, height, fps, crf = 64, 36, 12, 23
        cast = np.array(STYLES[model], float)
    else:
        width, height, fps, crf = FORMATS[model]
        cast = None
    frames = []
    for i in range(int(round(SECONDS * fps))):
        frame = content_frame(prompt_index, i / fps, width, height).astype(float)
        if cast is not None:
            frame = 0.45 * frame + 0.55 * cast
        frames.append(frame.astype(np.uint8))
    encode_clip(
        path, iter(frames), fps=fps, width=width, height=height, audio=None, crf=crf,
        preset="ultrafast",
    )  # fmt: skip
    return path


def models_of(by: str) -> tuple[str, ...]:
    return {"style": tuple(STYLES), "look": LOOKS}.get(by, tuple(FORMATS))


def styled_clips(folder: Path, n_prompts: int, by: str) -> list[tuple[str, int, Path]]:
    """(model, prompt index, path) of every model's clip of n_prompts prompts."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        (model, pi, styled_clip(folder / f"{model}-{pi}.mp4", model, pi, by))
        for model in models_of(by)
        for pi in range(n_prompts)
    ]


def styled_store(data_dir: Path, n_prompts: int, by: str) -> Store:
    """A store holding styled_clips of the first n_prompts silent prompts of the suite."""
    store = Store.open(data_dir)
    prompts = [p for p in ensure_suite(store) if not p.audio][:n_prompts]
    models = {name: store.add_model(name, "imported") for name in models_of(by)}
    staged = []
    for model, pi, path in styled_clips(data_dir / "src", len(prompts), by):
        prompt = prompts[pi]
        info = check_clip(path, prompt)
        staged.append(stage_clip(store, path, models[model].id, prompt, prompt.seed, info, 0.1))
    commit_staged(store, staged)
    return store
