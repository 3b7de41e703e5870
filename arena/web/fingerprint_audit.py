"""The fingerprint audit: play the rater over HTTP, record what the browser receives before the
vote, learn the model names from the reveals, and measure how well the format alone predicts them.

A classifier (scikit-learn random forest) is cross-validated over clips, never over repeats of one
clip: a clip seen again is recognised by its content, which no format can hide, and the question
here is whether the format tells the model of a clip never seen before.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from generators.errors import InputError, PaddockError
from generators.serving_profile import ServingProfile

log = logging.getLogger("paddock.audit")

TIMING_FEATURES = ("ttfb_ms", "body_ms")


@dataclass
class Observation:
    """One clip as one battle served it: its features and, after the vote, its model."""

    battle_id: str
    side: str
    content_key: str
    model: str
    features: dict[str, float]
    prompt: str = ""  # the battle's prompt: folds keep a prompt's clips together


@dataclass
class AuditReport:
    battles: int
    clips: int
    models: list[str]
    accuracy: float
    ci_low: float
    ci_high: float
    chance: float
    threshold: float
    identifiable: bool  # accuracy above chance by more than the threshold
    top_features: list[tuple[str, float]] = field(default_factory=list)
    renditions: bool = True
    # Identifiable by content alone (CLIP embeddings of served frames, content_audit.py); None
    # without open_clip weights. Not part of `identifiable`: serving cannot hide content.
    content_accuracy: float | None = None
    content_ci: tuple[float, float] | None = None
    content_identifiable: bool | None = None
    content_note: str = ""
    gate: str = "format"  # which classifiers set the exit code: format, content or both

    def to_dict(self) -> dict:
        return asdict(self)


class ContentStage(Protocol):
    """What the audit also runs when content is measured (content_audit.ContentProbe)."""

    def observe(self, content_key: str, body: bytes, prompt_id: str) -> None: ...

    def fill(self, report: AuditReport, observations: list[Observation]) -> None: ...


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


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
    on_body: Callable[[str, bytes, str], None] | None = None,
) -> list[Observation]:
    """Ask for n battles through the JSON API as fresh raters, fetch both clips, vote, and
    label each clip with the model its reveal names. A 503 (no battle yet: renditions still
    being made) is waited out for up to wait_s. on_body(content key, bytes, prompt id) sees each body."""
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
                if on_body is not None:
                    on_body(key, body, battle["prompt_id"])
                seen[side] = (feats, key)
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
                feats, key = seen[side]
                model = reveal[f"{side}_model"]
                obs = Observation(battle["battle_id"], side, key, model, feats, battle["prompt_id"])
                out.append(obs)
            played += 1
            if on_progress:
                on_progress(played, n_battles)
    return out


def observations_frame(observations: list[Observation]) -> pd.DataFrame:
    """One row per distinct clip: its model and its features as first served.

    Not a mean over its battles: the scheduler shows some models' clips more often than others,
    and a mean of noisy timings is steadier the more often a clip was seen, so the mean would
    tell the audit how often the scheduler picked a model, not what the bytes say."""
    rows = [
        {"content_key": o.content_key, "model": o.model, "prompt": o.prompt, **o.features}
        for o in observations
    ]
    frame = pd.DataFrame(rows)
    first = frame.drop_duplicates(subset=["content_key", "model"], keep="first")
    return first.reset_index(drop=True).fillna(0.0)


def fit_audit(
    observations: list[Observation],
    n_battles: int,
    threshold: float = 0.05,
    renditions: bool = True,
    seed: int = 0,
    repeats: int = 3,
) -> AuditReport:
    """Cross-validated accuracy of predicting a clip's model from its format, with a 95%
    interval, against chance (one over the number of models)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    frame = observations_frame(observations)
    counts = frame["model"].value_counts()
    if len(counts) < 2:
        raise InputError("the audit needs clips of at least two models: play more battles")
    frame = frame[frame["model"].isin(counts[counts >= 2].index)]
    models = sorted(frame["model"].unique())
    features = [c for c in frame.columns if c not in ("content_key", "model", "prompt")]
    x = frame[features].to_numpy(float)
    y = frame["model"].to_numpy()
    groups = frame["prompt"].where(frame["prompt"] != "", frame["content_key"]).to_numpy()
    folds = int(min(5, frame["model"].value_counts().min()))
    forest = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    # Several shuffles of the folds, averaged: one split alone moves the figure by a few points.
    hits = []
    for repeat in range(repeats if folds >= 2 else 0):
        # Grouped by prompt: a clip is predicted from other prompts' clips only. Clips of one
        # prompt served alike would otherwise be told apart by elimination (the same features
        # under another label in training), which reads as below chance, not as no information.
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        predicted = cross_val_predict(forest, x, y, cv=cv, groups=groups)
        hits.append(np.mean(predicted == y))
    accuracy = float(np.mean(hits)) if hits else 1.0 / len(models)
    correct = int(round(accuracy * len(y)))
    low, high = wilson_interval(correct, len(y))
    chance = 1.0 / len(models)
    forest.fit(x, y)
    ranked = sorted(zip(features, forest.feature_importances_, strict=True), key=lambda t: -t[1])
    return AuditReport(
        battles=n_battles,
        clips=len(y),
        models=models,
        accuracy=accuracy,
        ci_low=low,
        ci_high=high,
        chance=chance,
        threshold=threshold,
        identifiable=accuracy - chance > threshold,
        top_features=[(name, round(float(w), 4)) for name, w in ranked[:8] if w > 0],
        renditions=renditions,
    )


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
    from arena.io.served_media import prepare_served
    from arena.io.serving_file import load_serving_profile
    from arena.jobs.renditions import render_missing, start_serving
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
