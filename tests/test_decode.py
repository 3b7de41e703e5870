"""The one decoder: real clips, stream start times, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from metrics_support import decoded, write_tone_clip, write_vfr_clip
from PIL import Image

from generators.decode import decode_clip, probe_clip
from generators.errors import MediaError


def test_real_clip_probe_and_decode(testdata_dir: Path) -> None:
    path = str(testdata_dir / "talking_head_1.mp4")
    info = probe_clip(path)
    assert (info.video_codec, info.width, info.height, info.fps) == ("hevc", 1080, 1920, 25.0)
    assert info.n_frames == 250 and not info.variable_frame_rate
    assert info.has_audio and info.audio_codec == "aac" and info.sample_rate == 44100
    clip = decoded(path)
    assert clip.frames.shape == (250, 640, 360, 3) and clip.frames.dtype == np.uint8
    assert np.allclose(np.diff(clip.frame_times), 0.04)
    assert clip.audio_rate == 16000 and clip.audio.dtype == np.float32
    assert abs(len(clip.audio) / 16000 - 10.0) < 0.05
    assert float(np.abs(clip.audio).max()) <= 1.0


def test_max_frames_and_size(testdata_dir: Path) -> None:
    clip = decode_clip(testdata_dir / "talking_head_2.mp4", max_side=160, max_frames=10)
    assert clip.frames.shape == (10, 160, 90, 3)


def test_audio_stream_start_is_honoured(tmp_path: Path) -> None:
    path = write_tone_clip(tmp_path / "late.mp4", audio_start_s=0.5)
    clip = decode_clip(path)
    first = np.flatnonzero(np.abs(clip.audio) > 0.05)[0] / clip.audio_rate
    # The tone starts 0.5 s into the video timeline, whatever the AAC priming.
    assert abs(clip.audio_start_s + first - 0.5) < 0.01


def test_variable_frame_rate_is_detected(tmp_path: Path) -> None:
    info = probe_clip(write_vfr_clip(tmp_path / "vfr.mp4"))
    assert info.variable_frame_rate


def test_no_audio_track(tmp_path: Path) -> None:
    clip = decode_clip(write_tone_clip(tmp_path / "mute.mp4", audio=False))
    assert clip.audio is None and not clip.info.has_audio and len(clip.frames) == 50


@pytest.mark.parametrize(
    "kind,needle",
    [
        ("corrupt", "corrupt"),
        ("empty", "empty"),
        ("image", "image"),
        ("audio_only", "no video"),
        ("missing", "no such file"),
        ("zero_frames", "zero frames"),
        ("truncated", "trunc"),
    ],
)
def test_bad_input_raises_media_error_with_reason(
    tmp_path: Path, testdata_dir: Path, kind: str, needle: str
) -> None:
    path = tmp_path / f"{kind}.mp4"
    if kind == "corrupt":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes())
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "image":
        path = tmp_path / "still.png"
        Image.new("RGB", (64, 48), (200, 10, 10)).save(path)
    elif kind == "audio_only":
        path = write_tone_clip(tmp_path / "audio.m4a", video=False)
    elif kind == "zero_frames":  # a video stream whose packets decode to nothing
        import av

        source = write_tone_clip(tmp_path / "source.mp4", audio=False)
        with av.open(str(source)) as inp, av.open(str(path), "w") as out:
            vin = inp.streams.video[0]
            vout = out.add_stream_from_template(vin)
            for packet in inp.demux(vin):
                if packet.size:
                    blank = av.Packet(bytes(packet.size))
                    blank.pts, blank.dts, blank.time_base = packet.pts, packet.dts, packet.time_base
                    blank.stream = vout
                    out.mux(blank)
    elif kind == "truncated":
        data = (testdata_dir / "talking_head_1.mp4").read_bytes()
        path.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError) as err:
        decode_clip(path)
    assert needle in str(err.value).lower()
