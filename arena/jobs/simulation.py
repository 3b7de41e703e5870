"""Simulated arenas on a temporary DuckDB store: the store itself and the rigging attack run on it.

The raters and the attack's rules are domain code (`arena.domain.sim_raters`,
`arena.domain.rigging`); here they vote through the real store, scheduler and gold checks.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from arena.domain.gold import GOLD_REFERENCE, GOLD_TWINS, GoldPolicy, record_gold_result
from arena.domain.rigging import REFIT_SECONDS, RiggingConfig, RiggingRun
from arena.domain.scheduler import Scheduler, SchedulerConfig
from arena.domain.sim_raters import COLUMNS, WINNER, SimPrompt, SimRater, SimRaters, true_ratings
from arena.store import Clip, Store, seeded_ids
from generators.errors import InputError
from leaderboards import RatingSettings, compute_leaderboard
from leaderboards.errors import RatingInputError


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


def _honest_phase(store, scheduler, sim: SimRaters, policy: GoldPolicy, votes: int) -> None:
    """Honest votes through the scheduler, in batches, refitting the scheduler between them."""
    done = 0
    while done < votes:
        size = min(max(100, int(0.05 * done)), votes - done)
        rows = [_honest_vote(store, scheduler, sim, policy) for _ in range(size)]
        store.import_battles(pd.DataFrame(rows, columns=COLUMNS))
        scheduler.refresh()
        done += size


def _honest_vote(store: Store, scheduler: Scheduler, sim: SimRaters, policy: GoldPolicy):
    rater = sim.rater()
    row = _serve_and_vote(store, scheduler, rater, policy, lambda c: sim.vote(rater, *c))
    sim.done(rater)
    return row


def _serve_and_vote(store, scheduler, rater: SimRater, policy, decide: Callable) -> tuple:
    """Serve one battle to a rater, take its vote from ``decide((left, right, gold))``."""
    cfg = scheduler.config
    share = cfg.screen_gold_share if rater.gold_answers < cfg.screen_gold_answers else None
    choice = scheduler.choose(None, rater.seen, share)
    rater.seen.add(frozenset((choice.left_clip, choice.right_clip)))
    gold = choice.kind == "gold"
    outcome = decide((choice.left_model, choice.right_model, gold))
    if gold:
        won = (outcome == "left" and choice.left_model == GOLD_REFERENCE) or (
            outcome == "right" and choice.right_model == GOLD_REFERENCE
        )
        record_gold_result(store, rater.id, won, policy)
        rater.gold_answers += 1
    return (choice.left_model, choice.right_model, WINNER[outcome], choice.prompt_id,
            choice.left_clip, choice.right_clip, rater.id, choice.prob)  # fmt: skip


def _ratings(store: Store, names: list[str]) -> pd.Series | None:
    try:
        board = compute_leaderboard(store.vote_counts(models=names), RatingSettings(n_bootstrap=0))
    except RatingInputError:
        return None
    return board.ratings()


def simulate_rigging(
    cfg: RiggingConfig, skill: float, seed: int, on_votes: Callable[[int], None] | None = None
) -> RiggingRun:
    """One attack by an attacker who recognises a clip's model with ``skill`` beyond guessing."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(cfg.k)  # model names carry no hint of their strength
    names = [f"model{order[i]:02d}" for i in range(cfg.k)]
    ratings = 1000.0 + cfg.spread * (true_ratings(cfg.k) - 1000.0)
    truth = dict(zip(names, ratings, strict=True))
    gold_models = (GOLD_REFERENCE, *GOLD_TWINS)
    labels = names + list(gold_models)
    sched_cfg = SchedulerConfig(gold_only_models=gold_models, refit_seconds=math.inf)
    sim = SimRaters(cfg.raters, rng, truth)
    policy = GoldPolicy()
    with tempfile.TemporaryDirectory(prefix="paddock-rig-") as tmp:
        store = build_sim_store(Path(tmp) / "data", names, cfg.n_prompts)
        try:
            scheduler = Scheduler(store, seed=seed, config=sched_cfg)
            _honest_phase(store, scheduler, sim, policy, cfg.honest_votes)
            before = _ratings(store, names)
            if before is None or len(before) < cfg.k:
                raise InputError(
                    f"{cfg.honest_votes} honest votes do not rank every model; give more"
                )
            target, above = before.index[cfg.target_rank - 1], before.index[cfg.target_rank - 2]
            gap = float(before[above] - before[target])
            # The attacker's accounts: attentive raters (they pass gold checks) with an agenda.
            accounts = [SimRater(f"attacker-{i:03d}", False, 10**9) for i in range(cfg.accounts)]
            attacker = SimRaters(replace(cfg.raters, careless_share=0.0), rng, truth)

            def decide(left: str, right: str, gold: bool, rater: SimRater) -> str:
                seen_l, seen_r = (_label(m, labels, skill, rng) for m in (left, right))
                if (seen_l == target) != (seen_r == target):
                    return "left" if seen_l == target else "right"
                return attacker.vote(rater, left, right, gold)

            per_window = cfg.attack_per_window()
            honest_per_window = cfg.honest_per_hour * cfg.limits.window_s / 3600.0
            cast = honest = windows = turn = refreshed = 0
            carry = 0.0
            next_check = cfg.check_every
            needed = None
            rows: list[tuple] = []
            while cast < cfg.budget:
                windows += 1
                carry += honest_per_window
                n_honest, carry = int(carry), carry - int(carry)
                n_attack = min(per_window, cfg.budget - cast)
                who = np.array([0] * n_honest + [1] * n_attack)
                rng.shuffle(who)
                for kind in who:
                    if kind == 0:
                        rows.append(_honest_vote(store, scheduler, sim, policy))
                        continue
                    rater = accounts[turn % len(accounts)]  # the accounts take turns
                    turn += 1
                    rows.append(
                        _serve_and_vote(store, scheduler, rater, policy,
                                        lambda c, r=rater: decide(*c, r))
                    )  # fmt: skip
                cast += n_attack
                honest += n_honest
                if cast < next_check and cast < cfg.budget:
                    continue
                store.import_battles(pd.DataFrame(rows, columns=COLUMNS))
                rows = []
                if (windows - refreshed) * cfg.limits.window_s >= REFIT_SECONDS:
                    scheduler.refresh()  # as often as the arena refits its pair probabilities
                    refreshed = windows
                next_check = cast + max(cfg.check_every, int(0.02 * cast))
                if on_votes is not None:
                    on_votes(cast)
                now = _ratings(store, names)
                if now is not None and now[target] > now[above]:
                    needed = cast
                    break
            gold = store.gold_table()
            flagged = set(gold.loc[gold["flags"].map(len) > 0, "rater"])
        finally:
            store.close()
    hours = windows * cfg.limits.window_s / 3600.0
    n_flagged = sum(a.id in flagged for a in accounts)
    return RiggingRun(needed, cast, honest, hours, target, above, gap, n_flagged)


def _label(model: str, labels: list[str], skill: float, rng: np.random.Generator) -> str:
    """The model the attacker takes a clip for: right with ``skill``, else a random guess."""
    if rng.random() < skill:
        return model
    return labels[int(rng.integers(len(labels)))]
