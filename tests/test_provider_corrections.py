"""Issue 25's corrections, each against a loopback server that refuses what the real one refuses:
Kling's host, sound mode, 3.0 models and single key; Runway's HappyHorse image-to-video form;
OpenAI's multipart body; Replicate's `aborted`."""

from __future__ import annotations

from pathlib import Path

import pytest
from provider_support import ENV, KLING_KEY, Script, fake

from generators.base import GenerationRequest
from generators.decode import probe_clip
from generators.errors import GenerationError, InputError
from generators.registry import build_generator


@pytest.fixture(autouse=True)
def keys(monkeypatch, tmp_path):
    for env in ENV.values():
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("KLING_API_KEY", raising=False)
    monkeypatch.setenv("PADDOCK_SLOT_DIR", str(tmp_path / "slots"))


def request(**kw) -> GenerationRequest:
    base = dict(prompt="a fox says hello to the camera", seed=3, duration_s=5.0, fps=24)
    base.update(kw)
    return GenerationRequest(**base)


def image(tmp_path: Path) -> str:
    from PIL import Image

    path = tmp_path / "first.png"
    Image.new("RGB", (32, 18), (200, 30, 30)).save(path)
    return str(path)


def run(api, tmp_path: Path, req: GenerationRequest | None = None, target=None, **options):
    out = tmp_path / "out" / "clip.mp4"
    result = build_generator(api.spec(target, **options)).generate(req or request(), str(out))
    return result, out


def sent(api) -> tuple[str, dict]:
    job = next(iter(api.jobs.values()))
    return job["path"], job["body"]


# ---------------------------------------------------------------------------------------- Kling
def test_kling_defaults_to_the_documented_host_and_keeps_base_url_for_the_other_region():
    from generators.providers.kling import PROTOCOL

    assert PROTOCOL.base_url == "https://api-singapore.klingai.com"
    assert build_generator("kling:kling-v2-6").config.endpoint == PROTOCOL.base_url
    other = build_generator("kling:kling-v2-6?base_url=https://api.klingai.com")
    assert other.config.endpoint == "https://api.klingai.com"


def test_kling_v2_6_with_sound_asks_for_pro_and_records_it(tmp_path):
    with fake("kling", tmp_path) as api:
        result, out = run(api, tmp_path)
    assert api.refused == [] and api.problems == []
    _, body = sent(api)
    assert body["mode"] == "pro" and body["sound"] == "on"
    assert result.provenance["adjusted"] == {"mode": ["std", "pro"]}
    assert probe_clip(out).has_audio


def test_kling_v2_6_without_sound_stays_std_and_records_nothing(tmp_path):
    with fake("kling", tmp_path) as api:
        result, _ = run(api, tmp_path, request(audio=False))
    _, body = sent(api)
    assert api.refused == [] and body["mode"] == "std" and body["sound"] == "off"
    assert "adjusted" not in result.provenance


@pytest.mark.parametrize("with_image", [False, True])
def test_kling_v3_takes_3_to_15_s_with_sound_in_std(with_image, tmp_path):
    req = request(duration_s=12.0, image=image(tmp_path) if with_image else None)
    with fake("kling", tmp_path) as api:
        result, out = run(api, tmp_path, req, "kling-v3")
    assert api.refused == [] and api.problems == []
    path, body = sent(api)
    assert path == ("/v1/videos/image2video" if with_image else "/v1/videos/text2video")
    assert body["model_name"] == "kling-v3" and body["duration"] == "12"
    assert body["mode"] == "std" and body["sound"] == "on"
    assert ("aspect_ratio" in body) is not with_image  # image-to-video follows the image
    assert "adjusted" not in result.provenance
    assert probe_clip(out).duration_s == pytest.approx(12, abs=0.2)


@pytest.mark.parametrize("with_image", [False, True])
def test_kling_v3_omni_posts_to_omni_video(with_image, tmp_path):
    req = request(duration_s=15.0, image=image(tmp_path) if with_image else None)
    with fake("kling", tmp_path) as api:
        result, _ = run(api, tmp_path, req, "kling-v3-omni")
    assert api.refused == [] and api.problems == []
    path, body = sent(api)
    assert path == "/v1/videos/omni-video"
    assert body["model_name"] == "kling-v3-omni" and body["duration"] == "15"
    assert body["multi_shot"] is False and body["sound"] == "on" and body["mode"] == "pro"
    if with_image:
        assert body["image_list"][0]["type"] == "first_frame" and "aspect_ratio" not in body
    else:
        assert body["aspect_ratio"] == "16:9" and "image_list" not in body
    assert result.provenance["endpoint"] == "kling-v3-omni"


def test_kling_v3_omni_multi_shot_goes_through_extra(tmp_path):
    with fake("kling", tmp_path) as api:
        run(
            api,
            tmp_path,
            None,
            "kling-v3-omni",
            **{"extra.multi_shot": "true", "extra.shot_type": "intelligence"},
        )
    _, body = sent(api)
    assert body["multi_shot"] is True and body["shot_type"] == "intelligence"


def test_kling_single_api_key_replaces_the_key_pair(monkeypatch, tmp_path):
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    with pytest.raises(InputError, match=r"KLING_ACCESS_KEY.*KLING_SECRET_KEY.*KLING_API_KEY"):
        build_generator("kling:kling-v3-omni")
    monkeypatch.setenv("KLING_API_KEY", KLING_KEY)
    with fake("kling", tmp_path) as api:
        run(api, tmp_path, None, "kling-v3-omni")
    assert api.refused == [] and api.problems == [] and len(api.jobs) == 1


def test_kling_fake_refuses_what_kling_refuses(tmp_path):
    """The loopback server is strict: an unknown field or std with sound on v2.6 is a 400."""
    with fake("kling", tmp_path) as api:
        with pytest.raises(GenerationError, match="unrecognized field.*colour"):
            run(api, tmp_path, **{"extra.colour": "red"})
        with pytest.raises(GenerationError, match="sound is only supported in pro"):
            run(api, tmp_path, **{"extra.mode": "std"})
        with pytest.raises(GenerationError, match="not supported in std mode for kling-v3-omni"):
            run(api, tmp_path, None, "kling-v3-omni", **{"extra.mode": "std"})
    assert len(api.refused) == 3 and not api.jobs


# ---------------------------------------------------------------------------------------- Runway
@pytest.mark.parametrize("resolution, word", [("720p", "720P"), ("1080p", "1080P")])
def test_runway_happyhorse_image_to_video_sends_its_own_form(resolution, word, tmp_path):
    req = request(image=image(tmp_path), resolution=resolution)
    with fake("runway", tmp_path) as api:
        result, _ = run(api, tmp_path, req, "happyhorse_1_0")
    assert api.refused == [] and api.problems == []
    path, body = sent(api)
    assert path == "/v1/image_to_video" and "ratio" not in body
    assert body["resolution"] == word and body["promptImage"].startswith("data:image/png")
    assert "adjusted" not in result.provenance


def test_runway_happyhorse_text_to_video_keeps_ratio(tmp_path):
    with fake("runway", tmp_path) as api:
        run(api, tmp_path, None, "happyhorse_1_0")
    _, body = sent(api)
    assert api.refused == [] and body["ratio"] == "1280:720" and "resolution" not in body


def test_runway_gen4_5_image_to_video_takes_the_square_its_form_offers(tmp_path):
    req = request(image=image(tmp_path), aspect="1:1")
    with fake("runway", tmp_path) as api:
        result, _ = run(api, tmp_path, req, "gen4.5")
    path, body = sent(api)
    assert api.refused == [] and api.problems == []
    assert path == "/v1/image_to_video" and body["ratio"] == "960:960"
    assert "adjusted" not in result.provenance


def test_runway_fake_refuses_ratio_on_happyhorse_image_to_video(tmp_path):
    req = request(image=image(tmp_path))
    with (
        fake("runway", tmp_path) as api,
        pytest.raises(GenerationError, match="Validation of body failed.*ratio"),
    ):
        run(api, tmp_path, req, "happyhorse_1_0", **{"extra.ratio": "1280:720"})
    assert api.refused and not api.jobs


# ---------------------------------------------------------------------------------------- OpenAI
@pytest.mark.parametrize("with_image", [False, True])
def test_openai_videos_are_posted_as_multipart(with_image, tmp_path):
    req = request(image=image(tmp_path) if with_image else None)
    with fake("openai", tmp_path) as api:
        run(api, tmp_path, req)
    assert api.refused == [] and api.problems == []
    _, body = sent(api)
    assert body["seconds"] == "4" and body["size"] == "1280x720" and body["model"] == "sora-2"
    if with_image:
        part = body["input_reference"]
        assert part["content_type"] == "image/png" and part["filename"] == "first.png"
    else:
        assert "input_reference" not in body


def test_openai_fake_refuses_json(tmp_path):
    import httpx

    with fake("openai", tmp_path) as api:
        answer = httpx.post(
            f"{api.url}/v1/videos",
            json={"model": "sora-2", "prompt": "x"},
            headers={"Authorization": "Bearer test-secret"},
        )
    assert answer.status_code == 400 and "multipart/form-data" in answer.text


# ---------------------------------------------------------------------------------------- Replicate
def test_replicate_aborted_is_a_final_failure_with_its_reason(tmp_path):
    with (
        fake("replicate", tmp_path, Script(outcome="aborted")) as api,
        pytest.raises(GenerationError, match=r"job \S+ failed: aborted") as caught,
    ):
        run(api, tmp_path, job_timeout_s=5)
    assert "deadline before it could start" in str(caught.value)
    assert "still" not in str(caught.value) and api.downloads == 0
