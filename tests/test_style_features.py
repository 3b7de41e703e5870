"""Style control on the arena's own votes: each clip's features come from the store."""

from __future__ import annotations

import numpy as np
import pandas as pd
from arena_helpers import seeded_store
from typer.testing import CliRunner

from arena.domain.style_features import battles_with_features, clip_features
from leaderboards.errors import RatingInputError
from leaderboards.style_control import style_board
from metrics.base import MetricResult


def _sharpness(value: float) -> list[MetricResult]:
    return [
        MetricResult("sharpness", "1", "ok", {"edge_detail": value}, {}, None, "test", None, {})
    ]


def _store_with_sharpness_votes(data_dir):
    """Three models of equal quality whose raters always prefer the sharper clip."""
    store = seeded_store(data_dir, n_prompts=3)
    clips = {}
    rng = np.random.default_rng(0)
    for clip in store.clips():
        clips.setdefault(store.model_by_id(clip.model_id).name, []).append(clip)
    sharp = {}
    for name, own in clips.items():
        for clip in own:
            sharp[clip.id] = float(rng.uniform(10, 60))
            if name == "gamma" and clip is own[2]:  # one clip stays without a value
                sharp[clip.id] = None
            else:
                store.record_metric_results(clip.id, _sharpness(sharp[clip.id]))
    rows = []
    names = sorted(clips)
    for _ in range(400):
        first, second = rng.choice(names, size=2, replace=False)
        a, b = rng.choice(clips[first]), rng.choice(clips[second])
        known = sharp[a.id] is not None and sharp[b.id] is not None
        winner = "model_a" if known and sharp[a.id] > sharp[b.id] else "model_b"
        rows.append((first, second, winner if known else "tie", a.id, b.id, a.prompt_id))
    columns = ["model_a", "model_b", "winner", "clip_a", "clip_b", "prompt_id"]
    store.import_battles(pd.DataFrame(rows, columns=columns))
    return store


def test_clip_features_come_from_metadata_and_metric_results(data_dir):
    store = _store_with_sharpness_votes(data_dir)
    values = clip_features(store)
    assert set(values.index) == {c.id for c in store.clips()}
    assert (values["duration"] > 0).all() and (values["has_audio"] == 1.0).all()
    assert values["sharpness"].isna().sum() == 1  # the clip without a result: NaN, not zero
    assert values["loudness"].isna().all()  # no audio metric was run
    store.close()


def test_controlled_board_takes_out_what_the_store_says_moved_the_votes(data_dir):
    store = _store_with_sharpness_votes(data_dir)
    battles = battles_with_features(store, ["sharpness"])
    assert {"sharpness_a", "sharpness_b"} <= set(battles.columns)
    board = style_board(battles, ["sharpness"], "sandwich", 0, 0)
    assert board.left_out["sharpness"] > 0  # votes with the unscored clip, counted
    coefficient = board.coefficients.set_index("feature").loc["sharpness"]
    assert coefficient["ci_low"] > 0  # sharper wins, clearly
    store.close()


def test_leaderboard_control_reads_the_store_without_a_votes_file(data_dir):
    from arena.cli import app

    _store_with_sharpness_votes(data_dir).close()
    result = CliRunner().invoke(
        app, ["leaderboard", "--data", str(data_dir), "--control", "sharpness", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert '"sharpness"' in result.output and '"left_out"' in result.output
    bad = CliRunner().invoke(app, ["leaderboard", "--data", str(data_dir), "--control", "size"])
    # main() turns this error into one line and exit code 2 (tests/test_leaderboards_cli.py)
    assert isinstance(bad.exception, RatingInputError)
    assert "unknown feature(s) size" in str(bad.exception)
