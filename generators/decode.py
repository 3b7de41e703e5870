"""The one place clips are decoded: probe a file, decode frames at analysis size and mono audio."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np

from generators.errors import MediaError

# Containers and codecs that hold still images: PyAV opens them as one-frame "videos".
_IMAGE_FORMATS = {
    "image2",
    "png_pipe",
    "jpeg_pipe",
    "webp_pipe",
    "bmp_pipe",
    "gif",
    "tiff_pipe",
    "image2pipe",
    "webp",
    "apng",
}
_IMAGE_CODECS = {"png", "bmp", "tiff", "webp", "gif", "apng"}
# A clip whose frame intervals deviate from the median by more than this share is called VFR.
_VFR_TOLERANCE = 0.10
_PENDING_FRAMES = 8  # decoded frames waiting for RGB conversion


@dataclass(frozen=True)
class ClipInfo:
    """Facts about a clip file, read from its container without decoding frames."""

    path: str
    container: str
    duration_s: float
    video_codec: str | None
    width: int
    height: int
    fps: float
    n_frames: int
    variable_frame_rate: bool
    video_start_s: float
    has_audio: bool
    audio_codec: str | None
    sample_rate: int | None
    audio_channels: int | None
    audio_start_s: float
    audio_duration_s: float


@dataclass
class DecodedClip:
    """Frames at analysis size and mono audio, on one timeline (the container's)."""

    info: ClipInfo
    frames: np.ndarray  # (T, h, w, 3) uint8 RGB at analysis size (longest side <= max_side)
    frame_times: np.ndarray  # (T,) float64 seconds, presentation times (stream start honoured)
    audio: np.ndarray | None  # (S,) float32 mono in [-1, 1]; sample 0 plays at audio_start_s
    audio_rate: int
    audio_start_s: float  # start of audio relative to the video timeline

    @property
    def fps(self) -> float:
        return self.info.fps

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.info.fps if self.info.fps > 0 else 0.0

    # A few frames' luma at full resolution, evenly spaced: fine detail that the analysis size
    # would hide (a 360p render upscaled to 1080p looks the same as 1080p at 640 pixels).
    detail_frames: list[np.ndarray] = field(default_factory=list)
    # The audio as decoded, before the mono downmix, resampling and clipping to [-1, 1]:
    # (channels, samples) float32 at native_audio_rate. A downmix hides one clipped channel and
    # 16 kHz cannot see above 8 kHz; None when not kept (or no audio).
    native_audio: np.ndarray | None = None
    native_audio_rate: int = 0


def _open(path: str) -> av.container.InputContainer:
    if not os.path.exists(path):
        raise MediaError(f"{path}: no such file")
    if os.path.isdir(path):
        raise MediaError(f"{path}: is a directory, not a video file")
    if os.path.getsize(path) == 0:
        raise MediaError(f"{path}: empty file")
    try:
        return av.open(path, mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(f"{path}: unreadable or corrupt media file ({exc})") from exc


def decode_soundtrack(path: str | os.PathLike) -> tuple[np.ndarray, int] | None:
    """A clip's whole audio track as (samples, 2) float32 at its own rate, or None without one.

    For putting one clip's sound under another clip (the metrics use `decode_clip`'s mono audio).
    """
    with _open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        rate = int(stream.rate or 48000)
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        chunks = []
        for frame in container.decode(stream):
            chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
        chunks.extend(out.to_ndarray() for out in resampler.resample(None))
    if not chunks:
        return None
    return np.concatenate(chunks, axis=1).T.astype(np.float32), rate


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _video_packet_times(container: av.container.InputContainer, stream) -> list[float]:
    times = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size > 0:
                times.append(float(packet.pts * stream.time_base))
    except av.error.FFmpegError as exc:
        raise MediaError(f"{container.name}: corrupt or truncated video stream ({exc})") from exc
    return sorted(times)


def _is_vfr(times: list[float]) -> bool:
    if len(times) < 3:
        return False
    steps = np.diff(np.asarray(times))
    median = float(np.median(steps))
    if median <= 0:
        return True
    off = np.abs(steps - median) > _VFR_TOLERANCE * median
    return bool(off.mean() > 0.01)


def probe_clip(path: str | os.PathLike) -> ClipInfo:
    """Read a clip's container facts; raise MediaError with the reason when it is not a video."""
    path = os.fspath(path)
    container = _open(path)
    with container:
        fmt = container.format.name
        if not container.streams.video:
            raise MediaError(f"{path}: no video stream")
        video = container.streams.video[0]
        codec = video.codec_context.name
        if set(fmt.split(",")) & _IMAGE_FORMATS or codec in _IMAGE_CODECS:
            raise MediaError(f"{path}: is an image ({codec}), not a video")
        width, height = int(video.codec_context.width), int(video.codec_context.height)
        if width <= 0 or height <= 0:
            raise MediaError(f"{path}: video stream has no frame size")
        rate = video.average_rate or video.guessed_rate or video.base_rate
        times = _video_packet_times(container, video)
        if not times:
            raise MediaError(f"{path}: video stream has zero frames")
        fps = float(rate) if rate else 0.0
        if fps <= 0 and len(times) > 1:
            fps = (len(times) - 1) / max(times[-1] - times[0], 1e-9)
        video_start = _seconds(video.start_time, video.time_base)
        video_start = times[0] if video_start is None else video_start
        audio_codec = sample_rate = channels = None
        audio_start = audio_duration = 0.0
        has_audio = bool(container.streams.audio)
        if has_audio:
            audio = container.streams.audio[0]
            audio_codec = audio.codec_context.name
            sample_rate = int(audio.codec_context.sample_rate or 0) or None
            channels = int(audio.codec_context.channels or 0) or None
            audio_start = _seconds(audio.start_time, audio.time_base) or 0.0
            audio_duration = _seconds(audio.duration, audio.time_base) or 0.0
        video_duration = len(times) / fps if fps > 0 else 0.0
        container_duration = (container.duration or 0) / av.time_base
        duration = max(video_duration, container_duration)
        return ClipInfo(
            path=path,
            container=fmt,
            duration_s=float(duration),
            video_codec=codec,
            width=width,
            height=height,
            fps=fps,
            n_frames=len(times),
            variable_frame_rate=_is_vfr(times),
            video_start_s=float(video_start),
            has_audio=has_audio,
            audio_codec=audio_codec,
            sample_rate=sample_rate,
            audio_channels=channels,
            audio_start_s=float(audio_start),
            audio_duration_s=float(audio_duration),
        )


def analysis_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Width and height scaled so the longest side is at most max_side (even, aspect kept)."""
    scale = min(1.0, max_side / max(width, height))
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


def _plane(plane) -> np.ndarray:
    rows = np.frombuffer(plane, np.uint8, count=plane.height * plane.line_size)
    return rows.reshape(plane.height, plane.line_size)[:, : plane.width]


def frame_to_rgb(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """An RGB uint8 (height, width, 3) array of a decoded frame.

    8-bit 4:2:0 frames are shrunk plane by plane with OpenCV and converted at the small size
    (BT.601 coefficients), about twice as fast as libswscale's single-threaded RGB conversion
    at full size; other pixel formats go through libswscale.
    """
    if (
        frame.format.name != "yuv420p"
        or width % 4
        or height % 4
        or frame.width < width
        or frame.height < height
    ):
        return frame.to_ndarray(format="rgb24", width=width, height=height)
    y, u, v = (_plane(p) for p in frame.planes)
    area = cv2.INTER_AREA
    small = np.concatenate(
        [
            cv2.resize(y, (width, height), interpolation=area),
            cv2.resize(u, (width // 2, height // 2), interpolation=area).reshape(
                height // 4, width
            ),
            cv2.resize(v, (width // 2, height // 2), interpolation=area).reshape(
                height // 4, width
            ),
        ]
    )
    return cv2.cvtColor(small, cv2.COLOR_YUV2RGB_I420)


def _luma(frame: av.VideoFrame) -> np.ndarray:
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"):
        return _plane(frame.planes[0]).copy()
    return frame.to_ndarray(format="gray")


def decode_clip(
    path: str | os.PathLike,
    max_side: int = 640,
    audio_rate: int = 16000,
    max_frames: int | None = None,
    detail_samples: int = 4,
    native_audio: bool = True,
) -> DecodedClip:
    """Decode a clip once: RGB frames at analysis size and mono float audio at audio_rate,
    plus `detail_samples` evenly spaced full-resolution luma frames and, with native_audio,
    the same decoded audio frames kept at their own rate and channels (float32, unclipped)."""
    info = probe_clip(path)
    n_expected = info.n_frames if max_frames is None else min(info.n_frames, max_frames)
    detail_at = {int(i) for i in np.linspace(0, max(n_expected - 1, 0), detail_samples + 2)[1:-1]}
    detail: list[np.ndarray] = []
    width, height = analysis_size(info.width, info.height, max_side)
    frames: list[np.ndarray] = []
    times: list[float] = []
    chunks: list[np.ndarray] = []
    native_chunks: list[np.ndarray] = []
    native_rate = 0
    audio_start: float | None = None
    container = _open(info.path)
    with container:
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        streams = [video]
        resampler = keeper = None
        if info.has_audio:
            streams.append(container.streams.audio[0])
            resampler = av.AudioResampler(format="flt", layout="mono", rate=audio_rate)
            if native_audio:
                # planar float at the stream's own rate and layout: for AAC (fltp) a pass-through
                keeper = av.AudioResampler(format="fltp")
        video_done = False
        # Frames are shrunk to RGB in a second thread while the decoder goes on (OpenCV and
        # FFmpeg release the GIL); a short queue bounds the full-size frames held meanwhile.
        convert = ThreadPoolExecutor(max_workers=1)
        pending: deque[Future] = deque()
        try:
            for packet in container.demux(*streams):
                if packet.stream.type == "video":
                    if video_done:
                        continue
                    for frame in packet.decode():
                        if len(times) in detail_at:
                            detail.append(_luma(frame))
                        pending.append(convert.submit(frame_to_rgb, frame, width, height))
                        while len(pending) > _PENDING_FRAMES:
                            frames.append(pending.popleft().result())
                        times.append(
                            float(frame.time) if frame.time is not None else len(times) / info.fps
                        )
                        if max_frames is not None and len(times) >= max_frames:
                            video_done = True
                            break
                elif resampler is not None:
                    for frame in packet.decode():
                        if audio_start is None and frame.time is not None:
                            audio_start = float(frame.time)
                        if keeper is not None:
                            native_rate = native_rate or int(frame.sample_rate)
                            try:
                                native_chunks.extend(o.to_ndarray() for o in keeper.resample(frame))
                            except ValueError:  # the layout or rate changed mid-stream: skip it
                                keeper, native_chunks = None, []
                        for out in resampler.resample(frame):
                            chunks.append(out.to_ndarray().reshape(-1))
                if (
                    video_done
                    and max_frames is not None
                    and chunks
                    and sum(len(c) for c in chunks) / audio_rate
                    > max_frames / max(info.fps, 1e-9) + 1.0
                ):
                    break
            if resampler is not None:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray().reshape(-1))
            if keeper is not None:
                native_chunks.extend(o.to_ndarray() for o in keeper.resample(None))
        except av.error.FFmpegError as exc:
            if not frames and not pending:
                raise MediaError(
                    f"{info.path}: video stream decoded to zero frames (corrupt: {exc})"
                ) from exc
            # A damaged tail: keep what decoded and let the truncation check below judge it.
        finally:
            frames.extend(f.result() for f in pending)
            convert.shutdown()
    if not frames:
        raise MediaError(f"{info.path}: video stream decoded to zero frames")
    expected = info.n_frames if max_frames is None else min(info.n_frames, max_frames)
    if len(frames) < 0.9 * expected - 1:
        raise MediaError(
            f"{info.path}: truncated or corrupt: decoded {len(frames)} of {expected} frames"
        )
    order = np.argsort(np.asarray(times), kind="stable")
    frame_array = np.stack(frames)[order]
    audio = None
    if chunks:
        audio = np.clip(np.concatenate(chunks).astype(np.float32, copy=False), -1.0, 1.0)
        if audio.size == 0:
            audio = None
    native = _join_native(native_chunks) if audio is not None else None
    return DecodedClip(
        info=info,
        frames=frame_array,
        frame_times=np.asarray(times, dtype=np.float64)[order],
        audio=audio,
        audio_rate=audio_rate,
        audio_start_s=float(audio_start if audio_start is not None else info.audio_start_s),
        detail_frames=detail,
        native_audio=native,
        native_audio_rate=native_rate if native is not None else 0,
    )


def _join_native(chunks: list[np.ndarray]) -> np.ndarray | None:
    """Decoded planar chunks as one (channels, samples) float32 array; None when there are none
    or a mid-stream layout change leaves them with different channel counts."""
    chunks = [c for c in chunks if c.size]
    if not chunks or len({c.shape[0] for c in chunks}) > 1:
        return None
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False)


def iter_video_frames(path: str | os.PathLike) -> Iterator[tuple[float, av.VideoFrame]]:
    """Every frame of a clip's video at full size and in its own pixel format, with its
    presentation time in seconds, in presentation order (for re-encoding it; see rendition.py)."""
    info = probe_clip(path)
    with _open(info.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index = 0
        try:
            for frame in container.decode(stream):
                time = float(frame.time) if frame.time is not None else index / max(info.fps, 1)
                yield time, frame
                index += 1
        except av.error.FFmpegError as exc:
            raise MediaError(f"{info.path}: corrupt video stream at frame {index} ({exc})") from exc
    if index == 0:
        raise MediaError(f"{info.path}: video stream decoded to zero frames")
