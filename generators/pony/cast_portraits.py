"""pony's cast as pictures: each person's face from the bank, dressed as the prompt says.

Hair colour and length, clothing colour, glasses, hat, beard and umbrella are painted over the
identity's bust (cast_identities.py), so the same description always gives the same picture.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from generators.pony.cast_from_prompt import Person
from generators.pony.cast_identities import BANK, assign_identities, identity_portrait
from generators.pony.cast_words import COLOURS, HAIR_COLOURS
from generators.pony.portrait import Portrait

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
