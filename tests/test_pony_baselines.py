"""Each pony baseline carries its one documented flaw, and the flaw is measurable in its clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pony_checks import audio_offset_ms, face_descriptor

from generators.base import GenerationRequest
from generators.decode import DecodedClip, decode_clip, probe_clip
from generators.registry import build_generator

REQUEST = GenerationRequest(
    'A woman stands on a busy street and says "Good morning, I have some news for all of '
    'you today." Cut to a close-up as she says "It is going to be a wonderful week."',
    seed=11,
    duration_s=4.0,
    resolution="480p",
)
MODELS = (
    "pony",
    "pony-lag",
    "pony-mute",
    "pony-drift",
    "pony-flicker",
    "pony-lowres",
    "pony-freeze",
)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, DecodedClip]:
    folder = tmp_path_factory.mktemp("baselines")
    out = {}
    for name in MODELS:
        path = folder / f"{name}.mp4"
        result = build_generator(f"builtin:{name}").generate(REQUEST, str(path))
        assert result.frames == 96 and Path(result.path) == path
        out[name] = decode_clip(path)
    return out


def _brightness(clip: DecodedClip) -> np.ndarray:
    return clip.frames.reshape(len(clip.frames), -1).mean(axis=1)


def _detail_above(path: Path, rows: int = 360) -> float:
    """Mean energy of what a round trip through `rows` lines removes, at full resolution."""
    clip = decode_clip(path, max_side=854, max_frames=48)
    energies = []
    for frame in clip.frames[::6]:
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        h, w = gray.shape
        small = cv2.resize(gray, (round(w * rows / h), rows), interpolation=cv2.INTER_AREA)
        back = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        energies.append(float(np.mean((gray - back) ** 2)))
    return float(np.mean(energies))


def _repeated_fraction(clip: DecodedClip) -> float:
    diffs = np.abs(np.diff(clip.frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    return float(np.mean(diffs < 0.5))


def test_every_baseline_keeps_the_clip_geometry(clips) -> None:
    for name, clip in clips.items():
        assert clip.frames.shape[0] == 96, name
        assert (clip.info.width, clip.info.height) == (854, 480), name
        assert clip.info.has_audio == (name != "pony-mute"), name


def test_lag_delays_the_audio_by_200ms(clips) -> None:
    pony, lag = clips["pony"], clips["pony-lag"]
    offset = audio_offset_ms(pony.audio, lag.audio, pony.audio_rate)
    assert offset == pytest.approx(200, abs=25)
    assert abs(audio_offset_ms(pony.audio, pony.audio, pony.audio_rate)) <= 1


def test_mute_has_no_audio_stream(clips, tmp_path) -> None:
    assert clips["pony-mute"].audio is None
    half = tmp_path / "half.mp4"
    build_generator("builtin:pony-mute?fraction=0.5").generate(
        GenerationRequest("a busy street", duration_s=2, resolution="480p"), str(half)
    )
    clip = decode_clip(half)
    assert probe_clip(half).has_audio
    n = len(clip.audio)
    assert np.abs(clip.audio[: n // 2 - 800]).max() > 0.01
    assert np.abs(clip.audio[n // 2 + 1600 :]).max() < 0.01


def test_drift_changes_the_identity_across_shots(clips) -> None:
    def distance(clip):  # first shot ends at 2 s (frame 48)
        a, b = face_descriptor(clip.frames[30]), face_descriptor(clip.frames[80])
        assert a is not None and b is not None
        return float(np.linalg.norm(a - b))

    same, drifted = distance(clips["pony"]), distance(clips["pony-drift"])
    assert same < 0.45
    assert drifted > 0.55 and drifted > same + 0.2


def test_flicker_makes_brightness_jump_between_frames(clips) -> None:
    jitter = {
        name: float(np.std(np.diff(_brightness(clips[name])))) for name in ("pony", "pony-flicker")
    }
    assert jitter["pony-flicker"] > 4 * jitter["pony"]
    assert jitter["pony-flicker"] > 5.0


def test_lowres_loses_detail(clips) -> None:
    pony = _detail_above(Path(clips["pony"].info.path))
    lowres = _detail_above(Path(clips["pony-lowres"].info.path))
    assert lowres < 0.6 * pony


def test_freeze_repeats_frames(clips) -> None:
    assert _repeated_fraction(clips["pony"]) < 0.1
    assert _repeated_fraction(clips["pony-freeze"]) > 0.5


def test_drift_also_changes_the_face_of_an_input_image(tmp_path) -> None:
    from skimage import data

    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), data.astronaut()[..., ::-1])
    out = tmp_path / "i2v.mp4"
    build_generator("builtin:pony-drift").generate(
        GenerationRequest(
            'She says "Hello from the crew."', duration_s=2, resolution="480p", image=str(image)
        ),
        str(out),
    )
    clip = decode_clip(out)
    a, b = face_descriptor(clip.frames[5]), face_descriptor(clip.frames[-5])
    assert a is not None and b is not None
    assert np.linalg.norm(a - b) > 0.5
