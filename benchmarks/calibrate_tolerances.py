"""Seed-to-seed noise of every regression value for `pony`, the tolerances it supports, and the
false-alarm rate of the check when `pony` is compared with itself at other seeds.

Usage: .venv/bin/python benchmarks/calibrate_tolerances.py [--prompts 10] [--seeds 6]
           [--duration 3] [--resolution 480p] [--aspect 16:9] [--workdir DIR] [--metrics A,B]
           [--prompt-file FILE.jsonl]

Renders the first --prompts prompts of the default suite (as `paddock regress --prompts` picks
them) at --seeds seeds each (the prompt's seed + 0..seeds-1), scores them with the default metrics
and, per headline value, measures the spread of paired differences between two seeds of the same
prompt: spread = sqrt(2) x the pooled within-prompt standard deviation over seeds (the standard
deviation of one pair's difference). The tolerance it supports is that spread: at the fewest
prompts the default metric set accepts (9), three standard errors of the mean paired difference.
Every pair of seed sets is then run through the real regression statistics (compare_tables with
the current default tolerances) and the runs with any "regressed" value are counted.
The last line is one JSON object: per value spread, tolerance_suggested, tolerance_default, and
false_alarms / runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.progress import Progress


def build_clips(workdir: Path, args) -> tuple:
    """Generate and score every (prompt, seed) clip of pony; returns (table, prompts, metrics)."""
    from arena.domain.registration import ensure_builtin_models
    from arena.io.prompt_files import ensure_suite
    from arena.jobs.generation import GenerationSettings, generate_missing
    from arena.jobs.regress import choose_prompts, score_clips
    from arena.store import Store

    settings = GenerationSettings(
        duration_s=args.duration, resolution=args.resolution, aspect=args.aspect
    )
    with Store.open(workdir) as store:
        ensure_builtin_models(store)
        suite = ensure_suite(store)
        if args.prompt_file:  # e.g. scenes with seen sound events, for av_sync
            from arena.io.prompt_files import load_prompts_file

            store.upsert_prompts(load_prompts_file(args.prompt_file))
            suite = store.prompts(suite=args.prompt_file.stem)
        prompts = choose_prompts(suite, args.prompts)
        pony = store.model_by_name("pony")
        every = [replace(p, seed=p.seed + k) for k in range(args.seeds) for p in prompts]
        with Progress() as progress:
            task = progress.add_task("generating", total=len(every))

            def tick(done: int, total: int, label: str) -> None:
                progress.update(task, completed=done, description=f"generating {label}")

            report = generate_missing(store, [pony], every, settings, workers=args.workers,
                                      on_progress=tick)  # fmt: skip
            progress.update(task, description="scoring (a few s per clip)")
            wanted = {(p.id, p.seed) for p in every}
            clips = [c for c in store.clips("pony") if (c.prompt_id, c.seed) in wanted]
            failed = score_clips(store, [c.id for c in clips], args.metrics, workers=args.workers)
        table = store.metric_table()
    for line in (report.failed or []) + failed:
        print(f"failed: {line}")
    ids = {c.id for c in clips}
    table = table[table.clip_id.isin(ids) & table.metric.isin(args.metrics)].copy()
    base_seed = {p.id: p.seed for p in prompts}
    table["seed_index"] = table.seed - table.prompt_id.map(base_seed)
    return table, prompts


def spreads(table, directions: dict[str, dict[str, bool]]) -> dict[str, dict]:
    """Per headline value: the standard deviation of a paired (same prompt) seed difference."""
    out = {}
    for metric, keys in directions.items():
        for key in keys:
            rows = table[(table.metric == metric) & (table.key == key)]
            if rows.empty:
                continue
            groups = rows.groupby("prompt_id").value
            var = groups.var(ddof=1).dropna()
            within = math.sqrt(float(var.mean())) if len(var) else float("nan")
            out[f"{metric}.{key}"] = {
                "spread": math.sqrt(2.0) * within,
                "mean": float(rows.value.mean()),
                "clips": int(len(rows)),
            }
    return out


def false_alarms(table, directions, seeds: int) -> tuple[int, int, dict[str, int]]:
    """Every pair of seed sets through compare_tables: runs with any regression. Values too few
    clips carry are left out, as `paddock regress` does with its default metrics."""
    from generators.errors import InputError
    from metrics.regression import compare_tables, too_few_pairs

    alarms, runs, named = 0, 0, {}
    for i, j in itertools.combinations(range(seeds), 2):
        base = table[table.seed_index == i].assign(seed=0)
        cand = table[table.seed_index == j].assign(seed=0)
        short = too_few_pairs(base, cand, directions)
        kept = {m: {k: up for k, up in keys.items() if f"{m}.{k}" not in short}
                for m, keys in directions.items()}  # fmt: skip
        try:
            result = compare_tables(base, cand, {m: keys for m, keys in kept.items() if keys})
        except InputError:  # too few prompts for any value: spreads only
            continue
        runs += 1
        bad = [c.name for c in result if c.verdict == "regressed"]
        alarms += bool(bad)
        for name in bad:
            named[name] = named.get(name, 0) + 1
    return alarms, runs, named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--resolution", default="480p")
    parser.add_argument("--aspect", default="16:9")
    parser.add_argument("--metrics", default="", help="default: paddock regress's defaults")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="reuse clips across runs")
    parser.add_argument("--prompt-file", type=Path, default=None, help="prompts instead of the suite")
    args = parser.parse_args()
    from metrics.registry import get_metric
    from metrics.regression import DEFAULT_TOLERANCES, default_metrics, pairs_needed

    args.metrics = [m for m in args.metrics.split(",") if m] or list(default_metrics())

    start = time.perf_counter()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="paddock-calibrate-"))
    table, prompts = build_clips(workdir, args)
    directions = {m: get_metric(m).higher_is_better for m in args.metrics}
    n_values = sum(len(k) for k in directions.values())
    n_min = pairs_needed(n_values)
    values = spreads(table, directions)
    alarms, runs, named = false_alarms(table, directions, args.seeds)
    print(f"{len(prompts)} prompts x {args.seeds} seeds, {args.duration:g} s {args.resolution} "
          f"{args.aspect}; fewest prompts for {n_values} values: {n_min}")  # fmt: skip
    print(f"{'value':36s} {'mean':>10s} {'spread':>10s} {'suggested':>10s} {'default':>10s}")
    for name, v in values.items():
        # One pair's spread = 3 standard errors of the mean difference over n_min = 9 prompts.
        v["tolerance_suggested"] = float(f"{3.0 * v['spread'] / math.sqrt(n_min):.2g}")
        v["tolerance_default"] = DEFAULT_TOLERANCES.get(name)
        print(f"{name:36s} {v['mean']:10.4g} {v['spread']:10.4g} "
              f"{v['tolerance_suggested']:10.4g} {str(v['tolerance_default']):>10s}")  # fmt: skip
    print(f"false alarms with the default tolerances: {alarms} of {runs} runs {named}")
    summary = {
        "prompts": len(prompts),
        "seeds": args.seeds,
        "duration_s": args.duration,
        "resolution": args.resolution,
        "aspect": args.aspect,
        "n_min": n_min,
        "values": values,
        "false_alarms": alarms,
        "runs": runs,
        "false_alarm_rate": alarms / runs if runs else None,
        "alarms_by_value": named,
        "seconds": round(time.perf_counter() - start, 1),
        "load_avg_1m": float(np.round(__import__("os").getloadavg()[0], 2)),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
