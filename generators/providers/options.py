"""Spec options every provider takes, and the shaping of request bodies and error texts."""

from __future__ import annotations

import json
from typing import Any

from generators.errors import InputError
from generators.providers.protocol import Protocol

_NUMBERS = {
    "timeout_s": (float, 30.0),
    "job_timeout_s": (float, 1800.0),
    "poll_interval_s": (float, None),  # None: the protocol's
    "retries": (int, 4),
    "backoff_s": (float, 1.0),
    "backoff_max_s": (float, 30.0),
    "max_concurrent": (int, None),
}
OPTIONS = (*_NUMBERS, "base_url", "fit", "cost_field")


def parse_options(name: str, protocol: Protocol, params: dict[str, str]) -> dict[str, Any]:
    unknown = sorted(k for k in params if k not in OPTIONS and not k.startswith("extra."))
    if unknown:
        raise InputError(
            f"{name}: unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}, "
            "extra.NAME"
        )
    options: dict[str, Any] = {}
    for key, (cast, default) in _NUMBERS.items():
        raw = params.get(key)
        try:
            value = cast(raw) if raw is not None else default
        except ValueError:
            raise InputError(f"{name}: option {key}={raw!r} is not a number") from None
        if value is not None and value < (1 if key == "max_concurrent" else 0):
            raise InputError(f"{name}: option {key}={raw} is out of range")
        options[key] = value
    options["poll_interval_s"] = options["poll_interval_s"] or protocol.poll_interval_s
    options["max_concurrent"] = options["max_concurrent"] or protocol.max_concurrent
    fit = params.get("fit", "round")
    if fit not in ("round", "refuse"):
        raise InputError(f"{name}: option fit={fit!r}: use round or refuse")
    options["fit"] = fit
    base = (params.get("base_url") or protocol.base_url).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise InputError(f"{name}: base_url {base!r} is not an http(s) URL")
    options["base_url"] = base
    # Where an endpoint (a reseller, a proxy) reports what the job cost in US dollars.
    options["cost_field"] = params.get("cost_field") or None
    return options


def extra_fields(params: dict[str, str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key, raw in params.items():
        if not key.startswith("extra."):
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = extra
        *parents, leaf = key.removeprefix("extra.").split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return extra


def merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def prune(value: Any) -> Any:
    """Fields whose value is None (no image, no negative prompt) are left out of the request."""
    if isinstance(value, dict):
        pruned = {k: prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in pruned.items() if v != {} and v != [{}]}
    if isinstance(value, list):
        return [v for v in (prune(v) for v in value) if v is not None and v != {}]
    return value


def texts(value: Any) -> list[str]:
    """Readable reasons out of an error value: a string, {message|msg|detail}, or a list."""
    if value is None or value is False:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in texts(item)]
    if isinstance(value, dict):
        for key in ("message", "msg", "detail", "reason"):
            if key in value:
                found = texts(value[key])
                kind = value.get("type") or value.get("code")
                return [f"{kind}: {t}" for t in found] if isinstance(kind, str) else found
        return [json.dumps(value)[:120]]
    return [str(value)]
