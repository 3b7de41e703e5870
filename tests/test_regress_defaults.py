"""What `paddock regress` compares by default comes from the metrics' own records."""

import subprocess
import sys

import pytest

from metrics.base import Metric
from metrics.registry import METRICS
from metrics.regression import DEFAULT_TOLERANCES, default_metrics, default_tolerances

# The defaults as they were when they were one list in the job and one table of tolerances:
# moving them into the records must not change a value.
BEFORE = {
    "lipsync.abs_offset_ms": 40.0,
    "lipsync.confidence": 2.2,
    "syncnet.lse_c": 0.5,
    "syncnet.lse_d": 0.5,
    "identity.mean_distance": 0.05,
    "identity.max_distance": 0.1,
    "identity.share_same": 0.05,
    "identity.identity_changes": 0.5,
    "temporal.flicker": 0.005,
    "temporal.warping_error": 1e-4,
    "temporal.duplicate_ratio": 0.05,
    "temporal.frozen_s": 0.25,
    "audio.silence_ratio": 0.1,
    "audio.abs_duration_mismatch_s": 0.1,
    "sharpness.edge_detail": 1.9,
    "clip_score.clip_score": 1.0,
    "clip_consistency.clip_consistency": 0.01,
}


def test_the_old_defaults_are_kept_value_for_value():
    assert {k: DEFAULT_TOLERANCES[k] for k in BEFORE} == BEFORE
    assert default_tolerances() == DEFAULT_TOLERANCES
    assert {"lipsync", "identity", "temporal", "audio", "sharpness"} <= set(default_metrics())
    # Those that need weights or the ml extra keep their tolerances but are compared only
    # when named.
    assert not {"syncnet", "clip_score", "clip_consistency"} & set(default_metrics())


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_default_value_has_a_tolerance_and_every_tolerance_a_headline(name):
    metric = METRICS[name]
    assert set(metric.tolerances) <= set(metric.higher_is_better), name
    if metric.regress_default:  # no headline value of a default metric falls back to 0
        assert set(metric.tolerances) == set(metric.higher_is_better), name


def test_a_metric_declaring_tolerances_is_compared_by_default(monkeypatch):
    def compute(ctx):
        raise AssertionError("not run")

    late = Metric("late", "1", "numpy", {"late_ms": False}, {"late_ms": "ms"}, compute,
                  tolerances={"late_ms": 30.0})  # fmt: skip
    weighted = Metric("weighted", "1", "torch", {"score": True}, {}, compute,
                      weights=lambda config: None, tolerances={"score": 1.0})  # fmt: skip
    plain = Metric("plain", "1", "numpy", {"score": True}, {}, compute)
    for metric in (late, weighted, plain):
        monkeypatch.setitem(METRICS, metric.name, metric)
    assert "late" in default_metrics()
    assert "weighted" not in default_metrics() and "plain" not in default_metrics()
    assert default_tolerances()["late.late_ms"] == 30.0
    assert default_tolerances()["weighted.score"] == 1.0


def test_derived_values_join_a_result_and_none_leaves_them_out():
    def compute(ctx):
        raise AssertionError("not run")

    metric = Metric(
        "sync", "1", "numpy", {"abs_offset_ms": False}, {"offset_ms": "ms"}, compute,
        derived={"abs_offset_ms": lambda v: None if v["offset_ms"] is None else abs(v["offset_ms"])},
    )  # fmt: skip
    assert metric.result({"offset_ms": -120.0}).values == {
        "offset_ms": -120.0,
        "abs_offset_ms": 120.0,
    }
    assert metric.result({"offset_ms": None}).values == {"offset_ms": None}
    assert metric.unavailable("no sound").values == {}


def test_metrics_list_marks_the_regress_defaults():
    code = "from arena.cli import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "metrics", "list"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    lines = {line.split(" ")[0]: line for line in out.stdout.splitlines() if line}
    assert lines["lipsync"].endswith("(regress default)")
    assert not lines["syncnet"].endswith("(regress default)")


def test_too_few_pairs_names_the_values_short_of_pairs():
    import pandas as pd

    from metrics.regression import too_few_pairs

    rows = [(f"p{i:02d}", 0, "m", "a", float(i)) for i in range(12)]
    rows += [(f"p{i:02d}", 0, "m", "b", 1.0) for i in range(3)]  # read on 3 clips only
    table = pd.DataFrame(rows, columns=["prompt_id", "seed", "metric", "key", "value"])
    directions = {"m": {"a": True, "b": False, "c": True}}  # c: on no clip at all
    assert too_few_pairs(table, table, directions) == {"m.b": 3}
    assert too_few_pairs(table, table, {"m": {"a": True}}) == {}


def test_the_sound_metrics_are_regress_defaults_with_their_verdicts_as_numbers():
    from metrics.av_sync import AV_SYNC
    from metrics.speech import SPEECH

    assert {"speech", "speech_quality", "audio_defects", "av_sync"} <= set(default_metrics())
    for name in ("speech.as_prompted", "speech_quality.ovrl", "audio_defects.clipped_share",
                 "av_sync.abs_offset_ms"):  # fmt: skip
        assert DEFAULT_TOLERANCES[name] > 0, name

    def speech(verdict: str) -> dict:
        values = {"speech_share": 0.5, "speech_s": 2.0, "expected": "dialogue", "verdict": verdict}
        return SPEECH.result(values).values

    assert speech("as prompted")["as_prompted"] == 1.0
    assert speech("speech missing")["as_prompted"] == 0.0
    assert speech("unexpected speech")["as_prompted"] == 0.0
    assert "as_prompted" not in speech("unknown")  # no expectation: left out, not counted good
    early = AV_SYNC.result({"offset_ms": -300.0, "confidence": 9.0, "events": 8,
                            "verdict": "out of sync"})  # fmt: skip
    assert early.values["abs_offset_ms"] == 300.0
    unsure = AV_SYNC.result({"offset_ms": None, "confidence": 1.0, "events": 8,
                             "verdict": "uncertain"})  # fmt: skip
    assert "abs_offset_ms" not in unsure.values


def test_the_board_and_the_agreement_table_carry_the_sound_headlines():
    # Both read every registered metric's headline directions: one declaration, in the record.
    from metrics.registry import headline_directions

    directions = headline_directions()
    assert directions["speech.as_prompted"] is True
    assert directions["speech_quality.ovrl"] is True
    assert directions["audio_defects.clipped_share"] is False
    assert directions["av_sync.abs_offset_ms"] is False
    assert "av_sync.offset_ms" not in directions  # signed: neither end is "better"
