"""Accuracy and false alarms of the speech and speech_quality metrics on pony clips of the suite.

Usage: .venv/bin/python benchmarks/speech_check.py [--count 20] [--seconds 4] [--out DIR]
Makes pony clips (480p) of the default suite's text-to-video prompts, half dialogue and half
ambient or silent (all with sound), and checks: the clean clip's `speech` verdict is never a
false alarm; its sound replaced by room tone under its dialogue prompt is `speech missing`; a
real talking head's speech mixed into a nobody-speaks scene at the scene's mean level is `unexpected speech`; pink noise
10 dB under the clean mean level lowers DNSMOS `bak` by >= 0.5 and `ovrl` by >= 0.2.
The last line is one JSON object with the rates.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def suite_prompts(count: int) -> list[dict]:
    rows = [json.loads(line) for line in (REPO / "arena/data/prompts/default.jsonl").open()]
    rows = [r for r in rows if r["category"] == "t2v"]
    talk = [r for r in rows if "dialogue" in r["tags"]]
    quiet = [r for r in rows if "dialogue" not in r["tags"]]
    half = count // 2
    return (
        talk[:: max(1, len(talk) // half)][:half]
        + quiet[:: max(1, len(quiet) // half)][: count - half]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    from audio_damage import (
        add_pink_noise,
        clip_audio,
        mean_level_db,
        pony_clip,
        replace_with_room_tone,
        sound_context,
    )

    from metrics.speech import SPEECH
    from metrics.speech_quality import SPEECH_QUALITY

    folder = Path(args.out or tempfile.mkdtemp(prefix="speech-check-"))
    testdata = Path(os.environ.get("PADDOCK_TESTDATA", REPO.parent / "shared" / "testdata"))
    voice = clip_audio(testdata / "talking_head_1.mp4")
    rows, timings = [], []
    for k, prompt in enumerate(suite_prompts(args.count)):
        path = pony_clip(prompt["text"], prompt["seed"], args.seconds, folder=folder)
        audio = clip_audio(path)
        text = prompt["text"]
        t0 = time.perf_counter()
        clean = SPEECH.compute(sound_context(audio, text)).values
        timings.append(time.perf_counter() - t0)
        row = {"id": prompt["id"], "expected": clean["expected"], "clean": clean["verdict"],
               "speech_s": clean["speech_s"]}  # fmt: skip
        if clean["expected"] == "dialogue":
            row["damaged"] = SPEECH.compute(
                sound_context(replace_with_room_tone(audio), text)
            ).values["verdict"]
            q0 = SPEECH_QUALITY.compute(sound_context(audio, text))
            q1 = SPEECH_QUALITY.compute(sound_context(add_pink_noise(audio, seed=k), text))
            if q0.status == "ok" and q1.status == "ok":
                row["bak_drop"] = round(q0.values["bak"] - q1.values["bak"], 3)
                row["ovrl_drop"] = round(q0.values["ovrl"] - q1.values["ovrl"], 3)
            else:
                row["quality"] = f"{q0.reason} / {q1.reason}"
        elif clean["expected"] == "none":
            # a voice at the scene's own mean level (0 dB against the ambience)
            part = voice[: len(audio)]
            talk = audio + part * 10 ** ((mean_level_db(audio) - mean_level_db(part)) / 20)
            row["damaged"] = SPEECH.compute(sound_context(talk.clip(-1, 1), text)).values["verdict"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    fine = {"as prompted", "unknown"}
    false_alarms = sum(r["clean"] not in fine for r in rows)
    damaged = [r for r in rows if "damaged" in r]
    caught = sum(
        r["damaged"] == ("speech missing" if r["expected"] == "dialogue" else "unexpected speech")
        for r in damaged
    )
    noisy = [r for r in rows if "bak_drop" in r]
    summary = {
        "clips": len(rows),
        "false_alarm_rate": round(false_alarms / max(1, len(rows)), 3),
        "damage_caught": f"{caught}/{len(damaged)}",
        "noise_caught": f"{sum(r['bak_drop'] >= 0.5 and r['ovrl_drop'] >= 0.2 for r in noisy)}"
        f"/{len(noisy)}",
        "quality_unavailable": sum("quality" in r for r in rows),
        "speech_seconds_per_clip": round(sum(timings) / max(1, len(timings)), 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
