"""Build the demo's first set of clips without serving: every active model on the demo's quick
prompts, short and small (no metrics, no votes). For the content audit's figure on demo data.

    python benchmarks/demo_first_set.py DIR [--duration 1.0] [--resolution 480p] [--fps 12]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from arena.domain.registration import ensure_builtin_models
from arena.io.prompt_files import ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.store import Store
from arena.web.demo import _quick_prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--resolution", default="480p")
    parser.add_argument("--fps", type=int, default=12)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settings = GenerationSettings(args.duration, args.resolution, "16:9", args.fps)
    started = time.perf_counter()
    with Store.open(args.data) as store:
        models = ensure_builtin_models(store)
        prompts = _quick_prompts(ensure_suite(store))
        report = generate_missing(
            store,
            models,
            prompts,
            settings,
            workers=args.workers,
            on_progress=lambda done, total, _: print(f"{done}/{total}", file=sys.stderr),
        )
        clips = len(store.clips())
    figures = {
        "models": len(models),
        "prompts": len(prompts),
        "clips": clips,
        "failed": len(report.failed),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
