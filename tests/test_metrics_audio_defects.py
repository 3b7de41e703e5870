"""audio_defects on real talking heads and pony clips, clean and with known damage made here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from defect_damage import (
    add_pink_noise,
    hard_clip,
    insert_dropouts,
    low_pass,
    native_track,
    score,
    write_sound,
)
from metrics_support import write_tone_clip

from generators.base import GenerationRequest
from generators.decode import decode_clip
from generators.pony import PonyGenerator
from metrics.registry import score_clip

PONY_TALK = (
    'A woman in a quiet office looks at the camera and says "Hello everyone, welcome back '
    'to the weekly update."'
)
PONY_RAIN = "Heavy rain falls on a city street at night, cars hiss past the puddles; no one speaks."
SOURCES = ("talking_head_1", "talking_head_2", "pony_talk", "pony_rain")
FOREGROUND = ("talking_head_1", "talking_head_2", "pony_talk")  # speech over a quieter floor
DAMAGE = {
    "clean": lambda x, rate: x,
    "clipped": lambda x, rate: hard_clip(x, 20.0),
    "muffled": lambda x, rate: low_pass(x, rate, 2500.0),
    "noisy": lambda x, rate: add_pink_noise(x, 10.0),
    "very noisy": lambda x, rate: add_pink_noise(x, 8.0),
    "dropouts": lambda x, rate: insert_dropouts(x, rate, 3, 0.05)[0],
}


@pytest.fixture(scope="module")
def originals(testdata_dir: Path, tmp_path_factory) -> dict[str, tuple[Path, float]]:
    """Each source clip as a file, with the seconds of it that the tests use."""
    folder = tmp_path_factory.mktemp("pony_sound")
    pony = PonyGenerator()
    talk, rain = folder / "talk.mp4", folder / "rain.mp4"
    pony.generate(GenerationRequest(PONY_TALK, seed=1, duration_s=4, resolution="480p"), str(talk))
    pony.generate(
        GenerationRequest(PONY_RAIN, seed=1, duration_s=3.5, resolution="480p"), str(rain)
    )
    return {
        "talking_head_1": (testdata_dir / "talking_head_1.mp4", 10.0),
        "talking_head_2": (testdata_dir / "talking_head_2.mp4", 10.0),  # 20 s: the first 10
        "pony_talk": (talk, 4.0),
        "pony_rain": (rain, 3.5),
    }


@pytest.fixture(scope="module")
def tracks(originals) -> dict[str, tuple[np.ndarray, int]]:
    """Each source's sound at its own rate, (2, samples), and that rate."""
    return {source: native_track(path, seconds) for source, (path, seconds) in originals.items()}


@pytest.fixture(scope="module")
def scored(tracks, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """(source, damage) -> the metric's values on the damaged sound, re-encoded to AAC; the
    "clean" entry went through the same re-encoding, so only the damage differs."""
    folder = tmp_path_factory.mktemp("damaged")
    out = {}
    for source, (x, rate) in tracks.items():
        for damage, apply in DAMAGE.items():
            clip = write_sound(folder / f"{source}_{damage}.mp4", apply(x, rate), rate)
            result = score(clip)
            assert result.status == "ok", result.reason
            out[source, damage] = result.values
    return out


def test_decode_keeps_the_native_audio_beside_the_mono_track(testdata_dir: Path) -> None:
    clip = decode_clip(testdata_dir / "talking_head_1.mp4", max_frames=10)
    assert clip.native_audio_rate == 44100 and clip.audio_rate == 16000
    assert clip.native_audio.dtype == np.float32 and clip.native_audio.shape[0] == 2
    # the same decoded frames: both tracks cover the same time
    native_s = clip.native_audio.shape[1] / clip.native_audio_rate
    assert abs(native_s - len(clip.audio) / clip.audio_rate) < 0.01
    lean = decode_clip(testdata_dir / "talking_head_1.mp4", max_frames=10, native_audio=False)
    assert lean.native_audio is None and np.array_equal(lean.audio, clip.audio)


@pytest.mark.parametrize("source", SOURCES)
def test_clipping_is_counted_near_full_scale(scored, source: str) -> None:
    clean, clipped = scored[source, "clean"], scored[source, "clipped"]
    assert clean["clipped_share"] < 0.002
    assert clipped["clipped_share"] >= 0.01
    assert clipped["verdict"] == "clipped"


def test_one_clipped_channel_is_not_hidden_by_the_downmix(tracks, tmp_path: Path) -> None:
    x, rate = tracks["talking_head_1"]
    x = np.stack([hard_clip(x[0], 20.0), x[1]])
    values = score(write_sound(tmp_path / "left.mp4", x, rate)).values
    assert values["clipped_share"] >= 0.01 and values["verdict"] == "clipped"


@pytest.mark.parametrize("source", SOURCES)
def test_low_pass_reads_as_lost_bandwidth(scored, source: str) -> None:
    clean, muffled = scored[source, "clean"], scored[source, "muffled"]
    assert clean["bandwidth_khz"] >= 6
    assert muffled["bandwidth_khz"] <= 5
    assert muffled["bandwidth_khz"] <= 0.6 * clean["bandwidth_khz"]
    if source in FOREGROUND:  # a steady sound alone (rain, a room's hum) is not judged dull
        assert muffled["verdict"] == "muffled"


@pytest.mark.parametrize("source", FOREGROUND)
def test_pink_noise_raises_the_noise_floor(scored, source: str) -> None:
    clean, noisy = scored[source, "clean"], scored[source, "noisy"]
    # pink noise 10 dB under the mean level fills the pauses: the floor rises by 5 dB or more
    assert noisy["noise_floor_db"] >= clean["noise_floor_db"] + 5
    # 2 dB more noise is past pony's own beds (14 dB under its speech): called noisy
    assert scored[source, "very noisy"]["verdict"] == "noisy"


def test_a_steady_scene_is_not_called_noisy(scored) -> None:
    # rain is all floor: the loud frames are hardly above the quiet ones, noise or not
    for damage in ("clean", "noisy", "very noisy"):
        assert scored["pony_rain", damage]["noise_floor_db"] > -12
        assert scored["pony_rain", damage]["verdict"] == "clean"


@pytest.mark.parametrize("source", SOURCES)
def test_digital_silences_inside_sound_are_counted(scored, source: str) -> None:
    assert scored[source, "clean"]["dropouts"] == 0
    assert scored[source, "dropouts"]["dropouts"] == 3
    assert scored[source, "dropouts"]["verdict"] == "dropouts"


def test_silence_at_the_edges_is_not_a_dropout(tracks, tmp_path: Path) -> None:
    x, rate = tracks["pony_talk"]
    x = x.copy()
    x[:, : rate // 5] = 0.0  # the sound starts late and stops early: not a dropout
    x[:, -rate // 5 :] = 0.0
    assert score(write_sound(tmp_path / "edges.mp4", x, rate)).values["dropouts"] == 0


def test_dc_offset_is_the_mean_sample_value(tracks, tmp_path: Path) -> None:
    x, rate = tracks["talking_head_2"]
    values = score(write_sound(tmp_path / "dc.mp4", x + np.float32(0.05), rate)).values
    assert values["dc_offset"] == pytest.approx(0.05, abs=0.005)
    assert values["verdict"] == "dc offset"


@pytest.mark.parametrize("source", SOURCES)
def test_clean_clips_say_clean(originals, scored, source: str) -> None:
    path, seconds = originals[source]
    result = score(path, max_frames=int(seconds * 25))
    assert result.status == "ok" and result.params["audio"] == "native"
    assert result.values["verdict"] == "clean", result.values
    assert scored[source, "clean"]["verdict"] == "clean", scored[source, "clean"]


def test_no_audio_track_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    silent = write_tone_clip(tmp_path / "silent.mp4", audio=False)
    (result,) = score_clip(silent, ["audio_defects"])
    assert result.status == "unavailable" and result.reason == "no audio track"
    (toned,) = score_clip(write_tone_clip(tmp_path / "tone.mp4"), ["audio_defects"])
    assert toned.status == "ok" and toned.values["bandwidth_khz"] < 1  # a 440 Hz tone
