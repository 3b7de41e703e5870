"""Fair serving: renditions in one format, equal length and byte size per battle, and the audit
that measures how well the format names the model."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from arena_helpers import seeded_store, tiny_clip
from fair_serving_support import MAKERS, TINY_PROFILE, Serving, fingerprint_store, make_clip

from arena.domain.scheduler import Scheduler
from arena.errors import NoBattleAvailable
from arena.io.serving_file import load_serving_profile
from arena.jobs.serving_renditions import render_missing, start_rendition_thread, start_serving
from generators.decode import decode_clip, decode_soundtrack, probe_clip
from generators.errors import InputError, MediaError
from generators.serving.loudness import integrated_loudness, true_peak_dbtp
from generators.serving.profile import ServingProfile
from generators.serving.rendition import cut_to_frames, fit_box, make_rendition
from generators.serving.sample_padding import pad_to_length, padded_length
from metrics.fingerprint import extract_features

# ---------------------------------------------------------------- the rendition itself


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One source clip per fixture maker, and its rendition."""
    root = tmp_path_factory.mktemp("made")
    out = {}
    for maker in MAKERS:
        src = make_clip(root / f"{maker.name}.mp4", maker, 3)
        out[maker.name] = (src, make_rendition(src, root / f"{maker.name}-r.mp4", TINY_PROFILE))
    return out


def test_sources_differ_as_real_models_do(made):
    feats = {name: extract_features(src.read_bytes())[0] for name, (src, _) in made.items()}
    assert len({(f["width"], f["height"]) for f in feats.values()}) == 4
    assert len({f["fps"] for f in feats.values()}) == 3
    assert len({f["video_codec"] for f in feats.values()}) == 2
    assert feats["studio"]["string_x264"] == 1.0 and feats["studio"]["sei_count"] >= 1
    assert (
        max(f["loudness_lufs"] for f in feats.values())
        - min(f["loudness_lufs"] for f in feats.values())
        > 10
    )


def test_rendition_is_one_format_whatever_the_source(made):
    rows = []
    for name, (_, result) in made.items():
        data = Path(result.path).read_bytes()
        feats, _ = extract_features(data)
        info = probe_clip(result.path)
        assert (info.width, info.height, info.video_codec) == (128, 72, "h264"), name
        assert info.fps == pytest.approx(24.0) and not info.variable_frame_rate
        assert feats["codec_profile"] == 100  # H.264 High
        assert feats["sei_count"] == 0 and feats["string_x264"] == 0  # no settings string
        assert feats["reordered"] == 0 and feats["gop_mean"] == 12  # fixed GOP, no B-frames
        assert feats["has_edit_list"] == 0 and feats["faststart"] == 1
        with av.open(result.path) as container:  # only what the ftyp box says: no encoder tag
            assert set(container.metadata) <= {"major_brand", "minor_version", "compatible_brands"}
        assert (feats["sample_rate"], feats["channels"]) == (48000, 2)
        assert feats["video_timescale"] == 90000
        rows.append(
            {k: feats[k] for k in ("parameter_sets", "codec_level", "audio_codec", "box_layout")}
        )
    assert all(row == rows[0] for row in rows)


def test_frame_rate_is_resampled_by_timestamps(made):
    # 30 fps for 0.96 s (29 frames) -> 24 fps: round(29 / 30 * 24) = 23 frames, none blended.
    _, result = made["cloud"]
    assert result.frames == 23 == probe_clip(result.path).n_frames
    # 25 fps for 1.0 s -> 24 frames at 24 fps
    assert made["lab"][1].frames == 24


def test_loudness_is_normalised_with_a_true_peak_ceiling(made):
    for name, (src, result) in made.items():
        audio, rate = decode_soundtrack(result.path)
        assert integrated_loudness(audio, rate) == pytest.approx(-23.0, abs=0.5), name
        assert true_peak_dbtp(audio) <= -1.0 + 0.3, name  # AAC coding may add a little
        original, orate = decode_soundtrack(src)
        assert abs(integrated_loudness(original, orate) + 23.0) > 2.5 or name == "lab"


def test_scaled_to_fit_and_padded_never_stretched(tmp_path):
    assert fit_box(64, 48, 128, 72) == (96, 72, 16, 0)
    assert fit_box(1920, 1080, 1280, 720) == (1280, 720, 0, 0)
    src = tiny_clip(tmp_path / "four-three.mp4", 200, seconds=0.5)  # 64x48, bright
    result = make_rendition(src, tmp_path / "r.mp4", TINY_PROFILE)
    frames = decode_clip(result.path, max_side=128).frames
    assert frames.shape[1:] == (72, 128, 3)
    assert frames[:, :, :14].max() < 24 and frames[:, :, -14:].max() < 24  # black side bars
    assert frames[:, :, 20:108].mean() > 100  # the picture, 96 pixels wide (not 128)


def test_silent_clip_stays_silent(tmp_path):
    src = tiny_clip(tmp_path / "mute.mp4", 90, seconds=0.5, audio=False)
    result = make_rendition(src, tmp_path / "r.mp4", TINY_PROFILE)
    assert not result.has_audio and not probe_clip(result.path).has_audio


def test_corrupt_clip_is_refused_naming_it(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(300))
    with pytest.raises(MediaError, match="broken.mp4"):
        make_rendition(bad, tmp_path / "r.mp4", TINY_PROFILE)
    assert not (tmp_path / "r.mp4").exists()


def test_cut_to_whole_frames_and_pad_to_one_length(made, tmp_path):
    src, result = made["studio"]
    cut = tmp_path / "cut.mp4"
    assert cut_to_frames(result.path, cut, 20, TINY_PROFILE, src) == 20
    assert decode_clip(cut).frames.shape[0] == 20  # every kept frame decodes (no B-frames)
    audio, rate = decode_soundtrack(cut)
    assert len(audio) / rate == pytest.approx(20 / 24, abs=0.05)
    assert integrated_loudness(audio, rate) == pytest.approx(-23.0, abs=0.3)  # over the cut
    with pytest.raises(MediaError, match="zero length"):
        cut_to_frames(result.path, tmp_path / "none.mp4", 0, TINY_PROFILE, src)
    sizes = [cut.stat().st_size, result.bytes]
    length = padded_length(sizes, 4096)
    assert length % 4096 == 0 and length >= max(sizes) + 8
    for src, dst in ((cut, tmp_path / "a.mp4"), (result.path, tmp_path / "b.mp4")):
        pad_to_length(src, dst, length)
        assert dst.stat().st_size == length
    assert decode_clip(tmp_path / "a.mp4").frames.shape[0] == 20
    assert (tmp_path / "a.mp4").read_bytes()[-(length - sizes[0]) :][4:8] == b"free"


# ---------------------------------------------------------------- the profile


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"colour": 1}, "colour"),
        ({"sizes": {"16:9": "1281x720"}}, "sizes.16:9"),
        ({"fps": 0}, "fps"),
        ({"loudness_lufs": -100}, "loudness_lufs"),
        ({"crf": "high"}, "crf"),
    ],
)
def test_impossible_profile_is_refused_naming_the_key(raw, key):
    with pytest.raises(InputError, match=rf"\[serving\] {key}"):
        ServingProfile.from_mapping(raw)


def test_profile_from_paddock_toml(tmp_path, monkeypatch):
    path = tmp_path / "paddock.toml"
    path.write_text('[serving]\nfps = 30\nsizes = { "16:9" = "640x360" }\n')
    monkeypatch.setenv("PADDOCK_CONFIG", str(path))
    profile = load_serving_profile()
    assert (profile.fps, profile.sizes) == (30, (("16:9", 640, 360),))
    assert profile.digest() != ServingProfile().digest()
    path.write_text("[serving]\nfps = 0\n")
    with pytest.raises(InputError, match=r"\[serving\] fps"):
        load_serving_profile()


# ---------------------------------------------------------------- serving through the server


@pytest.fixture
def served_store(data_dir):
    store = seeded_store(data_dir)
    report = render_missing(store, TINY_PROFILE, workers=0)
    assert report.made == 9 and not report.failed
    start_serving(store, TINY_PROFILE)
    yield store
    store.close()


def test_battle_clips_are_cut_and_padded_to_one_length(served_store):
    with Serving(served_store, TINY_PROFILE) as server:
        battle = server.battle("rater-pad-01").json()
        left = httpx.get(server.url + battle["left_url"])
        right = httpx.get(server.url + battle["right_url"])
    assert left.status_code == right.status_code == 200
    assert len(left.content) == len(right.content) == int(left.headers["content-length"])
    assert len(left.content) % TINY_PROFILE.pad_bucket_bytes == 0
    assert "etag" not in left.headers and "last-modified" not in left.headers
    cut = served_store.battle_cut(battle["battle_id"])
    assert cut is not None and cut.bytes == len(left.content)
    for response in (left, right):
        feats, _ = extract_features(response.content)
        assert feats["frames"] == cut.frames and feats["width"] == 128
    # the originals are never what is served
    originals = {p.read_bytes()[:4096] for p in served_store.clips_dir.glob("*.mp4")}
    assert left.content[:4096] not in originals


def test_posters_are_the_renditions_first_frames_through_the_opaque_route(served_store):
    import io

    from PIL import Image

    with Serving(served_store, TINY_PROFILE) as server:
        battle = server.battle("rater-poster").json()
        posters = [
            httpx.get(server.url + battle[f"{s}_url"] + "/poster") for s in ("left", "right")
        ]
        wrong = httpx.get(server.url + "/media/" + "0" * 32 + "/poster")
    assert wrong.status_code == 404
    for poster in posters:
        assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
        assert "etag" not in poster.headers and "last-modified" not in poster.headers
        image = Image.open(io.BytesIO(poster.content))
        # the rendition's frame (one size for the pool), not the original's, and no metadata
        assert image.size[0] == 128 and not image.getexif() and "comment" not in image.info
    assert (
        Image.open(io.BytesIO(posters[0].content)).size
        == Image.open(io.BytesIO(posters[1].content)).size
    )


def test_range_requests_work_over_the_padding(served_store):
    with Serving(served_store, TINY_PROFILE) as server:
        battle = server.battle("rater-range-1").json()
        url = server.url + battle["left_url"]
        whole = httpx.get(url).content
        size = len(whole)
        tail = httpx.get(url, headers={"Range": f"bytes={size - 100}-"})
        middle = httpx.get(url, headers={"Range": "bytes=100-299"})
        past = httpx.get(url, headers={"Range": f"bytes={size}-"})
    assert tail.status_code == 206 and tail.content == whole[-100:] == bytes(100)  # zeros of free
    assert tail.headers["content-range"] == f"bytes {size - 100}-{size - 1}/{size}"
    assert middle.status_code == 206 and middle.content == whole[100:300]
    assert past.status_code == 416


def test_a_clip_that_cannot_be_rendered_is_never_served(data_dir, caplog):
    store = seeded_store(data_dir)
    broken = store.clips()[0]
    store.clip_path(broken.id).write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(500))
    with caplog.at_level(logging.WARNING, logger="paddock.renditions"):
        report = render_missing(store, TINY_PROFILE, workers=0)
    assert report.made == 8 and len(report.failed) == 1 and broken.id in report.failed[0]
    assert any(broken.id in r.getMessage() and "cannot" in r.getMessage() for r in caplog.records)
    row = store.rendition(broken.id, TINY_PROFILE.digest())
    assert row.status == "failed" and row.error
    start_serving(store, TINY_PROFILE)
    scheduler = Scheduler(store, seed=3)
    for i in range(40):
        battle = scheduler.next_battle(f"rater-never-{i:02d}").battle
        assert broken.id not in (battle.left_clip, battle.right_clip)
    store.close()


def test_changing_the_profile_rebuilds_renditions_in_the_background(served_store):
    scheduler = Scheduler(served_store, seed=5)
    assert scheduler.next_battle("rater-prof-01")
    changed = replace(TINY_PROFILE, fps=12)
    stop = threading.Event()
    start_serving(served_store, changed)
    with pytest.raises(NoBattleAvailable):  # nothing current until the rebuild
        scheduler.next_battle("rater-prof-02")
    thread = start_rendition_thread(served_store, changed, stop, workers=0)
    try:
        deadline = time.monotonic() + 120
        while len(served_store.renditions_frame(changed.digest())) < 9:
            assert time.monotonic() < deadline, "renditions were not rebuilt"
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    battle = scheduler.next_battle("rater-prof-03").battle
    frames = served_store.renditions_frame(changed.digest())
    assert set(frames["status"]) == {"ready"} and (frames["frames"] == 12).all()
    assert battle.left_clip in set(frames["clip_id"])


# ---------------------------------------------------------------- the audit


@pytest.fixture(scope="module")
def fingerprint_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("fingerprint") / "data"
    fingerprint_store(data, n_prompts=40).close()
    return data


def test_audit_identifies_models_from_originals(fingerprint_data):
    from arena.web.audit_rater import run_audit

    report = run_audit(fingerprint_data, n_battles=60, renditions=False)
    assert len(report.models) == 4 and report.chance == 0.25
    assert report.accuracy >= 0.9 and report.identifiable


def test_audit_stays_at_chance_with_renditions(fingerprint_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from arena.cli import app

    config = tmp_path / "paddock.toml"
    config.write_text(
        '[serving]\nsizes = { "16:9" = "128x72" }\nfps = 24\ngop_frames = 12\n'
        "pad_bucket_bytes = 4096\n"
    )
    monkeypatch.setenv("PADDOCK_CONFIG", str(config))
    result = CliRunner().invoke(
        app, ["audit", "fingerprint", "--data", str(fingerprint_data), "--battles", "200"]
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["renditions"] and report["clips"] >= 140
    # Fair serving's promise: within chance + 5 points (the originals: 100%). Five fixture seeds
    # measured 23.6-27.2% against 25% (docs/fair-serving.md); every served clip of a prompt has
    # the same sample sizes and a loudness on target as decoded, so what is left is timing noise.
    assert report["accuracy"] <= report["chance"] + 0.05, report
    assert result.exit_code == 0 and not report["identifiable"]


def test_audit_interval_and_exit_code_follow_the_threshold():
    from arena.jobs.fingerprint_audit import Observation, fit_audit

    rng = np.random.default_rng(0)
    obs = [
        Observation("b", "left", f"clip{i}", f"m{i % 4}", {"noise": float(rng.normal())})
        for i in range(80)
    ]
    chance_like = fit_audit(obs, 40)
    assert chance_like.ci_low < 0.25 < chance_like.ci_high and not chance_like.identifiable
    for o in obs:
        o.features["size"] = float(int(o.model[1]) * 1000)
    telling = fit_audit(obs, 40)
    assert telling.accuracy >= 0.95 and telling.identifiable
    assert telling.top_features[0][0] == "size"


def test_av_has_what_the_fixture_needs():
    # The fixture's "models" use these encoders; a build without them would test less.
    for codec in ("libx264", "libvpx-vp9", "libopus", "aac"):
        av.codec.Codec(codec, "w")


def test_serve_refuses_a_bad_serving_section_before_starting(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from arena.cli import app

    config = tmp_path / "paddock.toml"
    config.write_text('[serving]\nsizes = { "16:9" = "1279x720" }\n')
    monkeypatch.setenv("PADDOCK_CONFIG", str(config))
    result = CliRunner().invoke(app, ["serve", "--data", str(tmp_path / "none")])
    assert isinstance(result.exception, InputError)
    assert "[serving] sizes.16:9" in str(result.exception) and "even" in str(result.exception)
    assert not (tmp_path / "none").exists()  # refused before anything was opened or written
