"""Hostile files fed to `clips import` and `votes import`: a clear error, and the database unchanged.

Property-based (hypothesis) over truncated mp4s, patched frame sizes, random and non-UTF-8 text and
malformed battle rows; a few cases through the real CLI.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from arena_helpers import seeded_store, tiny_clip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.io.battle_files import import_votes
from arena.io.clip_import import import_clips
from arena.store import Store
from generators.errors import PaddockError

TABLES = ("meta", "models", "prompts", "clips", "battles", "votes", "raters", "metric_results")
PROBLEMS = (
    "truncated or corrupt",
    "empty (zero bytes)",
    "no video stream",
    "is an image",
    "does not play in browsers",
    "cannot read",
    "unreadable or corrupt",
    "frame side of",
    "not UTF-8",
    "has no frames",
    "zero frames",
)
FEW = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def snapshot(store: Store) -> tuple:
    """Every row of every table, and the files of the clip store."""
    rows = tuple(str(store._query(f"SELECT * FROM {t} ORDER BY ALL")) for t in TABLES)
    files = tuple(sorted(p.name for p in store.clips_dir.iterdir()))
    return rows, files


class World(tuple):
    """(store, good clip bytes, scratch folder); short in hypothesis's failure reports."""

    def __repr__(self) -> str:
        return "World(...)"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A seeded store, a good tiny clip's bytes, and a scratch folder."""
    root = tmp_path_factory.mktemp("hostile")
    data_dir = root / "paddock-data"
    data_dir.mkdir()
    store = seeded_store(data_dir, n_prompts=2)
    good = tiny_clip(root / "good.mp4", 120).read_bytes()
    yield World((store, good, root))
    store.close()


def clip_folder(root: Path, store: Store, data: bytes, model: str = "beta-new") -> Path:
    """An import folder MODEL/PROMPT_ID.mp4 holding `data`."""
    prompt = store.prompts(category="t2v")[0]
    folder = root / "incoming"
    target = folder / model / f"{prompt.id}.mp4"
    if folder.exists():
        for old in folder.rglob("*"):
            if old.is_file():
                old.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return folder


def assert_refused_clip(store: Store, folder: Path, before: tuple) -> str:
    report = import_clips(store, folder)
    assert report.imported == 0 and len(report.errors) == 1, report
    message = report.errors[0]
    assert "\n" not in message and any(p in message for p in PROBLEMS), message
    assert snapshot(store) == before
    return message


@pytest.fixture(scope="module", autouse=True)
def import_target(world):
    store, _, _ = world
    # A model without clips, so a good file would import: only the file's faults refuse it.
    store.add_model("beta-new", "imported")


@FEW
@given(cut=st.integers(min_value=0, max_value=8000))
def test_truncated_mp4s_are_refused(world, cut):
    store, good, root = world
    cut = cut % len(good)  # every cut shorter than the file, zero bytes included
    folder = clip_folder(root, store, good[:cut])
    message = assert_refused_clip(store, folder, snapshot(store))
    assert ("empty (zero bytes)" in message) == (cut == 0)


def test_the_uncut_clip_imports(world):
    # The control for the properties above: the same bytes, whole, are accepted.
    store, good, root = world
    store.add_model("control", "imported")
    report = import_clips(store, clip_folder(root, store, good, model="control"))
    assert report.imported == 1 and not report.errors
    patched = _patch_sizes(good, b"avc1", "width", 4096)  # the largest side allowed
    store.add_model("control-4096", "imported")
    report = import_clips(store, clip_folder(root, store, patched, model="control-4096"))
    assert report.imported == 1 and not report.errors


def _patch_sizes(data: bytes, box: bytes, side: str, value: int) -> bytes:
    out = bytearray(data)
    at = data.find(box, data.find(b"moov"))  # the video track comes first in the test clips
    if box == b"tkhd":
        end = at - 4 + struct.unpack(">I", data[at - 4 : at])[0]
        offset = end - 8 if side == "width" else end - 4
        out[offset : offset + 4] = struct.pack(">I", value << 16)
    else:  # the avc1 visual sample entry: width and height 24 bytes into its payload
        offset = at + 4 + 24 + (0 if side == "width" else 2)
        out[offset : offset + 2] = struct.pack(">H", value)
    return bytes(out)


@FEW
@given(
    box=st.sampled_from([b"tkhd", b"avc1"]),
    side=st.sampled_from(["width", "height"]),
    value=st.integers(min_value=4097, max_value=65535),
)
def test_huge_declared_dimensions_are_refused(world, box, side, value):
    store, good, root = world
    folder = clip_folder(root, store, _patch_sizes(good, box, side, value))
    message = assert_refused_clip(store, folder, snapshot(store))
    assert f"frame side of {value} pixels" in message and side in message


def _encode(path: Path, codec: str | None, pix: str = "yuv420p", audio: bool = False) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        video = None
        if codec:
            video = out.add_stream(codec, rate=12)
            video.width, video.height, video.pix_fmt = 64, 48, pix
        sound = out.add_stream("aac", rate=48000) if audio else None
        if video is not None:
            for i in range(12):
                frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 9, np.uint8), "rgb24")
                for packet in video.encode(frame.reformat(format=pix)):
                    out.mux(packet)
            for packet in video.encode():
                out.mux(packet)
        if sound is not None:
            for k in range(20):
                chunk = av.AudioFrame.from_ndarray(
                    np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts = 48000, k * 1024
                for packet in sound.encode(chunk):
                    out.mux(packet)
            for packet in sound.encode():
                out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("mpeg4", "video codec mpeg4 does not play in browsers"),
        ("mjpeg", "video codec mjpeg does not play in browsers"),
        ("audio-only", "no video stream"),
        ("png", "is an image"),
        ("noise", "truncated or corrupt"),
    ],
)
def test_wrong_codecs_and_non_videos_are_refused(world, kind, problem):
    store, _, root = world
    path = root / f"{kind}.mp4"
    if kind in ("mpeg4", "mjpeg"):
        _encode(path, kind, pix="yuvj420p" if kind == "mjpeg" else "yuv420p")
    elif kind == "audio-only":
        _encode(path, None, audio=True)
    elif kind == "png":
        from PIL import Image

        Image.new("RGB", (64, 48), (200, 30, 30)).save(path, format="PNG")
    else:
        path.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 4)
    folder = clip_folder(root, store, path.read_bytes())
    assert problem in assert_refused_clip(store, folder, snapshot(store))


@FEW
@given(
    raw=st.binary(min_size=0, max_size=200),
    suffix=st.sampled_from([".csv", ".jsonl"]),
    bad=st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]),
)
def test_non_utf8_manifests_and_votes_name_the_line(world, raw, suffix, bad):
    store, _, root = world
    path = root / f"hostile{suffix}"
    path.write_bytes(raw.replace(b"\xff", b"") + b"\n" + bad + b"model_a")
    before = snapshot(store)
    for action in (lambda: import_clips(store, path), lambda: import_votes(store, path)):
        with pytest.raises(PaddockError, match=r"line \d+: not UTF-8 text"):
            action()
    assert snapshot(store) == before


@FEW
@given(text=st.text(max_size=300), suffix=st.sampled_from([".csv", ".jsonl", ".json"]))
def test_random_text_is_refused_with_a_clear_error(world, text, suffix):
    store, _, root = world
    path = root / f"random{suffix}"
    path.write_text(text, encoding="utf-8")
    before = snapshot(store)
    with pytest.raises(PaddockError) as votes_error:
        import_votes(store, path, add_models=True)
    assert "\n" not in str(votes_error.value).strip()
    try:
        report = import_clips(store, path)
        assert report.imported == 0 and report.errors
    except PaddockError as exc:
        assert str(exc)
    assert snapshot(store) == before


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["alpha", "beta", "gamma", "model_a", "model_b", "tie", "tie (bothbad)"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
)
COLUMNS = st.sampled_from(
    ["model_a", "model_b", "winner", "prompt_id", "rater", "tstamp", "clip_a", "sampling_prob"]
)
OPTIONAL = st.sampled_from(["prompt_id", "rater", "tstamp", "clip_a", "clip_b", "sampling_prob"])
VALID = st.fixed_dictionaries(
    {
        "model_a": st.sampled_from(["alpha", "gamma"]),
        "model_b": st.just("beta"),
        "winner": st.sampled_from(["model_a", "model_b", "tie", "tie (bothbad)"]),
    }
)
# Rows that are random throughout, and rows whose required columns are right but whose
# optional columns (timestamps, propensities, ids) are anything at all.
ROWS = st.lists(
    st.one_of(
        st.dictionaries(COLUMNS, VALUES, max_size=8),
        st.builds(lambda base, extra: {**base, **extra}, VALID, st.dictionaries(OPTIONAL, VALUES)),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=ROWS, fmt=st.sampled_from(["jsonl", "csv"]), add_models=st.booleans())
def test_malformed_battle_rows_fail_whole_or_import_whole(world, rows, fmt, add_models):
    store, _, root = world
    path = root / f"rows.{fmt}"
    if fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r, allow_nan=True) for r in rows), encoding="utf-8")
    else:
        import pandas as pd

        pd.DataFrame(rows).to_csv(path, index=False)
    before = snapshot(store)
    votes_before = store.vote_count()
    try:
        n = import_votes(store, path, add_models=add_models)
    except PaddockError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        assert snapshot(store) == before
        return
    assert store.vote_count() == votes_before + n == votes_before + len(rows)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("model_a,model_b,winner\nalpha,beta,model_c\n", "line 2, column winner: unknown label"),
        ("model_a,winner\nalpha,model_a\n", "missing column(s) model_b"),
        ('{"model_a": "alpha", "model_b": "beta", "winner": "tie"}\n{"model_a": ', "line 2"),
        ("model_a,model_b,winner,tstamp\nalpha,beta,tie,yesterday\n", "column tstamp"),
    ],
)
def test_votes_files_name_line_and_column(world, content, problem):
    store, _, root = world
    path = root / ("votes.jsonl" if content.startswith("{") else "votes.csv")
    path.write_text(content, encoding="utf-8")
    before = snapshot(store)
    with pytest.raises(PaddockError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        import_votes(store, path)
    assert snapshot(store) == before


@pytest.mark.slow
def test_the_real_cli_refuses_hostile_files_and_writes_nothing(tmp_path):
    data_dir = tmp_path / "paddock-data"
    data_dir.mkdir()
    store = seeded_store(data_dir, n_prompts=1)
    store.add_model("beta-new", "imported")
    good = tiny_clip(tmp_path / "good.mp4", 120).read_bytes()
    folder = clip_folder(tmp_path, store, good[: len(good) // 2])
    before = snapshot(store)
    store.close()
    bad_votes = tmp_path / "votes.csv"
    bad_votes.write_bytes(b"model_a,model_b,winner\nalpha,beta,model_a\nalpha,\xff\xfe,tie\n")
    wrong_winner = tmp_path / "winner.jsonl"
    wrong_winner.write_text('{"model_a": "alpha", "model_b": "beta", "winner": "A"}\n')
    cases = [
        (["clips", "import", str(folder)], "truncated or corrupt"),
        (["votes", "import", str(bad_votes)], "line 3: not UTF-8 text"),
        (["votes", "import", str(wrong_winner), "--add-models"], "unknown label 'A'"),
    ]
    for args, problem in cases:
        result = subprocess.run(
            [sys.executable, "-c", "from arena.cli import main; main()", *args]
            + ["--data", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert problem in result.stderr and "Traceback" not in result.stderr
    with Store.open(data_dir) as after:
        assert snapshot(after) == before
