"""Benchmark: Paddock's leaderboard fit vs a reference of Chatbot Arena's bootstrap, same votes.

Generates votes with known Bradley-Terry strengths (10 million among 100 models by default),
writes them to a DuckDB store (``Store.import_battles``) and to a Parquet file, then times in
the same run:

  (a) Paddock, reading from the store: ``Store.vote_counts`` (one GROUP BY) + fit + bootstrap
      replicates, in a fresh process (its peak RSS is measured);
  (b) a reference implementation of Chatbot Arena's current method (FastChat ``elo_analysis``:
      deduplicated outcome counts with ``np.unique``, multinomial resampling of those counts,
      one L-BFGS fit per replicate on a process pool); with ``--ref-replicates`` below
      ``--replicates`` its bootstrap time is extrapolated linearly;
  (c) ``paddock leaderboard --votes FILE.parquet --bootstrap N`` as a whole command
      (start-up included), against the reference on the same file (Parquet read included).

The last line printed is one JSON object with the headline figures.

    .venv/bin/python benchmarks/rating_bench.py                      # the full 10M x 100 run
    .venv/bin/python benchmarks/rating_bench.py --votes 200000 --models 20 --ref-replicates 50
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from arena_reference import reference_method  # noqa: E402
from bench_votes import (  # noqa: E402
    battles_frame,
    build_store,
    console,
    generate_votes,
    model_names,
    write_parquet,
)

# ---------------------------------------------------------------- Paddock, in a fresh process


def paddock_from_store(data_dir: str, replicates: int, seed: int) -> None:
    """Child mode: time Store.vote_counts + fit + bootstrap; print one JSON line."""
    t0 = time.perf_counter()
    from arena.store import Store
    from leaderboards import RatingSettings, compute_leaderboard

    t1 = time.perf_counter()
    cpu1 = time.process_time()
    with Store.open(data_dir, read_only=True) as store:
        frame = store.vote_counts()
    t2 = time.perf_counter()
    board = compute_leaderboard(frame, RatingSettings(n_bootstrap=replicates, seed=seed))
    t3 = time.perf_counter()
    cpu3 = time.process_time()
    table = board.table
    print(
        json.dumps(
            {
                "import_s": t1 - t0,
                "aggregate_s": t2 - t1,
                "fit_s": t3 - t2,
                "total_s": t3 - t1,
                "total_cpu_s": cpu3 - cpu1,
                "n_votes": board.n_votes,
                "models": table["model"].tolist(),
                "rating": table["rating"].tolist(),
                "ci_low": table["ci_low"].tolist(),
                "ci_high": table["ci_high"].tolist(),
            }
        )
    )


# A small launcher process, so the measured command's peak RSS is its own: a child forked
# straight from this (large) process would report this process's high-water mark.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as f:
    json.dump({"wall": wall, "rss_kb": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
               "rc": os.waitstatus_to_exitcode(status)}, f)
"""


def run_measured(args: list[str]) -> tuple[float, float, float, str]:
    """Run a command; return (wall seconds, its peak RSS in MB, its CPU seconds, stdout)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage.json"
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        usage = json.loads(report.read_text())
        if usage["rc"] != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
        return usage["wall"], usage["rss_kb"] / 1024.0, usage["cpu"], proc.stdout


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=10_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument(
        "--ref-replicates",
        type=int,
        default=100,
        help="reference replicates actually timed (extrapolated to --replicates)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of (a) and (c)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="kept when given")
    parser.add_argument("--skip-store", action="store_true", help="skip (a) and the store")
    parser.add_argument(
        "--reuse-store",
        action="store_true",
        help="keep a store already in --workdir from a run with the same sizes",
    )
    parser.add_argument("--_child-store", dest="child_store", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_store:
        paddock_from_store(args.child_store, args.replicates, args.seed)
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="paddock-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    paddock = str(Path(python).with_name("paddock"))
    names = model_names(args.models)
    console.log(
        f"{args.votes:,} votes among {args.models} models, {args.replicates} replicates, "
        f"{os.cpu_count()} CPUs; work dir {workdir}"
    )
    left, right, outcome, theta = generate_votes(args.votes, args.models, args.seed)
    parquet = workdir / "votes.parquet"
    start = time.perf_counter()
    write_parquet(parquet, left, right, outcome, names)
    console.log(
        f"wrote {parquet} ({parquet.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    frame = battles_frame(left, right, outcome, names)
    del left, right, outcome

    result: dict = {
        "n_votes": args.votes,
        "n_models": args.models,
        "replicates": args.replicates,
        "cpus": os.cpu_count(),
        "load_avg_start": round(os.getloadavg()[0], 2),
    }
    store_runs: list[dict] = []
    if not args.skip_store:
        data_dir = workdir / "data"
        stamp = workdir / "store.json"
        sizes = {"n_votes": args.votes, "n_models": args.models, "seed": args.seed}
        reuse = args.reuse_store and stamp.is_file()
        if reuse and json.loads(stamp.read_text())["sizes"] == sizes:
            result["store_import_s"] = json.loads(stamp.read_text())["store_import_s"]
            console.log(
                f"reusing the store in {data_dir} (import took "
                f"{result['store_import_s']} s when built)"
            )
        else:
            if data_dir.exists():
                shutil.rmtree(data_dir)
            with console.status("importing votes into the DuckDB store (Store.import_battles)"):
                result["store_import_s"] = round(build_store(data_dir, frame, names), 2)
            stamp.write_text(
                json.dumps({"sizes": sizes, "store_import_s": result["store_import_s"]})
            )
            console.log(f"store import: {result['store_import_s']} s")
        peaks = []
        for run in range(args.repeats):
            wall, peak, _, out = run_measured(
                [
                    python,
                    __file__,
                    "--_child-store",
                    str(data_dir),
                    "--replicates",
                    str(args.replicates),
                    "--seed",
                    str(args.seed),
                ]
            )
            store_runs.append(json.loads(out.strip().splitlines()[-1]))
            peaks.append(peak)
            console.log(
                f"(a) run {run + 1}: aggregate {store_runs[-1]['aggregate_s']:.2f} s + "
                f"fit/bootstrap {store_runs[-1]['fit_s']:.2f} s = "
                f"{store_runs[-1]['total_s']:.2f} s ({store_runs[-1]['total_cpu_s']:.2f} CPU s); "
                f"process wall {wall:.2f} s, "
                f"peak {peak:.0f} MB"
            )
        totals = [r["total_s"] for r in store_runs]
        result["fit_bootstrap_s"] = round(statistics.median(totals), 3)
        result["fit_bootstrap_s_runs"] = [round(t, 3) for t in totals]
        result["fit_bootstrap_cpu_s"] = round(
            statistics.median(r["total_cpu_s"] for r in store_runs), 3
        )
        result["aggregate_s"] = round(statistics.median(r["aggregate_s"] for r in store_runs), 3)
        result["peak_mb"] = round(max(peaks), 1)

    with console.status(f"reference: Chatbot Arena method, {args.ref_replicates} L-BFGS fits"):
        start = time.perf_counter()
        file_frame = pd.read_parquet(parquet)
        read_s = time.perf_counter() - start
        reference = reference_method(file_frame, args.replicates, args.ref_replicates)
    del file_frame
    console.log(
        f"(b) reference: read {read_s:.2f} s, dedupe {reference['preprocess_s']:.2f} s, "
        f"fit {reference['fit_s']:.2f} s, {args.ref_replicates} replicates "
        f"{reference['bootstrap_timed_s']:.2f} s -> {args.replicates} replicates "
        f"{reference['bootstrap_s']:.1f} s"
    )
    result["reference_s"] = round(reference["total_s"], 2)
    result["reference_file_s"] = round(reference["total_s"] + read_s, 2)
    result["reference_timed_replicates"] = args.ref_replicates
    # CPU seconds of what was timed (dedupe, fit, and the timed replicates, pool workers included).
    result["reference_timed_cpu_s"] = round(reference["cpu_timed_s"], 2)
    result["reference_cpu_s"] = round(reference["cpu_s"], 2)
    if store_runs:
        result["speedup_vs_reference"] = round(result["reference_s"] / result["fit_bootstrap_s"], 1)
        # The same comparison in CPU-seconds, which other jobs on the machine disturb far less.
        result["cpu_speedup_vs_reference"] = round(
            result["reference_cpu_s"] / result["fit_bootstrap_cpu_s"], 1
        )
        ours = pd.Series(store_runs[0]["rating"], index=store_runs[0]["models"])
        theirs = pd.Series(reference["ratings"], index=reference["models"])
        theirs = theirs - theirs.mean() + 1000.0
        result["max_abs_diff_vs_reference_elo"] = round(
            float((ours - theirs.reindex(ours.index)).abs().max()), 3
        )
        truth = pd.Series(1000 + 400 / math.log(10) * (theta - theta.mean()), index=names)
        low = pd.Series(store_runs[0]["ci_low"], index=ours.index)
        high = pd.Series(store_runs[0]["ci_high"], index=ours.index)
        t = truth.reindex(ours.index)
        result["true_rating_covered"] = f"{int(((low <= t) & (t <= high)).sum())}/{len(t)}"

    cli_walls, cli_peaks, cli_cpus = [], [], []
    for run in range(args.repeats):
        wall, peak, cpu, out = run_measured(
            [
                paddock,
                "leaderboard",
                "--votes",
                str(parquet),
                "--bootstrap",
                str(args.replicates),
                "--seed",
                str(args.seed),
                "--format",
                "json",
            ]
        )
        rows = json.loads(out)
        assert len(rows) == args.models, "the command did not rate every model"
        cli_walls.append(wall)
        cli_peaks.append(peak)
        cli_cpus.append(cpu)
        console.log(
            f"(c) paddock leaderboard --votes run {run + 1}: {wall:.2f} s ({cpu:.2f} CPU s), "
            f"peak {peak:.0f} MB"
        )
    result["cli_s"] = round(statistics.median(cli_walls), 3)
    result["cli_s_runs"] = [round(w, 3) for w in cli_walls]
    result["cli_cpu_s"] = round(statistics.median(cli_cpus), 3)
    result["cli_peak_mb"] = round(max(cli_peaks), 1)
    result["cli_speedup"] = round(result["reference_file_s"] / result["cli_s"], 1)
    # Whole command's CPU against the reference's CPU without its file read (conservative).
    result["cli_cpu_speedup"] = round(result["reference_cpu_s"] / result["cli_cpu_s"], 1)
    # Other processes on the machine slow every timing above; the load average says how busy it was.
    result["load_avg_end"] = round(os.getloadavg()[0], 2)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
