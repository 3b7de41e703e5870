"""Aspect votes: a battle's follow-up answers (picture, sound, ...), each a vote row of its own."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from arena.errors import AlreadyVoted, VoteRefused
from arena.store.battles import check_battle_access
from generators.errors import InputError

#: The vote a battle's rater gives first, and the only one the overall board rates.
OVERALL = "overall"

#: Every follow-up an arena may ask, in page order: name -> the short question shown.
ASPECTS: dict[str, str] = {
    "picture": "Which picture looks better?",
    "sound": "Which has the better sound and lip-sync?",
    "prompt": "Which follows the prompt better?",
    "consistency": "Which stays more consistent (people, objects, scene)?",
}

#: A follow-up is answered A, B or tie ("both bad" belongs to the overall vote).
ASPECT_OUTCOMES = ("left", "right", "tie")


def check_aspects(names: Sequence[str], where: str = "aspects") -> tuple[str, ...]:
    """The names as a tuple, each known and none twice; InputError naming the first bad one."""
    seen: list[str] = []
    for name in names:
        if not isinstance(name, str) or name not in ASPECTS:
            raise InputError(f"{where}: unknown aspect {name!r} (known: {', '.join(ASPECTS)})")
        if name in seen:
            raise InputError(f"{where}: aspect {name!r} is listed twice")
        seen.append(name)
    return tuple(seen)


class AspectVoteQueries:
    """Casting and reading follow-up answers. Mixed into `Store`."""

    def cast_aspect_vote(
        self,
        battle_id: str,
        token: str,
        rater_id: str,
        aspect: str,
        outcome: str,
        asked: Sequence[str] = tuple(ASPECTS),
    ) -> None:
        """Record one follow-up answer of a battle already voted on; committed on return.

        The battle's token and rater are checked as for the overall vote; the answer carries
        the overall vote's flags (a vote cast too fast taints its follow-ups) and its pair and
        propensity. At most one answer per (battle, aspect).

        Raises:
            InputError: an aspect this arena does not ask.
            VoteRefused: a bad outcome, token, rater, an expired battle, a banned rater, or no
                overall vote yet; AlreadyVoted when this aspect was answered already.
        """
        if aspect not in asked:
            raise InputError(
                f"this arena does not ask about {aspect!r}: it asks "
                f"{', '.join(asked) or 'no follow-up questions'}"
            )
        if outcome not in ASPECT_OUTCOMES:
            raise VoteRefused(
                f"unknown answer {outcome!r} to a follow-up: expected one of "
                f"{', '.join(ASPECT_OUTCOMES)}"
            )
        with self._lock:
            rows = self._query(
                """SELECT b.token_hash, b.rater_id, b.expires_at, coalesce(r.banned, FALSE),
                          v.battle_id IS NOT NULL, v.flags
                   FROM battles b LEFT JOIN raters r ON r.id = b.rater_id
                   LEFT JOIN votes v ON v.battle_id = b.id AND v.aspect = 'overall'
                   WHERE b.id = ?""",
                [battle_id],
            )
            voted_at = check_battle_access(rows, token, rater_id)
            voted, flags = rows[0][4:6]
            if not voted:
                raise VoteRefused("follow-up questions come after the battle's vote; vote first")
        try:
            self._write_one(
                "INSERT INTO votes SELECT battle_id, rater_id, ?, ?, ?, NULL, NULL, NULL, "
                "'arena', prompt_id, left_model, right_model, sampling_prob, ? "
                "FROM votes WHERE battle_id = ? AND aspect = 'overall'",
                [outcome, aspect, voted_at, list(flags or []), battle_id],
            )
        except duckdb.ConstraintException as exc:
            raise AlreadyVoted(
                f"the {aspect} question of this battle was already answered"
            ) from exc

    def aspect_answers(self, battle_id: str) -> dict[str, str]:
        """The follow-up answers of one battle: aspect -> outcome."""
        rows = self._query(
            "SELECT aspect, outcome FROM votes WHERE battle_id = ? AND aspect <> 'overall'",
            [battle_id],
        )
        return dict(rows)

    def aspect_vote_counts(self) -> dict[str, int]:
        """Votes per aspect, the overall vote included (aspects without votes are absent)."""
        return dict(self._query("SELECT aspect, count(*) FROM votes GROUP BY aspect ORDER BY 1"))
