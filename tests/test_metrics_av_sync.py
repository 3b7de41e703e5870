"""av_sync validation: drawn and pony sound events moved by known amounts, real talking heads
against lipsync, clean clips that must not read out of sync, and a clip with no sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from metrics_support import context, decoded, fresh_context

from generators.base import GenerationRequest
from generators.decode import decode_clip
from generators.encode import encode_clip
from generators.pony.generator import PonyGenerator
from metrics.av_sync import AV_SYNC, analyse
from metrics.lipsync import analyse as lipsync_analyse
from metrics.registry import score_clip

SHIFTS_MS = (-300, -120, 0, 120, 300)
CLEAN = ("in sync", "uncertain", "too few events")
EVENTS_PROMPT = "a drummer plays the drums on a quiet street at night"
DIALOGUE_PROMPT = 'A man in a grey suit in a bright office says "The meeting moved, pass it on."'
NOBODY_PROMPT = "an empty beach at sunset, waves rolling in, nobody there"


def draw_events_clip(path: Path, seed: int = 0, seconds: float = 6.0, fps: int = 25) -> Path:
    """A lamp in one corner that flashes at irregular times, a bar drifting across the frame
    (motion without sound) and a knock at each flash, encoded with PyAV (H.264 + AAC)."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.uniform(0.3, 0.9, 40))
    times = times[times < seconds - 0.3]
    n, rate = int(seconds * fps), 48000
    yy, xx = np.mgrid[:144, :192]
    lamp = (xx - 150) ** 2 + (yy - 36) ** 2 < 144
    frames = np.full((n, 144, 192, 3), 60, np.uint8)
    for i in range(n):
        t = i / fps
        frames[i, :, int(60 + 40 * np.sin(1.3 * t)) % 192] = 140
        past = times[times <= t]
        if len(past):
            frames[i][lamp] = int(60 + 195 * np.exp(-(t - past[-1]) / 0.08))
    audio = 0.01 * rng.standard_normal(int(seconds * rate)).astype(np.float32)
    m = int(0.08 * rate)
    decay = np.exp(-np.arange(m) / (0.015 * rate))
    for t in times:
        s = int(t * rate)
        audio[s : s + m] += (0.5 * rng.standard_normal(m) * decay).astype(np.float32)[
            : len(audio) - s
        ]
    encode_clip(
        path,
        iter(frames),
        fps=fps,
        width=192,
        height=144,
        audio=audio,
        sample_rate=rate,
        preset="ultrafast",
    )
    return path


def moved(clip, shift_ms: float) -> dict:
    """av_sync of the clip with its sound played shift_ms late (negative: early), looped so
    that neither end is silent: the start of the sound gives nothing away."""
    audio = np.roll(clip.audio, int(round(shift_ms / 1000 * clip.audio_rate)))
    ctx = fresh_context(clip)
    return analyse(
        ctx.small_frames,
        ctx.shot_cuts,
        audio,
        clip.audio_rate,
        clip.frame_times,
        clip.audio_start_s,
        clip.fps,
    )


def assert_follows_shifts(clip) -> None:
    frame_ms = 1000.0 / clip.fps
    for shift in SHIFTS_MS:
        values = moved(clip, shift)
        assert values["offset_ms"] is not None, (shift, values)
        assert abs(values["offset_ms"] - shift) <= frame_ms, (shift, values)
        assert values["events"] >= 3
        if shift == 0:
            assert values["verdict"] == "in sync", values
        if abs(shift) == 300:
            assert values["verdict"] == "out of sync", values


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> list:
    folder = tmp_path_factory.mktemp("drawn")
    return [decode_clip(str(draw_events_clip(folder / f"d{s}.mp4", seed=s))) for s in (0, 1)]


@pytest.fixture(scope="module")
def pony_clips(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("pony_av")
    out = {}
    for key, prompt in (
        ("events", EVENTS_PROMPT),
        ("dialogue", DIALOGUE_PROMPT),
        ("nobody", NOBODY_PROMPT),
    ):
        path = folder / f"{key}.mp4"
        PonyGenerator().generate(GenerationRequest(prompt, seed=0, duration_s=5.0), str(path))
        out[key] = decode_clip(str(path))
    return out


def test_drawn_events_follow_the_shifts(drawn) -> None:
    for clip in drawn:
        assert_follows_shifts(clip)


def test_pony_sound_events_follow_the_shifts(pony_clips) -> None:
    assert_follows_shifts(pony_clips["events"])


def test_pony_event_sounds_can_be_delayed_alone(pony_clips) -> None:
    """build_soundtrack's events_delay_s (pony-late) moves the impacts and the ambience: the
    speech stays, and av_sync reads the delay on the clip's own picture."""
    from generators.pony.plan import plan_shots
    from generators.pony.soundtrack import build_soundtrack

    clip = pony_clips["events"]
    plan = plan_shots(EVENTS_PROMPT, 0, 5.0)
    on_time = build_soundtrack(plan, 5.0, clip.audio_rate)
    late = build_soundtrack(plan, 5.0, clip.audio_rate, events_delay_s=0.3)
    assert np.array_equal(on_time.speech, late.speech)
    ctx = fresh_context(clip)
    values = analyse(
        ctx.small_frames,
        ctx.shot_cuts,
        late.mix.mean(axis=1),
        clip.audio_rate,
        clip.frame_times,
        clip.audio_start_s,
        clip.fps,
    )
    assert values["verdict"] == "out of sync", values
    assert abs(values["offset_ms"] - 300) <= 1000 / clip.fps, values


def test_constant_would_fail(drawn) -> None:
    """Different shifts give different offsets: a constant metric cannot pass the tests above."""
    offsets = {moved(drawn[0], s)["offset_ms"] for s in (-300, 300)}
    assert len(offsets) == 2


def test_registered_and_scores_a_file(tmp_path) -> None:
    path = draw_events_clip(tmp_path / "file.mp4", seed=3)
    (result,) = score_clip(path, ["av_sync"])
    assert result.status == "ok", result.reason
    assert set(result.values) == {"offset_ms", "abs_offset_ms", "confidence", "events", "verdict"}
    assert result.values["verdict"] == "in sync"
    assert result.units["offset_ms"] == "ms"


def test_no_audio_track_is_unavailable(tmp_path) -> None:
    from metrics_support import write_tone_clip

    path = write_tone_clip(tmp_path / "silent.mp4", audio=False)
    result = AV_SYNC.compute(fresh_context(decode_clip(str(path))))
    assert result.status == "unavailable"
    assert result.reason == "no audio track"


def _trimmed(name: str, testdata_dir: Path):
    """The real clip, cut to its first 10 s (picture, face track and sound)."""
    ctx = context(str(testdata_dir / name))
    clip = ctx.clip
    n = min(len(clip.frames), int(round(10 * clip.fps)))
    samples = int(round(n / clip.fps * clip.audio_rate))
    return ctx, n, samples


@pytest.mark.parametrize("name", ["talking_head_1.mp4", "talking_head_2.mp4"])
def test_real_talking_heads_agree_with_lipsync(testdata_dir: Path, name: str) -> None:
    """Where both are confident, av_sync and lipsync name the same offset within two frames
    (lipsync's sign is the other way: positive means the sound is early); av_sync never calls
    a clean real clip out of sync."""
    ctx, n, samples = _trimmed(name, testdata_dir)
    clip = ctx.clip
    small, cuts = ctx.small_frames[:n], [c for c in ctx.shot_cuts if c < n]
    frame_ms = 1000.0 / clip.fps
    both = 0
    for shift in SHIFTS_MS:
        audio = np.roll(clip.audio[:samples], int(round(shift / 1000 * clip.audio_rate)))
        mine = analyse(
            small, cuts, audio, clip.audio_rate, clip.frame_times[:n], clip.audio_start_s, clip.fps
        )
        lips = lipsync_analyse(
            ctx.landmarks[:n],
            audio,
            clip.audio_rate,
            clip.frame_times[:n],
            clip.audio_start_s,
            clip.fps,
        )
        if shift == 0:
            assert mine["verdict"] in CLEAN, mine
            assert lips["verdict"] == "in sync", lips
        if mine["offset_ms"] is not None and lips["verdict"] != "uncertain":
            both += 1
            assert abs(mine["offset_ms"] + lips["offset_ms"]) <= 2 * frame_ms, (mine, lips)
    print(f"{name}: both confident on {both} of {len(SHIFTS_MS)} shifts")


def test_clean_clips_raise_no_false_alarm(drawn, pony_clips, testdata_dir: Path) -> None:
    clips = list(drawn) + list(pony_clips.values())
    clips.append(decoded(str(testdata_dir / "talking_head_1.mp4")))
    for clip in clips:
        result = AV_SYNC.compute(fresh_context(clip))
        assert result.status == "ok", result.reason
        assert result.values["verdict"] in CLEAN, result.values


def test_pony_talking_face_agrees_with_lipsync(pony_clips) -> None:
    """On pony's talking face, with the sound moved: wherever av_sync is confident, lipsync
    (confident on every shift here) names the same offset within two frames."""
    clip = pony_clips["dialogue"]
    ctx = fresh_context(clip)
    both = 0
    for shift in SHIFTS_MS:
        audio = np.roll(clip.audio, int(round(shift / 1000 * clip.audio_rate)))
        lips = lipsync_analyse(
            ctx.landmarks, audio, clip.audio_rate, clip.frame_times, clip.audio_start_s, clip.fps
        )
        mine = moved(clip, shift)
        assert lips["verdict"] != "uncertain", lips
        if mine["offset_ms"] is not None:
            both += 1
            assert abs(mine["offset_ms"] + lips["offset_ms"]) <= 2000 / clip.fps, (mine, lips)
    print(f"pony dialogue: both confident on {both} of {len(SHIFTS_MS)} shifts")
