"""Every TOML file Paddock reads (paddock.toml, metrics and tolerance files): one reader, one error.

paddock.toml holds one section per feature, each checked by the schema of the module that owns
it: `[models.NAME]` (arena/io/models_file.py), `[http.NAME]`, the providers' APIs
(generators/http_gen.py), `[serving]` (generators/serving/profile.py), `aspects`
(arena/io/aspects_file.py) and `[metrics]` (metrics/base.py). This module reads the file and
turns every problem a schema finds into one line of one form:

    FILE [SECTION] KEY: problem     (FILE [SECTION]: problem for the section as a whole,
                                     FILE KEY: problem for a key at the top of the file)
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from generators.errors import InputError

CONFIG_ENV = "PADDOCK_CONFIG"
DEFAULT_CONFIG = Path("paddock.toml")

T = TypeVar("T")


class ConfigValueError(InputError):
    """A value a section's schema refuses; the reader adds the file to the message."""

    def __init__(self, section: str | None, key: str | None, problem: str) -> None:
        self.section, self.key, self.problem = section, key, problem
        super().__init__(f"{location(None, section, key)}: {problem}")


def location(path: str | os.PathLike | None, section: str | None, key: str | None) -> str:
    """Where a setting sits, as every config error names it: `FILE [SECTION] KEY`."""
    parts = [str(path)] if path is not None else []
    if section:
        parts.append(f"[{section}]")
    if key:
        parts.append(str(key))
    return " ".join(parts)


def config_error(
    path: str | os.PathLike | None, section: str | None, key: str | None, problem: str
) -> InputError:
    """The one form of a configuration error: `FILE [SECTION] KEY: problem`."""
    return InputError(f"{location(path, section, key)}: {problem}")


def paddock_toml_path() -> Path:
    """The paddock.toml in use: $PADDOCK_CONFIG, else ./paddock.toml."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def read_toml(path: str | os.PathLike, missing: str | None = None) -> dict[str, Any]:
    """A TOML file's tables; InputError with `missing` (or "FILE: no such file") when there is
    no file, or naming the syntax error."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, IsADirectoryError):
        raise InputError(missing or f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


def read_paddock_toml(path: str | os.PathLike | None = None) -> tuple[Path, dict[str, Any]]:
    """The paddock.toml given (which must exist) or the one in use (none there means no
    settings: every feature keeps its defaults), and its tables."""
    if path is not None:
        return Path(path), read_toml(path)
    default = paddock_toml_path()
    return default, (read_toml(default) if default.exists() else {})


def table(data: dict[str, Any], path: str | os.PathLike, section: str, default: Any = None) -> Any:
    """The table `section` (dotted: "http.acme") of a file's data; `default` when absent,
    a config error when it is there but not a table."""
    node: Any = data
    for part in section.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    if not isinstance(node, dict):
        raise config_error(path, section, None, "must be a table")
    return node


def check_section(
    path: str | os.PathLike, section: str | None, schema: Callable[[Any], T], values: Any
) -> T:
    """`schema(values)` (a pydantic model's `model_validate`, a dataclass's `from_mapping`),
    with whatever it refuses reported as `FILE [SECTION] KEY: problem`."""
    from pydantic import ValidationError

    try:
        return schema(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'section'}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(f"{location(path, section, None)} {problems}") from None
    except ConfigValueError as exc:
        raise config_error(path, exc.section or section, exc.key, exc.problem) from None
    except (TypeError, ValueError) as exc:  # a value of the wrong shape for the schema
        raise config_error(path, section, None, str(exc)) from None
