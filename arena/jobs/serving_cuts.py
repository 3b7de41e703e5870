"""The files a battle's media ids lead to. Every clip of a prompt is served cut to the prompt's
shortest rendition (whole frames), every sample padded to the prompt's largest at its position,
and the file padded with a `free` box to one byte length for the prompt, so neither length nor
size, nor any frame's size, tells two clips, or two battles of a prompt, apart.

The background rendition job prepares these files (`prepare_served`) and removes the ones no
longer current (`sweep_served`); a battle whose files are not prepared yet has them made on its
first media request. Each battle's cut is recorded on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path

from arena.store import Store
from arena.store.serving import BattleCut
from generators.serving.profile import ServingProfile
from generators.serving.rendition import CONTAINER_OPTIONS, cut_to_frames
from generators.serving.sample_padding import (
    FILLER_MIN,
    group_targets,
    pad_samples,
    pad_to_length,
    padded_length,
    sample_sizes,
)

log = logging.getLogger("paddock.renditions")
#: A served file younger than this is never swept: a battle may be between preparing its files
#: and recording its cut.
SWEEP_GRACE_S = 600.0
# Sample sizes of cut files (written once, never changed), by path.
_sizes_cache: dict[str, tuple[list[int], list[int]]] = {}

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
        sizes = [_cut_sizes(cut) for cut in cuts.values()]
        # Every sample padded to the largest at its position in the pool: frame sizes and
        # bitrates then say nothing of the source (the audit found them telling it).
        video = group_targets([v for v, _ in sizes], FILLER_MIN)
        audio = group_targets([a for _, a in sizes if a], 1) if any(a for _, a in sizes) else []
        key = hashlib.sha256(json.dumps([video, audio]).encode()).hexdigest()[:10]
        served = {cid: folder / f"{cid}-{frames}f-{key}.mp4" for cid in cuts}
        if not all(path.exists() for path in served.values()):
            evens = {cid: folder / f".{cid}-{frames}f-{key}.even.mp4" for cid in cuts}
            try:
                for clip_id, cut in cuts.items():
                    pad_samples(cut, evens[clip_id], video, audio, CONTAINER_OPTIONS)
                sizes_now = [p.stat().st_size for p in evens.values()]
                length = padded_length(sizes_now, profile.pad_bucket_bytes)
                for clip_id, even in evens.items():
                    if not served[clip_id].exists():
                        pad_to_length(even, served[clip_id], length)
            finally:
                for even in evens.values():
                    even.unlink(missing_ok=True)
    return frames, served


def _cut_sizes(cut: Path) -> tuple[list[int], list[int]]:
    sizes = _sizes_cache.get(str(cut))
    if sizes is None:
        sizes = _sizes_cache[str(cut)] = sample_sizes(cut)
    return sizes


def prepare_served(store: Store, profile: ServingProfile, grace_s: float = SWEEP_GRACE_S) -> int:
    """Prepare the served files of every prompt with renditions, then sweep the stale ones
    (see sweep_served); returns the prompts done."""
    prompts = store.rendition_prompts(profile.digest())
    current: set[Path] = set()
    for prompt_id in prompts:
        prepared = prepare_prompt(store, prompt_id, profile)
        if prepared is not None:
            frames, served = prepared
            current.update(served.values())
            current.update(_served_dir(store, profile) / f"{c}-{frames}f.mp4" for c in served)
    sweep_served(store, current, grace_s)
    return len(prompts)


def sweep_served(store: Store, current: set[Path], grace_s: float = SWEEP_GRACE_S) -> list[Path]:
    """Remove served files no longer current: cut copies and padded files of an older cut or
    pool, and the served/ folders of other profiles. Never one of `current`, one a battle not
    yet expired names (its rater may still ask for a byte range), or one younger than grace_s
    (a battle may be between preparing and recording it). A request already reading a removed
    file goes on reading it (POSIX keeps an open file until it is closed). Returns those
    removed."""
    keep = {str(Path(p)) for p in store.served_paths_in_use()}
    keep |= {str(p.relative_to(store.data_dir)) for p in current}
    oldest = time.time() - grace_s
    removed = []
    root = store.data_dir / "renditions"
    with _prepare_lock:
        for path in sorted(root.glob("*/served/*.mp4")):
            relative = str(path.relative_to(store.data_dir))
            try:
                if relative in keep or path.stat().st_mtime > oldest:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            _sizes_cache.pop(str(path), None)
            removed.append(path)
    if removed:
        log.info("served files: %d stale ones removed", len(removed))
    return removed


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
    # The same work for either side and every request, whether the cut is recorded yet or
    # not: the first request of a battle (the left one, in most players) doing more would
    # show the side in its timing, and with it whatever the side says.
    cut = make_battle_cut(store, side.battle_id, side.left_clip, side.right_clip, profile)
    if cut is None:
        return None
    path = store.data_dir / (cut.left_path if side.side == "left" else cut.right_path)
    return path if path.is_file() else None
