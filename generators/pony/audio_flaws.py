"""Sound flaws for pony's baselines: noise at a set SNR, hard clipping, ambience running late."""

from __future__ import annotations

import numpy as np

PEAK = 0.89  # -1 dBFS: the clean mix's ceiling, kept when noise is added
FULL_SCALE = 1.0


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS noise with equal power per octave (1/f), float32."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[0] = 0.0  # no DC
    f = np.maximum(np.arange(len(spectrum), dtype=np.float64), 1.0)
    out = np.fft.irfft(spectrum / np.sqrt(f), n)
    return (out / (np.std(out) + 1e-12)).astype(np.float32)


def add_noise(mix: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Pink noise (independent per channel) at `snr_db` below the mix's RMS over the clip.

    The sum is scaled down as a whole if it would pass -1 dBFS, so the ratio stays exact."""
    rng = np.random.default_rng([seed, 23])
    level = float(np.sqrt(np.mean(mix.astype(np.float64) ** 2)))
    noise = np.stack([pink_noise(rng, len(mix)) for _ in range(mix.shape[1])], axis=1)
    out = mix + noise * np.float32(level * 10 ** (-snr_db / 20))
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > PEAK:
        out *= PEAK / peak
    return out.astype(np.float32)


def hard_clip(mix: np.ndarray, gain_db: float) -> np.ndarray:
    """The mix boosted by `gain_db` into a hard ceiling at digital full scale."""
    boosted = mix * np.float32(10 ** (gain_db / 20))
    return np.clip(boosted, -FULL_SCALE, FULL_SCALE).astype(np.float32)


def loop_later(bed: np.ndarray, delay: int, fade: int) -> np.ndarray:
    """The bed played `delay` samples late (negative: early) without a silent start: the clip
    opens on the bed's own tail, cross-faded into its start over `fade` samples, and both ends
    fade like the bed's.

    A bed whose ends fade in and out over `fade` samples (pony's ambience) meets itself at the
    seam with the two ramps overlapping, so no gap or click shows where the loop joins.
    """
    if delay < 0:  # early: the same loop, backwards in time
        return loop_later(bed[::-1], -delay, fade)[::-1].copy()
    n = len(bed)
    delay = int(min(delay, n - fade - 1))
    if delay <= 0:
        return bed
    out = np.zeros_like(bed)
    out[: delay + fade] = bed[n - delay - fade :]  # the tail, ending in its fade-out
    out[delay:] += bed[: n - delay]  # the start, beginning with its fade-in, over that fade-out
    ramp = np.linspace(0, 1, fade, dtype=np.float32).reshape(-1, *([1] * (bed.ndim - 1)))
    out[:fade] *= ramp
    out[n - fade :] *= ramp[::-1]
    return out
