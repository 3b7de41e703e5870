"""audio_defects: accuracy on damaged sound, false alarms on clean clips, and its speed.

Usage: .venv/bin/python benchmarks/audio_defects_check.py [--pony 20] [--speed-only]
Sources: the real talking heads in PADDOCK_TESTDATA (the second cut to 10 s), two pony dialogues
and a pony nobody-speaks scene; each is scored clean and with each damage of tests/defect_damage.py
(re-encoded to AAC); then `--pony` pony clips over the default suite's text-to-video prompts
(evenly spaced, sound on, 4 s, 480p) are scored for false alarms. The last line is one JSON
object with the rates and the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the damage helpers the tests use

# damage -> the verdict that counts as caught
EXPECTED = {
    "clipped": "clipped",
    "muffled": "muffled",
    "noisy": "noisy",
    "very noisy": "noisy",
    "dropouts": "dropouts",
}
TALK = (  # the tests' dialogue, and a shorter line that leaves more of the clip to the bed
    'A woman in a quiet office looks at the camera and says "Hello everyone, welcome back '
    'to the weekly update."'
)
SHORT = 'A woman in a quiet office looks at the camera and says "Hello everyone, welcome back."'
RAIN = "Heavy rain falls on a city street at night, cars hiss past the puddles; no one speaks."


def testdata() -> Path:
    return Path(os.environ.get("PADDOCK_TESTDATA", REPO.parent / "shared" / "testdata"))


def speed(path: Path, repeat: int = 3) -> dict[str, float]:
    """Median decode time with and without the native audio (interleaved, same run) and the
    metric's own time on the decoded clip."""
    from generators.decode import decode_clip
    from metrics.audio_defects import AUDIO_DEFECTS
    from metrics.base import ClipContext, MetricsConfig

    with_native, without = [], []
    for _ in range(repeat):
        for keep, times in ((False, without), (True, with_native)):
            t = time.perf_counter()
            clip = decode_clip(path, native_audio=keep)
            times.append(time.perf_counter() - t)
    ctx = ClipContext(path=str(path), clip=clip, config=MetricsConfig())
    metric = []
    for _ in range(5):
        t = time.perf_counter()
        AUDIO_DEFECTS.compute(ctx)
        metric.append(time.perf_counter() - t)
    return {
        "decode_s_without_native": round(statistics.median(without), 3),
        "decode_s_with_native": round(statistics.median(with_native), 3),
        "metric_s": round(statistics.median(metric), 4),
        "clip_s": round(len(clip.frames) / clip.fps, 2),
    }


def damage_table(folder: Path) -> list[dict]:
    from defect_damage import (
        add_pink_noise,
        hard_clip,
        insert_dropouts,
        low_pass,
        native_track,
        score,
        write_sound,
    )

    from generators.base import GenerationRequest
    from generators.pony import PonyGenerator

    pony = PonyGenerator()
    sources = {
        "talking_head_1": (testdata() / "talking_head_1.mp4", 10.0),
        "talking_head_2": (testdata() / "talking_head_2.mp4", 10.0),
    }
    for name, prompt, seconds in (
        ("pony_talk", TALK, 4.0),
        ("pony_short_line", SHORT, 4.0),
        ("pony_rain", RAIN, 3.5),
    ):
        out = folder / f"{name}.mp4"
        pony.generate(
            GenerationRequest(prompt, seed=1, duration_s=seconds, resolution="480p"), str(out)
        )
        sources[name] = (out, seconds)
    damages = {
        "clean": lambda x, rate: x,
        "clipped": lambda x, rate: hard_clip(x, 20.0),
        "muffled": lambda x, rate: low_pass(x, rate, 2500.0),
        "noisy": lambda x, rate: add_pink_noise(x, 10.0),
        "very noisy": lambda x, rate: add_pink_noise(x, 8.0),
        "dropouts": lambda x, rate: insert_dropouts(x, rate, 3, 0.05)[0],
    }
    rows = []
    for source, (path, seconds) in sources.items():
        x, rate = native_track(path, seconds)
        for damage, apply in damages.items():
            result = score(write_sound(folder / f"{source}-{damage}.mp4", apply(x, rate), rate))
            rows.append({"source": source, "damage": damage, **result.values})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def pony_sweep(folder: Path, count: int) -> list[dict]:
    from defect_damage import score

    from generators.base import GenerationRequest
    from generators.pony import PonyGenerator

    prompts = [json.loads(line) for line in (REPO / "arena/data/prompts/default.jsonl").open()]
    prompts = [p for p in prompts if p["category"] == "t2v"]
    picks = [prompts[round(i * (len(prompts) - 1) / max(count - 1, 1))] for i in range(count)]
    pony, rows = PonyGenerator(), []
    for p in picks:
        out = folder / f"{p['id']}.mp4"
        request = GenerationRequest(p["text"], seed=p["seed"], duration_s=4, resolution="480p")
        pony.generate(request, str(out))
        rows.append({"id": p["id"], **score(out).values})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pony", type=int, default=20, help="pony clips for false alarms")
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    summary = {"speed": speed(testdata() / "talking_head_1.mp4")}
    if not args.speed_only:
        with tempfile.TemporaryDirectory() as tmp:
            rows = damage_table(Path(tmp))
            sweep = pony_sweep(Path(tmp), args.pony) if args.pony else []
        damaged = [r for r in rows if r["damage"] != "clean"]
        caught = [r for r in damaged if r["verdict"] == EXPECTED[r["damage"]]]
        clean = [r for r in rows if r["damage"] == "clean"] + sweep
        alarms = [r for r in clean if r["verdict"] != "clean"]
        summary.update(
            damaged=len(damaged),
            caught=len(caught),
            missed=[
                f"{r['source']}/{r['damage']}: {r['verdict']}" for r in damaged if r not in caught
            ],
            clean=len(clean),
            false_alarms=len(alarms),
            false_alarm_rate=round(len(alarms) / max(len(clean), 1), 3),
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
