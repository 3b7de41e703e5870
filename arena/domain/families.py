"""Model families: which registered models are variants of one another.

A model's family is the one recorded for it (`paddock.toml`'s ``family = "..."``, written by
`paddock models sync`); without one, a checkpoint shares its parent's family and any other
model is its own family, named after itself. A built-in baseline (``pony-*``) is always its own
family: it is a reference made from pony's code, not a variant of pony, so a family recorded
for it is not followed and checkpoints of a baseline are the baseline's variants.
"""

from __future__ import annotations

from collections.abc import Iterable

from arena.store import Model

BASELINE_KIND = "baseline"


def model_families(models: Iterable[Model]) -> dict[str, str]:
    """{model name: family name} for every model given (parents are looked up among them)."""
    by_id = {m.id: m for m in models}
    families: dict[str, str] = {}

    def family(model: Model, seen: frozenset[str] = frozenset()) -> str:
        if model.kind == BASELINE_KIND:
            return model.name
        if model.family:
            return model.family
        parent = by_id.get(model.parent) if model.parent else None
        if parent is None or parent.id in seen:  # a cycle cannot be registered; be safe anyway
            return model.name
        return family(parent, seen | {model.id})

    for model in by_id.values():
        families[model.name] = family(model)
    return families
