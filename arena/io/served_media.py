"""The files a battle's media ids lead to. Every clip of a prompt is served cut to the prompt's
shortest rendition (whole frames) and padded with a `free` box to one byte length for the
prompt, so neither length nor size tells two clips, or two battles of a prompt, apart.

The background rendition job prepares these files (`prepare_served`); a battle whose files are
not prepared yet has them made on its first media request. Each battle's cut is recorded on it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from arena.store import Store
from arena.store.renditions import BattleCut
from generators.rendition import cut_to_frames, pad_to_length, padded_length
from generators.serving_profile import ServingProfile

# Both media requests of a battle arrive at once, and the job may be preparing the same prompt.
_prepare_lock = threading.Lock()


def _served_dir(store: Store, profile: ServingProfile) -> Path:
    return store.data_dir / "renditions" / profile.digest() / "served"


def prepare_prompt(
    store: Store, prompt_id: str, profile: ServingProfile
) -> tuple[int, dict[str, Path]] | None:
    """(frames, {clip id: served file}) for a prompt's pool, made where missing; None without
    renditions.

    Cutting to the prompt's shortest clip rather than to the pair's shorter one matters: cut to
    the shorter of two, a clip's own length shows whenever its partner is longer, and over many
    battles the longest lengths name their models (the fingerprint audit finds it)."""
    digest = profile.digest()
    pool = store.pool_renditions(prompt_id, digest)
    if not pool:
        return None
    folder = _served_dir(store, profile)
    folder.mkdir(parents=True, exist_ok=True)
    frames = min(int(r.frames or 0) for r in pool)
    cuts = {}
    with _prepare_lock:
        for r in pool:
            # Every clip goes through the cut, even one that keeps all its frames, so that all
            # are written the same way (sound normalised over the served length).
            cut = folder / f"{r.clip_id}-{frames}f.mp4"
            if not cut.exists():
                rendition = store.data_dir / str(r.path)
                cut_to_frames(rendition, cut, frames, profile, store.clip_path(r.clip_id))
            cuts[r.clip_id] = cut
        length = padded_length([p.stat().st_size for p in cuts.values()], profile.pad_bucket_bytes)
        served = {}
        for clip_id, cut in cuts.items():
            target = folder / f"{clip_id}-{frames}f-{length}b.mp4"
            if not target.exists():
                pad_to_length(cut, target, length)
            served[clip_id] = target
    return frames, served


def prepare_served(store: Store, profile: ServingProfile) -> int:
    """Prepare the served files of every prompt with renditions; returns the prompts done."""
    prompts = store.rendition_prompts(profile.digest())
    for prompt_id in prompts:
        prepare_prompt(store, prompt_id, profile)
    return len(prompts)


def make_battle_cut(
    store: Store, battle_id: str, left_clip: str, right_clip: str, profile: ServingProfile
) -> BattleCut | None:
    """Record the battle's served files (cut and padded for its prompt); None while either clip
    lacks a ready rendition of this profile (nothing is served then)."""
    prompt_id = store.clip(left_clip).prompt_id
    prepared = prepare_prompt(store, prompt_id, profile)
    if prepared is None:
        return None
    frames, served = prepared
    if left_clip not in served or right_clip not in served:
        return None
    left, right = served[left_clip], served[right_clip]
    left_path, right_path = (p.relative_to(store.data_dir) for p in (left, right))
    cut = BattleCut(
        battle_id, profile.digest(), frames, left.stat().st_size, str(left_path), str(right_path)
    )
    return store.record_battle_cut(cut)


def battle_media_path(store: Store, media_id: str, profile: ServingProfile) -> Path | None:
    """The served file a media id leads to, or None (unknown id, no rendition yet)."""
    side = store.media_side(media_id)
    if side is None:
        return None
    cut = store.battle_cut(side.battle_id) or make_battle_cut(
        store, side.battle_id, side.left_clip, side.right_clip, profile
    )
    if cut is None:
        return None
    path = store.data_dir / (cut.left_path if side.side == "left" else cut.right_path)
    return path if path.is_file() else None
