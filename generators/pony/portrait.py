"""Portraits for pony: the shipped astronaut bust, dlib landmarks, and person masks."""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from generators.errors import GenerationError

RIG_PATH = Path(__file__).resolve().parent.parent / "data" / "astronaut_rig.npz"
ASTRONAUT_ROWS = 345  # below this the helmet she holds covers the suit


@dataclass(frozen=True)
class Portrait:
    """An RGB bust with a soft person mask (1 = person) and 68 dlib landmarks (x, y)."""

    image: np.ndarray
    mask: np.ndarray
    landmarks: np.ndarray


def dlib_model_path(name: str) -> str:
    """Path of a model file shipped by face_recognition_models (without pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise GenerationError("face_recognition_models is not installed")
    path = os.path.join(list(spec.submodule_search_locations)[0], "models", name)
    if not os.path.isfile(path):
        raise GenerationError(f"dlib model file missing: {path}")
    return path


_dlib_lock = threading.Lock()


@lru_cache(maxsize=1)
def _dlib_models():
    import dlib

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(dlib_model_path("shape_predictor_68_face_landmarks.dat"))
    return detector, predictor


def face_landmarks(
    image: np.ndarray, upsample: int = 1, max_side: int | None = None
) -> np.ndarray | None:
    """68 landmarks (float32, (68, 2)) of the largest face dlib's HOG detector finds, or None.

    With max_side, detection runs on a copy scaled down to that size (HOG is slow on big
    pictures); the landmarks are still placed on the full-size image.
    """
    import dlib

    detector, predictor = _dlib_models()
    rgb = np.ascontiguousarray(image[..., :3])
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w)) if max_side else 1.0
    small = (
        rgb
        if scale == 1.0
        else cv2.resize(
            rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    )
    with _dlib_lock:
        rects = detector(small, upsample)
        if not rects:
            return None
        r = max(rects, key=lambda r: r.width() * r.height())
        rect = dlib.rectangle(
            int(r.left() / scale),
            int(r.top() / scale),
            int(r.right() / scale),
            int(r.bottom() / scale),
        )
        shape = predictor(rgb, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def bust_mask_from_landmarks(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """A soft head-and-shoulders mask for any portrait, built from its face landmarks."""
    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    jaw = landmarks[0:17]
    face_w = float(np.linalg.norm(jaw[16] - jaw[0]))
    cx = float(jaw[:, 0].mean())
    brow_y = float(landmarks[17:27, 1].min())
    chin_y = float(jaw[8, 1])
    head_c = (int(cx), int((brow_y + chin_y) / 2 - 0.1 * face_w))
    head_axes = (int(0.68 * face_w), int(0.62 * (chin_y - brow_y) + 0.45 * face_w))
    cv2.ellipse(mask, head_c, head_axes, 0, 0, 360, 255, -1)
    neck_top = int(chin_y - 0.1 * face_w)
    shoulders = np.array(
        [
            [cx - 0.45 * face_w, neck_top],
            [cx + 0.45 * face_w, neck_top],
            [cx + 0.6 * face_w, chin_y + 0.35 * face_w],
            [cx + 1.6 * face_w, chin_y + 0.8 * face_w],
            [cx + 1.9 * face_w, h],
            [cx - 1.9 * face_w, h],
            [cx - 1.6 * face_w, chin_y + 0.8 * face_w],
            [cx - 0.6 * face_w, chin_y + 0.35 * face_w],
        ],
        np.int32,
    )
    cv2.fillPoly(mask, [shoulders], 255)
    sigma = max(1.0, 0.06 * face_w)
    return cv2.GaussianBlur(mask, (0, 0), sigma).astype(np.float32) / 255.0


def _astronaut_image() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:ASTRONAUT_ROWS])


def build_astronaut_rig(path: Path = RIG_PATH) -> None:
    """Compute the astronaut's landmarks (dlib) and person mask (GrabCut) and save them.

    The result ships with the package so a clip needs neither step at run time; this function
    documents how it was made and lets a test check it.
    """
    image = _astronaut_image()
    landmarks = face_landmarks(image)
    if landmarks is None:
        raise GenerationError("dlib found no face in the astronaut portrait")
    h, w = image.shape[:2]
    gc = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    body = np.array(
        [
            [150, 40],
            [225, 10],
            [305, 45],
            [310, 150],
            [290, 160],
            [330, 230],
            [370, 300],
            [370, h],
            [18, h],
            [40, 280],
            [120, 210],
            [165, 170],
            [150, 120],
        ],
        np.int32,
    )
    cv2.fillPoly(gc, [body], cv2.GC_PR_FGD)
    cv2.ellipse(gc, (222, 125), (42, 55), 0, 0, 360, cv2.GC_FGD, -1)
    cv2.rectangle(gc, (150, 220), (300, 300), cv2.GC_FGD, -1)
    cv2.rectangle(gc, (60, 300), (340, h), cv2.GC_FGD, -1)
    gc[:, :10] = cv2.GC_BGD
    gc[:5, :] = cv2.GC_BGD
    gc[:, 420:] = cv2.GC_BGD
    gc[:150, 320:] = cv2.GC_BGD
    gc[:150, :130] = cv2.GC_BGD
    cv2.setRNGSeed(0)
    cv2.grabCut(
        image[..., ::-1].copy(),
        gc,
        None,
        np.zeros((1, 65)),
        np.zeros((1, 65)),
        6,
        cv2.GC_INIT_WITH_MASK,
    )
    mask = np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    mask = np.where(labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA]), 255, 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(255 - mask)
    for i in range(1, n):  # fill holes that do not touch the border
        x, y, bw, bh, _ = stats[i]
        if x > 0 and y > 0 and x + bw < w and y + bh < h - 1:
            mask[labels == i] = 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, mask=mask, landmarks=landmarks)


@lru_cache(maxsize=1)
def astronaut_portrait() -> Portrait:
    """scikit-image's astronaut (public-domain NASA photo of Eileen Collins) as a rigged bust."""
    if not RIG_PATH.is_file():
        build_astronaut_rig()
    rig = np.load(RIG_PATH)
    # a little inside GrabCut's edge: its border still holds a rim of the studio backdrop
    mask = cv2.erode(rig["mask"], np.ones((5, 5), np.uint8))
    mask = cv2.GaussianBlur(mask, (0, 0), 1.5).astype(np.float32) / 255.0
    return Portrait(_astronaut_image(), mask, rig["landmarks"].astype(np.float32))


def grace_hopper_face() -> np.ndarray:
    """matplotlib's sample portrait of Grace Hopper (US Navy photo), RGB uint8."""
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        buf = np.frombuffer(fh.read(), np.uint8)
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
