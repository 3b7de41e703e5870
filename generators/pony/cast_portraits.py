"""pony's cast: distinct people made from two public-domain portraits by reshaping and dressing.

Each character is one of a small bank of identities (a base photo and a landmark-driven
reshaping of its face), then dressed as the prompt says: hair colour and length, clothing
colour, glasses, hat, beard, umbrella. The bank's identities were chosen so that any two a
clip puts side by side are far apart in dlib's face-descriptor space (see IDENTITY_DISTANCE).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import cv2
import numpy as np

from generators.pony.cast_from_prompt import COLOURS, HAIR_COLOURS, Person
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


# -- dressing ---------------------------------------------------------------------------------


def _face_hull(shape: tuple[int, int], lm: np.ndarray, grow: float = 0.0) -> np.ndarray:
    brows = lm[17:27].copy()
    fh = float(lm[8, 1] - brows[:, 1].min())
    brows[:, 1] -= (0.08 + grow) * fh
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(
        mask, cv2.convexHull(np.concatenate([lm[0:17], brows]).astype(np.int32)), 255
    )
    return mask


def _recolour(image: np.ndarray, region: np.ndarray, colour, keep: float = 0.55) -> None:
    """Paint `region` (float 0..1) in `colour`, keeping the picture's light and folds."""
    lum = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    lum = lum / max(
        float(np.percentile(lum[region > 0.5], 70)) if np.any(region > 0.5) else 0.5, 0.05
    )
    shade = np.clip(lum, 0.25, 1.6)[..., None] ** keep
    painted = np.clip(np.asarray(colour, np.float32) * shade, 0, 255)
    a = region[..., None]
    image[:] = np.clip(image * (1 - a) + painted * a, 0, 255).astype(np.uint8)


def _geometry(lm: np.ndarray):
    fw = float(np.linalg.norm(lm[16] - lm[0]))
    brow = float(lm[17:27, 1].min())
    chin = float(lm[8, 1])
    cx = float(lm[27:31, 0].mean())
    return fw, brow, chin, cx


def _pad_top(p: Portrait, rows: int) -> Portrait:
    image = cv2.copyMakeBorder(p.image, rows, 0, 0, 0, cv2.BORDER_REPLICATE)
    mask = cv2.copyMakeBorder(p.mask, rows, 0, 0, 0, cv2.BORDER_CONSTANT, value=0.0)
    return Portrait(image, mask, p.landmarks + np.array([0, rows], np.float32))


def _head(shape: tuple[int, int], lm: np.ndarray, rx: float, ry: float) -> np.ndarray:
    """The skull above the brows as an ellipse of rx x ry face widths (uint8)."""
    fw, brow, chin, cx = _geometry(lm)
    head = np.zeros(shape, np.uint8)
    cv2.ellipse(
        head, (int(cx), int(brow + 0.15 * fw)), (int(rx * fw), int(ry * fw)), 0, 0, 360, 255, -1
    )
    return head


def _hair_region(p: Portrait, lm: np.ndarray, short: bool) -> np.ndarray:
    fw, brow, chin, cx = _geometry(lm)
    h, w = p.mask.shape
    head = _head((h, w), lm, 0.62 if short else 0.7, 0.68 if short else 0.78)
    head[int(brow + 0.5 * fw) :] = 0
    face = _face_hull((h, w), lm, 0.0)
    region = (head > 0) & (face == 0) & (p.mask > 0.5)
    return cv2.GaussianBlur(region.astype(np.float32), (0, 0), 0.02 * fw + 0.5)


def _clothes_region(p: Portrait, lm: np.ndarray) -> np.ndarray:
    fw, brow, chin, cx = _geometry(lm)
    h, w = p.mask.shape
    ys = np.arange(h, dtype=np.float32)[:, None]
    below = np.clip((ys - (chin + 0.35 * fw)) / (0.15 * fw), 0, 1)
    return (p.mask * below).astype(np.float32)


@lru_cache(maxsize=16)
def dressed_portrait(key: str, person: Person) -> Portrait:
    """The bust of identity `key` dressed as `person` is described (deterministic)."""
    p = _pad_top(identity_portrait(key), int(0.9 * _geometry(identity_portrait(key).landmarks)[0]))
    image, mask, lm = p.image.copy(), p.mask.copy(), p.landmarks
    fw, brow, chin, cx = _geometry(lm)
    h, w = mask.shape
    ident = next(i for i in BANK if i.key == key)
    clothing = [c for c in person.clothing if c[1] not in ("hat", "cap", "beanie")]
    coloured = [c for c, _ in clothing if c]
    if coloured:
        _recolour(image, _clothes_region(p, lm), COLOURS[coloured[0]], keep=0.8)
    elif ident.gender == "m" and ident.base == "astronaut":
        _recolour(image, _clothes_region(p, lm), (60, 70, 95), keep=0.8)  # a dark jacket
    hair = person.hair_colour
    if hair is None and ident.gender == "m":
        hair = "dark" if person.age != "old" else None
    short = person.hair_length in ("short", "bald") or (
        ident.gender == "m" and person.hair_length != "long"
    )
    if short:  # trim the photo's hair volume to a close crop: background shows around it
        keep = _head((h, w), lm, 0.64, 0.7).astype(np.float32) / 255.0
        keep[int(brow + 0.3 * fw) :] = 1.0
        mask[:] = mask * cv2.GaussianBlur(keep, (0, 0), 0.02 * fw + 0.5)
    if person.hair_length == "long":
        # long hair falls behind the shoulders: painted into the picture and the mask
        # two locks that follow the head's sides and end in rounded tips on the shoulders
        region = np.zeros((h, w), np.uint8)
        for side in (-1, 1):
            lock = np.array(
                [
                    [cx + side * 0.45 * fw, brow - 0.2 * fw],
                    [cx + side * 0.8 * fw, brow + 0.1 * fw],
                    [cx + side * 0.92 * fw, chin + 0.55 * fw],
                    [cx + side * 0.72 * fw, chin + 0.85 * fw],
                    [cx + side * 0.5 * fw, chin + 0.5 * fw],
                ],
                np.int32,
            )
            cv2.fillPoly(region, [lock], 255, cv2.LINE_AA)
            cv2.ellipse(
                region,
                (int(cx + side * 0.82 * fw), int(chin + 0.7 * fw)),
                (int(0.13 * fw), int(0.18 * fw)),
                0,
                0,
                360,
                255,
                -1,
                cv2.LINE_AA,
            )
        region[_face_hull((h, w), lm) > 0] = 0
        region[(mask > 0.5) & (np.arange(h)[:, None] > brow + 0.5 * fw)] = 0  # behind the body
        soft = cv2.GaussianBlur(region.astype(np.float32) / 255.0, (0, 0), 0.03 * fw)
        colour = HAIR_COLOURS.get(hair or "brown", (95, 60, 35))
        # strands: shading that varies across the hair and little along it
        rng = np.random.default_rng(5)
        strands = cv2.resize(rng.normal(1.0, 0.12, (4, w // 3)).astype(np.float32), (w, h))
        base = np.clip(np.asarray(colour, np.float32) * strands[..., None], 0, 255)
        a = (soft * (1 - 0.0))[..., None]
        image[:] = np.clip(image * (1 - a) + base * a, 0, 255).astype(np.uint8)
        mask[:] = np.maximum(mask, soft)
    if person.hair_length == "bald":
        _recolour(image, _hair_region(p, lm, True) * (mask > 0.5), (205, 160, 130), keep=0.5)
    elif hair is not None:
        _recolour(image, _hair_region(p, lm, short), HAIR_COLOURS[hair], keep=0.6)
    if person.beard:
        # along the jaw and under the lower lip; lips, mouth and cheeks stay clear
        below_lip = lm[57] + np.array([0, 0.08 * fw])
        jaw = np.concatenate(
            [
                lm[4:13],
                [lm[54] + [0.05 * fw, 0.12 * fw], below_lip, lm[48] + [-0.05 * fw, 0.12 * fw]],
            ]
        ).astype(np.int32)
        region = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(region, cv2.convexHull(jaw), 255)
        soft = cv2.GaussianBlur(region.astype(np.float32) / 255.0, (0, 0), 0.03 * fw) * 0.75
        _recolour(image, soft, HAIR_COLOURS.get(hair or "dark", (60, 50, 45)), keep=0.5)
    if person.glasses and ident.base != "hopper":  # her photo has its own glasses
        thick = max(2, int(0.022 * fw))
        for a, b in ((36, 42), (42, 48)):
            eye = lm[a:b]
            c = eye.mean(0)
            cv2.ellipse(
                image,
                (int(c[0]), int(c[1])),
                (int(0.17 * fw), int(0.11 * fw)),
                0,
                0,
                360,
                (30, 30, 35),
                thick,
                cv2.LINE_AA,
            )
        cv2.line(
            image,
            tuple(int(v) for v in lm[39] + [0.05 * fw, -0.02 * fw]),
            tuple(int(v) for v in lm[42] - [0.05 * fw, 0.02 * fw]),
            (30, 30, 35),
            thick,
            cv2.LINE_AA,
        )
    hat = person.hat or any(i in ("hat", "cap", "beanie") for _, i in person.clothing)
    if hat or person.umbrella:
        hat_colour = next(
            (COLOURS[c] for c, i in person.clothing if c and i in ("hat", "cap", "beanie")),
            (40, 36, 34),
        )
        layer = np.zeros((h, w), np.uint8)
        paint = image.copy()
        if person.umbrella:
            canopy_c = next((COLOURS[c] for c, i in person.clothing if c), (30, 30, 40))
            cv2.ellipse(
                paint,
                (int(cx), int(brow - 0.55 * fw)),
                (int(1.6 * fw), int(0.75 * fw)),
                0,
                180,
                360,
                canopy_c,
                -1,
                cv2.LINE_AA,
            )
            cv2.ellipse(
                layer,
                (int(cx), int(brow - 0.55 * fw)),
                (int(1.6 * fw), int(0.75 * fw)),
                0,
                180,
                360,
                255,
                -1,
                cv2.LINE_AA,
            )
            cv2.line(
                paint,
                (int(cx), int(brow - 0.55 * fw)),
                (int(cx), int(brow - 1.3 * fw)),
                (50, 50, 50),
                max(2, int(0.04 * fw)),
            )
            cv2.line(
                layer,
                (int(cx), int(brow - 0.55 * fw)),
                (int(cx), int(brow - 1.3 * fw)),
                255,
                max(2, int(0.04 * fw)),
            )
        if hat:
            top = int(brow - 0.85 * fw)
            cv2.rectangle(
                paint,
                (int(cx - 0.5 * fw), top),
                (int(cx + 0.5 * fw), int(brow - 0.2 * fw)),
                hat_colour,
                -1,
            )
            cv2.rectangle(
                layer,
                (int(cx - 0.5 * fw), top),
                (int(cx + 0.5 * fw), int(brow - 0.2 * fw)),
                255,
                -1,
            )
            cv2.ellipse(
                paint,
                (int(cx), int(brow - 0.2 * fw)),
                (int(0.85 * fw), int(0.12 * fw)),
                0,
                0,
                360,
                hat_colour,
                -1,
                cv2.LINE_AA,
            )
            cv2.ellipse(
                layer,
                (int(cx), int(brow - 0.2 * fw)),
                (int(0.85 * fw), int(0.12 * fw)),
                0,
                0,
                360,
                255,
                -1,
                cv2.LINE_AA,
            )
        a = cv2.GaussianBlur(layer.astype(np.float32) / 255.0, (0, 0), 0.8)
        image[:] = np.clip(image * (1 - a[..., None]) + paint * a[..., None], 0, 255).astype(
            np.uint8
        )
        mask[:] = np.maximum(mask, a)
    return Portrait(image, mask, lm)


def cast_portraits(people: tuple[Person, ...]) -> list[Portrait]:
    """A dressed bust per person, each a distinct identity (same people: same pictures)."""
    return [dressed_portrait(k, p) for k, p in zip(assign_identities(people), people, strict=True)]
