"""`paddock export dataset`: Parquet tables with a data card, refusals, and a running server."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from arena_helpers import seeded_store

from arena.errors import StoreBusyError
from arena.io.battle_files import EXPORT_COLUMNS
from arena.io.dataset_export import FIELDS, TABLES, export_dataset
from arena.store import Store, aggregate_votes_file
from generators.errors import InputError
from metrics.base import MetricResult

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]


def paddock(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PADDOCK, *args], capture_output=True, text=True, timeout=120)


def _votes(store: Store, n: int = 30) -> pd.DataFrame:
    clips = store.clips()
    names = {m.id: m.name for m in store.models()}
    by_prompt: dict[str, list] = {}
    for clip in clips:
        by_prompt.setdefault(clip.prompt_id, []).append(clip)
    rows = []
    for i in range(n):
        group = list(by_prompt.values())[i % len(by_prompt)]
        a, b = group[i % 3], group[(i + 1) % 3]
        winner = ("model_a", "model_b", "tie", "tie (bothbad)")[i % 4]
        rows.append(
            (
                names[a.model_id],
                names[b.model_id],
                winner,
                a.id,
                b.id,
                a.prompt_id,
                f"secret-{i % 3:04d}xx",
            )
        )
    columns = ["model_a", "model_b", "winner", "clip_a", "clip_b", "prompt_id", "rater"]
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture
def voted_store(data_dir):
    store = seeded_store(data_dir)
    store.import_battles(_votes(store))
    clip = store.clips()[0]
    result = MetricResult(
        metric="temporal",
        version="1",
        status="ok",
        values={"flicker": 0.25, "verdict": "fine"},
        units={},
        reason=None,
        backend="test",
        weights_sha256=None,
        params={},
    )
    store.record_metric_results(clip.id, [result])
    store.flag_rater("secret-0001xx", "failed gold checks")
    yield store
    store.close()


def test_export_writes_every_table_and_a_data_card(voted_store, tmp_path):
    out = tmp_path / "dataset"
    report = export_dataset(voted_store, out, created_at="2026-01-01T00:00:00+00:00")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.parquet" for t in TABLES] + ["README.md"]
    )
    battles = pd.read_parquet(out / "battles.parquet")
    assert list(battles.columns[: len(EXPORT_COLUMNS)]) == list(EXPORT_COLUMNS)
    assert report.rows["battles"] == len(battles) == 30
    for name in TABLES:
        frame = pd.read_parquet(out / f"{name}.parquet")
        assert set(FIELDS[name]) <= set(frame.columns), name
    # The ids raters vote with are bearer secrets: only pseudonyms leave the store.
    assert not battles["rater"].str.contains("secret").any()
    assert set(battles["rater"]) == {"rater-0001", "rater-0002", "rater-0003"}
    excluded = battles.groupby("rater")["rater_excluded"].first()
    assert excluded.sum() == 1
    # The battle file is Chatbot Arena layout: the rating code reads it as it reads the store.
    counts = aggregate_votes_file(out / "battles.parquet")
    store_counts = voted_store.vote_counts(exclude_flagged=False)
    key = ["model_a", "model_b", "winner"]
    assert (
        counts.sort_values(key)[[*key, "count"]]
        .reset_index(drop=True)
        .equals(store_counts.sort_values(key)[[*key, "count"]].reset_index(drop=True))
    )
    metrics = pd.read_parquet(out / "metric_results.parquet")
    assert list(metrics["key"]) == ["flicker"] and metrics["value"].iloc[0] == 0.25
    clips = pd.read_parquet(out / "clips.parquet")
    assert len(clips) == 9 and (clips["file"] == "").all()
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: cc-by-4.0\n")
    assert "30 pairwise votes between 3" in card and "30 `import`" in card
    assert "## Collection" in card
    assert "## Licence" in card and "`sampling_prob`" in card and "`rater_excluded`" in card
    assert "| `battles.parquet` | 30 |" in card


def test_export_refuses_a_file_or_a_non_empty_folder_unless_forced(voted_store, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    with pytest.raises(InputError, match="is a file"):
        export_dataset(voted_store, target)
    assert target.read_text() == "keep me"
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty.*--force"):
        export_dataset(voted_store, out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    report = export_dataset(voted_store, out, force=True, with_clips=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert report.clip_files == 9
    clips = pd.read_parquet(out / "clips.parquet")
    assert all((out / f).is_file() for f in clips["file"])


def test_empty_store_exports_empty_tables_and_says_so(data_dir, tmp_path):
    Store.open(data_dir).close()
    with Store.open(data_dir, read_only=True) as store:
        report = export_dataset(store, tmp_path / "empty")
    assert report.rows["battles"] == 0
    battles = pd.read_parquet(tmp_path / "empty" / "battles.parquet")
    assert list(battles.columns[: len(EXPORT_COLUMNS)]) == list(EXPORT_COLUMNS) and battles.empty
    assert "**No votes yet.**" in (tmp_path / "empty" / "README.md").read_text()


@pytest.mark.slow
def test_cli_exports_while_another_process_writes_the_store(voted_store, data_dir, tmp_path):
    voted_store.close()
    # A writer holds the file (as `paddock serve` does) and adds votes that sit in its log.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, pandas as pd\n"
            "from arena.store import Store\n"
            "s = Store.open(sys.argv[1])\n"
            "rows = pd.DataFrame({'model_a': ['alpha'] * 5, 'model_b': ['beta'] * 5,"
            " 'winner': ['model_a'] * 5})\n"
            "s.import_battles(rows)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreBusyError, match="in use"):
            Store.open(data_dir, read_only=True)
        out = tmp_path / "live"
        done = paddock("export", "dataset", str(out), "--data", str(data_dir))
        assert done.returncode == 0, done.stderr
        assert "battles 35" in done.stdout
        assert len(pd.read_parquet(out / "battles.parquet")) == 35
    finally:
        holder.kill()
        holder.wait()
    # User mistakes: one line and exit code 2, nothing written.
    again = paddock("export", "dataset", str(out), "--data", str(data_dir))
    assert again.returncode == 2 and again.stderr.strip().count("\n") == 0
    assert "not empty" in again.stderr
    missing = paddock("export", "dataset", str(tmp_path / "x"), "--data", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no Paddock data" in missing.stderr
    assert not (tmp_path / "x").exists()
