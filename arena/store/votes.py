"""Queries on votes as tables: counts per pool, battle rows, clip pairs, bulk import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from arena.store.battles import WINNER_LABELS

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import pandas as pd


@dataclass(frozen=True)
class VoteFilter:
    """Which votes a query counts: a pool (category, audio, tags), a time window, some models.

    Flagged votes and those of flagged or banned raters are left out unless exclude_flagged is off.
    """

    category: str | None = None
    audio: bool | None = None
    tags: Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    exclude_flagged: bool = True
    models: Sequence[str] | None = None
    # The overall vote by default: follow-up answers must never reach the overall board.
    # None: every vote row, each with its aspect (exports).
    aspect: str | None = "overall"

    @classmethod
    def of(
        cls, filters: VoteFilter | None, fields: dict[str, Any], exclude_flagged: bool
    ) -> VoteFilter:
        """`filters` as given, or one built from keyword fields over a query's own default."""
        if filters is None:
            return cls(**{"exclude_flagged": exclude_flagged, **fields})
        if fields:
            raise TypeError("pass a VoteFilter or keyword filters, not both")
        return filters


class VoteQueries:
    """Votes as tables, filtered by one `VoteFilter`. Mixed into `Store`."""

    def _vote_filter(self, filters: VoteFilter) -> tuple[str, list[Any]]:
        """The WHERE clause of a vote query, and its parameters."""
        category, audio, tags = filters.category, filters.audio, filters.tags
        since, until, models = filters.since, filters.until, filters.models
        exclude_flagged = filters.exclude_flagged
        where = ["TRUE"]
        params: list[Any] = []
        if filters.aspect is not None:
            where.append("v.aspect = ?")
            params.append(filters.aspect)
        if category:
            where.append("p.category = ?")
            params.append(category)
        if audio is not None:
            where.append("p.audio = ?")
            params.append(audio)
        for tag in tags or ():
            where.append("list_contains(p.tags, ?)")
            params.append(tag)
        if since:
            where.append("v.voted_at >= ?")
            params.append(since)
        if until:
            where.append("v.voted_at < ?")
            params.append(until)
        if (
            exclude_flagged
            and self._query("SELECT count(*) FROM raters WHERE banned OR len(flags) > 0")[0][0]
        ):
            where.append(
                "NOT EXISTS (SELECT 1 FROM raters r WHERE r.id = v.rater_id "
                "AND (r.banned OR len(r.flags) > 0))"
            )
        if exclude_flagged:
            # Votes flagged on arrival (e.g. too fast), whoever cast them.
            where.append("coalesce(len(v.flags), 0) = 0")
        if models:
            where.append("ml.name IN ? AND mr.name IN ?")
            params += [list(models), list(models)]
        return " AND ".join(where), params

    # Votes with their battles' clips and kind, live and imported (arena/store/vote_views.py).
    _VOTE_JOINS = """FROM vote_battles v JOIN prompts p ON p.id = v.prompt_id
        JOIN models ml ON ml.id = v.left_model JOIN models mr ON mr.id = v.right_model"""

    def _winner_sql(self, outcome: str = "v.outcome") -> str:
        cases = " ".join(f"WHEN '{o}' THEN '{w}'" for o, w in WINNER_LABELS.items())
        return f"CASE {outcome} {cases} END"

    def vote_counts(self, filters: VoteFilter | None = None, **fields: Any) -> pd.DataFrame:
        """One GROUP BY over the votes: model_a (left), model_b, winner, count, ipw, ipw2."""
        filters = VoteFilter.of(filters, fields, exclude_flagged=True)
        where, params = self._vote_filter(filters)
        joins = "FROM all_votes v"  # live and imported
        if filters.category or filters.audio is not None or filters.tags:
            joins += " JOIN prompts p ON p.id = v.prompt_id"
        if filters.models:
            joins += (
                " JOIN models ml ON ml.id = v.left_model JOIN models mr ON mr.id = v.right_model"
            )
        # Group by model ids first and name them after: the aggregation is the only pass over votes.
        return self._frame(
            f"""WITH g AS (
                  SELECT v.left_model AS a, v.right_model AS bm, v.outcome, count(*) AS count,
                         sum(1.0 / v.sampling_prob) AS ipw,
                         sum(1.0 / (v.sampling_prob * v.sampling_prob)) AS ipw2
                  {joins} WHERE {where} GROUP BY ALL)
                SELECT ml.name AS model_a, mr.name AS model_b,
                       {self._winner_sql("g.outcome")} AS winner,
                       g.count, g.ipw, g.ipw2
                FROM g JOIN models ml ON ml.id = g.a JOIN models mr ON mr.id = g.bm
                ORDER BY ALL""",
            params,
        )

    def battles_frame(self, filters: VoteFilter | None = None, **fields: Any) -> pd.DataFrame:
        """Every vote as a Chatbot Arena battle row (model_a is the model shown on the left)."""
        filters = VoteFilter.of(filters, fields, exclude_flagged=False)
        where, params = self._vote_filter(filters)
        return self._frame(
            f"""SELECT ml.name AS model_a, mr.name AS model_b, {self._winner_sql()} AS winner,
                       v.prompt_id, p.text AS prompt, p.category, v.left_clip AS clip_a,
                       v.right_clip AS clip_b, v.rater_id AS rater,
                       epoch(v.voted_at) AS tstamp, v.sampling_prob, v.aspect,
                       v.time_to_vote_s, v.source
                {self._VOTE_JOINS}
                WHERE {where} ORDER BY v.voted_at, v.battle_id, v.aspect""",
            params,
        )

    def import_battles(
        self,
        df: pd.DataFrame,
        source: str = "import",
        where: Callable[[int], str] | None = None,
        add_models: bool = False,
    ) -> int:
        """Bulk insert Chatbot Arena battle rows, one transaction (see `import_votes_sql`).

        Each row becomes a battle and its vote. Models and prompts named by the rows must exist
        (or ``add_models``); clips that are not in the store are recorded as placeholders
        without files. ``where`` names a row in messages (default "votes, row 7").
        """
        if df.empty and {"model_a", "model_b", "winner"} <= set(df.columns):
            return 0
        return self.import_votes_sql(
            "incoming_frame", [], where or (lambda row: f"votes, row {row}"),
            add_models=add_models, source=source, frame=df,
        )  # fmt: skip

    def counts(self) -> dict[str, int]:
        """Rows per table; battles and votes with the imported ones (arena/store/vote_views.py)."""
        tables = ("models", "prompts", "clips", "battles", "votes", "raters", "metric_results")
        named = {"battles": "all_battles", "votes": "all_votes"}
        return {t: self._query(f"SELECT count(*) FROM {named.get(t, t)}")[0][0] for t in tables}

    def pair_prompt_usage(self) -> pd.DataFrame:
        """Battles served per (prompt, unordered model pair): prompt_id, m1, m2 (model ids), n."""
        return self._frame(
            """SELECT prompt_id, least(left_model, right_model) AS m1,
                      greatest(left_model, right_model) AS m2, count(*) AS n
               FROM all_battles GROUP BY ALL"""
        )

    def vote_outcomes(self, battle_ids: Sequence[str]) -> dict[str, list[str]]:
        """Every recorded vote outcome of these battles (a list per battle, empty when none), to
        check that acknowledged votes are stored exactly once."""
        out: dict[str, list[str]] = {b: [] for b in battle_ids}
        if out:
            rows = self._query(
                "SELECT battle_id, outcome FROM votes WHERE battle_id IN ? AND aspect = 'overall'",
                [list(out)],
            )
            for battle_id, outcome in rows:
                out[battle_id].append(outcome)
        return out

    def clip_pair_counts(self, filters: VoteFilter | None = None, **fields: Any) -> pd.DataFrame:
        """Votes per (left clip, right clip, winner): clip_a, clip_b, winner, count.

        One GROUP BY, so metric-human agreement costs the number of clip pairs, not of votes.
        """
        filters = VoteFilter.of(filters, fields, exclude_flagged=True)
        where, params = self._vote_filter(filters)
        return self._frame(
            f"""SELECT v.left_clip AS clip_a, v.right_clip AS clip_b,
                       {self._winner_sql()} AS winner, count(*) AS count
                {self._VOTE_JOINS}
                WHERE {where} GROUP BY ALL ORDER BY ALL""",
            params,
        )

    def vote_battle_kinds(self) -> list[str]:
        """Each vote's battle kind (normal / gold / imported), in the row order of
        `battles_frame(aspect=None)` (every vote row, follow-ups included)."""
        rows = self._query("""SELECT kind FROM vote_battles ORDER BY voted_at, battle_id, aspect""")
        return [r[0] for r in rows]
