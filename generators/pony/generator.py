"""The pony generator: plan, sound, picture and encoding of one clip, with optional flaws."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from generators.base import GenerationRequest, GenerationResult
from generators.encode import encode_clip
from generators.errors import GenerationError, InputError
from generators.pony.audio_flaws import add_noise, hard_clip
from generators.pony.cast_portraits import cast_portraits
from generators.pony.impacts import impact_kind, with_impacts
from generators.pony.plan import Shot, ShotPlan, dialogue_shots, plan_shots
from generators.pony.render import ImageRenderer, Motion, first_frame
from generators.pony.shot_frames import render_stage
from generators.pony.soundtrack import Soundtrack, build_soundtrack
from generators.pony.visemes import MouthTrack, mouth_track


@dataclass(frozen=True)
class Flaws:
    """Deliberate defects for the baselines; the defaults are none (plain pony)."""

    audio_delay_ms: float = 0.0  # pony-lag: audio starts this much late
    mute_fraction: float = 0.0  # pony-mute: 1 = no audio stream; below 1 = silence the tail
    drift_amount: float = 0.0  # pony-drift: 0..1 how far the face changes after the first shot
    flicker_amount: float = 0.0  # pony-flicker: per-frame brightness gain spread (0.12 = ±12%)
    render_height: int | None = None  # pony-lowres: render at this height, then upscale
    freeze_hold: int = 1  # pony-freeze: show every hold-th frame hold times (drops the rest)
    noise_snr_db: float | None = None  # pony-noisy: pink noise this many dB below the mix
    clip_gain_db: float = 0.0  # pony-clipped: boosted this much into a hard full-scale ceiling
    events_delay_ms: float = 0.0  # pony-late: ambience and its events (not speech) this much late


def load_input_image(path: str) -> np.ndarray:
    """RGB uint8 image from a file; InputError naming the file when it cannot be used."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input image {path} does not exist or is not a file")
    try:
        data = np.fromfile(p, np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except (OSError, cv2.error) as exc:
        raise InputError(f"input image {path} cannot be read: {exc}") from exc
    if image is None:
        raise InputError(f"input image {path} is not a readable image (PNG, JPEG, WebP, ...)")
    if min(image.shape[:2]) < 16:
        raise InputError(f"input image {path} is too small ({image.shape[1]}x{image.shape[0]})")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class PonyGenerator:
    """Procedural text/image-to-video with native audio; no neural network, no weights."""

    # x264 "superfast" costs about two thirds of the CPU time of "veryfast" for files about a
    # quarter larger; on two cores that is what keeps a 15 s 1080p clip within 30 s.
    preset = "superfast"

    def __init__(self, name: str = "pony", flaws: Flaws | None = None) -> None:
        self.name = name
        self.flaws = flaws or Flaws()

    # -- pieces ---------------------------------------------------------------------------
    def _plan(self, request: GenerationRequest) -> ShotPlan:
        plan = plan_shots(request.prompt, request.seed, request.duration_s,
                          single_shot=request.image is not None)
        if self.flaws.drift_amount > 0 and len(plan.shots) == 1 and request.image is None:
            # identity can only drift across shots: give single-shot clips a second shot
            s = plan.shots[0]
            mid = (s.start_s + s.end_s) / 2
            shots = (Shot(s.start_s, mid, s.framing, s.camera, s.side, s.people),
                     Shot(mid, s.end_s, s.framing, s.camera, s.side, s.people))
            plan = ShotPlan(plan.place, plan.time_of_day, plan.weather, shots, plan.lines,
                            plan.sounds, plan.seed, plan.cast, plan.timelapse)
        return plan

    def _portraits(self, plan: ShotPlan) -> list:
        """One bust per cast member; for pony-drift, one such list per shot, the lead's face
        moving toward another person's after the first shot."""
        base = cast_portraits(plan.cast.people)
        if self.flaws.drift_amount <= 0 or len(plan.shots) < 2 or not base:
            return base
        from generators.pony.cast_identities import assign_identities
        from generators.pony.drift import drifted_lead

        hopper = assign_identities(plan.cast.people)[0].startswith("hopper")
        return [base] + [[drifted_lead(base[0], float(self.flaws.drift_amount), k, hopper),
                          *base[1:]] for k in range(1, len(plan.shots))]

    @staticmethod
    def _mouths(plan: ShotPlan, sound: Soundtrack, duration_s: float, fps: int,
                n_frames: int) -> list[MouthTrack]:
        """A mouth track per cast member: their own lines move their lips, no one else's."""
        mouths = []
        for k in range(max(len(plan.cast.people), 1)):
            if not any(line.speaker == k for line in plan.lines):
                z = np.zeros(n_frames, np.float32)
                mouths.append(MouthTrack(z, z, z))
                continue
            phonemes, speech = sound.speaker_part(k)
            mouths.append(mouth_track(phonemes, speech, sound.sample_rate, duration_s, fps,
                                      n_frames))
        return mouths

    def _audio_out(self, sound: Soundtrack, n_samples: int, seed: int = 0) -> np.ndarray | None:
        mix = sound.mix
        if self.flaws.mute_fraction >= 1.0:
            return None
        if self.flaws.audio_delay_ms > 0:
            delay = int(round(self.flaws.audio_delay_ms / 1000.0 * sound.sample_rate))
            mix = np.concatenate([np.zeros((delay, mix.shape[1]), np.float32), mix])
        mix = mix[:n_samples].copy()
        if self.flaws.mute_fraction > 0:
            mix[int(n_samples * (1 - self.flaws.mute_fraction)):] = 0.0
        if self.flaws.noise_snr_db is not None:
            mix = add_noise(mix, self.flaws.noise_snr_db, seed)
        if self.flaws.clip_gain_db > 0:
            mix = hard_clip(mix, self.flaws.clip_gain_db)
        return mix

    def _frame_indices(self, n_frames: int) -> Iterator[int]:
        hold = max(1, int(self.flaws.freeze_hold))
        return (i - i % hold for i in range(n_frames))

    def _post(self, frames: Iterator[np.ndarray], size: tuple[int, int], seed: int
              ) -> Iterator[np.ndarray]:
        rng = np.random.default_rng([seed, 17])
        for frame in frames:
            out = frame
            if out.shape[1] != size[0] or out.shape[0] != size[1]:
                out = cv2.resize(out, size, interpolation=cv2.INTER_LINEAR)
            if self.flaws.flicker_amount > 0:
                gain = 1.0 + self.flaws.flicker_amount * rng.uniform(-1.0, 1.0)
                out = cv2.convertScaleAbs(out, alpha=gain)
            yield out

    # -- the clip -------------------------------------------------------------------------
    def generate(self, request: GenerationRequest, out_path: str) -> GenerationResult:
        start = time.perf_counter()
        width, height = request.size
        image = load_input_image(request.image) if request.image else None
        render_size = (width, height)
        short = min(width, height)
        if self.flaws.render_height and self.flaws.render_height < short:
            # the preset's short side is its line count: 360p is 640x360, 360x640 or 360x360
            f = self.flaws.render_height / short
            render_size = (max(2, int(round(width * f / 2)) * 2),
                           max(2, int(round(height * f / 2)) * 2))
        plan = self._plan(request)
        n_frames = request.n_frames
        sound = build_soundtrack(plan, request.duration_s,
                                 events_delay_s=self.flaws.events_delay_ms / 1000.0)
        mouth = mouth_track(list(sound.phonemes), sound.speech, sound.sample_rate,
                            request.duration_s, request.fps, n_frames)
        if image is None:
            plan = dialogue_shots(plan, sound.spans, request.duration_s)
            mouths = self._mouths(plan, sound, request.duration_s, request.fps, n_frames)
            frames = render_stage(plan, self._portraits(plan), mouths, render_size, request.fps,
                                  n_frames, request.duration_s, self._frame_indices(n_frames))
        else:
            frames = self._image_frames(image, plan, render_size, request, n_frames, mouth)
        frames = with_impacts(frames, impact_kind(plan.sounds), plan.seed, request.fps,
                              request.duration_s)
        audio = self._audio_out(sound, int(round(request.duration_s * sound.sample_rate)),
                                plan.seed) if request.audio else None
        try:
            encode_clip(out_path, self._post(frames, (width, height), plan.seed),
                        fps=request.fps, width=width, height=height, audio=audio,
                        sample_rate=sound.sample_rate, preset=self.preset)
        except OSError as exc:
            raise GenerationError(f"could not write {out_path}: {exc}") from exc
        # What pony understood is kept with the clip, as `generate --explain` shows it.
        return GenerationResult(path=os.fspath(out_path), seconds=time.perf_counter() - start,
                                frames=n_frames, fps=request.fps, width=width, height=height,
                                duration_s=n_frames / request.fps, has_audio=audio is not None,
                                provenance={"plan": plan.explain()})

    def _image_frames(self, image: np.ndarray, plan: ShotPlan, size: tuple[int, int],
                      request: GenerationRequest, n_frames: int, mouth) -> Iterator[np.ndarray]:
        fitted, landmarks = first_frame(image, *size)
        motion = Motion.make(plan.seed, request.duration_s)
        renderer = ImageRenderer(fitted, landmarks, plan, motion, talk=bool(plan.lines))
        drift_at = n_frames // 2 if self.flaws.drift_amount > 0 and landmarks is not None \
            else n_frames
        last_index, last = -1, None
        for i in self._frame_indices(n_frames):
            if i >= drift_at:  # pony-drift: halfway through, the input's face turns into another
                from generators.pony.drift import drift_face

                drifted = drift_face(fitted, landmarks, float(self.flaws.drift_amount))
                renderer = ImageRenderer(drifted, landmarks, plan, motion, talk=bool(plan.lines))
                drift_at = n_frames
            if i != last_index or last is None:
                t = i / request.fps
                last = renderer.render(t, t / request.duration_s, i, mouth)
                last_index = i
            yield last
