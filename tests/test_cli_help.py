"""`paddock ... --help` reads at 80 columns, and usage lines name their arguments."""

from __future__ import annotations

import os
import subprocess
import sys

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]


def _help(*args: str) -> str:
    env = dict(os.environ, COLUMNS="80")
    out = subprocess.run(
        [*PADDOCK, *args, "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_leaderboard_help_fits_80_columns_without_a_squeezed_column():
    text = _help("leaderboard")
    assert max(len(line) for line in text.splitlines()) <= 80
    # descriptions keep whole phrases on a line, and nothing is cut off with an ellipsis
    assert "(.parquet/.csv/.json/.jsonl)" in text and "…" not in text
    assert "Votes cast at or after this time." in text
    assert "Only votes among these models" in text


def test_usage_lines_name_their_arguments():
    usage = _help("votes", "import").splitlines()[0]
    assert usage.endswith("votes import [OPTIONS] FILE"), usage
    assert _help("models", "sync").splitlines()[0].endswith("[CONFIG]")
