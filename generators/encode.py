"""The one place clips are encoded: H.264 yuv420p + AAC in a faststart mp4, written atomically."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from generators.errors import GenerationError, MediaError

AUDIO_FRAME_SAMPLES = 1024  # one AAC frame
# BT.601 limited range is what cv2's I420 conversion produces; tagging it lets players
# (Chromium included) convert back with the same matrix instead of guessing BT.709.
# mbtree off: with it x264's lookahead reads uninitialized padding at some frame widths
# (854 px, 864 px), and the same frames then encode to different streams from run to run.
_X264_PARAMS = "colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m:mbtree=0"
# bitexact keeps ffmpeg from writing its own "encoder" tag into the container.
_CONTAINER_OPTIONS = {"movflags": "+faststart", "fflags": "+bitexact"}


def _temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.part{path.suffix or '.mp4'}")


def _audio_planar(audio: np.ndarray) -> np.ndarray:
    """(S,) or (S, C) float in [-1, 1] -> (C, S) float32 contiguous, C in {1, 2}."""
    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    elif arr.ndim == 2:
        arr = arr.T
    else:
        raise GenerationError(f"audio must be (samples,) or (samples, channels), got {arr.shape}")
    if arr.shape[0] not in (1, 2):
        raise GenerationError(f"audio must have 1 or 2 channels, got {arr.shape[0]}")
    return np.ascontiguousarray(np.clip(arr, -1.0, 1.0))


def _add_video_stream(
    out: av.container.OutputContainer, fps: int, width: int, height: int, crf: int, preset: str
) -> av.VideoStream:
    stream = out.add_stream("libx264", rate=fps)
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuv420p"
    stream.time_base = Fraction(1, fps)
    stream.options = {"crf": str(crf), "preset": preset, "x264-params": _X264_PARAMS}
    stream.codec_context.thread_type = "FRAME"
    stream.codec_context.thread_count = max(2, os.cpu_count() or 2)
    return stream


def _encode_audio(
    out: av.container.OutputContainer, stream: av.AudioStream, planar: np.ndarray, sample_rate: int
) -> None:
    layout = "stereo" if planar.shape[0] == 2 else "mono"
    n = planar.shape[1]
    for start in range(0, n, AUDIO_FRAME_SAMPLES):
        chunk = np.ascontiguousarray(planar[:, start : start + AUDIO_FRAME_SAMPLES])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def rgb_to_i420(frame: np.ndarray) -> np.ndarray:
    """RGB uint8 (h, w, 3) -> planar I420 (h*3/2, w) in BT.601 limited range."""
    return cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)


def encode_clip(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    *,
    fps: int,
    width: int,
    height: int,
    audio: np.ndarray | None,
    sample_rate: int = 48000,
    crf: int = 23,
    preset: str = "veryfast",
) -> None:
    """Encode RGB uint8 frames (and optional float audio) to an mp4 that plays in Chromium.

    Frames are consumed one at a time, so a clip never has to sit in memory whole. The file
    appears at `path` only once complete; on any failure nothing is left behind.
    """
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise GenerationError(f"H.264 yuv420p needs even positive dimensions, got {width}x{height}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path_for(path)
    planar = _audio_planar(audio) if audio is not None else None
    try:
        with av.open(str(tmp), mode="w", format="mp4", options=_CONTAINER_OPTIONS) as out:
            vstream = _add_video_stream(out, fps, width, height, crf, preset)
            astream = None
            if planar is not None:
                layout = "stereo" if planar.shape[0] == 2 else "mono"
                astream = out.add_stream("aac", rate=sample_rate, layout=layout)
                astream.bit_rate = 128_000 if layout == "stereo" else 96_000
                astream.options = {"aac_coder": "fast"}  # the default two-loop search is slow
            n_frames = 0
            for index, frame in enumerate(frames):
                if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
                    raise GenerationError(
                        f"frame {index} is {frame.shape} {frame.dtype}, "
                        f"expected ({height}, {width}, 3) uint8"
                    )
                vframe = av.VideoFrame.from_ndarray(rgb_to_i420(frame), format="yuv420p")
                vframe.pts = index
                vframe.time_base = Fraction(1, fps)
                out.mux(vstream.encode(vframe))
                n_frames += 1
            if n_frames == 0:
                raise GenerationError("no frames to encode")
            out.mux(vstream.encode(None))
            if astream is not None and planar is not None:
                _encode_audio(out, astream, planar, sample_rate)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def strip_metadata_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Remux `src` into an mp4 at `dst` without container or stream metadata tags.

    Streams are copied as they are (no re-encode); the result is written atomically.
    """
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path_for(dst)
    try:
        try:
            inp = av.open(str(src))
        except (av.FFmpegError, OSError) as exc:
            raise MediaError(f"cannot read clip {src}: {exc}") from exc
        with inp, av.open(str(tmp), mode="w", format="mp4", options=_CONTAINER_OPTIONS) as out:
            mapping = {}
            for stream in inp.streams:
                if stream.type not in ("video", "audio"):
                    continue
                mapping[stream.index] = out.add_stream_from_template(stream)
            if not mapping:
                raise MediaError(f"clip {src} has no video or audio stream")
            for ostream in mapping.values():
                ostream.metadata.clear()
            for packet in inp.demux(*[inp.streams[i] for i in mapping]):
                if packet.dts is None:
                    continue
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
