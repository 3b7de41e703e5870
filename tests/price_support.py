"""Loopback providers for prices: one that reports what a job cost (and when it started), one
that does not (its price comes from the shipped table) and keeps a job queued first."""

from __future__ import annotations

import re

from provider_fakes import FalFake, ReplicateFake

TABLED_FAL = "fal-ai/kling-video/v2.6/pro/text-to-video"  # a row of prices.toml


class CostingReplicate(ReplicateFake):
    """Replicate's shapes, behind a reseller that adds the job's cost in US dollars
    (`billing.usd`, read with the spec option cost_field=billing.usd); its answers carry
    created_at and started_at 2.5 s apart, as Replicate's predictions do."""

    def __init__(self, root, script=None, cost=0.42) -> None:
        super().__init__(root, script)
        self.cost = cost

    def status(self, job, state):
        answer = super().status(job, state)
        answer["created_at"] = "2026-12-05T03:00:00.000Z"
        if state == "done":
            answer["started_at"] = "2026-12-05T03:00:02.500Z"
            answer["billing"] = {"usd": self.cost}
        return answer


class QueuedFal(FalFake):
    """fal's queue for an endpoint the price table lists; reports no cost. The first poll finds
    the job still waiting (IN_QUEUE)."""

    def route(self, method, path):
        if method == "POST" and path == f"/{TABLED_FAL}":
            return "submit", None
        m = re.fullmatch(r"/fal-ai/kling-video/requests/(\w+)(/status)?", path)
        if m or path.startswith("/files/"):
            return super().route(method, path)
        self.expect(False, f"submit to {method} {path}")
        return "submit", None

    def status(self, job, state):
        if state == "running" and job["polls"] == 1:
            return {"status": "IN_QUEUE", "queue_position": 1}
        return super().status(job, state)
