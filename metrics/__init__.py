"""Paddock metrics: automatic per-clip scores (see metrics.registry)."""
