"""The registry of generator kinds: which spec prefix builds which generator, and what it needs.

A spec is `<kind>:<target>?k=v` (`builtin:pony`, `diffusers:<id or path>`, `http:<name>`,
`folder:<path>`). Each kind is one row of KINDS: the module that builds it (imported on first
use, so the heavy dependencies of one kind never load for another), whether it needs a GPU, the
kind of model the store records for it, and what its target is (a name, a path, a path or a hub
id), so paddock.toml's relative paths are made absolute for it. Adding a kind is one module with
`build(target, params)` and one row here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from generators.base import Generator
from generators.errors import UnknownGeneratorError
from generators.providers import PROVIDER_MODULES

GeneratorFactory = Callable[[str, dict[str, str]], Generator]

# What a kind's target is: paddock.toml makes a relative path absolute (from the file's folder).
TARGET_NAME = "name"  # a name (builtin:pony, http:acme, fal:<endpoint id>): kept as written
TARGET_PATH = "path"  # always a file or folder
TARGET_PATH_OR_ID = "path or id"  # a path when it starts with . or ~ or exists, else a hub id


@dataclass(frozen=True)
class GeneratorKind:
    """One spec prefix: the module whose `build(target, params)` makes its generators."""

    name: str
    module: str
    model_kind: str  # what the store records for a model of this kind
    needs_gpu: bool = False
    target: str = TARGET_NAME
    reads_config: bool = False  # settings in paddock.toml: the spec carries the file's path
    # Its options name other generators (diffusers' `audio=`): its `build` is handed
    # `build_generator`, so the kind's module never imports this registry back.
    builds_others: bool = False

    def build(self, target: str, params: dict[str, str]) -> Generator:
        module = importlib.import_module(self.module)
        if self.builds_others:
            return module.build(target, params, build_generator=build_generator)
        return module.build(target, params)


KINDS: dict[str, GeneratorKind] = {
    kind.name: kind
    for kind in (
        GeneratorKind("builtin", "generators.pony.baselines", model_kind="baseline"),
        GeneratorKind(
            "diffusers",
            "generators.diffusers_gen",
            "diffusers",
            needs_gpu=True,
            target=TARGET_PATH_OR_ID,
            builds_others=True,
        ),
        GeneratorKind("http", "generators.http_gen", model_kind="http", reads_config=True),
        GeneratorKind("folder", "generators.folder_gen", "imported", target=TARGET_PATH),
        # Hosted APIs known by name (generators/providers/): remote models, stored as `http`.
        *(GeneratorKind(kind, module, model_kind="http") for kind, module in PROVIDER_MODULES),
    )
}
# Model kinds that no generator kind makes: the built-in model itself, votes imported for
# models Paddock never ran, and checkpoints (any generator, with a parent model).
OTHER_MODEL_KINDS = ("builtin", "imported", "checkpoint")


def model_kinds() -> tuple[str, ...]:
    """Every kind of model the store accepts."""
    made = (kind.model_kind for kind in KINDS.values())
    return tuple(dict.fromkeys((*OTHER_MODEL_KINDS, *made)))


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """'builtin:pony-lag?ms=200' -> ('builtin', 'pony-lag', {'ms': '200'})."""
    if not isinstance(spec, str) or ":" not in spec:
        raise UnknownGeneratorError(
            f"generator spec {spec!r} is not of the form kind:target (e.g. builtin:pony)"
        )
    kind, rest = spec.split(":", 1)
    target, _, query = rest.partition("?")
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError as exc:
        raise UnknownGeneratorError(f"generator spec {spec!r} has malformed parameters") from exc
    return kind.strip().lower(), target.strip(), params


def generator_kind(spec: str) -> GeneratorKind:
    """The registered kind a spec names; UnknownGeneratorError listing the known ones if none."""
    kind = parse_spec(spec)[0]
    if kind not in KINDS:
        raise UnknownGeneratorError(
            f"unknown generator kind {kind!r} in {spec!r}: "
            f"known kinds are {', '.join(sorted(KINDS))}"
        )
    return KINDS[kind]


def needs_gpu(spec: str) -> bool:
    """Whether generating with this spec wants the GPU (a job engine schedules it apart)."""
    kind = parse_spec(spec)[0]
    return kind in KINDS and KINDS[kind].needs_gpu


def model_kind_of(spec: str) -> str:
    """The model kind the store records for a model made by this spec."""
    return generator_kind(spec).model_kind


def build_generator(spec: str, **params: object) -> Generator:
    """Build the generator a spec names; keyword params override those in the spec's query."""
    kind = generator_kind(spec)
    _, target, spec_params = parse_spec(spec)
    spec_params.update({k: str(v) for k, v in params.items()})
    return kind.build(target, spec_params)


def builtin_spec(name: str) -> str:
    """The spec of a built-in model given by its bare name ("pony" -> "builtin:pony");
    UnknownGeneratorError saying what --model and a spec accept when it is none."""
    names = builtin_model_names()
    if name in names:
        return f"builtin:{name}"
    raise UnknownGeneratorError(
        f"{name!r} is neither a generator spec of the form kind:target (e.g. builtin:pony), "
        f"a model in the store, nor a built-in model ({', '.join(names)})"
    )


def builtin_model_names() -> list[str]:
    """Names of the built-in model and its baselines, as registered in the store."""
    from generators.pony.baselines import BUILTIN_NAMES

    return list(BUILTIN_NAMES)
