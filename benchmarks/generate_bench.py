"""Speed and memory of the built-in model: real-time factor and peak RSS per resolution preset.

Each preset runs in its own subprocess, so peak memory (ru_maxrss) is that clip's alone and
start-up (imports) is counted separately from generation. Usage:

    .venv/bin/python benchmarks/generate_bench.py [--model builtin:pony] [--quick]

The last line printed is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = ('A woman walks down a rainy street at night and says "I think we are being followed. '
          'We should hurry home before the storm gets worse." Cut to a close-up as she says '
          '"Do not look back."')
PRESETS = [("480p", 5.0), ("720p", 5.0), ("1080p", 5.0), ("1080p", 15.0)]

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from generators.base import GenerationRequest
from generators.registry import build_generator
t1 = time.perf_counter()
spec, prompt, resolution, duration, out = sys.argv[1:6]
request = GenerationRequest(prompt, seed=1, duration_s=float(duration), resolution=resolution)
result = build_generator(spec).generate(request, out)
usage = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime
print(json.dumps({"import_s": t1 - t0, "generate_s": result.seconds, "cpu_s": cpu,
                  "process_s": time.perf_counter() - t0, "frames": result.frames,
                  "width": result.width, "height": result.height,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_preset(spec: str, resolution: str, duration: float, folder: Path) -> dict:
    out = folder / f"{resolution}_{duration:g}s.mp4"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, spec, PROMPT, resolution,
                           str(duration), str(out)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{resolution} {duration}s failed:\n{proc.stderr}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row.update(resolution=resolution, duration_s=duration, wall_s=wall,
               rtf=duration / row["generate_s"], rtf_with_startup=duration / wall,
               size_mb=out.stat().st_size / 1e6)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:pony")
    parser.add_argument("--quick", action="store_true", help="only the 720p 5 s preset")
    args = parser.parse_args()
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    console = Console(stderr=True)
    presets = [("720p", 5.0)] if args.quick else PRESETS
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console) as progress:
        task = progress.add_task("generating", total=len(presets))
        for resolution, duration in presets:
            progress.update(task, description=f"{resolution} {duration:g} s")
            rows.append(run_preset(args.model, resolution, duration, Path(tmp)))
            progress.advance(task)
    table = Table(title=f"{args.model} on {os.cpu_count()} CPU(s)")  # stdout, before the JSON
    for col in ("preset", "generate s", "with start-up s", "RTF", "CPU s", "peak MB",
                "MB on disk"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(f"{r['resolution']} {r['duration_s']:g} s", f"{r['generate_s']:.2f}",
                      f"{r['wall_s']:.2f}", f"{r['rtf']:.2f}", f"{r['cpu_s']:.2f}",
                      f"{r['peak_mb']:.0f}",
                      f"{r['size_mb']:.1f}")
    Console().print(table)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    headline: dict[str, float | str | int] = {"model": args.model, "cpus": os.cpu_count() or 0}
    for r in rows:
        key = f"{r['resolution']}_{r['duration_s']:g}s"
        headline[f"rtf_{key}"] = round(r["rtf"], 3)
        headline[f"seconds_{key}"] = round(r["generate_s"], 3)
        headline[f"seconds_with_startup_{key}"] = round(r["wall_s"], 3)
        headline[f"cpu_seconds_{key}"] = round(r["cpu_s"], 3)
        headline[f"peak_mb_{key}"] = round(r["peak_mb"], 1)
    headline["peak_mb"] = round(children_peak, 1)
    headline["load_average_1min"] = round(os.getloadavg()[0], 2)  # other work skews wall time
    print(json.dumps(headline), flush=True)


if __name__ == "__main__":
    main()
