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


def change_model_generator(store: Store, name: str, generator: str) -> Model:
    """Replace a registered model's generator in place (a new endpoint or weights behind the
    same name): the one kind of change that makes its rating provisional again, since the votes
    before it were cast on what the old generator made. An unknown spec, a built-in model or the
    spec it already has is refused and nothing is written."""
    from generators.errors import InputError
    from generators.registry import build_generator

    generator = (generator or "").strip()
    model = store.model_by_name(name)
    if model.kind in ("builtin", "baseline"):
        raise InputError(f"model {name!r} is built in: its generator is Paddock's own code")
    if not generator:
        raise InputError(f"model {name!r}: give the new generator spec (--generator)")
    if generator == model.generator:
        raise InputError(f"model {name!r} already has the generator {generator}: nothing changed")
    build_generator(generator)  # an unknown spec is refused before anything is written
    return store.change_generator(name, generator)
