"""Queries on battles and votes: serving, casting, revealing, counting and importing."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from arena.errors import AlreadyVoted, VoteRefused
from arena.store.db import new_id, now, token_digest
from generators.errors import InputError

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import pandas as pd

OUTCOMES = ("left", "right", "tie", "both_bad")


# Chatbot Arena's winner labels, in the order of OUTCOMES (model_a is the model shown on the left).
WINNER_LABELS = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}


OUTCOME_OF_WINNER = {label: outcome for outcome, label in WINNER_LABELS.items()}


@dataclass(frozen=True)
class Battle:
    id: str
    prompt_id: str
    left_clip: str
    right_clip: str
    rater_id: str
    served_at: datetime
    sampling_prob: float
    expires_at: datetime
    left_media: str
    right_media: str
    kind: str


@dataclass(frozen=True)
class NewBattle:
    """A battle just written, with the one-time token that only its rater receives."""

    battle: Battle
    token: str


@dataclass(frozen=True)
class Reveal:
    battle_id: str
    outcome: str
    left_model: str
    right_model: str
    left_clip: str
    right_clip: str
    kind: str = "normal"


@dataclass(frozen=True)
class VoteTiming:
    """When a vote arrives, by the server's clock and the database: what a judge of it may use."""

    rater_id: str
    served_at: datetime
    voted_at: datetime
    left_duration: float | None
    right_duration: float | None


def _check_outcome(outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise VoteRefused(
            f"unknown vote outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}"
        )
    return outcome


class BattleQueries:
    """Queries on battles and votes: serving, casting, revealing, counting and importing. Mixed into `Store`."""

    _BATTLE_COLS = (
        "id, prompt_id, left_clip, right_clip, rater_id, served_at, sampling_prob, expires_at, "
        "left_media, right_media, kind"
    )

    def battle_candidates(self, category: str | None = None) -> pd.DataFrame:
        """Clips of active models: one row per clip with its prompt's pool, for the scheduler."""
        sql = """SELECT c.id AS clip_id, c.model_id, m.name AS model, c.prompt_id,
                    p.category, p.audio, c.has_audio
                 FROM clips c JOIN models m ON m.id = c.model_id JOIN prompts p ON p.id = c.prompt_id
                 WHERE m.active"""
        params: list[Any] = []
        if category:
            sql += " AND p.category = ?"
            params.append(category)
        return self._frame(sql + " ORDER BY c.id", params)

    def create_battle(
        self,
        prompt_id: str,
        left_clip: str,
        right_clip: str,
        rater_id: str,
        sampling_prob: float,
        ttl: timedelta = timedelta(hours=2),
        kind: str = "normal",
    ) -> NewBattle:
        """Write the battle, with a one-time token, before its clips are shown."""
        if left_clip == right_clip:
            raise InputError("a battle needs two different clips")
        token = secrets.token_urlsafe(24)
        served = now()
        battle = Battle(
            id=new_id(12),
            prompt_id=prompt_id,
            left_clip=left_clip,
            right_clip=right_clip,
            rater_id=rater_id,
            served_at=served,
            sampling_prob=float(sampling_prob),
            expires_at=served + ttl,
            left_media=new_id(16),
            right_media=new_id(16),
            kind=kind,
        )
        if rater_id not in self._known_raters:
            self._write_one(
                "INSERT OR IGNORE INTO raters (id, created_at, flags) VALUES (?, ?, [])",
                [rater_id, served],
            )
        self._write_one(
            "INSERT INTO battles SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "(SELECT model_id FROM clips WHERE id = ?), (SELECT model_id FROM clips WHERE id = ?)",
            [
                battle.id,
                prompt_id,
                left_clip,
                right_clip,
                rater_id,
                served,
                battle.sampling_prob,
                token_digest(token),
                battle.expires_at,
                battle.left_media,
                battle.right_media,
                kind,
                left_clip,
                right_clip,
            ],
        )
        self._known_raters.add(rater_id)
        return NewBattle(battle, token)

    def battle(self, battle_id: str) -> Battle:
        rows = self._query(f"SELECT {self._BATTLE_COLS} FROM battles WHERE id = ?", [battle_id])
        if not rows:
            raise VoteRefused("unknown battle")
        return Battle(*rows[0])

    def media_clip(self, media_id: str) -> Path | None:
        """The clip file behind a battle's opaque media id, or None."""
        rows = self._query(
            """SELECT c.id FROM battles b JOIN clips c
               ON c.id = CASE WHEN b.left_media = ? THEN b.left_clip ELSE b.right_clip END
               WHERE b.left_media = ? OR b.right_media = ?""",
            [media_id, media_id, media_id],
        )
        return self.clip_path(rows[0][0]) if rows else None

    def cast_vote(
        self,
        battle_id: str,
        token: str,
        rater_id: str,
        outcome: str,
        time_to_vote_s: float | None = None,
        played_left: float | None = None,
        played_right: float | None = None,
        aspect: str = "overall",
        judge: Callable[[VoteTiming], Sequence[str]] | None = None,
    ) -> Reveal:
        """Consume the battle's token and record the vote; committed before this returns.

        `judge` (the abuse rules) sees the vote's timing once the token checks pass: it returns
        flags to store with the vote, or raises VoteRefused to refuse it (nothing is written).
        """
        _check_outcome(outcome)
        with self._lock:
            # One read answers every check and the reveal: the vote path is the hot path.
            rows = self._query(
                """SELECT b.token_hash, b.rater_id, b.expires_at, coalesce(r.banned, FALSE),
                          ml.name, mr.name, b.left_clip, b.right_clip, b.kind,
                          b.served_at, cl.duration, cr.duration
                   FROM battles b JOIN models ml ON ml.id = b.left_model
                   JOIN models mr ON mr.id = b.right_model
                   LEFT JOIN clips cl ON cl.id = b.left_clip
                   LEFT JOIN clips cr ON cr.id = b.right_clip
                   LEFT JOIN raters r ON r.id = b.rater_id WHERE b.id = ?""",
                [battle_id],
            )
            voted_at = check_battle_access(rows, token, rater_id)
            (left_model, right_model, left_clip, right_clip, kind) = rows[0][4:9]
            served_at, left_duration, right_duration = rows[0][9:]
            flags: list[str] = []
            if judge is not None:
                timing = VoteTiming(rater_id, served_at, voted_at, left_duration, right_duration)
                flags = list(judge(timing))
        # Written after the lock is let go: votes arriving meanwhile share the next commit, and
        # the primary key still lets only one vote per battle through.
        try:
            # The vote carries its battle's pair and propensity so tallies need no join.
            self._write_one(
                "INSERT INTO votes SELECT ?, ?, ?, ?, ?, ?, ?, ?, 'arena', prompt_id, "
                "left_model, right_model, sampling_prob, ? FROM battles WHERE id = ?",
                [
                    battle_id,
                    rater_id,
                    outcome,
                    aspect,
                    voted_at,
                    time_to_vote_s,
                    played_left,
                    played_right,
                    flags,
                    battle_id,
                ],
            )
        except duckdb.ConstraintException as exc:
            raise AlreadyVoted("this battle has already been voted on") from exc
        return Reveal(battle_id, outcome, left_model, right_model, left_clip, right_clip, kind)

    def reveal(self, battle_id: str) -> Reveal:
        """Model names of a battle; only once it has a vote."""
        rows = self._query(
            """SELECT v.outcome, ml.name, mr.name, b.left_clip, b.right_clip, b.kind
               FROM battles b JOIN votes v ON v.battle_id = b.id AND v.aspect = 'overall'
               JOIN models ml ON ml.id = b.left_model JOIN models mr ON mr.id = b.right_model
               WHERE b.id = ?""",
            [battle_id],
        )
        if not rows:
            raise VoteRefused("names are revealed only after a vote")
        return Reveal(battle_id, *rows[0])

    def vote_count(self) -> int:
        return self._query("SELECT count(*) FROM all_votes")[0][0]  # imported ones too

    def rater_seen_pairs(self, rater_id: str) -> set[frozenset[str]]:
        rows = self._query(
            "SELECT left_clip, right_clip FROM battles WHERE rater_id = ?", [rater_id]
        )
        return {frozenset(r) for r in rows}


def check_battle_access(rows: list[tuple], token: str | None, rater_id: str) -> datetime:
    """The time of a vote on the battle whose row (token hash, owner, expiry, banned, ...) is
    ``rows[0]``; VoteRefused when the token is not the battle's, the battle was served to another
    rater or has expired, or the rater is banned."""
    if not rows or not secrets.compare_digest(rows[0][0], token_digest(token or "")):
        raise VoteRefused("this battle token is not valid; load a new battle")
    _, owner, expires_at, banned = rows[0][:4]
    if owner != rater_id:
        raise VoteRefused("this battle was served to another rater")
    voted_at = now()
    if voted_at > expires_at:
        raise VoteRefused("this battle has expired; load a new battle")
    if banned:
        raise VoteRefused("this rater is banned")
    return voted_at
