"""pony, the built-in procedural generator: requests, plans, speech, clips, faces, i2v, CLI."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pony_checks import face_descriptor, face_size, frame_envelope, mouth_openings, psnr

from generators.base import GenerationRequest, Generator, frame_size
from generators.decode import decode_clip, probe_clip
from generators.errors import InputError, UnknownGeneratorError
from generators.pony.plan import plan_shots
from generators.pony.portrait import RIG_PATH, astronaut_portrait, face_landmarks
from generators.pony.render import first_frame, fit_image
from generators.pony.speech import detect_language, synthesize
from generators.registry import build_generator, builtin_model_names

TALK = (
    'A woman in a quiet office looks at the camera and says "Hello everyone, welcome '
    'back to the weekly update. Today we have a lot to talk about."'
)


@pytest.fixture(scope="module")
def pony() -> Generator:
    return build_generator("builtin:pony")


@pytest.fixture(scope="module")
def talking_clip(pony: Generator, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pony") / "talk.mp4"
    pony.generate(GenerationRequest(TALK, seed=3, duration_s=6, resolution="480p"), str(out))
    return out


# -- requests and the registry ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"prompt": "  "}, "prompt is empty"),
        ({"prompt": "x", "duration_s": 0.5}, "duration"),
        ({"prompt": "x", "duration_s": 15.5}, "duration"),
        ({"prompt": "x", "duration_s": float("nan")}, "duration"),
        ({"prompt": "x", "resolution": "4k"}, "resolution"),
        ({"prompt": "x", "aspect": "4:3"}, "aspect"),
        ({"prompt": "x", "fps": 1000}, "fps"),
    ],
)
def test_bad_requests_raise_input_error_naming_the_problem(kwargs, words) -> None:
    with pytest.raises(InputError, match=words):
        GenerationRequest(**kwargs)


def test_frame_sizes_are_even_and_follow_the_aspect() -> None:
    assert frame_size("480p", "16:9") == (854, 480)
    assert frame_size("720p", "9:16") == (720, 1280)
    assert frame_size("1080p", "1:1") == (1080, 1080)
    assert frame_size("1080p", "16:9") == (1920, 1080)


def test_registry_builds_pony_and_baselines_and_rejects_unknown_specs() -> None:
    names = builtin_model_names()
    assert names == [
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
    ]
    for name in names:
        gen = build_generator(f"builtin:{name}")
        assert isinstance(gen, Generator) and gen.name == name
    assert build_generator("builtin:pony-lag?ms=120").flaws.audio_delay_ms == 120
    assert build_generator("builtin:pony-lag", ms=50).flaws.audio_delay_ms == 50
    for spec, words in [
        ("builtin:horse", "unknown built-in model"),
        ("nope:pony", "unknown"),
        ("pony", "kind:target"),
        ("nope:x/y", "unknown generator kind"),
    ]:
        with pytest.raises(UnknownGeneratorError, match=words):
            build_generator(spec)
    with pytest.raises(InputError, match="out of range"):
        build_generator("builtin:pony-flicker?amount=5")
    with pytest.raises(InputError, match="not a number"):
        build_generator("builtin:pony-lag?ms=soon")
    with pytest.raises(InputError, match="only the parameter"):
        build_generator("builtin:pony-lag?amount=1")


# -- plan and speech --------------------------------------------------------------------------


def test_plan_reads_setting_dialogue_and_cuts_deterministically() -> None:
    prompt = (
        "Multi-shot: a wide shot of a rainy street at night, cut to a close-up as she "
        'walks and says "We should go home."'
    )
    plan = plan_shots(prompt, 7, 8.0)
    assert plan == plan_shots(prompt, 7, 8.0)
    assert plan != plan_shots(prompt, 8, 8.0)
    assert (plan.place, plan.time_of_day, plan.weather) == ("street", "night", "rain")
    assert [s.framing for s in plan.shots] == ["wide", "close"]
    assert plan.shots[0].start_s == 0 and plan.shots[-1].end_s == 8.0
    assert [line.text for line in plan.lines] == ["We should go home."]
    assert {"rain", "traffic", "footsteps"} <= set(plan.sounds)
    beach = plan_shots("a calm beach at sunset", 1, 5)
    assert beach.place == "beach" and "waves" in beach.sounds and len(beach.shots) == 1


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Hello, how are you today?", "en"),
        ("Hola, ¿cómo estás? Vamos a la playa.", "es"),
        ("Bonjour, je suis très content de vous voir.", "fr"),
        ("नमस्ते, आप कैसे हैं?", "hi"),
        ("مرحبا، كيف حالك؟", "ar"),
        ("你好，今天天气很好。", "zh"),
    ],
)
def test_dialogue_language_is_detected_and_spoken_with_phonemes(text, lang) -> None:
    assert detect_language(text) == lang
    utt = synthesize(text)
    assert utt.language == lang and utt.sample_rate == 48000
    assert 0.5 < utt.duration_s < 6 and np.abs(utt.samples).max() > 0.1
    starts = [p.start_s for p in utt.phonemes]
    assert len(starts) >= 5 and starts == sorted(starts) and starts[-1] < utt.duration_s


def test_shipped_astronaut_rig_matches_dlib() -> None:
    assert RIG_PATH.is_file()
    portrait = astronaut_portrait()
    fresh = face_landmarks(portrait.image)
    assert fresh is not None and np.abs(fresh - portrait.landmarks).max() <= 2
    assert portrait.mask[130, 222] > 0.9 and portrait.mask[20, 480] < 0.1


# -- clips ------------------------------------------------------------------------------------


def test_same_request_gives_the_same_frames_and_audio(pony: Generator, tmp_path: Path) -> None:
    request = GenerationRequest(
        'Someone on a beach says "hi there"', seed=5, duration_s=1.5, resolution="480p"
    )
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    pony.generate(request, str(a))
    pony.generate(request, str(b))
    da, db = decode_clip(a), decode_clip(b)
    assert np.array_equal(da.frames, db.frames)
    assert np.array_equal(da.audio, db.audio)


@pytest.mark.parametrize(
    "aspect, fps, duration", [("16:9", 24, 1.0), ("9:16", 30, 1.5), ("1:1", 12, 2.0)]
)
def test_duration_fps_and_resolution_are_as_asked(pony, tmp_path, aspect, fps, duration) -> None:
    out = tmp_path / "c.mp4"
    result = pony.generate(
        GenerationRequest(
            "a forest", duration_s=duration, resolution="480p", aspect=aspect, fps=fps
        ),
        str(out),
    )
    info = probe_clip(out)
    width, height = frame_size("480p", aspect)
    assert (info.width, info.height) == (width, height) == (result.width, result.height)
    assert info.fps == pytest.approx(fps)
    assert info.n_frames == result.frames == round(duration * fps)
    assert info.duration_s == pytest.approx(duration, abs=0.05)
    assert info.has_audio and result.has_audio
    assert info.audio_duration_s == pytest.approx(duration, abs=0.06)
    assert result.seconds > 0


def test_ambience_alone_is_audible_and_audio_can_be_off(pony, tmp_path) -> None:
    out = tmp_path / "rain.mp4"
    pony.generate(
        GenerationRequest("heavy rain in a city street", duration_s=1.5, resolution="480p"),
        str(out),
    )
    clip = decode_clip(out)
    assert clip.audio is not None and np.sqrt(np.mean(clip.audio**2)) > 0.01
    silent = tmp_path / "silent.mp4"
    result = pony.generate(
        GenerationRequest("rain", duration_s=1, resolution="480p", audio=False), str(silent)
    )
    assert not result.has_audio and not probe_clip(silent).has_audio


def test_face_is_found_and_the_mouth_follows_the_speech(talking_clip: Path) -> None:
    clip = decode_clip(talking_clip)
    openings = mouth_openings(clip.frames)
    found = ~np.isnan(openings)
    assert found.mean() >= 0.95
    envelope = frame_envelope(clip.audio, clip.audio_rate, clip.frame_times)
    r = np.corrcoef(openings[found], envelope[found])[0, 1]
    assert r > 0.5, f"mouth opening vs speech envelope correlation {r:.2f}"
    speaking = envelope > np.percentile(envelope, 75)
    quiet = envelope < np.percentile(envelope, 20)
    assert np.nanmean(openings[speaking]) > np.nanmean(openings[quiet]) + 0.05


def test_multi_shot_keeps_the_face_on_screen(pony, tmp_path) -> None:
    out = tmp_path / "multi.mp4"
    prompt = (
        "Shot 1: wide shot of a snowy forest. Shot 2: medium shot. Shot 3: close-up as he "
        'says "We have to keep moving before the storm reaches the valley."'
    )
    pony.generate(GenerationRequest(prompt, seed=2, duration_s=4.5, resolution="480p"), str(out))
    clip = decode_clip(out)
    openings = mouth_openings(clip.frames, step=3)
    assert np.mean(~np.isnan(openings)) >= 0.95
    # the same character in three framings: the face grows from the wide to the close shot
    sizes = [face_size(clip.frames[i]) for i in (10, 50, 100)]
    assert sizes[0] * 1.3 < sizes[1] and sizes[1] * 1.3 < sizes[2]
    a, b = face_descriptor(clip.frames[10]), face_descriptor(clip.frames[100])
    assert np.linalg.norm(a - b) < 0.45  # still the same person


# -- image to video ---------------------------------------------------------------------------


def test_image_to_video_starts_on_the_input_and_the_face_talks(pony, tmp_path) -> None:
    from skimage import data

    image = data.astronaut()
    path = tmp_path / "in.png"
    cv2.imwrite(str(path), image[..., ::-1])
    out = tmp_path / "i2v.mp4"
    request = GenerationRequest(
        'She smiles and says "I am going back to space next year, and I cannot wait."',
        duration_s=4,
        resolution="480p",
        image=str(path),
    )
    pony.generate(request, str(out))
    clip = decode_clip(out, max_side=854)
    reference, landmarks = first_frame(image, 854, 480)
    assert landmarks is not None  # the crop of the square photo keeps her face in the frame
    assert psnr(clip.frames[0], reference) >= 30
    assert psnr(clip.frames[0], fit_image(image, 854, 480)) < 25  # not the plain centre crop
    assert psnr(clip.frames[-1], clip.frames[0]) < 30  # the camera moved
    openings = mouth_openings(clip.frames, step=2)
    assert np.mean(~np.isnan(openings)) >= 0.95
    assert np.nanmax(openings) - np.nanmin(openings) > 0.1


def test_unreadable_input_image_is_an_input_error_and_leaves_no_file(pony, tmp_path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    out = tmp_path / "out.mp4"
    for image in (str(bad), str(tmp_path / "missing.png")):
        with pytest.raises(InputError, match="input image"):
            pony.generate(GenerationRequest("x", image=image), str(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.png"]


# -- CLI --------------------------------------------------------------------------------------


def test_cli_generates_one_clip_and_rejects_bad_input(tmp_path) -> None:
    from typer.testing import CliRunner

    from arena.cli import app

    runner = CliRunner()
    out = tmp_path / "clip.mp4"
    ok = runner.invoke(
        app,
        [
            "generate",
            "--model",
            "builtin:pony",
            "--prompt",
            "a calm beach",
            "--duration",
            "1",
            "--resolution",
            "480p",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert probe_clip(out).n_frames == 24
    bad_out = tmp_path / "bad.mp4"
    for args, error in (
        (["--prompt", ""], InputError),
        (["--prompt", "x", "--duration", "30"], InputError),
        (["--prompt", "x", "--resolution", "2k"], InputError),
        (["--prompt", "x", "--model", "zzz:1"], UnknownGeneratorError),
    ):
        argv = ["generate", "--model", "builtin:pony", "--out", str(bad_out), *args]
        res = runner.invoke(app, argv)
        assert isinstance(res.exception, error), (args, res.output)
        assert not bad_out.exists()


def test_cli_user_error_is_one_line_and_exit_code_2(tmp_path) -> None:
    import subprocess
    import sys

    out = tmp_path / "bad.mp4"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from arena.cli import main; main()",
            "generate",
            "--model",
            "builtin:pony",
            "--prompt",
            "x",
            "--duration",
            "0",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "duration" in proc.stderr
    assert not out.exists()


def test_every_ambient_sound_is_audible_stereo_and_repeatable() -> None:
    from generators.pony.ambience import SOUNDS, ambience

    for sound in SOUNDS:
        bed = ambience((sound,), 1.0, 48000, seed=3)
        assert bed.shape == (48000, 2) and np.all(np.isfinite(bed)), sound
        assert np.sqrt(np.mean(bed**2)) > 0.05, sound
        assert np.array_equal(bed, ambience((sound,), 1.0, 48000, seed=3)), sound
    rain, waves = ambience(("rain",), 1.0, 48000, 1), ambience(("waves",), 1.0, 48000, 1)

    def high_share(x):
        spectrum = np.abs(np.fft.rfft(x[:, 0])) ** 2
        return spectrum[len(spectrum) // 4 :].sum() / spectrum.sum()  # above 6 kHz

    assert high_share(rain) > 2 * high_share(waves)
