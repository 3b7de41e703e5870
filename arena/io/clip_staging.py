"""Putting clip files into the data dir's clip store under opaque ids, checked and hashed."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from arena.store import Clip, Prompt, Store, new_id
from generators.clipcheck import check_media
from generators.decode import ClipInfo


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
    return check_media(path, expects_audio=require_audio and prompt.audio, prompt_id=prompt.id)


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
    params: dict | None = None,
    queue_s: float | None = None,
    price: tuple[float | None, str | None] = (None, None),
) -> StagedClip:
    """Copy (without container metadata) or move a checked clip into the store under a random id;
    price is (US dollars, where the figure came from) when it was made here."""
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
        params=params or None,
        queue_s=queue_s,
        price_usd=price[0],
        price_source=price[1],
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
