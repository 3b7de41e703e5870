"""Programme loudness (ITU-R BS.1770-4 / EBU R128) and true peak, and normalising a track to both.

Pure numpy/scipy on float arrays (samples, channels) in [-1, 1]: K-weighting, 400 ms blocks with
75% overlap, absolute (-70 LUFS) and relative (-10 LU) gates, and true peak from 4x oversampling.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

ABSOLUTE_GATE_LUFS = -70.0
OVERSAMPLE = 4  # BS.1770-4 annex 2: 4x is enough at 48 kHz
LIMITER_WINDOW_S = 0.005  # the limiter reaches full attenuation this long before a peak


def _k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770 K-weighting (high shelf + high pass) as two biquads designed for `rate`."""
    gain_db, q, fc = 4.0, 1 / np.sqrt(2), 1500.0
    a_gain = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * fc / rate
    alpha = np.sin(w0) / (2 * q)
    cos = np.cos(w0)
    root = 2 * np.sqrt(a_gain) * alpha
    shelf_b = np.array(
        [
            a_gain * ((a_gain + 1) + (a_gain - 1) * cos + root),
            -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos),
            a_gain * ((a_gain + 1) + (a_gain - 1) * cos - root),
        ]
    )
    shelf_a = np.array(
        [
            (a_gain + 1) - (a_gain - 1) * cos + root,
            2 * ((a_gain - 1) - (a_gain + 1) * cos),
            (a_gain + 1) - (a_gain - 1) * cos - root,
        ]
    )
    w0 = 2 * np.pi * 38.0 / rate
    alpha = np.sin(w0) / (2 * 0.5)
    cos = np.cos(w0)
    hp_b = np.array([1.0, -2.0, 1.0]) * (1 + cos) / 2
    hp_a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    return [(shelf_b / shelf_a[0], shelf_a / shelf_a[0]), (hp_b / hp_a[0], hp_a / hp_a[0])]


def _channels(audio: np.ndarray) -> np.ndarray:
    arr = np.asarray(audio, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def integrated_loudness(audio: np.ndarray, rate: int) -> float | None:
    """Gated integrated loudness in LUFS of (samples,) or (samples, channels) audio.

    Left and right (and mono) channels weigh 1, as BS.1770 gives them. None when every block is
    gated out (silence) or the track is shorter than one 400 ms block.
    """
    x = _channels(audio)
    for b, a in _k_weighting(rate):
        x = signal.lfilter(b, a, x, axis=0)
    block, hop = int(0.4 * rate), int(0.1 * rate)
    if len(x) < block:
        return None
    # Mean square per 100 ms hop, then per 400 ms block as four hops: one pass over the samples.
    n_hops = len(x) // hop
    hops = (x[: n_hops * hop] ** 2).reshape(n_hops, hop, -1).mean(axis=1)
    per = block // hop
    blocks = np.stack([hops[i : n_hops - per + 1 + i] for i in range(per)]).mean(axis=0)
    power = blocks.sum(axis=1)  # channel weights are all 1
    loud = -0.691 + 10 * np.log10(power + 1e-20)
    kept = power[loud > ABSOLUTE_GATE_LUFS]
    if len(kept) == 0:
        return None
    relative = -0.691 + 10 * np.log10(kept.mean()) - 10.0
    kept = kept[-0.691 + 10 * np.log10(kept) > relative]
    return float(-0.691 + 10 * np.log10(kept.mean())) if len(kept) else None


def _peak_envelope(audio: np.ndarray) -> np.ndarray:
    """Per input sample, the largest absolute value of the 4x oversampled signal near it."""
    x = _channels(audio)
    up = signal.resample_poly(x, OVERSAMPLE, 1, axis=0)[: len(x) * OVERSAMPLE]
    # One reduction over (oversamples, channels) per sample: far faster than two small ones.
    return np.abs(up).reshape(len(x), OVERSAMPLE * x.shape[1]).max(axis=1)


def true_peak_dbtp(audio: np.ndarray) -> float:
    """True peak in dBTP (4x oversampled, BS.1770-4 annex 2)."""
    env = _peak_envelope(audio)
    return float(20 * np.log10(max(float(env.max(initial=0.0)), 1e-12)))


def _limit(audio: np.ndarray, rate: int, ceiling: float) -> np.ndarray:
    """A look-ahead peak limiter: gain <= ceiling / true peak around every sample, smoothed.

    A minimum filter twice the smoothing width followed by a moving average keeps every smoothed
    gain at or below what each sample needs, so no peak passes the ceiling.
    """
    env = _peak_envelope(audio)
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
    if need.min() >= 1.0:
        return audio
    width = max(1, int(LIMITER_WINDOW_S * rate))
    gain = ndimage.minimum_filter1d(need, size=2 * width + 1, mode="nearest")
    gain = ndimage.uniform_filter1d(gain, size=width, mode="nearest")
    gain = np.minimum(gain, need)
    return audio * gain[:, None] if audio.ndim == 2 else audio * gain


def normalize_loudness(
    audio: np.ndarray, rate: int, target_lufs: float, max_true_peak_dbtp: float
) -> np.ndarray:
    """Audio at `target_lufs` integrated loudness with true peak at most `max_true_peak_dbtp`.

    Gain first, then the limiter on the peaks it pushed over the ceiling; a second round of gain
    and limiting wins back most of the loudness the limiter took. Silence stays silence.
    """
    x = np.asarray(audio, dtype=np.float64)
    ceiling = 10 ** (max_true_peak_dbtp / 20)
    for _ in range(2):
        measured = integrated_loudness(x, rate)
        if measured is None:
            break
        x = x * 10 ** ((target_lufs - measured) / 20)
        x = _limit(x, rate, ceiling)
    # Resampling ripple can leave a true peak a hair over the ceiling: scale it in, never clip.
    peak = 10 ** (true_peak_dbtp(x) / 20)
    if peak > ceiling:
        x = x * (ceiling / peak)
    return x.astype(np.float32)
