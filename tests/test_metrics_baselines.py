"""The built-in model and its baselines: the metrics rank them as their injected flaws imply."""

from __future__ import annotations

import pytest

from generators.base import GenerationRequest
from generators.registry import build_generator
from metrics.registry import score_clip

MODELS = [
    "pony",
    "pony-lag",
    "pony-mute",
    "pony-drift",
    "pony-flicker",
    "pony-lowres",
    "pony-freeze",
]


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("baselines")
    request = GenerationRequest(
        prompt='a woman in her garden says "These roses took three summers to bloom, '
        'and I am proud of every single one of them."',
        seed=3,
        duration_s=5.0,
        resolution="480p",
        aspect="16:9",
    )
    out = {}
    for name in MODELS:
        result = build_generator(f"builtin:{name}").generate(request, str(folder / f"{name}.mp4"))
        out[name] = {
            r.metric: r
            for r in score_clip(
                result.path, ["audio", "temporal", "identity", "lipsync", "sharpness"]
            )
        }
    return out


def test_flicker_baseline_flickers_most(scores: dict) -> None:
    temporal = {m: s["temporal"].values for m, s in scores.items()}
    assert min(temporal, key=lambda m: temporal[m]["flicker"]) == "pony-flicker"
    assert max(temporal, key=lambda m: temporal[m]["warping_error"]) == "pony-flicker"


def test_freeze_baseline_repeats_most_frames(scores: dict) -> None:
    temporal = {m: s["temporal"].values for m, s in scores.items()}
    assert max(temporal, key=lambda m: temporal[m]["duplicate_ratio"]) == "pony-freeze"
    assert temporal["pony-freeze"]["duplicate_ratio"] > 0.5


def test_mute_baseline_has_no_audio(scores: dict) -> None:
    assert scores["pony-mute"]["audio"].reason == "no audio track"
    assert all(s["audio"].status == "ok" for m, s in scores.items() if m != "pony-mute")


def test_drift_baseline_changes_identity(scores: dict) -> None:
    identity = {m: s["identity"].values for m, s in scores.items()}
    assert identity["pony"]["identity_changes"] == 0
    assert max(identity, key=lambda m: identity[m]["max_distance"]) == "pony-drift"
    assert identity["pony-drift"]["max_distance"] > identity["pony"]["max_distance"] + 0.2


def test_lag_baseline_reads_late_and_out_of_sync(scores: dict) -> None:
    pony = scores["pony"]["lipsync"].values
    lag = scores["pony-lag"]["lipsync"].values
    assert pony["verdict"] == "in sync" and abs(pony["offset_ms"]) < 45
    # SyncNet's sign: negative offsets mean the audio is late; the baseline delays it 200 ms.
    assert -260 < lag["offset_ms"] < -140
    assert lag["verdict"] in ("noticeable", "unacceptable")


def test_lowres_baseline_has_the_least_edge_detail(scores: dict) -> None:
    detail = {m: s["sharpness"].values["edge_detail"] for m, s in scores.items()}
    assert min(detail, key=detail.get) == "pony-lowres"
    assert detail["pony-lowres"] < 0.85 * detail["pony"]
