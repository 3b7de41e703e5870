"""Registering what the arena ships with: the built-in model, its baselines and the prompt suites."""

from __future__ import annotations

from arena.store import Model, Prompt, Store


def ensure_builtin_models(store: Store) -> list[Model]:
    """Register `pony` and its baselines under exactly their names (idempotent)."""
    from generators.registry import builtin_model_names

    models = []
    for name in builtin_model_names():
        kind = "builtin" if name == "pony" else "baseline"
        models.append(store.add_model(name, kind, generator=f"builtin:{name}", exist_ok=True))
    return models


def ensure_suite(store: Store, suite: str = "default") -> list[Prompt]:
    """Load a shipped prompt suite into the store (idempotent) and return its prompts."""
    from arena.io.prompt_files import load_suite

    prompts = load_suite(suite)
    store.upsert_prompts(prompts)
    return store.prompts(suite=suite)
