"""speech_quality: DNSMOS P.835 falls with noise on real and pony speech; bad input says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_damage import (
    add_pink_noise,
    clip_audio,
    pony_clip,
    replace_with_room_tone,
    sound_context,
)

from metrics.registry import check_ready
from metrics.speech import CACHE_KEY
from metrics.speech_quality import (
    MODEL_ENV,
    SPEECH_QUALITY,
    WINDOW,
    SoundModelError,
    dnsmos_model_path,
    dnsmos_session,
    dnsmos_windows,
)

TESTDATA = Path(os.environ.get("PADDOCK_TESTDATA", Path(__file__).parents[2] / "shared/testdata"))
DIALOGUE = 'A woman looks into the camera and says "I will tell you what happened that night."'
PONY_LINES = {
    "garden": 'A woman in her garden says "These roses took three summers to bloom."',
    "office": 'A man in a grey suit in a bright office says "The meeting moved to three, '
    'pass it on."',
}
QUIET = {
    "rain": "Heavy rain falls on a city street at night, cars hiss past; no one speaks.",
    "crowd": "A crowd murmurs in a busy city square at noon as footsteps echo; no one speaks.",
}


@pytest.fixture(scope="module")
def sounds() -> dict[str, tuple[np.ndarray, str]]:
    """Sound and prompt of each clip: the real talking heads (the second trimmed to 10 s) and
    4 s pony clips with a line or with nobody speaking."""
    out = {
        "talking_head_1": (clip_audio(TESTDATA / "talking_head_1.mp4"), DIALOGUE),
        "talking_head_2": (clip_audio(TESTDATA / "talking_head_2.mp4", seconds=10.0), DIALOGUE),
    }
    for name, text in {**PONY_LINES, **QUIET}.items():
        out[name] = (clip_audio(pony_clip(text)), text)
    return out


def quality(audio: np.ndarray | None, prompt: str = DIALOGUE):
    return SPEECH_QUALITY.compute(sound_context(audio, prompt))


@pytest.mark.parametrize("name", ["talking_head_1", "talking_head_2", *PONY_LINES])
def test_noise_lowers_background_and_overall(sounds: dict, name: str) -> None:
    audio, prompt = sounds[name]
    clean = quality(audio, prompt)
    noisy = quality(add_pink_noise(audio, db_below=10.0), prompt)
    assert clean.status == "ok" and noisy.status == "ok", (clean.reason, noisy.reason)
    for key in ("sig", "bak", "ovrl"):
        assert 1.0 <= clean.values[key] <= 5.0
    assert clean.values["bak"] - noisy.values["bak"] >= 0.5, (clean.values, noisy.values)
    assert clean.values["ovrl"] - noisy.values["ovrl"] >= 0.2, (clean.values, noisy.values)
    assert clean.units["ovrl"] == "MOS 1-5" and clean.units["speech_s"] == "s"


@pytest.mark.parametrize("name", list(PONY_LINES))
def test_a_4_second_clip_is_scored(sounds: dict, name: str) -> None:
    """Generated clips are shorter than the model's 9 s window: repeated to fill it, as the
    reference does, never left unavailable."""
    audio, prompt = sounds[name]
    assert len(audio) < WINDOW
    result = quality(audio, prompt)
    assert result.status == "ok"
    assert result.params["windows"] == 1
    assert 1.0 <= result.values["speech_s"] <= 4.0


@pytest.mark.parametrize("name", list(QUIET))
def test_nobody_speaking_is_unavailable(sounds: dict, name: str) -> None:
    audio, prompt = sounds[name]
    for sound in (audio, add_pink_noise(audio)):
        result = quality(sound, prompt)
        assert result.status == "unavailable"
        assert result.reason == "no speech"


def test_speech_removed_or_too_short_says_how_little(sounds: dict) -> None:
    audio, _ = sounds["talking_head_1"]
    assert quality(replace_with_room_tone(audio)).reason == "no speech"
    tone = replace_with_room_tone(audio)
    short = tone.copy()
    short[16000 : 16000 + 9600] = audio[32000 : 32000 + 9600]  # 0.6 s of the voice
    result = quality(short)
    assert result.status == "unavailable"
    assert result.reason.startswith("no speech")
    assert result.values["speech_s"] < 1.0


def test_no_audio_track() -> None:
    result = quality(None)
    assert result.status == "unavailable" and result.reason == "no audio track"


def test_the_speech_metric_segments_are_reused(sounds: dict) -> None:
    """speech_quality scores the stretches ctx.cache holds (what `speech` found) rather than
    running the VAD again: with none there, the talking head has no speech to judge."""
    audio, _ = sounds["talking_head_1"]
    ctx = sound_context(audio, DIALOGUE)
    ctx.cache[CACHE_KEY] = []
    assert SPEECH_QUALITY.compute(ctx).reason == "no speech"
    ctx.cache[CACHE_KEY] = [(0.0, 9.5)]
    assert SPEECH_QUALITY.compute(ctx).values["speech_s"] == 9.5


def test_windows_follow_the_reference() -> None:
    short = np.arange(4 * 16000, dtype=np.float32) / 1e6
    windows = dnsmos_windows(short)
    # appended to itself until a window is full (4 -> 8 -> 16 s), then a window every second
    assert windows.shape == (7, WINDOW)
    assert np.array_equal(windows[0, : len(short)], short)
    assert np.array_equal(windows[0, len(short) : 2 * len(short)], short)  # repeated, not padded
    assert np.array_equal(windows[1, : len(short) - 16000], short[16000:])
    assert dnsmos_windows(np.zeros(20 * 16000, np.float32)).shape == (11, WINDOW)


def test_a_corrupt_model_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "sig_bak_ovr.onnx"
    bad.write_bytes(Path(dnsmos_model_path()).read_bytes()[:5000])
    with pytest.raises(SoundModelError) as info:
        dnsmos_session(str(bad))
    message = str(info.value)
    assert "\n" not in message
    assert str(bad) in message and "pip install" in message
    with pytest.raises(SoundModelError, match="missing"):
        dnsmos_session(str(tmp_path / "absent.onnx"))


@pytest.mark.parametrize("command", ["score", "run"])
def test_cli_stops_at_start_up_on_a_corrupt_model(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx model")
    clip = TESTDATA / "talking_head_1.mp4"
    args = ["score", str(clip)] if command == "score" else ["run", "--data", str(tmp_path / "d")]
    done = subprocess.run(
        [sys.executable, "-c", "from arena.cli import main; main()", "metrics", *args],
        capture_output=True,
        text=True,
        env={**os.environ, MODEL_ENV: str(bad)},
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert str(bad) in lines[0] and "pip install" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("hidden", "metric"),
    [("onnxruntime", "speech_quality"), ("webrtcvad", "speech"), ("webrtcvad", "speech_quality")],
)
def test_a_missing_package_is_one_line_naming_the_install(
    monkeypatch: pytest.MonkeyPatch, hidden: str, metric: str
) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)  # as if not installed: find_spec fails
    with pytest.raises(SoundModelError) as info:
        check_ready([metric])
    message = str(info.value)
    assert "\n" not in message
    assert hidden in message and "make setup" in message
