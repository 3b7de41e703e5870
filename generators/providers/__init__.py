"""Hosted video APIs known by name: the table of provider kinds and the modules that hold them."""

# (kind, module): each module holds one provider's protocol as data and a `build` factory.
PROVIDER_MODULES: tuple[tuple[str, str], ...] = (
    ("fal", "generators.providers.fal"),
    ("replicate", "generators.providers.replicate"),
    ("runway", "generators.providers.runway"),
    ("luma", "generators.providers.luma"),
    ("google", "generators.providers.google"),
    ("openai", "generators.providers.openai"),
    ("byteplus", "generators.providers.byteplus"),
    ("kling", "generators.providers.kling"),
)
PROVIDER_KINDS = frozenset(kind for kind, _ in PROVIDER_MODULES)


def provider_protocol(kind: str):
    """The Protocol of a provider kind (imports its module)."""
    import importlib

    modules = dict(PROVIDER_MODULES)
    if kind not in modules:
        from generators.errors import InputError

        raise InputError(f"unknown provider {kind!r}: known are {', '.join(modules)}")
    return importlib.import_module(modules[kind]).PROTOCOL
