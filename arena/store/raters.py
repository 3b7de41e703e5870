"""Queries on raters: flags, bans, gold-check answers and the admin views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arena.store.db import now

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import pandas as pd


class RaterQueries:
    """Queries on raters: flags, bans, gold-check answers and the admin views. Mixed into `Store`."""

    def ensure_rater(self, rater_id: str) -> None:
        if rater_id in self._known_raters:  # raters are never deleted
            return
        with self.transaction() as con:
            con.execute(
                "INSERT OR IGNORE INTO raters (id, created_at, flags) VALUES (?, ?, [])",
                [rater_id, now()],
            )
        self._known_raters.add(rater_id)

    def rater_flags(self, rater_id: str) -> tuple[tuple[str, ...], bool]:
        rows = self._query("SELECT flags, banned FROM raters WHERE id = ?", [rater_id])
        if not rows:
            return (), False
        return tuple(rows[0][0] or ()), bool(rows[0][1])

    def flag_rater(self, rater_id: str, flag: str) -> None:
        self.ensure_rater(rater_id)
        with self.transaction() as con:
            con.execute(
                "UPDATE raters SET flags = list_distinct(list_append(flags, ?)) WHERE id = ?",
                [flag, rater_id],
            )

    def ban_rater(self, rater_id: str, banned: bool = True) -> None:
        self.ensure_rater(rater_id)
        with self.transaction() as con:
            con.execute("UPDATE raters SET banned = ? WHERE id = ?", [banned, rater_id])

    def record_gold_answer(
        self, rater_id: str, correct: bool, min_seen: int, min_accuracy: float, flag: str
    ) -> tuple[int, int, bool]:
        """Count one gold answer; set or clear `flag` by accuracy once `min_seen` are answered.

        Returns (gold seen, gold correct, flagged now).
        """
        self.ensure_rater(rater_id)
        with self.transaction() as con:
            seen, right = con.execute(
                """UPDATE raters SET gold_seen = gold_seen + 1,
                          gold_correct = gold_correct + ? WHERE id = ?
                   RETURNING gold_seen, gold_correct""",
                [int(bool(correct)), rater_id],
            ).fetchone()
            failing = seen >= min_seen and right < min_accuracy * seen
            if failing:
                con.execute(
                    "UPDATE raters SET flags = list_distinct(list_append(flags, ?)) WHERE id = ?",
                    [flag, rater_id],
                )
            else:
                con.execute(
                    "UPDATE raters SET flags = list_filter(flags, lambda f: f <> ?) WHERE id = ?",
                    [flag, rater_id],
                )
            self._gold_seen_cache[rater_id] = int(seen)
        return int(seen), int(right), bool(failing)

    def gold_table(self) -> pd.DataFrame:
        """Raters with gold answers: rater, gold_seen, gold_correct, accuracy, flags, votes."""
        return self._frame(
            """SELECT r.id AS rater, r.gold_seen, r.gold_correct,
                      r.gold_correct / r.gold_seen AS accuracy, r.flags,
                      (SELECT count(*) FROM all_votes v
                       WHERE v.rater_id = r.id AND v.aspect = 'overall') AS votes
               FROM raters r WHERE r.gold_seen > 0 ORDER BY accuracy, rater"""
        )

    def rater_gold_seen(self, rater_id: str) -> int:
        """Gold checks this rater has answered (0 for an unknown rater)."""
        cached = self._gold_seen_cache.get(rater_id)
        if cached is not None:
            return cached
        with self._lock:
            rows = self._query("SELECT gold_seen FROM raters WHERE id = ?", [rater_id])
            seen = int(rows[0][0]) if rows else 0
            if not self.read_only and rows:
                self._gold_seen_cache[rater_id] = seen
        return seen

    def raters_frame(self) -> pd.DataFrame:
        """Every rater: rater, created_at, flags, banned, gold_seen, gold_correct, votes (overall
        votes: a battle's follow-up answers are not more votes)."""
        return self._frame(
            """SELECT r.id AS rater, r.created_at, r.flags, r.banned, r.gold_seen, r.gold_correct,
                      (SELECT count(*) FROM all_votes v
                       WHERE v.rater_id = r.id AND v.aspect = 'overall') AS votes
               FROM raters r ORDER BY r.created_at, r.id"""
        )

    def has_rater(self, rater_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM raters WHERE id = ?", [rater_id]))

    def rater_overview(self, limit: int = 2000) -> pd.DataFrame:
        """Raters for the admin view: rater, created_at, votes, flagged_votes, gold_seen,
        gold_correct, gold_accuracy, flags, banned (banned and most-flagged first)."""
        return self._frame(
            """SELECT r.id AS rater, r.created_at, coalesce(v.votes, 0) AS votes,
                      coalesce(v.flagged, 0) AS flagged_votes, r.gold_seen, r.gold_correct,
                      CASE WHEN r.gold_seen > 0 THEN r.gold_correct / r.gold_seen END
                        AS gold_accuracy,
                      r.flags, r.banned
               FROM raters r LEFT JOIN (
                 SELECT rater_id, count(*) AS votes,
                        count(*) FILTER (WHERE len(flags) > 0) AS flagged
                 FROM all_votes WHERE aspect = 'overall' GROUP BY rater_id) v ON v.rater_id = r.id
               ORDER BY r.banned DESC, flagged_votes DESC, votes DESC, rater LIMIT ?""",
            [limit],
        )

    def flagged_votes(self, limit: int = 100) -> pd.DataFrame:
        """The latest votes stored with a flag: voted_at, rater, battle_id, flags,
        seconds_after_served, model_a, model_b, outcome."""
        return self._frame(
            """SELECT v.voted_at, v.rater_id AS rater, v.battle_id, v.flags,
                      round(epoch(v.voted_at) - epoch(b.served_at), 2) AS seconds_after_served,
                      ml.name AS model_a, mr.name AS model_b, v.outcome
               FROM votes v JOIN battles b ON b.id = v.battle_id
               JOIN models ml ON ml.id = v.left_model JOIN models mr ON mr.id = v.right_model
               WHERE len(v.flags) > 0 AND v.aspect = 'overall'
               ORDER BY v.voted_at DESC, v.battle_id LIMIT ?""",
            [limit],
        )
