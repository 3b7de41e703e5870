"""pony follows the prompt: the plan it reads (cast, speakers, animals, setting) and the picture."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from pony_checks import face_descriptor, faces_in, lower_motion, plan_mismatches

from generators.base import GenerationRequest
from generators.decode import decode_clip
from generators.pony.cast_identities import BANK, IDENTITY_DISTANCE, MIN_APART
from generators.pony.cast_portraits import cast_portraits
from generators.pony.plan import explain_prompt, plan_shots
from generators.registry import build_generator

PROMPTS = json.loads((Path(__file__).parent / "data" / "pony_prompts.json").read_text())
BY_ID = {p["id"]: p for p in PROMPTS}


def test_the_labelled_prompts_are_many_and_varied() -> None:
    assert len(PROMPTS) >= 40 and len(BY_ID) == len(PROMPTS)
    counts = {p["people"] for p in PROMPTS}
    assert {0, 1, 2, 3} <= counts
    assert {a for p in PROMPTS for a in p["animals"]} == {"cat", "dog", "horse", "bird"}


@pytest.mark.parametrize("label", PROMPTS, ids=[p["id"] for p in PROMPTS])
def test_plan_reads_cast_speakers_animals_and_setting(label) -> None:
    explained = explain_prompt(label["prompt"], seed=0, duration_s=3.0)
    assert plan_mismatches(label, explained) == []


def test_mismatches_are_reported_per_attribute() -> None:
    label = BY_ID["bench-talk"]
    explained = explain_prompt(label["prompt"], 0, 3.0)
    explained["lines"][0]["speaker"] = 0
    explained["people"] = explained["people"][:1]
    assert plan_mismatches(label, explained) == ["people 1", "genders", "speakers"]


def test_explain_cli_prints_the_plan_as_json_and_writes_nothing(tmp_path) -> None:
    from typer.testing import CliRunner

    from arena.cli import app

    prompt = 'A man with glasses and a woman in a red dress. She says "Hi." He replies "Hello."'
    res = CliRunner().invoke(app, ["generate", "--prompt", prompt, "--explain"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.output)
    assert [p["gender"] for p in plan["people"]] == ["m", "f"]
    assert plan["people"][0]["glasses"] and plan["people"][1]["clothing"] == ["red dress"]
    assert [ln["speaker"] for ln in plan["lines"]] == [1, 0]
    assert list(tmp_path.iterdir()) == []


def test_the_bank_keeps_everyone_a_clip_pairs_apart() -> None:
    """The stored distances cover every pair, and each pair the assignment can put side by
    side is apart as measured on the dressed busts."""
    keys = [i.key for i in BANK]
    assert {frozenset(p) for p in combinations(keys, 2)} == set(IDENTITY_DISTANCE)
    for label in PROMPTS:
        plan = plan_shots(label["prompt"], 0, 3.0)
        if len(plan.cast.people) < 2:
            continue
        descriptors = [face_descriptor(p.image) for p in cast_portraits(plan.cast.people)]
        assert all(d is not None for d in descriptors), label["id"]
        for a, b in combinations(descriptors, 2):
            assert np.linalg.norm(a - b) > MIN_APART, label["id"]


@pytest.fixture(scope="module")
def pony():
    return build_generator("builtin:pony")


def _clip(pony, tmp_path_factory, prompt: str, seconds: float = 3.0, seed: int = 1, path=None):
    out = tmp_path_factory.mktemp("cast") / "clip.mp4"
    pony.generate(
        GenerationRequest(prompt, seed=seed, duration_s=seconds, resolution="480p"), str(out)
    )
    if path is not None:
        path.append(out)
    return decode_clip(out)


def test_nobody_named_means_no_face_and_the_scene_moves(pony, tmp_path_factory) -> None:
    clip = _clip(pony, tmp_path_factory, BY_ID["clouds"]["prompt"])
    assert all(not faces_in(f) for f in clip.frames[::12])
    top = clip.frames[:, : clip.frames.shape[1] // 2].astype(np.float32)
    assert np.abs(top[-1] - top[0]).mean() > 4  # the clouds drifted
    assert np.abs(np.diff(top[::6], axis=0)).mean() < 20  # smoothly, no flicker


def test_two_speakers_two_faces_only_the_speaker_talks(pony, tmp_path_factory) -> None:
    label = BY_ID["names"]
    path: list = []
    clip = _clip(pony, tmp_path_factory, label["prompt"], seconds=5.0, path=path)
    plan = plan_shots(label["prompt"], 1, 5.0)
    from metrics.registry import score_clip

    (sync,) = score_clip(path[0], metrics=["lipsync"])
    assert sync.values["verdict"] == "in sync"  # the tracked face is the one speaking
    times = clip.frame_times
    two_shot = [i for i, t in enumerate(times) if t < 0.5] + [
        i for i, t in enumerate(times) if 0.6 < t < 1.2
    ]
    found = [faces_in(clip.frames[i]) for i in two_shot[::2]]
    assert np.mean([len(f) == 2 for f in found]) >= 0.95
    left = np.array([f[0]["descriptor"] for f in found if len(f) == 2])
    right = np.array([f[1]["descriptor"] for f in found if len(f) == 2])
    assert np.linalg.norm(left.mean(0) - right.mean(0)) > 0.6  # two different people
    # Anna (left) speaks the first line; Tom (right) listens with his mouth still
    talk = [f for f in found if len(f) == 2]
    anna = np.array([f[0]["opening"] for f in talk])
    tom = np.array([f[1]["opening"] for f in talk])
    assert np.ptp(anna) > 2 * np.ptp(tom) and np.ptp(anna) > 0.08
    # then shot / reverse shot: each later line shows its speaker alone, still themselves
    assert [ln.speaker for ln in plan.lines] == [0, 1, 0]
    singles = [faces_in(clip.frames[i]) for i, t in enumerate(times) if t > 1.6][::4]
    assert all(len(f) == 1 for f in singles)
    who = []
    for (face,) in singles:
        d = [np.linalg.norm(face["descriptor"] - m.mean(0)) for m in (left, right)]
        assert min(d) < 0.45
        who.append(int(np.argmin(d)))
    assert set(who) == {0, 1}


def test_a_described_person_is_one_face_dressed_as_said(pony, tmp_path_factory) -> None:
    label = BY_ID["red-hair"]
    clip = _clip(pony, tmp_path_factory, label["prompt"])
    counts = [len(faces_in(f)) for f in clip.frames[::6]]
    assert np.mean([c == 1 for c in counts]) >= 0.95
    (person,) = plan_shots(label["prompt"], 1, 3.0).cast.people
    (bust,) = cast_portraits((person,))
    lm = bust.landmarks.astype(int)
    fw = lm[16, 0] - lm[0, 0]
    sweater = bust.image[lm[8, 1] + fw : lm[8, 1] + 2 * fw, lm[8, 0] - fw : lm[8, 0] + fw]
    r, g, b = sweater.reshape(-1, 3).astype(float).mean(0)
    assert g > r + 20 and g > b + 20
    hair = bust.image[lm[19, 1] - fw // 3, lm[19, 0]].astype(float)
    assert hair[0] > hair[1] + 40 and hair[0] > hair[2] + 40  # red
    # long hair reaches below the chin beside the face
    side = bust.mask[lm[8, 1], lm[0, 0] - fw // 4]
    assert side > 0.5


def test_named_animals_are_drawn_and_move(pony, tmp_path_factory) -> None:
    dog = _clip(pony, tmp_path_factory, "A dog runs across a green park, static camera")
    park = _clip(pony, tmp_path_factory, "A green park, static camera")
    assert all(not faces_in(f) for f in dog.frames[::18])
    assert lower_motion(dog.frames) > 3 * lower_motion(park.frames) + 1.0


def test_walking_crosses_the_frame(pony, tmp_path_factory) -> None:
    clip = _clip(pony, tmp_path_factory, "A man walks along a quiet street, static camera")
    xs = []
    for frame in clip.frames[::8]:
        found = faces_in(frame)
        if found:
            xs.append(found[0]["x"] / frame.shape[1])
    assert len(xs) >= 5
    assert abs(xs[-1] - xs[0]) > 0.3  # from one side toward the other


def test_image_to_video_of_an_animal_moves_it_smoothly_with_its_sound(pony, tmp_path) -> None:
    import cv2
    from pony_checks import psnr
    from skimage import data

    from generators.pony.render import fit_image

    image = data.chelsea()
    path = tmp_path / "cat.png"
    cv2.imwrite(str(path), image[..., ::-1])
    prompt = "The cat in the image yawns and stretches"
    out = tmp_path / "cat.mp4"
    request = GenerationRequest(prompt, duration_s=2.5, resolution="480p", image=str(path))
    pony.generate(request, str(out))
    clip = decode_clip(out, max_side=854)
    frames = clip.frames.astype(np.float32)
    assert psnr(clip.frames[0], fit_image(image, 854, 480)) >= 30  # starts on the input
    h, w = frames.shape[1:3]
    centre = frames[:, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    assert np.abs(centre[-1] - centre[0]).mean() > 6  # the subject moved
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    assert steps[15:].min() > 0.2 and steps.max() < 8  # never frozen, never a jump
    assert "cat" in plan_shots(prompt, 0, 2.5, single_shot=True).sounds


def test_the_demo_first_set_shows_at_least_three_different_casts() -> None:
    from arena.domain.suite import quick_subset
    from arena.io.prompt_files import load_suite
    from generators.pony.cast_identities import assign_identities

    casts = set()
    for prompt in quick_subset(load_suite()):
        if prompt.category != "t2v":
            continue
        plan = plan_shots(prompt.text, prompt.seed or 0, 5.0)
        casts.add((tuple(assign_identities(plan.cast.people)), plan.cast.people))
    assert len(casts) >= 3
    assert ((), ()) in casts  # one of them is nobody: the scene alone
