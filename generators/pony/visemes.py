"""Mouth shapes from espeak-ng phoneme events: open, wide and round amounts per video frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.pony.speech import Phoneme

TRACK_RATE = 200  # Hz, the resolution of the mouth timeline before sampling at the frame rate

_OPEN_VOWELS = ("a", "A", "V", "aI", "aU", "&")
_ROUND = ("o", "O", "u", "U", "w", "y", "Y", "W")
_WIDE = ("i", "I", "e", "E", "j")
_CLOSED = ("p", "b", "m")
_LABIODENTAL = ("f", "v")


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame mouth pose: open in [0, 1], wide in [0, 1], round in [0, 1]."""

    open: np.ndarray
    wide: np.ndarray
    round: np.ndarray


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along the last axis (edges extended)."""
    r = int(3 * sigma) + 1
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    pad = [(0, 0)] * (x.ndim - 1) + [(r, r)]
    xp = np.pad(x, pad, mode="edge")
    out = np.apply_along_axis(lambda row: np.convolve(row, k, mode="valid"), -1, xp)
    return out.astype(np.float32)


def viseme_targets(name: str) -> tuple[float, float, float]:
    """(open, wide, round) target of one espeak phoneme mnemonic (stress marks ignored)."""
    core = name.lstrip("'\",%=").rstrip(";:#-")
    if not core or core.startswith("_"):
        return 0.0, 0.0, 0.0
    if core.startswith(_CLOSED):
        return 0.0, 0.0, 0.0
    if core.startswith(_LABIODENTAL):
        return 0.12, 0.2, 0.0
    if core.startswith(_OPEN_VOWELS):
        return 1.0, 0.2, 0.0
    if core.startswith(_ROUND):
        return (0.25 if core.startswith("w") else 0.55), 0.0, 1.0
    if core.startswith(_WIDE):
        return 0.4, 1.0, 0.0
    if core[0] in "@3":
        return 0.55, 0.3, 0.0
    if core[0] in "xXhHkgNq":
        return 0.35, 0.1, 0.0
    return 0.25, 0.35, 0.0  # other consonants: teeth close, lips relaxed


def _envelope(samples: np.ndarray, sample_rate: int, n: int) -> np.ndarray:
    hop = sample_rate // TRACK_RATE
    frames = np.zeros(n, np.float32)
    usable = min(len(samples) // hop, n)
    if usable:
        blocks = samples[: usable * hop].reshape(usable, hop).astype(np.float32)
        frames[:usable] = np.sqrt(np.mean(blocks**2, axis=1))
    frames = _smooth(frames, 3)
    ref = np.percentile(frames[frames > 1e-4], 90) if np.any(frames > 1e-4) else 1.0
    return np.clip(frames / max(ref, 1e-6), 0.0, 1.0)


def mouth_track(
    phonemes: list[Phoneme],
    speech: np.ndarray,
    sample_rate: int,
    duration_s: float,
    fps: int,
    n_frames: int,
) -> MouthTrack:
    """Mouth pose per video frame from phoneme events (absolute times) and the speech signal."""
    n = int(np.ceil(duration_s * TRACK_RATE)) + 1
    targets = np.zeros((3, n), np.float32)
    ordered = sorted(phonemes, key=lambda p: p.start_s)
    for i, ph in enumerate(ordered):
        start = int(ph.start_s * TRACK_RATE)
        end = int(ordered[i + 1].start_s * TRACK_RATE) if i + 1 < len(ordered) else start + 20
        if start >= n:
            break
        targets[:, max(start, 0) : min(end, n)] = np.array(viseme_targets(ph.name))[:, None]
    # lips move with inertia: about 30 ms of smoothing, like coarticulation
    targets = _smooth(targets, 6)
    gate = np.clip(_envelope(speech, sample_rate, n) * 1.8, 0.0, 1.0) ** 0.7
    targets[0] *= gate
    targets[1:] *= np.clip(gate * 2.0, 0.0, 1.0)
    times = np.arange(n_frames) / fps + 0.5 / fps
    idx = np.clip((times * TRACK_RATE).astype(int), 0, n - 1)
    return MouthTrack(targets[0, idx], targets[1, idx], targets[2, idx])
