"""Identity consistency: dlib 128-d face descriptors sampled through the clip against a reference."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from generators.errors import MediaError
from metrics.base import ClipContext, Metric, MetricResult
from metrics.facetrack import face_descriptor, image_descriptor

SAME_PERSON = 0.6  # dlib's threshold: one person stays within this Euclidean distance
MAX_REFERENCE_SIDE = 1024


def load_reference(path: str) -> np.ndarray:
    """An image file as RGB uint8, longest side at most MAX_REFERENCE_SIDE."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((MAX_REFERENCE_SIDE, MAX_REFERENCE_SIDE))
            return np.asarray(image)
    except (OSError, ValueError) as exc:
        raise MediaError(f"{path}: cannot read reference image ({exc})") from exc


def sample_frames(present: np.ndarray, fps: float, per_second: float, cuts: list[int]) -> list[int]:
    """Frames to describe: a few per second, plus each side of every shot cut."""
    step = max(1, int(round(fps / max(per_second, 1e-6))))
    chosen = set(range(0, len(present), step))
    for cut in cuts:
        chosen.update({cut - 2, cut + 2})
    return sorted(i for i in chosen if 0 <= i < len(present) and present[i])


def identity_changes(
    times: np.ndarray, descriptors: np.ndarray, threshold: float = SAME_PERSON
) -> list[float]:
    """Times where the face becomes someone else: far from the current person's mean descriptor
    and from the previous sample, and still so at the next sample (one odd frame is not a
    change)."""
    changes: list[float] = []
    segment = [descriptors[0]]
    for i in range(1, len(descriptors)):
        centre = np.mean(segment, axis=0)
        far = np.linalg.norm(descriptors[i] - centre) > threshold
        jump = np.linalg.norm(descriptors[i] - descriptors[i - 1]) > threshold
        persists = (
            i == len(descriptors) - 1 or np.linalg.norm(descriptors[i + 1] - centre) > threshold
        )
        if far and jump and persists:
            changes.append(float(0.5 * (times[i - 1] + times[i])))
            segment = [descriptors[i]]
        else:
            segment.append(descriptors[i])
    return changes


def _compute(ctx: ClipContext) -> MetricResult:
    clip = ctx.clip
    params = {
        "threshold": SAME_PERSON,
        "descriptors_per_second": ctx.config.descriptors_per_second,
        "model": "dlib_face_recognition_resnet_model_v1",
    }
    track = ctx.face_track
    if track.coverage == 0:
        return IDENTITY.unavailable("no face", params=params)
    cuts = ctx.shot_cuts
    indices = sample_frames(track.present, clip.fps, ctx.config.descriptors_per_second, cuts)
    if len(indices) < 2:
        return IDENTITY.unavailable(f"too few frames with a face ({len(indices)})", params=params)
    descriptors = np.stack([face_descriptor(clip.frames[i], track.boxes[i]) for i in indices])
    times = clip.frame_times[indices] - clip.frame_times[0]
    reference_kind = "first face"
    reference = descriptors[0]
    if ctx.reference_image:
        found = image_descriptor(load_reference(ctx.reference_image))
        if found is None:
            reference_kind = "first face (no face in the reference image)"
        else:
            reference, reference_kind = found, "input image"
    distances = np.linalg.norm(descriptors - reference, axis=1)
    changes = identity_changes(times, descriptors)
    cut_times = [float(clip.frame_times[c] - clip.frame_times[0]) for c in cuts]
    # A change is placed at the shot cut between its two samples, when there is one.
    placed = []
    for t in changes:
        near = [
            c for c in cut_times if abs(c - t) <= 1.0 / max(ctx.config.descriptors_per_second, 1e-6)
        ]
        placed.append(min(near, key=lambda c: abs(c - t)) if near else t)
    values = {
        "mean_distance": round(float(distances.mean()), 4),
        "max_distance": round(float(distances.max()), 4),
        "share_same": round(float((distances <= SAME_PERSON).mean()), 4),
        "identity_changes": len(changes),
        "identity_change_times_s": ",".join(f"{t:.2f}" for t in placed),
        "shot_cuts": len(cuts),
        "samples": len(indices),
        "face_coverage": round(track.coverage, 3),
        "reference": reference_kind,
    }
    return IDENTITY.result(values, params=params)


IDENTITY = Metric(
    name="identity",
    version="1",
    backend="dlib-resnet-128d",
    higher_is_better={
        "mean_distance": False,
        "max_distance": False,
        "share_same": True,
        "identity_changes": False,
    },
    tolerances={
        # dlib face-descriptor distances to the first face; 0.6 separates people, 0.1 is a
        # visible drift. Spreads 0.043 (mean) and 0.10 (max).
        "mean_distance": 0.05,
        "max_distance": 0.1,
        # Share of sampled faces judged the same person as the first (fraction). Spread 0.
        "share_same": 0.05,
        # Number of identity switches in a clip. Spread 0.
        "identity_changes": 0.5,
    },
    units={
        "mean_distance": "euclidean (dlib 128-d)",
        "max_distance": "euclidean (dlib 128-d)",
        "share_same": "fraction",
        "identity_changes": "count",
        "identity_change_times_s": "s",
        "shot_cuts": "count",
        "samples": "frames",
        "face_coverage": "fraction",
    },
    compute=_compute,
    description="same person throughout: face descriptor distance to the input image or first face",
)
