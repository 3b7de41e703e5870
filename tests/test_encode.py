"""The one encoder: H.264 + AAC faststart mp4, atomic writes, no identifying metadata."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from generators.decode import decode_clip, probe_clip
from generators.encode import encode_clip, strip_metadata_copy
from generators.errors import GenerationError

W, H, FPS = 160, 96, 24


def _frames(n: int) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:H, 0:W]
    return [
        np.stack([(xx * 1.5 + 4 * i) % 256, (yy * 2 + i) % 256, np.full_like(xx, 128)], -1).astype(
            np.uint8
        )
        for i in range(n)
    ]


def _tone(seconds: float, rate: int = 48000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_encodes_h264_aac_mp4_with_the_asked_geometry(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    encode_clip(out, iter(_frames(48)), fps=FPS, width=W, height=H, audio=_tone(2.0))
    info = probe_clip(out)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height, info.n_frames) == (W, H, 48)
    assert info.fps == pytest.approx(FPS)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
    clip = decode_clip(out, max_side=W)
    assert clip.audio is not None and np.sqrt(np.mean(clip.audio**2)) > 0.1
    mse = np.mean((clip.frames[5].astype(float) - _frames(48)[5]) ** 2)
    assert 10 * np.log10(255**2 / mse) > 30


def test_moov_atom_comes_first_for_streaming(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    encode_clip(out, iter(_frames(24)), fps=FPS, width=W, height=H, audio=None)
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_metadata_carries_only_codec_facts(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    encode_clip(
        out, iter(_frames(24)), fps=FPS, width=W, height=H, audio=np.stack([_tone(1.0)] * 2, 1)
    )
    with av.open(str(out)) as c:
        keys = set(c.metadata) | {k for s in c.streams for k in s.metadata}
    assert keys <= {
        "major_brand",
        "minor_version",
        "compatible_brands",
        "language",
        "handler_name",
        "vendor_id",
    }
    assert b"Lavf" not in out.read_bytes()


def test_failure_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"

    def broken():
        yield _frames(1)[0]
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        encode_clip(out, broken(), fps=FPS, width=W, height=H, audio=None)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(GenerationError, match="even"):
        encode_clip(out, iter(_frames(2)), fps=FPS, width=W + 1, height=H, audio=None)
    with pytest.raises(GenerationError, match="frame 0"):
        encode_clip(
            out, iter([np.zeros((10, 10, 3), np.uint8)]), fps=FPS, width=W, height=H, audio=None
        )
    assert list(tmp_path.iterdir()) == []


def test_strip_metadata_copy_drops_tags_and_keeps_streams(tmp_path: Path) -> None:
    src = tmp_path / "tagged.mp4"
    with av.open(str(src), "w", format="mp4") as c:
        c.metadata["title"] = "secret-model-v2"
        c.metadata["comment"] = "made by secret-model"
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.metadata["title"] = "secret-model-v2"
        for i, f in enumerate(_frames(12)):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    assert b"secret-model" in src.read_bytes()
    dst = tmp_path / "clean.mp4"
    strip_metadata_copy(src, dst)
    assert b"secret-model" not in dst.read_bytes()
    assert probe_clip(dst).n_frames == 12


def test_strip_metadata_copy_of_a_non_clip_is_a_media_error(tmp_path: Path) -> None:
    from generators.errors import MediaError

    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(MediaError):
        strip_metadata_copy(bad, tmp_path / "out.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]
