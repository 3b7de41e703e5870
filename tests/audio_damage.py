"""Known damage to a clip's sound for the audio metric tests: noise, clipping, muffling, room tone.

The damage works on mono float arrays (the analysis track the metrics see); `mux_audio` puts a
damaged track back under a clip's own video (packets copied, audio encoded as AAC) when a test
needs a file, and `sound_context` gives the metrics an in-memory clip of sound alone.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import shutil
import tempfile
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from scipy.signal import butter, sosfiltfilt

from generators.decode import DecodedClip, probe_clip
from metrics.base import ClipContext, MetricsConfig

RATE = 16000


def clip_audio(
    path: str | Path | io.BytesIO,
    rate: int = RATE,
    seconds: float | None = None,
    clip: bool = True,
) -> np.ndarray:
    """A clip's sound as the metrics decode it (mono float32 at `rate`, clipped to [-1, 1]
    unless `clip` is False), optionally its first `seconds` only; no video is decoded."""
    chunks = []
    with av.open(path if isinstance(path, io.BytesIO) else str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    audio = np.concatenate(chunks).astype(np.float32)
    audio = np.clip(audio, -1.0, 1.0) if clip else audio
    return audio[: int(seconds * rate)] if seconds else audio


def sound_context(
    audio: np.ndarray | None, prompt: str | None = None, like: str | Path | None = None
) -> ClipContext:
    """A clip context holding this sound (None: no audio track) under one blank frame."""
    info = probe_clip(like) if like is not None else _blank_info()
    seconds = 0.0 if audio is None else len(audio) / RATE
    info = replace(info, has_audio=audio is not None, duration_s=seconds, n_frames=1)
    clip = DecodedClip(
        info=info,
        frames=np.zeros((1, 8, 8, 3), np.uint8),
        frame_times=np.zeros(1),
        audio=None if audio is None else np.asarray(audio, np.float32),
        audio_rate=RATE,
        audio_start_s=0.0,
    )
    return ClipContext(path="<memory>", clip=clip, config=MetricsConfig(), prompt=prompt)


def _blank_info():
    from generators.decode import ClipInfo

    return ClipInfo(
        path="<memory>", container="mp4", duration_s=0.0, video_codec="h264", width=8,
        height=8, fps=25.0, n_frames=1, variable_frame_rate=False, video_start_s=0.0,
        has_audio=True, audio_codec="aac", sample_rate=RATE, audio_channels=1,
        audio_start_s=0.0, audio_duration_s=0.0,
    )  # fmt: skip


def mean_level_db(audio: np.ndarray) -> float:
    """The sound's mean level: RMS over the whole track, dB full scale."""
    return float(20 * np.log10(np.sqrt(np.mean(np.square(audio, dtype=np.float64))) + 1e-12))


def pink_noise(n: int, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """n samples of pink (1/f power) noise with unit RMS, nothing under 20 Hz: the inaudible
    bottom would otherwise take most of the power and make the level depend on the seed."""
    rng = np.random.default_rng(seed)
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1.0 / rate)
    shape = np.where(f >= 20.0, 1.0 / np.sqrt(np.maximum(f, 20.0)), 0.0)
    noise = np.fft.irfft(spectrum * shape, n)
    return noise / np.sqrt(np.mean(noise**2))


def add_pink_noise(audio: np.ndarray, db_below: float = 10.0, seed: int = 0) -> np.ndarray:
    """The sound with pink noise mixed in `db_below` dB under its mean level."""
    gain = 10 ** ((mean_level_db(audio) - db_below) / 20)
    mixed = audio.astype(np.float64) + gain * pink_noise(len(audio), seed)
    return np.clip(mixed, -1.0, 1.0).astype(np.float32)


def aac_round_trip(audio: np.ndarray, rate: int = RATE, bitrate: int = 96000) -> np.ndarray:
    """The sound encoded to AAC and decoded again (in memory), trimmed to its length."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=rate, layout="mono")
        stream.bit_rate = bitrate
        _mux_mono(out, stream, audio, rate)
    buffer.seek(0)
    return clip_audio(buffer, rate, clip=False)[: len(audio)]


def hard_clip_aac(audio: np.ndarray, rate: int = RATE, boost_db: float = 20.0) -> np.ndarray:
    """The sound boosted by `boost_db` into a hard ceiling at full scale, then through AAC
    (whose decoded peaks may overshoot 1: left as decoded, not clipped again)."""
    boosted = np.clip(audio.astype(np.float64) * 10 ** (boost_db / 20), -1.0, 1.0)
    return aac_round_trip(boosted.astype(np.float32), rate)


def low_pass(audio: np.ndarray, rate: int = RATE, cutoff_hz: float = 2500.0) -> np.ndarray:
    """The sound through a steep low-pass (Butterworth order 16, forward and back)."""
    sos = butter(16, cutoff_hz, btype="low", fs=rate, output="sos")
    return sosfiltfilt(sos, audio.astype(np.float64)).astype(np.float32)


def room_tone(n: int, rate: int = RATE, level_dbfs: float = -50.0, seed: int = 1) -> np.ndarray:
    """n samples of room tone: pink noise darkened above 4 kHz at `level_dbfs` RMS."""
    sos = butter(2, 4000.0, btype="low", fs=rate, output="sos")
    tone = sosfiltfilt(sos, pink_noise(n, seed))
    tone = tone / np.sqrt(np.mean(tone**2)) * 10 ** (level_dbfs / 20)
    return tone.astype(np.float32)


def replace_with_room_tone(audio: np.ndarray, rate: int = RATE, seed: int = 1) -> np.ndarray:
    """The sound taken out and room tone put in its place, at 30 dB under its mean level."""
    return room_tone(len(audio), rate, level_dbfs=mean_level_db(audio) - 30.0, seed=seed)


def mux_audio(
    video_path: str | Path, audio: np.ndarray | None, out_path: str | Path, rate: int = RATE
) -> Path:
    """A clip with `video_path`'s video (packets copied, not re-encoded) and `audio` as its
    sound (mono AAC); None leaves the clip without an audio track."""
    with av.open(str(video_path)) as src, av.open(str(out_path), mode="w") as out:
        vin = src.streams.video[0]
        vout = out.add_stream_from_template(vin)
        # every stream exists before the first packet is written (the header names them all)
        stream = None if audio is None else out.add_stream("aac", rate=rate, layout="mono")
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)
        if stream is not None:
            _mux_mono(out, stream, audio, rate)
    return Path(out_path)


def pony_clip(prompt: str, seed: int = 1, seconds: float = 4.0, folder: Path | None = None) -> Path:
    """A small pony clip (480p) of the prompt, with its sound. Without a folder it is made once
    per test session in a shared temporary folder, so test modules asking for the same scene
    share it."""
    if folder is None:
        return _shared_pony_clip(prompt, seed, seconds)
    from generators.base import GenerationRequest
    from generators.registry import build_generator

    digest = hashlib.sha256(f"{prompt}|{seed}|{seconds}".encode()).hexdigest()[:12]
    path = Path(folder) / f"pony-{digest}.mp4"
    request = GenerationRequest(prompt, seed=seed, duration_s=seconds, resolution="480p")
    build_generator("builtin:pony").generate(request, str(path))
    return path


@lru_cache(maxsize=64)
def _shared_pony_clip(prompt: str, seed: int, seconds: float) -> Path:
    return pony_clip(prompt, seed, seconds, folder=_shared_folder())


@lru_cache(maxsize=1)
def _shared_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="paddock-sound-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _mux_mono(out, stream, audio: np.ndarray, rate: int) -> None:
    """Encode mono float samples into `stream` of `out`, 1024 at a time, and flush it."""
    for k in range(0, len(audio), 1024):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(audio[None, k : k + 1024], np.float32), format="flt", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts, frame.time_base = k, Fraction(1, rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
