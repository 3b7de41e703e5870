"""MFCCs computed exactly as python_speech_features.mfcc does (the features SyncNet was trained on)."""

from __future__ import annotations

import math

import numpy as np
from scipy.fft import dct


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray | float:
    return 2595 * np.log10(1 + np.asarray(hz) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray | float:
    return 700 * (10 ** (np.asarray(mel) / 2595.0) - 1)


def mel_filterbank(
    n_filters: int = 26,
    nfft: int = 512,
    rate: int = 16000,
    low_hz: float = 0.0,
    high_hz: float | None = None,
) -> np.ndarray:
    """Triangular mel filters on FFT bins, (n_filters, nfft // 2 + 1)."""
    high_hz = high_hz or rate / 2
    mel_points = np.linspace(hz_to_mel(low_hz), hz_to_mel(high_hz), n_filters + 2)
    bins = np.floor((nfft + 1) * mel_to_hz(mel_points) / rate)
    bank = np.zeros((n_filters, nfft // 2 + 1))
    for j in range(n_filters):
        for i in range(int(bins[j]), int(bins[j + 1])):
            bank[j, i] = (i - bins[j]) / (bins[j + 1] - bins[j])
        for i in range(int(bins[j + 1]), int(bins[j + 2])):
            bank[j, i] = (bins[j + 2] - i) / (bins[j + 2] - bins[j + 1])
    return bank


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def frame_signal(x: np.ndarray, frame_len: float, frame_step: float) -> np.ndarray:
    """Overlapping frames, the last one zero-padded (python_speech_features.sigproc.framesig)."""
    frame_len, frame_step = _round_half_up(frame_len), _round_half_up(frame_step)
    n = len(x)
    count = 1 if n <= frame_len else 1 + int(math.ceil((n - frame_len) / frame_step))
    padded = np.concatenate([x, np.zeros(int((count - 1) * frame_step + frame_len) - n)])
    idx = np.arange(frame_len)[None, :] + (np.arange(count) * frame_step)[:, None]
    return padded[idx]


def mfcc(
    x: np.ndarray,
    rate: int = 16000,
    win_s: float = 0.025,
    hop_s: float = 0.01,
    n_ceps: int = 13,
    n_filters: int = 26,
    nfft: int = 512,
    preemph: float = 0.97,
    lifter: int = 22,
) -> np.ndarray:
    """(frames, n_ceps) MFCCs; coefficient 0 is the log frame energy (appendEnergy=True).

    x is in the sample scale the model expects (SyncNet: int16 values read from a WAV file).
    """
    x = np.asarray(x, dtype=np.float64)
    x = np.append(x[0], x[1:] - preemph * x[:-1])
    frames = frame_signal(x, win_s * rate, hop_s * rate)
    power = np.abs(np.fft.rfft(frames, nfft)) ** 2 / nfft
    energy = power.sum(axis=1)
    energy = np.where(energy == 0, np.finfo(float).eps, energy)
    feat = power @ mel_filterbank(n_filters, nfft, rate).T
    feat = np.where(feat == 0, np.finfo(float).eps, feat)
    ceps = dct(np.log(feat), type=2, axis=1, norm="ortho")[:, :n_ceps]
    if lifter > 0:
        ceps = ceps * (1 + (lifter / 2.0) * np.sin(np.pi * np.arange(n_ceps) / lifter))
    ceps[:, 0] = np.log(energy)
    return ceps
