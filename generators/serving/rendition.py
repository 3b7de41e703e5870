"""Serving renditions: any clip re-made in the pool's one format, cut to whole frames, padded.

A rendition carries nothing of the encoder or settings that made the original: H.264 High
yuv420p from one libx264 configuration (fixed GOP, no B-frames, BT.709 limited range, no x264
settings SEI), the pool's frame size (scaled to fit and padded, never stretched) and frame rate
(frames repeated or dropped by timestamp, never blended), AAC-LC at one rate, layout and bitrate
at one integrated loudness, in an mp4 with faststart, one video timescale, no edit list, no tags.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from pathlib import Path

import av
import numpy as np
from scipy import signal

from generators.decode import decode_soundtrack, iter_video_frames, probe_clip
from generators.encode import AUDIO_FRAME_SAMPLES, _audio_planar, _temp_path_for
from generators.errors import MediaError
from generators.serving.loudness import integrated_loudness, normalize_loudness
from generators.serving.profile import ServingProfile

LOUDNESS_PASSES = 4  # corrections of a served cut's gain after measuring what decodes
LOUDNESS_TOLERANCE_LU = 0.001
AUDIO_LOWPASS_HZ = 15000  # below the bandwidth of every common source codec and bitrate
VIDEO_TIMESCALE = 90000  # divisible by every common frame rate
CONTAINER_OPTIONS = {
    "movflags": "+faststart",
    "fflags": "+bitexact",  # no muxer version tag
    "use_editlist": "0",  # no edit list (AAC priming would otherwise write one)
    "video_track_timescale": str(VIDEO_TIMESCALE),
}
_BLACK_YUV = (16, 128, 128)  # limited range
# twoloop spends the bitrate it is given whatever the source; the fast coder spends less on
# clean sources than on ones already coded at a low rate, and so told the sources apart.
_AAC_CODER = "twoloop"


@dataclass(frozen=True)
class RenditionResult:
    """What was written: a rendition's frame count and byte size, and its format."""

    path: str
    frames: int
    bytes: int
    width: int
    height: int
    fps: int
    has_audio: bool
    loudness_lufs: float | None
    seconds: float


def fit_box(src_w: int, src_h: int, width: int, height: int) -> tuple[int, int, int, int]:
    """(w, h, x, y): the largest even w x h of the source's shape inside width x height, centred."""
    scale = min(width / src_w, height / src_h)
    w = min(width, max(2, int(round(src_w * scale / 2)) * 2))
    h = min(height, max(2, int(round(src_h * scale / 2)) * 2))
    return w, h, (width - w) // 4 * 2, (height - h) // 4 * 2


def strip_sei(data: bytes) -> bytes:
    """An Annex B access unit without its SEI NAL units (type 6: x264's settings string)."""
    starts = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i)
        i = data.find(b"\x00\x00\x01", i + 3)
    if not starts:
        return data
    out = bytearray(data[: starts[0]])
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(data)
        # A 4-byte start code's leading zero belongs to this NAL, not to the previous one.
        if n + 1 < len(starts) and end > 0 and data[end - 1] == 0:
            end -= 1
        nal = data[start + 3 : end]
        if nal and nal[0] & 0x1F != 6:
            out += b"\x00\x00\x00\x01" + nal
    return bytes(out)


def _x264_params(profile: ServingProfile) -> str:
    gop = profile.gop_frames
    rate = profile.max_bitrate_kbps
    return ":".join(
        [
            f"keyint={gop}",
            f"min-keyint={gop}",
            "scenecut=0",
            "bframes=0",
            "open-gop=0",
            f"vbv-maxrate={rate}",
            f"vbv-bufsize={2 * rate}",
            "colorprim=bt709",
            "transfer=bt709",
            "colormatrix=bt709",
            "range=tv",
            "mbtree=0",  # see encode.py: uninitialised reads at some widths with it on
        ]
    )


def _video_stream(out: av.container.OutputContainer, profile: ServingProfile, w: int, h: int):
    stream = out.add_stream("libx264", rate=profile.fps)
    stream.width, stream.height = w, h
    stream.pix_fmt = "yuv420p"
    stream.time_base = Fraction(1, profile.fps)
    stream.options = {
        "preset": profile.preset,
        "crf": str(profile.crf),
        "profile": "high",
        "x264-params": _x264_params(profile),
    }
    stream.codec_context.thread_count = min(8, max(2, os.cpu_count() or 2))
    return stream


def _to_serving_frame(frame: av.VideoFrame, box: tuple[int, int, int, int], size: tuple[int, int]):
    """The frame scaled into its box on a black canvas, as BT.709 limited-range yuv420p."""
    w, h, x, y = box
    width, height = size
    full_range = frame.format.name.startswith("yuvj") or int(frame.color_range or 0) == 2
    scaled = frame.reformat(
        width=w,
        height=h,
        format="yuv420p",
        dst_colorspace="ITU709",
        src_color_range="JPEG" if full_range else "MPEG",
        dst_color_range="MPEG",
        interpolation="BICUBIC",
    )
    planes = scaled.to_ndarray()  # (h * 3 / 2, w) I420
    canvas = np.empty((height * 3 // 2, width), np.uint8)
    luma = canvas[:height]
    luma[:] = _BLACK_YUV[0]
    luma[y : y + h, x : x + w] = planes[:h]
    chroma = canvas[height:].reshape(2, height // 2, width // 2)
    chroma[:] = _BLACK_YUV[1]
    src_chroma = planes[h:].reshape(2, h // 2, w // 2)
    chroma[:, y // 2 : y // 2 + h // 2, x // 2 : x // 2 + w // 2] = src_chroma
    out = av.VideoFrame.from_ndarray(canvas, format="yuv420p")
    out.colorspace = 1  # BT.709 (AVCOL_SPC_BT709)
    out.color_range = 1  # limited (AVCOL_RANGE_MPEG)
    return out


def _mux_video(out, stream, frame: av.VideoFrame | None) -> None:
    for packet in stream.encode(frame):
        data = bytes(packet)
        clean = strip_sei(data)
        if clean != data:
            fresh = av.Packet(clean)
            fresh.pts, fresh.dts, fresh.time_base = packet.pts, packet.dts, packet.time_base
            fresh.is_keyframe = packet.is_keyframe
            fresh.stream = stream
            packet = fresh
        out.mux(packet)


def _serving_audio(src: str, info, profile: ServingProfile, seconds: float) -> np.ndarray | None:
    """The clip's sound at the profile's rate and layout, on the video's timeline, normalised."""
    track = decode_soundtrack(src)
    if track is None:
        return None
    audio, rate = track
    if rate != profile.sample_rate:
        g = gcd(rate, profile.sample_rate)
        audio = signal.resample_poly(audio, profile.sample_rate // g, rate // g, axis=0)
    if profile.channels == 1:
        audio = audio.mean(axis=1, keepdims=True)
    sr = profile.sample_rate
    offset = int(round((info.audio_start_s - info.video_start_s) * sr))
    if offset > 0:
        audio = np.concatenate([np.zeros((offset, audio.shape[1]), audio.dtype), audio])
    elif offset < 0:
        audio = audio[-offset:]
    n = int(round(seconds * sr))
    if len(audio) < n:
        audio = np.concatenate([audio, np.zeros((n - len(audio), audio.shape[1]), audio.dtype)])
    audio = audio[:n]
    # Every source's encoder cuts its own top band (AAC at 44.1 kHz, Opus at 20 kHz, low bitrates
    # lower still); a steep low-pass below all of them removes that signature of the source.
    lowpass = signal.butter(8, AUDIO_LOWPASS_HZ, fs=sr, output="sos")
    audio = signal.sosfiltfilt(lowpass, audio, axis=0)
    return normalize_loudness(audio, sr, profile.loudness_lufs, profile.true_peak_dbtp)


def make_rendition(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    profile: ServingProfile,
    max_frames: int | None = None,
) -> RenditionResult:
    """Write the serving rendition of `src` at `dst` (atomically); MediaError naming the clip when
    it cannot be read or comes to zero frames. max_frames: cut to at most this many frames."""
    started = time.perf_counter()
    src = os.fspath(src)
    info = probe_clip(src)
    if info.fps <= 0:
        raise MediaError(f"{src}: video stream has no frame rate")
    fps = profile.fps
    n_out = int(round(info.n_frames / info.fps * fps))
    if max_frames is not None:
        n_out = min(n_out, max_frames)
    if n_out <= 0:
        raise MediaError(f"{src}: zero frames at {fps} fps after the cut")
    size = profile.size_for(info.width, info.height)
    box = fit_box(info.width, info.height, *size)
    audio = _serving_audio(src, info, profile, n_out / fps)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path_for(dst)
    try:
        with av.open(str(tmp), mode="w", format="mp4", options=CONTAINER_OPTIONS) as out:
            vstream = _video_stream(out, profile, *size)
            astream = _audio_stream(out, profile) if audio is not None else None
            written = 0
            held = None  # the latest source frame at or before the next output time
            first_time = None
            for t, frame in iter_video_frames(src):
                first_time = t if first_time is None else first_time
                # Sample and hold: output frame k shows the last source frame shown by k / fps.
                while (
                    held is not None and written < n_out and written / fps < t - first_time - 1e-6
                ):
                    _emit(out, vstream, held, written, fps)
                    written += 1
                if written >= n_out:
                    break
                held = _to_serving_frame(frame, box, size)
            while held is not None and written < n_out:
                _emit(out, vstream, held, written, fps)
                written += 1
            _mux_video(out, vstream, None)
            if astream is not None and audio is not None:
                _mux_audio(out, astream, _audio_planar(audio), profile.sample_rate)
        os.replace(tmp, dst)
    except av.error.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(f"{src}: cannot be rendered ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    lufs = None
    if audio is not None:
        lufs = integrated_loudness(audio, profile.sample_rate)
    return RenditionResult(
        path=str(dst),
        frames=written,
        bytes=dst.stat().st_size,
        width=size[0],
        height=size[1],
        fps=fps,
        has_audio=audio is not None,
        loudness_lufs=lufs,
        seconds=time.perf_counter() - started,
    )


def _mux_audio(out, stream, planar: np.ndarray, rate: int) -> None:
    """Encode and mux audio with its packets moved to start at 0: the encoder's priming packet
    comes out at a negative time, which without an edit list would shift the video instead."""
    layout = "stereo" if planar.shape[0] == 2 else "mono"
    shift = None
    frames = [None]
    for start in range(0, planar.shape[1], AUDIO_FRAME_SAMPLES):
        chunk = np.ascontiguousarray(planar[:, start : start + AUDIO_FRAME_SAMPLES])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        frames.insert(-1, frame)
    for frame in frames:
        for packet in stream.encode(frame):
            if shift is None:
                shift = -min(packet.pts or 0, 0)
            packet.pts += shift
            packet.dts += shift
            out.mux(packet)


def _emit(out, stream, frame: av.VideoFrame, index: int, fps: int) -> None:
    frame.pts = index
    frame.time_base = Fraction(1, fps)
    _mux_video(out, stream, frame)


def cut_to_frames(
    rendition: str | os.PathLike,
    dst: str | os.PathLike,
    n_frames: int,
    profile: ServingProfile,
    original: str | os.PathLike,
) -> int:
    """A rendition's first n_frames frames, as served: video packets copied (a rendition has no
    B-frames, so every kept frame still decodes), and the original's sound under exactly those
    frames, normalised again over that length and encoded as the profile says (so a cut clip's
    loudness is as exactly on target as an uncut one's). Returns the frames kept; MediaError for
    a cut to zero frames."""
    if n_frames <= 0:
        raise MediaError(f"{rendition}: zero length after the cut")
    info = probe_clip(rendition)
    dst = Path(dst)
    tmp = _temp_path_for(dst)
    kept = 0
    try:
        audio = None
        if info.has_audio:
            source = probe_clip(original)
            audio = _serving_audio(os.fspath(original), source, profile, n_frames / profile.fps)
        best = None  # (error in LU, gain) of the pass closest to the target
        gain = np.float32(1.0)
        for _ in range(1 + LOUDNESS_PASSES):
            kept = _write_cut(rendition, tmp, n_frames, profile, audio, gain)
            if audio is None:
                break
            # AAC coding moves the loudness a little, by how much depends on the source (the
            # audit read it): measure what decodes and correct the gain. The coder's choices
            # move with the gain, so passes land near, not on, the target: keep the closest.
            track = decode_soundtrack(tmp)
            measured = integrated_loudness(*track) if track is not None else None
            if measured is None:
                break
            error = measured - profile.loudness_lufs
            if best is None or abs(error) < abs(best[0]):
                best = (error, gain)
            if abs(error) <= LOUDNESS_TOLERANCE_LU:
                break
            gain = np.float32(gain * 10 ** (-error / 20))
        else:
            if best is not None and best[1] != gain:
                kept = _write_cut(rendition, tmp, n_frames, profile, audio, best[1])
        os.replace(tmp, dst)
    except av.error.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(f"{rendition}: cannot be cut ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return kept


def _write_cut(rendition, tmp: Path, n_frames: int, profile: ServingProfile, audio, gain) -> int:
    """Write the cut at tmp: the first n_frames video packets, and `audio` times gain encoded."""
    kept = 0
    with (
        av.open(os.fspath(rendition)) as inp,
        av.open(str(tmp), mode="w", format="mp4", options=CONTAINER_OPTIONS) as out,
    ):
        video_in = inp.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        video_out.metadata.clear()
        astream = _audio_stream(out, profile) if audio is not None else None
        for packet in inp.demux(video_in):
            if packet.dts is None or packet.pts is None or kept >= n_frames:
                continue
            kept += 1
            packet.stream = video_out
            out.mux(packet)
        if astream is not None and audio is not None:
            _mux_audio(out, astream, _audio_planar(audio * gain), profile.sample_rate)
    return kept


def _audio_stream(out: av.container.OutputContainer, profile: ServingProfile):
    layout = "stereo" if profile.channels == 2 else "mono"
    stream = out.add_stream("aac", rate=profile.sample_rate, layout=layout)
    stream.bit_rate = profile.audio_bitrate_kbps * 1000
    stream.options = {"aac_coder": _AAC_CODER, "profile": "aac_low"}
    return stream
