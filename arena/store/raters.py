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

    def unflag_rater(self, rater_id: str, flag: str) -> None:
        """Take ``flag`` out of a rater's flags (their votes count again if none is left)."""
        with self.transaction() as con:
            con.execute(
                "UPDATE raters SET flags = list_filter(flags, lambda f: f <> ?) WHERE id = ?",
                [flag, rater_id],
            )

    def raters_flagged_with(self, prefix: str) -> dict[str, str]:
        """{rater_id: flag} of the raters carrying a flag that starts with ``prefix``."""
        rows = self._query(
            """SELECT id, list_filter(flags, lambda f: starts_with(f, ?))[1] FROM raters
               WHERE len(list_filter(flags, lambda f: starts_with(f, ?))) > 0 ORDER BY id""",
            [prefix, prefix],
        )
        return {str(r): str(f) for r, f in rows}

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

    # Targeted-voting flags (`rater_flags`, one row per rater, model and direction). A raised
    # flag also puts `targeted_flag` in the rater's `flags`, which is what keeps their votes out
    # of the board by default (`VoteFilter.exclude_flagged`), as for gold checks.

    def targeted_votes(self) -> pd.DataFrame:
        """The overall votes detection reads: rater_id, left_model, right_model (names), outcome.

        Votes flagged on arrival, banned raters' votes and imported votes without a rater are
        left out; raters flagged for anything else stay in (their tastes are evidence too).
        """
        return self._frame(
            """SELECT v.rater_id, ml.name AS left_model, mr.name AS right_model, v.outcome
               FROM all_votes v JOIN models ml ON ml.id = v.left_model
               JOIN models mr ON mr.id = v.right_model
               WHERE v.aspect = 'overall' AND coalesce(len(v.flags), 0) = 0
                 AND v.rater_id <> 'imported'
                 AND NOT EXISTS (SELECT 1 FROM raters r WHERE r.id = v.rater_id AND r.banned)
               ORDER BY v.voted_at, v.battle_id"""
        )

    def record_targeted_flags(self, flags: pd.DataFrame, targeted_flag: str) -> pd.DataFrame:
        """Write detection's flags (columns of `leaderboards.targeted.RESULT_COLUMNS`).

        A flag an admin cleared is raised again only once the rater has at least twice the votes
        on that model that the cleared flag rested on (new evidence, not the same votes again).
        An open flag is updated with the new evidence. Returns the flags raised or updated.
        """
        columns = ["rater_id", "model", "direction", "votes", "expected", "observed"]
        columns += ["p_value", "q_value"]
        rows = [tuple(r) for r in flags[columns].itertuples(index=False)]
        if not rows:
            return flags.iloc[0:0]
        at = now()
        kept = []
        with self.transaction() as con:
            cleared = {
                (r, m, d): v
                for r, m, d, v in con.execute(
                    "SELECT rater_id, model, direction, votes FROM rater_flags "
                    "WHERE cleared_at IS NOT NULL"
                ).fetchall()
            }
            for row in rows:
                key = row[:3]
                if key in cleared and row[3] < 2 * cleared[key]:
                    continue
                con.execute(
                    """INSERT INTO rater_flags (rater_id, model, direction, votes, expected,
                              observed, p_value, q_value, flagged_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (rater_id, model, direction) DO UPDATE SET
                         votes = excluded.votes, expected = excluded.expected,
                         observed = excluded.observed, p_value = excluded.p_value,
                         q_value = excluded.q_value,
                         flagged_at = CASE WHEN rater_flags.cleared_at IS NULL
                                      THEN rater_flags.flagged_at ELSE excluded.flagged_at END,
                         cleared_at = NULL, cleared_by = NULL""",
                    [*(_plain(v) for v in row), at],
                )
                kept.append(row)
            for rater_id in sorted({row[0] for row in kept}):
                con.execute(
                    "INSERT OR IGNORE INTO raters (id, created_at, flags) VALUES (?, ?, [])",
                    [rater_id, at],
                )
                con.execute(
                    "UPDATE raters SET flags = list_distinct(list_append(flags, ?)) WHERE id = ?",
                    [targeted_flag, rater_id],
                )
        keys = {row[:3] for row in kept}
        mask = [tuple(r) in keys for r in flags[columns[:3]].itertuples(index=False)]
        return flags[mask].reset_index(drop=True)

    def clear_targeted_flags(self, rater_id: str, cleared_by: str, targeted_flag: str) -> int:
        """Clear a rater's open targeted-voting flags; their votes return to the board unless
        another flag holds them. Returns how many flags were cleared."""
        with self.transaction() as con:
            cleared = con.execute(
                """UPDATE rater_flags SET cleared_at = ?, cleared_by = ?
                   WHERE rater_id = ? AND cleared_at IS NULL RETURNING model""",
                [now(), cleared_by, rater_id],
            ).fetchall()
            con.execute(
                "UPDATE raters SET flags = list_filter(flags, lambda f: f <> ?) WHERE id = ?",
                [targeted_flag, rater_id],
            )
        return len(cleared)

    def targeted_flags(self, include_cleared: bool = False) -> pd.DataFrame:
        """Targeted-voting flags: rater_id, model, direction, votes, expected, observed, p_value,
        q_value, flagged_at, cleared_at, cleared_by; by model, then most significant first."""
        where = "" if include_cleared else "WHERE cleared_at IS NULL"
        return self._frame(
            f"""SELECT rater_id, model, direction, votes, expected, observed, p_value, q_value,
                       flagged_at, cleared_at, cleared_by
                FROM rater_flags {where} ORDER BY model, direction, q_value, rater_id"""
        )

    def is_known_rater(self, rater_id: str) -> bool:
        """Whether a rater id exists: in `raters`, among the votes or among the flags."""
        return bool(
            self._query(
                """SELECT 1 WHERE EXISTS (SELECT 1 FROM raters WHERE id = $1)
                   OR EXISTS (SELECT 1 FROM rater_flags WHERE rater_id = $1)
                   OR EXISTS (SELECT 1 FROM all_votes WHERE rater_id = $1)""",
                [rater_id],
            )
        )


def _plain(value):
    """A NumPy scalar as the Python value DuckDB binds."""
    return value.item() if hasattr(value, "item") else value
