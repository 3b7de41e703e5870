"""The providers at a glance for `paddock providers`: variables, abilities and a key check."""

from __future__ import annotations

import os
from dataclasses import dataclass

from generators.errors import GenerationError, InputError
from generators.providers import PROVIDER_MODULES, provider_protocol
from generators.providers.auth import auth_headers, missing_env


@dataclass(frozen=True)
class ProviderRow:
    kind: str
    spec: str  # the form a user types
    example: str
    env: dict[str, bool]  # variable -> set (never its value)
    t2v: bool
    i2v: bool
    audio: str
    reference: str
    note: str


def provider_rows() -> list[ProviderRow]:
    rows = []
    for kind, _ in PROVIDER_MODULES:
        p = provider_protocol(kind)
        limits = p.resolve(p.example).limits
        rows.append(
            ProviderRow(
                kind=kind,
                spec=f"{kind}:<{p.target_help}>",
                example=f"{kind}:{p.example}",
                env={name: bool(os.environ.get(name)) for name in p.env_names},
                t2v=limits.t2v,
                i2v=limits.i2v,
                audio=limits.audio,
                reference=p.reference,
                note=p.retired or p.note,
            )
        )
    return rows


def check_provider(kind: str, target: str | None = None, base_url: str | None = None) -> str:
    """Make the provider's cheapest authenticated call; what it found, as one line.
    PaddockError when the credentials are missing or refused."""
    import httpx

    p = provider_protocol(kind)
    if p.retired and not base_url:
        return f"{kind}: {p.retired}; nothing was sent"
    if p.check_path is None:
        return f"{kind}: {p.title} documents no free authenticated call; nothing was sent"
    missing = missing_env(p.env, p.key_env)
    if missing:
        alone = f" (or {p.key_env} alone)" if p.key_env else ""
        raise InputError(f"{kind}: environment variable {', '.join(missing)}{alone} is not set")
    url = (base_url or p.base_url).rstrip("/") + p.check_path.format(model=target or p.example)
    headers = {"Accept": "application/json", **p.headers, **auth_headers(p.auth, p.env, p.key_env)}
    try:
        response = httpx.get(url, headers=headers, timeout=15.0)
    except httpx.HTTPError as exc:
        raise GenerationError(f"{kind}: could not reach {url} ({type(exc).__name__})") from None
    names = " / ".join(p.env_names)
    if response.status_code in (401, 403) or (
        response.status_code == 400 and "api key" in response.text.lower()
    ):
        raise GenerationError(
            f"{kind}: HTTP {response.status_code} from {url}: the credentials in {names} "
            "were not accepted"
        )
    if response.status_code >= 400:
        raise GenerationError(f"{kind}: HTTP {response.status_code} from {url}")
    return f"{kind}: credentials accepted (HTTP {response.status_code} from GET {p.check_path})"
