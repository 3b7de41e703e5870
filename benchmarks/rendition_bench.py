"""Rendition cost: seconds to make one clip's serving rendition at 720p and 1080p, and disk added.

Sources: the real talking-head clips in the shared test data (1080x1920 HEVC, 25 fps, 10 s) when
present, and a 5 s 1920x1080 24 fps H.264 clip made here. Run by hand:

    python benchmarks/rendition_bench.py [--testdata DIR] [--repeats 1]

The last line is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from rich.console import Console

from generators.decode import probe_clip
from generators.serving.profile import ServingProfile
from generators.serving.rendition import make_rendition

PROFILES = {
    "720p": ServingProfile(),
    "1080p": replace(
        ServingProfile(),
        sizes=(("16:9", 1920, 1080), ("9:16", 1080, 1920), ("1:1", 1080, 1080)),
        max_bitrate_kbps=8000,
    ),
}


def synthetic_1080p(path: Path, seconds: float = 5.0, fps: int = 24) -> Path:
    """Moving gradients and a noisy texture at 1920x1080 with a tone: work for the encoder."""
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 60, size=(1080, 1920), dtype=np.uint8)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 1920, 1080, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "20"}
        audio = out.add_stream("aac", rate=48000, layout="stereo")
        x = np.linspace(0, 1, 1920)[None, :]
        for i in range(int(seconds * fps)):
            shift = i * 8
            luma = (np.roll(texture, shift, axis=1) + 150 * x).astype(np.uint8)
            rgb = np.repeat(luma[..., None], 3, axis=2)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        t = np.arange(int(seconds * 48000)) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
        planar = np.ascontiguousarray(np.stack([tone, tone]))
        for start in range(0, planar.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, start : start + 1024]),
                format="fltp",
                layout="stereo",
            )
            chunk.sample_rate, chunk.pts, chunk.time_base = 48000, start, Fraction(1, 48000)
            out.mux(audio.encode(chunk))
        out.mux(audio.encode(None))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--testdata", type=Path, default=Path("/work/shared/testdata"))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="rendition-bench-") as tmp:
        root = Path(tmp)
        sources = sorted(args.testdata.glob("*.mp4")) if args.testdata.is_dir() else []
        sources.append(synthetic_1080p(root / "synthetic-1080p.mp4"))
        results: dict[str, dict] = {}
        for label, profile in PROFILES.items():
            per_clip, per_second, added, original = [], [], 0, 0
            for src in sources:
                info = probe_clip(src)
                for r in range(args.repeats):
                    started = time.perf_counter()
                    out = make_rendition(src, root / f"{label}-{src.stem}-{r}.mp4", profile)
                    elapsed = time.perf_counter() - started
                    per_clip.append(elapsed)
                    per_second.append(elapsed / (out.frames / out.fps))
                    console.print(
                        f"{label} {src.name} ({info.width}x{info.height} {info.fps:g} fps "
                        f"{info.duration_s:.1f} s): {elapsed:.2f} s, {out.bytes / 1e6:.2f} MB"
                    )
                added += out.bytes
                original += os.path.getsize(src)
            results[label] = {
                "seconds_per_clip": round(float(np.mean(per_clip)), 2),
                "seconds_per_clip_second": round(float(np.mean(per_second)), 3),
                "added_disk_mb_per_clip": round(added / len(sources) / 1e6, 2),
                "added_disk_vs_original": round(added / original, 3),
            }
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "clips": len(sources),
                "rendition_720p_s_per_clip": results["720p"]["seconds_per_clip"],
                "rendition_1080p_s_per_clip": results["1080p"]["seconds_per_clip"],
                "rendition_720p_s_per_video_s": results["720p"]["seconds_per_clip_second"],
                "rendition_1080p_s_per_video_s": results["1080p"]["seconds_per_clip_second"],
                "added_disk_720p_mb_per_clip": results["720p"]["added_disk_mb_per_clip"],
                "added_disk_1080p_mb_per_clip": results["1080p"]["added_disk_mb_per_clip"],
                "added_disk_720p_vs_original": results["720p"]["added_disk_vs_original"],
                "added_disk_1080p_vs_original": results["1080p"]["added_disk_vs_original"],
            }
        )
    )


if __name__ == "__main__":
    main()
