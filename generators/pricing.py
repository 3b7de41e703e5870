"""What a clip costs: the shipped price tables, paddock.toml's overrides, and one clip's price.

A price is US dollars per second of video, by resolution and with or without sound where they
differ. The tables ship as data (generators/providers/prices.toml), one per provider, dated with
the page they were read from; a model in paddock.toml may override its own:

    [models.acme]
    generator = "http:acme"
    price_per_s = 0.10                        # or: price = { "720p" = 0.05, "1080p" = 0.08 }

    [models.wan-local]
    generator = "diffusers:./wan"
    price_per_gpu_hour = 2.50                 # local models: compute time x this rate

A clip's price and its source, first that applies: the cost the provider reported in its answer
("reported"), paddock.toml's price ("config"), compute time x an hourly rate ("compute"), the
table ("table:<date read>"); else a local model is "local" (time only) and any other "unknown".
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from generators.base import RESOLUTIONS
from generators.config_file import ConfigValueError
from generators.registry import needs_gpu, parse_spec

log = logging.getLogger(__name__)

PRICE_TABLE = Path(__file__).with_name("providers") / "prices.toml"
PRICE_KEYS = ("price_per_s", "price", "price_per_gpu_hour", "price_per_cpu_hour")
LOCAL_KINDS = ("builtin", "diffusers")  # run here: priced by compute time, not by a provider
SOUND_KEYS = ("sound", "silent")
ANY = "*"

# A rule: resolution (or ANY) -> "sound" / "silent" (or ANY) -> USD per second.
Rule = dict[str, dict[str, float]]


# ---------------------------------------------------------------------------- reading prices
def _dollars(value: Any, section: str | None, key: str) -> float:
    """A non-negative, finite number of dollars; ConfigValueError naming the key otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigValueError(section, key, f"must be a number of US dollars, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ConfigValueError(section, key, f"must be zero or more US dollars, not {value!r}")
    return float(value)


def _by_sound(value: dict, section: str | None, key: str) -> dict[str, float]:
    out = {}
    for name, price in value.items():
        if name not in SOUND_KEYS:
            raise ConfigValueError(
                section, f"{key}.{name}", "unknown key: a price by sound has sound and silent"
            )
        out[name] = _dollars(price, section, f"{key}.{name}")
    return out


def parse_rule(value: Any, section: str | None, key: str) -> Rule:
    """A price per second as written (a number, by resolution, by sound, or both) made a Rule.
    ConfigValueError naming `key` (and the entry) for a negative price, one that is not a number,
    or a resolution Paddock does not make."""
    if not isinstance(value, dict):
        return {ANY: {ANY: _dollars(value, section, key)}}
    if not value:
        raise ConfigValueError(section, key, "is empty: give a price per second")
    if set(value) <= set(SOUND_KEYS):
        return {ANY: _by_sound(value, section, key)}
    rule: Rule = {}
    for name, entry in value.items():
        if name not in RESOLUTIONS:
            known = ", ".join(RESOLUTIONS)
            raise ConfigValueError(
                section,
                f"{key}.{name}",
                f"unknown resolution {name!r}: use {known} (or sound / silent)",
            )
        where = f"{key}.{name}"
        if isinstance(entry, dict):
            rule[name] = _by_sound(entry, section, where)
        else:
            rule[name] = {ANY: _dollars(entry, section, where)}
    return rule


def rule_price(rule: Rule, resolution: str, sound: bool) -> float | None:
    """USD per second for this resolution and sound; None when the rule does not say."""
    entry = rule.get(resolution, rule.get(ANY))
    if entry is None:
        return None
    return entry.get("sound" if sound else "silent", entry.get(ANY))


@dataclass(frozen=True)
class PriceOverride:
    """A model's own price from paddock.toml: per second (`price_per_s` / `price`), or for a
    local model an hourly rate for its compute."""

    rule: Rule | None = None
    per_gpu_hour: float | None = None
    per_cpu_hour: float | None = None

    @classmethod
    def from_section(cls, section: dict[str, Any], where: str | None = None) -> PriceOverride:
        """The price keys of one `[models.NAME]` section (others are ignored here)."""
        if "price_per_s" in section and "price" in section:
            raise ConfigValueError(where, "price", "give price_per_s or price, not both")
        rule = None
        if "price_per_s" in section:
            rule = {ANY: {ANY: _dollars(section["price_per_s"], where, "price_per_s")}}
        elif "price" in section:
            rule = parse_rule(section["price"], where, "price")
        hourly = {
            key: _dollars(section[key], where, key)
            for key in ("price_per_gpu_hour", "price_per_cpu_hour")
            if key in section
        }
        return cls(rule, hourly.get("price_per_gpu_hour"), hourly.get("price_per_cpu_hour"))

    @property
    def empty(self) -> bool:
        return self.rule is None and self.per_gpu_hour is None and self.per_cpu_hour is None

    def hourly(self, spec: str) -> float | None:
        """The rate for this model's compute: a GPU hour for a kind that runs on the GPU, else a
        CPU hour; the other when only that one is given."""
        first, second = (
            (self.per_gpu_hour, self.per_cpu_hour)
            if needs_gpu(spec)
            else (self.per_cpu_hour, self.per_gpu_hour)
        )
        return first if first is not None else second


@dataclass(frozen=True)
class TableRow:
    """One model's row of a provider's price table."""

    provider: str
    model: str
    rule: Rule
    read: str  # the day the page was read (YYYY-MM-DD)
    page: str
    confirmed: bool
    note: str = ""


def parse_price_table(data: dict[str, Any]) -> dict[tuple[str, str], TableRow]:
    """Every row of a price table file's data, keyed by (provider kind, model).
    ConfigValueError naming the section and key of an entry it refuses."""
    rows = {}
    for provider, table in data.items():
        if not isinstance(table, dict):
            raise ConfigValueError(provider, None, "must be a table")
        for key in ("page", "read"):
            if not isinstance(table.get(key), str) or not table[key]:
                raise ConfigValueError(provider, key, "is missing (where and when it was read)")
        for model, row in (table.get("models") or {}).items():
            where = f'{provider}.models."{model}"'
            if not isinstance(row, dict) or "usd_per_s" not in row:
                raise ConfigValueError(where, "usd_per_s", "is missing")
            rows[(provider, model)] = TableRow(
                provider,
                model,
                parse_rule(row["usd_per_s"], where, "usd_per_s"),
                str(row.get("read", table["read"])),
                str(row.get("page", table["page"])),
                bool(row.get("confirmed", True)),
                str(row.get("note") or table.get("note") or ""),
            )
    return rows


@lru_cache(maxsize=4)
def price_table(path: str | None = None) -> dict[tuple[str, str], TableRow]:
    """The shipped price table (or the one at path), read once."""
    from generators.config_file import check_section, read_toml

    file = Path(path) if path else PRICE_TABLE
    return check_section(file, None, parse_price_table, read_toml(file))


def table_row(spec: str, path: str | None = None) -> TableRow | None:
    """The table row of a provider spec's model (a Replicate version pin is ignored)."""
    kind, target, _ = parse_spec(spec)
    return price_table(path).get((kind, target.split(":", 1)[0]))


# ---------------------------------------------------------------------------- a clip's price
@dataclass(frozen=True)
class Price:
    """A clip's price in US dollars (None: not known) and where the figure came from."""

    usd: float | None
    source: str  # reported | config | compute | table:<date> | local | unknown
    reason: str = ""  # why it is unknown


def reported_cost(value: Any) -> float | None:
    """A cost the provider reported, as dollars; ValueError when it cannot be read as one."""
    if isinstance(value, str):
        try:
            value = float(value.strip().lstrip("$"))
        except ValueError:
            raise ValueError(f"reported cost {value!r} is not a number of US dollars") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"reported cost {value!r} is not a number of US dollars")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"reported cost {value!r} is not zero or more US dollars")
    return float(value)


def expected_price(
    spec: str,
    resolution: str,
    sound: bool,
    seconds: float,
    override: PriceOverride | None = None,
    generation_s: float | None = None,
) -> Price:
    """What a clip should cost before any provider answers: paddock.toml's price, compute time
    (generation_s) x an hourly rate for a local model, the table's price, else local / unknown."""
    kind = parse_spec(spec)[0]
    local = kind in LOCAL_KINDS
    if override is not None and override.rule is not None:
        per_s = rule_price(override.rule, resolution, sound)
        if per_s is not None:
            return Price(round(per_s * seconds, 6), "config")
    if local:
        rate = override.hourly(spec) if override is not None else None
        if rate is None:
            return Price(None, "local")
        if generation_s is None:
            return Price(None, "unknown", "no compute time to price")
        return Price(round(generation_s * rate / 3600.0, 6), "compute")
    row = table_row(spec)
    if row is not None:
        per_s = rule_price(row.rule, resolution, sound)
        if per_s is not None:
            return Price(round(per_s * seconds, 6), f"table:{row.read}")
        return Price(None, "unknown", f"the price table has no {resolution} price for {spec}")
    return Price(None, "unknown", f"no price for {spec}: no table row and no paddock.toml price")


def clip_price(
    spec: str,
    provenance: dict | None,
    resolution: str,
    sound: bool,
    seconds: float,
    generation_s: float | None,
    override: PriceOverride | None = None,
) -> Price:
    """A made clip's price: the provider's reported cost (provenance "cost_usd") when its answer
    gave one; an answer whose cost cannot be read leaves the price unknown, with the reason
    logged, and never fails the clip; else `expected_price` with the clip's compute time."""
    if provenance and provenance.get("cost_usd") is not None:
        try:
            return Price(round(reported_cost(provenance["cost_usd"]), 6), "reported")
        except ValueError as exc:
            log.warning("%s: price unknown: %s", spec.split("?", 1)[0], exc)
            return Price(None, "unknown", str(exc))
    return expected_price(spec, resolution, sound, seconds, override, generation_s)


def sent_request(provenance: dict | None, resolution: str, seconds: float) -> tuple[str, float]:
    """The resolution and length the provider was asked for (after any rounding it recorded):
    what it bills."""
    adjusted = (provenance or {}).get("adjusted") or {}
    if "resolution" in adjusted:
        resolution = adjusted["resolution"][1]
    if "duration_s" in adjusted:
        seconds = float(adjusted["duration_s"][1])
    return resolution, seconds
