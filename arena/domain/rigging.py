"""Rigging simulator: attacker votes needed to move a model one rank, with and without fair serving.

An arena of simulated raters (`arena.domain.sim_raters`) on a real store, the real scheduler and
the real gold checks collects ``honest_votes``; the board then fitted names a target (the model at
``target_rank``) and the model just above it. An attacker then joins with ``accounts`` rater
accounts, each voting as fast as the arena's rate limits allow (`AbuseConfig`: votes per rater
and per address per window, the accounts spread over ``addresses``), while honest raters keep
voting at ``honest_per_hour``. The attacker gets whatever battles the scheduler serves (gold
screening included) and votes on every one: for the clip it takes for the target when it sees
one, otherwise as an attentive rater would (so its accounts pass the gold checks).

Recognition: for each clip the attacker knows the model with probability ``skill``, and otherwise
guesses a label at random among the pool's models, so its top-1 accuracy is
``skill + (1 - skill) / n_labels``. A measured accuracy ``a`` at chance ``c`` (the fingerprint
audit's figures) is taken as ``skill = (a - c) / (1 - c)``: the audit's edge over chance carried
over to this pool. Votes of accounts flagged by the gold checks leave the fit, as in the arena.

The attack has worked at the first refit (every ``check_every`` votes, or 2% of the attacker's
votes so far) where the target's fitted rating is above its neighbour's. Votes counted: every
attacker vote cast until then; a run that does not get there within ``budget`` is censored.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from arena.domain.abuse import AbuseConfig
from arena.domain.gold import GOLD_REFERENCE, GOLD_TWINS, GoldPolicy, record_gold_result
from arena.domain.scheduler import Scheduler, SchedulerConfig
from arena.domain.sim_raters import (
    COLUMNS,
    WINNER,
    RaterModel,
    SimRater,
    SimRaters,
    build_sim_store,
    true_ratings,
)
from arena.store import Store
from generators.errors import InputError
from leaderboards import RatingInputError, RatingSettings, compute_leaderboard

#: The fingerprint audit's measured top-1 accuracy on the fixture's four differently encoded
#: models: originals identified every time; serving renditions 28% against 25% chance.
AUDIT_ACCURACY_ORIGINALS = 1.0
AUDIT_ACCURACY_RENDITIONS = 0.28
AUDIT_CHANCE = 0.25
#: The attack phase refits the scheduler's pair probabilities as often as a serving arena does
#: (simulated time); the simulation's own scheduler never refits on its own clock.
REFIT_SECONDS = SchedulerConfig().refit_seconds


def skill_from_accuracy(accuracy: float, chance: float) -> float:
    """The share of clips recognised beyond guessing, from a top-1 accuracy at a chance level."""
    if not 0 < chance < 1:
        raise InputError(f"chance must be between 0 and 1 (exclusive), not {chance}")
    if not 0 <= accuracy <= 1:
        raise InputError(f"recognition accuracy must be between 0 and 1, not {accuracy}")
    return float(min(max((accuracy - chance) / (1.0 - chance), 0.0), 1.0))


@dataclass(frozen=True)
class RiggingConfig:
    """One simulated attack (see the module docstring).

    Attributes:
        k: models rated (gold models come on top).
        spread: true rating gaps are the simulator's (`true_ratings`) times this.
        n_prompts: prompts, one clip per model each.
        honest_votes: votes cast before the attack starts.
        honest_per_hour: honest votes per hour while the attack runs.
        accounts: attacker accounts; addresses: the addresses they vote from.
        target_rank: rank (by fitted rating, 1 = best) of the model the attacker pushes.
        budget: attacker votes at most.
        check_every: attacker votes between refits at first (then 2% of those cast).
        limits: the arena's rate limits.
        raters: how honest raters vote.
    """

    k: int = 8
    spread: float = 1.0
    n_prompts: int = 8
    honest_votes: int = 4000
    honest_per_hour: float = 600.0
    accounts: int = 5
    addresses: int = 1
    target_rank: int = 2
    budget: int = 20_000
    check_every: int = 25
    limits: AbuseConfig = AbuseConfig()
    raters: RaterModel = RaterModel()

    def __post_init__(self) -> None:
        for name, low in (("k", 2), ("n_prompts", 1), ("honest_votes", 1), ("accounts", 1),
                          ("addresses", 1), ("budget", 1), ("check_every", 1)):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise InputError(f"{name.replace('_', ' ')} must be a whole number >= {low}, "
                                 f"not {value!r}")  # fmt: skip
        if not 2 <= self.target_rank <= self.k:
            raise InputError(
                f"target rank must be between 2 and the number of models ({self.k}), "
                f"not {self.target_rank}"
            )
        if not (self.spread > 0 and math.isfinite(self.spread)):
            raise InputError(f"spread must be a positive number, not {self.spread}")
        if not (self.honest_per_hour >= 0 and math.isfinite(self.honest_per_hour)):
            raise InputError(f"honest votes per hour must be >= 0, not {self.honest_per_hour}")
        if self.attack_per_window() < 1:
            raise InputError("the rate limits let the attacker cast no vote")

    def attack_per_window(self) -> int:
        """Attacker votes per rate-limit window: per account, capped per address."""
        per_rater = self.limits.votes_per_rater or math.inf
        per_ip = self.limits.votes_per_ip or math.inf
        total = min(self.accounts * per_rater, self.addresses * per_ip)
        return int(min(total, self.budget))


@dataclass(frozen=True)
class RiggingRun:
    """One run's outcome: attacker votes needed (None: not within the budget) and the rest."""

    needed: int | None
    attacker_votes: int
    honest_during: int
    hours: float
    target: str
    above: str
    gap_elo: float
    flagged_accounts: int


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


def summarise_runs(runs: list[RiggingRun], budget: int) -> dict:
    """Median and 95% range of attacker votes needed over runs (unreached runs count as more
    than the budget), how many runs got there, and the hours taken."""
    needed = np.array([r.needed if r.needed is not None else np.inf for r in runs], dtype=float)
    reached = int(np.isfinite(needed).sum())
    low, median, high = np.percentile(needed, [2.5, 50, 97.5], method="inverted_cdf")

    def shown(x: float) -> int | None:
        return int(x) if np.isfinite(x) else None

    done = [r.hours for r in runs if r.needed is not None]
    return {
        "median": shown(median),
        "low": shown(low),
        "high": shown(high),
        "reached": reached,
        "runs": len(runs),
        "budget": budget,
        "hours_median": round(float(np.median(done)), 2) if done else None,
        "gap_elo_median": round(float(np.median([r.gap_elo for r in runs])), 1),
        "flagged_accounts": sum(r.flagged_accounts for r in runs),
    }
