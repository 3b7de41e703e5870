"""The metric runner over a real store, and the `paddock metrics` commands."""

from __future__ import annotations

import json
from pathlib import Path

from arena_helpers import seeded_store
from metrics_support import write_tone_clip
from typer.testing import CliRunner

from arena.cli import app
from arena.jobs.scoring import pending_jobs, score_missing

FAST = ["container", "audio", "temporal"]


def test_runner_scores_caches_and_survives_a_bad_clip(data_dir: Path) -> None:
    store = seeded_store(data_dir, n_prompts=2)
    try:
        jobs = pending_jobs(store, FAST)
        assert len(jobs) == 6 and all(j.metrics == FAST for j in jobs)
        Path(jobs[0].path).write_bytes(b"\x00" * 1000)  # one clip file is damaged on disk
        report = score_missing(store, FAST, workers=2, progress=False)
        assert report.clips == 6 and report.scored == 6 and report.failed == []
        assert report.results == 18 and report.unavailable == 3
        table = store.metric_table()
        assert set(table["metric"]) == set(FAST)
        assert table.query("metric == 'temporal' and key == 'flicker'")["value"].between(0, 1).all()
        assert score_missing(store, FAST, progress=False).clips == 0  # cached by hash + version
        again = score_missing(store, ["lipsync", "syncnet"], workers=1, progress=False)
        assert again.scored == 6 and again.unavailable == 6  # tiny clips: no face
        assert again.skipped == ["syncnet: no weights configured"]  # not recorded per clip
    finally:
        store.close()


def test_cli_score_json_and_run(data_dir: Path, tmp_path: Path) -> None:
    clip = write_tone_clip(tmp_path / "tone.mp4", seconds=4.0)
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "metrics",
            "score",
            str(clip),
            "--metric",
            "lipsync,identity",
            "--metric",
            "audio",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert list(data) == ["lipsync", "identity", "audio"]
    assert data["lipsync"]["status"] == "unavailable" and data["lipsync"]["reason"] == "no face"
    assert data["audio"]["status"] == "ok" and data["audio"]["has_audio"] is True
    table = runner.invoke(app, ["metrics", "score", str(clip), "-m", "container"])
    assert table.exit_code == 0 and "container" in table.output
    unknown = runner.invoke(app, ["metrics", "score", str(clip), "-m", "nonsense"])
    assert unknown.exit_code != 0
    seeded_store(data_dir, n_prompts=1).close()
    run = runner.invoke(
        app, ["metrics", "run", "--data", str(data_dir), "--metrics", "container", "--workers", "1"]
    )
    assert run.exit_code == 0, run.output
    assert "3 clips needed scoring: 3 scored" in run.output
