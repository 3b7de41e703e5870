"""Face tracking shared by lip-sync and identity: dlib HOG detection, 68 landmarks, descriptors."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import dlib
import numpy as np

from generators.errors import MediaError


@lru_cache(maxsize=1)
def models_dir() -> str:
    """The models/ folder of face_recognition_models, found without importing it (pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise MediaError(
            "face_recognition_models is not installed: pip install face_recognition_models"
        )
    return os.path.join(os.path.dirname(spec.origin), "models")


@lru_cache(maxsize=1)
def _detector():
    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=1)
def _landmark_model():
    return dlib.shape_predictor(os.path.join(models_dir(), "shape_predictor_68_face_landmarks.dat"))


@lru_cache(maxsize=1)
def _descriptor_model():
    return dlib.face_recognition_model_v1(
        os.path.join(models_dir(), "dlib_face_recognition_resnet_model_v1.dat")
    )


def detect_faces(rgb: np.ndarray, upsample: int = 0) -> np.ndarray:
    """All HOG face boxes in an RGB image as (n, 4) float [left, top, right, bottom]."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    rects = _detector()(gray, upsample)
    return np.array(
        [[r.left(), r.top(), r.right(), r.bottom()] for r in rects], dtype=np.float64
    ).reshape(-1, 4)


def detect_near(rgb: np.ndarray, box: np.ndarray, upsample: int = 0) -> np.ndarray:
    """Faces in a window of three box sizes around a previous box (a quarter of the work)."""
    h, w = rgb.shape[:2]
    size = max(box[2] - box[0], box[3] - box[1])
    x0, y0 = int(max(0, box[0] - size)), int(max(0, box[1] - size))
    x1, y1 = int(min(w, box[2] + size)), int(min(h, box[3] + size))
    found = detect_faces(rgb[y0:y1, x0:x1], upsample)
    return found + np.array([x0, y0, x0, y0], dtype=np.float64)


def _area(box: np.ndarray) -> float:
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = _area(np.array([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]))
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def _pick(boxes: np.ndarray, previous: np.ndarray | None) -> np.ndarray | None:
    # HOG sometimes finds a second "face" (a patterned shirt): stay with the tracked face if it
    # is still there, else take the largest.
    if len(boxes) == 0:
        return None
    if previous is not None:
        overlaps = [_iou(b, previous) for b in boxes]
        best = int(np.argmax(overlaps))
        if overlaps[best] > 0.3:
            return boxes[best]
    return boxes[int(np.argmax([_area(b) for b in boxes]))]


@dataclass
class FaceTrack:
    """One tracked face per frame (the largest, followed through the clip)."""

    boxes: np.ndarray  # (T, 4) float [left, top, right, bottom] in analysis pixels; NaN = no face
    detect_every: int
    upsample: int
    landmarks: np.ndarray | None = field(default=None)  # (T, 68, 2); NaN where no face

    @property
    def present(self) -> np.ndarray:
        return ~np.isnan(self.boxes[:, 0])

    @property
    def coverage(self) -> float:
        return float(self.present.mean()) if len(self.boxes) else 0.0


def _follow(
    frames: np.ndarray, keys: list[int], upsample: int, full_every: int = 10
) -> dict[int, np.ndarray | None]:
    """The tracked box at each key frame: searched near the last box, the whole frame every
    full_every keys (a new, larger face) or when the face is lost."""
    chosen: dict[int, np.ndarray | None] = {}
    previous = None
    for n, k in enumerate(keys):
        box = None
        if previous is not None and n % full_every:
            box = _pick(detect_near(frames[k], previous, upsample), previous)
        if box is None:
            box = _pick(detect_faces(frames[k], upsample), previous)
        chosen[k] = box
        if box is not None:
            previous = box
    return chosen


def track_face(frames: np.ndarray, detect_every: int = 5) -> FaceTrack:
    """Detect on every detect_every-th frame and interpolate the tracked box in between."""
    n = len(frames)
    if n == 0:
        return FaceTrack(boxes=np.full((0, 4), np.nan), detect_every=detect_every, upsample=0)
    keys = list(range(0, n, detect_every))
    if keys[-1] != n - 1:
        keys.append(n - 1)
    upsample = 0
    chosen = _follow(frames, keys, upsample)
    if not any(b is not None for b in chosen.values()):
        # Small faces (under about 80 px) need one upsampling step; try a few frames first.
        probe = keys[:: max(1, len(keys) // 4)][:4]
        if any(len(detect_faces(frames[k], 1)) for k in probe):
            upsample = 1
            chosen = _follow(frames, keys, upsample)
    boxes = np.full((n, 4), np.nan)
    for a, b in zip(keys[:-1], keys[1:], strict=False):
        box_a, box_b = chosen[a], chosen[b]
        if box_a is not None and box_b is not None and _iou(box_a, box_b) > 0.2:
            for i in range(a, b + 1):
                t = (i - a) / (b - a)
                boxes[i] = (1 - t) * box_a + t * box_b
            continue
        if box_a is None and box_b is None:
            continue
        # A cut, a jump or a lost face between two detections: detect on every frame between.
        boxes[a] = box_a if box_a is not None else np.nan
        previous = box_a
        for i in range(a + 1, b):
            box = _pick(detect_faces(frames[i], upsample), previous)
            if box is not None:
                boxes[i] = box
                previous = box
        if box_b is not None:
            boxes[b] = box_b
    if n == 1 and chosen[0] is not None:
        boxes[0] = chosen[0]
    return FaceTrack(boxes=boxes, detect_every=detect_every, upsample=upsample)


def _rect(box: np.ndarray) -> dlib.rectangle:
    return dlib.rectangle(
        int(round(box[0])), int(round(box[1])), int(round(box[2])), int(round(box[3]))
    )


def add_landmarks(frames: np.ndarray, track: FaceTrack) -> np.ndarray:
    """68-point landmarks for every frame with a tracked face (stored on the track)."""
    if track.landmarks is not None:
        return track.landmarks
    model = _landmark_model()
    points = np.full((len(frames), 68, 2), np.nan, dtype=np.float32)
    for i in np.flatnonzero(track.present):
        gray = cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY)
        shape = model(gray, _rect(track.boxes[i]))
        points[i] = [(p.x, p.y) for p in shape.parts()]
    track.landmarks = points
    return points


def face_descriptor(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """dlib's 128-d face descriptor (same person: Euclidean distance under 0.6)."""
    rgb = np.ascontiguousarray(rgb)
    shape = _landmark_model()(rgb, _rect(box))
    return np.asarray(_descriptor_model().compute_face_descriptor(rgb, shape), dtype=np.float64)


def image_descriptor(rgb: np.ndarray) -> np.ndarray | None:
    """Descriptor of the largest face in a still image, or None when it shows no face."""
    boxes = detect_faces(rgb, 0)
    if len(boxes) == 0:
        boxes = detect_faces(rgb, 1)
    if len(boxes) == 0:
        return None
    return face_descriptor(rgb, _pick(boxes, None))
