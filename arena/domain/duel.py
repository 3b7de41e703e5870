"""A duel: the arena limited to two models, and where their head-to-head votes stand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from arena.domain.scheduler import SchedulerConfig
from arena.store import Store
from generators.errors import InputError
from leaderboards.sequential import DEFAULT_ALPHA


@dataclass(frozen=True)
class Duel:
    """Two models served against each other; the status reports B's win rate over A."""

    a: str
    b: str
    alpha: float = DEFAULT_ALPHA

    def scheduler_config(self, base: SchedulerConfig | None = None) -> SchedulerConfig:
        """Battles between A and B only. The scheduler keeps gold checks off unless A and B are
        the gold pair themselves (a reference and its degraded twin)."""
        return replace(base or SchedulerConfig(), only_models=(self.a, self.b))


def check_duel(store: Store, a: str, b: str, alpha: float = DEFAULT_ALPHA) -> Duel:
    """The duel of A and B, refused with a clear message when it cannot serve a battle."""
    if a == b:
        raise InputError(f"--duel names {a!r} twice; name two different models")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    for name in (a, b):
        model = store.find_model(name)
        if model is None:
            known = ", ".join(m.name for m in store.models()) or "none"
            raise InputError(f"unknown model {name!r} in --duel; registered: {known}")
        if not model.active:
            raise InputError(f"model {name!r} is inactive; a duel serves active models only")
    frame = store.battle_candidates()
    frame = frame[frame["model"].isin((a, b))]
    both = frame.groupby(["category", "prompt_id"])["model"].nunique()
    if not (both == 2).any():
        raise InputError(
            f"{a} and {b} have no prompt with clips of both; generate them first "
            f"(`paddock generate --model {a}` and `--model {b}`)"
        )
    return Duel(a, b, alpha)


def duel_status(store: Store, duel: Duel) -> str:
    """One line: B's win rate over A with its anytime-valid interval, and whether to stop."""
    from metrics.regression import compare_votes

    votes = compare_votes(store.vote_counts(models=[duel.a, duel.b]), duel.a, duel.b, duel.alpha)
    if votes is None:
        return f"No votes yet between {duel.a} and {duel.b}."
    return votes.status


def duel_leaderboard(duel: Duel, board: Callable) -> Callable:
    """The Leaderboard tab of a duel: the status line above the usual board."""

    def view(store: Store, pool: str = "all"):
        shown = board(store, pool)
        line = (
            f"**Duel {duel.a} vs {duel.b}** (sequential test, alpha {duel.alpha:g}, valid "
            f"however often you look): {duel_status(store, duel)}"
        )
        return replace(shown, summary=f"{line}\n\n{shown.summary}")

    return view
