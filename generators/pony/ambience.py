"""Ambient sound for pony: rain, traffic, wind, waves, crowd, birds, room tone and footsteps."""

from __future__ import annotations

import numpy as np

from generators.pony.animals import ANIMAL_SOUNDS

SOUNDS = ("rain", "traffic", "wind", "waves", "crowd", "birds", "crickets", "room", "footsteps",
          "cat", "dog", "horse")


def _band(x: np.ndarray, sr: int, lo: float | None, hi: float | None, order: int = 2) -> np.ndarray:
    """Butterworth-shaped band/high/low-pass applied in the frequency domain (zero phase)."""
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    gain = np.ones_like(f)
    if lo:
        gain /= np.sqrt(1.0 + (lo / np.maximum(f, 1e-3)) ** (2 * order))
    if hi:
        gain /= np.sqrt(1.0 + (f / hi) ** (2 * order))
    return np.fft.irfft(spectrum * gain, len(x)).astype(np.float32)


def _slow(rng: np.random.Generator, n: int, sr: int, rate_hz: float) -> np.ndarray:
    """A smooth random curve in [0, 1] varying at about rate_hz."""
    k = max(int(n / sr * rate_hz) + 3, 4)
    knots = rng.random(k)
    return np.interp(np.linspace(0, k - 1, n), np.arange(k), knots).astype(np.float32)


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    out = np.fft.irfft(spectrum / np.sqrt(f), n)
    return (out / (np.std(out) + 1e-9)).astype(np.float32)


def _rms_to(x: np.ndarray, rms: float) -> np.ndarray:
    return (x * (rms / (np.sqrt(np.mean(x**2)) + 1e-9))).astype(np.float32)


def rain(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    hiss = _band(rng.standard_normal(n), sr, 1200, 9000)
    drops = np.zeros(n, np.float32)
    for t in rng.integers(0, n, size=int(n / sr * 90)):
        m = min(n - t, int(0.012 * sr))
        drops[t:t + m] += rng.uniform(0.3, 1.0) * np.exp(-np.arange(m) / (0.002 * sr))
    drops = _band(drops * rng.standard_normal(n).astype(np.float32), sr, 2000, 12000)
    return _rms_to(hiss, 1.0) + _rms_to(drops, 0.6)


def traffic(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    rumble = _band(_pink(rng, n), sr, 30, 400) * (0.5 + 0.5 * _slow(rng, n, sr, 0.3))
    out = _rms_to(rumble, 0.6)
    t = np.arange(n) / sr
    for _ in range(max(1, int(n / sr / 3))):  # cars passing by
        center, width = rng.uniform(0, n / sr), rng.uniform(0.8, 2.0)
        env = np.exp(-0.5 * ((t - center) / width) ** 2).astype(np.float32)
        car = _band(rng.standard_normal(n), sr, 60, rng.uniform(600, 1500))
        out += _rms_to(car, 1.0) * env
    return out


def wind(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    gust = 0.3 + 0.7 * _slow(rng, n, sr, 0.4)
    low = _band(_pink(rng, n), sr, 80, 600)
    high = _band(rng.standard_normal(n), sr, 500, 1800) * _slow(rng, n, sr, 0.8)
    return (_rms_to(low, 1.0) + _rms_to(high, 0.3)) * gust


def waves(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    period = rng.uniform(5.0, 8.0)
    phase = rng.uniform(0, period)
    swell = (np.sin(2 * np.pi * (t + phase) / period) * 0.5 + 0.5) ** 3
    surf = _band(_pink(rng, n), sr, 150, 5000)
    return _rms_to(surf, 1.0) * (0.15 + swell.astype(np.float32))


def crowd(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    t = np.arange(n) / sr
    for _ in range(5):  # murmuring voices: formant-band noise at syllable rate
        syll = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5.5) * t + rng.uniform(0, 6)), 0, None)
        voice = _band(rng.standard_normal(n), sr, rng.uniform(250, 500), rng.uniform(1500, 3000))
        out += _rms_to(voice, 1.0) * (syll * _slow(rng, n, sr, 0.5)).astype(np.float32)
    return out


def birds(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    for _ in range(int(n / sr * 1.2)):
        start = int(rng.integers(0, max(n - sr // 2, 1)))
        for k in range(int(rng.integers(2, 6))):
            m = int(rng.uniform(0.05, 0.12) * sr)
            s = start + k * int(0.13 * sr)
            if s + m > n:
                break
            tt = np.arange(m) / sr
            f = rng.uniform(2500, 4500) + rng.uniform(-1500, 1500) * tt / tt[-1]
            chirp = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.sin(np.pi * tt / tt[-1]) ** 2
            out[s:s + m] += chirp.astype(np.float32) * rng.uniform(0.4, 1.0)
    return out


def crickets(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    tone = np.sin(2 * np.pi * 4400 * t)
    pulse = (np.sin(2 * np.pi * 30 * t) > 0.3) * (np.sin(2 * np.pi * 0.9 * t) > 0)
    return (tone * pulse).astype(np.float32)


def room(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    hum = 0.05 * np.sin(2 * np.pi * 100 * t)
    return _band(_pink(rng, n), sr, None, 900) + hum.astype(np.float32)


def footsteps(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    step_s = rng.uniform(0.48, 0.6)
    m = int(0.09 * sr)
    for k, t in enumerate(np.arange(rng.uniform(0.2, 0.6), n / sr - 0.1, step_s)):
        s = int((t + rng.normal(0, 0.015)) * sr)
        s = max(0, min(s, n - m))
        burst = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.018 * sr))
        out[s:s + m] += burst.astype(np.float32) * (1.0 if k % 2 else 0.8)
    return _band(out, sr, 60, 2500)


_MAKERS = {"rain": rain, "traffic": traffic, "wind": wind, "waves": waves, "crowd": crowd,
           "birds": birds, "crickets": crickets, "room": room, "footsteps": footsteps,
           **ANIMAL_SOUNDS}
# loudness of each sound in the bed relative to the others (rms)
_LEVELS = {"rain": 1.0, "traffic": 0.8, "wind": 0.7, "waves": 1.0, "crowd": 0.5, "birds": 0.35,
           "crickets": 0.12, "room": 0.3, "footsteps": 0.6, "cat": 0.5, "dog": 0.55,
           "horse": 0.5}


_POINT_SOURCES = ("footsteps", "birds", "crickets", "cat", "dog", "horse")
FADE_S = 0.05  # the bed fades in and out over this at the clip's ends


def ambience(sounds: tuple[str, ...], duration_s: float, sample_rate: int, seed: int) -> np.ndarray:
    """A stereo (samples, 2) float32 ambient bed with unit-ish RMS, deterministic for the seed."""
    n = int(round(duration_s * sample_rate))
    bed = np.zeros((n, 2), np.float32)
    for i, name in enumerate(sounds):
        if name in _POINT_SOURCES:  # one source, slightly off centre
            sig = _MAKERS[name](np.random.default_rng([seed, i, SOUNDS.index(name)]), n,
                                sample_rate)
            sig = _rms_to(sig, _LEVELS[name])
            bed[:, 0] += sig
            bed[:, 1] += 0.8 * sig
            continue
        for ch in range(2):  # independent left/right noise gives the bed width
            rng = np.random.default_rng([seed, i, ch, SOUNDS.index(name)])
            bed[:, ch] += _rms_to(_MAKERS[name](rng, n, sample_rate), _LEVELS[name])
    fade = min(int(FADE_S * sample_rate), n // 2)
    if fade:
        ramp = np.linspace(0, 1, fade, dtype=np.float32)[:, None]
        bed[:fade] *= ramp
        bed[-fade:] *= ramp[::-1]
    return bed
