"""The audits' rater: a server of its own on a copy of the data dir, battles played over HTTP as
a browser would, and `run_audit` that fits what it received (arena/jobs/fingerprint_audit.py).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from arena.jobs.fingerprint_audit import AuditReport, ContentStage, Observation, fit_audit
from generators.errors import InputError, PaddockError
from generators.serving.profile import ServingProfile

log = logging.getLogger("paddock.audit")


def _fetch(client, url: str) -> tuple[bytes, dict[str, str], float, float]:
    """The body and headers of a GET as a browser receives them, with the time to the first
    byte and to the whole body (ms)."""
    started = time.perf_counter()
    with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise InputError(f"GET {url} answered {response.status_code}")
        chunks = []
        first = None
        for chunk in response.iter_bytes():
            if first is None:
                first = time.perf_counter()
            chunks.append(chunk)
        done = time.perf_counter()
        headers = dict(response.headers)
    first = first or done
    return b"".join(chunks), headers, (first - started) * 1000, (done - started) * 1000


def play_battles(
    base_url: str,
    n_battles: int,
    on_progress: Callable[[int, int], None] | None = None,
    wait_s: float = 120.0,
    on_body: Callable[[str, bytes, str, str], None] | None = None,
) -> list[Observation]:
    """Ask for n battles through the JSON API as fresh raters, fetch both clips, vote, and
    label each clip with the model its reveal names. A 503 (no battle yet: renditions still
    being made) is waited out for up to wait_s. on_body(content key, bytes, prompt id, model) sees
    each body after its reveal (models whose clips share a picture share a content key)."""
    import httpx

    from metrics.fingerprint import extract_features

    out: list[Observation] = []
    base = base_url.rstrip("/")
    deadline = time.monotonic() + wait_s
    with httpx.Client(timeout=60.0) as client:
        played = 0
        while played < n_battles:
            rater = f"audit-{uuid.uuid4().hex[:16]}"
            response = client.post(f"{base}/api/battle", json={"rater_id": rater})
            if response.status_code == 503 and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            if response.status_code != 200:
                raise InputError(
                    f"POST /api/battle answered {response.status_code}: {response.text[:200]}"
                )
            battle = response.json()
            seen = {}
            for side in ("left", "right"):
                body, headers, ttfb, whole = _fetch(client, base + battle[f"{side}_url"])
                feats, key = extract_features(body, headers)
                feats["ttfb_ms"], feats["body_ms"] = ttfb, whole
                seen[side] = (feats, key, body)
            vote = client.post(
                f"{base}/api/vote",
                json={
                    "battle_id": battle["battle_id"],
                    "token": battle["token"],
                    "rater_id": rater,
                    "outcome": "tie",
                },
            )
            if vote.status_code != 200:
                raise InputError(f"POST /api/vote answered {vote.status_code}: {vote.text[:200]}")
            reveal = vote.json()
            for side in ("left", "right"):
                feats, key, body = seen[side]
                model = reveal[f"{side}_model"]
                if on_body is not None:
                    on_body(key, body, battle["prompt_id"], model)
                obs = Observation(battle["battle_id"], side, key, model, feats, battle["prompt_id"])
                out.append(obs)
            played += 1
            if on_progress:
                on_progress(played, n_battles)
    return out


@contextmanager
def audit_server(
    data_dir: Path,
    renditions: bool = True,
    profile: ServingProfile | None = None,
    workers: int = 2,
) -> Iterator[str]:
    """A server of its own on a copy of the data dir (so the audit's votes never reach the real
    one), on a free loopback port; yields its URL. Clips are hard-linked, not copied."""
    import socket

    import uvicorn

    from arena.domain.abuse import AbuseConfig
    from arena.domain.scheduler import Scheduler
    from arena.io.serving_file import load_serving_profile
    from arena.jobs.serving_cuts import prepare_served
    from arena.jobs.serving_renditions import render_missing, start_serving
    from arena.store import DB_NAME, Store
    from arena.web.app import ArenaOptions
    from arena.web.server import build_server

    if not (data_dir / DB_NAME).exists():
        raise InputError(f"no Paddock data in {data_dir}")
    profile = (profile or load_serving_profile()) if renditions else None
    with tempfile.TemporaryDirectory(prefix="paddock-audit-") as tmp:
        copy = Path(tmp) / "data"
        with Store.open(data_dir, create=False) as source:
            copy.mkdir()
            source.copy_database(copy / DB_NAME)
        for folder in ("clips", "renditions", "images"):
            if (data_dir / folder).is_dir():
                shutil.copytree(data_dir / folder, copy / folder, copy_function=_link_or_copy)
        store = Store.open(copy)
        try:
            if profile is not None:
                # Every clip first, so the battles draw from the whole pool, not the first few.
                report = render_missing(store, profile, workers)
                for line in report.failed:
                    log.warning("not served: %s", line)
                prepare_served(store, profile)
                start_serving(store, profile)
            options = ArenaOptions(require_full_play=False, abuse=AbuseConfig.unlimited())
            app = build_server(store, Scheduler(store, seed=0), options, serving=profile)
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            deadline = time.monotonic() + 60
            while not server.started:
                if time.monotonic() > deadline:
                    raise PaddockError("the audit's server did not start")
                time.sleep(0.05)
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
                thread.join(timeout=10)
        finally:
            store.close()


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def run_audit(
    data_dir: str | Path,
    n_battles: int = 200,
    threshold: float = 0.05,
    renditions: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    profile: ServingProfile | None = None,
    workers: int = 2,
    content: ContentStage | None = None,
) -> AuditReport:
    """`paddock audit fingerprint`: play n battles against a copy of the data dir and fit.
    profile: the serving profile (paddock.toml's by default); workers: rendition processes;
    content: also fit on what the clips show (content_audit.ContentProbe)."""
    if n_battles < 4:
        raise InputError("--battles must be at least 4")
    if not 0 <= threshold < 1:
        raise InputError("--threshold is a share of 1 (e.g. 0.05 for 5 points)")
    with audit_server(Path(data_dir), renditions, profile, workers) as url:
        on_body = content.observe if content is not None else None
        observations = play_battles(url, n_battles, on_progress, on_body=on_body)
    report = fit_audit(observations, n_battles, threshold, renditions)
    if content is not None:
        content.fill(report, observations)
    return report
