"""Visible sound events for pony: a ball that bounces or a drum that is struck, seen and heard.

Each impact is drawn (the ball squashes and throws up dust; the drum's stick comes down and its
skin flashes) and heard (a thud or a drum hit) at the same moments, at irregular times, so a
sync metric has events to align. impact_times is the one place those moments come from: a
baseline that wants the sound late moves the sound with build_soundtrack's events_delay_s.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

IMPACT_WORDS = {
    "ball": ("ball", "bounces", "bouncing", "bounce", "basketball"),
    "drum": ("drum", "drums", "drummer", "drumming"),
}
IMPACT_PEAK = 0.5  # peak of one hit in the mix (-6 dBFS), well above the ambient bed


def impact_kind(sounds: tuple[str, ...]) -> str | None:
    """The impact source a plan's sounds name, if any."""
    return next((k for k in IMPACT_WORDS if k in sounds), None)


def impact_times(seed: int, duration_s: float) -> np.ndarray:
    """Moments of impact (s): irregular gaps of 0.35-0.95 s, the first within 0.3-0.7 s; one
    more past the end so the motion after the last visible hit is defined."""
    rng = np.random.default_rng([seed, 41])
    times = [float(rng.uniform(0.3, 0.7))]
    while times[-1] < duration_s:
        times.append(times[-1] + float(rng.uniform(0.35, 0.95)))
    return np.asarray(times)


# -- sound ------------------------------------------------------------------------------------


def impact_sound(kind: str, times: np.ndarray, n: int, sample_rate: int, seed: int) -> np.ndarray:
    """Mono (n,) float32: a thud (ball) or a drum hit at each time, peak IMPACT_PEAK."""
    rng = np.random.default_rng([seed, 43])
    out = np.zeros(n, np.float32)
    m = int(0.25 * sample_rate)
    u = np.arange(m) / sample_rate
    for t in times:
        s = int(round(t * sample_rate))
        if s >= n or s + m <= 0:
            continue
        pitch = (95.0 if kind == "ball" else 160.0) * rng.uniform(0.9, 1.1)
        decay = 0.07 if kind == "ball" else 0.12
        body = np.sin(2 * np.pi * pitch * u * (1 + 0.5 * np.exp(-u / 0.02))) * np.exp(-u / decay)
        click = rng.standard_normal(m) * np.exp(-u / (0.006 if kind == "ball" else 0.02))
        hit = (body + (0.6 if kind == "ball" else 0.9) * click) * rng.uniform(0.8, 1.0)
        lo, hi = max(s, 0), min(s + m, n)
        out[lo:hi] += hit[lo - s : hi - s].astype(np.float32)
    peak = float(np.max(np.abs(out))) if n else 0.0
    return out * np.float32(IMPACT_PEAK / peak) if peak > 0 else out


# -- picture ----------------------------------------------------------------------------------


def _ball(frame: np.ndarray, t: float, times: np.ndarray) -> None:
    h, w = frame.shape[:2]
    r = max(3, int(0.07 * min(h, w)))
    floor = int(0.86 * h)
    k = int(np.searchsorted(times, t))  # next impact
    nxt = times[min(k, len(times) - 1)]
    prev = times[k - 1] if k > 0 else nxt - (times[1] - times[0] if len(times) > 1 else 0.6)
    gap = max(nxt - prev, 1e-3)
    height = 0.6 * h * min(gap / 0.95, 1.0) ** 2  # a longer flight is a higher one
    u = (t - prev) / gap
    y = floor - r - 4 * height * u * (1 - u)
    x = w * (0.62 + 0.2 * np.sin(0.35 * t))
    since = t - prev
    squash = max(0.0, 1.0 - since / 0.06) if k > 0 else 0.0  # no hit before the first
    ax, ay = int(r * (1 + 0.45 * squash)), int(r * (1 - 0.4 * squash))
    cy = int(min(y, floor - ay))
    if k > 0 and since < 0.2:  # white dust thrown up by the last hit, spreading and fading
        spread = int(r * (3.0 + 10 * since))
        fade = 1.0 - since / 0.2
        dust = frame.copy()
        cv2.ellipse(
            dust,
            (int(x), floor),
            (spread, max(2, spread // 2)),
            0,
            180,
            360,
            (255, 255, 240),
            -1,
            cv2.LINE_AA,
        )
        cv2.addWeighted(dust, fade, frame, 1.0 - fade, 0.0, dst=frame)
    cv2.ellipse(
        frame,
        (int(x), floor + 2),
        (int(r * 1.1), max(2, r // 4)),
        0,
        0,
        360,
        (25, 25, 25),
        -1,
        cv2.LINE_AA,
    )  # shadow
    cv2.ellipse(frame, (int(x), cy), (ax, ay), 0, 0, 360, (220, 70, 40), -1, cv2.LINE_AA)
    cv2.ellipse(
        frame,
        (int(x) - ax // 3, cy - ay // 3),
        (max(1, ax // 4), max(1, ay // 4)),
        0,
        0,
        360,
        (250, 180, 160),
        -1,
        cv2.LINE_AA,
    )


def _drum(frame: np.ndarray, t: float, times: np.ndarray) -> None:
    h, w = frame.shape[:2]
    s = 0.16 * min(h, w)
    cx, cy = int(0.72 * w), int(0.8 * h)
    k = int(np.searchsorted(times, t))
    since = t - times[k - 1] if k > 0 else 1.0
    nxt = times[min(k, len(times) - 1)] - t
    flash = max(0.0, 1.0 - since / 0.15)
    cv2.rectangle(frame, (int(cx - s), cy), (int(cx + s), int(cy + 0.8 * s)), (150, 30, 30), -1)
    skin = tuple(int(200 + 55 * flash) for _ in range(3))
    cv2.ellipse(frame, (cx, cy), (int(s), int(0.3 * s)), 0, 0, 360, skin, -1, cv2.LINE_AA)
    # the stick rises after a hit and comes down on the next one
    lift = min(since, nxt, 0.25) / 0.25
    angle = 0.15 + 0.9 * lift
    tip = (cx - 0.2 * s, cy - 0.05 * s)
    end = (tip[0] + 1.6 * s * np.cos(angle), tip[1] - 1.6 * s * np.sin(angle))
    cv2.line(
        frame,
        (int(tip[0]), int(tip[1])),
        (int(end[0]), int(end[1])),
        (90, 60, 30),
        max(2, int(0.08 * s)),
        cv2.LINE_AA,
    )


def with_impacts(
    frames: Iterator[np.ndarray], kind: str | None, seed: int, fps: int, duration_s: float
) -> Iterator[np.ndarray]:
    """The frames with the impact source drawn in front (frame i shows the moment i / fps)."""
    if kind is None:
        yield from frames
        return
    times = impact_times(seed, duration_s)
    for i, frame in enumerate(frames):
        out = frame.copy()
        if kind == "ball":
            _ball(out, i / fps, times)
        else:
            _drum(out, i / fps, times)
        yield out
