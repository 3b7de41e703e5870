"""Checks a clip file must pass before it stands in the arena, and checks of a generator's output."""

from __future__ import annotations

from pathlib import Path

from generators.base import GenerationResult
from generators.decode import ClipInfo, probe_clip
from generators.errors import GenerationError, MediaError
from generators.mp4boxes import check_mp4_structure, looks_like_mp4

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv")
MAX_SIDE = 4096  # larger declared frames are refused rather than decoded
MAX_DURATION_S = 120.0
# What browsers play in mp4/webm: mpeg4 part 2 or mjpeg video would import and then never play
# in the arena.
BROWSER_VIDEO_CODECS = ("h264", "vp8", "vp9", "av1")
BROWSER_AUDIO_CODECS = ("aac", "mp3", "opus", "vorbis", "flac")


def check_media(
    path: str | Path, expects_audio: bool = False, prompt_id: str | None = None, label: str = ""
) -> ClipInfo:
    """Probe a clip and check it is a playable, bounded video; MediaError naming the problem.

    expects_audio: the prompt (prompt_id, named in the message) asks for sound, so a clip
    without an audio track is refused.
    label: how the clip is named in messages (its path by default).
    """
    path = Path(path)
    name = label or str(path)
    if not path.is_file():
        raise MediaError(f"{name}: no such file")
    if path.stat().st_size == 0:
        raise MediaError(f"{name}: the file is empty (zero bytes)")
    if looks_like_mp4(path):  # truncation and declared sizes, which FFmpeg does not object to
        check_mp4_structure(path, MAX_SIDE, name)
    info = probe_clip(path)
    if info.video_codec not in BROWSER_VIDEO_CODECS:
        raise MediaError(
            f"{name}: video codec {info.video_codec} does not play in browsers "
            f"(use {', '.join(BROWSER_VIDEO_CODECS)})"
        )
    if info.has_audio and info.audio_codec not in BROWSER_AUDIO_CODECS:
        raise MediaError(
            f"{name}: audio codec {info.audio_codec} does not play in browsers "
            f"(use {', '.join(BROWSER_AUDIO_CODECS)})"
        )
    if info.width <= 0 or info.height <= 0 or max(info.width, info.height) > MAX_SIDE:
        raise MediaError(
            f"{name}: frame size {info.width}x{info.height} is outside 1..{MAX_SIDE} pixels"
        )
    if info.n_frames <= 0 or info.duration_s <= 0:
        raise MediaError(f"{name}: the video has no frames")
    if info.duration_s > MAX_DURATION_S:
        raise MediaError(f"{name}: {info.duration_s:.1f} s is longer than {MAX_DURATION_S:.0f} s")
    if expects_audio and not info.has_audio:
        which = f"prompt {prompt_id!r}" if prompt_id else "the prompt"
        raise MediaError(f"{name}: {which} expects audio but the clip has no audio track")
    return info


def check_output(
    info: ClipInfo,
    duration_s: float | None,
    size: tuple[int, int] | None,
    source: str,
    duration_tolerance_s: float = 0.5,
) -> None:
    """A generator's clip must have the length and frame size it was asked for.

    duration_s / size: what was asked (None skips that check). The length may differ by
    duration_tolerance_s or 10 %, whichever is larger: models round frame counts (Wan makes 4k+1
    frames, LTX 8k+1) and containers round timestamps.
    """
    if duration_s is not None:
        slack = max(duration_tolerance_s, 0.1 * duration_s)
        if abs(info.duration_s - duration_s) > slack:
            raise GenerationError(
                f"{source} returned a {info.duration_s:.2f} s clip, asked for {duration_s:g} s "
                f"(tolerance {slack:.2f} s)"
            )
    if size is not None and (info.width, info.height) != tuple(size):
        raise GenerationError(
            f"{source} returned {info.width}x{info.height} frames, asked for {size[0]}x{size[1]}"
        )


def result_from_info(path: str | Path, info: ClipInfo, seconds: float) -> GenerationResult:
    """The GenerationResult of a clip that was made elsewhere and probed here."""
    return GenerationResult(
        path=str(path),
        seconds=seconds,
        frames=info.n_frames,
        fps=int(round(info.fps)),
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        has_audio=info.has_audio,
    )
