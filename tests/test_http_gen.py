"""`http:` generators against a real queue API on loopback, with its failures scripted."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_support import TOKEN, QueueApi, Script

from generators.base import GenerationRequest
from generators.decode import probe_clip
from generators.errors import GenerationError, InputError
from generators.http_jobs import field_at, idempotency_key, render_template
from generators.registry import build_generator


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("ACME_TEST_KEY", TOKEN)


def request(**kw) -> GenerationRequest:
    base = dict(prompt="a cat runs in the rain", seed=3, duration_s=1.0, fps=12, resolution="480p")
    base.update(kw)
    return GenerationRequest(**base)


def generator(api: QueueApi, tmp_path: Path, **overrides):
    config = tmp_path / "paddock.toml"
    config.write_text(api.toml(**overrides))
    return build_generator(f"http:acme?config={config}")


def run(api: QueueApi, tmp_path: Path, req: GenerationRequest | None = None, **overrides):
    out = tmp_path / "out" / "clip.mp4"
    result = generator(api, tmp_path, **overrides).generate(req or request(), str(out))
    return result, out


def test_submit_poll_download_gives_a_checked_clip_with_its_latency(tmp_path):
    with QueueApi(tmp_path, Script(polls_until_done=3)) as api:
        result, out = run(api, tmp_path)
        info = probe_clip(out)
        assert (info.width, info.height) == (854, 480) and info.has_audio
        assert result.has_audio and result.duration_s == pytest.approx(1.0, abs=0.1)
        assert result.seconds >= 2 * 0.02  # waited for at least two polls
        assert api.submits == 1 and len(api.jobs) == 1
        job = next(iter(api.jobs.values()))
        # the template keeps types where a value stands alone and formats text elsewhere
        assert job["body"]["seed"] == 3 and job["body"]["width"] == 854
        assert job["body"]["audio"] is True and job["body"]["note"] == "seed 3 for paddock"
        assert job["body"]["image"] is None and job["polls"] == 3
        assert all(a == f"Bearer {TOKEN}" for a in api.auth_seen)
        # no part file is left beside the clip
        assert [p.name for p in out.parent.iterdir()] == ["clip.mp4"]


def test_image_to_video_sends_the_image_as_a_data_uri(tmp_path):
    from PIL import Image

    image = tmp_path / "in.png"
    Image.new("RGB", (32, 24), (200, 10, 10)).save(image)
    with QueueApi(tmp_path) as api:
        run(api, tmp_path, request(image=str(image)))
        body = next(iter(api.jobs.values()))["body"]
        assert body["image"].startswith("data:image/png;base64,")
        assert generator(api, tmp_path).categories() == {"t2v", "i2v"}


def test_transient_faults_are_retried_and_a_retried_submit_makes_one_job(tmp_path):
    script = Script(
        submit_faults=["500", "timeout", "malformed"], status_faults=["500", "malformed"]
    )
    with QueueApi(tmp_path, script) as api:
        result, out = run(api, tmp_path)
        assert out.is_file() and result.duration_s == pytest.approx(1.0, abs=0.1)
        # four submits reached the server (one stalled past the client's timeout after making
        # the job): the idempotency key made them all the same job
        assert api.submits == 4
        assert len(api.jobs) == 1


def test_a_resumed_run_finds_the_same_job_by_its_key(tmp_path):
    with QueueApi(tmp_path) as api:
        run(api, tmp_path)
        run(api, tmp_path)
        assert api.submits == 2 and len(api.jobs) == 1
        run(api, tmp_path, request(seed=4))
        assert len(api.jobs) == 2
    assert idempotency_key("acme", request()) == idempotency_key("acme", request())
    assert idempotency_key("acme", request()) != idempotency_key("other", request())


def test_an_expired_result_url_is_refreshed_from_the_job(tmp_path):
    with QueueApi(tmp_path, Script(result="expired_once")) as api:
        result, out = run(api, tmp_path)
        assert out.is_file() and api.downloads == 2


@pytest.mark.parametrize(
    "script, overrides, message",
    [
        (Script(submit_faults=["500"] * 4), {}, r"submit failed after 4 tries: HTTP 503"),
        (Script(submit_faults=["malformed"] * 4), {}, r"submit failed .*malformed JSON"),
        (Script(status_faults=["timeout"] * 4), {}, r"status of job \w+ failed .*no answer"),
        (Script(polls_until_done=None), {"job_timeout_s": 0.5}, r"still 'running' after 0.5 s"),
        (Script(fail_prompts=("cat",)), {}, r"job \w+ failed: content policy"),
        (Script(result="html"), {}, r"is 'text/html', not a video"),
        (Script(result="expired_always"), {}, r"keeps answering as expired"),
        (Script(result="long"), {}, r"returned a 3.00 s clip, asked for 1 s"),
        (Script(result="small"), {}, r"returned 426x240 frames, asked for 854x480"),
        (Script(), {"id_field": "job.uuid"}, r"no job id at 'job.uuid'"),
        (Script(), {"result_field": "output.url"}, r"without a result URL at 'output.url'"),
    ],
    ids=[
        "5xx",
        "malformed-json",
        "timeouts",
        "never-finishes",
        "job-failed",
        "wrong-content-type",
        "expired-url",
        "wrong-length",
        "wrong-resolution",
        "no-job-id",
        "no-result-url",
    ],
)
def test_api_failures_are_clear_errors_and_leave_nothing(tmp_path, script, overrides, message):
    with QueueApi(tmp_path, script) as api, pytest.raises(GenerationError, match=message):
        run(api, tmp_path, **overrides)
    out = tmp_path / "out"
    assert not out.exists() or not list(out.iterdir())


def test_missing_or_wrong_key_is_named(tmp_path, monkeypatch):
    with QueueApi(tmp_path) as api:
        monkeypatch.delenv("ACME_TEST_KEY")
        with pytest.raises(GenerationError, match="ACME_TEST_KEY .* is not set"):
            run(api, tmp_path)
        monkeypatch.setenv("ACME_TEST_KEY", "wrong")
        with pytest.raises(GenerationError, match="submit refused with HTTP 401"):
            run(api, tmp_path)
        assert api.submits == 0


def test_t2v_only_api_refuses_an_image_prompt(tmp_path):
    config = tmp_path / "paddock.toml"
    config.write_text('[http.plain]\nendpoint = "http://127.0.0.1:9/v1"\n')
    gen = build_generator(f"http:plain?config={config}")
    assert gen.categories() == {"t2v"}
    with pytest.raises(GenerationError, match="cannot take an image-to-video prompt"):
        gen.generate(request(image=str(config)), str(tmp_path / "x.mp4"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("[http.acme]\n", "endpoint: Field required"),
        ('[http.acme]\nendpoint = "ftp://x"\n', "not an http"),
        ('[http.acme]\nendpoint = "http://x"\nretries = -1\n', "retries"),
        (
            '[http.acme]\nendpoint = "http://x"\nrequest = { p = "{promt}" }\n',
            "unknown placeholder",
        ),
        ('[http.acme]\nendpoint = "http://x"\ncolour = 1\n', "colour: Extra inputs"),
        ('[http.other]\nendpoint = "http://x"\n', r"no \[http.acme\] section \(known: other\)"),
        ("[http.acme\n", "not valid TOML"),
    ],
)
def test_bad_api_configs_are_refused_when_built(tmp_path, text, message):
    config = tmp_path / "paddock.toml"
    config.write_text(text)
    with pytest.raises(InputError, match=message):
        build_generator(f"http:acme?config={config}")


def test_template_and_field_paths():
    values = {"prompt": "p", "seed": 7, "duration_s": 2.5}
    assert render_template({"a": "{seed}", "b": "s={seed}", "c": ["{prompt}", 1]}, values) == {
        "a": 7,
        "b": "s=7",
        "c": ["p", 1],
    }
    payload = {"output": [{"url": "u"}], "state": "done"}
    assert field_at(payload, "output.0.url") == "u"
    assert field_at(payload, "output.1.url") is None and field_at(payload, "state.x") is None
