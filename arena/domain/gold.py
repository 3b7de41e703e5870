"""Gold checks: battles against a degraded twin whose better side is known, and rater accuracy."""

from __future__ import annotations

from dataclasses import dataclass

from arena.store import Reveal, Store
from generators.registry import builtin_model_names

#: The built-in reference model and its degraded twins (generators' baselines).
GOLD_REFERENCE = "pony"
GOLD_TWINS = tuple(name for name in builtin_model_names() if name != GOLD_REFERENCE)
GOLD_FLAG = "failed gold checks"


@dataclass(frozen=True)
class GoldPolicy:
    """When a rater is flagged for failing gold checks.

    Attributes:
        min_seen: gold battles a rater must have voted on before they can be flagged.
        min_accuracy: share of gold battles answered correctly below which a rater is flagged.
        flag: the flag written to ``raters.flags`` (any flag keeps a rater out of the
            leaderboard by default).
    """

    min_seen: int = 8
    min_accuracy: float = 0.7
    flag: str = GOLD_FLAG


@dataclass(frozen=True)
class GoldResult:
    """A rater's gold record after one more gold vote."""

    rater_id: str
    correct: bool
    seen: int
    n_correct: int
    flagged: bool


def gold_answer_correct(reveal: Reveal, reference: str = GOLD_REFERENCE) -> bool:
    """Whether a gold vote picked the reference model; tie and both-bad count as wrong."""
    if reveal.outcome == "left":
        return reveal.left_model == reference
    if reveal.outcome == "right":
        return reveal.right_model == reference
    return False


def record_gold_result(
    store: Store, rater_id: str, correct: bool, policy: GoldPolicy | None = None
) -> GoldResult:
    """Count one gold answer for a rater and flag (or clear the flag of) the rater by `policy`."""
    policy = policy or GoldPolicy()
    seen, n_correct, flagged = store.record_gold_answer(
        rater_id, correct, policy.min_seen, policy.min_accuracy, policy.flag
    )
    return GoldResult(rater_id, correct, seen, n_correct, flagged)


def record_gold_vote(
    store: Store, reveal: Reveal, rater_id: str, policy: GoldPolicy | None = None
) -> GoldResult | None:
    """After a vote: if its battle was a gold check, score the rater; None for other battles.

    Gold votes stay ordinary votes (a real comparison of the reference and its twin), so they
    also count in the leaderboard of the pool they belong to.
    """
    if reveal.kind != "gold":
        return None
    return record_gold_result(store, rater_id, gold_answer_correct(reveal), policy)


__all__ = [
    "GOLD_FLAG",
    "GOLD_REFERENCE",
    "GOLD_TWINS",
    "GoldPolicy",
    "GoldResult",
    "gold_answer_correct",
    "record_gold_result",
    "record_gold_vote",
]
