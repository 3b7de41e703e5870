"""Battle scheduling: which prompt and pair of clips a rater sees next (active sampling + gold)."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, ndtr

from arena.domain.gold import GOLD_REFERENCE, GOLD_TWINS
from arena.store import NewBattle, Store
from generators.errors import InputError, PaddockError
from leaderboards.bradley_terry import PairwiseModel, chord_matrix, fit_pairwise
from leaderboards.leaderboard import ELO_PER_NAT

CATEGORIES = ("t2v", "i2v")


class NoBattleAvailable(PaddockError):
    """No prompt has clips from two active models in the asked pool."""


@dataclass(frozen=True)
class SchedulerConfig:
    """How pairs are chosen.

    The pair distribution of a category is the mixture
    ``(1 - exploration - boost) * active + exploration * uniform + boost * new_models``
    (the new-model share goes to the active part while no model is new); gold checks take
    ``gold_share`` of the battles of a category that has gold pairs.

    Attributes:
        exploration: share of uniform pairing: every pair keeps at least
            ``exploration / n_pairs`` probability, which also bounds inverse-propensity weights.
        new_model_boost: share spread over the pairs of models with fewer than
            ``new_model_votes`` votes, more to the models with fewer votes.
        new_model_votes: votes under which a model counts as new.
        indifference_elo: rating differences below this do not matter: the active part
            weighs a pair by the probability that it is misordered by at least this much.
        category_weights: relative weight of each category when the rater asks for none
            (categories not named weigh 1).
        gold_share: share of battles that are gold checks (a reference against its twin).
        gold_reference: the model whose twins are degraded copies of it.
        gold_twins: degraded twins of the reference; the reference is the right answer.
        gold_only_models: models served only in gold checks, never in normal battles.
        only_models: when not empty, battles use only these models (a duel of two
            checkpoints); gold checks are off unless the gold pair is among them.
        screen_gold_answers: until a rater has answered this many gold checks, their battles
            are gold checks with ``screen_gold_share`` instead (careless raters are caught
            after a few dozen votes, not a few hundred); 0 turns screening off.
        screen_gold_share: share of gold checks while a rater is screened.
        focus: exponent on that probability: above 1 the active part concentrates on the
            least resolved pairs.
        refit_seconds: the cached ratings are refitted in the background this often.
        ridge: Gaussian penalty of the scheduler's own Bradley-Terry fit.
    """

    exploration: float = 0.1
    new_model_boost: float = 0.2
    new_model_votes: int = 100
    indifference_elo: float = 10.0
    category_weights: dict[str, float] = field(default_factory=dict)
    gold_share: float = 0.05
    gold_reference: str = GOLD_REFERENCE
    gold_twins: tuple[str, ...] = GOLD_TWINS
    gold_only_models: tuple[str, ...] = ()
    only_models: tuple[str, ...] = ()
    screen_gold_answers: int = 8
    screen_gold_share: float = 0.25
    focus: float = 1.0
    refit_seconds: float = 30.0
    ridge: float = 0.01

    def __post_init__(self) -> None:
        for name in ("exploration", "new_model_boost", "gold_share", "screen_gold_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError(f"scheduler {name} must be in [0, 1], got {value}")
        if self.exploration + self.new_model_boost > 1.0:
            raise InputError("scheduler exploration + new_model_boost must be at most 1")
        if self.exploration == 0.0:
            raise InputError("scheduler exploration must be > 0 so every pair keeps a chance")
        if any(w < 0 for w in self.category_weights.values()):
            raise InputError("category weights must be >= 0")


@dataclass(frozen=True)
class BattleChoice:
    """A drawn battle before it is written: clips in display order and its exact probability.

    ``prob`` = P(category) * P(unordered model pair | category) * P(prompt | pair), where
    the pair probability is the marginal one over normal and gold battles and the prompt
    factor is 1 / (prompts the pair shares), the round robin's share of each prompt.
    """

    category: str
    prompt_id: str
    left_clip: str
    right_clip: str
    left_model: str
    right_model: str
    kind: str
    prob: float


@dataclass
class _Pool:
    """One category's battle space, rebuilt when models or clips change."""

    models: list[str]  # model ids
    names: list[str]
    pairs: np.ndarray  # (P, 2) model indices, i < j
    pair_index: dict[tuple[int, int], int]
    prompts: list[list[str]]  # shared prompts per pair
    usage: list[np.ndarray]  # battles served per shared prompt, per pair
    clips: dict[str, dict[int, list[str]]]  # prompt -> model index -> clip ids
    clip_pairs: np.ndarray  # (P,) distinct clip pairs per pair
    normal: np.ndarray  # (P,) bool: may appear in normal battles
    gold: np.ndarray  # (P,) bool: a gold pair (reference vs twin)
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) marginal pair probs
    gold_probs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) gold part
    mix: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) normal battles
    gold_dist: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) gold checks
    votes: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (K,) votes per model


@dataclass
class _State:
    epoch: int
    pools: dict[str, _Pool]
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
        pools: dict[str, _Pool] = {}
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
    ) -> _Pool | None:
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
        pool = _Pool(
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
            theta, cov, votes = self._fit(pool, counts)
            with self._lock:
                self._set_probs(pool, theta, cov, votes)

    def _fit(self, pool: _Pool, counts) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        k = len(pool.names)
        votes = np.zeros(k)
        if counts.empty:
            return np.zeros(k), None, votes
        index = {n: i for i, n in enumerate(pool.names)}
        a = counts["model_a"].map(index)
        b = counts["model_b"].map(index)
        keep = a.notna() & b.notna()
        if not keep.any():
            return np.zeros(k), None, votes
        a = a[keep].to_numpy(dtype=np.int64)
        b = b[keep].to_numpy(dtype=np.int64)
        n = counts["count"][keep].to_numpy(dtype=np.float64)
        winner = counts["winner"][keep].to_numpy(dtype=object)
        np.add.at(votes, a, n)
        np.add.at(votes, b, n)
        first, second = np.minimum(a, b), np.maximum(a, b)
        key, pair = np.unique(first * k + second, return_inverse=True)
        # Outcome column from the first (lower-index) model's point of view.
        left_won = winner == "model_a"
        right_won = winner == "model_b"
        first_is_left = a == first
        column = np.where(
            left_won,
            np.where(first_is_left, 0, 1),
            np.where(right_won, np.where(first_is_left, 1, 0), 2),
        )
        table = np.zeros((len(key), 3))
        np.add.at(table, (pair, column), n)
        model = PairwiseModel(k, key // k, key % k, "half", False, self.config.ridge)
        theta = fit_pairwise(model, table, tol=1e-6).params
        cov = chord_matrix(model, table, theta)
        return theta, cov, votes

    def _set_probs(
        self, pool: _Pool, theta: np.ndarray, cov: np.ndarray | None, votes: np.ndarray
    ) -> None:
        cfg = self.config
        i, j = pool.pairs[:, 0], pool.pairs[:, 1]
        normal = pool.normal.astype(np.float64)
        if cov is None:
            var = np.full(len(i), 2.0 / cfg.ridge)
        else:
            var = np.maximum(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 1e-12)
        d = theta[i] - theta[j]
        sd = np.sqrt(var)
        # Chance that the current order of the pair is wrong by a margin that matters, times
        # the share of the pair's variance one more vote would remove.
        wrong = ndtr(-(np.abs(d) + cfg.indifference_elo / ELO_PER_NAT) / sd)
        info = expit(d) * expit(-d)
        shrink = var * info / (1.0 + var * info)
        active = wrong**cfg.focus * shrink * normal
        uniform = normal / max(normal.sum(), 1.0)
        deficit = np.clip(1.0 - votes / max(cfg.new_model_votes, 1), 0.0, 1.0)
        boost = np.maximum(deficit[i], deficit[j]) * normal
        boost_share = cfg.new_model_boost if boost.sum() > 0 else 0.0
        active_share = 1.0 - cfg.exploration - boost_share
        mix = cfg.exploration * uniform
        if boost_share:
            mix = mix + boost_share * boost / boost.sum()
        if active.sum() > 0:
            mix = mix + active_share * active / active.sum()
        else:
            mix = mix + active_share * uniform
        gold = pool.gold.astype(np.float64)
        pool.mix = mix / max(mix.sum(), 1e-300)
        pool.gold_dist = gold / max(gold.sum(), 1.0)
        pool.probs, pool.gold_probs = self._mixture(pool, cfg.gold_share)
        pool.votes = votes

    @staticmethod
    def _mixture(pool: _Pool, gold_share: float) -> tuple[np.ndarray, np.ndarray]:
        """Marginal pair probabilities with ``gold_share`` gold checks, and their gold part."""
        if not pool.gold.any():
            gold_share = 0.0
        elif not pool.normal.any():
            gold_share = 1.0
        gold_probs = gold_share * pool.gold_dist
        return (1.0 - gold_share) * pool.mix + gold_probs, gold_probs

    # ------------------------------------------------------------------ per request
    def _seen_counts(self, state: _State, seen: set[frozenset[str]]) -> dict[str, np.ndarray]:
        counts: dict[str, np.ndarray] = {}
        for clip_pair in seen:
            if len(clip_pair) != 2:
                continue
            x, y = tuple(clip_pair)
            ox, oy = state.clip_owner.get(x), state.clip_owner.get(y)
            if ox is None or oy is None or ox[0] != oy[0] or ox[1] == oy[1]:
                continue
            pool = state.pools[ox[0]]
            k = pool.pair_index[(min(ox[1], oy[1]), max(ox[1], oy[1]))]
            counts.setdefault(ox[0], np.zeros(len(pool.pairs), dtype=np.int64))[k] += 1
        return counts

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
        self, pool: _Pool, k: int, seen: set[frozenset[str]]
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


__all__ = ["BattleChoice", "NoBattleAvailable", "Scheduler", "SchedulerConfig"]
