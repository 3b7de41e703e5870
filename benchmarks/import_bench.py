"""Benchmark: `paddock votes import` of a Parquet battle file beside DuckDB's raw copy of it.

Writes votes (10 million among 100 models by default, the generator of ``bench_votes.py``,
with a ``tstamp`` column) to Parquet, then times in the same run

  (a) DuckDB alone: ``CREATE TABLE t AS SELECT * FROM read_parquet(...)`` into a new database
      file, checkpointed: the floor for getting the rows into DuckDB at all;
  (b) ``import_votes`` (what ``paddock votes import FILE --add-models`` runs) into a new store:
      every row checked in SQL and inserted as a battle and its vote (the table of imported
      votes, which has no index to keep up: ``arena/store/vote_views.py``), all or nothing,
      then checkpointed; each step's time is reported.

The machine's load average (1 minute) is printed before and after: on a shared machine the
times are only as good as the quiet they were measured in.

The last line printed is one JSON object with the headline figures.

    .venv/bin/python benchmarks/import_bench.py                 # 10M votes x 100 models
    .venv/bin/python benchmarks/import_bench.py --votes 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_votes import WINNERS, console, generate_votes, model_names  # noqa: E402


def write_battles(path: Path, n_votes: int, n_models: int, seed: int) -> None:
    left, right, outcome, _ = generate_votes(n_votes, n_models, seed)
    names = pa.array(model_names(n_models))
    stamps = 1.7e9 + np.arange(n_votes, dtype=np.float64)
    table = pa.table(
        {
            "model_a": pa.DictionaryArray.from_arrays(pa.array(left.astype(np.int32)), names),
            "model_b": pa.DictionaryArray.from_arrays(pa.array(right.astype(np.int32)), names),
            "winner": pa.DictionaryArray.from_arrays(
                pa.array(outcome.astype(np.int32)), pa.array(WINNERS)
            ),
            "tstamp": stamps,
        }
    )
    pq.write_table(table, path)


def raw_copy(path: Path, target: Path) -> float:
    start = time.perf_counter()
    con = duckdb.connect(str(target))
    con.execute("CREATE TABLE t AS SELECT * FROM read_parquet(?)", [str(path)])
    con.execute("CHECKPOINT")
    con.close()
    return time.perf_counter() - start


def paddock_import(path: Path, data_dir: Path) -> tuple[float, dict]:
    from arena.io.battle_files import import_votes
    from arena.store import Store

    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    with Store.open(data_dir) as store:
        marks.append(("open", time.perf_counter()))
        with console.status("importing") as status:

            def progress(step: str) -> None:
                marks.append((step, time.perf_counter()))
                status.update(f"importing: {step}")

            n = import_votes(store, path, add_models=True, progress=progress)
        marks.append(("commit", time.perf_counter()))
        store.checkpoint()
    total = time.perf_counter() - start
    marks.append(("end", time.perf_counter()))
    steps = {
        name: round(marks[i + 1][1] - at, 2) for i, (name, at) in enumerate(marks[:-1])
    }  # each step's time runs to the next mark
    steps["votes"] = n
    return total, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--votes", type=int, default=10_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "battles.parquet"
        write_battles(path, args.votes, args.models, args.seed)
        raw = raw_copy(path, Path(tmp) / "raw.duckdb")
        console.print(f"DuckDB raw copy: {raw:.2f} s")
        total, steps = paddock_import(path, Path(tmp) / "store")
        console.print(f"paddock import: {total:.2f} s ({steps})")
    print(
        json.dumps(
            {
                "votes": args.votes,
                "import_s": round(total, 2),
                "raw_ctas_s": round(raw, 2),
                "ratio": round(total / raw, 1),
                "steps_s": steps,
                "load_average_start": load_start,
                "load_average_end": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
