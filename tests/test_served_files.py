"""Served files over their life: every sample one size per position, renditions made as clips
enter the store, stale served copies swept, and no production server on originals."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace

import httpx
import numpy as np
import pytest
from arena_helpers import seeded_store, tiny_clip
from fair_serving_support import MAKERS, TINY_PROFILE, Serving, make_clip

from arena.jobs.serving_cuts import prepare_served, sweep_served
from arena.jobs.serving_renditions import render_missing, render_stored, start_serving
from arena.store import Store
from generators.decode import decode_clip, decode_soundtrack
from generators.errors import InputError
from generators.serving.rendition import CONTAINER_OPTIONS, cut_to_frames, make_rendition
from generators.serving.sample_padding import (
    FILLER_MIN,
    group_targets,
    pad_aac_packet,
    pad_samples,
    sample_sizes,
)
from metrics.fingerprint import extract_features

TINY_TOML = (
    '[serving]\nsizes = { "16:9" = "128x72" }\nfps = 24\ngop_frames = 12\npad_bucket_bytes = 4096\n'
)


def test_samples_padded_to_one_size_per_position_decode_unchanged(tmp_path):
    cuts = []
    for maker in MAKERS[:3]:
        src = make_clip(tmp_path / f"{maker.name}.mp4", maker, 7)
        rendition = make_rendition(src, tmp_path / f"{maker.name}-r.mp4", TINY_PROFILE)
        cut = tmp_path / f"{maker.name}-cut.mp4"
        cut_to_frames(rendition.path, cut, 22, TINY_PROFILE, src)
        cuts.append(cut)
    sizes = [sample_sizes(c) for c in cuts]
    assert len({tuple(v) for v, _ in sizes}) > 1  # constant quality: sizes differ by source
    video = group_targets([v for v, _ in sizes], FILLER_MIN)
    audio = group_targets([a for _, a in sizes], 1)
    feats = []
    for cut in cuts:
        even = cut.with_name(cut.stem + "-even.mp4")
        pad_samples(cut, even, video, audio, CONTAINER_OPTIONS)
        assert sample_sizes(even) == (video, audio)
        assert np.array_equal(decode_soundtrack(even)[0], decode_soundtrack(cut)[0])
        assert np.array_equal(decode_clip(even).frames, decode_clip(cut).frames)
        feats.append(extract_features(even.read_bytes())[0])
    for key in ("bytes", "audio_bitrate", "video_bytes", "frame_bytes_cv", "keyframe_bytes_ratio"):
        assert len({f[key] for f in feats}) == 1, key


def test_aac_fill_reaches_every_size():
    packet = bytes([0x21, 0x10, 0x05, 0x00, 0xA0, 0x1C])  # ends in END (111) and alignment
    for target in range(len(packet) + 1, len(packet) + 700):
        padded = pad_aac_packet(packet, target)
        assert len(padded) == target
        assert padded[:2] == packet[:2]


def test_battle_clips_have_equal_samples(data_dir):
    store = seeded_store(data_dir)
    render_missing(store, TINY_PROFILE, workers=0)
    start_serving(store, TINY_PROFILE)
    with Serving(store, TINY_PROFILE) as server:
        battle = server.battle("rater-even-01").json()
        left = httpx.get(server.url + battle["left_url"]).content
        right = httpx.get(server.url + battle["right_url"]).content
    paths = []
    for i, body in enumerate((left, right)):
        paths.append(data_dir / f"got{i}.mp4")
        paths[-1].write_bytes(body)
    assert sample_sizes(paths[0]) == sample_sizes(paths[1])
    store.close()


def test_sweep_removes_stale_served_files_but_never_one_in_use(data_dir):
    store = seeded_store(data_dir)
    render_missing(store, TINY_PROFILE, workers=0)
    start_serving(store, TINY_PROFILE)
    prepare_served(store, TINY_PROFILE)
    old_dir = data_dir / "renditions" / TINY_PROFILE.digest() / "served"
    with Serving(store, TINY_PROFILE) as server:
        battle = server.battle("rater-sweep-01").json()
        url = server.url + battle["left_url"]
        before = httpx.get(url).content
        cut = store.battle_cut(battle["battle_id"])
        in_use = {data_dir / cut.left_path, data_dir / cut.right_path}
        # The profile changes: every old served file is stale, the open battle's two excepted.
        changed = replace(TINY_PROFILE, pad_bucket_bytes=8192)
        render_missing(store, changed, workers=0)
        start_serving(store, changed)
        assert prepare_served(store, changed) == 3  # within the grace period: none removed
        new_dir = data_dir / "renditions" / changed.digest() / "served"
        current = sorted(new_dir.glob("*.mp4"))
        assert len(current) == 18  # 9 cuts, 9 padded
        assert len(list(old_dir.glob("*.mp4"))) == 18
        assert prepare_served(store, changed, grace_s=0) == 3
        assert sorted(old_dir.glob("*.mp4")) == sorted(in_use)
        assert sorted(new_dir.glob("*.mp4")) == current
        # the rater of the open battle still gets every byte range of its clip
        tail = httpx.get(url, headers={"Range": f"bytes={len(before) - 64}-"})
        assert tail.status_code == 206 and tail.content == before[-64:]
        # a stale copy that is open (a request reading it) reads on after the sweep
        stale = old_dir / "stale-copy.mp4"
        stale.write_bytes(before)
        with open(stale, "rb") as reading:
            assert stale in sweep_served(store, set(), grace_s=0)
            assert reading.read() == before and not stale.exists()
    store.close()


def test_clips_import_makes_renditions_and_refuses_one_that_cannot_be_rendered(data_dir, tmp_path):
    store = seeded_store(data_dir)
    prompt = store.prompts(category="t2v")[0]
    store.add_model("delta", "imported")
    store.close()
    config = tmp_path / "paddock.toml"
    config.write_text(TINY_TOML)
    folder = tmp_path / "incoming" / "delta"
    folder.mkdir(parents=True)
    tiny_clip(folder / f"{prompt.id}.mp4", 120, seconds=0.5)
    env_cmd = [sys.executable, "-c", "from arena.cli import main; main()"]
    run = subprocess.run(
        [*env_cmd, "clips", "import", str(tmp_path / "incoming"), "--data", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PADDOCK_CONFIG": str(config)},
    )
    assert run.returncode == 0, run.stderr
    assert "rendered 10 clip(s) for serving, 0 failed" in run.stdout
    with Store.open(data_dir) as again:
        frame = again.renditions_frame(TINY_PROFILE.digest())
        assert len(frame) == 10 and set(frame["status"]) == {"ready"}
        # A stored clip that cannot be rendered: one line naming it, recorded, never served.
        new = [c for c in again.clips() if c.prompt_id == prompt.id][0]
        broken = next(c for c in again.clips() if c.id != new.id)
        again.clip_path(broken.id).write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(400))
        changed = replace(TINY_PROFILE, fps=12)
        report = render_stored(again, changed, workers=0, progress=None)
        assert report.made == 9 and len(report.failed) == 1
        assert (
            report.failed[0].startswith(f"clip {broken.id} (")
            and "never served" in (report.failed[0])
        )
        assert again.rendition(broken.id, changed.digest()).status == "failed"
        assert again.rendition(new.id, changed.digest()).status == "ready"
        start_serving(again, changed)
        assert again.servable_count() == 9


def test_production_server_refuses_to_serve_originals(data_dir):
    from arena.web.server import run_server

    store = seeded_store(data_dir)
    with pytest.raises(InputError, match="renditions only"):
        run_server(store, port=1, serving=None)
    store.close()


def test_rendition_job_runs_in_worker_processes(data_dir):
    store = seeded_store(data_dir)
    stop = threading.Event()
    report = render_stored(store, TINY_PROFILE, workers=2, progress=None, stop=stop)
    assert report.made == 9 and not report.failed and len(report.seconds) == 9
    served = list((data_dir / "renditions" / TINY_PROFILE.digest() / "served").glob("*.mp4"))
    assert len(served) == 18  # the served files of every prompt are prepared too
    store.close()


def test_generate_suite_renders_the_clips_a_folder_generator_brought_in(data_dir, tmp_path):
    from arena.io.prompt_files import ensure_suite

    with Store.open(data_dir) as store:
        prompts = [p for p in ensure_suite(store) if p.category == "t2v" and p.audio][:2]
        ready = tmp_path / "ready"
        ready.mkdir()
        for shade, prompt in zip((50, 150), prompts, strict=True):
            tiny_clip(ready / f"{prompt.id}.mp4", shade, seconds=0.5)
        store.add_model("team-x", "imported", generator=f"folder:{ready}")
    config = tmp_path / "paddock.toml"
    config.write_text(TINY_TOML)
    command = [sys.executable, "-c", "from arena.cli import main; main()", "generate"]
    run = subprocess.run(
        [*command, "--suite", "default", "--model", "team-x", "--data", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PADDOCK_CONFIG": str(config)},
    )
    assert run.returncode == 1  # the suite's other prompts have no clip in the folder
    assert "generated 2 clip(s)" in run.stdout
    assert "rendered 2 clip(s) for serving, 0 failed" in run.stdout
    with Store.open(data_dir) as store:
        frame = store.renditions_frame(TINY_PROFILE.digest())
        assert len(frame) == 2 and set(frame["status"]) == {"ready"}
