"""The votes-file aggregate runs without pandas, so the leaderboard command can overlap them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from arena.store import aggregate_votes_file

CHILD = r"""
import json, sys
from arena.store.vote_file_counts import aggregate_votes_columns
columns = aggregate_votes_columns(sys.argv[1])
print(json.dumps({"pandas": "pandas" in sys.modules,
                  "columns": {k: v.tolist() for k, v in columns.items()}}))
"""


def test_the_store_and_the_file_aggregate_import_no_pandas(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    rows = [("a", "b", "model_a")] * 3 + [("b", "a", "tie")] * 2 + [("a", "c", "model_b")]
    pd.DataFrame(rows, columns=["model_a", "model_b", "winner"]).to_csv(path, index=False)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # `paddock leaderboard --votes` aggregates on a thread while the main one imports pandas:
    # a store module importing pandas at the top would make the thread wait for it.
    assert out["pandas"] is False
    expected = aggregate_votes_file(path)
    assert out["columns"] == {c: expected[c].tolist() for c in expected.columns}
    assert out["columns"]["count"] == [3, 1, 2]
