"""av_sync accuracy and false alarms: sound moved by known amounts on drawn, pony and real clips.

Usage: .venv/bin/python benchmarks/av_sync_validation.py [--prompts 20] [--seconds 5]
Shifted sets: drawn flashes with knocks (3 seeds), pony impact scenes (5 prompts) and the real
talking heads (first 10 s), each with the sound looped by -300, -120, 0, +120, +300 ms.
Accuracy: share of shifted clips whose offset_ms is within one frame of the shift.
False alarms: share of clean clips (the unshifted sets and `--prompts` pony clips spread over
the default suite's text-to-video prompts) whose verdict is "out of sync". The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

SHIFTS_MS = (-300, -120, 0, 120, 300)
EVENT_PROMPTS = (
    "a drummer plays the drums on a quiet street at night",
    "a drummer plays the drums on a street at night",
    "a girl plays a drum in a sunny park",
    "a red ball bounces on a wooden floor in a quiet room",
    "a child watches a ball bouncing in a sunny park",
)


def _values(clip, shift_ms: float, n: int | None = None) -> dict:
    from metrics.av_sync import analyse
    from metrics.frames import detect_shot_cuts, small_frames

    n = n or len(clip.frames)
    samples = int(round(n / clip.fps * clip.audio_rate))
    audio = np.roll(clip.audio[:samples], int(round(shift_ms / 1000 * clip.audio_rate)))
    small = small_frames(clip.frames[:n])
    return analyse(
        small,
        detect_shot_cuts(small),
        audio,
        clip.audio_rate,
        clip.frame_times[:n],
        clip.audio_start_s,
        clip.fps,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    from test_metrics_av_sync import draw_events_clip

    from generators.base import GenerationRequest
    from generators.decode import decode_clip
    from generators.pony.generator import PonyGenerator

    folder = Path(tempfile.mkdtemp(prefix="avsync_"))
    sets: dict[str, list] = {"drawn": [], "pony events": [], "real": []}
    for seed in range(3):
        sets["drawn"].append(
            (decode_clip(str(draw_events_clip(folder / f"d{seed}.mp4", seed))), None)
        )
    for k, prompt in enumerate(EVENT_PROMPTS):
        path = folder / f"e{k}.mp4"
        PonyGenerator().generate(
            GenerationRequest(prompt, seed=0, duration_s=args.seconds), str(path)
        )
        sets["pony events"].append((decode_clip(str(path)), None))
    testdata = Path(os.environ.get("PADDOCK_TESTDATA", REPO.parent / "shared" / "testdata"))
    for name in ("talking_head_1.mp4", "talking_head_2.mp4"):
        clip = decode_clip(str(testdata / name))
        sets["real"].append((clip, int(round(10 * clip.fps))))
    report: dict = {}
    clean_verdicts: list[str] = []
    for label, clips in sets.items():
        hits, total, rows = 0, 0, []
        for clip, n in clips:
            for shift in SHIFTS_MS:
                v = _values(clip, shift, n)
                ok = v["offset_ms"] is not None and abs(v["offset_ms"] - shift) <= 1000 / clip.fps
                hits, total = hits + ok, total + 1
                rows.append((shift, v["offset_ms"], v["confidence"], v["verdict"]))
                if shift == 0:
                    clean_verdicts.append(v["verdict"])
        report[label] = {"accuracy": round(hits / total, 3), "clips": total}
        for row in rows:
            print(label, *row)
    suite = [json.loads(line) for line in (REPO / "arena/data/prompts/default.jsonl").open()]
    t2v = [p for p in suite if p.get("image") is None]
    t2v = t2v[:: max(1, len(t2v) // max(args.prompts, 1))][: args.prompts]  # every kind
    suite_verdicts = []
    for k, item in enumerate(t2v):
        path = folder / f"p{k}.mp4"
        PonyGenerator().generate(
            GenerationRequest(item["text"], seed=item.get("seed", 0), duration_s=args.seconds),
            str(path),
        )
        v = _values(decode_clip(str(path)), 0)
        suite_verdicts.append(v["verdict"])
        print("suite", item["id"], v)
    report["clean"] = {
        "clips": len(clean_verdicts),
        "false_alarms": sum(v == "out of sync" for v in clean_verdicts),
    }
    report["suite"] = {
        "clips": len(suite_verdicts),
        "false_alarms": sum(v == "out of sync" for v in suite_verdicts),
        "verdicts": {v: suite_verdicts.count(v) for v in sorted(set(suite_verdicts))},
    }
    from metrics.av_sync import AV_SYNC
    from metrics.base import ClipContext, MetricsConfig

    start = time.perf_counter()
    clip = decode_clip(str(testdata / "talking_head_1.mp4"), max_side=MetricsConfig().max_side)
    decoded_s = time.perf_counter() - start
    ctx = ClipContext(path="talking_head_1.mp4", clip=clip, config=MetricsConfig())
    start = time.perf_counter()
    AV_SYNC.compute(ctx)  # small frames and shot cuts included: other metrics share them
    report["speed_talking_head_1"] = {
        "clip_s": round(clip.duration_s, 2),
        "decode_s": round(decoded_s, 2),
        "av_sync_s": round(time.perf_counter() - start, 2),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
