"""Does pony's picture follow the prompt? Plan and picture checks over the labelled prompts.

Every prompt of tests/data/pony_prompts.json (each with its expected cast, speakers, animals
and setting) is planned and generated at 480p for 3 s; the clip is decoded and checked with
dlib: the number of faces matches the people named (none when none), two speakers are two
different faces, and the named animals are drawn (the frames differ from the same shot drawn
without them). Usage:

    .venv/bin/python benchmarks/pony_prompts_bench.py [--limit N]

The last line printed is one JSON object with the share of prompts that match, per attribute.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the shared clip checks live beside the tests

DURATION_S = 3.0


def _animals_drawn(plan, view=(854, 480)) -> bool:
    """True when a few frames of the first shot differ where the animals are drawn."""
    from generators.pony.cast_portraits import cast_portraits
    from generators.pony.shot_frames import render_stage
    from generators.pony.visemes import MouthTrack

    n = int(DURATION_S * 24)
    z = np.zeros(n, np.float32)
    mouths = [MouthTrack(z, z, z)] * max(len(plan.cast.people), 1)
    portraits = cast_portraits(plan.cast.people)
    bare = dataclasses.replace(plan, cast=dataclasses.replace(plan.cast, animals=()))
    picks = (0, n // 2, n - 1)

    def frames(p):
        return [
            f.copy()
            for i, f in enumerate(render_stage(p, portraits, mouths, view, 24, n, DURATION_S))
            if i in picks
        ]

    with_, without = frames(plan), frames(bare)
    diffs = [
        np.abs(a.astype(np.int16) - b).max(axis=2) > 40 for a, b in zip(with_, without, strict=True)
    ]
    share = [float(d.mean()) for d in diffs]
    moved = float((diffs[0] != diffs[-1]).mean())
    return min(share) > 0.002 and moved > 0.001


def check_prompt(label: dict, folder: Path) -> dict:
    from pony_checks import faces_in, plan_mismatches

    from generators.base import GenerationRequest
    from generators.decode import decode_clip
    from generators.pony.plan import explain_prompt, plan_shots
    from generators.registry import build_generator

    wrong = plan_mismatches(label, explain_prompt(label["prompt"], 1, DURATION_S))
    out = folder / f"{label['id']}.mp4"
    request = GenerationRequest(label["prompt"], seed=1, duration_s=DURATION_S, resolution="480p")
    build_generator("builtin:pony").generate(request, str(out))
    clip = decode_clip(out, max_side=854)
    found = [faces_in(f) for f in clip.frames[::6]]
    counts = [len(f) for f in found]
    expected = min(label["people"], 4)
    row = {"id": label["id"], "plan_wrong": wrong}
    row["faces"] = (max(counts) == expected) if expected else (max(counts) == 0)
    row["face_found_share"] = float(np.mean([c >= 1 for c in counts])) if expected else None
    if len(set(label["speakers"])) >= 2:
        pairs = [
            np.linalg.norm(a["descriptor"] - b["descriptor"])
            for f in found
            if len(f) >= 2
            for a, b in combinations(f, 2)
        ]
        row["speakers_distinct"] = bool(pairs) and min(pairs) > 0.6
    if label["animals"]:
        row["animals"] = _animals_drawn(plan_shots(label["prompt"], 1, DURATION_S))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N prompts")
    args = parser.parse_args()
    from rich.console import Console
    from rich.progress import Progress

    labels = json.loads((ROOT / "tests" / "data" / "pony_prompts.json").read_text())
    if args.limit:
        labels = labels[: args.limit]
    console = Console(stderr=True)
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console) as progress:
        task = progress.add_task("prompts", total=len(labels))
        for label in labels:
            progress.update(task, description=label["id"])
            rows.append(check_prompt(label, Path(tmp)))
            progress.advance(task)
    for r in rows:
        bad = [k for k in ("faces", "speakers_distinct", "animals") if r.get(k) is False]
        if r["plan_wrong"] or bad:
            console.print(f"{r['id']}: plan {r['plan_wrong']} picture {bad}")

    def share(key: str) -> float | None:
        vals = [r[key] for r in rows if r.get(key) is not None]
        return round(float(np.mean(vals)), 3) if vals else None

    attrs = ("people", "genders", "speakers", "animals", "place", "weather", "actions")
    headline: dict = {"prompts": len(rows)}
    for a in attrs:
        headline[f"plan_{a}"] = round(
            float(np.mean([not any(w.split()[0] == a for w in r["plan_wrong"]) for r in rows])), 3
        )
    headline["plan_all"] = round(float(np.mean([not r["plan_wrong"] for r in rows])), 3)
    headline["picture_faces"] = share("faces")
    headline["picture_face_found_share"] = share("face_found_share")
    headline["picture_speakers_distinct"] = share("speakers_distinct")
    headline["picture_animals"] = share("animals")
    headline["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(headline), flush=True)


if __name__ == "__main__":
    main()
