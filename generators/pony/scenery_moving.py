"""Scenery that moves in pony's shots: drifting clouds, passing cars, surf, and a crowd."""

from __future__ import annotations

import cv2
import numpy as np

from generators.pony.plan import ShotPlan
from generators.pony.scenery_painted import HORIZON


class CloudLayer:
    """A band of soft clouds that drifts across the open sky (fast in a time-lapse)."""

    def __init__(
        self, plan: ShotPlan, canvas: tuple[int, int], sky: np.ndarray, timelapse: bool
    ) -> None:
        cw, ch = canvas
        rng = np.random.default_rng([plan.seed, 29])
        self.rows = max(int(HORIZON[plan.place] * ch), 8)
        # drawn three times side by side and blurred: the middle copy wraps without a seam
        wide = np.zeros((self.rows, 3 * cw), np.uint8)
        for _ in range(int(10 if plan.place != "sky" else 18)):
            cx, cy = rng.uniform(0, cw), rng.uniform(0.08, 0.75) * self.rows
            for _ in range(int(rng.integers(4, 8))):
                ax = rng.uniform(0.03, 0.08) * cw
                x, y = cx + rng.normal(0, 0.05 * cw), cy + rng.normal(0, 0.02 * ch)
                axes = (int(ax), int(ax * rng.uniform(0.3, 0.55)))
                for copy in range(3):
                    cv2.ellipse(wide, (int(x + copy * cw), int(y)), axes, 0, 0, 360, 255, -1)
        wide = cv2.GaussianBlur(wide, (0, 0), 0.01 * cw + 1)
        sheet = np.concatenate([wide[:, cw : 2 * cw], wide[:, cw : 2 * cw]], axis=1)
        self.alpha = sheet.astype(np.float32) / 255.0 * 0.85
        self.sky = sky[: self.rows]
        self.cw = cw
        colour = {"day": (238, 240, 245), "sunset": (255, 185, 150), "night": (55, 60, 80)}[
            plan.time_of_day
        ]
        if plan.weather in ("rain", "fog"):
            colour = (125, 130, 140)
        self.colour = np.full((self.rows, cw, 3), colour, np.uint8)
        self.speed = (0.22 if timelapse else 0.025) * cw  # pixels per second

    def apply(self, canvas: np.ndarray, t: float) -> None:
        off = int(t * self.speed) % self.cw
        a = np.ascontiguousarray(self.alpha[:, off : off + self.cw] * self.sky, np.float32)
        region = canvas[: self.rows]
        region[:] = cv2.blendLinear(self.colour, region, a, 1.0 - a)


class Traffic:
    """Cars passing along the street, in both directions."""

    def __init__(self, plan: ShotPlan, canvas: tuple[int, int], view: tuple[int, int]) -> None:
        cw, ch = canvas
        vw, vh = view
        rng = np.random.default_rng([plan.seed, 31])
        horizon = HORIZON["street"] * ch
        self.night = plan.time_of_day == "night"
        self.cars = []
        for k in range(4):
            lane = horizon + (0.1 + 0.06 * (k % 2)) * ch
            size = 0.09 * vh * (1.0 + 0.25 * (k % 2))
            direction = 1 if k % 2 else -1
            colour = tuple(
                int(c)
                for c in rng.choice(
                    [(180, 30, 30), (30, 60, 150), (220, 220, 220), (40, 40, 45), (200, 170, 40)]
                )
            )
            self.cars.append(
                (rng.uniform(0, cw), lane, size, direction, rng.uniform(0.35, 0.6) * vw, colour)
            )
        self.cw = cw

    def apply(self, canvas: np.ndarray, t: float) -> None:
        span = self.cw + 600
        for x0, lane, size, direction, speed, colour in self.cars:
            x = (x0 + direction * speed * t) % span - 300
            length, height = 2.6 * size, 0.7 * size
            body = (int(x), int(lane - height), int(x + length), int(lane))
            cv2.rectangle(canvas, body[:2], body[2:], colour, -1, cv2.LINE_AA)
            cv2.rectangle(
                canvas,
                (int(x + 0.25 * length), int(lane - 1.25 * height)),
                (int(x + 0.75 * length), int(lane - height)),
                tuple(int(c * 0.7) for c in colour),
                -1,
                cv2.LINE_AA,
            )
            for wx in (0.2, 0.8):
                cv2.circle(
                    canvas,
                    (int(x + wx * length), int(lane)),
                    max(2, int(0.22 * size)),
                    (15, 15, 15),
                    -1,
                    cv2.LINE_AA,
                )
            if self.night:
                front = x + (length if direction > 0 else 0)
                cv2.circle(
                    canvas,
                    (int(front), int(lane - 0.4 * height)),
                    max(2, int(0.12 * size)),
                    (255, 240, 180),
                    -1,
                    cv2.LINE_AA,
                )


class Surf:
    """The edge of the sea running up the sand and back."""

    def __init__(self, plan: ShotPlan, canvas: tuple[int, int]) -> None:
        cw, ch = canvas
        self.y = (HORIZON["beach"] + 0.2) * ch
        self.cw, self.ch = cw, ch
        self.colour = (240, 240, 235) if plan.time_of_day != "night" else (120, 125, 135)
        self.sea: tuple[int, ...] | None = None  # the painted sea's own colour, read once
        self.phase = float(np.random.default_rng([plan.seed, 37]).uniform(0, 6))

    def apply(self, canvas: np.ndarray, t: float) -> None:
        reach = 0.05 * self.ch * (0.5 + 0.5 * np.sin(2 * np.pi * t / 3.2 + self.phase))
        xs = np.linspace(0, self.cw, 24)
        edge = self.y + reach + 0.008 * self.ch * np.sin(xs / self.cw * 9 + t * 1.3)
        pts = np.stack([xs, edge], 1)
        poly = np.concatenate([[[0, self.y - 2]], pts, [[self.cw, self.y - 2]]])
        if self.sea is None:
            row = canvas[max(int(self.y) - 4, 0)]
            self.sea = tuple(int(v) for v in np.median(row, axis=0))
        cv2.fillPoly(canvas, [poly.astype(np.int32)], self.sea, cv2.LINE_AA)
        cv2.polylines(
            canvas,
            [pts.astype(np.int32)],
            False,
            self.colour,
            max(2, int(0.007 * self.ch)),
            cv2.LINE_AA,
        )


def paint_crowd(canvas: np.ndarray, plan: ShotPlan, view: tuple[int, int]) -> None:
    """Distant people near the horizon: soft silhouettes, no faces to find."""
    ch, cw = canvas.shape[:2]
    vw, vh = view
    rng = np.random.default_rng([plan.seed, 41])
    base = min(HORIZON[plan.place] * ch + 0.06 * ch, 0.95 * ch)
    night = plan.time_of_day == "night"
    for row in range(2):
        size = 0.07 * vh * (1 + 0.4 * row)
        y = base + row * 0.05 * ch
        for x in np.arange(rng.uniform(0, size), cw, size * rng.uniform(0.9, 1.3)):
            tone = rng.uniform(40, 140) * (0.4 if night else 1.0)
            c = tuple(float(v) for v in np.clip(tone * rng.uniform(0.7, 1.3, 3), 0, 255))
            xx = x + rng.normal(0, 0.2 * size)
            cv2.ellipse(
                canvas,
                (int(xx), int(y)),
                (int(0.32 * size), int(0.7 * size)),
                0,
                180,
                360,
                c,
                -1,
                cv2.LINE_AA,
            )
            skin = tuple(v * 0.55 for v in (150, 115, 95)) if not night else (35, 32, 35)
            cv2.circle(
                canvas,
                (int(xx), int(y - 0.85 * size)),
                max(2, int(0.17 * size)),
                skin,
                -1,
                cv2.LINE_AA,
            )
