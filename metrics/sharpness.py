"""Fine detail at the clip's own resolution: tells a native render from an upscaled one."""

from __future__ import annotations

import cv2
import numpy as np

from metrics.base import ClipContext, Metric, MetricResult


def edge_residual(luma: np.ndarray, factor: float) -> float:
    """99th percentile of |frame - frame shrunk by `factor` and enlarged back| (8-bit levels).

    Strong edges carry it: a render made at 1/factor of the resolution and upscaled has soft
    edges that survive the round trip, so its residual is small.
    """
    y = luma.astype(np.float32)
    h, w = y.shape
    size = (max(2, int(w / factor)), max(2, int(h / factor)))
    small = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    back = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return float(np.percentile(np.abs(y - back), 99))


def _compute(ctx: ClipContext) -> MetricResult:
    samples = ctx.clip.detail_frames
    if not samples:
        return SHARPNESS.unavailable("no full-resolution frames were decoded")
    values = {
        "edge_detail": round(float(np.mean([edge_residual(y, 4.0) for y in samples])), 3),
        "fine_detail": round(float(np.mean([edge_residual(y, 2.0) for y in samples])), 3),
        "frames": len(samples),
        "height": int(samples[0].shape[0]),
    }
    return SHARPNESS.result(values, params={"percentile": 99, "factors": [2.0, 4.0]})


SHARPNESS = Metric(
    name="sharpness",
    version="1",
    backend="opencv",
    higher_is_better={"edge_detail": True},
    # 8-bit levels; a clean 480p render scores about 22. Spread 1.9, so the noise sets it (a
    # 360p render upscaled loses far more).
    tolerances={"edge_detail": 1.9},
    units={"edge_detail": "8-bit levels", "fine_detail": "8-bit levels", "height": "px"},
    compute=_compute,
    description="edge detail at full resolution (down/up-sampling residual): upscaled renders",
)
