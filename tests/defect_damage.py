"""Sound damage for the audio-defect tests: clip, low-pass, pink noise, dropouts, then AAC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal

from generators.decode import decode_clip, decode_soundtrack
from generators.encode import encode_clip
from metrics.audio_defects import AUDIO_DEFECTS
from metrics.base import ClipContext, MetricResult, MetricsConfig


def native_track(path: str | Path, seconds: float | None = None) -> tuple[np.ndarray, int]:
    """A clip's decoded audio at its own rate, (2, samples) float32, cut to `seconds` (the
    sound alone is decoded: the 1080x1920 pictures of the real clips are not needed)."""
    track = decode_soundtrack(path)
    assert track is not None, f"{path} has no audio"
    x, rate = np.ascontiguousarray(track[0].T), track[1]
    if seconds is not None:
        x = x[:, : int(seconds * rate)]
    return np.ascontiguousarray(x), rate


def hard_clip(x: np.ndarray, gain_db: float = 20.0) -> np.ndarray:
    """Boosted by gain_db into a hard ceiling at digital full scale."""
    return np.clip(x * 10 ** (gain_db / 20), -1.0, 1.0).astype(np.float32)


def low_pass(x: np.ndarray, rate: int, hz: float = 2500.0) -> np.ndarray:
    """A steep (order 10, run forward and back) Butterworth low-pass."""
    sos = signal.butter(10, hz, btype="low", fs=rate, output="sos")
    return signal.sosfiltfilt(sos, x, axis=1).astype(np.float32)


def pink_noise(n: int, seed: int = 0) -> np.ndarray:
    """Unit-RMS pink (1/f power) noise."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n)
    return noise / np.sqrt(np.mean(noise**2))


def add_pink_noise(x: np.ndarray, below_db: float = 10.0, seed: int = 0) -> np.ndarray:
    """Pink noise mixed in below_db under the clean sound's mean (RMS) level."""
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    noise = pink_noise(x.shape[1], seed) * rms * 10 ** (-below_db / 20)
    return (x + noise[None, :]).astype(np.float32)


def loud_spots(x: np.ndarray, rate: int, count: int, width_s: float = 0.05) -> list[int]:
    """Start samples of `count` spots inside loud sound (speech, not pauses), spread over the
    clip: from width_s before a spot to width_s after it, every 10 ms is within 20 dB of the
    loud level."""
    hop = int(0.01 * rate)
    n = x.shape[1] // hop
    level = 10 * np.log10(np.mean(x[:, : n * hop].reshape(x.shape[0], n, hop) ** 2, (0, 2)) + 1e-12)
    loud = level >= np.percentile(level, 95) - 20
    span = int(round(width_s / 0.01))
    ok = np.array([loud[i - span : i + 2 * span].all() for i in range(span, n - 2 * span)])
    candidates = np.flatnonzero(ok) + span
    assert len(candidates) >= count, "too little loud sound for the dropouts"
    picks = candidates[np.linspace(0, len(candidates) - 1, count).round().astype(int)]
    return [int(p * hop) for p in picks]


def insert_dropouts(x: np.ndarray, rate: int, count: int = 3, width_s: float = 0.05):
    """`count` digital silences of width_s inside loud sound; returns (damaged, starts)."""
    out = x.copy()
    starts = loud_spots(x, rate, count, width_s)
    for start in starts:
        out[:, start : start + int(width_s * rate)] = 0.0
    return out, starts


def write_sound(path: Path, x: np.ndarray, rate: int) -> Path:
    """An mp4 with small grey frames under the sound (AAC, as encode_clip writes it)."""
    seconds = x.shape[1] / rate
    frames = (np.full((64, 64, 3), 90, np.uint8) for _ in range(max(1, int(seconds * 25))))
    encode_clip(
        path, frames, fps=25, width=64, height=64, audio=x.T, sample_rate=rate, preset="ultrafast"
    )
    return path


def score(path: str | Path, max_frames: int | None = None) -> MetricResult:
    """audio_defects of a clip file (its first max_frames), decoded as score_clip decodes it."""
    clip = decode_clip(path, max_frames=max_frames)
    ctx = ClipContext(path=str(path), clip=clip, config=MetricsConfig())
    return AUDIO_DEFECTS.compute(ctx)
