"""`http:<name>`: queue-style video APIs (submit, poll, download) described in paddock.toml.

    [http.acme]
    endpoint = "https://api.example.com/v1"
    submit_path = "/videos"                  # POST, JSON body from `request`
    status_path = "/videos/{id}"             # GET, {id} from the submit answer's `id_field`
    request = { prompt = "{prompt}", seed = "{seed}", seconds = "{duration_s}" }
    id_field = "id"
    status_field = "status"
    done_values = ["succeeded"]
    failed_values = ["failed", "cancelled"]
    result_field = "output.url"              # dotted path; the URL may be relative to endpoint
    error_field = "error.message"
    auth_env = "ACME_API_KEY"                # sent as `Authorization: Bearer $ACME_API_KEY`

A template string that is exactly one placeholder ("{seed}") keeps the value's type; others are
formatted as text. Placeholders: prompt, seed, duration_s, fps, width, height, resolution, aspect,
audio, idempotency_key, image_data_uri (the i2v image, base64). Every submit carries an
idempotency key derived from the API and the request, so a submit retried after a lost answer
(or a whole run resumed) finds the job already made instead of paying for a second one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, Field, field_validator

from generators.base import GenerationRequest, GenerationResult
from generators.clipcheck import check_media, check_output, result_from_info
from generators.config_file import CONFIG_ENV, check_section, paddock_toml_path, read_toml, table
from generators.decode import ClipInfo
from generators.encode import strip_metadata_copy
from generators.errors import GenerationError, InputError, MediaError

PLACEHOLDERS = (
    "prompt",
    "seed",
    "duration_s",
    "fps",
    "width",
    "height",
    "resolution",
    "aspect",
    "audio",
    "idempotency_key",
    "image_data_uri",
)
_EXPIRED = (401, 403, 404, 410)  # a signed result URL past its time answers one of these
_VIDEO_TYPES = ("video/", "application/octet-stream", "binary/octet-stream")


class HttpApiConfig(BaseModel):
    """One `[http.NAME]` section: how to talk to a queue-style video API."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str
    submit_path: str = "/jobs"
    status_path: str = "/jobs/{id}"
    request: dict[str, Any] = Field(default_factory=lambda: {"prompt": "{prompt}"})
    id_field: str = "id"
    status_field: str = "status"
    done_values: list[str] = Field(default_factory=lambda: ["succeeded", "completed", "done"])
    failed_values: list[str] = Field(default_factory=lambda: ["failed", "error", "cancelled"])
    result_field: str = "result.url"
    error_field: str = "error"
    auth_env: str | None = None
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    idempotency_header: str = "Idempotency-Key"
    timeout_s: float = Field(30.0, gt=0)  # one HTTP request
    job_timeout_s: float = Field(900.0, gt=0)  # submit to downloaded clip
    poll_interval_s: float = Field(2.0, gt=0)
    retries: int = Field(4, ge=0, le=20)  # per request, after the first try
    backoff_s: float = Field(1.0, ge=0)  # first retry waits this, then doubles
    backoff_max_s: float = Field(30.0, ge=0)
    max_bytes: int = Field(512 * 1024 * 1024, gt=0)
    check_duration: bool = True
    check_size: bool = True

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"endpoint {value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("request")
    @classmethod
    def _known_placeholders(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in _placeholders(value):
            if name not in PLACEHOLDERS:
                raise ValueError(
                    f"unknown placeholder {{{name}}} in request; known: {', '.join(PLACEHOLDERS)}"
                )
        return value


def _placeholders(template: Any) -> set[str]:
    if isinstance(template, str):
        return set(re.findall(r"{(\w+)}", template))
    if isinstance(template, dict):
        return set().union(*(_placeholders(v) for v in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(_placeholders(v) for v in template)) if template else set()
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


def config_path(params: dict[str, str]) -> Path:
    return Path(params["config"]) if params.get("config") else paddock_toml_path()


def load_api_config(name: str, path: str | os.PathLike) -> HttpApiConfig:
    """The `[http.NAME]` section of a paddock.toml, validated; InputError naming what is wrong."""
    path = Path(path)
    data = read_toml(path, f"http:{name}: no config file {path} (set {CONFIG_ENV} or ?config=PATH)")
    section = table(data, path, f"http.{name}")
    if section is None:
        known = ", ".join(sorted(table(data, path, "http", default={}))) or "none"
        raise InputError(f"{path}: no [http.{name}] section (known: {known})")
    return parse_api_config(name, section, path)


def parse_api_config(name: str, section: dict, path: str | os.PathLike) -> HttpApiConfig:
    """One `[http.NAME]` section checked by its schema; errors name the file, section and key."""
    return check_section(path, f"http.{name}", HttpApiConfig.model_validate, section)


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


class HttpGenerator:
    """A queue-style remote API behind the Generator protocol."""

    def __init__(self, name: str, config: HttpApiConfig) -> None:
        self.name = f"http:{name}"
        self.api = name
        self.config = config

    def categories(self) -> frozenset[str]:
        """An API whose request template sends no image takes text-to-video prompts only."""
        if "image_data_uri" in _placeholders(self.config.request):
            return frozenset({"t2v", "i2v"})
        return frozenset({"t2v"})

    # ------------------------------------------------------------------ HTTP with retries
    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.config.auth_env:
            secret = os.environ.get(self.config.auth_env)
            if not secret:
                raise GenerationError(
                    f"{self.name}: environment variable {self.config.auth_env} (the API key) is "
                    "not set"
                )
            scheme = f"{self.config.auth_scheme} " if self.config.auth_scheme else ""
            headers[self.config.auth_header] = scheme + secret
        return headers

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
                last = f"malformed JSON ({_snippet(response.text)!r})"
                continue
        raise GenerationError(
            f"{self.name}: {what} failed after {self.config.retries + 1} tries: {last}"
        )

    def _refused(self, response, what: str) -> GenerationError:
        """The error for a 4xx answer other than 429 (a provider names its key, its message)."""
        return GenerationError(
            f"{self.name}: {what} refused with HTTP {response.status_code}: "
            f"{_snippet(response.text)}"
        )

    # ------------------------------------------------------------------ the protocol
    def submit(self, client, request: GenerationRequest, key: str, deadline: float) -> str:
        width, height = request.size
        values = {
            "prompt": request.prompt,
            "seed": int(request.seed),
            "duration_s": request.duration_s,
            "fps": request.fps,
            "width": width,
            "height": height,
            "resolution": request.resolution,
            "aspect": request.aspect,
            "audio": request.audio,
            "idempotency_key": key,
            "image_data_uri": _data_uri(request.image) if request.image else None,
        }
        if request.image and "image_data_uri" not in _placeholders(self.config.request):
            raise GenerationError(
                f"{self.name}: the request template sends no image ({{image_data_uri}}), so "
                "this API cannot take an image-to-video prompt"
            )
        body = render_template(self.config.request, values)
        headers = {self.config.idempotency_header: key} if self.config.idempotency_header else {}
        answer = self._json_call(
            client,
            "POST",
            self.config.endpoint + self.config.submit_path,
            deadline,
            "submit",
            json=body,
            headers=headers,
        )
        job_id = field_at(answer, self.config.id_field)
        if job_id is None or isinstance(job_id, dict | list):
            raise GenerationError(
                f"{self.name}: the submit answer has no job id at {self.config.id_field!r}: "
                f"{_snippet(json.dumps(answer))}"
            )
        return str(job_id)

    def poll(self, client, job_id: str, deadline: float) -> str:
        """Wait for the job to finish; its result URL."""
        url = self.config.endpoint + self.config.status_path.format(id=job_id)
        while True:
            answer = self._json_call(client, "GET", url, deadline, f"status of job {job_id}")
            status = field_at(answer, self.config.status_field)
            if status in self.config.done_values:
                result = field_at(answer, self.config.result_field)
                if not isinstance(result, str) or not result:
                    raise GenerationError(
                        f"{self.name}: job {job_id} finished without a result URL at "
                        f"{self.config.result_field!r}"
                    )
                return urljoin(self.config.endpoint + "/", result)
            if status in self.config.failed_values:
                reason = field_at(answer, self.config.error_field) or "no reason given"
                raise GenerationError(f"{self.name}: job {job_id} {status}: {reason}")
            if status is None:
                raise GenerationError(
                    f"{self.name}: status answer for job {job_id} has no {self.config.status_field!r}"
                    f": {_snippet(json.dumps(answer))}"
                )
            self._wait_to_poll(job_id, status, deadline)

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
                    size = 0
                    with open(dest, "wb") as fh:
                        for block in response.iter_bytes(1 << 16):
                            size += len(block)
                            if size > self.config.max_bytes:
                                raise GenerationError(
                                    f"{self.name}: the result is larger than "
                                    f"{self.config.max_bytes} bytes"
                                )
                            fh.write(block)
                    return None
            except httpx.TimeoutException:
                last = f"no data within {self.config.timeout_s:g} s"
            except httpx.TransportError as exc:
                last = f"connection failed ({type(exc).__name__})"
        raise GenerationError(
            f"{self.name}: download failed after {self.config.retries + 1} tries: {last}"
        )

    def generate(self, request: GenerationRequest, out_path: str) -> GenerationResult:
        import httpx

        start = time.perf_counter()
        deadline = time.monotonic() + self.config.job_timeout_s
        key = idempotency_key(self.api, request)
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_name(f".{out.name}.download")
        timeout = httpx.Timeout(self.config.timeout_s)
        try:
            with httpx.Client(
                timeout=timeout, headers=self._headers(), follow_redirects=True
            ) as client:
                job_id = self.submit(client, request, key, deadline)
                url = self.poll(client, job_id, deadline)
                download_result(
                    self.name,
                    job_id,
                    url,
                    lambda url: self.download(client, url, part, deadline),
                    lambda: self.poll(client, job_id, deadline),
                )
            info = checked_result(part, self.name, job_id)
            check_output(
                info,
                request.duration_s if self.config.check_duration else None,
                request.size if self.config.check_size else None,
                f"{self.name} (job {job_id})",
            )
            strip_metadata_copy(part, out)
        finally:
            part.unlink(missing_ok=True)
        return result_from_info(out, info, time.perf_counter() - start)


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


def _snippet(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "..."


def _data_uri(path: str) -> str:
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def build(target: str, params: dict[str, str]) -> HttpGenerator:
    """The `http:` factory: `http:NAME?config=PATH` reads [http.NAME] from that paddock.toml
    ($PADDOCK_CONFIG or ./paddock.toml when no config is given)."""
    if not target:
        raise InputError("http: needs the name of an [http.NAME] section, e.g. http:acme")
    unknown = sorted(set(params) - {"config"})
    if unknown:
        raise InputError(
            f"http:{target}: unknown option(s) {', '.join(unknown)}; "
            "the API is configured in paddock.toml"
        )
    return HttpGenerator(target, load_api_config(target, config_path(params)))


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
