"""Credentials from the environment, and the HS256 JWT that Kling's own API asks for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

from generators.errors import InputError


def missing_env(groups: tuple[tuple[str, ...], ...], key_env: str | None = None) -> list[str]:
    """The groups with no variable set, each as 'A' or 'A or B'; none when the single key
    (key_env) that replaces them is set."""
    if key_env and os.environ.get(key_env):
        return []
    return [" or ".join(g) for g in groups if not any(os.environ.get(name) for name in g)]


def env_value(group: tuple[str, ...]) -> str:
    for name in group:
        value = os.environ.get(name)
        if value:
            return value
    raise InputError(f"environment variable {' or '.join(group)} is not set")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs256_jwt(issuer: str, secret: str, ttl_s: int = 1800, now: float | None = None) -> str:
    """A JSON Web Token signed with HMAC-SHA256: iss = the access key, valid from 5 s ago (clock
    skew) for ttl_s seconds, as Kling's authentication page describes."""
    now = int(time.time() if now is None else now)
    return sign_hs256({"iss": issuer, "exp": now + ttl_s, "nbf": now - 5}, secret)


def sign_hs256(payload: dict, secret: str) -> str:
    """header.payload.signature, each base64url without padding (RFC 7519 with HS256)."""
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def verify_hs256_jwt(token: str, secret: str, now: float | None = None) -> dict:
    """The payload of a valid, unexpired token; ValueError otherwise (used by the test servers)."""
    try:
        head, body, sig = token.split(".")
    except ValueError:
        raise ValueError("not a JWT") from None
    expected = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(_b64url(expected), sig):
        raise ValueError("bad signature")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    now = time.time() if now is None else now
    if not payload.get("nbf", 0) <= now < payload.get("exp", 0):
        raise ValueError("token not valid now")
    return payload


def auth_headers(
    scheme: str, env: tuple[tuple[str, ...], ...], key_env: str | None = None
) -> dict[str, str]:
    """The headers that carry the key: Authorization Bearer/Key, x-goog-api-key, or a JWT; the
    single key in key_env, when set, goes as a bearer token instead."""
    if key_env and os.environ.get(key_env):
        return {"Authorization": f"Bearer {os.environ[key_env]}"}
    if scheme == "bearer":
        return {"Authorization": f"Bearer {env_value(env[0])}"}
    if scheme == "key":
        return {"Authorization": f"Key {env_value(env[0])}"}
    if scheme == "goog":
        return {"x-goog-api-key": env_value(env[0])}
    if scheme == "jwt":
        return {"Authorization": f"Bearer {hs256_jwt(env_value(env[0]), env_value(env[1]))}"}
    raise ValueError(f"unknown auth scheme {scheme!r}")
