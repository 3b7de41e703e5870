"""Real-time factor of the metrics on the 1080x1920 25 fps test clip, without and with the sound.

Usage: .venv/bin/python benchmarks/metrics_bench.py [--clip PATH] [--repeat 3]
Runs of lip-sync + identity + temporal alternate with runs of those plus the four sound metrics
(speech, speech_quality, audio_defects, av_sync), so both see the same machine. The last line is
one JSON object: rtf and rtf_with_sound (clip seconds per wall second), seconds, clip_s, stages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
METRICS = ["lipsync", "identity", "temporal"]
SOUND = ["speech", "speech_quality", "audio_defects", "av_sync"]


def default_clip() -> Path:
    base = Path(os.environ.get("PADDOCK_TESTDATA", REPO.parent / "shared" / "testdata"))
    return base / "talking_head_1.mp4"


def run_once(path: str) -> dict[str, float]:
    """The same work as score_clip(path, METRICS), one stage after another, timed per stage."""
    from generators.decode import decode_clip
    from metrics.base import ClipContext, MetricsConfig
    from metrics.registry import get_metric

    config = MetricsConfig()
    stages: dict[str, float] = {}
    t = time.perf_counter()
    clip = decode_clip(path, max_side=config.max_side)
    stages["decode"] = time.perf_counter() - t
    ctx = ClipContext(path=path, clip=clip, config=config)
    for label, step in [
        ("face_track", lambda: ctx.face_track),
        ("landmarks", lambda: ctx.landmarks),
        ("shot_cuts", lambda: ctx.shot_cuts),
    ]:
        t = time.perf_counter()
        step()
        stages[label] = time.perf_counter() - t
    for name in METRICS + SOUND:
        t = time.perf_counter()
        result = get_metric(name).compute(ctx)
        stages[name] = time.perf_counter() - t
        if result.status != "ok":
            raise SystemExit(f"{name} unavailable on the benchmark clip: {result.reason}")
    stages["total"] = sum(stages.values())
    return stages


def timed_run(path: str, metrics: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of score_clip(path, metrics): what the runner does per clip."""
    from metrics.registry import score_clip

    cpu, wall = time.process_time(), time.perf_counter()
    results = score_clip(path, metrics, prompt="A woman looks into the camera and speaks.")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bad = [f"{r.metric}: {r.reason}" for r in results if r.status != "ok"]
    if bad:
        raise SystemExit(f"unavailable on the benchmark clip: {bad}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=default_clip())
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after one warm-up")
    args = parser.parse_args()
    if not args.clip.is_file():
        raise SystemExit(f"benchmark clip not found: {args.clip} (set PADDOCK_TESTDATA)")
    from generators.decode import probe_clip

    info = probe_clip(args.clip)
    clip_s = info.n_frames / info.fps
    runs, cpu, sound_runs, sound_cpu = [], [], [], []
    for i in tqdm(range(args.repeat + 1), desc="metrics bench", unit="run"):
        wall, cpu_s = timed_run(str(args.clip), METRICS)
        sound_wall, sound_cpu_s = timed_run(str(args.clip), METRICS + SOUND)
        if i == 0:
            cold = wall  # loads the dlib and DNSMOS models
        else:
            runs.append(wall)
            cpu.append(cpu_s)
            sound_runs.append(sound_wall)
            sound_cpu.append(sound_cpu_s)
    seconds = statistics.median(runs)
    sound_seconds = statistics.median(sound_runs)
    stages = run_once(str(args.clip))  # one sequential pass, for where the time goes
    for name, value in stages.items():
        tqdm.write(f"{name:>12}: {value:6.2f} s (sequential)")
    print(
        json.dumps(
            {
                "rtf": round(clip_s / seconds, 2),
                "rtf_with_sound": round(clip_s / sound_seconds, 2),
                "seconds": round(seconds, 3),
                "seconds_with_sound": round(sound_seconds, 3),
                "runs_with_sound": [round(r, 3) for r in sound_runs],
                "cpu_seconds_with_sound": round(statistics.median(sound_cpu), 3),
                "clip_s": round(clip_s, 3),
                "cold_seconds": round(cold, 3),
                "runs": [round(r, 3) for r in runs],
                # CPU seconds of this process (all threads): what the work costs whatever else runs.
                "cpu_seconds": round(statistics.median(cpu), 3),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "stages_sequential": {k: round(v, 3) for k, v in stages.items()},
                "metrics": METRICS,
                "sound_metrics": SOUND,
                "clip": f"{info.width}x{info.height} {info.video_codec} {info.fps:g} fps",
                "cpus": len(os.sched_getaffinity(0)),
            }
        )
    )


if __name__ == "__main__":
    main()
