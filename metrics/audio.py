"""Audio track checks: presence, loudness (BS.1770-style, on the mono analysis track), silence."""

from __future__ import annotations

import numpy as np

from generators.serving.loudness import (
    integrated_loudness,  # one BS.1770 meter: the renditions' too
)
from metrics.base import ClipContext, Metric, MetricResult

SILENCE_DBFS = -50.0  # a 50 ms window quieter than this counts as silence
DURATION_TOLERANCE_S = 0.1  # audio and video lengths may differ by this much (AAC framing)


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
    # Fraction of the clip with silent audio, and seconds of audio track longer or shorter
    # than the video. Spreads 0.
    tolerances={"silence_ratio": 0.1, "abs_duration_mismatch_s": 0.1},
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
