"""Provider kinds against loopback servers that speak each provider's documented protocol."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from provider_support import ENV, TARGET, Script, fake

from generators.base import GenerationRequest
from generators.decode import probe_clip
from generators.errors import GenerationError, InputError, ModerationRefusal, UnknownGeneratorError
from generators.providers.auth import hs256_jwt, sign_hs256, verify_hs256_jwt
from generators.registry import build_generator

KINDS = list(TARGET)
SOUND = {
    "fal": False,
    "replicate": False,
    "runway": False,
    "luma": False,
    "google": True,
    "openai": True,
    "byteplus": True,
    "kling": True,
}
INVALID = {
    "fal": "permitted: '5', '10'",
    "replicate": "Must be less than or equal to 12",
    "runway": "duration must be at most 10",
    "luma": "duration must be one of 5s, 9s",
    "google": "durationSeconds must be one of 4, 6, 8",
    "openai": "Supported values are",
    "byteplus": "InvalidParameter",
    "kling": "Invalid request parameters",
}


@pytest.fixture(autouse=True)
def keys(monkeypatch, tmp_path):
    for env in ENV.values():
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("PADDOCK_SLOT_DIR", str(tmp_path / "slots"))


def request(**kw) -> GenerationRequest:
    base = dict(prompt="a fox says hello to the camera", seed=3, duration_s=5.0, fps=24)
    base.update(kw)
    return GenerationRequest(**base)


def run(api, tmp_path: Path, req: GenerationRequest | None = None, **options):
    out = tmp_path / "out" / "clip.mp4"
    result = build_generator(api.spec(**options)).generate(req or request(), str(out))
    return result, out


def image(tmp_path: Path) -> str:
    from PIL import Image

    path = tmp_path / "first.png"
    Image.new("RGB", (32, 18), (200, 30, 30)).save(path)
    return str(path)


@pytest.mark.parametrize("kind", KINDS)
def test_a_clip_arrives_checked_with_request_id_cost_and_rounding(kind, tmp_path):
    with fake(kind, tmp_path) as api:
        result, out = run(api, tmp_path)
    assert api.problems == [] and api.submits == 1 and len(api.jobs) == 1
    info = probe_clip(out)
    sent = {"google": 4, "openai": 4}.get(kind, 5)
    assert info.duration_s == pytest.approx(sent, abs=0.2)
    assert result.has_audio is SOUND[kind] and info.has_audio is SOUND[kind]
    record = result.provenance
    assert record["provider"] == kind and record["endpoint"] == TARGET[kind]
    job_id = next(iter(api.jobs))
    assert job_id in record["job_id"]
    assert record["request_id"] == {"kling": f"req-{job_id}"}.get(kind, record["job_id"])
    costs = {
        "fal": ("inference_time_s", 41.5),
        "replicate": ("predict_time_s", 37.2),
        "byteplus": ("usage_tokens", 108900),
    }
    if kind in costs:
        assert record[costs[kind][0]] == costs[kind][1]
    if kind in ("google", "openai"):  # 5 s is not offered: the nearest length, recorded
        assert record["adjusted"] == {"duration_s": [5.0, 4]}
    elif kind == "kling":  # kling-v2-6 makes sound in pro mode only: asked so, and recorded
        assert record["adjusted"] == {"mode": ["std", "pro"]}
    else:
        assert "adjusted" not in record
    assert [p.name for p in out.parent.iterdir()] == ["clip.mp4"]


@pytest.mark.parametrize("kind", ["runway", "google", "openai", "byteplus", "kling"])
def test_image_to_video_sends_the_image_the_documented_way(kind, tmp_path):
    with fake(kind, tmp_path) as api:
        run(api, tmp_path, request(image=image(tmp_path)))
    assert api.problems == []
    body = next(iter(api.jobs.values()))["body"]
    if kind == "google":
        assert body["instances"][0]["image"]["mimeType"] == "image/png"
    if kind == "byteplus":
        assert body["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_key_is_one_line_naming_the_variable(kind, tmp_path):
    with (
        fake(kind, tmp_path, Script(submit_faults=["401"])) as api,
        pytest.raises(GenerationError) as caught,
    ):
        run(api, tmp_path)
    message = str(caught.value)
    assert "\n" not in message and "did not accept the credentials" in message
    assert all(name in message for name in ENV[kind])
    assert api.submits == 1  # not retried


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_parameters_carry_the_providers_message(kind, tmp_path):
    with (
        fake(kind, tmp_path, Script(submit_faults=["422"])) as api,
        pytest.raises(GenerationError, match="submit refused with HTTP 4") as caught,
    ):
        run(api, tmp_path)
    assert INVALID[kind] in str(caught.value) and api.submits == 1
    assert not isinstance(caught.value, ModerationRefusal)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("when", ["submit", "job"])
def test_a_moderation_refusal_is_recorded_and_not_retried(kind, when, tmp_path):
    script = (
        Script(submit_faults=["moderation"]) if when == "submit" else Script(outcome="moderation")
    )
    with (
        fake(kind, tmp_path, script) as api,
        pytest.raises(ModerationRefusal, match=rf"^{kind}:\S+: .*(refused)") as caught,
    ):
        run(api, tmp_path)
    assert "\n" not in str(caught.value)
    assert api.submits == 1 and api.downloads == 0
    out = tmp_path / "out"
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("kind", KINDS)
def test_429_waits_as_long_as_retry_after_says(kind, tmp_path):
    # backoff_s is 0.01 s: only the header can make the client wait a second
    with fake(kind, tmp_path, Script(submit_faults=["429"], retry_after="1")) as api:
        start = time.monotonic()
        run(api, tmp_path)
        waited = time.monotonic() - start
    assert waited >= 0.95 and api.submits == 2 and len(api.jobs) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_job_is_a_clear_error(kind, tmp_path):
    with (
        fake(kind, tmp_path, Script(outcome="failed")) as api,
        pytest.raises(GenerationError, match=r"job \S+ failed: ") as caught,
    ):
        run(api, tmp_path)
    assert not isinstance(caught.value, ModerationRefusal) and api.submits == 1


@pytest.mark.parametrize("kind", KINDS)
def test_an_expired_result_url_is_fetched_again(kind, tmp_path):
    with fake(kind, tmp_path, Script(result="expired_once")) as api:
        result, out = run(api, tmp_path)
    assert out.is_file() and api.downloads == 2 and api.submits == 1


def test_a_url_that_stays_expired_fails_and_leaves_nothing(tmp_path):
    with (
        fake("byteplus", tmp_path, Script(result="expired_always")) as api,
        pytest.raises(GenerationError, match="keeps answering as expired"),
    ):
        run(api, tmp_path)
    assert not list((tmp_path / "out").iterdir())


def test_fit_refuse_names_the_allowed_values(tmp_path):
    with fake("google", tmp_path) as api:
        with pytest.raises(GenerationError, match=r"duration 5 s is not offered: .*4, 6, 8"):
            run(api, tmp_path, fit="refuse")
        # 1:1 is as far from 16:9 as from 9:16: refused even when rounding
        with pytest.raises(GenerationError, match=r"aspect 1:1 is not offered: .*16:9, 9:16"):
            run(api, tmp_path, request(aspect="1:1"))
        result, _ = run(api, tmp_path, request(resolution="480p"))
    assert api.submits == 1 and result.provenance["adjusted"]["resolution"] == ["480p", "720p"]


def test_a_text_only_endpoint_takes_no_image(tmp_path):
    with fake("fal", tmp_path) as api:
        generator = build_generator(api.spec())
        assert generator.categories() == {"t2v"}
        with pytest.raises(GenerationError, match="takes no image-to-video prompt"):
            generator.generate(request(image=image(tmp_path)), str(tmp_path / "x.mp4"))
    assert api.submits == 0
    assert build_generator("runway:gen4_turbo").categories() == {"i2v"}


def test_max_concurrent_holds_jobs_in_flight_to_the_limit(tmp_path):
    with fake("byteplus", tmp_path, Script(hold_s=0.3)) as api:
        errors: list[BaseException] = []

        def one(i: int) -> None:
            try:
                out = tmp_path / f"out{i}" / "clip.mp4"
                gen = build_generator(api.spec(max_concurrent=1))
                gen.generate(request(seed=i), str(out))
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == [] and len(api.jobs) == 3 and api.max_running == 1


def test_kling_jwt_is_hs256_signed_with_the_secret():
    # RFC 7519's HS256 example as published on jwt.io: the same header, payload and secret
    token = sign_hs256(
        {"sub": "1234567890", "name": "John Doe", "iat": 1516239022}, "your-256-bit-secret"
    )
    assert token.endswith(".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
    now = 1_800_000_000
    made = hs256_jwt("ak", "sk", now=now)
    assert verify_hs256_jwt(made, "sk", now=now + 10) == {
        "iss": "ak",
        "exp": now + 1800,
        "nbf": now - 5,
    }
    with pytest.raises(ValueError, match="bad signature"):
        verify_hs256_jwt(made, "other", now=now)
    with pytest.raises(ValueError, match="not valid now"):
        verify_hs256_jwt(made, "sk", now=now + 1801)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("fal:kling", "not a fal endpoint id"),
        ("replicate:just-a-name", "not a Replicate model"),
        ("runway:gen5", "unknown Runway model; known: gen4.5"),
        ("runway:gen3a_turbo", "retired Gen-3 Alpha Turbo on 2026-07-30"),
        ("luma:ray-9", "unknown Luma model"),
        ("google:gemini-pro", "not a Veo model id"),
        ("openai:sora-2", "shut the Videos API .* down on 2026-09-24"),
        ("byteplus:seed dance", "not a ModelArk model"),
        ("kling:v2", "not a Kling model name"),
        ("fal:fal-ai/veo3?colour=red", r"unknown option\(s\) colour"),
        ("kling:kling-v2-6?fit=maybe", "fit='maybe': use round or refuse"),
        ("luma:ray-2?max_concurrent=0", "max_concurrent=0 is out of range"),
        ("luma:ray-2?base_url=ftp://x", "not an http"),
        ("fal:", "needs a target of the form"),
    ],
)
def test_bad_specs_are_refused_when_built(spec, message):
    with pytest.raises(InputError, match=message):
        build_generator(spec)


def test_missing_credentials_are_named_when_built(monkeypatch):
    monkeypatch.delenv("KLING_SECRET_KEY")
    with pytest.raises(InputError, match=r"variable KLING_SECRET_KEY \(Kling credentials\)"):
        build_generator("kling:kling-v2-6")
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(InputError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        build_generator("google:veo-3.1-generate-preview")
    monkeypatch.setenv("GOOGLE_API_KEY", "x")
    build_generator("google:veo-3.1-generate-preview")
    with pytest.raises(UnknownGeneratorError, match="unknown generator kind 'sora'"):
        build_generator("sora:sora-2")


def test_extra_fields_reach_the_request(tmp_path):
    with fake("kling", tmp_path) as api:
        run(api, tmp_path, **{"extra.mode": "pro", "extra.cfg_scale": "0.7"})
    body = next(iter(api.jobs.values()))["body"]
    assert body["mode"] == "pro" and body["cfg_scale"] == 0.7 and api.problems == []


def test_runway_sends_each_model_only_the_fields_its_form_takes():
    values = {
        "model": "m",
        "prompt": "p",
        "aspect": "1280:720",
        "duration": 8,
        "seed": 3,
        "audio": True,
        "image_data_uri": None,
    }
    veo = build_generator("runway:veo3.1").body(values, image=False)
    assert set(veo) == {"model", "promptText", "ratio", "duration"}  # no seed field for Veo
    seedance = build_generator("runway:seedance2").body(values, image=False)
    assert seedance["audio"] is True and "seed" not in seedance
    assert build_generator("runway:gen4.5").body(values, image=False)["seed"] == 3


def test_retry_after_reads_seconds_and_dates_and_is_capped():
    from email.utils import formatdate

    from generators.http_jobs import retry_after_s

    assert retry_after_s("2") == 2.0 and retry_after_s(None) is None
    assert retry_after_s("soon") is None and retry_after_s("nan") is None
    assert retry_after_s("86400") == 300.0  # a hostile header cannot stall a run for a day
    assert 8.0 <= retry_after_s(formatdate(time.time() + 10, usegmt=True)) <= 10.0
    assert retry_after_s(formatdate(time.time() - 60, usegmt=True)) == 0.0
