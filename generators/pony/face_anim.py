"""Face animation for pony: jaw drop, lip shapes, blinks and head motion by warping a patch."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FacePose:
    """One frame's face state: mouth open/wide/round in [0, 1], blink in [0, 1], head motion."""

    open: float = 0.0
    wide: float = 0.0
    round: float = 0.0
    blink: float = 0.0
    dx: float = 0.0  # head shift in face widths
    dy: float = 0.0
    tilt: float = 0.0  # radians


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _box(x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> tuple[int, int, int, int]:
    return max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))


class FaceAnimator:
    """Warps the head region of a picture so that its mouth, eyes and head move.

    Built once per shot from the 68 landmarks in that picture's coordinates; `apply` then
    writes the animated head into the picture for one pose. With a neutral pose the picture
    is left exactly as it was.
    """

    def __init__(self, picture: np.ndarray, landmarks: np.ndarray) -> None:
        h, w = picture.shape[:2]
        lm = landmarks.astype(np.float32)
        self.face_w = fw = float(np.linalg.norm(lm[16] - lm[0]))
        brow_y = float(lm[17:27, 1].min())
        chin_y = float(lm[8, 1])
        self.box = _box(
            lm[0, 0] - 0.45 * fw, brow_y - 0.85 * fw, lm[16, 0] + 0.45 * fw, chin_y + 0.5 * fw, w, h
        )
        x0, y0, x1, y1 = self.box
        self.source = picture[y0:y1, x0:x1].copy()
        ph, pw = self.source.shape[:2]
        gx, gy = np.meshgrid(np.arange(pw, dtype=np.float32), np.arange(ph, dtype=np.float32))
        self.gx, self.gy = gx, gy
        lm = lm - np.array([x0, y0], np.float32)
        self.lm = lm
        hx, hy = lm[:, 0].mean(), lm[:, 1].mean()
        r = np.sqrt(((gx - hx) / max(pw / 2, 1)) ** 2 + ((gy - hy) / max(ph / 2, 1)) ** 2)
        wh = 1.0 - _smoothstep((r - 0.5) / 0.45)
        self.wh = wh.astype(np.float32)
        self.wh_rot_x = (-(gy - hy) * wh).astype(np.float32)
        self.wh_rot_y = ((gx - hx) * wh).astype(np.float32)

        inner = lm[60:68]
        self.cx = cx = float(inner[:, 0].mean())
        self.cy = cy = float(inner[:, 1].mean())
        self.mouth_w = mw = float(np.linalg.norm(lm[54] - lm[48]))
        self.max_drop = 0.34 * mw
        nose_y = float(lm[33, 1])
        # mouth/jaw fields live in a sub-box so per-frame work stays small
        self.mbox = _box(
            cx - 0.75 * fw, nose_y - 0.6 * mw, cx + 0.75 * fw, chin_y + 0.45 * fw, pw, ph
        )
        mx0, my0, mx1, my1 = self.mbox
        mgx, mgy = gx[my0:my1, mx0:mx1], gy[my0:my1, mx0:mx1]
        neck = 1.0 - _smoothstep((mgy - chin_y) / (0.35 * fw))
        # every field fades to zero at the sub-box edges, so the warp leaves no seam there
        ramp = 0.25 * fw
        taper = (
            _smoothstep((mgx - mx0) / ramp)
            * _smoothstep((mx1 - 1 - mgx) / ramp)
            * _smoothstep((mgy - my0) / ramp)
            * _smoothstep((my1 - 1 - mgy) / ramp)
        )
        neck = neck * taper
        self.jaw_w = (np.exp(-0.5 * ((mgx - cx) / (0.38 * fw)) ** 2) * neck).astype(np.float32)
        self.below = np.maximum(mgy - cy, 0.0).astype(np.float32)
        lip_w = np.exp(-0.5 * ((mgx - cx) / (0.5 * mw)) ** 2)
        self.up_w = (lip_w * taper * _smoothstep((mgy - nose_y) / max(cy - nose_y, 1.0))).astype(
            np.float32
        )
        self.above = np.maximum(cy - mgy, 0.0).astype(np.float32)
        wm = np.exp(-0.5 * (((mgx - cx) / (0.9 * mw)) ** 2 + ((mgy - cy) / (0.5 * mw)) ** 2))
        self.spread = ((mgx - cx) * wm * taper).astype(np.float32)

        self.eyes = []
        for a, b in ((36, 42), (42, 48)):
            eye = lm[a:b]
            ex, ey = float(eye[:, 0].mean()), float(eye[:, 1].mean())
            ew = float(np.linalg.norm(eye[3] - eye[0]))
            eh = max(float(np.ptp(eye[[1, 2, 4, 5], 1])), 0.3 * ew)
            ebox = _box(ex - 0.9 * ew, ey - 3.0 * eh, ex + 0.9 * ew, ey + 1.2 * eh, pw, ph)
            bx0, by0, bx1, by1 = ebox
            egx, egy = gx[by0:by1, bx0:bx1], gy[by0:by1, bx0:bx1]
            prof = _smoothstep((egy - (ey - 3.0 * eh)) / (1.6 * eh)) * (
                1.0 - _smoothstep((egy - (ey + 0.5 * eh)) / (0.6 * eh))
            )
            field = np.exp(-0.5 * ((egx - ex) / (0.55 * ew)) ** 2) * prof * 1.25 * eh
            self.eyes.append((ebox, field.astype(np.float32)))

    def apply(self, picture: np.ndarray, pose: FacePose) -> None:
        """Write the head region for `pose` into `picture` (same geometry as at construction)."""
        x0, y0, x1, y1 = self.box
        neutral = (
            pose.open <= 1e-3
            and pose.blink <= 1e-3
            and abs(pose.wide) < 1e-3
            and abs(pose.round) < 1e-3
            and pose.dx == 0
            and pose.dy == 0
            and pose.tilt == 0
        )
        if neutral:
            picture[y0:y1, x0:x1] = self.source
            return
        fw = self.face_w
        # plain floats: numpy float64 scalars would promote the float32 maps
        pose = FacePose(
            *(
                float(v)
                for v in (pose.open, pose.wide, pose.round, pose.blink, pose.dx, pose.dy, pose.tilt)
            )
        )
        map_x = self.gx - self.wh * (pose.dx * fw) - self.wh_rot_x * pose.tilt
        map_y = self.gy - self.wh * (pose.dy * fw) - self.wh_rot_y * pose.tilt
        drop = pose.open * self.max_drop
        lift = 0.22 * drop
        k = 0.12 * pose.wide - 0.18 * pose.round
        mx0, my0, mx1, my1 = self.mbox
        if drop > 0.05 or abs(k) > 1e-3:
            map_y[my0:my1, mx0:mx1] -= np.minimum(self.below, drop) * self.jaw_w
            map_y[my0:my1, mx0:mx1] += np.minimum(self.above, lift) * self.up_w
            map_x[my0:my1, mx0:mx1] -= k * self.spread
        for (bx0, by0, bx1, by1), field in self.eyes:
            if pose.blink > 1e-3:
                map_y[by0:by1, bx0:bx1] -= pose.blink * field
        patch = cv2.remap(
            self.source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        if drop > 0.5:
            self._paint_mouth(patch, pose, drop, lift, k)
        picture[y0:y1, x0:x1] = patch

    def _paint_mouth(
        self, patch: np.ndarray, pose: FacePose, drop: float, lift: float, k: float
    ) -> None:
        """Dark mouth interior, with upper teeth, in the gap the jaw drop opened."""
        fw = self.face_w
        hx = pose.dx * fw
        hy = pose.dy * fw
        cx = self.cx + hx - pose.tilt * (self.cy - self.lm[:, 1].mean())
        cy = self.cy + hy + pose.tilt * (self.cx - self.lm[:, 0].mean())
        gap_h = drop + lift
        half_w = 0.37 * self.mouth_w * (1.0 + 1.5 * k)
        half_h = 0.5 * gap_h
        mid_y = cy - lift + half_h
        pad = 3
        rx0 = int(max(cx - half_w - pad, 0))
        rx1 = int(min(cx + half_w + pad + 1, patch.shape[1]))
        ry0 = int(max(mid_y - half_h - pad, 0))
        ry1 = int(min(mid_y + half_h + pad + 1, patch.shape[0]))
        if rx1 - rx0 < 3 or ry1 - ry0 < 3:
            return
        roi = patch[ry0:ry1, rx0:rx1]
        shift = 4  # sub-pixel precision for the anti-aliased ellipse
        scale = 1 << shift
        alpha = np.zeros(roi.shape[:2], np.uint8)
        center = (int((cx - rx0) * scale), int((mid_y - ry0) * scale))
        axes = (int(half_w * scale), int(max(half_h, 0.5) * scale))
        cv2.ellipse(alpha, center, axes, 0, 0, 360, 255, -1, cv2.LINE_AA, shift)
        inside = np.empty_like(roi)
        inside[:] = (52, 20, 26)
        if gap_h > 4:
            tongue = (int((cx - rx0) * scale), int((mid_y + half_h - ry0) * scale))
            cv2.ellipse(
                inside,
                tongue,
                (int(0.6 * half_w * scale), int(0.45 * gap_h * scale)),
                0,
                180,
                360,
                (150, 62, 70),
                -1,
                cv2.LINE_AA,
                shift,
            )
        teeth_h = min(0.35 * gap_h, 0.16 * self.mouth_w)
        if teeth_h >= 1.0:
            t_axes = (int(0.8 * half_w * scale), int(teeth_h * scale))
            t_center = (center[0], int((mid_y - half_h - ry0) * scale))
            cv2.ellipse(
                inside, t_center, t_axes, 0, 0, 180, (222, 214, 200), -1, cv2.LINE_AA, shift
            )
        a = cv2.GaussianBlur(alpha, (5, 5), 0).astype(np.float32)[..., None] / 255.0
        roi[:] = (roi * (1.0 - a) + inside * a).astype(np.uint8)
