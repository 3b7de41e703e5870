"""pony's faces: a bank of identities made from two public-domain portraits, and who gets which.

Each identity is a base photo and a landmark-driven reshaping of its face. The bank's
identities were chosen so that any two a clip puts side by side are far apart in dlib's
face-descriptor space (see IDENTITY_DISTANCE).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import cv2
import numpy as np

from generators.pony.cast_from_prompt import Person
from generators.pony.portrait import (
    Portrait,
    astronaut_portrait,
    bust_mask_from_landmarks,
    face_landmarks,
    grace_hopper_face,
)

# face reshapings, in face widths: eye spacing, nose length, jaw width, mouth width,
# face length, brow height
_WIDE = (0.045, 0.08, 0.14, 0.15, 0.09, -0.02)
_NARROW = (-0.035, -0.06, -0.10, -0.15, -0.07, 0.04)


@dataclass(frozen=True)
class Identity:
    """One face of the bank: which photo, how its face is reshaped, its natural hair."""

    key: str
    base: str  # astronaut | hopper
    shape: tuple[float, ...] | None
    gender: str
    age: str


BANK = (
    Identity("astronaut", "astronaut", None, "f", "adult"),
    Identity("hopper", "hopper", None, "f", "old"),
    Identity("astronaut-narrow", "astronaut", _NARROW, "f", "young"),
    Identity("astronaut-wide", "astronaut", _WIDE, "m", "adult"),
    Identity("hopper-wide", "hopper", _WIDE, "m", "old"),
    Identity("hopper-narrow", "hopper", _NARROW, "f", "adult"),
)
# dlib descriptor distances between the bank's faces, the smaller of bare and dressed
# (tests re-measure them);
# a clip never puts two faces closer than MIN_APART side by side
IDENTITY_DISTANCE = {
    frozenset(("astronaut", "hopper")): 0.68,
    frozenset(("astronaut", "astronaut-narrow")): 0.46,
    frozenset(("astronaut", "astronaut-wide")): 0.48,
    frozenset(("astronaut", "hopper-wide")): 0.71,
    frozenset(("astronaut", "hopper-narrow")): 0.66,
    frozenset(("hopper", "astronaut-narrow")): 0.70,
    frozenset(("hopper", "astronaut-wide")): 0.71,
    frozenset(("hopper", "hopper-wide")): 0.37,
    frozenset(("hopper", "hopper-narrow")): 0.34,
    frozenset(("astronaut-narrow", "astronaut-wide")): 0.66,
    frozenset(("astronaut-narrow", "hopper-wide")): 0.77,
    frozenset(("astronaut-narrow", "hopper-narrow")): 0.58,
    frozenset(("astronaut-wide", "hopper-wide")): 0.61,
    frozenset(("astronaut-wide", "hopper-narrow")): 0.70,
    frozenset(("hopper-wide", "hopper-narrow")): 0.59,
}
MIN_APART = 0.6
_PREFERENCE = {
    ("f", "adult"): ("astronaut", "astronaut-narrow", "hopper-narrow", "hopper"),
    ("f", "young"): ("astronaut-narrow", "astronaut", "hopper-narrow"),
    ("f", "child"): ("astronaut-narrow", "astronaut", "hopper-narrow"),
    ("f", "old"): ("hopper", "hopper-narrow", "astronaut"),
    ("m", "adult"): ("astronaut-wide", "hopper-wide"),
    ("m", "young"): ("astronaut-wide", "hopper-wide"),
    ("m", "child"): ("astronaut-wide", "hopper-wide"),
    ("m", "old"): ("hopper-wide", "astronaut-wide"),
}
_ORDER = tuple(i.key for i in BANK)


def _apart(a: str, b: str) -> float:
    return 0.0 if a == b else IDENTITY_DISTANCE[frozenset((a, b))]


def _preference(p: Person, first: bool) -> tuple[str, ...]:
    age = p.age if p.age in ("young", "child", "old") else "adult"
    if p.gender is None and first:
        return ("astronaut",)
    return _PREFERENCE.get((p.gender or "f", age), _ORDER)


def assign_identities(people: tuple[Person, ...]) -> list[str]:
    """One bank identity per person: the cast whose faces are all far enough apart that
    best fits the descriptions (lowest sum of preference ranks); with more people than the
    bank can keep apart, the cast whose closest pair is farthest."""
    from itertools import permutations

    if not people:
        return []
    prefs = [_preference(p, k == 0) for k, p in enumerate(people)]

    old = {i.key for i in BANK if i.age == "old"}

    def rank(k: int, key: str) -> int:
        r = prefs[k].index(key) if key in prefs[k] else len(_ORDER) + _ORDER.index(key)
        return r + (2 if key in old and people[k].age != "old" else 0)  # no one ages

    best: tuple | None = None
    for keys in permutations(_ORDER, min(len(people), len(_ORDER))):
        apart = min((_apart(a, b) for a, b in combinations(keys, 2)), default=1.0)
        cost = sum(rank(k, key) for k, key in enumerate(keys))
        score = (apart > MIN_APART, apart if apart <= MIN_APART else 0.0, -cost)
        if best is None or score > best[0]:
            best = (score, keys)
    chosen = list(best[1])
    while len(chosen) < len(people):  # more people than faces: repeat from the start
        chosen.append(chosen[len(chosen) % len(_ORDER)])
    return chosen


# -- the photos as rigged busts ---------------------------------------------------------------


@lru_cache(maxsize=1)
def _hopper() -> Portrait:
    image = grace_hopper_face()[:520]
    lm = face_landmarks(image)
    if lm is None:  # pragma: no cover - the shipped photo has a clear face
        raise RuntimeError("dlib found no face in the Grace Hopper sample photo")
    return Portrait(image, bust_mask_from_landmarks(image.shape[:2], lm), lm)


def _base(name: str) -> Portrait:
    return astronaut_portrait() if name == "astronaut" else _hopper()


def _reshape(lm: np.ndarray, shape: tuple[float, ...]) -> np.ndarray:
    eye, nose, jaw, mouth, face_len, brow = shape
    lm = lm.copy()
    c = lm[27:36].mean(0)
    fw = float(np.linalg.norm(lm[16] - lm[0]))
    lm[36:42, 0] -= eye * fw
    lm[42:48, 0] += eye * fw
    lm[17:22, 0] -= eye * fw
    lm[22:27, 0] += eye * fw
    lm[17:27, 1] -= brow * fw
    lm[30:36, 1] += nose * fw
    lm[48:68, 1] += 0.8 * nose * fw
    lm[0:17, 0] = c[0] + (lm[0:17, 0] - c[0]) * (1 + jaw)
    mc = lm[48:68, 0].mean()
    lm[48:68, 0] = mc + (lm[48:68, 0] - mc) * (1 + mouth)
    lm[4:13, 1] += face_len * fw
    lm[48:68, 1] += 0.5 * face_len * fw
    return lm


def _warp(image: np.ndarray, lm: np.ndarray, new: np.ndarray) -> np.ndarray:
    """`image` warped so the face at `lm` takes the landmark positions `new` (thin plate)."""
    from scipy.interpolate import RBFInterpolator

    h, w = image.shape[:2]
    border = np.array(
        [
            [0, 0],
            [w - 1, 0],
            [0, h - 1],
            [w - 1, h - 1],
            [w / 2, 0],
            [w / 2, h - 1],
            [0, h / 2],
            [w - 1, h / 2],
        ],
        np.float64,
    )
    src = np.concatenate([new, border]).astype(np.float64)
    dst = np.concatenate([lm, border]).astype(np.float64)
    step = 4
    gy, gx = np.mgrid[0:h:step, 0:w:step]
    pts = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float64)
    field = RBFInterpolator(src, dst - src, kernel="thin_plate_spline", smoothing=1.0)(pts)
    field = cv2.resize(field.reshape(gy.shape + (2,)).astype(np.float32), (w, h))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        image,
        xs + field[..., 0],
        ys + field[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )


@lru_cache(maxsize=8)
def identity_portrait(key: str) -> Portrait:
    """The undressed bust of one bank identity."""
    ident = next(i for i in BANK if i.key == key)
    base = _base(ident.base)
    if ident.shape is None:
        return base
    new = _reshape(base.landmarks, ident.shape)
    image = _warp(base.image, base.landmarks, new)
    mask = _warp(base.mask, base.landmarks, new)
    return Portrait(image, mask, new.astype(np.float32))
