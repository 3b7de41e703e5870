"""The one engine behind every provider kind: a Protocol (data) run by the HTTP job machinery.

A provider spec is `<kind>:<target>?option=value&...`. Options every provider takes:
base_url (a proxy, a regional endpoint, a test server), max_concurrent (jobs in flight at this
provider from this machine), fit (round: a duration, aspect or resolution the endpoint cannot
make becomes the nearest it can, recorded in the clip's provenance; refuse: the clip fails naming
the allowed values), timeout_s, job_timeout_s, poll_interval_s, retries, backoff_s,
backoff_max_s, cost_field (where an endpoint such as a reseller reports what the job cost, in
US dollars), and extra.NAME=VALUE (a field sent as it is, dotted names nest; a JSON value is
sent parsed) for what Paddock's request does not carry.
"""

from __future__ import annotations

import base64
import contextlib
import json
import mimetypes
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from generators.base import GenerationRequest, GenerationResult
from generators.errors import GenerationError, InputError, ModerationRefusal
from generators.http_jobs import (
    HttpJobGenerator,
    JobRun,
    JobSettings,
    encode_body,
    field_at,
    render_template,
    snippet,
)
from generators.providers.auth import auth_headers, missing_env
from generators.providers.options import extra_fields, merge, parse_options, prune, texts
from generators.providers.protocol import (
    Endpoint,
    Protocol,
    fit_aspect,
    fit_duration,
    fit_resolution,
    number,
)
from generators.providers.queue_time import QueueWatch
from generators.providers.slots import provider_slot


def build(protocol: Protocol, target: str, params: dict[str, str]) -> ProviderGenerator:
    """A generator for `<kind>:<target>`, checked now: the target's form, the options, the
    environment variables. Every problem is one InputError naming it."""
    name = f"{protocol.kind}:{target}"
    if not target:
        raise InputError(f"{protocol.kind}: needs a target of the form {protocol.target_help}")
    endpoint = protocol.resolve(target)
    options = parse_options(name, protocol, params)
    if protocol.retired and "base_url" not in params:
        raise InputError(f"{name}: {protocol.retired}")
    missing = missing_env(protocol.env, protocol.key_env)
    if missing:
        alone = f" (or {protocol.key_env} alone)" if protocol.key_env else ""
        raise InputError(
            f"{name}: environment variable {', '.join(missing)} ({protocol.title} credentials) "
            f"is not set{alone}"
        )
    return ProviderGenerator(protocol, target, endpoint, options, extra_fields(params))


class ProviderGenerator(HttpJobGenerator):
    """A hosted model behind the Generator protocol: the shared retries, idempotency key,
    expired-URL refetch and result checks, plus the provider's refusals, slots and provenance."""

    def __init__(
        self,
        protocol: Protocol,
        target: str,
        endpoint: Endpoint,
        options: dict[str, Any],
        extra: dict[str, Any],
    ) -> None:
        settings = JobSettings(
            endpoint=options["base_url"],
            timeout_s=options["timeout_s"],
            job_timeout_s=options["job_timeout_s"],
            poll_interval_s=options["poll_interval_s"],
            retries=options["retries"],
            backoff_s=options["backoff_s"],
            backoff_max_s=options["backoff_max_s"],
        )
        super().__init__(f"{protocol.kind}:{target}", settings)
        self.protocol, self.target, self.endpoint = protocol, target, endpoint
        self.options, self.extra = options, extra
        self._watches: dict[str, QueueWatch] = {}  # job id -> the statuses its polls found

    def categories(self) -> frozenset[str]:
        limits = self.endpoint.limits
        return frozenset(c for c, ok in (("t2v", limits.t2v), ("i2v", limits.i2v)) if ok)

    # ------------------------------------------------------------------ HTTP
    def _headers(self) -> dict[str, str]:
        try:
            auth = auth_headers(self.protocol.auth, self.protocol.env, self.protocol.key_env)
        except InputError as exc:
            raise GenerationError(f"{self.name}: {exc}") from None
        return {"Accept": "application/json", **self.protocol.headers, **auth}

    def _fresh_auth(self, request):
        """Credentials made for each request: a Kling JWT lives 30 minutes, a job can live longer."""
        p = self.protocol
        request.headers.update(auth_headers(p.auth, p.env, p.key_env))
        return request

    def _reason(self, payload: Any) -> str:
        found: list[str] = []
        for path in self.protocol.error_fields:
            found.extend(texts(field_at(payload, path)))
        return "; ".join(dict.fromkeys(t for t in found if t))

    def _is_moderation(self, reason: str) -> bool:
        words = reason.lower().replace("_", " ").replace(".", " ")
        return any(marker in words for marker in self.protocol.moderation_markers)

    def _refused(self, response, what: str) -> GenerationError:
        try:
            reason = self._reason(response.json()) or snippet(response.text)
        except ValueError:
            reason = snippet(response.text)
        code = response.status_code
        if code != 401 and self._is_moderation(reason):
            return ModerationRefusal(f"{self.name}: {what} refused on content grounds: {reason}")
        # Google answers a bad key with 400 API_KEY_INVALID rather than 401.
        if code in (401, 403) or "api key" in reason.lower():
            names = " / ".join(self.protocol.env_names)
            return GenerationError(
                f"{self.name}: {what} refused with HTTP {code}: the provider did not accept the "
                f"credentials in {names} ({reason})"
            )
        return GenerationError(f"{self.name}: {what} refused with HTTP {code}: {reason}")

    def _url(self, template: str, **ids: str) -> str:
        endpoint = self.endpoint
        app = "/".join(self.target.split("/")[:2])
        path = template.format(
            target=self.target, app=app, model=endpoint.model or self.target, **ids
        )
        return (
            urljoin(self.config.endpoint + "/", path)
            if "://" in path
            else (self.config.endpoint + path)
        )

    # ------------------------------------------------------------------ the request
    def fitted(self, request: GenerationRequest) -> tuple[dict[str, Any], dict[str, list]]:
        """The template values for this request, and what was rounded (asked, sent)."""
        limits = (request.image and self.endpoint.limits_i2v) or self.endpoint.limits
        rounding = self.options["fit"] == "round"
        if request.image and not limits.i2v:
            raise GenerationError(f"{self.name}: this endpoint takes no image-to-video prompt")
        if not request.image and not limits.t2v:
            raise GenerationError(f"{self.name}: this endpoint makes image-to-video clips only")
        try:
            duration = fit_duration(request.duration_s, limits, rounding)
            aspect, aspect_word = fit_aspect(request.aspect, limits, rounding)
            resolution, resolution_word = fit_resolution(request.resolution, limits, rounding)
        except GenerationError as exc:
            raise GenerationError(f"{self.name}: {exc}") from None
        adjusted = {
            key: [asked, sent]
            for key, asked, sent in (
                ("duration_s", request.duration_s, duration),
                ("aspect", request.aspect, aspect),
                ("resolution", request.resolution, resolution),
            )
            if asked != sent
        }
        if request.audio and self.endpoint.body_audio:
            form = (request.image and self.endpoint.form_i2v) or self.endpoint.body
            for key, value in self.endpoint.body_audio.items():
                if form.get(key) != value and key not in self.extra:
                    adjusted[key] = [form.get(key), value]
        image_b64 = mime = image_file = None
        if request.image:
            mime = mimetypes.guess_type(request.image)[0] or "image/png"
            data = Path(request.image).read_bytes()
            image_b64 = base64.b64encode(data).decode("ascii")
            image_file = (Path(request.image).name, data, mime)
        values = {
            "model": self.endpoint.model or self.target,
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "seed": int(request.seed),
            "duration": number(duration),
            "duration_str": f"{number(duration)}",
            "duration_s_str": f"{number(duration)}s",
            "aspect": aspect_word,
            "resolution": resolution_word,
            "fps": request.fps,
            "audio": bool(request.audio),
            "audio_onoff": "on" if request.audio else "off",
            "image_data_uri": f"data:{mime};base64,{image_b64}" if image_b64 else None,
            "image_base64": image_b64,
            "image_mime": mime,
            "image_file": image_file,
            "_duration": duration,
        }
        return values, adjusted

    def body(self, values: dict[str, Any], image: bool) -> dict[str, Any]:
        endpoint = self.endpoint
        template = (image and endpoint.form_i2v) or endpoint.body
        if image and endpoint.body_i2v:
            template = merge(template, endpoint.body_i2v)
        if values.get("audio") and endpoint.body_audio:
            template = merge(template, endpoint.body_audio)
        return merge(prune(render_template(template, values)), self.extra)

    def submit_job(self, client, values, image: bool, key: str, deadline: float):
        path = (image and self.endpoint.submit_path_i2v) or self.endpoint.submit_path
        answer = self._json_call(
            client,
            "POST",
            self._url(path),
            deadline,
            "submit",
            **self._encoded(self.body(values, image), {self.config.idempotency_header: key}),
        )
        job_id = field_at(answer, self.protocol.id_field)
        if job_id is None or isinstance(job_id, dict | list):
            raise GenerationError(
                f"{self.name}: the submit answer has no job id at {self.protocol.id_field!r}: "
                f"{snippet(json.dumps(answer))}"
            )
        return str(job_id), answer

    def _encoded(self, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """The body as the provider takes it (JSON or multipart form), with these headers."""
        kw = encode_body(body, self.protocol.body_encoding)
        kw["headers"] = {**headers, **kw.get("headers", {})}
        return kw

    def _named_url(self, submitted: Any, name: str | None) -> str | None:
        """A URL the submit answer names, moved under base_url (a proxy or test server)."""
        from urllib.parse import urlsplit

        value = field_at(submitted, name) if name else None
        if not isinstance(value, str) or not value:
            return None
        parts = urlsplit(value)
        return self.config.endpoint + parts.path + (f"?{parts.query}" if parts.query else "")

    def wait_result(self, client, job_id: str, image: bool, deadline: float, submitted=None):
        """Poll until the job is done; (video URL, the answers read). Failures and content
        refusals raise, naming the provider's reason."""
        p = self.protocol
        path = (image and self.endpoint.status_path_i2v) or self.endpoint.status_path
        url = self._named_url(submitted, p.status_url_field) or self._url(path, id=job_id)
        while True:
            answer = self._json_call(client, "GET", url, deadline, f"status of job {job_id}")
            status = field_at(answer, p.status_field)
            if job_id in self._watches:
                self._watches[job_id].saw(status)
            failed = status in p.failed_values or (
                status in p.done_values and any(field_at(answer, f) for f in p.failed_if)
            )
            if failed:
                reason = self._reason(answer) or "no reason given"
                if status in p.status_reasons:  # a status with a meaning of its own
                    reason = f"{status} ({p.status_reasons[status]})" + (
                        f": {reason}" if reason != "no reason given" else ""
                    )
                if self._is_moderation(reason):
                    raise ModerationRefusal(f"{self.name}: job {job_id} refused: {reason}")
                raise GenerationError(f"{self.name}: job {job_id} failed: {reason}")
            if status in p.done_values:
                return self._result_url(client, job_id, answer, deadline, submitted)
            if status is None and p.status_field not in ("done",):
                raise GenerationError(
                    f"{self.name}: status answer for job {job_id} has no {p.status_field!r}: "
                    f"{snippet(json.dumps(answer))}"
                )
            self._wait_to_poll(job_id, status, deadline)

    def _result_url(self, client, job_id: str, answer: Any, deadline: float, submitted=None):
        p = self.protocol
        for path in p.moderation_fields:
            filtered = field_at(answer, path)
            if filtered:
                reason = "; ".join(texts(filtered)) or "filtered"
                raise ModerationRefusal(f"{self.name}: job {job_id} refused: {reason}")
        answers = [answer]
        if p.result_path:
            url = self._named_url(submitted, p.result_url_field)
            url = url or self._url(p.result_path, id=job_id)
            answer = self._json_call(client, "GET", url, deadline, "result")
            answers.append(answer)
        if p.download_path:
            return self._url(p.download_path, id=job_id), answers
        result = field_at(answer, p.result_field)
        if isinstance(result, list):
            result = result[0] if result else None
        if not isinstance(result, str) or not result:
            raise GenerationError(
                f"{self.name}: job {job_id} finished without a video URL at {p.result_field!r}"
            )
        return urljoin(self.config.endpoint + "/", result), answers

    # ------------------------------------------------------------------ one clip
    def prepare(self, request: GenerationRequest) -> tuple[dict[str, Any], dict[str, list]]:
        return self.fitted(request)

    def expected(self, request, prepared):
        values, _ = prepared
        return values["_duration"], None

    @contextlib.contextmanager
    def _clients(self, deadline: float) -> Iterator[tuple[Any, Any]]:
        import httpx

        timeout = httpx.Timeout(self.config.timeout_s)
        try:
            with (
                provider_slot(self.protocol.kind, self.options["max_concurrent"], deadline),
                httpx.Client(
                    timeout=timeout,
                    headers=self._headers(),
                    auth=self._fresh_auth,
                    follow_redirects=True,
                ) as api,
                httpx.Client(timeout=timeout, follow_redirects=True) as bare,
            ):
                # Signed storage URLs refuse a second credential: only the provider's own
                # download route gets the key.
                p = self.protocol
                yield api, (api if (p.download_path or p.download_auth) else bare)
        except TimeoutError as exc:
            raise GenerationError(f"{self.name}: {exc} until the job timeout") from None

    def run_job(self, client, request, prepared, key: str, deadline: float) -> JobRun:
        values, adjusted = prepared
        image = bool(request.image)
        watch = QueueWatch(self.protocol.queued_values)
        job_id, submitted = self.submit_job(client, values, image, key, deadline)
        self._watches[job_id] = watch
        url, final = self.wait_result(client, job_id, image, deadline, submitted)
        job = JobRun(job_id, url, lambda: "", {"submitted": submitted, "final": final})
        job.answers["queue_s"] = watch.seconds([*reversed(final), submitted])

        def ask_again() -> str:
            fresh, job.answers["final"] = self.wait_result(
                client, job_id, image, deadline, submitted
            )
            return fresh

        job.ask_again = ask_again
        job.answers["adjusted"] = adjusted
        return job

    def finish(self, result: GenerationResult, job: JobRun) -> GenerationResult:
        answers = job.answers
        provenance = self._provenance(
            job.job_id, answers["submitted"], answers["final"], answers["adjusted"]
        )
        if answers.get("queue_s") is not None:
            provenance["queue_s"] = answers["queue_s"]
        return replace(result, provenance=provenance)

    def _provenance(self, job_id: str, submitted: Any, finals: list, adjusted: dict) -> dict:
        """Request id and reported cost from the answers, newest first; what was rounded."""
        p = self.protocol
        answers = [*reversed(finals), submitted]
        request_id = next(
            (v for a in answers if (v := field_at(a, p.request_id_field)) is not None), None
        )
        record: dict[str, Any] = {
            "provider": p.kind,
            "endpoint": self.target,
            "job_id": job_id,
            "request_id": str(request_id or job_id),
        }
        cost_fields = dict(p.cost_fields)
        if self.options.get("cost_field"):
            cost_fields["cost_usd"] = self.options["cost_field"]  # read as US dollars
        for name, path in cost_fields.items():
            value = next((v for a in answers if (v := field_at(a, path)) is not None), None)
            if value is not None:
                record[name] = value
        if adjusted:
            record["adjusted"] = adjusted
        return record
