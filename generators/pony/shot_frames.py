"""Text-to-video frames for pony: the cast, animals and moving scenery in each shot."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from generators.pony.actors import Actor
from generators.pony.animals import animal_tracks
from generators.pony.plan import SIDES, Shot, ShotPlan
from generators.pony.portrait import Portrait
from generators.pony.render import (
    BACKGROUND_ZOOM,
    FACE_HEIGHT,
    FACE_Y,
    Motion,
    camera_view,
    canvas_size,
    crop_resize,
)
from generators.pony.scenery_moving import CloudLayer, Surf, Traffic, paint_crowd
from generators.pony.scenery_painted import HORIZON, WeatherLayer, character_grade, paint_background
from generators.pony.visemes import MouthTrack


class ShotStage:
    """One shot: background, scenery, people and animals, filmed by the shot's camera."""

    def __init__(
        self,
        plan: ShotPlan,
        shot: Shot,
        portraits: list[Portrait],
        mouths: list[MouthTrack],
        background: np.ndarray,
        sky: np.ndarray,
        view: tuple[int, int],
        duration_s: float,
    ) -> None:
        vw, vh = view
        ch, cw = background.shape[:2]
        self.plan, self.shot, self.view = plan, shot, view
        people = list(range(len(portraits))) if shot.people is None else list(shot.people)
        n = len(people)
        framing = shot.framing if n <= 1 else "wide"
        zoom = BACKGROUND_ZOOM[framing]
        fx0 = (cw - vw) / 2 + (shot.side if n <= 1 else 0.5) * vw
        self.canvas = self._background_for(background, zoom, fx0)
        if plan.cast.crowd:
            paint_crowd(self.canvas, plan, view)
        self.sky = (
            sky
            if zoom == 1.0
            else self._background_for(
                (sky * 255).astype(np.uint8)[..., None].repeat(3, 2), zoom, fx0
            )[..., 0].astype(np.float32)
            / np.float32(255.0)
        )
        self.motion0 = Motion.make(plan.seed, duration_s)
        self.phases = self.motion0.phases
        # the people the shot shows, left to right
        sides = (shot.side,) if n == 1 else SIDES.get(n, SIDES[4])
        riders = [k for k in people if "rides" in plan.cast.people[k].actions]
        ground = (ch - vh) / 2 + HORIZON[plan.place] * vh + 0.28 * vh
        animals = plan.cast.animals
        self.tracks = animal_tracks(
            animals,
            plan.cast.actions,
            "",
            (cw, ch),
            view,
            plan.seed,
            duration_s,
            min(ground, (ch + vh) / 2 - 0.02 * vh),
        )
        horse = next((tr for tr in self.tracks if tr.kind == "horse"), None)
        # in a shot of several people the first to speak stands a little nearer the camera
        # (larger), so the framing shows who speaks and a face tracker starts on them
        lead = plan.lines[0].speaker if plan.lines and n > 1 else None
        self.actors: list[Actor] = []
        for slot, k in enumerate(people[:4]):
            person = plan.cast.people[k]
            face_h = FACE_HEIGHT[framing] * vh * (1.0 if n <= 2 else 0.85)
            if lead is not None:
                face_h *= 1.2 if k == lead else 0.9
            fx = (cw - vw) / 2 + sides[min(slot, len(sides) - 1)] * vw
            fy = (ch - vh) / 2 + FACE_Y[framing] * vh
            rider = horse if (k in riders and horse is not None) else None
            if rider is not None:
                face_h = 0.15 * vh
                fy = horse.ground - 1.15 * horse.height
            if "sits" in person.actions:
                fy += 0.1 * vh
            if {"walks", "runs"} & set(person.actions) and framing != "close" and n == 1:
                face_h = FACE_HEIGHT["wide"] * 0.85 * vh  # a smaller figure, room to cross
                fy = (ch - vh) / 2 + 0.42 * vh
            motion = self.motion0 if k == 0 else Motion.make(plan.seed + 101 * k, duration_s)
            self.actors.append(
                Actor(
                    portraits[k],
                    character_grade(plan),
                    face_h,
                    (fx, fy),
                    motion,
                    mouths[k],
                    person.actions,
                    shot,
                    view,
                    rider,
                    by_width=n > 1,
                )
            )
        for actor in self.actors:
            if not actor.moving:
                actor.bake(self.canvas)
        self.dynamic = any(a.moving for a in self.actors) or bool(self.tracks)
        self.clouds = self.traffic = self.surf = None
        if not self.actors or plan.timelapse:
            self.clouds = CloudLayer(plan, (cw, ch), self.sky, plan.timelapse)
            if plan.place == "street" and "traffic" in plan.sounds:
                self.traffic = Traffic(plan, (cw, ch), view)
            if plan.place == "beach":
                self.surf = Surf(plan, (cw, ch))
            self.dynamic = True
        focus_x = np.mean([a.anchor[0] for a in self.actors]) if self.actors else cw / 2
        focus_y = np.mean([a.anchor[1] for a in self.actors]) if self.actors else ch / 2
        if lead is not None and lead in people[:4]:  # a push-in moves toward the speaker
            focus_x, focus_y = self.actors[people.index(lead)].anchor
        self.focus = (float(focus_x), float(focus_y))
        self.weather = (
            WeatherLayer(plan.weather, vw, vh, plan.seed)
            if plan.weather in ("rain", "snow")
            else None
        )

    @staticmethod
    def _background_for(background: np.ndarray, zoom: float, fx: float) -> np.ndarray:
        if zoom == 1.0:
            return background.copy()
        ch, cw = background.shape[:2]
        w, h = cw / zoom, ch / zoom
        x0 = min(max(fx - w / 2, 0), cw - w)
        y0 = (ch - h) * 0.45
        crop = background[int(y0) : int(y0 + h), int(x0) : int(x0 + w)]
        out = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_LINEAR)
        return cv2.GaussianBlur(out, (0, 0), (zoom - 1.0) * cw / 400.0)

    def render(self, t: float, i: int) -> np.ndarray:
        for actor in self.actors:
            if not actor.moving:
                actor.draw(self.canvas, t, i, None)
        canvas = self.canvas.copy() if self.dynamic else self.canvas
        if self.clouds is not None:
            self.clouds.apply(canvas, t)
        if self.surf is not None:
            self.surf.apply(canvas, t)
        if self.traffic is not None:
            self.traffic.apply(canvas, t)
        width = canvas.shape[1]
        horse_x = None
        for track in self.tracks:
            if track.kind != "bird":
                track.draw(canvas, t, width)
                if track.kind == "horse":
                    horse_x = track.x0 + track.facing * track.speed * t
        for actor in self.actors:
            if actor.moving:
                actor.draw(canvas, t, i, horse_x if actor.rider_of is not None else None)
        for track in self.tracks:
            if track.kind == "bird":
                track.draw(canvas, t, width)
        dur = max(self.shot.end_s - self.shot.start_s, 1e-6)
        u = (t - self.shot.start_s) / dur
        cx, cy, zoom = camera_view(
            self.shot.camera,
            u,
            t,
            (canvas.shape[1], canvas.shape[0]),
            self.view,
            self.focus,
            self.phases,
        )
        hw, hh = self.view[0] / (2 * zoom), self.view[1] / (2 * zoom)
        frame = crop_resize(canvas, cx - hw, cy - hh, cx + hw, cy + hh, self.view)
        if self.weather is not None:
            self.weather.apply(frame, t)
        return frame


def render_stage(
    plan: ShotPlan,
    portraits: list[Portrait],
    mouths: list[MouthTrack],
    view: tuple[int, int],
    fps: int,
    n_frames: int,
    duration_s: float,
    frame_indices: Iterator[int] | None = None,
) -> Iterator[np.ndarray]:
    """Frames of a text-to-video clip; portraits[k] and mouths[k] belong to cast member k
    (shot k of a drifting baseline may swap portraits through `portraits_per_shot`).

    frame_indices, when given, lists which frame to show at each output position (it must be
    non-decreasing); a repeated index repeats the previous frame without rendering it again.
    """
    cw, ch = canvas_size(view)
    sky_out: list = []
    background = paint_background(plan, cw, ch, sky_out=sky_out)
    stages: dict[int, ShotStage] = {}
    indices = frame_indices if frame_indices is not None else iter(range(n_frames))
    last_index, last_frame = -1, None
    for i in indices:
        if i == last_index and last_frame is not None:
            yield last_frame
            continue
        t = i / fps
        k = next(
            (j for j, s in enumerate(plan.shots) if s.start_s <= t < s.end_s), len(plan.shots) - 1
        )
        if k not in stages:
            stages.clear()  # shots never come back: free the previous canvas
            stages[k] = ShotStage(
                plan,
                plan.shots[k],
                portraits_for_shot(portraits, k),
                mouths,
                background,
                sky_out[0],
                view,
                duration_s,
            )
        last_frame = stages[k].render(t, i)
        last_index = i
        yield last_frame


def portraits_for_shot(portraits: list, k: int) -> list[Portrait]:
    """portraits is one Portrait per person, or (pony-drift) one such list per shot."""
    if portraits and isinstance(portraits[0], list):
        return portraits[min(k, len(portraits) - 1)]
    return portraits
