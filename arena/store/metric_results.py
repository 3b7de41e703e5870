"""Queries on automatic metric results per clip."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arena.store.catalog import ClipRow
from arena.store.db import now

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import pandas as pd


class MetricQueries:
    """Queries on automatic metric results per clip. Mixed into `Store`."""

    def clips_needing_metric(self, metric: str, version: str) -> list[ClipRow]:
        rows = self._query(
            """SELECT c.id, c.path, c.sha256, m.name, p.id, p.text, p.image
               FROM clips c JOIN models m ON m.id = c.model_id JOIN prompts p ON p.id = c.prompt_id
               WHERE c.path <> '' AND NOT EXISTS (
                 SELECT 1 FROM metric_results r WHERE r.clip_id = c.id AND r.metric = ?
                 AND r.version = ? AND r.clip_sha256 = c.sha256)
               ORDER BY c.created_at""",
            [metric, version],
        )
        return [
            ClipRow(r[0], str(self.data_dir / r[1]), r[2], r[3], r[4], r[5], self._image_path(r[6]))
            for r in rows
        ]

    def record_metric_results(self, clip_id: str, results: Sequence[Any]) -> None:
        """Store MetricResult objects for a clip (replacing results of the same version)."""
        sha = self.clip(clip_id).sha256
        with self.transaction() as con:
            self._metrics_cache.pop(clip_id, None)  # under the lock a reader holds to fill it
            for r in results:
                con.execute(
                    "INSERT OR REPLACE INTO metric_results VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        clip_id,
                        r.metric,
                        r.version,
                        r.status,
                        json.dumps(r.values, default=str),
                        json.dumps(r.units),
                        r.reason,
                        r.backend,
                        r.weights_sha256,
                        json.dumps(r.params, default=str),
                        sha,
                        now(),
                    ],
                )

    def metric_table(self) -> pd.DataFrame:
        """Numeric metric values, one row per value: clip_id, model, prompt_id, category, seed,
        metric, version, key, value."""
        frame = self._frame(
            """SELECT r.clip_id, m.name AS model, c.prompt_id, p.category, c.seed, r.metric,
                      r.version, r."values" AS payload
               FROM metric_results r JOIN clips c ON c.id = r.clip_id
               JOIN models m ON m.id = c.model_id JOIN prompts p ON p.id = c.prompt_id
               WHERE r.status = 'ok'"""
        )
        rows = []
        for rec in frame.itertuples(index=False):
            for key, value in json.loads(rec.payload or "{}").items():
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                rows.append((*rec[:-1], key, float(value)))
        import pandas as pd

        columns = [*frame.columns[:-1], "key", "value"]
        return pd.DataFrame(rows, columns=columns)

    def clips_metrics(self, clip_ids: Sequence[str]) -> dict[str, list[dict]]:
        """Metric results of several clips (one query for those not cached yet)."""
        cache = self._metrics_cache
        missing = [c for c in clip_ids if c not in cache]
        if not missing:
            return {c: list(cache[c]) for c in clip_ids}
        with self._lock:
            rows = self._query(
                """SELECT clip_id, metric, version, status, "values", units, reason
                   FROM metric_results WHERE clip_id IN ? ORDER BY metric""",
                [missing],
            )
            out: dict[str, list[dict]] = {c: [] for c in missing}
            for r in rows:
                out[r[0]].append(
                    {
                        "metric": r[1],
                        "version": r[2],
                        "status": r[3],
                        "values": json.loads(r[4] or "{}"),
                        "units": json.loads(r[5] or "{}"),
                        "reason": r[6],
                    }
                )
            if not self.read_only:  # a reader's file may change under it
                cache.update(out)
        return {c: list(cache[c]) if c in cache else out[c] for c in clip_ids}
