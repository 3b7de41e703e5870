"""Fragility of an order: the influence search agrees with brute force on small vote sets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from leaderboards import PairCounts
from leaderboards.bootstrap import FitCells, fit_cells
from leaderboards.bradley_terry import PairwiseModel, fit_pairwise
from leaderboards.robustness import fragility


def small_counts(seed: int) -> PairCounts:
    rng = np.random.default_rng(seed)
    left = np.array([0, 0, 1])
    right = np.array([1, 2, 2])
    counts = np.zeros((3, 4), dtype=np.int64)
    counts[:, 0] = rng.integers(1, 4, 3)  # left wins
    counts[:, 1] = rng.integers(0, 3, 3)  # right wins
    counts[:, 2] = rng.integers(0, 2, 3)  # ties
    return PairCounts(("a", "b", "c"), left, right, counts, counts.astype(float))


def brute_force(counts: PairCounts, leader: str, follower: str, flip: bool) -> int:
    cells = fit_cells(counts)
    model = PairwiseModel(counts.n_models, cells.first, cells.second, ridge=0.01)
    i, j = counts.models.index(leader), counts.models.index(follower)
    decisive = cells.outcome < 2
    best = None
    limits = [
        range(c + 1) if (not flip or d) else range(1)
        for c, d in zip(cells.count, decisive, strict=True)
    ]
    for taken in itertools.product(*limits):
        k = sum(taken)
        if best is not None and k >= best:
            continue
        taken = np.array(taken)
        if flip:
            count = np.concatenate([cells.count - taken, taken[decisive]])
            outcome = np.concatenate([cells.outcome, 1 - cells.outcome[decisive]])
            pair = np.concatenate([cells.pair, cells.pair[decisive]])
        else:
            count, outcome, pair = cells.count - taken, cells.outcome, cells.pair
        table = FitCells(cells.first, cells.second, pair, outcome, count, np.ones(len(count)))
        params = fit_pairwise(model, table.outcomes(count)).params
        if params[i] - params[j] < 0:
            best = k
    return best


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force(seed: int) -> None:
    counts = small_counts(seed)
    cells = fit_cells(counts)
    model = PairwiseModel(3, cells.first, cells.second, ridge=0.01)
    theta = fit_pairwise(model, cells.outcomes(cells.count)).params
    order = [counts.models[k] for k in np.argsort(-theta)]
    for leader, follower in zip(order, order[1:], strict=False):
        found = fragility(counts, leader, follower)
        assert found.removed_exact and found.flipped_exact
        assert found.removed == brute_force(counts, leader, follower, flip=False), (seed, leader)
        assert found.flipped == brute_force(counts, leader, follower, flip=True), (seed, leader)
        assert found.flipped <= found.removed


def test_search_stops_with_a_bound_and_says_so() -> None:
    counts = PairCounts(("a", "b"), np.array([0]), np.array([1]), np.array([[900, 100, 0, 0]]),
                        np.array([[900.0, 100.0, 0.0, 0.0]]))  # fmt: skip
    found = fragility(counts, "a", "b")
    assert found.removed_exact and found.flipped_exact
    assert found.removed == 801 and found.flipped == 401
    assert found.sentence() == "a leads b unless 801 of 1,000 votes are removed"


def test_cli_column_and_sentence(tmp_path) -> None:
    import pandas as pd
    from typer.testing import CliRunner

    from arena.cli import app

    rows = [("a", "b", "model_a")] * 30 + [("a", "b", "model_b")] * 20
    rows += [("b", "c", "model_a")] * 25 + [("b", "c", "model_b")] * 25 + [("a", "c", "tie")] * 4
    path = tmp_path / "v.csv"
    pd.DataFrame(rows, columns=["model_a", "model_b", "winner"]).to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["leaderboard", "--votes", str(path), "--bootstrap", "0", "--robustness",
              "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows_out = result.stdout[result.stdout.index("[") :]
    import json

    table = json.loads(rows_out)
    assert table[0]["model"] == "a" and "removed /" in table[0]["holds_unless"]
    assert table[-1]["holds_unless"] == ""
    assert f"a leads {table[1]['model']} unless" in result.output


def test_cli_table_with_robustness_reads_at_80_columns(tmp_path) -> None:
    import os
    import re
    import subprocess
    import sys

    import pandas as pd

    rows = [("pony", "pony-lag", "model_a")] * 30 + [("pony", "pony-lag", "model_b")] * 20
    rows += [("pony-lag", "pony-drift", "model_a")] * 25 + [
        ("pony-lag", "pony-drift", "model_b")
    ] * 25
    rows += [("pony", "pony-drift", "tie")] * 4
    path = tmp_path / "v.csv"
    pd.DataFrame(rows, columns=["model_a", "model_b", "winner"]).to_csv(path, index=False)
    proc = subprocess.run(
        [sys.executable, "-c", "from arena.cli import main; main()", "leaderboard", "--votes",
         str(path), "--bootstrap", "50", "--robustness"],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    # Each model's row on one line (no cell wrapped onto a second one) ...
    assert sum(line.startswith("│") for line in lines) == 3
    # ... and each order's robustness whole, under the table where the column does not fit.
    found = re.findall(r"^(\S+) is ahead of (\S+) unless (≥ )?\d+ removed / (≥ )?\d+ flipped$",
                       proc.stdout, re.MULTILINE)  # fmt: skip
    assert len(found) == 2 and found[0][0] == "pony" and found[0][1] == found[1][0]
