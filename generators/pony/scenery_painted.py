"""Procedural backgrounds and weather layers for pony's settings."""

from __future__ import annotations

import cv2
import numpy as np

from generators.pony.plan import ShotPlan

_SKY = {"day": ((70, 130, 210), (185, 215, 240)), "sunset": ((70, 55, 125), (250, 160, 95)),
        "night": ((6, 10, 30), (30, 38, 75))}


def _gradient(h: int, w: int, top, bottom) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    col = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return np.repeat(col, w, axis=1)


def _blend(img: np.ndarray, mask: np.ndarray, color, alpha: float = 1.0) -> None:
    a = (mask.astype(np.float32) / 255.0 * alpha)[..., None]
    img[:] = img * (1 - a) + np.asarray(color, np.float32) * a


def _clouds(img, rng, horizon, n, color, alpha):
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for _ in range(n):
        cx, cy = rng.uniform(0, w), rng.uniform(0.05 * h, max(horizon * 0.8, 0.1 * h))
        for _ in range(int(rng.integers(3, 7))):
            ax = rng.uniform(0.04, 0.1) * w
            center = (int(cx + rng.normal(0, 0.05 * w)), int(cy + rng.normal(0, 0.01 * h)))
            cv2.ellipse(mask, center, (int(ax), int(ax * rng.uniform(0.35, 0.6))), 0, 0, 360,
                        255, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.012 * w + 1)
    _blend(img, mask, color, alpha)


def _sky(plan: ShotPlan, h: int, w: int, rng, horizon: float) -> np.ndarray:
    top, bottom = _SKY[plan.time_of_day]
    if plan.weather in ("rain", "fog"):
        top, bottom = (90, 98, 110), (150, 155, 165)
        if plan.time_of_day == "night":
            top, bottom = (15, 18, 26), (45, 50, 62)
    img = _gradient(h, w, top, bottom)
    if plan.time_of_day == "night" and plan.weather == "clear":
        n = int(w * h / 900)
        ys, xs = rng.integers(0, int(horizon), n), rng.integers(0, w, n)
        img[ys, xs] = rng.uniform(120, 255, (n, 1))
        cv2.circle(img, (int(0.8 * w), int(0.15 * h)), int(0.04 * h), (235, 235, 215), -1)
    elif plan.time_of_day == "sunset":
        glow = np.zeros((h, w), np.uint8)
        cv2.circle(glow, (int(rng.uniform(0.2, 0.8) * w), int(horizon)), int(0.09 * h), 255, -1)
        _blend(img, cv2.GaussianBlur(glow, (0, 0), 0.05 * h), (255, 215, 140), 0.9)
    cloud_color = (220, 222, 228) if plan.time_of_day == "day" else (
        (255, 170, 130) if plan.time_of_day == "sunset" else (40, 44, 60))
    if plan.weather in ("rain", "fog"):
        cloud_color = (110, 115, 125)
    _clouds(img, rng, horizon, 5 if plan.place != "sky" else 14, cloud_color, 0.8)
    return img


def _buildings(img, rng, horizon, night):
    h, w = img.shape[:2]
    for layer, shade in ((0, 0.55), (1, 0.8)):
        x = -rng.uniform(0, 0.05 * w)
        while x < w:
            bw = rng.uniform(0.06, 0.14) * w
            top = horizon - rng.uniform(0.12, 0.45) * h * (0.8 if layer == 0 else 1.0)
            base = rng.uniform(70, 150) * shade
            color = (base, base * 0.95, base * 0.9) if not night else (25 * shade, 28 * shade,
                                                                       40 * shade)
            cv2.rectangle(img, (int(x), int(top)), (int(x + bw), int(horizon)), color, -1)
            if layer == 1:
                for wy in np.arange(top + 0.02 * h, horizon - 0.03 * h, 0.045 * h):
                    for wx in np.arange(x + 0.012 * w, x + bw - 0.02 * w, 0.028 * w):
                        lit = rng.random() < (0.45 if night else 0.0)
                        c = (250, 215, 130) if lit else (base * 0.6, base * 0.65, base * 0.75)
                        cv2.rectangle(img, (int(wx), int(wy)), (int(wx + 0.014 * w),
                                                                int(wy + 0.022 * h)), c, -1)
            x += bw + rng.uniform(0.0, 0.02) * w


def _street(img, plan, rng):
    h, w = img.shape[:2]
    horizon = 0.62 * h
    night = plan.time_of_day == "night"
    _buildings(img, rng, horizon, night)
    road = (60, 62, 68) if not night else (22, 24, 30)
    if plan.weather == "rain":
        road = tuple(c * 0.8 for c in road)
    cv2.rectangle(img, (0, int(horizon)), (w, h), road, -1)
    cv2.rectangle(img, (0, int(horizon)), (w, int(horizon + 0.04 * h)), (120, 118, 112) if not
                  night else (45, 45, 50), -1)
    for x in np.arange(-0.1 * w, w, 0.18 * w):  # lane dashes in perspective
        cv2.line(img, (int(x), int(0.85 * h)), (int(x + 0.08 * w), int(0.85 * h)),
                 (220, 210, 150), max(2, int(0.006 * h)))
    if night:
        for x in np.arange(0.1 * w, w, 0.3 * w):
            cv2.line(img, (int(x), int(horizon)), (int(x), int(0.25 * h)), (30, 30, 35),
                     max(2, int(0.008 * w)))
            glow = np.zeros((h, w), np.uint8)
            cv2.circle(glow, (int(x), int(0.25 * h)), int(0.05 * h), 255, -1)
            _blend(img, cv2.GaussianBlur(glow, (0, 0), 0.03 * h), (255, 200, 120), 0.8)
    if plan.weather == "rain":  # wet road reflects the sky and lights
        refl = cv2.flip(img[int(2 * horizon - h):int(horizon)], 0)
        if refl.shape[0] == h - int(horizon):
            img[int(horizon):] = img[int(horizon):] * 0.7 + refl * 0.3


def _beach(img, plan, rng):
    h, w = img.shape[:2]
    horizon = 0.55 * h
    sea_top = (40, 90, 140) if plan.time_of_day == "day" else (
        (120, 80, 110) if plan.time_of_day == "sunset" else (10, 20, 40))
    sea = _gradient(int(0.2 * h), w, sea_top, tuple(c * 0.8 + 30 for c in sea_top))
    img[int(horizon):int(horizon) + sea.shape[0]] = sea
    for y in np.arange(horizon + 0.01 * h, horizon + 0.2 * h, 0.018 * h):
        for _ in range(6):
            x = rng.uniform(0, w)
            cv2.line(img, (int(x), int(y)), (int(x + rng.uniform(0.02, 0.08) * w), int(y)),
                     tuple(min(255, c + 60) for c in sea_top), 1)
    sand = (215, 195, 150) if plan.time_of_day != "night" else (60, 58, 60)
    y0 = int(horizon + 0.2 * h)
    img[y0:] = _gradient(h - y0, w, tuple(c * 0.9 for c in sand), sand)
    cv2.line(img, (0, y0), (w, y0), (240, 240, 235), max(2, int(0.008 * h)))


def _forest(img, plan, rng):
    h, w = img.shape[:2]
    horizon = 0.7 * h
    night = plan.time_of_day == "night"
    for layer, (depth, green) in enumerate(((0.55, (70, 110, 80)), (0.75, (40, 85, 50)),
                                            (1.0, (20, 55, 30)))):
        g = tuple(c * (0.35 if night else 1.0) for c in green)
        for x in np.arange(-0.05 * w, 1.05 * w, rng.uniform(0.05, 0.08) * w / depth):
            th = rng.uniform(0.25, 0.5) * h * depth
            tw = th * 0.32
            base = horizon + layer * 0.04 * h
            pts = np.array([[x, base - th], [x - tw / 2, base], [x + tw / 2, base]], np.int32)
            cv2.fillPoly(img, [pts], g)
    ground = (45, 75, 40) if not night else (12, 20, 14)
    img[int(horizon + 0.08 * h):] = _gradient(h - int(horizon + 0.08 * h), w, ground,
                                              tuple(c * 0.7 for c in ground))


def _interior(img, plan, rng):
    h, w = img.shape[:2]
    wall = np.array(rng.choice([(190, 170, 140), (150, 160, 150), (175, 150, 150)]), np.float32)
    img[:] = _gradient(h, w, wall * 0.85, wall * 1.05)
    win_x = int(rng.uniform(0.05, 0.2) * w) if rng.random() < 0.5 else int(0.65 * w)
    win = (win_x, int(0.15 * h), int(0.25 * w), int(0.4 * h))
    sky = _gradient(win[3], win[2], *_SKY[plan.time_of_day])
    if plan.weather == "rain":
        sky = _gradient(win[3], win[2], (90, 98, 110), (150, 155, 165))
    img[win[1]:win[1] + win[3], win[0]:win[0] + win[2]] = sky
    cv2.rectangle(img, (win[0], win[1]), (win[0] + win[2], win[1] + win[3]), (90, 70, 50),
                  max(3, int(0.012 * w)))
    cv2.line(img, (win[0] + win[2] // 2, win[1]), (win[0] + win[2] // 2, win[1] + win[3]),
             (90, 70, 50), max(2, int(0.008 * w)))
    for _ in range(3):  # frames and shelves
        x, y = rng.uniform(0.05, 0.85) * w, rng.uniform(0.1, 0.5) * h
        fw, fh = rng.uniform(0.06, 0.12) * w, rng.uniform(0.06, 0.14) * h
        cv2.rectangle(img, (int(x), int(y)), (int(x + fw), int(y + fh)),
                      tuple(float(c) for c in rng.uniform(40, 200, 3)), -1)
        cv2.rectangle(img, (int(x), int(y)), (int(x + fw), int(y + fh)), (70, 50, 35),
                      max(2, int(0.005 * w)))
    floor_y = int(0.78 * h)
    img[floor_y:] = _gradient(h - floor_y, w, (120, 80, 50), (90, 58, 36))
    for x in np.arange(0, w, 0.07 * w):
        cv2.line(img, (int(x), floor_y), (int(x - 0.05 * w), h), (80, 52, 32), 1)
    glow = np.zeros((h, w), np.uint8)
    cv2.circle(glow, (int(rng.uniform(0.2, 0.8) * w), int(0.2 * h)), int(0.15 * h), 255, -1)
    _blend(img, cv2.GaussianBlur(glow, (0, 0), 0.12 * h), (255, 225, 170), 0.35)


def _snow(img, plan, rng):
    h, w = img.shape[:2]
    horizon = 0.62 * h
    for layer, shade in ((0, (150, 160, 185)), (1, (110, 120, 145))):
        x = -0.1 * w
        while x < 1.1 * w:
            pw, ph = rng.uniform(0.2, 0.4) * w, rng.uniform(0.2, 0.4) * h * (1 - 0.2 * layer)
            peak = (x + pw / 2, horizon - ph)
            pts = np.array([[x, horizon], peak, [x + pw, horizon]], np.int32)
            cv2.fillPoly(img, [pts], shade)
            cap = np.array([peak, [peak[0] - pw * 0.12, peak[1] + ph * 0.25],
                            [peak[0] + pw * 0.12, peak[1] + ph * 0.25]], np.int32)
            cv2.fillPoly(img, [cap], (245, 245, 250))
            x += pw * 0.6
    img[int(horizon):] = _gradient(h - int(horizon), w, (225, 230, 240), (250, 250, 255))


def _desert(img, plan, rng):
    h, w = img.shape[:2]
    xs = np.arange(w)
    for layer, color in enumerate(((220, 170, 110), (200, 145, 90), (180, 125, 75))):
        base = (0.6 + 0.1 * layer) * h
        ph = rng.uniform(0, 6)
        top = base - 0.05 * h * np.sin(xs / w * rng.uniform(3, 7) + ph)
        for x in range(0, w, 2):
            img[int(top[x]):, x:x + 2] = color


def _field(img, plan, rng):
    h, w = img.shape[:2]
    xs = np.arange(w)
    night = plan.time_of_day == "night"
    for layer, color in enumerate(((110, 160, 90), (80, 140, 60), (60, 120, 45))):
        c = tuple(v * (0.3 if night else 1.0) for v in color)
        base = (0.6 + 0.08 * layer) * h
        top = base - 0.06 * h * np.sin(xs / w * rng.uniform(2, 5) + rng.uniform(0, 6))
        for x in range(0, w, 2):
            img[int(top[x]):, x:x + 2] = c


def _sky_place(img, plan, rng):
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for _ in range(40):
        cv2.circle(mask, (int(rng.uniform(0, w)), int(rng.uniform(0.7, 1.0) * h)),
                   int(rng.uniform(0.05, 0.15) * h), 255, -1)
    color = (245, 245, 250) if plan.time_of_day == "day" else (
        (250, 190, 160) if plan.time_of_day == "sunset" else (50, 55, 75))
    _blend(img, cv2.GaussianBlur(mask, (0, 0), 0.02 * h), color, 1.0)


_PAINTERS = {"street": _street, "beach": _beach, "forest": _forest, "interior": _interior,
             "snow": _snow, "desert": _desert, "field": _field, "sky": _sky_place}
HORIZON = _HORIZON = {"street": 0.62, "beach": 0.55, "forest": 0.7, "interior": 0.5, "snow": 0.62,
            "desert": 0.6, "field": 0.6, "sky": 0.8}


def paint_background(plan: ShotPlan, width: int, height: int, blur: float = 0.6,
                     sky_out: list | None = None) -> np.ndarray:
    """The scene behind the character, RGB uint8 (height, width, 3), at full resolution with
    a touch of blur (closer framings blur it more, like a lens focused on the character).

    Given a list as sky_out, appends the float32 (height, width) share of open sky per pixel
    (where drifting clouds may pass)."""
    rng = np.random.default_rng([plan.seed, 7])
    width, height = int(width), int(height)
    w, h = max(64, width), max(64, height)
    img = _sky(plan, h, w, rng, _HORIZON[plan.place] * h)
    sky = img.copy() if sky_out is not None else None
    _PAINTERS[plan.place](img, plan, rng)
    if sky is not None:
        open_sky = (np.abs(img - sky).max(axis=2) < 1.0).astype(np.float32)
        open_sky = cv2.resize(open_sky, (width, height), interpolation=cv2.INTER_AREA)
        sky_out.append(cv2.GaussianBlur(open_sky, (0, 0), 1.0))
    if plan.weather == "fog":
        img[:] = img * 0.55 + np.float32(190) * 0.45
    elif plan.weather == "snow":
        n = int(w * h / 400)
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        img[ys, xs] = 245
    img = cv2.resize(np.clip(img, 0, 255).astype(np.uint8), (width, height),
                     interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(img, (0, 0), blur * max(width, height) / 1000.0)


def character_grade(plan: ShotPlan) -> np.ndarray:
    """Per-channel gain that puts the character in the scene's light."""
    gain = {"day": (1.0, 1.0, 1.0), "sunset": (1.08, 0.95, 0.84),
            "night": (0.78, 0.8, 0.95)}[plan.time_of_day]
    if plan.weather in ("rain", "fog"):
        gain = tuple(g * f for g, f in zip(gain, (0.9, 0.93, 0.98), strict=True))
    if plan.place == "interior":
        gain = tuple(g * f for g, f in zip(gain, (1.03, 1.0, 0.95), strict=True))
    return np.asarray(gain, np.float32)


class WeatherLayer:
    """Falling rain or snow drawn over the picture, one precomputed sheet scrolled per frame."""

    def __init__(self, kind: str, width: int, height: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 11])
        self.kind, self.height = kind, height
        sheet = np.zeros((2 * height, width), np.uint8)
        scale = height / 720.0
        if kind == "rain":
            for _ in range(int(width * height / 2500)):
                x, y = rng.uniform(0, width), rng.uniform(0, 2 * height)
                length = rng.uniform(18, 40) * scale
                cv2.line(sheet, (int(x), int(y)), (int(x - 0.18 * length), int(y + length)),
                         int(rng.uniform(50, 110)), max(1, int(scale)), cv2.LINE_AA)
            self.speed = 1.6 * height  # pixels per second
        else:
            for _ in range(int(width * height / 3000)):
                cv2.circle(sheet, (int(rng.uniform(0, width)), int(rng.uniform(0, 2 * height))),
                           max(1, int(rng.uniform(1, 3.5) * scale)), int(rng.uniform(150, 240)),
                           -1, cv2.LINE_AA)
            self.speed = 0.12 * height
        sheet[height:] = np.maximum(sheet[height:], sheet[:height])  # wraps without a seam
        sheet[:height] = sheet[height:]
        self.sheet = cv2.cvtColor(sheet, cv2.COLOR_GRAY2RGB)

    def apply(self, frame: np.ndarray, t: float, strength: float = 1.0) -> None:
        offset = int(self.height - (t * self.speed) % self.height)
        layer = self.sheet[offset:offset + self.height]
        if strength >= 1.0:
            cv2.add(frame, layer, dst=frame)
        elif strength > 0.0:
            frame[:] = cv2.addWeighted(frame, 1.0, layer, strength, 0.0)
