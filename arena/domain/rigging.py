"""The rigging attack's rules: votes needed to move a model one rank, with and without fair serving.

The simulation itself runs on a temporary store in `arena.jobs.simulation`.

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
from dataclasses import dataclass

import numpy as np

from arena.domain.abuse import AbuseConfig
from arena.domain.scheduler import SchedulerConfig
from arena.domain.sim_raters import RaterModel
from generators.errors import InputError

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
