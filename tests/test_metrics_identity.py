"""Identity on the real clips: one person each, a splice of the two flagged at the cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from metrics_support import context, decoded, derived, fresh_context
from PIL import Image

from metrics.identity import IDENTITY, identity_changes

CLIPS = ["talking_head_1.mp4", "talking_head_2.mp4"]


@pytest.mark.parametrize("name", CLIPS)
def test_each_clip_is_one_person(testdata_dir: Path, name: str) -> None:
    result = IDENTITY.compute(context(str(testdata_dir / name)))
    assert result.status == "ok", result.reason
    values = result.values
    print(name, values)
    assert values["identity_changes"] == 0
    assert values["share_same"] == 1.0
    assert values["max_distance"] < 0.6
    assert values["samples"] >= 10


def test_splice_of_two_people_is_flagged_at_the_cut(testdata_dir: Path) -> None:
    one = decoded(str(testdata_dir / CLIPS[0]))
    two = decoded(str(testdata_dir / CLIPS[1]))
    frames = np.concatenate([one.frames[:125], two.frames[200:325]])  # cut at 5.0 s
    result = IDENTITY.compute(fresh_context(derived(one, frames=frames)))
    assert result.status == "ok", result.reason
    values = result.values
    print(values)
    assert values["identity_changes"] == 1
    assert abs(float(values["identity_change_times_s"]) - 5.0) <= 0.5
    assert values["max_distance"] > 0.6 and values["share_same"] < 1.0
    assert values["shot_cuts"] == 1


def test_reference_image_of_someone_else(testdata_dir: Path, tmp_path: Path) -> None:
    two = decoded(str(testdata_dir / CLIPS[1]))
    ref = tmp_path / "other.png"
    Image.fromarray(np.ascontiguousarray(two.frames[50])).save(ref)
    ctx = context(str(testdata_dir / CLIPS[0]))
    other = fresh_context(ctx.clip, reference_image=str(ref))
    other._track = ctx.face_track
    values = IDENTITY.compute(other).values
    assert values["reference"] == "input image"
    assert values["mean_distance"] > 0.6 and values["share_same"] == 0.0
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (128, 128, 128)).save(blank)
    fallback = fresh_context(ctx.clip, reference_image=str(blank))
    fallback._track = ctx.face_track
    assert IDENTITY.compute(fallback).values["reference"].startswith("first face")


def test_one_odd_sample_is_not_a_change() -> None:
    a, b = np.zeros(128), np.full(128, 0.1)
    descriptors = np.stack([a, a, b, a, a])
    assert identity_changes(np.arange(5.0), descriptors) == []
    assert len(identity_changes(np.arange(5.0), np.stack([a, a, b, b, b]))) == 1


def test_no_face_is_unavailable(testdata_dir: Path) -> None:
    one = decoded(str(testdata_dir / CLIPS[0]))
    blank = derived(one, frames=np.full((30, 64, 36, 3), 90, np.uint8))
    result = IDENTITY.compute(fresh_context(blank))
    assert result.status == "unavailable" and result.reason == "no face"
    assert result.values == {}
