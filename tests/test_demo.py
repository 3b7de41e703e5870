"""`paddock demo` from nothing: built-in models, suite, clips, a served arena a rater can vote in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from arena_helpers import free_port
from gradio_client import Client

from arena.store import Store
from arena.web.demo import FIRST_SET_MODELS
from generators.base import frame_size

BUILTIN = {
    "pony",
    "pony-lag",
    "pony-mute",
    "pony-drift",
    "pony-flicker",
    "pony-lowres",
    "pony-freeze",
    "pony-noisy",
    "pony-clipped",
    "pony-late",
}
CLI = [sys.executable, "-c", "from arena.cli import main; main()"]
FAST = ["--duration", "1", "--resolution", "480p"]


def test_demo_serves_a_votable_arena_from_nothing(tmp_path):
    data = tmp_path / "fresh"
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen(
        [*CLI, "demo", "--data", str(data), "--port", str(port), *FAST],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client, battle = None, None
        deadline = time.monotonic() + 240
        while battle is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                client = client or Client(f"http://127.0.0.1:{port}/", verbose=False)
                battle = client.predict("demo-rater-1", "", api_name="/battle")
            except Exception:  # not listening yet, or no pair generated yet
                time.sleep(1)
        assert battle is not None, "no battle within 240 s of starting the demo"
        reveal = client.predict(
            battle["battle_id"], battle["token"], "demo-rater-1", "left", "", api_name="/vote"
        )
        assert {reveal["left_model"], reveal["right_model"]} <= BUILTIN
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with Store.open(data) as store:
        assert {m.name for m in store.models()} == BUILTIN
        assert len(store.prompts()) >= 60
        assert store.vote_count() == 1
        assert not (data / "server.json").exists()


def test_demo_no_serve_builds_the_first_set_and_reuses_it(tmp_path):
    data = tmp_path / "built"
    first = subprocess.run(
        [*CLI, "demo", "--no-serve", "--data", str(data), *FAST],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr
    with Store.open(data) as store:
        clips = store.clips()
        per_model = {m.name: len(store.clips(m.name)) for m in store.models()}
    assert len(set(per_model.values())) == 1 and min(per_model.values()) >= 4
    assert {(c.width, c.height) for c in clips} == {frame_size("480p", "16:9")}
    assert all(c.duration is not None and abs(c.duration - 1.0) < 0.1 for c in clips)
    # the first set is scored before anything else is made: the first reveals show metrics
    with Store.open(data) as store:
        metrics = store.clips_metrics([c.id for c in clips])
    assert all(metrics.get(c.id) for c in clips), "first-set clips without metric results"
    made = f"clips made {len(clips)}/"
    scored = f"clips scored {len(clips)}/"
    assert any(made in line and scored in line for line in first.stderr.splitlines()), first.stderr
    # ... and made for the first-set models alone before the other baselines join: adding
    # baselines does not delay the first reveals
    n_first = len(clips) // len(per_model) * len(FIRST_SET_MODELS)
    made, scored = f"clips made {n_first}/", f"clips scored {n_first}/"
    assert any(made in line and scored in line for line in first.stderr.splitlines()), first.stderr
    assert n_first < len(clips) and set(FIRST_SET_MODELS) < set(per_model)
    again = subprocess.run(
        [*CLI, "demo", "--no-serve", "--data", str(data), *FAST],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    with Store.open(data) as store:
        assert len(store.clips()) == len(clips)
