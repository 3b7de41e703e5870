"""Audio track checks: presence, loudness (BS.1770-style, on the mono analysis track), silence."""

from __future__ import annotations

import numpy as np
from scipy import signal

from metrics.base import ClipContext, Metric, MetricResult

SILENCE_DBFS = -50.0  # a 50 ms window quieter than this counts as silence
DURATION_TOLERANCE_S = 0.1  # audio and video lengths may differ by this much (AAC framing)


def _k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """ITU-R BS.1770 K-weighting (high shelf + high pass) designed for any sample rate."""
    gain_db, q, fc = 4.0, 1 / np.sqrt(2), 1500.0
    a_gain = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * fc / rate
    alpha = np.sin(w0) / (2 * q)
    cos = np.cos(w0)
    shelf_b = np.array(
        [
            a_gain * ((a_gain + 1) + (a_gain - 1) * cos + 2 * np.sqrt(a_gain) * alpha),
            -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos),
            a_gain * ((a_gain + 1) + (a_gain - 1) * cos - 2 * np.sqrt(a_gain) * alpha),
        ]
    )
    shelf_a = np.array(
        [
            (a_gain + 1) - (a_gain - 1) * cos + 2 * np.sqrt(a_gain) * alpha,
            2 * ((a_gain - 1) - (a_gain + 1) * cos),
            (a_gain + 1) - (a_gain - 1) * cos - 2 * np.sqrt(a_gain) * alpha,
        ]
    )
    w0 = 2 * np.pi * 38.0 / rate
    alpha = np.sin(w0) / (2 * 0.5)
    cos = np.cos(w0)
    hp_b = np.array([1.0, -2.0, 1.0]) * (1 + cos) / 2
    hp_a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    return [(shelf_b / shelf_a[0], shelf_a / shelf_a[0]), (hp_b / hp_a[0], hp_a / hp_a[0])]


def integrated_loudness(audio: np.ndarray, rate: int) -> float | None:
    """Gated integrated loudness in LUFS (BS.1770-4 gating) of a mono track; None if all gated."""
    x = audio.astype(np.float64)
    for b, a in _k_weighting(rate):
        x = signal.lfilter(b, a, x)
    block, hop = int(0.4 * rate), int(0.1 * rate)
    if len(x) < block:
        return None
    starts = np.arange(0, len(x) - block + 1, hop)
    power = np.array([np.mean(x[s : s + block] ** 2) for s in starts])
    loudness = -0.691 + 10 * np.log10(power + 1e-20)
    kept = power[loudness > -70.0]
    if len(kept) == 0:
        return None
    relative = -0.691 + 10 * np.log10(kept.mean()) - 10.0
    kept = kept[-0.691 + 10 * np.log10(kept) > relative]
    return float(-0.691 + 10 * np.log10(kept.mean())) if len(kept) else None


def silence_ratio(audio: np.ndarray, rate: int, threshold_dbfs: float = SILENCE_DBFS) -> float:
    window = max(1, int(0.05 * rate))
    n = len(audio) // window
    if n == 0:
        return 1.0
    rms = np.sqrt(np.mean(audio[: n * window].reshape(n, window).astype(np.float64) ** 2, axis=1))
    return float(np.mean(20 * np.log10(rms + 1e-12) < threshold_dbfs))


def _compute(ctx: ClipContext) -> MetricResult:
    clip = ctx.clip
    params = {
        "analysis_rate": clip.audio_rate,
        "channels": "mono downmix",
        "silence_dbfs": SILENCE_DBFS,
    }
    if not clip.info.has_audio or clip.audio is None or len(clip.audio) == 0:
        return AUDIO.unavailable("no audio track", values={"has_audio": False}, params=params)
    audio = clip.audio
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    audio_s = len(audio) / clip.audio_rate
    video_s = clip.duration_s
    start_gap = clip.audio_start_s - float(clip.frame_times[0])
    mismatch = audio_s + start_gap - video_s
    lufs = integrated_loudness(audio, clip.audio_rate)
    values = {
        "has_audio": True,
        "loudness_lufs": None if lufs is None else round(lufs, 2),
        "rms_dbfs": round(float(20 * np.log10(rms + 1e-12)), 2),
        "peak_dbfs": round(float(20 * np.log10(float(np.max(np.abs(audio))) + 1e-12)), 2),
        "silence_ratio": round(silence_ratio(audio, clip.audio_rate), 4),
        "audio_duration_s": round(audio_s, 3),
        "video_duration_s": round(video_s, 3),
        "duration_mismatch_s": round(mismatch, 3),
        "abs_duration_mismatch_s": round(abs(mismatch), 3),
        "duration_ok": bool(abs(mismatch) <= DURATION_TOLERANCE_S),
        "audio_start_offset_s": round(start_gap, 4),
    }
    return AUDIO.result(values, params=params)


AUDIO = Metric(
    name="audio",
    version="1",
    backend="numpy+scipy",
    higher_is_better={"silence_ratio": False, "abs_duration_mismatch_s": False},
    units={
        "has_audio": "bool",
        "loudness_lufs": "LUFS (mono 16 kHz approximation)",
        "rms_dbfs": "dBFS",
        "peak_dbfs": "dBFS",
        "silence_ratio": "fraction",
        "audio_duration_s": "s",
        "video_duration_s": "s",
        "duration_mismatch_s": "s",
        "abs_duration_mismatch_s": "s",
        "duration_ok": "bool",
        "audio_start_offset_s": "s",
    },
    compute=_compute,
    description="audio presence, loudness, silence ratio and audio/video duration mismatch",
)
