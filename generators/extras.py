"""Optional extras: a feature that needs the `ml` extra (torch and friends) says how to get it."""

from __future__ import annotations

import importlib.util

from generators.errors import PaddockError

ML_INSTALL = "run `make setup-ml` (or `pip install 'paddock[ml]'`)"


class MissingExtraError(PaddockError):
    """A feature needs a package of the optional `ml` extra that is not installed."""


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The named top-level modules that cannot be imported here (found without importing them)."""
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a module set to None in sys.modules, a broken parent
            found = False
        if not found:
            missing.append(name)
    return missing


def require_ml(feature: str, modules: tuple[str, ...]) -> None:
    """MissingExtraError naming the install command when any of `modules` is missing."""
    missing = missing_modules(modules)
    if missing:
        raise MissingExtraError(
            f"{feature} needs {', '.join(missing)} (the ml extra), not installed: {ML_INSTALL}"
        )
