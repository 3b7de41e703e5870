"""Battle scheduling: which prompt and pair of clips a rater sees next (active sampling + gold)."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from arena.domain.sampling import BattleChoice, Pool, SchedulerConfig, active_mix, fit_counts
from arena.errors import NoBattleAvailable
from arena.store import NewBattle, Store
from generators.errors import InputError

CATEGORIES = ("t2v", "i2v")


@dataclass
class _State:
    epoch: int
    pools: dict[str, Pool]
    clip_owner: dict[str, tuple[str, int]]  # clip id -> (category, model index)


class Scheduler:
    """Active pair sampling from cached pair probabilities, refreshed from a periodic refit.

    Per request the work is one draw from cached arrays plus the rater's seen clip pairs;
    the Bradley-Terry fit behind the probabilities runs every ``config.refit_seconds`` in a
    background thread (or on `refresh`). Every battle records its exact sampling probability.
    """

    def __init__(
        self,
        store: Store,
        seed: int | None = None,
        config: SchedulerConfig | None = None,
    ) -> None:
        self.store = store
        self.config = config or SchedulerConfig()
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()
        self._state: _State | None = None
        self._fitted_at = -math.inf
        self._refitting = False
        # Hot-path caches: every battle is written through this scheduler while it serves.
        self._seen: dict[str, set[frozenset[str]]] = {}
        self._screened: set[str] = set()

    # ------------------------------------------------------------------ public
    def categories(self) -> list[str]:
        """Categories that can serve a battle now."""
        return sorted(self._current().pools)

    def refresh(self) -> None:
        """Refit the ratings behind the pair probabilities now (from the store's votes)."""
        state = self._current()
        self._refit(state)

    def pair_probabilities(self, category: str) -> dict[tuple[str, str], float]:
        """Current marginal probability of each unordered model pair (names, sorted) in a category."""
        pool = self._current().pools.get(category)
        if pool is None:
            return {}
        return {
            tuple(sorted((pool.names[i], pool.names[j]))): float(p)
            for (i, j), p in zip(pool.pairs, pool.probs, strict=True)
        }

    def next_battle(self, rater_id: str, category: str | None = None) -> NewBattle:
        """Choose a battle for this rater and write it (with its sampling probability)."""
        seen = self._seen_pairs(rater_id)
        gold_share = None
        cfg = self.config
        if cfg.screen_gold_answers and rater_id not in self._screened:
            if self.store.rater_gold_seen(rater_id) < cfg.screen_gold_answers:
                gold_share = cfg.screen_gold_share
            else:
                self._screened.add(rater_id)  # gold answers only ever grow
        choice = self.choose(category, seen, gold_share)
        new = self.store.create_battle(
            choice.prompt_id,
            choice.left_clip,
            choice.right_clip,
            rater_id,
            choice.prob,
            kind=choice.kind,
        )
        seen.add(frozenset((choice.left_clip, choice.right_clip)))
        return new

    def _seen_pairs(self, rater_id: str) -> set[frozenset[str]]:
        """The clip pairs this rater was served: read once, then kept as battles are written."""
        seen = self._seen.get(rater_id)
        if seen is None:
            seen = self._seen[rater_id] = self.store.rater_seen_pairs(rater_id)
        return seen

    def choose(
        self,
        category: str | None = None,
        seen: set[frozenset[str]] | None = None,
        gold_share: float | None = None,
    ) -> BattleChoice:
        """Draw a battle (not written) avoiding the clip pairs in ``seen`` while others exist.

        ``gold_share`` overrides the configured share of gold checks for this draw (a rater
        still being screened gets more); the recorded probability accounts for it.
        """
        if category is not None and category not in CATEGORIES:
            raise InputError(f"unknown category {category!r}: expected t2v or i2v")
        state = self._current()
        self._maybe_refit(state)
        names = [category] if category else sorted(state.pools)
        names = [c for c in names if c in state.pools]
        if not names:
            where = f" in category {category}" if category else ""
            raise NoBattleAvailable(
                f"no prompt{where} has clips from two active models yet; generate or import clips"
            )
        seen_counts = self._seen_counts(state, seen or set())
        with self._lock:
            cat_p, pair_p, gold_p = self._category_distribution(
                state, names, seen_counts, gold_share
            )
            rng = self._rng
            c = int(rng.choice(len(names), p=cat_p))
            cat = names[c]
            pool = state.pools[cat]
            probs = pair_p[cat]
            k = int(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum(), side="right"))
            k = min(k, len(probs) - 1)
            while probs[k] <= 0:  # float edge of searchsorted
                k -= 1
            gold_part = gold_p[cat][k]
            kind = "gold" if rng.random() < gold_part else "normal"
            prompt_id, clip_i, clip_j, prompt_p = self._pick_prompt(pool, k, seen or set())
            i, j = pool.pairs[k]
            if rng.random() < 0.5:
                clip_i, clip_j, i, j = clip_j, clip_i, j, i
            return BattleChoice(
                category=cat,
                prompt_id=prompt_id,
                left_clip=clip_i,
                right_clip=clip_j,
                left_model=pool.names[i],
                right_model=pool.names[j],
                kind=kind,
                prob=float(cat_p[c] * probs[k] * prompt_p),
            )

    # ------------------------------------------------------------------ pools
    def _current(self) -> _State:
        state = self._state
        if state is not None and state.epoch == self.store.epoch:
            return state
        with self._lock:
            state = self._state
            if state is not None and state.epoch == self.store.epoch:
                return state
            state = self._build_state()
            self._state = state
        self._refit(state)
        return state

    def _build_state(self) -> _State:
        epoch = self.store.epoch
        frame = self.store.battle_candidates()
        frame = self.store.servable_candidates(frame)  # only clips with a current rendition
        if self.config.only_models:
            frame = frame[frame["model"].isin(self.config.only_models)]
        usage_frame = self.store.pair_prompt_usage()
        usage_of = {
            (p, m1, m2): int(n)
            for p, m1, m2, n in zip(
                usage_frame["prompt_id"],
                usage_frame["m1"],
                usage_frame["m2"],
                usage_frame["n"],
                strict=True,
            )
        }
        grouped: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        name_of: dict[str, str] = {}
        for clip_id, model_id, name, prompt_id, cat in zip(
            frame["clip_id"],
            frame["model_id"],
            frame["model"],
            frame["prompt_id"],
            frame["category"],
            strict=True,
        ):
            grouped[cat][prompt_id][model_id].append(clip_id)
            name_of[model_id] = name
        pools: dict[str, Pool] = {}
        owner: dict[str, tuple[str, int]] = {}
        for cat, prompts in grouped.items():
            pool = self._build_pool(prompts, name_of, usage_of)
            if pool is None:
                continue
            pools[cat] = pool
            for prompt_clips in pool.clips.values():
                for index, clip_ids in prompt_clips.items():
                    for clip_id in clip_ids:
                        owner[clip_id] = (cat, index)
        return _State(epoch, pools, owner)

    def _build_pool(
        self,
        prompts: dict[str, dict[str, list[str]]],
        name_of: dict[str, str],
        usage_of: dict[tuple[str, str, str], int],
    ) -> Pool | None:
        models = sorted({m for by_model in prompts.values() for m in by_model})
        index = {m: i for i, m in enumerate(models)}
        clips = {
            pid: {index[m]: sorted(c) for m, c in by_model.items()}
            for pid, by_model in sorted(prompts.items())
            if len(by_model) >= 2
        }
        shared: dict[tuple[int, int], list[str]] = defaultdict(list)
        for pid, by_model in clips.items():
            present = sorted(by_model)
            for a in range(len(present)):
                for b in range(a + 1, len(present)):
                    shared[(present[a], present[b])].append(pid)
        if not shared:
            return None
        keys = sorted(shared)
        names = [name_of[m] for m in models]
        cfg = self.config
        only = set(cfg.gold_only_models)
        twins = set(cfg.gold_twins)
        normal, gold, n_clip_pairs, usage = [], [], [], []
        for i, j in keys:
            a, b = names[i], names[j]
            normal.append(a not in only and b not in only)
            gold.append({a, b} & {cfg.gold_reference} and len({a, b} & twins) == 1)
            n_clip_pairs.append(sum(len(clips[p][i]) * len(clips[p][j]) for p in shared[(i, j)]))
            lo, hi = min(models[i], models[j]), max(models[i], models[j])
            usage.append(np.array([usage_of.get((p, lo, hi), 0) for p in shared[(i, j)]]))
        pool = Pool(
            models=models,
            names=names,
            pairs=np.array(keys, dtype=np.int64).reshape(-1, 2),
            pair_index={k: n for n, k in enumerate(keys)},
            prompts=[shared[k] for k in keys],
            usage=usage,
            clips=clips,
            clip_pairs=np.array(n_clip_pairs, dtype=np.int64),
            normal=np.array(normal, dtype=bool),
            gold=np.array([bool(g) for g in gold], dtype=bool),
        )
        if not pool.normal.any() and not pool.gold.any():
            return None
        self._set_probs(pool, np.zeros(len(models)), None, np.zeros(len(models)))
        return pool

    # ------------------------------------------------------------------ ratings
    def _maybe_refit(self, state: _State) -> None:
        if time.monotonic() - self._fitted_at < self.config.refit_seconds or self._refitting:
            return
        self._refitting = True
        threading.Thread(target=self._refit_quietly, args=(state,), daemon=True).start()

    def _refit_quietly(self, state: _State) -> None:
        try:
            self._refit(state)
        finally:
            self._refitting = False

    def _refit(self, state: _State) -> None:
        """Fit Bradley-Terry per category from the store's vote counts; cache pair probabilities."""
        self._fitted_at = time.monotonic()
        for cat, pool in state.pools.items():
            counts = self.store.vote_counts(category=cat)
            theta, cov, votes = fit_counts(pool.names, counts, self.config.ridge)
            with self._lock:
                self._set_probs(pool, theta, cov, votes)

    def _set_probs(
        self, pool: Pool, theta: np.ndarray, cov: np.ndarray | None, votes: np.ndarray
    ) -> None:
        pool.mix = active_mix(self.config, pool.pairs, pool.normal, theta, cov, votes)
        pool.gold_dist = pool.gold / max(pool.gold.sum(), 1)
        pool.probs, pool.gold_probs = self._mixture(pool, self.config.gold_share)
        pool.votes = votes

    @staticmethod
    def _mixture(pool: Pool, gold_share: float) -> tuple[np.ndarray, np.ndarray]:
        """Marginal pair probabilities with ``gold_share`` gold checks, and their gold part."""
        if not pool.gold.any():
            gold_share = 0.0
        elif not pool.normal.any():
            gold_share = 1.0
        gold_probs = gold_share * pool.gold_dist
        return (1.0 - gold_share) * pool.mix + gold_probs, gold_probs

    # ------------------------------------------------------------------ per request
    def _seen_counts(self, state: _State, seen: set[frozenset[str]]) -> dict[str, np.ndarray]:
        hits: dict[str, list[int]] = {}
        owner = state.clip_owner
        for clip_pair in seen:
            if len(clip_pair) != 2:
                continue
            x, y = clip_pair
            ox, oy = owner.get(x), owner.get(y)
            if ox is None or oy is None or ox[0] != oy[0] or ox[1] == oy[1]:
                continue
            pool = state.pools[ox[0]]
            hits.setdefault(ox[0], []).append(
                pool.pair_index[(min(ox[1], oy[1]), max(ox[1], oy[1]))]
            )
        return {
            cat: np.bincount(ks, minlength=len(state.pools[cat].pairs)).astype(np.int64)
            for cat, ks in hits.items()
        }

    def _category_distribution(
        self,
        state: _State,
        names: list[str],
        seen_counts: dict[str, np.ndarray],
        gold_share: float | None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        pair_p: dict[str, np.ndarray] = {}
        gold_p: dict[str, np.ndarray] = {}
        weights = []
        for cat in names:
            pool = state.pools[cat]
            probs, gold_probs = pool.probs, pool.gold_probs
            if gold_share is not None:
                probs, gold_probs = self._mixture(pool, gold_share)
            # Chance that a draw of each pair is a gold check.
            gold_p[cat] = np.divide(gold_probs, probs, out=np.zeros_like(probs), where=probs > 0)
            seen = seen_counts.get(cat)
            exhausted = False
            if seen is not None:
                # Pairs whose every clip pair this rater has seen drop out, the rest renormalise
                # (so the recorded probability stays exact); once all are seen, repeats return.
                open_ = (seen < pool.clip_pairs) & (probs > 0)
                exhausted = not open_.any()
                if not exhausted:
                    probs = probs * open_
            pair_p[cat] = probs / probs.sum()
            weight = self.config.category_weights.get(cat, 1.0)
            weights.append(weight * (0.0 if exhausted else 1.0))
        w = np.asarray(weights, dtype=np.float64)
        if w.sum() <= 0:  # every pair seen (or all weights zero): repeats are allowed again
            w = np.array([self.config.category_weights.get(c, 1.0) for c in names]) + 1e-12
        return w / w.sum(), pair_p, gold_p

    def _pick_prompt(
        self, pool: Pool, k: int, seen: set[frozenset[str]]
    ) -> tuple[str, str, str, float]:
        """Least-used shared prompt that still has an unseen clip pair; ties broken evenly.

        Least-used first is a round robin over the pair's shared prompts, so each gets
        1 / n_shared of the pair's battles: that share is the prompt factor of the recorded
        probability (the tie-break chance would only add noise to inverse-propensity weights).
        """
        i, j = pool.pairs[k]
        prompts = pool.prompts[k]
        fresh: list[list[tuple[str, str]]] = []
        for pid in prompts:
            options = [
                (x, y)
                for x in pool.clips[pid][i]
                for y in pool.clips[pid][j]
                if frozenset((x, y)) not in seen
            ]
            fresh.append(options)
        usable = np.array([bool(o) for o in fresh])
        if not usable.any():
            usable[:] = True
            fresh = [[(x, y) for x in pool.clips[p][i] for y in pool.clips[p][j]] for p in prompts]
        usage = np.where(usable, pool.usage[k], np.iinfo(np.int64).max)
        tied = np.flatnonzero(usage == usage.min())
        choice = int(tied[self._rng.integers(len(tied))])
        options = fresh[choice]
        clip_i, clip_j = options[self._rng.integers(len(options))]
        pool.usage[k][choice] += 1
        return prompts[choice], clip_i, clip_j, 1.0 / len(prompts)


__all__ = ["BattleChoice", "Scheduler", "SchedulerConfig"]
