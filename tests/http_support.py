"""A real queue-style video API on loopback (submit, poll, download) with scripted failures."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from generators.encode import encode_clip

TOKEN = "test-secret"


def make_clip(path: Path, width: int, height: int, seconds: float, fps: int, sound: bool) -> Path:
    """A real H.264 clip: a moving bar over a flat colour, and a tone when sound is asked for."""
    n = max(1, int(round(seconds * fps)))
    frames = []
    for i in range(n):
        frame = np.full((height, width, 3), 90, np.uint8)
        x = (i * 8) % width
        frame[:, x : x + 8] = 220
        frames.append(frame)
    audio = None
    if sound:
        t = np.arange(int(seconds * 48000)) / 48000
        audio = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    encode_clip(path, frames, fps=fps, width=width, height=height, audio=audio, preset="ultrafast")
    return path


@dataclass
class Script:
    """What the API does. Lists are consumed one entry per request; when empty, all is well."""

    submit_faults: list[str] = field(default_factory=list)  # 500 | timeout | malformed | html
    status_faults: list[str] = field(default_factory=list)  # 500 | timeout | malformed
    polls_until_done: int | None = 2  # None: the job never finishes
    fail_prompts: tuple[str, ...] = ()  # jobs whose prompt holds one of these fail
    result: str = "ok"  # ok | html | expired_once | expired_always | long | small
    delay_s: float = 0.8  # how long a "timeout" fault stalls (longer than the client waits)


class QueueApi:
    """The server and its record of what happened (jobs made, requests seen)."""

    def __init__(self, root: Path, script: Script | None = None) -> None:
        self.root = root
        self.script = script or Script()
        self.lock = threading.Lock()
        self.jobs: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.submits = 0
        self.downloads = 0
        self.auth_seen: list[str | None] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> QueueApi:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def toml(self, **overrides) -> str:
        """An [http.acme] section for this server; tiny timeouts keep the tests fast."""
        values = {
            "endpoint": self.url,
            "submit_path": "/videos",
            "status_path": "/videos/{id}",
            "id_field": "job.id",
            "status_field": "state",
            "done_values": ["succeeded"],
            "failed_values": ["failed"],
            "result_field": "output.video_url",
            "error_field": "error.message",
            "auth_env": "ACME_TEST_KEY",
            "timeout_s": 0.4,
            "job_timeout_s": 5.0,
            "poll_interval_s": 0.02,
            "retries": 3,
            "backoff_s": 0.01,
            "backoff_max_s": 0.05,
        }
        values.update(overrides)
        lines = ["[http.acme]"]
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append(
            'request = { prompt = "{prompt}", seed = "{seed}", seconds = "{duration_s}", '
            'width = "{width}", height = "{height}", fps = "{fps}", audio = "{audio}", '
            'image = "{image_data_uri}", note = "seed {seed} for paddock" }'
        )
        return "\n".join(lines) + "\n"

    def _clip_for(self, job: dict, version: int) -> Path:
        body = job["body"]
        width, height, seconds = body["width"], body["height"], body["seconds"]
        if self.script.result == "long":
            seconds = seconds * 3
        if self.script.result == "small":
            width, height = width // 4 * 2, height // 4 * 2
        path = self.root / f"{job['id']}-{version}.mp4"
        if not path.exists():
            make_clip(path, width, height, seconds, body["fps"], body["audio"])
        return path

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, code: int, payload) -> None:
                self._send(code, json.dumps(payload).encode())

            def _fault(self, faults: list[str]) -> bool:
                with api.lock:
                    fault = faults.pop(0) if faults else None
                if fault is None:
                    return False
                if fault == "500":
                    self._json(503, {"error": "overloaded"})
                elif fault == "timeout":
                    time.sleep(api.script.delay_s)
                    return False  # answers, but after the client gave up
                elif fault == "malformed":
                    self._send(200, b'{"job": {"id": ')
                elif fault == "html":
                    self._send(200, b"<html>gateway</html>", "text/html")
                return True

            def _authorized(self) -> bool:
                auth = self.headers.get("Authorization")
                api.auth_seen.append(auth)
                if auth != f"Bearer {TOKEN}":
                    self._json(401, {"error": {"message": "bad key"}})
                    return False
                return True

            def do_POST(self) -> None:
                if not self._authorized():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                key = self.headers.get("Idempotency-Key")
                with api.lock:
                    api.submits += 1
                    job_id = api.by_key.get(key) if key else None
                    if job_id is None:
                        job_id = uuid.uuid4().hex[:12]
                        api.jobs[job_id] = {"id": job_id, "body": body, "polls": 0, "url": 0}
                        if key:
                            api.by_key[key] = job_id
                # a stalled answer still made the job: a retry must find it by its key
                if self._fault(api.script.submit_faults):
                    return
                self._json(200, {"job": {"id": job_id}})

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if parts[:2] == ["v1", "videos"] and len(parts) == 3:
                    self._status(parts[2])
                elif parts[:2] == ["v1", "files"] and len(parts) == 4:
                    self._file(parts[2], int(parts[3]))
                else:
                    self._json(404, {"error": "no such route"})

            def _status(self, job_id: str) -> None:
                if not self._authorized():
                    return
                if self._fault(api.script.status_faults):
                    return
                job = api.jobs.get(job_id)
                if job is None:
                    self._json(404, {"error": {"message": "no such job"}})
                    return
                job["polls"] += 1
                if any(p in job["body"]["prompt"] for p in api.script.fail_prompts):
                    self._json(200, {"state": "failed", "error": {"message": "content policy"}})
                    return
                until = api.script.polls_until_done
                if until is None or job["polls"] < until:
                    self._json(200, {"state": "running"})
                    return
                job["url"] += 1  # every status answer signs a fresh result URL
                url = f"/v1/files/{job_id}/{job['url']}"
                self._json(200, {"state": "succeeded", "output": {"video_url": url}})

            def _file(self, job_id: str, version: int) -> None:
                api.downloads += 1
                job = api.jobs.get(job_id)
                result = api.script.result
                if job is None:
                    self._json(404, {"error": "no such file"})
                    return
                if result == "expired_always" or (result == "expired_once" and version == 1):
                    self._send(403, b"<Error>Request has expired</Error>", "application/xml")
                    return
                if result == "html":
                    self._send(200, b"<html>please log in</html>", "text/html")
                    return
                self._send(200, self._clip(job, version).read_bytes(), "video/mp4")

            def _clip(self, job: dict, version: int) -> Path:
                return api._clip_for(job, version)

        return Handler
