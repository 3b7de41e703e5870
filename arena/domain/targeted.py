"""Targeted voting: run the detector on the store's votes, keep its flags, let an admin clear one.

The test itself is `leaderboards.targeted.detect_targeted` (a per-rater, per-model offset in the
Bradley-Terry model against the board fitted to the votes, Benjamini-Hochberg over every rater,
model and direction). Here its flags are written to `rater_flags` with their evidence, and the
rater gets the flag `TARGETED_FLAG`, which keeps their votes out of the board by default like
any rater flag (`paddock leaderboard --include-flagged` takes them back).
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generators.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from arena.store import Store

TARGETED_FLAG = "targeted voting"
#: The surge hold's flag: "held: new account during a surge for MODEL (for|against)".
HELD_PREFIX = "held: new account during a surge for "


@dataclass(frozen=True)
class TargetedPolicy:
    """Who is tested and how strictly.

    Attributes:
        min_votes: raters with fewer overall votes are not tested.
        alpha: false discovery rate over all (rater, model, direction) tests (and over the
            surge hold's models and directions).
        surge_hold: hold young raters pushing a model together (`leaderboards.surge`).
        young_votes: overall votes after which a rater is established (no longer young).
        young_recent: young raters are tested together while they have a vote among the last
            this many overall votes.
    """

    min_votes: int = 20
    alpha: float = 0.01
    surge_hold: bool = True
    young_votes: int = 200
    young_recent: int = 2000

    def __post_init__(self) -> None:
        if self.min_votes < 1:
            raise InputError(f"--min-votes must be at least 1, not {self.min_votes}")
        if not 0 < self.alpha < 1:
            raise InputError(f"--alpha must be between 0 and 1 (exclusive), not {self.alpha}")


@dataclass(frozen=True)
class Detection:
    """One detection run: raters tested, flags raised or updated now, flags open after it."""

    votes: int
    tested_raters: int
    raised: pd.DataFrame
    open_flags: pd.DataFrame


def detect_targeted_voting(store: Store, policy: TargetedPolicy | None = None) -> Detection:
    """Test every rater with enough votes against the board and record the flags."""
    from leaderboards.targeted import detect_targeted

    policy = policy or TargetedPolicy()
    votes = store.targeted_votes()
    counts = votes["rater_id"].value_counts()
    tested = int((counts >= policy.min_votes).sum())
    if tested == 0 or len(set(votes["left_model"]) | set(votes["right_model"])) < 2:
        flags = store.targeted_flags().iloc[0:0]
        return Detection(len(votes), tested, flags, store.targeted_flags())
    flags = detect_targeted(votes, min_votes=policy.min_votes, alpha=policy.alpha)
    raised = store.record_targeted_flags(flags, TARGETED_FLAG)
    if policy.surge_hold:
        hold_surges(store, votes, flags, policy)
    _last_run[store] = store.counts()["votes"]
    return Detection(len(votes), tested, raised, store.targeted_flags())


def hold_surges(
    store: Store, votes: pd.DataFrame, flags: pd.DataFrame, policy: TargetedPolicy
) -> dict[str, str]:
    """The surge hold (`leaderboards.surge`): lift the holds of raters now established who pass,
    hold the young raters pushing a surging model (the flag HELD_PREFIX + model, which keeps
    their votes off the board like any rater flag; nothing is deleted). Returns the held now.

    ``votes``: `Store.targeted_votes` (in the order cast); ``flags``: `detect_targeted`'s result
    on them (its ``attrs`` carry the board and the tastes' spread)."""
    from leaderboards.leaderboard import ELO_PER_NAT
    from leaderboards.surge import released, surge_holds, young_raters
    from leaderboards.targeted import fitted_ratings

    held = store.raters_flagged_with(HELD_PREFIX)
    reasons = {r: _held_reason(f) for r, f in held.items()}
    counts = votes["rater_id"].value_counts()
    targeted = set(flags["rater_id"].astype(str)) | {
        r for r in held if TARGETED_FLAG in store.rater_flags(r)[0]
    }
    ready = {
        r: why
        for r, why in reasons.items()
        if counts.get(r, 0) >= policy.young_votes and r not in targeted
    }
    if ready:
        clean = votes[~votes["rater_id"].isin(set(held) | targeted)]
        elo = fitted_ratings(clean) if len(clean) else {}
        if set(elo) >= set(flags.attrs.get("board", {})):
            board = {m: (v - 1000.0) / ELO_PER_NAT for m, v in elo.items()}
            for rater in released(votes, ready, board):
                store.unflag_rater(rater, held.pop(rater))
                reasons.pop(rater)
    if "board" not in flags.attrs:
        return held
    young = young_raters(votes, policy.young_votes, policy.young_recent, targeted, set(held))
    _, hold = surge_holds(
        votes, young, flags.attrs["board"], flags.attrs.get("spread_elo"), alpha=policy.alpha,
        open_surges=sorted(set(reasons.values())),
    )  # fmt: skip
    for rater, (model, direction) in hold.items():
        if rater not in held:
            held[rater] = f"{HELD_PREFIX}{model} ({direction})"
            store.flag_rater(rater, held[rater])
    return held


def _held_reason(flag: str) -> tuple[str, str]:
    """(model, direction) of a hold flag."""
    model, _, direction = flag[len(HELD_PREFIX) :].rpartition(" (")
    return model, direction.rstrip(")")


def refresh_targeted_flags(store: Store, policy: TargetedPolicy | None = None) -> None:
    """Detect again before a board is built, when votes came in since the last run (a store
    that is read only, e.g. a snapshot, is left as it is)."""
    from leaderboards.errors import RatingInputError

    if store.read_only or _last_run.get(store) == store.counts()["votes"]:
        return
    # Votes the detector cannot rate yet: the board says why.
    with contextlib.suppress(RatingInputError):
        detect_targeted_voting(store, policy)
    _last_run[store] = store.counts()["votes"]


def clear_targeted_flag(store: Store, rater_id: str, cleared_by: str = "admin") -> int:
    """Clear a rater's open targeted-voting flags (how many); an unknown rater is refused."""
    rater_id = (rater_id or "").strip()
    if not rater_id or not store.is_known_rater(rater_id):
        raise InputError(f"unknown rater {rater_id!r}")
    return store.clear_targeted_flags(rater_id, cleared_by, TARGETED_FLAG)


#: Vote count at each open store's last detection, so a board rebuilt without new votes does
#: not test again. Weakly keyed by the store itself: an object id is reused once a store is
#: gone, and another store with as many votes would then be skipped.
_last_run: weakref.WeakKeyDictionary[Store, int] = weakref.WeakKeyDictionary()

__all__ = [
    "HELD_PREFIX",
    "TARGETED_FLAG",
    "Detection",
    "TargetedPolicy",
    "clear_targeted_flag",
    "detect_targeted_voting",
    "hold_surges",
    "refresh_targeted_flags",
]
