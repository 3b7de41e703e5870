"""The rater's two domain actions, free of any UI: get a battle, vote on it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from arena.domain.abuse import AbuseGuard
from arena.domain.gold import record_gold_vote
from arena.domain.scheduler import Scheduler
from arena.domain.sound_words import sound_line
from arena.errors import RateLimited, VoteRefused
from arena.store import Store
from generators.errors import InputError


@dataclass(frozen=True)
class BattleView:
    """What a rater is shown before the vote: nothing here names a model.

    The clips are opaque media ids; the web room turns them (and the prompt's image) into URLs.
    """

    battle_id: str
    token: str
    prompt_id: str
    prompt: str
    category: str
    audio: bool
    has_image: bool
    left_media: str
    right_media: str


@dataclass(frozen=True)
class Playback:
    """How much of each clip the rater played (fractions of its length), as the page reports it."""

    played_left: float | None = None
    played_right: float | None = None
    time_to_vote_s: float | None = None

    @classmethod
    def from_json(cls, text: str | None) -> Playback:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            return cls(
                _fraction(raw.get("a")), _fraction(raw.get("b")), _seconds(raw.get("elapsed"))
            )
        except (ValueError, TypeError, AttributeError):
            return cls()


def _fraction(value: object) -> float | None:
    if value is None:
        return None
    return min(max(float(value), 0.0), 1.0)


def _seconds(value: object) -> float | None:
    return None if value is None else max(float(value), 0.0)


@dataclass(frozen=True)
class VoteResult:
    battle_id: str
    outcome: str
    left_model: str
    right_model: str
    left_metrics: list[dict] = field(default_factory=list)
    right_metrics: list[dict] = field(default_factory=list)
    left_sound: str = ""  # the clip's sound in plain words ("noisy speech · 2.3, clipped")
    right_sound: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def serve_battle(
    store: Store,
    scheduler: Scheduler,
    rater_id: str,
    category: str | None = None,
    *,
    client_ip: str | None = None,
    guard: AbuseGuard | None = None,
) -> BattleView:
    """Pick and record a battle for this rater and return what the page shows.

    With a `guard` (every server has one), the rater's and the address's battle-request limits
    apply: RateLimited is raised and nothing is written when one is reached.
    """
    rater_id = check_rater_id(rater_id)
    if guard is not None:
        guard.check_battle(rater_id, client_ip)
    new = scheduler.next_battle(rater_id, category or None)
    battle = new.battle
    prompt = store.prompt(battle.prompt_id)
    return BattleView(
        battle_id=battle.id,
        token=new.token,
        prompt_id=prompt.id,
        prompt=prompt.text,
        category=prompt.category,
        audio=prompt.audio,
        has_image=bool(prompt.image),
        left_media=battle.left_media,
        right_media=battle.right_media,
    )


def submit_vote(
    store: Store,
    battle_id: str,
    token: str,
    rater_id: str,
    outcome: str,
    playback: Playback | None = None,
    *,
    client_ip: str | None = None,
    guard: AbuseGuard | None = None,
) -> VoteResult:
    """Count the vote (committed before returning) and reveal the two models.

    With a `guard` (every server has one): the rater's and the address's vote limits apply
    (RateLimited, nothing written), and a vote cast sooner than the clips could be watched is
    flagged or refused, by the guard's config. Refusals are remembered for the admin view.
    """
    rater_id = check_rater_id(rater_id)
    playback = playback or Playback()
    try:
        if guard is not None:
            guard.check_vote(rater_id, client_ip)
        reveal = store.cast_vote(
            battle_id,
            token,
            rater_id,
            outcome,
            time_to_vote_s=playback.time_to_vote_s,
            played_left=playback.played_left,
            played_right=playback.played_right,
            judge=guard.judge_vote if guard is not None else None,
        )
    except VoteRefused as exc:
        if guard is not None and not isinstance(exc, RateLimited):
            guard.note_refusal("vote", rater_id, client_ip, str(exc))
        raise
    record_gold_vote(store, reveal, rater_id)
    metrics = store.clips_metrics([reveal.left_clip, reveal.right_clip])
    return VoteResult(
        battle_id=reveal.battle_id,
        outcome=reveal.outcome,
        left_model=reveal.left_model,
        right_model=reveal.right_model,
        left_metrics=metrics[reveal.left_clip],
        right_metrics=metrics[reveal.right_clip],
        left_sound=sound_line(metrics[reveal.left_clip]),
        right_sound=sound_line(metrics[reveal.right_clip]),
    )


def submit_aspect_vote(
    store: Store,
    battle_id: str,
    token: str,
    rater_id: str,
    aspect: str,
    outcome: str,
    asked: tuple[str, ...],
    *,
    client_ip: str | None = None,
    guard: AbuseGuard | None = None,
) -> dict:
    """Count one follow-up answer (A / B / tie on one aspect) of a battle already voted on.

    The battle's token proves the rater as for the vote; the guard counts the answer against
    the rater's and the address's limits. Returns {battle_id, aspect, outcome}.
    """
    rater_id = check_rater_id(rater_id)
    try:
        if guard is not None:
            guard.check_aspect_vote(rater_id, client_ip)
        store.cast_aspect_vote(battle_id, token, rater_id, aspect, outcome, asked)
    except VoteRefused as exc:
        if guard is not None and not isinstance(exc, RateLimited):
            guard.note_refusal("vote", rater_id, client_ip, str(exc))
        raise
    return {"battle_id": battle_id, "aspect": aspect, "outcome": outcome}


def check_rater_id(rater_id: str | None) -> str:
    rater_id = (rater_id or "").strip()
    if not (8 <= len(rater_id) <= 64) or not all(c.isalnum() or c in "-_" for c in rater_id):
        raise InputError("a rater id is 8 to 64 letters, digits, '-' or '_'")
    return rater_id


__all__ = [
    "BattleView",
    "Playback",
    "VoteResult",
    "check_rater_id",
    "serve_battle",
    "submit_aspect_vote",
    "submit_vote",
]
