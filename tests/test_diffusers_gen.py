"""`diffusers:` generators on tiny random-weight Wan and LTX-Video pipelines built here, loaded by path."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded, whatever a test asks for

pytest.importorskip("diffusers", reason="diffusers is in the ml extra")
from diffusers_support import TINY, ltx_pipeline, save_pipeline, wan_pipeline  # noqa: E402

from generators.base import GenerationRequest  # noqa: E402
from generators.decode import decode_clip, probe_clip  # noqa: E402
from generators.diffusers_gen import round_frames, round_size  # noqa: E402
from generators.errors import GenerationError, InputError  # noqa: E402
from generators.registry import build_generator  # noqa: E402


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pipelines")
    return {
        "wan": save_pipeline(wan_pipeline(), root / "wan-t2v"),
        "wan-i2v": save_pipeline(wan_pipeline(i2v=True), root / "wan-i2v"),
        "ltx": save_pipeline(ltx_pipeline(), root / "ltx-t2v"),
        "ltx-i2v": save_pipeline(ltx_pipeline(i2v=True), root / "ltx-i2v"),
        "ltx-broken": save_pipeline(ltx_pipeline(decoder_upscales=True), root / "ltx-broken"),
    }


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("img") / "portrait.png"
    rng = np.random.default_rng(3)
    Image.fromarray((rng.random((90, 120, 3)) * 255).astype(np.uint8)).save(path)
    return path


def request(**kw) -> GenerationRequest:
    base = dict(
        prompt="a woman walks down the street at night",
        seed=1,
        duration_s=1.0,
        fps=8,
        resolution="480p",
    )
    base.update(kw)
    return GenerationRequest(**base)


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["wan", "ltx"])
def test_text_to_video_makes_a_silent_clip_of_the_asked_shape(pipelines, tmp_path, name):
    gen = build_generator(f"diffusers:{pipelines[name]}?{TINY}")
    out = tmp_path / "clip.mp4"
    result = gen.generate(request(), str(out))
    info = probe_clip(out)
    # 1 s at 8 fps is 8 frames: Wan takes 4k+1 and LTX 8k+1, so both make 9
    assert (info.width, info.height, info.n_frames) == (64, 64, 9)
    assert result.frames == 9 and result.duration_s == pytest.approx(9 / 8)
    # the request wanted sound, but a video pipeline makes none: the clip stays silent
    assert not info.has_audio and not result.has_audio
    assert result.seconds > 0
    frames = decode_clip(out, max_side=64).frames
    assert frames.std() > 1.0  # a real (random-weight) picture, not a flat fill


def test_same_seed_same_clip_other_seed_other_clip(pipelines, tmp_path):
    gen = build_generator(f"diffusers:{pipelines['wan']}?{TINY}")
    a = gen.generate(request(seed=5), str(tmp_path / "a.mp4")).path
    b = gen.generate(request(seed=5), str(tmp_path / "b.mp4")).path
    c = gen.generate(request(seed=6), str(tmp_path / "c.mp4")).path
    assert sha(a) == sha(b)
    assert sha(a) != sha(c)


def test_frame_count_and_size_are_rounded_to_what_the_pipeline_takes(pipelines, tmp_path):
    assert round_frames(12, 4) == 13 and round_frames(12, 8) == 9 and round_frames(20, 8) == 17
    assert round_frames(12, 1) == 12
    assert round_size(70, 50, 16) == (64, 48) and round_size(100, 60, 32) == (96, 64)
    wan = build_generator(f"diffusers:{pipelines['wan']}?{TINY}&size=70x50")
    result = wan.generate(request(duration_s=1.5), str(tmp_path / "w.mp4"))  # 12 frames asked
    assert (result.width, result.height, result.frames) == (64, 48, 13)
    ltx = build_generator(f"diffusers:{pipelines['ltx']}?{TINY}")
    result = ltx.generate(request(duration_s=2.0), str(tmp_path / "l.mp4"))  # 16 frames asked
    assert result.frames == 17 and probe_clip(tmp_path / "l.mp4").n_frames == 17


@pytest.mark.parametrize("name", ["wan-i2v", "ltx-i2v"])
def test_image_to_video_pipelines_take_the_prompt_image(pipelines, image, tmp_path, name):
    gen = build_generator(f"diffusers:{pipelines[name]}?{TINY}")
    out = tmp_path / "i2v.mp4"
    result = gen.generate(request(image=str(image)), str(out))
    assert (result.width, result.height, result.frames) == (64, 64, 9)
    assert probe_clip(out).n_frames == 9
    with pytest.raises(GenerationError, match="image-to-video pipeline .*no input image"):
        gen.generate(request(), str(tmp_path / "none.mp4"))
    assert not (tmp_path / "none.mp4").exists()


def test_text_to_video_pipeline_refuses_an_input_image(pipelines, image, tmp_path):
    gen = build_generator(f"diffusers:{pipelines['wan']}?{TINY}")
    with pytest.raises(GenerationError, match="text-to-video pipeline"):
        gen.generate(request(image=str(image)), str(tmp_path / "x.mp4"))
    assert not list(tmp_path.iterdir())


def test_output_of_the_wrong_size_is_an_error_and_writes_nothing(pipelines, tmp_path):
    gen = build_generator(f"diffusers:{pipelines['ltx-broken']}?{TINY}")
    with pytest.raises(
        GenerationError, match=r"returned 17 frames of 128x128, asked for 9 of 64x64"
    ):
        gen.generate(request(), str(tmp_path / "bad.mp4"))
    assert not list(tmp_path.iterdir())


def test_a_model_that_cannot_load_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such pipeline folder"):
        build_generator(f"diffusers:{tmp_path}/missing")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "model_index.json").write_text("{not json")
    gen = build_generator(f"diffusers:{junk}?{TINY}")
    with pytest.raises(GenerationError, match="cannot load diffusers pipeline"):
        gen.generate(request(), str(tmp_path / "out.mp4"))
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    "query, message",
    [
        ("stepz=2", "unknown option"),
        ("steps=two", "is not a whole number"),
        ("dtype=float8", "dtype"),
        ("size=64", "is not WxH"),
        ("guidance=-1", "guidance"),
        ("offload=always", "offload"),
    ],
)
def test_bad_options_are_refused_when_the_spec_is_built(pipelines, query, message):
    with pytest.raises(InputError, match=message):
        build_generator(f"diffusers:{pipelines['wan']}?{query}")


def test_categories_are_read_without_loading_weights(pipelines):
    assert build_generator(f"diffusers:{pipelines['wan']}").categories() == {"t2v"}
    assert build_generator(f"diffusers:{pipelines['ltx-i2v']}").categories() == {"i2v"}
    assert build_generator("diffusers:Org/some-hub-model").categories() is None


def test_cpu_offload_needs_cuda(pipelines, tmp_path):
    gen = build_generator(f"diffusers:{pipelines['wan']}?{TINY}&offload=model&device=cpu")
    with pytest.raises(GenerationError, match="offload=model needs a CUDA device"):
        gen.generate(request(), str(tmp_path / "o.mp4"))


@pytest.mark.slow
def test_audio_step_lays_another_generators_soundtrack_under_the_clip(pipelines, tmp_path):
    spec = f"diffusers:{pipelines['wan']}?{TINY}&audio=builtin:pony"
    out = tmp_path / "sound.mp4"
    result = build_generator(spec).generate(
        request(prompt='a woman says "hello there, how are you"'), str(out)
    )
    info = probe_clip(out)
    assert result.has_audio and info.has_audio
    assert info.audio_duration_s == pytest.approx(9 / 8, abs=0.06)
    audio = decode_clip(out, max_side=64).audio
    assert audio is not None and np.abs(audio).max() > 0.01  # speech, not silence
    # no sound asked for: no audio step
    silent = build_generator(spec).generate(request(audio=False), str(tmp_path / "s.mp4"))
    assert not silent.has_audio and not probe_clip(tmp_path / "s.mp4").has_audio


@pytest.mark.slow
def test_suite_generation_records_good_clips_and_reports_bad_models(pipelines, data_dir):
    from arena.io.prompt_files import ensure_suite
    from arena.jobs.generation import GenerationSettings, generate_missing
    from arena.store import Store

    with Store.open(data_dir) as store:
        suite = ensure_suite(store)
        prompts = [p for p in suite if p.category == "t2v"][:2]
        prompts.append(next(p for p in suite if p.category == "i2v"))
        good = store.add_model(
            "wan-tiny", "diffusers", generator=f"diffusers:{pipelines['wan']}?{TINY}"
        )
        bad = store.add_model(
            "ltx-broken", "diffusers", generator=f"diffusers:{pipelines['ltx-broken']}?{TINY}"
        )
        settings = GenerationSettings(duration_s=1.0, resolution="480p", fps=8)
        # workers=0: the jobs run in this process, which has torch and diffusers imported already
        report = generate_missing(store, [good, bad], prompts, settings, workers=0)
        assert report.made == 2
        assert report.skipped == 2  # the image prompt, for each text-to-video pipeline
        assert len(report.failed) == 2
        assert all("ltx-broken" in f and "asked for 9 of 64x64" in f for f in report.failed)
        clips = store.clips("wan-tiny")
        assert len(clips) == 2
        for clip in clips:
            assert (clip.width, clip.height, clip.has_audio) == (64, 64, False)
            assert clip.generation_s is not None and clip.generation_s > 0
            assert (data_dir / clip.path).is_file()
        assert store.clips("ltx-broken") == []
        # nothing half-written: the staging folder is gone, the clip store holds only good clips
        assert not (data_dir / "tmp").exists()
        stored = [p for p in (data_dir / "clips").rglob("*") if p.is_file()]
        assert len(stored) == 2
