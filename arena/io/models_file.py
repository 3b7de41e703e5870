"""paddock.toml: the models a team declares (`[models.NAME]`) and `paddock models sync`.

    [models.wan21]
    generator = "diffusers:./pipelines/wan21-t2v"   # relative paths: from this file's folder
    display_name = "Wan 2.1 T2V 1.3B"
    steps = 30                                       # any other key is a generator parameter
    guidance = 5.0

    [models.acme]
    generator = "http:acme"                          # its API: the [http.acme] section

    [models.team-x]
    generator = "folder:/exports/team-x"
    price_per_s = 0.10                               # what its clips cost (generators/pricing.py)

    [models.acme-v2]
    generator = "http:acme-v2"
    family = "acme"                                  # variants rated together (see below)

Every model's generator spec is built and checked before anything is written; sync then adds
the new models in one transaction. A model already registered with another generator is refused
(its clips were made by the old one): give the new generator a new name, or replace it in
place with `paddock models change`. `family` names the family whose variants a board counts
(`arena/domain/families.py`); sync records it, also for models already registered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, field_validator

from arena.store import Store
from generators.config_file import check_section, config_error, read_toml, table
from generators.errors import InputError, PaddockError
from generators.pricing import PRICE_KEYS, PriceOverride
from generators.registry import (
    KINDS,
    TARGET_NAME,
    TARGET_PATH,
    build_generator,
    model_kind_of,
    parse_spec,
)


class ModelSection(BaseModel):
    """One `[models.NAME]` section; keys other than these are the generator's parameters."""

    model_config = ConfigDict(extra="allow")

    generator: str
    display_name: str | None = None
    kind: str | None = None
    parent: str | None = None
    family: str | None = None

    @field_validator("family")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a non-empty name")
        return value.strip() if value is not None else None

    @field_validator("generator")
    @classmethod
    def _has_kind(cls, value: str) -> str:
        if ":" not in value:
            raise ValueError(f"{value!r} is not of the form kind:target (e.g. diffusers:PATH)")
        return value

    def params(self) -> dict[str, str]:
        out = {}
        for key, value in (self.model_extra or {}).items():
            if key in PRICE_KEYS:  # what its clips cost, not how they are made
                continue
            if isinstance(value, bool):
                out[key] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                out[key] = str(value)
            else:
                raise ValueError(f"parameter {key} must be a string, number or boolean")
        return out


@dataclass(frozen=True)
class ModelDecl:
    """A model as the file declares it, with its generator spec made whole."""

    name: str
    spec: str
    kind: str
    display_name: str
    parent: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    family: str | None = None


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    family_set: list[str] = field(default_factory=list)  # registered models given a new family


def full_spec(generator: str, params: dict[str, str], base: Path, config: Path) -> str:
    """The spec the store keeps: relative paths made absolute, the file's own path given to a
    kind that reads its settings from it (`http:`), and the parameters in the query."""
    kind, target, query = parse_spec(generator)
    row = KINDS.get(kind)  # an unknown kind is refused when the spec is built
    takes_path = row is not None and row.target != TARGET_NAME
    if takes_path and target and not os.path.isabs(os.path.expanduser(target)):
        candidate = (base / target).resolve()
        # a hub id ("org/name") is not a folder here and stays as it is
        if row.target == TARGET_PATH or target.startswith((".", "~")) or candidate.exists():
            target = str(candidate)
    if row is not None and row.reads_config:
        query.setdefault("config", str(config.resolve()))
    query.update(params)
    query_text = urlencode(sorted(query.items()), safe="/:")  # paths stay readable
    return f"{kind}:{target}" + (f"?{query_text}" if query else "")


def load_models_file(path: str | os.PathLike) -> list[ModelDecl]:
    """Parse and check a paddock.toml; InputError naming the file, section and problem."""
    from generators.http_gen import parse_api_config

    path = Path(path)
    data = read_toml(path, f"{path}: no such file (a paddock.toml with [models.NAME] sections)")
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise InputError(f"{path}: no [models.NAME] sections")
    for name in table(data, path, "http", default={}):
        parse_api_config(name, table(data, path, f"http.{name}"), path)
    decls = []
    for name, section in models.items():
        where = f"models.{name}"
        if not isinstance(section, dict):
            raise config_error(path, where, None, 'must be a table with generator = "kind:target"')
        model = check_section(path, where, ModelSection.model_validate, section)
        params = check_section(path, where, ModelSection.params, model)
        check_section(path, where, PriceOverride.from_section, section)
        spec = full_spec(model.generator, params, path.parent, path)
        try:
            build_generator(spec)  # a spec that cannot be built is refused before any write
        except PaddockError as exc:
            raise config_error(path, where, None, str(exc)) from None
        kind = model.kind or ("checkpoint" if model.parent else model_kind_of(spec))
        if model.family is not None and kind == "baseline":
            raise config_error(
                path, where, "family", "a built-in baseline is its own family, not a variant"
            )
        decls.append(ModelDecl(name, spec, kind, model.display_name or name, model.parent, params,
                               model.family))  # fmt: skip
    return decls


def load_price_overrides(path: str | os.PathLike | None = None) -> dict[str, PriceOverride]:
    """The prices paddock.toml gives its models (`price_per_s`, `price`, `price_per_gpu_hour`,
    `price_per_cpu_hour`), by model name; none when there is no file. InputError naming the
    file, model and key of a price it refuses."""
    from generators.config_file import read_paddock_toml

    path, data = read_paddock_toml(path)
    out = {}
    for name, section in (data.get("models") or {}).items():
        if not isinstance(section, dict):
            continue  # `models sync` names this; a price is only read from a table
        where = f"models.{name}"
        found = check_section(path, where, PriceOverride.from_section, section)
        if not found.empty:
            out[name] = found
    return out


def sync_models(store: Store, decls: list[ModelDecl]) -> SyncReport:
    """Register the declared models that are new; all of them, or none on any conflict."""
    report = SyncReport()
    new: list[dict[str, Any]] = []
    conflicts = []
    for decl in decls:
        existing = store.find_model(decl.name)
        if existing is None:
            new.append(
                {
                    "name": decl.name,
                    "kind": decl.kind,
                    "generator": decl.spec,
                    "parent": decl.parent,
                    "display_name": decl.display_name,
                    "params": decl.params,
                }
            )
        elif existing.generator == decl.spec:
            report.unchanged.append(decl.name)
            if existing.family != decl.family:
                report.family_set.append(decl.name)
        else:
            conflicts.append(
                f"model {decl.name!r} is registered with {existing.generator or 'no generator'}, "
                f"the file says {decl.spec}: give the new generator a new name"
            )
    if conflicts:
        raise InputError("; ".join(conflicts) + " (nothing synced)")
    if new:
        store.add_models(new)
    family = {decl.name: decl.family for decl in decls}
    for name in [row["name"] for row in new if family[row["name"]]] + report.family_set:
        store.set_model_family(name, family[name])
    report.added = [row["name"] for row in new]
    return report
