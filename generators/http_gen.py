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
    cost_field = "usage.cost_usd"            # optional: where the done answer says what it cost

A template string that is exactly one placeholder ("{seed}") keeps the value's type; others are
formatted as text. Placeholders: prompt, seed, duration_s, fps, width, height, resolution, aspect,
audio, idempotency_key, image_data_uri (the i2v image, base64). Every submit carries an
idempotency key derived from the API and the request, so a submit retried after a lost answer
(or a whole run resumed) finds the job already made instead of paying for a second one.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from pydantic import Field, field_validator

from generators.base import GenerationRequest
from generators.config_file import (
    CONFIG_ENV,
    check_section,
    paddock_toml_path,
    read_toml,
    table,
)
from generators.errors import GenerationError, InputError
from generators.http_jobs import (
    HttpJobGenerator,
    JobRun,
    JobSettings,
    field_at,
    placeholders,
    render_template,
    snippet,
)

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


class HttpApiConfig(JobSettings):
    """One `[http.NAME]` section: how to talk to a queue-style video API."""

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
    check_duration: bool = True
    check_size: bool = True
    cost_field: str | None = None  # dotted path of the job's cost in US dollars, if it says

    @field_validator("request")
    @classmethod
    def _known_placeholders(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in placeholders(value):
            if name not in PLACEHOLDERS:
                raise ValueError(
                    f"unknown placeholder {{{name}}} in request; known: {', '.join(PLACEHOLDERS)}"
                )
        return value


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


class HttpGenerator(HttpJobGenerator):
    """A queue-style remote API behind the Generator protocol."""

    config: HttpApiConfig

    def __init__(self, name: str, config: HttpApiConfig) -> None:
        super().__init__(f"http:{name}", config)
        self.api = name

    def categories(self) -> frozenset[str]:
        """An API whose request template sends no image takes text-to-video prompts only."""
        if "image_data_uri" in placeholders(self.config.request):
            return frozenset({"t2v", "i2v"})
        return frozenset({"t2v"})

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

    def expected(self, request, prepared):
        return (
            request.duration_s if self.config.check_duration else None,
            request.size if self.config.check_size else None,
        )

    def run_job(self, client, request, prepared, key: str, deadline: float) -> JobRun:
        job_id = self.submit(client, request, key, deadline)
        answers: dict = {}
        url = self.poll(client, job_id, deadline, answers)
        return JobRun(job_id, url, lambda: self.poll(client, job_id, deadline, answers), answers)

    def finish(self, result, job: JobRun):
        """The cost the done answer reports, where the section names its field."""
        if not self.config.cost_field:
            return result
        cost = field_at(job.answers.get("final"), self.config.cost_field)
        return replace(result, provenance={"job_id": job.job_id, "cost_usd": cost})

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
        if request.image and "image_data_uri" not in placeholders(self.config.request):
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
                f"{snippet(json.dumps(answer))}"
            )
        return str(job_id)

    def poll(self, client, job_id: str, deadline: float, answers: dict | None = None) -> str:
        """Wait for the job to finish; its result URL (the done answer kept in answers)."""
        url = self.config.endpoint + self.config.status_path.format(id=job_id)
        while True:
            answer = self._json_call(client, "GET", url, deadline, f"status of job {job_id}")
            status = field_at(answer, self.config.status_field)
            if status in self.config.done_values:
                if answers is not None:
                    answers["final"] = answer
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
                    f": {snippet(json.dumps(answer))}"
                )
            self._wait_to_poll(job_id, status, deadline)


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
