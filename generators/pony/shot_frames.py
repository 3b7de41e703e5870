"""Text-to-video frames for pony: the cast, animals and moving scenery in each shot."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from generators.pony.animals import animal_tracks
from generators.pony.face_anim import FaceAnimator, FacePose
from generators.pony.plan import SIDES, Shot, ShotPlan
from generators.pony.portrait import Portrait
from generators.pony.render import (
    BACKGROUND_ZOOM,
    FACE_HEIGHT,
    FACE_Y,
    Motion,
    _ease,
    _padded,
    camera_view,
    canvas_size,
    crop_resize,
)
from generators.pony.scenery_painted import HORIZON, WeatherLayer, character_grade, paint_background
from generators.pony.scenery_moving import CloudLayer, Surf, Traffic, paint_crowd
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
