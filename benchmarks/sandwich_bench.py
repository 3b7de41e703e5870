"""Benchmark: sandwich intervals against LMArena's arena-rank on the same votes, and the command.

For each size (votes x models) it writes votes with known Bradley-Terry strengths to Parquet
(the generator of ``bench_votes.py``), then

  (a) fits them with Paddock (``aggregate_votes_file`` + ``compute_leaderboard`` with
      ``intervals="sandwich"``) and times the fit and the intervals;
  (b) fits them with arena-rank (``PairDataset.from_pandas`` + ``BradleyTerry`` +
      ``compute_ratings_and_cis(ci_method="sandwich")``) in the Python given by
      ``--arena-rank-python`` (a separate environment: arena-rank pulls in jax, which Paddock
      does not use), timing its second call so that jax's compilation is left out, and reports
      the largest rating and bound differences;
  (c) times the whole command ``paddock leaderboard --votes FILE --ci sandwich`` on the
      largest file (best of ``--repeats``, start-up included), and where its time goes, each
      part timed alone in a fresh process: Python's own start, start-up (the CLI's modules),
      parsing the command line (typer), the store's import,
      read (a scan), aggregate (DuckDB's GROUP BY to numpy arrays), imports of the rating code
      (numpy, pandas, leaderboards; in the command they overlap the aggregation, which runs on
      a thread), counts, fit, intervals, the whole board and printing. The machine's load
      average is reported beside the times.

The last line printed is one JSON object with the headline figures.

    .venv/bin/python benchmarks/sandwich_bench.py --arena-rank-python /tmp/ar/bin/python
    .venv/bin/python benchmarks/sandwich_bench.py --sizes 600x8,200000x20   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_votes import console, generate_votes, model_names, write_parquet  # noqa: E402

# Run by the arena-rank interpreter: fit, time, print ratings and bounds as JSON.
ARENA_RANK = r"""
import json, sys, time
import pandas as pd
from arena_rank.models.bradley_terry import BradleyTerry
from arena_rank.utils.data_utils import PairDataset

df = pd.read_parquet(sys.argv[1]).astype(str)
start = time.perf_counter()
data = PairDataset.from_pandas(df)
prepared = time.perf_counter() - start
times = []
for _ in range(2):  # the first call compiles (jax); the second is the one to compare
    start = time.perf_counter()
    model = BradleyTerry(n_competitors=len(data.competitors))
    out = model.compute_ratings_and_cis(data, significance_level=0.05, ci_method="sandwich")
    [v.block_until_ready() for k, v in out.items() if k != "competitors"]
    times.append(time.perf_counter() - start)
print(json.dumps({
    "models": list(out["competitors"]), "rating": [float(x) for x in out["ratings"]],
    "low": [float(x) for x in out["rating_lower"]], "high": [float(x) for x in out["rating_upper"]],
    "prepare_s": prepared, "first_s": times[0], "fit_ci_s": times[1],
}))
"""

# Run in a fresh process: each part of the command timed alone, in the command's order. In the
# command the aggregation runs on a thread while the rating code is imported, so the parts add
# up to more than the whole.
BREAKDOWN = r"""
import json, sys, time
t0 = time.perf_counter()
import arena.cli
startup = time.perf_counter() - t0
t = time.perf_counter()  # the command line parsed as `paddock` does (typer builds its checks)
import typer.main
group = typer.main.get_command(arena.cli.app)
argv = ["--votes", sys.argv[1], "--ci", "sandwich", "--format", "csv"]
context = group.make_context("paddock", ["leaderboard", *argv])
group.get_command(context, "leaderboard").make_context("leaderboard", argv, parent=context)
parse = time.perf_counter() - t
t = time.perf_counter()
import duckdb
from arena.store.vote_file_counts import aggregate_votes_columns
store_import = time.perf_counter() - t
t = time.perf_counter()
duckdb.connect().execute(
    "SELECT max(model_a), max(model_b), max(winner) FROM read_parquet(?)", [sys.argv[1]]
).fetchall()
read = time.perf_counter() - t
t = time.perf_counter()
columns = aggregate_votes_columns(sys.argv[1])
aggregate = time.perf_counter() - t
assert "pandas" not in sys.modules  # the thread's part needs no pandas
t = time.perf_counter()
import pandas as pd
from leaderboards.bootstrap import fit_cells
from leaderboards.bradley_terry import PairwiseModel, fit_pairwise
from leaderboards.counts import pair_counts_from_frame
from leaderboards.leaderboard import RatingSettings, compute_leaderboard
from leaderboards.sandwich import sandwich_covariance
from leaderboards.snapshot import table_csv
imports = time.perf_counter() - t
t = time.perf_counter()
counts = pair_counts_from_frame(pd.DataFrame(columns))
to_counts = time.perf_counter() - t
from threadpoolctl import threadpool_limits  # as compute_leaderboard: one BLAS thread
limit = threadpool_limits(limits=1, user_api="blas")
t = time.perf_counter()
cells = fit_cells(counts)
model = PairwiseModel(counts.n_models, cells.first, cells.second)
params = fit_pairwise(model, cells.outcomes(cells.count)).params
fit = time.perf_counter() - t
t = time.perf_counter()
sandwich_covariance(model, cells, params)
intervals = time.perf_counter() - t
t = time.perf_counter()
board = compute_leaderboard(counts, RatingSettings(intervals="sandwich"))
leaderboard = time.perf_counter() - t
t = time.perf_counter()
table_csv(board)
printing = time.perf_counter() - t
print(json.dumps({"startup_s": startup, "parse_s": parse, "store_import_s": store_import, "read_s": read,
                  "aggregate_s": aggregate, "imports_s": imports, "counts_s": to_counts,
                  "fit_s": fit, "intervals_s": intervals, "leaderboard_s": leaderboard,
                  "print_s": printing}))
"""


def paddock_fit(path: Path) -> tuple[dict, float]:
    from arena.store import aggregate_votes_file
    from leaderboards.counts import pair_counts_from_frame
    from leaderboards.leaderboard import RatingSettings, compute_leaderboard

    counts = pair_counts_from_frame(aggregate_votes_file(path))
    start = time.perf_counter()
    board = compute_leaderboard(counts, RatingSettings(intervals="sandwich"))
    seconds = time.perf_counter() - start
    return board.table.set_index("model")[["rating", "ci_low", "ci_high"]].to_dict(), seconds


def compare(path: Path, arena_python: str | None) -> dict:
    ours, fit_s = paddock_fit(path)
    row: dict = {"paddock_fit_ci_s": round(fit_s, 4)}
    if not arena_python:
        return row
    done = subprocess.run(
        [arena_python, "-c", ARENA_RANK, str(path)], capture_output=True, text=True, check=True
    )
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    names = theirs["models"]
    diff = {
        key: max(abs(ours[col][m] - theirs[key][i]) for i, m in enumerate(names))
        for key, col in (("rating", "rating"), ("low", "ci_low"), ("high", "ci_high"))
    }
    row.update(
        arena_rank_fit_ci_s=round(theirs["fit_ci_s"], 4),
        arena_rank_first_call_s=round(theirs["first_s"], 3),
        arena_rank_prepare_s=round(theirs["prepare_s"], 3),
        max_rating_diff_elo=round(diff["rating"], 4),
        max_bound_diff_elo=round(max(diff["low"], diff["high"]), 4),
    )
    return row


def python_start(repeats: int) -> float:
    """The bare interpreter's start and exit (best of ``repeats``)."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        best = min(best, time.perf_counter() - start)
    return best


def command_time(path: Path, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from arena.cli import main; main()", "leaderboard",
             "--votes", str(path), "--ci", "sandwich", "--format", "csv"],
            cwd=REPO, capture_output=True, check=True,
        )  # fmt: skip
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="600x8,200000x20,10000000x100")
    parser.add_argument("--arena-rank-python", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n_votes, n_models in sizes:
            path = Path(tmp) / f"votes-{n_votes}x{n_models}.parquet"
            left, right, outcome, _ = generate_votes(n_votes, n_models, args.seed)
            write_parquet(path, left, right, outcome, model_names(n_models))
            with console.status(f"fitting {n_votes} votes x {n_models} models"):
                row = compare(path, args.arena_rank_python)
            results[f"{n_votes}x{n_models}"] = row
            console.print(f"{n_votes} x {n_models}: {row}")
        largest = Path(tmp) / f"votes-{sizes[-1][0]}x{sizes[-1][1]}.parquet"
        with console.status("timing the whole command"):
            command = command_time(largest, args.repeats)
            parts = [
                json.loads(
                    subprocess.run(
                        [sys.executable, "-c", BREAKDOWN, str(largest)],
                        cwd=REPO,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )  # fmt: skip
                for _ in range(args.repeats)
            ]
    breakdown = {"python_s": round(python_start(args.repeats), 3)}
    breakdown.update({key: round(min(p[key] for p in parts), 3) for key in parts[0]})
    load = [round(x, 2) for x in os.getloadavg()]
    console.print(f"command best of {args.repeats}: {command:.2f} s; parts (best): {breakdown}")
    print(
        json.dumps(
            {
                "command_sandwich_s": round(command, 3),
                "command_votes": sizes[-1][0],
                "command_models": sizes[-1][1],
                "breakdown_s": breakdown,
                "load_average": load,
                "vs_arena_rank": results,
            }
        )
    )


if __name__ == "__main__":
    main()
