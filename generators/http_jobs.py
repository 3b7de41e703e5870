"""The HTTP job machinery every remote generator shares: retries, idempotency, polling, download.

A remote generator submits a job, waits for it and downloads its result. `HttpJobGenerator` does
the shared part: requests retried with exponential backoff (and a server's Retry-After), an
idempotency key per request, polling until the job timeout, a download that asks the job again
when a signed result URL has expired, and the checks on the clip that comes back. The `http:`
generator (http_gen.py) and every hosted provider (providers/engine.py) fill in how a job is
submitted and where its result is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from generators.base import GenerationRequest, GenerationResult
from generators.clipcheck import check_media, check_output, result_from_info
from generators.decode import ClipInfo
from generators.encode import strip_metadata_copy
from generators.errors import GenerationError, MediaError

_EXPIRED = (401, 403, 404, 410)  # a signed result URL past its time answers one of these
_VIDEO_TYPES = ("video/", "application/octet-stream", "binary/octet-stream")


class JobSettings(BaseModel):
    """Where an API lives and how long and how often to try it."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str
    idempotency_header: str = "Idempotency-Key"
    timeout_s: float = Field(30.0, gt=0)  # one HTTP request
    job_timeout_s: float = Field(900.0, gt=0)  # submit to downloaded clip
    poll_interval_s: float = Field(2.0, gt=0)
    retries: int = Field(4, ge=0, le=20)  # per request, after the first try
    backoff_s: float = Field(1.0, ge=0)  # first retry waits this, then doubles
    backoff_max_s: float = Field(30.0, ge=0)
    max_bytes: int = Field(512 * 1024 * 1024, gt=0)

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"endpoint {value!r} is not an http(s) URL")
        return value.rstrip("/")


@dataclass
class JobRun:
    """A submitted job: its id, its result URL, how to ask for a fresh URL, and the answers a
    generator keeps for the clip's provenance."""

    job_id: str
    url: str
    ask_again: Callable[[], str]
    answers: dict[str, Any] = field(default_factory=dict)


def placeholders(template: Any) -> set[str]:
    """The {name} placeholders a request template uses."""
    if isinstance(template, str):
        return set(re.findall(r"{(\w+)}", template))
    if isinstance(template, dict):
        return set().union(*(placeholders(v) for v in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(placeholders(v) for v in template)) if template else set()
    return set()


def render_template(template: Any, values: dict[str, Any]) -> Any:
    """Fill placeholders; a string that is exactly "{name}" becomes the value itself."""
    if isinstance(template, str):
        whole = re.fullmatch(r"{(\w+)}", template)
        if whole:
            return values[whole.group(1)]
        return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), template)
    if isinstance(template, dict):
        return {k: render_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, values) for v in template]
    return template


def encode_body(body: dict[str, Any], encoding: str = "json") -> dict[str, Any]:
    """The request arguments that carry a body: JSON, or multipart/form-data (RFC 7578) where
    a (file name, bytes, mime) value is a file part and anything else a text field. Multipart is
    built here rather than by httpx, which sends a form without files urlencoded."""
    if encoding == "json":
        return {"json": body}
    if encoding != "multipart":
        raise ValueError(f"unknown body encoding {encoding!r}")
    boundary = "paddock-" + secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in body.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
        if isinstance(value, tuple):
            filename, data, mime = value
            head += f'; filename="{filename}"\r\nContent-Type: {mime}'
        else:
            data = json.dumps(value) if isinstance(value, bool | dict | list) else str(value)
            data = data.encode()
        parts.append(head.encode() + b"\r\n\r\n" + data + b"\r\n")
    content = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {
        "content": content,
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    }


def field_at(payload: Any, path: str) -> Any:
    """The value at a dotted path ("output.0.url"); None when any step is missing."""
    node = payload
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
        if node is None:
            return None
    return node


def snippet(text: str, n: int = 120) -> str:
    """An answer's text on one line and cut short, to quote in an error."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "..."


def idempotency_key(name: str, request: GenerationRequest) -> str:
    """The same API and request always give the same key (the image by its content)."""
    image = ""
    if request.image:
        image = hashlib.sha256(Path(request.image).read_bytes()).hexdigest()
    fields = [
        name,
        request.prompt,
        request.seed,
        request.duration_s,
        request.resolution,
        request.aspect,
        request.fps,
        request.audio,
        image,
    ]
    return "paddock-" + hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def retry_after_s(value: str | None, cap_s: float = 300.0) -> float | None:
    """Seconds a Retry-After header asks to wait (delta-seconds or an HTTP date); None if absent
    or unreadable. Capped, so a hostile header cannot stall a run for hours."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap_s)


def download_result(
    name: str,
    job_id: str,
    url: str,
    download: Callable[[str], object | None],
    ask_again: Callable[[], str],
) -> None:
    """Download a job's result; a signed result URL can expire before it is fetched
    (``download`` then returns non-None), so the job is asked for a new one, up to three times."""
    for _ in range(3):
        if download(url) is None:
            return
        url = ask_again()
    raise GenerationError(f"{name}: the result URL of job {job_id} keeps answering as expired")


def checked_result(part: Path, name: str, job_id: str) -> ClipInfo:
    """The downloaded result's media facts; GenerationError when it is not a playable clip."""
    try:
        return check_media(part, label=f"{name} result of job {job_id}")
    except MediaError as exc:
        raise GenerationError(str(exc)) from None


class HttpJobGenerator:
    """A remote job API behind the Generator protocol. Subclasses say how a job is submitted
    and waited for (`run_job`); `generate` does the rest."""

    def __init__(self, name: str, settings: JobSettings) -> None:
        self.name = name
        self.api = name  # what the idempotency key is derived from
        self.config = settings

    # ------------------------------------------------------------------ what a subclass fills in
    def prepare(self, request: GenerationRequest) -> Any:
        """What a job needs from the request, checked before anything is sent."""
        return None

    def run_job(
        self, client, request: GenerationRequest, prepared: Any, key: str, deadline: float
    ) -> JobRun:
        """Submit the job and wait until its result URL is known."""
        raise NotImplementedError

    def expected(
        self, request: GenerationRequest, prepared: Any
    ) -> tuple[float | None, tuple[int, int] | None]:
        """The duration and frame size the result must have (None: not checked)."""
        return request.duration_s, request.size

    def finish(self, result: GenerationResult, job: JobRun) -> GenerationResult:
        return result

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    @contextlib.contextmanager
    def _clients(self, deadline: float) -> Iterator[tuple[Any, Any]]:
        """The client that talks to the API and the one that downloads results."""
        import httpx

        timeout = httpx.Timeout(self.config.timeout_s)
        with httpx.Client(timeout=timeout, headers=self._headers(), follow_redirects=True) as c:
            yield c, c

    # ------------------------------------------------------------------ HTTP with retries
    def _sleep_before(self, attempt: int, deadline: float, at_least: float | None = None) -> None:
        """Back off before retry number attempt+1; a server's Retry-After (at_least) wins."""
        delay = min(self.config.backoff_s * (2**attempt), self.config.backoff_max_s)
        if at_least is not None:
            delay = at_least
        if time.monotonic() + delay > deadline:
            raise GenerationError(
                f"{self.name}: gave up after {self.config.job_timeout_s:g} s (job timeout)"
            )
        time.sleep(delay)

    def _json_call(self, client, method: str, url: str, deadline: float, what: str, **kw) -> Any:
        """One API call answered with JSON, retried with exponential backoff on transient faults:
        connection errors, timeouts, 429 and 5xx answers, and bodies that are not JSON."""
        import httpx

        last = ""
        retry_after: float | None = None
        for attempt in range(self.config.retries + 1):
            if attempt:
                self._sleep_before(attempt - 1, deadline, retry_after)
            retry_after = None
            try:
                response = client.request(method, url, **kw)
            except httpx.TimeoutException:
                last = f"no answer within {self.config.timeout_s:g} s"
                continue
            except httpx.TransportError as exc:
                last = f"connection failed ({type(exc).__name__})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                if response.status_code == 429:
                    retry_after = retry_after_s(response.headers.get("retry-after"))
                continue
            if response.status_code >= 400:
                raise self._refused(response, what)
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                last = f"malformed JSON ({snippet(response.text)!r})"
                continue
        raise GenerationError(
            f"{self.name}: {what} failed after {self.config.retries + 1} tries: {last}"
        )

    def _refused(self, response, what: str) -> GenerationError:
        """The error for a 4xx answer other than 429 (a provider names its key, its message)."""
        return GenerationError(
            f"{self.name}: {what} refused with HTTP {response.status_code}: "
            f"{snippet(response.text)}"
        )

    def _wait_to_poll(self, job_id: str, status: Any, deadline: float) -> None:
        """Sleep until the next status poll, or fail the job if that would pass its deadline."""
        if time.monotonic() + self.config.poll_interval_s > deadline:
            raise GenerationError(
                f"{self.name}: job {job_id} still {status!r} after "
                f"{self.config.job_timeout_s:g} s (job timeout)"
            )
        time.sleep(self.config.poll_interval_s)

    def download(self, client, url: str, dest: Path, deadline: float) -> str | None:
        """Fetch the result into dest; None on success, 'expired' when the URL is no longer good."""
        import httpx

        last = ""
        for attempt in range(self.config.retries + 1):
            if attempt:
                self._sleep_before(attempt - 1, deadline)
            try:
                with client.stream("GET", url) as response:
                    if response.status_code in _EXPIRED:
                        return "expired"
                    if response.status_code == 429 or response.status_code >= 500:
                        last = f"HTTP {response.status_code}"
                        continue
                    if response.status_code >= 400:
                        raise GenerationError(
                            f"{self.name}: download refused with HTTP {response.status_code}"
                        )
                    ctype = response.headers.get("content-type", "").split(";")[0].strip()
                    if ctype and not ctype.lower().startswith(_VIDEO_TYPES):
                        raise GenerationError(
                            f"{self.name}: the result at {url} is {ctype!r}, not a video"
                        )
                    self._save(response, dest)
                    return None
            except httpx.TimeoutException:
                last = f"no data within {self.config.timeout_s:g} s"
            except httpx.TransportError as exc:
                last = f"connection failed ({type(exc).__name__})"
        raise GenerationError(
            f"{self.name}: download failed after {self.config.retries + 1} tries: {last}"
        )

    def _save(self, response, dest: Path) -> None:
        size = 0
        with open(dest, "wb") as fh:
            for block in response.iter_bytes(1 << 16):
                size += len(block)
                if size > self.config.max_bytes:
                    raise GenerationError(
                        f"{self.name}: the result is larger than {self.config.max_bytes} bytes"
                    )
                fh.write(block)

    # ------------------------------------------------------------------ one clip
    def generate(self, request: GenerationRequest, out_path: str) -> GenerationResult:
        start = time.perf_counter()
        deadline = time.monotonic() + self.config.job_timeout_s
        prepared = self.prepare(request)
        key = idempotency_key(self.api, request)
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_name(f".{out.name}.download")
        try:
            with self._clients(deadline) as (client, fetch):
                job = self.run_job(client, request, prepared, key, deadline)
                download_result(
                    self.name,
                    job.job_id,
                    job.url,
                    lambda url: self.download(fetch, url, part, deadline),
                    job.ask_again,
                )
            info = checked_result(part, self.name, job.job_id)
            duration, size = self.expected(request, prepared)
            check_output(info, duration, size, f"{self.name} (job {job.job_id})")
            strip_metadata_copy(part, out)
        finally:
            part.unlink(missing_ok=True)
        return self.finish(result_from_info(out, info, time.perf_counter() - start), job)
