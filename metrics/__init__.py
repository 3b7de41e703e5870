"""Paddock metrics: automatic per-clip scores (see metrics.registry)."""

from __future__ import annotations

from typing import Any

__all__ = ["MetricResult", "MetricsConfig", "available_metrics", "score_clip"]


def __getattr__(name: str) -> Any:
    # Lazy: importing a metrics submodule should not pull in every metric's dependencies.
    if name in ("available_metrics", "score_clip"):
        from metrics import registry

        return getattr(registry, name)
    if name in ("MetricResult", "MetricsConfig"):
        from metrics import base

        return getattr(base, name)
    raise AttributeError(f"module 'metrics' has no attribute {name!r}")
