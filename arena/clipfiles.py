"""Putting clip files into the data dir's clip store under opaque ids, checked and hashed."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from arena.store import Clip, Prompt, Store, new_id
from generators.decode import ClipInfo, probe_clip
from generators.errors import MediaError

MAX_SIDE = 4096  # larger declared frames are refused rather than decoded
MAX_DURATION_S = 120.0


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_clip(path: str | Path, prompt: Prompt, require_audio: bool = True) -> ClipInfo:
    """Probe a clip and check it can stand in the arena for this prompt; MediaError otherwise.

    require_audio=False admits a silent clip for a prompt that expects sound: a registered
    generator's silent output (the pony-mute baseline) is a flaw to be judged, not a bad file.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: the file is empty (zero bytes)")
    info = probe_clip(path)
    if info.width <= 0 or info.height <= 0 or max(info.width, info.height) > MAX_SIDE:
        raise MediaError(
            f"{path}: frame size {info.width}x{info.height} is outside 1..{MAX_SIDE} pixels"
        )
    if info.n_frames <= 0 or info.duration_s <= 0:
        raise MediaError(f"{path}: the video has no frames")
    if info.duration_s > MAX_DURATION_S:
        raise MediaError(f"{path}: {info.duration_s:.1f} s is longer than {MAX_DURATION_S:.0f} s")
    if require_audio and prompt.audio and not info.has_audio:
        raise MediaError(
            f"{path}: prompt {prompt.id!r} expects audio but the clip has no audio track"
        )
    return info


@dataclass(frozen=True)
class StagedClip:
    """A clip file copied into the clip store but not yet recorded."""

    clip: Clip
    final_path: Path


def stage_clip(
    store: Store,
    src: str | Path,
    model_id: str,
    prompt: Prompt,
    seed: int,
    info: ClipInfo,
    generation_s: float | None,
    move: bool = False,
) -> StagedClip:
    """Copy (without container metadata) or move a checked clip into the store under a random id."""
    from generators.encode import strip_metadata_copy

    clip_id = new_id(16)
    final = store.clip_path(clip_id)
    if move:
        os.replace(src, final)
    else:
        strip_metadata_copy(src, final)
    clip = Clip(
        id=clip_id,
        model_id=model_id,
        prompt_id=prompt.id,
        seed=seed,
        path=str(final.relative_to(store.data_dir)),
        sha256=sha256_file(final),
        duration=info.duration_s,
        fps=info.fps,
        width=info.width,
        height=info.height,
        has_audio=info.has_audio,
        generation_s=generation_s,
    )
    return StagedClip(clip, final)


def commit_staged(store: Store, staged: list[StagedClip]) -> None:
    """Record staged clips in one transaction; on failure their files are removed again."""
    try:
        store.add_clips([s.clip for s in staged])
    except BaseException:
        discard_staged(staged)
        raise


def discard_staged(staged: list[StagedClip]) -> None:
    for s in staged:
        with contextlib.suppress(FileNotFoundError):
            s.final_path.unlink()
