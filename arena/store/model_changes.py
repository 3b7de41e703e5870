"""Changing a registered model (its generator, family, whether it is served) and counting the
votes each model has had since it last changed: what provisional ratings rest on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from arena.store.db import now
from arena.store.votes import VoteFilter

if TYPE_CHECKING:
    from arena.store.catalog import Model


class ModelChangeQueries:
    """Updates of the models table and the votes since each model's change. Mixed into `Store`."""

    def change_generator(self, name: str, generator: str, params: dict | None = None) -> Model:
        """Replace a model's generator spec (and parameters) in place and stamp ``changed_at``:
        votes cast before now no longer settle its rating. Its clips stay as they are."""
        model = self.model_by_name(name)
        with self.transaction() as con:
            con.execute(
                "UPDATE models SET generator = ?, params = ?, changed_at = ? WHERE id = ?",
                [generator, json.dumps(params or {}), now(), model.id],
            )
        self.epoch += 1
        return self.model_by_name(name)

    def set_model_family(self, name: str, family: str | None) -> Model:
        """Record the family a model's variants share (None: the default rule)."""
        model = self.model_by_name(name)
        with self.transaction() as con:
            con.execute("UPDATE models SET family = ? WHERE id = ?", [family, model.id])
        return self.model_by_name(name)

    def set_model_active(self, name: str, active: bool) -> Model:
        """Serve a model in battles again, or stop serving it (its votes and clips stay).
        Not a change: the same generator, so its earlier votes still describe it."""
        model = self.model_by_name(name)
        with self.transaction() as con:
            con.execute("UPDATE models SET active = ? WHERE id = ?", [active, model.id])
        self.epoch += 1
        return self.model_by_name(name)

    def votes_since_change(self, filters: VoteFilter | None = None, **fields: Any) -> dict:
        """{model name: votes it took part in, cast at or after its ``changed_at``}, over the
        votes ``filters`` selects (as `vote_counts` does: flagged votes left out by default).
        A model without such votes is absent."""
        filters = VoteFilter.of(filters, fields, exclude_flagged=True)
        where, params = self._vote_filter(filters)
        # One pass over the votes, grouped by pair as `vote_counts` groups them.
        joins = "JOIN models ml ON ml.id = v.left_model JOIN models mr ON mr.id = v.right_model"
        if filters.category or filters.audio is not None or filters.tags:
            joins += " JOIN prompts p ON p.id = v.prompt_id"
        rows = self._query(
            f"""WITH g AS (
                  SELECT v.left_model AS a, v.right_model AS b,
                         count(*) FILTER (WHERE v.voted_at >= ml.changed_at) AS na,
                         count(*) FILTER (WHERE v.voted_at >= mr.changed_at) AS nb
                  FROM all_votes v {joins} WHERE {where} GROUP BY ALL),
                sides AS (SELECT a AS model, na AS n FROM g UNION ALL SELECT b, nb FROM g)
                SELECT m.name, sum(s.n) FROM sides s JOIN models m ON m.id = s.model
                GROUP BY m.name HAVING sum(s.n) > 0""",
            params,
        )
        return {name: int(count) for name, count in rows}
