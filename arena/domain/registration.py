"""Registering models: one checked path for `paddock models add`, the admin view and the demo."""

from __future__ import annotations

from arena.store import Model, Store


def register_model(
    store: Store,
    name: str,
    generator: str | None = None,
    parent: str | None = None,
    kind: str | None = None,
) -> Model:
    """Register a model (a checkpoint when `parent` is given); an unknown spec writes nothing.

    The one path behind `paddock models add` and the admin view.
    """
    from generators.registry import build_generator, model_kind_of

    name = (name or "").strip()
    generator = (generator or "").strip() or None
    parent = (parent or "").strip() or None
    if generator:
        build_generator(generator)  # an unknown spec is refused before anything is written
    if not kind:
        kind = "checkpoint" if parent else (model_kind_of(generator) if generator else "imported")
    return store.add_model(name, kind, generator=generator, parent=parent)


def ensure_builtin_models(store: Store) -> list[Model]:
    """Register `pony` and its baselines under exactly their names (idempotent)."""
    from generators.registry import builtin_model_names

    models = []
    for name in builtin_model_names():
        kind = "builtin" if name == "pony" else "baseline"
        models.append(store.add_model(name, kind, generator=f"builtin:{name}", exist_ok=True))
    return models
