"""Simulated arenas: the temporary DuckDB store the arena simulator votes in, and the rigging
attack run with the targeted-voter detector wired in.

The raters, the attack's rules and the in-memory arena it runs in are domain code
(`arena.domain.sim_raters`, `arena.domain.rigging`, `arena.domain.rigging_arena`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from arena.domain.gold import GOLD_REFERENCE, GOLD_TWINS
from arena.domain.rigging import RiggingConfig, RiggingRun
from arena.domain.rigging_arena import Detector, run_rigging
from arena.domain.sim_raters import SimPrompt
from arena.store import Clip, Store, seeded_ids


def build_sim_store(
    data_dir: Path, names: list[str], n_prompts: int, seed: int | None = None
) -> Store:
    """A store with the rated models, the gold models and one clip row per (model, prompt).

    With a ``seed`` the model ids come from it (`seeded_ids`): the scheduler orders models by
    id, so random ids would make the same seed draw different battles.
    """
    store = Store.open(data_dir)
    if seed is not None:
        store.make_id = seeded_ids(seed)
    for name in names:
        store.add_model(name, "imported")
    store.add_model(GOLD_REFERENCE, "builtin", generator=f"builtin:{GOLD_REFERENCE}")
    for twin in GOLD_TWINS:
        store.add_model(twin, "baseline", generator=f"builtin:{twin}")
    prompts = [SimPrompt(f"simp{i:03d}", f"simulated prompt {i}") for i in range(n_prompts)]
    store.upsert_prompts(prompts)
    clips = []
    for model in store.models():
        for prompt in prompts:
            # Readable ids: a simulated store is inspected by hand more often than served.
            cid = f"simclip-{model.name}-{prompt.id}"
            clips.append(
                Clip(cid, model.id, prompt.id, 0, f"clips/{cid}.mp4", "", 5.0, 24.0, 64, 48,
                     True, None)
            )  # fmt: skip
    store.add_clips(clips)
    return store


def targeted_detector(cfg: RiggingConfig) -> Detector:
    """The arena's targeted-voter test (`leaderboards.targeted`) with the run's settings; as in
    `arena.domain.targeted`, it fits its own board to the votes it is given."""
    from leaderboards.targeted import detect_targeted

    return lambda votes: detect_targeted(votes, min_votes=cfg.min_votes, alpha=cfg.alpha)


def simulate_rigging(
    cfg: RiggingConfig,
    skill: float,
    seed: int,
    on_votes: Callable[[int], None] | None = None,
    detect: Detector | None = None,
) -> RiggingRun:
    """One attack by an attacker who recognises a clip's model with probability ``skill``;
    with ``cfg.detector`` the arena runs ``detect`` (by default the targeted-voter test)
    before every board refit. The same seed gives the same run."""
    if cfg.detector and detect is None:
        detect = targeted_detector(cfg)
    return run_rigging(cfg, skill, seed, detect if cfg.detector else None, on_votes)
