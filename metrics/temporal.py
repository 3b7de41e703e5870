"""Temporal consistency: flicker (VBench), warping error, motion, frozen/duplicated frames, cuts."""

from __future__ import annotations

import cv2
import numpy as np

from metrics.base import ClipContext, Metric, MetricResult
from metrics.frames import FLOW_SIDE

PAIR_STRIDE = 2  # warping error on every other frame pair: half the cost, same mean
# A repeated frame: hardly any pixel changes by more than 8 grey levels (an encoder refining a
# still picture changes many pixels by 1-4 levels, mean < 0.5; real talking-head motion at
# 25 fps changes >= 0.2% of pixels by more than 8).
DUPLICATE_MAD = 0.6
DUPLICATE_CHANGED = 5e-4
FROZEN_MIN_REPEATS = 3  # a freeze is a run of at least this many repeated frames


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, flag in enumerate(mask):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - start))
            start = None
    if start is not None:
        runs.append((start, len(mask) - start))
    return runs


def repeated_frames(gray: np.ndarray) -> np.ndarray:
    """(T-1,) bool: frame i+1 repeats frame i."""
    diff = np.abs(np.diff(gray.astype(np.int16), axis=0))
    mad = diff.mean(axis=(1, 2))
    changed = (diff > 8).mean(axis=(1, 2))
    return (mad < DUPLICATE_MAD) & (changed < DUPLICATE_CHANGED)


def flicker_score(frames: np.ndarray) -> float:
    """VBench temporal flickering: (255 - mean absolute difference of consecutive frames) / 255."""
    diffs = [
        np.abs(frames[i + 1].astype(np.int16) - frames[i]).mean() for i in range(len(frames) - 1)
    ]
    return float((255.0 - np.mean(diffs)) / 255.0)


def warping_error(
    frames: np.ndarray, skip: np.ndarray | None = None, stride: int = 1
) -> tuple[float, float]:
    """Mean squared error (RGB in [0, 1]) between each frame and the next warped back by dense
    optical flow, over pixels a forward-backward check keeps (Lai et al. 2018); and the mean flow
    magnitude in pixels at this resolution. Pairs marked in skip (repeats, cuts) are left out;
    stride > 1 looks at every stride-th pair only."""
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    h, w = gray.shape[1:]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    errors, motion = [], []
    for i in range(0, len(frames) - 1, stride):
        if skip is not None and skip[i]:
            continue
        fw = dis.calc(gray[i], gray[i + 1], None)
        bw = dis.calc(gray[i + 1], gray[i], None)
        fx, fy = fw[..., 0], fw[..., 1]
        map_x, map_y = xs + fx, ys + fy
        bw_at = cv2.remap(bw, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        bx, by = bw_at[..., 0], bw_at[..., 1]
        # Forward-backward consistency (Sundaram et al. 2010): disagreeing flow means occlusion.
        fw_sq = fx * fx + fy * fy
        mismatch = (fx + bx) ** 2 + (fy + by) ** 2
        bound = 0.01 * (fw_sq + bx * bx + by * by) + 0.5
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        valid = (mismatch <= bound) & inside
        motion.append(float(cv2.sqrt(fw_sq).mean()))
        kept = int(np.count_nonzero(valid))
        if kept < 0.1 * valid.size:
            continue
        warped = cv2.remap(
            frames[i + 1], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        diff = cv2.absdiff(warped, frames[i]).astype(np.float32)
        squared = (diff * diff).sum(axis=2) if diff.ndim == 3 else diff * diff
        channels = frames.shape[3] if frames.ndim == 4 else 1
        errors.append(float(squared[valid].sum()) / (kept * channels * 255.0**2))
    return (
        float(np.mean(errors)) if errors else float("nan"),
        float(np.mean(motion)) if motion else 0.0,
    )


def _compute(ctx: ClipContext) -> MetricResult:
    clip = ctx.clip
    n = len(clip.frames)
    params = {
        "analysis_side": FLOW_SIDE,
        "flow": "DIS ultrafast",
        "pair_stride": PAIR_STRIDE,
        "duplicate_mad": DUPLICATE_MAD,
        "frozen_min_repeats": FROZEN_MIN_REPEATS,
    }
    if n < 3:
        return TEMPORAL.unavailable(
            f"too short: {n} frames, temporal metrics need 3", params=params
        )
    small = ctx.small_frames
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in small])
    repeats = repeated_frames(gray)
    cuts = ctx.shot_cuts
    skip = repeats.copy()
    for c in cuts:
        skip[c - 1] = True
    warp, motion_px = warping_error(small, skip, PAIR_STRIDE)
    frozen = [(s, length) for s, length in _runs(repeats) if length >= FROZEN_MIN_REPEATS]
    fps = clip.fps if clip.fps > 0 else 1.0
    diagonal = float(np.hypot(*small.shape[1:3]))
    values = {
        "flicker": round(flicker_score(small), 5),
        "warping_error": None if np.isnan(warp) else float(f"{warp:.4g}"),
        "motion": round(100.0 * motion_px / diagonal, 4),
        "duplicate_frames": int(repeats.sum()),
        "duplicate_ratio": round(float(repeats.mean()), 4),
        "frozen_runs": len(frozen),
        "frozen_s": round(sum(length for _, length in frozen) / fps, 3),
        "longest_freeze_s": round(max((length for _, length in frozen), default=0) / fps, 3),
        "shot_cuts": len(cuts),
    }
    return TEMPORAL.result(values, params=params)


TEMPORAL = Metric(
    name="temporal",
    version="1",
    backend="numpy+opencv-dis",
    higher_is_better={
        "flicker": True,
        "warping_error": False,
        "duplicate_ratio": False,
        "frozen_s": False,
    },
    tolerances={
        # (255 - mean absolute frame difference) / 255; 0.005 is about 1.3 grey levels per
        # frame. Spread 0.0023.
        "flicker": 0.005,
        # Optical-flow warping error (MSE, RGB 0..1). pony reads about 2.6e-4 with a spread of
        # 3.1e-5; 1e-4 (about 40% of pony's value, three spreads) is a visible rise in warping.
        "warping_error": 1e-4,
        # Fraction of frames that repeat the previous one. Spread 0.035.
        "duplicate_ratio": 0.05,
        # Seconds of frozen video. Spread 0.043.
        "frozen_s": 0.25,
    },
    units={
        "flicker": "(255-MAD)/255",
        "warping_error": "MSE (RGB 0..1)",
        "motion": "% of frame diagonal per frame",
        "duplicate_frames": "frames",
        "duplicate_ratio": "fraction",
        "frozen_runs": "count",
        "frozen_s": "s",
        "longest_freeze_s": "s",
        "shot_cuts": "count",
    },
    compute=_compute,
    description="VBench flicker, flow warping error, motion, frozen/duplicated frames, shot cuts",
)
