"""The rigging attack's rules: votes needed to move a model one rank, by how well the attacker
recognises its model, with and without the targeted-voter detector.

The arena it runs in is `arena.domain.rigging_arena` (in memory, one seed fixes every figure);
the run with the detector wired in is `arena.jobs.simulation.simulate_rigging`.

Simulated raters (`arena.domain.sim_raters`), served by the scheduler's pair distribution with
gold checks, collect ``honest_votes``; the board then fitted names a target (the model at
``target_rank``) and the model just above it. An attacker then joins with ``accounts`` rater
accounts, each voting as fast as the arena's rate limits allow (`AbuseConfig`: votes per rater
and per address per window, the accounts spread over ``addresses``), while honest raters keep
voting at ``honest_per_hour``. The attacker gets whatever battles the scheduler serves (gold
screening of new accounts included) and votes on every one: for the clip it takes for the target
when it takes exactly one clip for it, otherwise as an attentive rater would (so its accounts
pass the gold checks).

Recognition: for each clip the attacker knows the model with probability ``skill`` (the
``--recognition`` figure), and otherwise guesses a label at random among the pool's models, so
its top-1 accuracy is ``skill + (1 - skill) / n_labels``. A measured accuracy ``a`` at chance
``c`` (the fingerprint audit's figures) is taken as ``skill = (a - c) / (1 - c)``: the audit's
edge over chance carried over to this pool. Votes of accounts flagged by the gold checks leave
the fit, as in the arena.

Detector: with it on, the arena runs the targeted-voter test (`leaderboards.targeted`) on the
votes still on the board before every board refit; a flagged account's votes all leave the
board and the account is burnt. The attacker notices and opens a new account in its place,
which starts as any new rater does (gold screening), so what the attack costs is votes: every
vote cast counts, those of burnt accounts too. The attacker does not adapt its voting to the
test (an attacker that spreads its votes over many accounts, each under the test's
``min_votes``, is not caught by it; what it then meets is account creation and screening).

The attack has worked at the first board refit (every ``check_every`` attacker votes, or
``check_growth`` of the attacker's votes so far) where the target's fitted rating is above its
neighbour's. Votes counted: every attacker vote cast until then; a run that does not get there
within ``budget`` is censored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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


def recognition_from_audit(path: Path, model: str | None = None) -> tuple[float, str]:
    """The recognition share (``skill``) from a fingerprint audit's JSON
    (`paddock audit fingerprint --json`): the best accuracy it reports (format, or content by
    any classifier) turned into the edge over its chance level; with ``model``, that model's
    recall instead where the audit reports per-model recall. Returns (skill, what it came from).
    """
    where = f"audit JSON {path}"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{where}: not a JSON file ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected the audit's JSON object, not a {type(data).__name__}")

    def share(key: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InputError(f"{where}: {key} must be a number between 0 and 1, not {value!r}")
        return float(value)

    for key in ("accuracy", "chance", "models"):
        if key not in data:
            raise InputError(f"{where}: not a fingerprint audit (no {key!r})")
    chance = share("chance", data["chance"])
    if not 0 < chance < 1:
        raise InputError(f"{where}: chance must be between 0 and 1 (exclusive), not {chance}")
    if model is not None:
        recalls = {
            key: value for key, value in data.items() if "recall" in key and isinstance(value, dict)
        }
        for key, by_model in sorted(recalls.items()):
            if model in by_model:
                recall = share(f"{key}[{model!r}]", by_model[model])
                return skill_from_accuracy(recall, chance), f"{key} of {model}"
        raise InputError(f"{where}: no per-model recall of {model!r}")
    found = {"accuracy": share("accuracy", data["accuracy"])}
    for key, value in data.items():  # content accuracies (CLIP, offline): null when not measured
        if key.endswith("accuracy") and key != "accuracy" and value is not None:
            found[key] = share(key, value)
    key = max(found, key=lambda k: found[k])
    return skill_from_accuracy(found[key], chance), key


def flagged_raters(flags: pd.DataFrame, alpha: float) -> set[str]:
    """Rater ids the detector flagged: its rows with ``q_value`` at most ``alpha`` (every row
    when it returns no q-values)."""
    if flags is None or flags.empty:
        return set()
    if "q_value" in flags.columns:
        flags = flags[flags["q_value"] <= alpha]
    return set(flags["rater_id"].astype(str))


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
        check_every: attacker votes between board refits at first (then ``check_growth`` of
            those cast).
        detector: whether the arena runs the targeted-voter detector before each board refit.
        detector_sees_flagged: the detector's input keeps the votes of raters already flagged
            (as the arena's does), or leaves them out.
        min_votes, alpha: the detector's settings (votes a rater needs to be tested; the
            false-discovery rate of its flags).
        surge_hold: with the detector, the surge hold (`leaderboards.surge`) runs too: young
            raters pushing a model together are held off the board until established.
        young_votes: votes (gold checks included) after which a rater is established.
        young_recent: a young rater is tested by the surge hold while they have voted within
            the last this many votes cast in the arena (raters who left long ago are not a
            surge, and would drown one).
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
    check_growth: float = 0.02
    detector: bool = False
    detector_sees_flagged: bool = True
    min_votes: int = 20
    alpha: float = 0.01
    surge_hold: bool = True
    young_votes: int = 200
    young_recent: int = 2000
    limits: AbuseConfig = AbuseConfig()
    raters: RaterModel = RaterModel()

    def __post_init__(self) -> None:
        for name, low in (("k", 2), ("n_prompts", 1), ("honest_votes", 1), ("accounts", 1),
                          ("addresses", 1), ("budget", 1), ("check_every", 1),
                          ("min_votes", 1), ("young_votes", 1), ("young_recent", 1)):  # fmt: skip
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
        if not 0 <= self.check_growth <= 1:
            raise InputError(f"check growth must be between 0 and 1, not {self.check_growth}")
        if not 0 < self.alpha < 1:
            raise InputError(f"detector alpha must be between 0 and 1, not {self.alpha}")
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
    flagged_accounts: int  # burnt: flagged by the detector or the gold checks
    accounts_used: int = 0
    honest_raters: int = 0
    honest_tested: int = 0  # honest raters with at least min_votes normal votes
    honest_flagged: int = 0  # honest raters the detector flagged
    detector_runs: int = 0
    honest_votes_total: int = 0  # honest votes cast in the run (normal and gold)
    honest_votes_held: int = 0  # of those, cast by a rater before their hold was lifted
    honest_held: int = 0  # honest raters ever held by the surge hold
    honest_held_for: tuple[int, ...] = ()  # per held honest rater: arena votes held (to the end)


def median_interval(values: np.ndarray) -> tuple[float, float]:
    """Distribution-free 95% interval of the median: the order statistics whose binomial
    coverage is at least 95% (the 6th and 15th of 20); infinite ends when too few values."""
    from scipy.stats import binom

    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    r = int(binom.ppf(0.025, n, 0.5))
    if binom.cdf(r, n, 0.5) > 0.025:
        r -= 1
    if r < 0:
        return -np.inf, np.inf
    return float(x[r]), float(x[n - 1 - r])


def summarise_runs(runs: list[RiggingRun], budget: int) -> dict:
    """Median of attacker votes needed over runs (unreached runs count as more than the
    budget) with its 95% interval, the 95% range over runs, how many runs got there, the hours
    taken, and the honest raters the detector flagged."""
    needed = np.array([r.needed if r.needed is not None else np.inf for r in runs], dtype=float)
    reached = int(np.isfinite(needed).sum())
    low, median, high = np.percentile(needed, [2.5, 50, 97.5], method="inverted_cdf")
    ci_low, ci_high = median_interval(needed)

    def shown(x: float) -> int | None:
        return int(x) if np.isfinite(x) else None

    done = [r.hours for r in runs if r.needed is not None]
    tested = sum(r.honest_tested for r in runs)
    total = sum(r.honest_votes_total for r in runs)
    held_for = [t for r in runs for t in r.honest_held_for]
    return {
        "median": shown(median),
        "median_ci": [0 if ci_low == -np.inf else shown(ci_low), shown(ci_high)],
        "low": shown(low),
        "high": shown(high),
        "reached": reached,
        "runs": len(runs),
        "budget": budget,
        "hours_median": round(float(np.median(done)), 2) if done else None,
        "gap_elo_median": round(float(np.median([r.gap_elo for r in runs])), 1),
        "flagged_accounts": sum(r.flagged_accounts for r in runs),
        "accounts_used_median": float(np.median([r.accounts_used for r in runs])),
        "honest_tested": sum(r.honest_tested for r in runs),
        "honest_flagged": sum(r.honest_flagged for r in runs),
        "honest_flagged_share": (  # None: the detector never ran
            round(sum(r.honest_flagged for r in runs) / tested, 4)
            if tested and any(r.detector_runs for r in runs)
            else None
        ),
        "honest_votes_held_share": (
            round(sum(r.honest_votes_held for r in runs) / total, 4) if total else None
        ),
        "honest_held": sum(r.honest_held for r in runs),
        "honest_held_for_median": (
            float(np.median([t for r in runs for t in r.honest_held_for])) if held_for else None
        ),
    }
