"""Animals for pony: cats, dogs, horses and birds drawn in motion, and the sounds they make."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_COATS = {
    "cat": ((205, 125, 55), (125, 125, 130), (35, 33, 33), (230, 225, 215)),
    "dog": ((125, 82, 45), (205, 165, 95), (40, 36, 34), (225, 220, 210)),
    "horse": ((105, 62, 36), (60, 38, 28), (222, 218, 208), (150, 110, 70)),
    "bird": ((40, 40, 45), (70, 60, 55), (230, 230, 230), (30, 30, 30)),
}
# body height (shoulder to ground) as a share of the view height, and speed in view widths/s
SIZE = {"cat": 0.16, "dog": 0.22, "horse": 0.5, "bird": 0.05}
SPEED = {"cat": 0.0, "dog": 0.22, "horse": 0.12, "bird": 0.1}


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x * 16)), int(round(y * 16))  # 4 fractional bits for smooth motion


def _ellipse(img, c, axes, angle, colour) -> None:
    cv2.ellipse(
        img,
        _pt(*c),
        _pt(max(axes[0], 0.5), max(axes[1], 0.5)),
        angle,
        0,
        360,
        colour,
        -1,
        cv2.LINE_AA,
        4,
    )


def _line(img, a, b, colour, width) -> None:
    cv2.line(img, _pt(*a), _pt(*b), colour, max(1, int(round(width))), cv2.LINE_AA, 4)


def _poly(img, pts, colour) -> None:
    cv2.fillPoly(img, [np.array([_pt(*p) for p in pts], np.int32)], colour, cv2.LINE_AA, 4)


def _legs(img, x, y, h, s, phase, colour, spread, length, width, gait_amp) -> None:
    """Four legs hanging from the body line y, swinging in a walk cycle."""
    for k, (dx, ph) in enumerate(
        ((-spread, 0.0), (-spread + 0.12 * h, np.pi), (spread, np.pi), (spread - 0.12 * h, 0.0))
    ):
        swing = gait_amp * np.sin(phase + ph)
        shade = tuple(int(c * (0.8 if k % 2 else 1.0)) for c in colour)
        knee = (x + s * dx + s * swing * 0.5 * length, y + 0.55 * length)
        foot = (x + s * dx + s * swing * length, y + length)
        _line(img, (x + s * dx, y), knee, shade, width)
        _line(img, knee, foot, shade, width * 0.85)


def draw_cat(img, x, y_ground, h, t, facing, coat, moving) -> None:
    s = facing
    phase = 2 * np.pi * 2.2 * t
    body_y = y_ground - 0.55 * h
    breathe = 1.0 + 0.03 * np.sin(2 * np.pi * 0.5 * t)
    _legs(
        img,
        x,
        body_y,
        h,
        s,
        phase if moving else 0.0,
        coat,
        0.38 * h,
        0.58 * h,
        0.1 * h,
        0.35 if moving else 0.0,
    )
    tail_a = 0.6 * np.sin(2 * np.pi * 0.7 * t)
    base = (x - s * 0.6 * h, body_y - 0.05 * h)
    mid = (base[0] - s * 0.35 * h, base[1] - 0.35 * h + 0.1 * h * tail_a)
    tip = (mid[0] - s * 0.15 * h * np.cos(tail_a), mid[1] - 0.3 * h)
    _line(img, base, mid, coat, 0.1 * h)
    _line(img, mid, tip, coat, 0.08 * h)
    _ellipse(img, (x, body_y), (0.62 * h, 0.27 * h * breathe), 0, coat)
    bob = 0.03 * h * np.sin(2 * np.pi * 0.4 * t)
    head = (x + s * 0.62 * h, body_y - 0.35 * h + bob)
    for ex in (-0.13, 0.13):  # ears
        _poly(
            img,
            [
                (head[0] + (ex - 0.1) * h, head[1] - 0.12 * h),
                (head[0] + (ex + 0.1) * h, head[1] - 0.12 * h),
                (head[0] + ex * h, head[1] - 0.38 * h),
            ],
            coat,
        )
    _ellipse(img, head, (0.24 * h, 0.21 * h), 0, coat)
    for ex in (-0.08, 0.08):
        _ellipse(
            img,
            (head[0] + s * 0.04 * h + ex * h, head[1] - 0.03 * h),
            (0.035 * h, 0.045 * h),
            0,
            (90, 160, 60),
        )
    _ellipse(
        img,
        (head[0] + s * 0.12 * h, head[1] + 0.08 * h),
        (0.035 * h, 0.025 * h),
        0,
        (200, 120, 120),
    )


def draw_dog(img, x, y_ground, h, t, facing, coat, moving) -> None:
    s = facing
    phase = 2 * np.pi * (2.6 if moving else 0.0) * t
    body_y = y_ground - 0.6 * h + (0.04 * h * abs(np.sin(phase)) if moving else 0.0)
    _legs(img, x, body_y, h, s, phase, coat, 0.42 * h, 0.62 * h, 0.12 * h, 0.45 if moving else 0.0)
    wag = np.sin(2 * np.pi * 3.0 * t)
    base = (x - s * 0.62 * h, body_y - 0.08 * h)
    _line(img, base, (base[0] - s * 0.28 * h, base[1] - 0.3 * h + 0.12 * h * wag), coat, 0.09 * h)
    _ellipse(img, (x, body_y), (0.68 * h, 0.28 * h), 0, coat)
    head = (x + s * 0.72 * h, body_y - 0.38 * h + 0.03 * h * np.sin(phase * 0.5))
    _line(img, (x + s * 0.45 * h, body_y - 0.1 * h), head, coat, 0.3 * h)
    _ellipse(img, head, (0.25 * h, 0.22 * h), 0, coat)
    _ellipse(img, (head[0] + s * 0.26 * h, head[1] + 0.06 * h), (0.17 * h, 0.11 * h), 0, coat)
    _ellipse(
        img, (head[0] + s * 0.42 * h, head[1] + 0.02 * h), (0.05 * h, 0.04 * h), 0, (20, 20, 20)
    )
    ear = tuple(int(c * 0.6) for c in coat)
    _ellipse(
        img,
        (head[0] - s * 0.12 * h, head[1] + 0.05 * h),
        (0.08 * h, 0.18 * h),
        15 * s + 8 * wag,
        ear,
    )
    _ellipse(
        img, (head[0] + s * 0.08 * h, head[1] - 0.05 * h), (0.035 * h, 0.035 * h), 0, (20, 20, 20)
    )


def draw_horse(img, x, y_ground, h, t, facing, coat, moving, grazing=False) -> None:
    s = facing
    phase = 2 * np.pi * (1.6 if moving else 0.0) * t
    body_y = y_ground - 0.62 * h + (0.02 * h * abs(np.sin(phase)) if moving else 0.0)
    dark = tuple(int(c * 0.55) for c in coat)
    _legs(img, x, body_y, h, s, phase, coat, 0.3 * h, 0.62 * h, 0.06 * h, 0.3 if moving else 0.0)
    swish = 0.15 * np.sin(2 * np.pi * 0.6 * t)
    tail = (x - s * 0.42 * h, body_y - 0.08 * h)
    _line(img, tail, (tail[0] - s * (0.12 + swish) * h, tail[1] + 0.45 * h), dark, 0.06 * h)
    _ellipse(img, (x, body_y), (0.45 * h, 0.17 * h), 0, coat)
    nod = 0.25 if grazing else 0.0
    nod += 0.05 * np.sin(2 * np.pi * (1.6 if moving else 0.3) * t)
    neck_base = (x + s * 0.32 * h, body_y - 0.05 * h)
    head = (x + s * (0.58 + 0.1 * nod) * h, body_y - (0.48 - 0.6 * nod) * h)
    _poly(
        img,
        [
            (neck_base[0] - s * 0.12 * h, neck_base[1] - 0.05 * h),
            (neck_base[0] + s * 0.12 * h, neck_base[1] + 0.08 * h),
            (head[0] + s * 0.02 * h, head[1] + 0.06 * h),
            (head[0] - s * 0.1 * h, head[1] - 0.05 * h),
        ],
        coat,
    )
    _line(
        img,
        (neck_base[0] - s * 0.1 * h, neck_base[1] - 0.06 * h),
        (head[0] - s * 0.1 * h, head[1] - 0.06 * h),
        dark,
        0.05 * h,
    )
    muzzle = (head[0] + s * 0.16 * h, head[1] + 0.08 * h)
    _line(img, head, muzzle, coat, 0.12 * h)
    _ellipse(img, head, (0.09 * h, 0.07 * h), -30 * s, coat)
    _poly(
        img,
        [
            (head[0] - s * 0.05 * h, head[1] - 0.05 * h),
            (head[0] - s * 0.01 * h, head[1] - 0.05 * h),
            (head[0] - s * 0.04 * h, head[1] - 0.15 * h),
        ],
        coat,
    )
    _ellipse(
        img, (head[0] + s * 0.02 * h, head[1] - 0.01 * h), (0.015 * h, 0.015 * h), 0, (15, 15, 15)
    )


def draw_bird(img, x, y, h, t, facing, coat, phase) -> None:
    flap = np.sin(2 * np.pi * 4.0 * t + phase)
    span = 1.6 * h
    tip_y = y - 0.8 * h * flap
    _line(img, (x, y), (x - span, tip_y), coat, 0.25 * h)
    _line(img, (x, y), (x + span, tip_y), coat, 0.25 * h)
    _ellipse(img, (x, y), (0.45 * h, 0.22 * h), 0, coat)


@dataclass(frozen=True)
class AnimalTrack:
    """Where one animal is and how it moves through a clip (canvas coordinates)."""

    kind: str
    x0: float
    ground: float
    height: float
    facing: int
    speed: float  # pixels per second
    coat: tuple[int, int, int]
    moving: bool
    grazing: bool
    phase: float

    def draw(self, img: np.ndarray, t: float, width: int) -> None:
        x = self.x0 + self.facing * self.speed * t
        if self.kind == "bird":
            span = width + 8 * self.height
            for k in range(5):  # a small flock, each bird on its own line and beat
                bx = (x + 3.5 * k * self.height * self.facing - 4 * self.height) % span
                by = (
                    self.ground
                    + (k % 3 - 1) * 2.2 * self.height
                    + 0.6 * self.height * np.sin(0.9 * t + k)
                )
                draw_bird(
                    img,
                    bx - 4 * self.height,
                    by,
                    self.height,
                    t,
                    self.facing,
                    self.coat,
                    self.phase + 1.7 * k,
                )
            return
        drawer = {"cat": draw_cat, "dog": draw_dog, "horse": draw_horse}[self.kind]
        if self.kind == "horse":
            drawer(
                img,
                x,
                self.ground,
                self.height,
                t,
                self.facing,
                self.coat,
                self.moving,
                self.grazing,
            )
        else:
            drawer(img, x, self.ground, self.height, t, self.facing, self.coat, self.moving)


def animal_tracks(
    animals: tuple[str, ...],
    actions: tuple[str, ...],
    prompt_words: str,
    canvas: tuple[int, int],
    view: tuple[int, int],
    seed: int,
    duration_s: float,
    ground_y: float,
    ridden: bool = False,
) -> list[AnimalTrack]:
    """A moving track for each animal the prompt names, spread over the frame."""
    rng = np.random.default_rng([seed, 23])
    cw, ch = canvas
    vw, vh = view
    tracks = []
    for k, kind in enumerate(animals):
        facing = 1 if rng.random() < 0.5 else -1
        h = SIZE[kind] * vh
        moving = (
            kind == "bird"
            or bool({"runs", "walks", "rides"} & set(actions))
            or kind in ("dog", "horse")
        )
        speed = SPEED[kind] * vw * (1.6 if "runs" in actions and kind != "bird" else 1.0)
        if kind == "cat" and not ({"runs", "walks"} & set(actions)):
            moving, speed = False, 0.0
        if kind == "horse" and ("grazes" in prompt_words or "grazing" in prompt_words):
            moving, speed = True, 0.04 * vw
        # start so that the animal is in view through the clip: centred on its path's middle
        lane = (k + 0.5) / max(len(animals), 1)
        mid = (cw - vw) / 2 + vw * (0.25 + 0.5 * lane)
        x0 = mid - facing * speed * duration_s / 2
        if kind == "bird":
            ground = (ch - vh) / 2 + vh * rng.uniform(0.15, 0.3)
        else:
            ground = ground_y + (0.02 + 0.04 * k) * vh
        coat = _COATS[kind][int(rng.integers(0, 3 if kind != "bird" else 2))]
        tracks.append(
            AnimalTrack(
                kind,
                float(x0),
                float(ground),
                float(h),
                facing,
                float(speed),
                coat,
                moving,
                "graz" in prompt_words,
                float(rng.uniform(0, 6)),
            )
        )
    return tracks


# -- sounds -----------------------------------------------------------------------------------


def _tone(f: np.ndarray, sr: int, harmonics=(1.0, 0.5, 0.3, 0.15)) -> np.ndarray:
    ph = 2 * np.pi * np.cumsum(f) / sr
    return sum(a * np.sin((k + 1) * ph) for k, a in enumerate(harmonics)).astype(np.float32)


def _events(rng, n, sr, every: tuple[float, float], first: tuple[float, float]):
    # the first call comes early enough that even a one-second clip has one
    t = min(rng.uniform(*first), 0.3 * n / sr)
    while t < n / sr - 0.2:
        yield int(t * sr)
        t += rng.uniform(*every)


def meow(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    for s in _events(rng, n, sr, (1.8, 3.0), (0.3, 1.0)):
        m = min(int(rng.uniform(0.45, 0.7) * sr), n - s)
        u = np.linspace(0, 1, m)
        f = rng.uniform(450, 600) * (1 + 0.45 * np.sin(np.pi * u) - 0.2 * u)
        env = np.sin(np.pi * u) ** 0.7 * (1 - 0.5 * u)
        out[s : s + m] += _tone(f, sr, (1.0, 0.8, 0.5, 0.3, 0.15)) * env.astype(np.float32)
    return out


def bark(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    for s in _events(rng, n, sr, (1.0, 2.2), (0.2, 0.8)):
        for k in range(int(rng.integers(1, 3))):
            b = s + int(k * 0.22 * sr)
            m = min(int(0.13 * sr), n - b)
            if m <= 0:
                break
            u = np.linspace(0, 1, m)
            f = rng.uniform(320, 450) * (1.3 - 0.5 * u)
            env = np.exp(-u * 4) * np.minimum(u * 30, 1)
            noise = rng.standard_normal(m).astype(np.float32) * 0.4
            out[b : b + m] += (_tone(f, sr) + noise) * env.astype(np.float32)
    return out


def neigh(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    t = np.arange(n) / sr
    clop = np.zeros(n, np.float32)  # hooves: two-beat clip-clop
    for k, step in enumerate(np.arange(0.1, n / sr - 0.05, 0.32)):
        s = int(step * sr)
        m = min(int(0.03 * sr), n - s)
        clop[s : s + m] += (
            np.exp(-np.arange(m) / (0.004 * sr))
            * (1 if k % 2 else 0.7)
            * np.sin(2 * np.pi * 900 * t[:m])
        ).astype(np.float32)
    out += 0.6 * clop
    for s in _events(rng, n, sr, (2.5, 4.0), (0.4, 1.2)):
        m = min(int(rng.uniform(0.8, 1.1) * sr), n - s)
        u = np.linspace(0, 1, m)
        f = (900 - 500 * u) * (1 + 0.06 * np.sin(2 * np.pi * 11 * u * m / sr))
        env = np.sin(np.pi * u) ** 0.5
        out[s : s + m] += _tone(f, sr, (1.0, 0.6, 0.4, 0.2)) * env.astype(np.float32)
    return out


ANIMAL_SOUNDS = {"cat": meow, "dog": bark, "horse": neigh}
