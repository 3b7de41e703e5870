"""Battle scheduling: which prompt and which pair of clips a rater sees next, and on which side."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from arena.store import NewBattle, Store
from generators.errors import InputError, PaddockError

CATEGORIES = ("t2v", "i2v")


class NoBattleAvailable(PaddockError):
    """No prompt has clips from two active models in the asked pool."""


@dataclass
class _Pools:
    """Clips of active models grouped for sampling: category -> prompt -> model id -> clip ids."""

    epoch: int
    by_category: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)


class Scheduler:
    """Uniform sampler (first version): category, then prompt, then an unordered model pair.

    Every battle records the probability with which its pair was drawn, so that the leaderboard can
    weight by inverse propensity; sides are a fair coin.
    """

    def __init__(self, store: Store, seed: int | None = None, max_tries: int = 8) -> None:
        self.store = store
        self._rng = np.random.default_rng(seed)
        self._rng_lock = threading.Lock()
        self._pools: _Pools | None = None
        self.max_tries = max_tries

    def _current_pools(self) -> _Pools:
        pools = self._pools
        if pools is not None and pools.epoch == self.store.epoch:
            return pools
        epoch = self.store.epoch
        frame = self.store.battle_candidates()
        grouped: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        for clip_id, model_id, prompt_id, category in zip(
            frame["clip_id"], frame["model_id"], frame["prompt_id"], frame["category"], strict=True
        ):
            grouped[category][prompt_id][model_id].append(clip_id)
        by_category = {
            cat: {pid: dict(models) for pid, models in prompts.items() if len(models) >= 2}
            for cat, prompts in grouped.items()
        }
        pools = _Pools(epoch, {cat: p for cat, p in by_category.items() if p})
        self._pools = pools
        return pools

    def categories(self) -> list[str]:
        """Categories that can serve a battle now."""
        return sorted(self._current_pools().by_category)

    def next_battle(self, rater_id: str, category: str | None = None) -> NewBattle:
        if category is not None and category not in CATEGORIES:
            raise InputError(f"unknown category {category!r}: expected t2v or i2v")
        pools = self._current_pools().by_category
        categories = [category] if category else sorted(pools)
        categories = [c for c in categories if c in pools]
        if not categories:
            where = f" in category {category}" if category else ""
            raise NoBattleAvailable(
                f"no prompt{where} has clips from two active models yet; generate or import clips"
            )
        seen = self.store.rater_seen_pairs(rater_id)
        with self._rng_lock:
            for _ in range(self.max_tries):
                choice = self._draw(pools, categories)
                if frozenset(choice[1:3]) not in seen:
                    break
        prompt_id, left, right, prob = choice
        return self.store.create_battle(prompt_id, left, right, rater_id, prob)

    def _draw(
        self, pools: dict[str, dict[str, dict[str, list[str]]]], categories: list[str]
    ) -> tuple[str, str, str, float]:
        rng = self._rng
        cat = categories[rng.integers(len(categories))]
        prompts = sorted(pools[cat])
        prompt_id = prompts[rng.integers(len(prompts))]
        models = sorted(pools[cat][prompt_id])
        i, j = rng.choice(len(models), size=2, replace=False)
        n_pairs = len(models) * (len(models) - 1) / 2
        prob = 1.0 / (len(categories) * len(prompts) * n_pairs)
        clips_i = pools[cat][prompt_id][models[i]]
        clips_j = pools[cat][prompt_id][models[j]]
        clip_i = clips_i[rng.integers(len(clips_i))]
        clip_j = clips_j[rng.integers(len(clips_j))]
        if rng.random() < 0.5:
            clip_i, clip_j = clip_j, clip_i
        return prompt_id, clip_i, clip_j, prob
