"""The files a battle's media ids lead to: both renditions cut to the shorter one's frames and
padded with a `free` box to one byte length, made once per battle and recorded on it."""

from __future__ import annotations

import threading
from pathlib import Path

from arena.jobs.renditions import renditions_dir
from arena.store import Store
from arena.store.renditions import BattleCut, Rendition
from generators.rendition import cut_to_frames, pad_to_length, padded_length
from generators.serving_profile import ServingProfile

# Both media requests of a battle arrive at once: one of them makes the cut, the other reads it.
_cut_lock = threading.Lock()


def _cut(rendition: Rendition, frames: int, folder: Path, data_dir: Path) -> Path:
    # Even a clip that keeps all its frames goes through the cut, so that both files of a battle
    # are written the same way (the cut trims the sound to the last kept frame).
    source = data_dir / str(rendition.path)
    target = folder / f"{rendition.clip_id}-{frames}f.mp4"
    if not target.exists():
        cut_to_frames(source, target, frames)
    return target


def _padded(path: Path, clip_id: str, frames: int, length: int, folder: Path) -> Path:
    target = folder / f"{clip_id}-{frames}f-{length}b.mp4"
    if not target.exists():
        pad_to_length(path, target, length)
    return target


def make_battle_cut(
    store: Store, battle_id: str, left_clip: str, right_clip: str, profile: ServingProfile
) -> BattleCut | None:
    """Cut and pad both renditions of a battle and record it; None while either clip lacks a
    ready rendition of this profile (nothing is served then)."""
    digest = profile.digest()
    left = store.rendition(left_clip, digest)
    right = store.rendition(right_clip, digest)
    if left is None or right is None or left.status != "ready" or right.status != "ready":
        return None
    folder = renditions_dir(store, profile) / "served"
    folder.mkdir(parents=True, exist_ok=True)
    # Cut to the prompt's shortest clip, not the pair's: cut to the shorter of two, a clip's own
    # length shows whenever its partner is longer, and over many battles it names the model.
    frames = min(int(left.frames or 0), int(right.frames or 0))
    frames = min(frames, store.pool_frames(left_clip, digest) or frames)
    cuts = [_cut(left, frames, folder, store.data_dir), _cut(right, frames, folder, store.data_dir)]
    length = padded_length([p.stat().st_size for p in cuts], profile.pad_bucket_bytes)
    left_path = _padded(cuts[0], left_clip, frames, length, folder)
    right_path = _padded(cuts[1], right_clip, frames, length, folder)
    left_path, right_path = (p.relative_to(store.data_dir) for p in (left_path, right_path))
    cut = BattleCut(battle_id, digest, frames, length, str(left_path), str(right_path))
    return store.record_battle_cut(cut)


def battle_media_path(store: Store, media_id: str, profile: ServingProfile) -> Path | None:
    """The padded rendition a media id leads to, or None (unknown id, no rendition yet)."""
    side = store.media_side(media_id)
    if side is None:
        return None
    cut = store.battle_cut(side.battle_id)
    if cut is None:
        with _cut_lock:
            cut = store.battle_cut(side.battle_id) or make_battle_cut(
                store, side.battle_id, side.left_clip, side.right_clip, profile
            )
    if cut is None:
        return None
    path = store.data_dir / (cut.left_path if side.side == "left" else cut.right_path)
    return path if path.is_file() else None
