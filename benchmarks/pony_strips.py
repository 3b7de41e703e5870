"""Strips of frames from pony clips for docs/: one 1600-px-wide PNG per kind of prompt.

Each prompt is generated at 480p (3 or 5 s, seed 1) and five frames spread over the clip
are put side by side. Usage:

    .venv/bin/python benchmarks/pony_strips.py [--out docs]

The last line printed is one JSON object: the files written and the seconds each clip took.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

STRIPS = [
    ("nobody", "Time-lapse of white clouds drifting over green hills", None, 3.0),
    ("rain-empty", "Heavy rain on an empty street at night, cars pass, no one speaks", None, 3.0),
    (
        "one-person",
        'A woman with long red hair in a green sweater says "Good morning, everyone."',
        None,
        3.0,
    ),
    ("old-man", "An old man with a grey beard and a black hat stands in the snow", None, 3.0),
    (
        "two-talking",
        'In a kitchen. Anna: "Where were you all day?" Tom: "At the market, '
        'buying bread." Anna: "Again?"',
        None,
        5.0,
    ),
    ("three-people", "Three people stand in a busy town square at sunset", None, 3.0),
    ("animal", "A dog runs across a green park while a cat watches", None, 3.0),
    ("horse-rider", "A cowboy rides a horse across the desert", None, 3.0),
    ("walking", "A man in a blue jacket walks along a street, static camera", None, 3.0),
    ("waving", "A girl with blonde hair in a blue dress waves from a garden", None, 3.0),
    (
        "i2v-face",
        'The astronaut in the image smiles and says "Hello from the crew."',
        "astronaut",
        3.0,
    ),
    ("i2v-animal", "The cat in the image yawns and stretches", "chelsea", 3.0),
]


def strip(frames: np.ndarray, width: int = 1600, n: int = 5) -> np.ndarray:
    tile_w = width // n
    tile_h = int(round(tile_w * frames.shape[1] / frames.shape[2]))
    idx = np.linspace(0, len(frames) - 1, n).astype(int)
    tiles = [cv2.resize(frames[i], (tile_w, tile_h), interpolation=cv2.INTER_AREA) for i in idx]
    return np.concatenate(tiles, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    from rich.console import Console
    from rich.progress import Progress
    from skimage import data

    from generators.base import GenerationRequest
    from generators.decode import decode_clip
    from generators.registry import build_generator

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    pony = build_generator("builtin:pony")
    written, seconds = [], {}
    with tempfile.TemporaryDirectory() as tmp, Progress(console=Console(stderr=True)) as bar:
        task = bar.add_task("strips", total=len(STRIPS))
        for name, prompt, image_name, duration in STRIPS:
            bar.update(task, description=name)
            image = None
            if image_name:
                image = str(Path(tmp) / f"{image_name}.png")
                cv2.imwrite(image, getattr(data, image_name)()[..., ::-1])
            clip_path = Path(tmp) / f"{name}.mp4"
            start = time.perf_counter()
            pony.generate(
                GenerationRequest(
                    prompt, seed=1, duration_s=duration, resolution="480p", image=image
                ),
                str(clip_path),
            )
            seconds[name] = round(time.perf_counter() - start, 2)
            frames = decode_clip(clip_path, max_side=854).frames
            path = out_dir / f"pony_{name}.png"
            cv2.imwrite(str(path), strip(frames)[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
            written.append(str(path))
            bar.advance(task)
    print(json.dumps({"files": written, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
