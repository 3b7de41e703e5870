"""Picture pieces for pony: framing, motion and camera moves, and animated input images."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from generators.pony.face_anim import FaceAnimator, FacePose
from generators.pony.plan import ShotPlan
from generators.pony.portrait import Portrait, bust_mask_from_landmarks, face_landmarks
from generators.pony.scenery_painted import WeatherLayer
from generators.pony.visemes import MouthTrack

MARGIN = 0.16  # extra canvas around the view, room for camera moves
# brow-to-chin height of the face as a fraction of the frame height, per framing
# (the bust must still reach below the frame in the wide framing)
FACE_HEIGHT = {"wide": 0.27, "medium": 0.33, "close": 0.48}
FACE_Y = {"wide": 0.45, "medium": 0.47, "close": 0.52}
BACKGROUND_ZOOM = {"wide": 1.0, "medium": 1.25, "close": 1.6}


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


def _wave(hz: float, t: float, phase: float) -> float:
    return float(np.sin(2 * np.pi * hz * t + phase))


@dataclass(frozen=True)
class Motion:
    """Per-clip motion randomness: phases of head sway and camera shake, blink times."""

    phases: np.ndarray
    blinks: np.ndarray

    @staticmethod
    def make(seed: int, duration_s: float) -> Motion:
        rng = np.random.default_rng([seed, 3])
        blinks, t = [], rng.uniform(0.6, 1.8)
        while t < duration_s:
            blinks.append(t)
            t += rng.uniform(2.2, 4.8)
        return Motion(rng.uniform(0, 2 * np.pi, 8), np.array(blinks))

    def blink(self, t: float) -> float:
        if not len(self.blinks):
            return 0.0
        d = np.min(np.abs(self.blinks - t))
        return float(max(0.0, 1.0 - d / 0.08))

    def pose(self, t: float, mouth: MouthTrack, i: int, talking_head: bool = True) -> FacePose:
        p = self.phases
        k = min(i, len(mouth.open) - 1)
        speak = float(mouth.open[max(k - 3, 0):k + 1].mean()) if talking_head else 0.0
        return FacePose(
            open=float(mouth.open[k]), wide=float(mouth.wide[k]), round=float(mouth.round[k]),
            blink=self.blink(t),
            dx=0.010 * _wave(0.21, t, p[0]) + 0.004 * _wave(0.53, t, p[1]),
            dy=0.005 * _wave(0.17, t, p[2]) + 0.006 * speak,
            tilt=0.018 * _wave(0.13, t, p[3]) + 0.006 * _wave(0.41, t, p[4]),
        )


def camera_view(kind: str, u: float, t: float, canvas: tuple[int, int], view: tuple[int, int],
                focus: tuple[float, float], phases: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, zoom) of the view on the canvas at one moment of a camera move."""
    cw, ch = canvas
    vw, vh = view
    e = _ease(u)
    zoom = 1.0
    cx, cy = cw / 2, ch / 2
    if kind == "push_in":
        zoom = 1.0 + 0.12 * e
        cx, cy = cx + (focus[0] - cx) * 0.35 * e, cy + (focus[1] - cy) * 0.35 * e
    elif kind == "pull_out":
        zoom = 1.12 - 0.12 * e
        cx, cy = cx + (focus[0] - cx) * 0.35 * (1 - e), cy + (focus[1] - cy) * 0.35 * (1 - e)
    elif kind in ("pan_left", "pan_right"):
        reach = 0.8 * (cw - vw) / 2
        cx += reach * (2 * e - 1) * (1 if kind == "pan_right" else -1)
    elif kind == "handheld":
        zoom = 1.04
        cx += vw * (0.006 * np.sin(2 * np.pi * 0.7 * t + phases[5])
                    + 0.003 * np.sin(2 * np.pi * 1.9 * t + phases[6]))
        cy += vh * (0.006 * np.sin(2 * np.pi * 0.9 * t + phases[7])
                    + 0.003 * np.sin(2 * np.pi * 2.3 * t + phases[0]))
    hw, hh = vw / (2 * zoom), vh / (2 * zoom)
    cx = min(max(cx, hw), cw - hw)
    cy = min(max(cy, hh), ch - hh)
    return cx, cy, zoom


def crop_resize(src: np.ndarray, x0: float, y0: float, x1: float, y1: float,
                size: tuple[int, int]) -> np.ndarray:
    """The source rectangle (rounded to whole pixels) scaled to size; a plain copy at 1:1.

    Cropping and resizing costs a quarter of an affine warp of the whole frame, and camera
    moves need no rotation.
    """
    h, w = src.shape[:2]
    rw = min(max(int(round(x1 - x0)), 1), w)
    rh = min(max(int(round(y1 - y0)), 1), h)
    ix = min(max(int(round(x0)), 0), w - rw)
    iy = min(max(int(round(y0)), 0), h - rh)
    crop = src[iy:iy + rh, ix:ix + rw]
    if (rw, rh) == size:
        return crop.copy()
    return cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)


def _padded(portrait: Portrait) -> tuple[np.ndarray, np.ndarray]:
    """The bust extended downward so the body always reaches below the frame.

    The added rows repeat a heavily blurred copy of the bottom row: plain repetition of
    a badge or zip would draw stripes.
    """
    pad = portrait.image.shape[0] // 2
    w = portrait.image.shape[1]
    bottom = portrait.image[-6:].astype(np.float32).mean(axis=0, keepdims=True)
    bottom = cv2.GaussianBlur(bottom, (0, 0), sigmaX=0.04 * w, sigmaY=0.1)
    fill = np.repeat(np.clip(bottom, 0, 255).astype(np.uint8), pad, axis=0)
    img = np.concatenate([portrait.image, fill])
    mask = cv2.copyMakeBorder(portrait.mask, 0, pad, 0, 0, cv2.BORDER_REPLICATE)
    return img, mask


def canvas_size(view: tuple[int, int]) -> tuple[int, int]:
    return int(round(view[0] * (1 + MARGIN))), int(round(view[1] * (1 + MARGIN)))


def fit_image(image: np.ndarray, width: int, height: int,
              focus: tuple[float, float] | None = None) -> np.ndarray:
    """Scale an RGB image to cover width x height and crop it: the i2v first frame.

    The crop is centred, or, given `focus` (a point as fractions of the image's width and
    height, e.g. a face), placed so that point sits mid-width and 40 % down the frame.
    """
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    nw, nh = max(width, int(round(iw * scale))), max(height, int(round(ih * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    x0, y0 = (nw - width) // 2, (nh - height) // 2
    if focus is not None:
        x0 = int(min(max(focus[0] * nw - width / 2, 0), nw - width))
        y0 = int(min(max(focus[1] * nh - 0.4 * height, 0), nh - height))
    return np.ascontiguousarray(resized[y0:y0 + height, x0:x0 + width])


def first_frame(image: np.ndarray, width: int, height: int
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """The i2v first frame (the input fitted to the frame, keeping a face in view) and the
    landmarks of the face in it, if there is one."""
    ih, iw = image.shape[:2]
    found = face_landmarks(image, max_side=640)
    focus = None
    if found is not None:
        focus = (float(found[:, 0].mean()) / iw, float(found[:, 1].mean()) / ih)
    fitted = fit_image(image, width, height, focus)
    landmarks = face_landmarks(fitted, max_side=640) if found is not None else None
    return fitted, landmarks


class ImageRenderer:
    """Animates an input image: slow push-in with parallax, and a talking face if it has one."""

    def __init__(self, image: np.ndarray, landmarks: np.ndarray | None, plan: ShotPlan,
                 motion: Motion, talk: bool) -> None:
        self.canvas = image.copy()
        h, w = image.shape[:2]
        self.view = (w, h)
        self.motion, self.talk = motion, talk
        self.face = FaceAnimator(self.canvas, landmarks) if landmarks is not None else None
        if landmarks is not None:
            mask = bust_mask_from_landmarks((h, w), landmarks)
            self.focus = (float(landmarks[:, 0].mean()), float(landmarks[:, 1].mean()))
        else:
            mask = np.zeros((h, w), np.float32)
            cv2.ellipse(mask, (w // 2, int(h * 0.55)), (int(w * 0.28), int(h * 0.4)), 0, 0, 360,
                        1.0, -1)
            mask = cv2.GaussianBlur(mask, (0, 0), 0.04 * max(w, h))
            self.focus = (w / 2, h * 0.5)
        ys, xs = np.nonzero(mask > 0.01)
        pad = int(0.06 * max(w, h))
        self.box = (max(int(xs.min()) - pad, 0), max(int(ys.min()) - pad, 0),
                    min(int(xs.max()) + pad, w), min(int(ys.max()) + pad, h)) if len(xs) else (
            0, 0, w, h)
        self.mask = mask.astype(np.float32)
        # how much each pixel follows the subject rather than the background: a wide, soft
        # version of the subject's mask
        # The maps are smooth, so they are computed on a grid 4 times coarser and scaled up:
        # the sample points are where cv2.resize puts them, so affine parts come back exact.
        weight = cv2.GaussianBlur(self.mask, (0, 0), 0.05 * max(w, h))
        sw, sh = max(2, -(-w // 4)), max(2, -(-h // 4))
        self.weight = cv2.resize(weight, (sw, sh), interpolation=cv2.INTER_AREA)
        xs = (np.arange(sw, dtype=np.float32) + 0.5) * (w / sw) - 0.5
        ys = (np.arange(sh, dtype=np.float32) + 0.5) * (h / sh) - 0.5
        self.gx, self.gy = np.meshgrid(xs, ys)
        self.direction = 1 if (plan.seed >> 3) % 2 else -1
        self.weather = (WeatherLayer(plan.weather, w, h, plan.seed)
                        if plan.weather in ("rain", "snow") else None)

    def _source_rect(self, zoom: float, box: tuple[int, int, int, int]):
        """Where the pixels of `box` come from when zooming about the subject (identity at 1)."""
        fx, fy = self.focus
        w, h = self.view
        px, py = w / 2 + (fx - w / 2) * 0.5, h / 2 + (fy - h / 2) * 0.5
        x0, y0, x1, y1 = box
        return ((x0 - px) / zoom + px, (y0 - py) / zoom + py, (x1 - px) / zoom + px,
                (y1 - py) / zoom + py)

    def render(self, t: float, u: float, i: int, mouth: MouthTrack) -> np.ndarray:
        if self.face is not None:
            pose = self.motion.pose(t, mouth, i)
            if not self.talk:
                pose = FacePose(blink=pose.blink, dx=pose.dx, dy=pose.dy, tilt=pose.tilt)
            # a slight turn of the head over the clip
            turn = 0.035 * np.sin(np.pi * min(u * 1.4, 1.0))
            pose = FacePose(pose.open, pose.wide, pose.round, pose.blink, pose.dx + turn,
                            pose.dy, pose.tilt + 0.4 * turn)
            self.face.apply(self.canvas, pose)
        e = _ease(u)
        w, h = self.view
        fx, fy = self.focus
        px, py = w / 2 + (fx - w / 2) * 0.5, h / 2 + (fy - h / 2) * 0.5
        # background: push-in about the subject while the camera trucks sideways a little
        zb = 1.0 + 0.06 * e
        drift = np.float32(0.04 * w * e * self.direction)
        bx = (self.gx - px) / np.float32(zb) + np.float32(px) + drift
        by = (self.gy - py) / np.float32(zb) + np.float32(py)
        # subject: comes closer faster (parallax), breathes, and without a face sways about
        # its base; blended into the background's map, so no edge can ghost
        ramp = min(t / 0.6, 1.0)  # frame 0 stays the input
        zs = 1.0 + 0.10 * e
        breath = 1.0 + 0.012 * ramp * np.sin(2 * np.pi * 0.3 * t)
        angle = 0.0 if self.face is not None else 0.05 * ramp * np.sin(2 * np.pi * 0.3 * t)
        qx, qy = (self.box[0] + self.box[2]) / 2, self.box[3]
        c, s_ = np.float32(np.cos(angle)), np.float32(np.sin(angle))
        ux = (self.gx - px) / np.float32(zs) + np.float32(px - qx)
        uy = (self.gy - py) / np.float32(zs) + np.float32(py - qy)
        sx = c * ux + s_ * uy + np.float32(qx)
        sy = (-s_ * ux + c * uy) / np.float32(breath) + np.float32(qy)
        wgt = self.weight
        map_x = cv2.resize(bx + wgt * (sx - bx), (w, h), interpolation=cv2.INTER_LINEAR)
        map_y = cv2.resize(by + wgt * (sy - by), (w, h), interpolation=cv2.INTER_LINEAR)
        frame = cv2.remap(self.canvas, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)
        if self.weather is not None:
            self.weather.apply(frame, t, strength=min(t / 0.6, 1.0))  # frame 0 stays the input
        return frame
