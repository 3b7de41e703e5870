"""A person in a pony shot: their bust scaled into place, their face rig and their moves."""

from __future__ import annotations

import cv2
import numpy as np

from generators.pony.face_anim import FaceAnimator, FacePose
from generators.pony.plan import Shot
from generators.pony.portrait import Portrait
from generators.pony.render import Motion, _ease, _padded
from generators.pony.visemes import MouthTrack

_MOVING = ("walks", "runs", "turns", "rides")


def _blend(canvas: np.ndarray, img: np.ndarray, alpha: np.ndarray, ox: int, oy: int) -> None:
    """Paste img over canvas at (ox, oy) through alpha (float32, 0..1), clipped to the canvas."""
    ch, cw = canvas.shape[:2]
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + img.shape[1], cw), min(oy + img.shape[0], ch)
    if x1 <= x0 or y1 <= y0:
        return
    region = canvas[y0:y1, x0:x1]
    a = np.ascontiguousarray(alpha[y0 - oy : y1 - oy, x0 - ox : x1 - ox])
    part = np.ascontiguousarray(img[y0 - oy : y1 - oy, x0 - ox : x1 - ox])
    region[:] = cv2.blendLinear(part, region, a, 1.0 - a)


class Actor:
    """One person in one shot: the bust scaled into place, the face rig, and their moves."""

    def __init__(
        self,
        portrait: Portrait,
        grade: np.ndarray,
        face_h: float,
        anchor: tuple[float, float],
        motion: Motion,
        mouth: MouthTrack,
        actions: tuple[str, ...],
        shot: Shot,
        view: tuple[int, int],
        rider_of: object | None = None,
        by_width: bool = False,
    ) -> None:
        lm = portrait.landmarks
        self.scale = scale = face_h / float(lm[8, 1] - lm[17:27, 1].min())
        if by_width:  # side by side, faces compare by their width (as a face detector sees)
            scale = self.scale = 0.95 * face_h / float(np.linalg.norm(lm[16] - lm[0]))
        img, mask = _padded(portrait)
        img = np.clip(img * grade, 0, 255).astype(np.uint8)
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=interp)
        if scale > 1.2:  # an unsharp mask gives the enlarged photo back some crispness
            soft = cv2.GaussianBlur(img, (0, 0), 0.6 * scale)
            img = cv2.addWeighted(img, 1.7, soft, -0.7, 0)
        mask = cv2.resize(
            mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR
        ).astype(np.float32)
        # keep only the rows and columns the person covers: less to blend every frame
        ys, xs = np.nonzero(mask > 0.004)
        bx0, by0 = (int(xs.min()), int(ys.min())) if len(xs) else (0, 0)
        bx1, by1 = (int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else mask.shape[::-1]
        # rows a view height below the face never reach the canvas
        bottom = int((lm[8, 1] + lm[17:27, 1].min()) / 2 * scale + view[1])
        by1 = min(by1, max(by0 + 1, bottom))
        self.mask = np.ascontiguousarray(mask[by0:by1, bx0:bx1])
        self.img = np.ascontiguousarray(img[by0:by1, bx0:bx1])
        self.lm = lm * scale - np.array([bx0, by0], np.float32)
        face_c = (float(self.lm[:, 0].mean()), float((self.lm[8, 1] + self.lm[17:27, 1].min()) / 2))
        self.face_c = face_c
        self.fw = float(np.linalg.norm(self.lm[16] - self.lm[0]))
        self.anchor = anchor
        self.motion, self.mouth, self.actions = motion, mouth, actions
        self.shot, self.view = shot, view
        self.rider_of = rider_of
        # a close-up stays with the face: it does not follow a walk across the frame
        self.moving = (
            bool(set(actions) & set(_MOVING)) and shot.framing != "close"
        ) or rider_of is not None
        if rider_of is not None:  # the body stops at the chest: the horse is below
            ys = np.arange(self.mask.shape[0], dtype=np.float32)[:, None]
            cut = self.lm[8, 1] + 1.1 * self.fw
            self.mask *= np.clip((cut - ys) / (0.15 * self.fw), 0, 1)
        self.face: FaceAnimator | None = None  # set when baked into the shot's canvas
        self._sprite_face: FaceAnimator | None = None  # set on the first frame of a mover
        self.facing = 1 if motion.phases[6] < np.pi else -1  # which way they walk or turn
        skin = self.img[int(self.lm[29, 1]), int(self.lm[29, 0])]
        body_y = min(int(self.lm[8, 1] + 1.6 * self.fw), self.img.shape[0] - 1)
        body = self.img[
            body_y, int(min(max(self.lm[8, 0] + 0.9 * self.fw, 0), self.img.shape[1] - 1))
        ]
        self.skin = tuple(int(v) for v in skin)
        self.sleeve = tuple(int(v) for v in body)

    def origin(self) -> tuple[int, int]:
        return (
            int(round(self.anchor[0] - self.face_c[0])),
            int(round(self.anchor[1] - self.face_c[1])),
        )

    def bake(self, canvas: np.ndarray) -> None:
        """A person who stays put is pasted once; only the face region changes per frame."""
        ox, oy = self.origin()
        _blend(canvas, self.img, self.mask, ox, oy)
        self.face = FaceAnimator(canvas, self.lm + np.array([ox, oy], np.float32))

    def _u(self, t: float) -> float:
        dur = max(self.shot.end_s - self.shot.start_s, 1e-6)
        return min(max((t - self.shot.start_s) / dur, 0.0), 1.0)

    def pose(self, t: float, i: int) -> FacePose:
        pose = self.motion.pose(t, self.mouth, i)
        u = self._u(t)
        if "looks up" in self.actions:
            e = _ease(min(u * 2.0, 1.0))
            pose = FacePose(
                pose.open, pose.wide, pose.round, pose.blink, pose.dx, pose.dy - 0.07 * e, pose.tilt
            )
        if "turns" in self.actions:  # the head leads the turn
            v = min(max((u - 0.2) / 0.6, 0.0), 1.0)
            pose = FacePose(
                pose.open,
                pose.wide,
                pose.round,
                pose.blink,
                pose.dx + self.facing * 0.07 * np.sin(np.pi * v),
                pose.dy,
                pose.tilt,
            )
        if "waves" in self.actions or "walks" in self.actions or "runs" in self.actions:
            pose = FacePose(
                pose.open,
                pose.wide,
                pose.round,
                pose.blink,
                pose.dx,
                pose.dy,
                pose.tilt + 0.02 * np.sin(2 * np.pi * 1.0 * t),
            )
        return pose

    def draw(self, canvas: np.ndarray, t: float, i: int, x_of_horse: float | None) -> None:
        pose = self.pose(t, i)
        if self.face is not None:  # baked
            self.face.apply(canvas, pose)
            self._wave(canvas, t, *self.origin())
            return
        if self._sprite_face is None:
            self._sprite = self.img.copy()
            self._sprite_face = FaceAnimator(self._sprite, self.lm)
        self._sprite_face.apply(self._sprite, pose)
        u = self._u(t)
        vw, vh = self.view
        ox, oy = self.origin()
        dx, dy = 0.0, 0.0
        img, mask = self._sprite, self.mask
        if "walks" in self.actions or "runs" in self.actions:
            run = "runs" in self.actions
            dx = self.facing * (u - 0.5) * (0.75 if not run else 0.9) * vw
            hz = 2.8 if run else 1.9
            dy = -(0.035 if run else 0.018) * vh * abs(np.sin(np.pi * hz * t))
            dx += 0.006 * vw * np.sin(np.pi * hz * t)  # sway from foot to foot
        if x_of_horse is not None:
            dx = x_of_horse - self.anchor[0]
            dy = 0.004 * vh * np.sin(2 * np.pi * 3.2 * t)
        if "turns" in self.actions and 0.25 < u < 0.75:
            # the body turns a quarter away and back: it narrows toward its far side and
            # widens again (a face that stays findable, unlike a full turn)
            v = (u - 0.25) / 0.5
            squeeze = 1.0 - 0.28 * np.sin(np.pi * v)
            w = max(int(img.shape[1] * squeeze), 2)
            img = cv2.resize(img, (w, img.shape[0]), interpolation=cv2.INTER_LINEAR)
            mask = cv2.resize(mask, (w, mask.shape[0]), interpolation=cv2.INTER_LINEAR)
            dx += self.face_c[0] * (1.0 - squeeze)
        x, y = int(round(ox + dx)), int(round(oy + dy))
        _blend(canvas, img, mask, x, y)
        self._wave(canvas, t, x, y)

    def _wave(self, canvas: np.ndarray, t: float, ox: int, oy: int) -> None:
        if "waves" not in self.actions:
            return
        u = self._u(t)
        raise_ = _ease(min(u * 4.0, 1.0))
        fw = self.fw
        side = -self.facing
        fc = np.array(self.face_c) + [ox, oy]
        elbow = fc + [side * 1.35 * fw, 0.9 * fw - 0.5 * fw * raise_]
        swing = 0.35 * np.sin(2 * np.pi * 2.0 * t) * raise_
        hand = elbow + [side * (0.15 + swing) * fw, -(0.2 + 0.9 * raise_) * fw]
        shoulder = fc + [side * 1.0 * fw, 1.5 * fw]
        width = max(3, int(0.32 * fw))
        cv2.line(
            canvas,
            tuple(int(v) for v in shoulder),
            tuple(int(v) for v in elbow),
            self.sleeve,
            width,
            cv2.LINE_AA,
        )
        cv2.line(
            canvas,
            tuple(int(v) for v in elbow),
            tuple(int(v) for v in hand),
            self.sleeve,
            width,
            cv2.LINE_AA,
        )
        cv2.ellipse(
            canvas,
            tuple(int(v) for v in hand),
            (int(0.17 * fw), int(0.24 * fw)),
            int(30 * swing),
            0,
            360,
            self.skin,
            -1,
            cv2.LINE_AA,
        )
