"""Temporal, audio and container metrics: real clips, and flaws injected into them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from metrics_support import (
    context,
    decoded,
    derived,
    fresh_context,
    write_clip,
    write_tone_clip,
    write_vfr_clip,
)
from PIL import Image

from metrics.audio import AUDIO, integrated_loudness
from metrics.base import MetricsConfig
from metrics.container import CONTAINER
from metrics.registry import available_metrics, score_clip
from metrics.temporal import TEMPORAL

CLIP = "talking_head_1.mp4"


def test_real_clip_is_steady(testdata_dir: Path) -> None:
    values = TEMPORAL.compute(context(str(testdata_dir / CLIP))).values
    print(values)
    assert values["flicker"] > 0.99
    assert values["warping_error"] < 5e-4
    assert values["duplicate_frames"] == 0 and values["frozen_runs"] == 0
    assert values["shot_cuts"] == 0
    assert values["motion"] > 0


def test_injected_flicker_is_detected(testdata_dir: Path) -> None:
    clip = decoded(str(testdata_dir / CLIP))
    clean = TEMPORAL.compute(context(str(testdata_dir / CLIP))).values
    frames = clip.frames.astype(np.int16)
    frames[::2] += 30  # brightness flicker on every other frame
    flickery = derived(clip, frames=np.clip(frames, 0, 255).astype(np.uint8))
    values = TEMPORAL.compute(fresh_context(flickery)).values
    print(clean, values)
    assert values["flicker"] < clean["flicker"] - 0.05
    assert values["warping_error"] > 10 * clean["warping_error"]


def test_injected_freeze_and_removed_audio_in_a_file(testdata_dir: Path, tmp_path: Path) -> None:
    clip = decoded(str(testdata_dir / CLIP))
    frames = np.array(clip.frames)
    frames[100:150] = frames[100]  # a 2 s freeze
    path = write_clip(tmp_path / "frozen_mute.mp4", clip, frames=frames, audio=None)
    results = {r.metric: r for r in score_clip(path, ["container", "audio", "temporal", "lipsync"])}
    temporal = results["temporal"].values
    print(temporal)
    assert temporal["frozen_runs"] == 1
    assert abs(temporal["longest_freeze_s"] - 49 / 25) < 0.1
    assert temporal["duplicate_frames"] >= 45
    assert results["audio"].status == "unavailable"
    assert results["audio"].reason == "no audio track"
    assert results["audio"].values == {"has_audio": False}
    assert results["lipsync"].reason == "no audio track"
    assert results["container"].values["has_audio"] is False
    assert results["container"].values["video_codec"] == "h264"


def test_real_audio_values(testdata_dir: Path) -> None:
    values = AUDIO.compute(context(str(testdata_dir / CLIP))).values
    print(values)
    assert values["has_audio"] is True
    assert -40 < values["loudness_lufs"] < -10
    assert 0.0 <= values["silence_ratio"] < 0.5
    assert values["duration_ok"] and values["abs_duration_mismatch_s"] < 0.1


def test_silent_track_and_duration_mismatch(testdata_dir: Path) -> None:
    clip = decoded(str(testdata_dir / CLIP))
    silent = AUDIO.compute(fresh_context(derived(clip, audio=np.zeros(16000 * 10, np.float32))))
    assert silent.values["silence_ratio"] == 1.0 and silent.values["loudness_lufs"] is None
    short = AUDIO.compute(fresh_context(derived(clip, audio=clip.audio[: 16000 * 7])))
    assert abs(short.values["duration_mismatch_s"] + 3.0) < 0.05
    assert short.values["duration_ok"] is False


def test_loudness_of_a_reference_tone() -> None:
    # BS.1770: a full-scale 997 Hz sine reads -3.01 LUFS; at -20 dBFS peak, -23.01 LUFS.
    t = np.arange(16000 * 5) / 16000
    tone = 0.1 * np.sin(2 * np.pi * 997 * t)
    assert abs(integrated_loudness(tone, 16000) + 23.01) < 0.3


def test_container_values(testdata_dir: Path) -> None:
    values = CONTAINER.compute(context(str(testdata_dir / CLIP))).values
    assert values["video_codec"] == "hevc" and values["fps"] == 25.0
    assert (values["width"], values["height"], values["n_frames"]) == (1080, 1920, 250)
    assert values["variable_frame_rate"] is False


def test_bad_files_make_every_metric_unavailable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    results = score_clip(bad)
    assert [r.metric for r in results] == available_metrics()
    assert all(r.status == "unavailable" for r in results)
    weighted = {"syncnet", "clip_score", "clip_consistency"}  # no weights in the tests' config
    assert all(r.reason.startswith("cannot decode") for r in results if r.metric not in weighted)


def test_tone_clip_without_face(tmp_path: Path) -> None:
    path = write_tone_clip(tmp_path / "tone.mp4", seconds=4.0)
    results = {r.metric: r for r in score_clip(path, ["lipsync", "identity", "audio"])}
    assert results["lipsync"].reason == "no face"
    assert results["identity"].reason == "no face"
    assert results["audio"].status == "ok"


def test_variable_frame_rate_and_image_inputs(tmp_path: Path) -> None:
    results = {r.metric: r for r in score_clip(write_vfr_clip(tmp_path / "vfr.mp4"))}
    assert results["container"].values["variable_frame_rate"] is True
    assert results["lipsync"].reason == "variable frame rate"
    image = tmp_path / "still.png"
    Image.new("RGB", (64, 48), (10, 200, 10)).save(image)
    for result in score_clip(image, ["container", "temporal", "lipsync", "identity"]):
        assert result.status == "unavailable" and "is an image" in result.reason


def test_config_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "metrics.toml"
    path.write_text('[metrics]\nsyncnet_weights = "/w/syncnet_v2.model"\nmax_side = 960\n')
    config = MetricsConfig.load(str(path))
    assert config.syncnet_weights == "/w/syncnet_v2.model" and config.max_side == 960
