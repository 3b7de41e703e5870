"""Each provider's documented protocol as a real loopback server, with scripted failures.

A fake checks what Paddock sends (path, method, auth, version header, body fields and types)
and records every problem in `problems`; it answers in the provider's own shapes.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from http_support import make_clip

TOKEN = "test-secret"
KLING_AK, KLING_SK = "ak-test", "sk-test"
KLING_KEY = "kling-single-key"
ENV = {
    "fal": {"FAL_KEY": TOKEN},
    "replicate": {"REPLICATE_API_TOKEN": TOKEN},
    "runway": {"RUNWAYML_API_SECRET": TOKEN},
    "luma": {"LUMAAI_API_KEY": TOKEN},
    "google": {"GEMINI_API_KEY": TOKEN},
    "openai": {"OPENAI_API_KEY": TOKEN},
    "byteplus": {"ARK_API_KEY": TOKEN},
    "kling": {"KLING_ACCESS_KEY": KLING_AK, "KLING_SECRET_KEY": KLING_SK},
}
TARGET = {
    "fal": "fal-ai/kling-video/v2.1/standard/text-to-video",
    "replicate": "bytedance/seedance-1-pro",
    "runway": "gen4.5",
    "luma": "ray-2",
    "google": "veo-3.1-generate-preview",
    "openai": "sora-2",
    "byteplus": "seedance-1-5-pro-251215",
    "kling": "kling-v2-6",
}
_CLIPS: dict[tuple[float, bool], bytes] = {}
_CLIP_LOCK = threading.Lock()


def clip_bytes(root: Path, seconds: float, sound: bool) -> bytes:
    """A real H.264 mp4 of that length (tiny frames), made once per length and sound."""
    with _CLIP_LOCK:
        key = (round(seconds, 2), sound)
        if key not in _CLIPS:
            path = make_clip(root / f"clip-{key[0]}-{int(sound)}.mp4", 64, 36, seconds, 8, sound)
            _CLIPS[key] = path.read_bytes()
        return _CLIPS[key]


@dataclass
class Script:
    """Faults are consumed one per request; outcome is how every job ends."""

    submit_faults: list[str] = field(default_factory=list)  # 401 | 422 | moderation | 429
    status_faults: list[str] = field(default_factory=list)  # 429
    outcome: str = "ok"  # ok | failed | moderation | aborted (Replicate)
    result: str = "ok"  # ok | expired_once | expired_always
    polls_until_done: int = 2
    retry_after: str = "1"
    hold_s: float = 0.0  # how long a job stays running (concurrency tests)


def _err(message: str) -> dict:
    return {"error": {"message": message}}


class Fake:
    """Shared machinery; subclasses hold one provider's routes and shapes."""

    kind = ""
    unauthorized = (401, {"detail": "Unauthorized"})
    invalid = (422, {"detail": "invalid parameters"})
    moderation = (400, {"detail": "content moderation"})
    # content type and fields the real service takes for a form: None = anything (lenient)
    content_type = "application/json"

    def __init__(self, root: Path, script: Script | None = None) -> None:
        self.root, self.script = root, script or Script()
        self.lock = threading.Lock()
        self.jobs: dict[str, dict] = {}
        self.problems: list[str] = []
        self.refused: list[str] = []  # why submits were refused as the real service would
        self.submits = self.downloads = self.running = self.max_running = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Fake:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def spec(self, target: str | None = None, **options) -> str:
        opts = {
            "base_url": self.url,
            "poll_interval_s": 0.02,
            "backoff_s": 0.01,
            "backoff_max_s": 0.05,
            "timeout_s": 5,
            "job_timeout_s": 20,
            **options,
        }
        query = "&".join(f"{k}={v}" for k, v in opts.items())
        return f"{self.kind}:{target or TARGET[self.kind]}?{query}"

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.problems.append(what)

    # ---- what a subclass defines
    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == f"Bearer {TOKEN}"

    def route(self, method: str, path: str) -> tuple[str, str | None]:
        raise NotImplementedError  # -> (submit | status | result | file | content, job id)

    def check_submit(self, path: str, headers, body: dict) -> None: ...

    def form(self, path: str, body: dict) -> set[str] | None:
        """The fields the real service takes at this path for this body (None: not strict)."""
        return None

    def refusal(self, path: str, headers, body: dict) -> str | None:
        """Why the real service would refuse this submit (400), or None. A strict form refuses
        a field it does not know, and every provider refuses a body of the wrong type."""
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != self.content_type:
            return f"Content-Type must be {self.content_type}, not {ctype or 'none'}"
        allowed = self.form(path, body)
        unknown = sorted(set(body) - allowed) if allowed is not None else []
        return f"unrecognized field(s) {', '.join(unknown)}" if unknown else None

    def rejected(self, message: str) -> tuple[int, dict]:
        return 400, _err(message)

    def duration(self, body: dict) -> float:
        return float(str(body["duration"]).rstrip("s"))

    def submitted(self, job: dict) -> dict:
        return {"id": job["id"]}

    def status(self, job: dict, state: str) -> dict:  # state: running | done | failed | refused
        raise NotImplementedError

    def file_url(self, job: dict) -> str:
        job["url"] += 1
        return f"{self.url}/files/{job['id']}/{job['url']}.mp4"

    def sound(self, body: dict) -> bool:
        return True

    # ---- shared request handling
    check_path: str | None = None  # the cheapest authenticated GET the provider documents

    def handle(self, h, method: str, path: str, body: dict | None) -> None:
        if method == "GET" and path == self.check_path:
            if not self.authorized(h.headers):
                return h.reply(*self.unauthorized)
            return h.reply(200, {"checked": True})
        what, job_id = self.route(method, path)
        if what == "file":
            return self.serve_file(h, job_id)
        if not self.authorized(h.headers):
            return h.reply(*self.unauthorized)
        if what == "submit":
            return self.handle_submit(h, path, body or {})
        job = self.jobs.get(job_id or "")
        if job is None:
            return h.reply(404, _err(f"no such job {job_id}"))
        if what == "content":
            return self.serve_file(h, job_id)
        with self.lock:
            fault = self.script.status_faults.pop(0) if self.script.status_faults else None
        if fault == "429":
            return h.reply(429, _err("rate limited"), {"Retry-After": self.script.retry_after})
        job["polls"] += 1
        waited = time.monotonic() - job["t0"] >= self.script.hold_s
        if job["polls"] < self.script.polls_until_done or not waited:
            return h.reply(200, self.status(job, "running"))
        state = {"ok": "done", "failed": "failed", "moderation": "refused", "aborted": "aborted"}[
            self.script.outcome
        ]
        if what == "result" or state != "done" or not self.result_route:
            self.finish(job)
        return h.reply(200, self.status(job, state) if what == "status" else self.result(job))

    result_route = False

    def result(self, job: dict) -> dict:
        return {}

    def finish(self, job: dict) -> None:
        with self.lock:
            if not job.get("finished"):
                job["finished"] = True
                self.running -= 1

    def handle_submit(self, h, path: str, body: dict) -> None:
        with self.lock:
            self.submits += 1
            fault = self.script.submit_faults.pop(0) if self.script.submit_faults else None
        if fault == "401":
            return h.reply(*self.unauthorized)
        if fault == "422":
            return h.reply(*self.invalid)
        if fault == "moderation":
            return h.reply(*self.moderation)
        if fault == "429":
            return h.reply(429, _err("rate limited"), {"Retry-After": self.script.retry_after})
        refused = self.refusal(path, h.headers, body)
        if refused:
            self.refused.append(refused)
            return h.reply(*self.rejected(refused))
        self.check_submit(path, h.headers, body)
        self.expect(h.headers.get("Idempotency-Key", "").startswith("paddock-"), "no idem key")
        job = {
            "id": uuid.uuid4().hex[:12],
            "path": path,
            "body": body,
            "polls": 0,
            "url": 0,
            "t0": time.monotonic(),
        }
        with self.lock:
            self.jobs[job["id"]] = job
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        return h.reply(200, self.submitted(job))

    def serve_file(self, h, job_id: str | None) -> None:
        job = self.jobs.get((job_id or "").split("/")[0])
        with self.lock:
            self.downloads += 1
            n = self.downloads
        expired = self.script.result == "expired_always" or (
            self.script.result == "expired_once" and n == 1
        )
        if job is None or expired:
            return h.raw(
                403,
                b"<Error><Code>AccessDenied</Code>Request has expired</Error>",
                "application/xml",
            )
        seconds = self.duration(job["body"])
        return h.raw(200, clip_bytes(self.root, seconds, self.sound(job["body"])), "video/mp4")


def _handler(api: Fake):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def raw(self, code: int, data: bytes, ctype: str, headers: dict | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def reply(self, code: int, payload, headers: dict | None = None) -> None:
            self.raw(code, json.dumps(payload).encode(), "application/json", headers)

        def _body(self) -> dict | None:
            length = int(self.headers.get("Content-Length") or 0)
            if not length:
                return None
            data = self.rfile.read(length)
            ctype = self.headers.get("Content-Type") or ""
            if ctype.startswith("multipart/form-data"):
                return multipart_fields(ctype, data)
            try:
                return json.loads(data)
            except json.JSONDecodeError:
                api.problems.append("body is not JSON")
                return {}

        def do_GET(self) -> None:
            api.handle(self, "GET", self.path, None)

        def do_POST(self) -> None:
            api.handle(self, "POST", self.path, self._body())

    return Handler


def multipart_fields(ctype: str, data: bytes) -> dict:
    """A multipart/form-data body as {name: text} with {name: {filename, content_type, data}}
    for file parts (read with the standard library's MIME parser)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + data)
    fields: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            fields[name] = {
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "data": payload,
            }
        else:
            fields[name] = payload.decode()
    return fields


def fake(kind: str, root: Path, script: Script | None = None) -> Fake:
    from provider_fakes import FAKES
    from provider_kling_fake import FAKES as KLING_FAKES
    from provider_task_fakes import FAKES as TASK_FAKES

    return {**FAKES, **TASK_FAKES, **KLING_FAKES}[kind](root, script)
