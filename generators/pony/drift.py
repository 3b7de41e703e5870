"""pony-drift's changing identity: another person's face blended into the astronaut's."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from generators.pony.portrait import (
    Portrait,
    astronaut_portrait,
    face_landmarks,
    grace_hopper_face,
)


@lru_cache(maxsize=1)
def _donor() -> tuple[np.ndarray, np.ndarray]:
    image = grace_hopper_face()
    landmarks = face_landmarks(image)
    if landmarks is None:  # pragma: no cover - the shipped photo has a clear face
        raise RuntimeError("dlib found no face in the Grace Hopper sample photo")
    return image, landmarks


def _face_mask(shape: tuple[int, int], lm: np.ndarray) -> np.ndarray:
    brows = lm[17:27].copy()
    brows[:, 1] -= 0.12 * (lm[8, 1] - brows[:, 1].min())
    hull = cv2.convexHull(np.concatenate([lm[0:17], brows]).astype(np.int32))
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    face_w = float(np.linalg.norm(lm[16] - lm[0]))
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=max(1, int(face_w * 0.04)))
    return cv2.GaussianBlur(mask, (0, 0), face_w * 0.05).astype(np.float32) / 255.0


def drift_face(image: np.ndarray, landmarks: np.ndarray, alpha: float,
               donor: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """`image` with the face at `landmarks` blended `alpha` (0..1) toward the donor's face
    (Grace Hopper's unless another (image, landmarks) is given)."""
    donor, donor_lm = donor or _donor()
    idx = list(range(17, 68))  # brows, eyes, nose, mouth: the inner face
    m, _ = cv2.estimateAffinePartial2D(donor_lm[idx], landmarks[idx], method=cv2.LMEDS)
    h, w = image.shape[:2]
    warped = cv2.warpAffine(donor, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mask = _face_mask((h, w), landmarks)
    sel = mask > 0.5
    # match the donor's skin tone to the base so the seam is soft (colour is not identity)
    src = warped.astype(np.float32)
    for c in range(3):
        mu_s, sd_s = src[..., c][sel].mean(), src[..., c][sel].std() + 1e-6
        mu_b, sd_b = image[..., c][sel].mean(), image[..., c][sel].std() + 1e-6
        src[..., c] = (src[..., c] - mu_s) * (sd_b / sd_s) + mu_b
    a = (mask * alpha)[..., None]
    return np.clip(image * (1 - a) + src * a, 0, 255).astype(np.uint8)


@lru_cache(maxsize=8)
def drifted_portrait(amount: float, shot: int) -> Portrait:
    """The astronaut with her face moved `amount` (0..1) toward another person's.

    Later shots drift a little further (shot 2 slightly more than shot 1), like a model that
    loses track of who the character is.
    """
    base = astronaut_portrait()
    alpha = float(np.clip(amount * (0.85 + 0.15 * min(shot, 2) / 2), 0.0, 1.0))
    image = drift_face(base.image, base.landmarks, alpha)
    landmarks = face_landmarks(image)
    return Portrait(image, base.mask, landmarks if landmarks is not None else base.landmarks)


def drifted_lead(portrait: Portrait, amount: float, shot: int, from_hopper: bool) -> Portrait:
    """Any cast member's bust with the face moved `amount` (0..1) toward another person's
    (the astronaut's when the bust is already made from Grace Hopper's photo); later shots
    drift a little further, like drifted_portrait."""
    alpha = float(np.clip(amount * (0.85 + 0.15 * min(shot, 2) / 2), 0.0, 1.0))
    donor = None
    if from_hopper:
        astro = astronaut_portrait()
        donor = (astro.image, astro.landmarks)
    image = drift_face(portrait.image, portrait.landmarks, alpha, donor)
    landmarks = face_landmarks(image)
    return Portrait(image, portrait.mask,
                    landmarks if landmarks is not None else portrait.landmarks)
