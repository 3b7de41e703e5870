"""Frame helpers every metric shares through ClipContext: small frames and shot cuts."""

from __future__ import annotations

import cv2
import numpy as np

FLOW_SIDE = 320  # optical flow and frame statistics run at this longest side
CUT_DISTANCE = 0.3  # histogram distance (0..1) that starts a new shot
CUT_RATIO = 4.0  # ... and stands out this much from its neighbours


def small_frames(frames: np.ndarray) -> np.ndarray:
    h, w = frames.shape[1:3]
    scale = min(1.0, FLOW_SIDE / max(h, w))
    if scale >= 1.0:
        return frames
    size = (max(8, int(round(w * scale))), max(8, int(round(h * scale))))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def _histograms(frames: np.ndarray, bins: int = 16) -> np.ndarray:
    thumbs = frames[:, ::4, ::4]
    quantised = (thumbs.astype(np.int32) * bins) // 256
    out = np.zeros((len(frames), 3, bins))
    for c in range(3):
        for i in range(len(frames)):
            out[i, c] = np.bincount(quantised[i, ..., c].ravel(), minlength=bins)
    return out / out.sum(axis=2, keepdims=True)


def detect_shot_cuts(frames: np.ndarray) -> list[int]:
    """Indices i where frame i starts a new shot (colour histogram jump against neighbours).
    Frames are best given at a small size (a few hundred pixels)."""
    if len(frames) < 2:
        return []
    hist = _histograms(frames)
    dist = 0.5 * np.abs(np.diff(hist, axis=0)).sum(axis=2).mean(axis=1)
    cuts = []
    for i, d in enumerate(dist):
        around = np.concatenate([dist[max(0, i - 5) : i], dist[i + 1 : i + 6]])
        base = float(np.median(around)) if len(around) else 0.0
        if d > CUT_DISTANCE and d > CUT_RATIO * max(base, 0.01):
            cuts.append(i + 1)
    return cuts
