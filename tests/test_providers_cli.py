"""`paddock providers`, provider models added and validated, and a suite run that reaches a battle."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from provider_support import ENV, TARGET, fake

from arena.domain.battles import serve_battle
from arena.domain.registration import register_model
from arena.domain.scheduler import Scheduler
from arena.io.prompt_files import ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.store import Store
from generators.clipcheck import check_media
from generators.errors import GenerationError, InputError
from generators.providers.overview import check_provider

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]


def paddock(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not any(k in e for e in ENV.values())}
    return subprocess.run(
        [*PADDOCK, *args], capture_output=True, text=True, timeout=300, env={**clean, **env}
    )


@pytest.fixture
def keys(monkeypatch, tmp_path):
    for env in ENV.values():
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("PADDOCK_SLOT_DIR", str(tmp_path / "slots"))


def test_a_new_provider_is_its_module_and_one_row(tmp_path, monkeypatch):
    """A provider's example lives in its own module: the table row is all `providers list` and
    the key check need besides it."""
    import generators.providers as providers
    from generators.providers import overview

    (tmp_path / "acme_videos.py").write_text(
        "from dataclasses import replace\n"
        "from generators.providers.luma import PROTOCOL as LUMA\n"
        "PROTOCOL = replace(LUMA, kind='acme', title='Acme', example='ray-flash-2')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    rows = (*providers.PROVIDER_MODULES, ("acme", "acme_videos"))
    monkeypatch.setattr(providers, "PROVIDER_MODULES", rows)
    monkeypatch.setattr(overview, "PROVIDER_MODULES", rows)
    acme = {row.kind: row for row in overview.provider_rows()}["acme"]
    assert acme.example == "acme:ray-flash-2" and acme.t2v


def test_list_shows_every_preset_and_which_variables_are_set_never_their_values(data_dir):
    result = paddock("providers", "list", env={"FAL_KEY": "very-secret-value"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "very-secret-value" not in out
    lines = {line.split("\t")[0]: line for line in out.splitlines() if not line.startswith("\t")}
    assert set(lines) == set(TARGET)
    assert "FAL_KEY (set)" in lines["fal"] and "ARK_API_KEY (not set)" in lines["byteplus"]
    assert "T2V/I2V, audio" in lines["google"] and "T2V, silent" in lines["luma"]
    assert "shut the Videos API (Sora 2) down on 2026-09-24" in out
    # adding a model with a missing key: one line, exit 2, nothing written
    added = paddock(
        "models",
        "add",
        "kling",
        "--generator",
        f"fal:{TARGET['fal']}",
        "--data",
        str(data_dir),
        env={},
    )
    assert added.returncode == 2 and added.stderr.count("\n") == 1
    assert "environment variable FAL_KEY" in added.stderr
    with Store.open(data_dir) as store:
        assert store.find_model("kling") is None


@pytest.mark.parametrize("kind", [k for k in TARGET if k != "fal"])
def test_check_makes_the_cheapest_authenticated_call(kind, tmp_path, keys, monkeypatch):
    with fake(kind, tmp_path) as api:
        assert "credentials accepted" in check_provider(kind, base_url=api.url)
        for name in ENV[kind]:
            monkeypatch.setenv(name, "wrong")
        with pytest.raises(GenerationError, match=r"HTTP 40\d .*were not accepted"):
            check_provider(kind, base_url=api.url)
    assert api.problems == [] and api.submits == 0


def test_check_says_when_a_provider_has_no_such_call(keys):
    assert "documents no free authenticated call; nothing was sent" in check_provider("fal")
    assert "nothing was sent" in check_provider("openai")  # retired: no request is made
    with pytest.raises(InputError, match="unknown provider 'sora'"):
        check_provider("sora")


def test_models_are_added_as_remote_apis_and_validated(data_dir, keys, tmp_path):
    with Store.open(data_dir) as store:
        model = register_model(store, "kling-fal", f"fal:{TARGET['fal']}")
        assert model.kind == "http"
        with pytest.raises(InputError, match="not a Kling model name"):
            register_model(store, "bad", "kling:v9")
        assert store.find_model("bad") is None
    from arena.io.models_file import load_models_file

    toml = tmp_path / "paddock.toml"
    toml.write_text(
        '[models.veo]\ngenerator = "google:veo-3.1-generate-preview"\n'
        'base_url = "http://127.0.0.1:9"\nmax_concurrent = 2\n'
        '[models.seedance]\ngenerator = "byteplus:seedance-1-5-pro-251215"\n'
    )
    decls = {d.name: d for d in load_models_file(toml)}
    assert decls["veo"].kind == "http" and "base_url=http://127.0.0.1:9" in decls["veo"].spec
    toml.write_text('[models.x]\ngenerator = "runway:gen4.5"\ncolour = "red"\n')
    with pytest.raises(InputError, match=r"\[models.x\]: runway:gen4.5: unknown option"):
        load_models_file(toml)


def test_the_default_suite_through_two_presets_reaches_a_battle(data_dir, keys, tmp_path):
    with (
        fake("kling", tmp_path) as kling,
        fake("byteplus", tmp_path) as ark,
        Store.open(data_dir) as store,
    ):
        prompts = [p for p in ensure_suite(store) if p.category == "t2v"][:2]
        for name, api in (("kling-v2-6", kling), ("seedance-1-5", ark)):
            register_model(store, name, api.spec())
        models = [store.model_by_name("kling-v2-6"), store.model_by_name("seedance-1-5")]
        settings = GenerationSettings(duration_s=5.0, resolution="720p", aspect="16:9", fps=24)
        report = generate_missing(store, models, prompts, settings, workers=0)
        assert report.failed == [] and report.made == 4
        for clip in store.clips():
            check_media(store.data_dir / clip.path, expects_audio=True)
            record = store.clip_params(clip.id)
            assert record["provider"] in ("kling", "byteplus") and record["request_id"]
        view = serve_battle(store, Scheduler(store, seed=0), "rater-0001")
        battle = store.battle(view.battle_id)
        names = {m.id: m.name for m in store.models()}
        clip_model = {c.id: names[c.model_id] for c in store.clips()}
        assert {clip_model[battle.left_clip], clip_model[battle.right_clip]} == {
            "kling-v2-6",
            "seedance-1-5",
        }
    assert kling.problems == [] and ark.problems == []
