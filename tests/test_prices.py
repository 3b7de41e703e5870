"""What clips cost and how long they waited: the price table, paddock.toml's prices, the price
and queue time each clip records, and the budget before and during `generate --suite`."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from price_support import TABLED_FAL, CostingReplicate, QueuedFal
from provider_support import ENV

from arena.io.models_file import load_models_file, load_price_overrides
from arena.jobs.budget import check_budget, estimate_generation, estimate_lines
from arena.jobs.generation import GenerationSettings, generate_missing, missing_pairs
from arena.store import Store
from generators.errors import InputError
from generators.pricing import (
    PriceOverride,
    clip_price,
    expected_price,
    price_table,
    rule_price,
)

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]
SETTINGS = GenerationSettings(duration_s=5.0, resolution="720p", fps=8)


@pytest.fixture(autouse=True)
def keys(monkeypatch, tmp_path):
    for kind in ("fal", "replicate"):
        for name, value in ENV[kind].items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("PADDOCK_SLOT_DIR", str(tmp_path / "slots"))


def toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "paddock.toml"
    path.write_text(body)
    return path


# ---------------------------------------------------------------------------- the table
def test_every_table_row_is_dated_with_its_page_and_unconfirmed_rows_say_why():
    rows = price_table()
    assert ("fal", TABLED_FAL) in rows and ("google", "veo-3.1-generate-preview") in rows
    for row in rows.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", row.read), row
        assert row.page.startswith("https://"), row
        assert row.confirmed or row.note, f"{row.provider}:{row.model} unconfirmed without a note"


def test_a_bad_table_row_names_its_provider_model_and_key(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text(
        '[acme]\npage = "https://acme.example/pricing"\nread = "2026-12-05"\n'
        '[acme.models."v1"]\nusd_per_s = { "2160p" = 0.5 }\n'
    )
    with pytest.raises(InputError) as err:
        price_table(str(path))
    assert str(err.value).startswith(f'{path} [acme.models."v1"] usd_per_s.2160p: unknown resol')


def test_a_price_depends_on_resolution_and_sound_where_the_table_says():
    fal = f"fal:{TABLED_FAL}"
    assert expected_price(fal, "720p", True, 5).usd == pytest.approx(0.70)
    assert expected_price(fal, "720p", False, 5).usd == pytest.approx(0.35)
    pro = "openai:sora-2-pro"
    assert expected_price(pro, "720p", True, 4).usd == pytest.approx(1.20)
    assert expected_price(pro, "1080p", True, 4).usd == pytest.approx(2.00)
    missing = expected_price("openai:sora-2", "1080p", True, 4)
    assert (missing.usd, missing.source) == (None, "unknown") and "1080p" in missing.reason
    assert expected_price(fal, "720p", True, 5).source == "table:2026-12-05"
    unknown = expected_price("replicate:bytedance/seedance-1-pro", "720p", True, 5)
    assert unknown.source == "unknown" and unknown.usd is None


def test_local_models_cost_compute_time_at_a_rate_or_show_time_only():
    cpu = PriceOverride(per_cpu_hour=3.6)
    assert expected_price("builtin:pony", "720p", True, 5, cpu, generation_s=10).usd == 0.01
    assert expected_price("builtin:pony", "720p", True, 5).source == "local"
    gpu = PriceOverride(per_gpu_hour=7.2, per_cpu_hour=3.6)
    priced = expected_price("diffusers:org/model", "720p", True, 5, gpu, generation_s=10)
    assert (priced.usd, priced.source) == (0.02, "compute")


def test_a_reported_cost_wins_and_one_that_cannot_be_read_leaves_the_price_unknown(caplog):
    fal = f"fal:{TABLED_FAL}"
    assert clip_price(fal, {"cost_usd": "0.33"}, "720p", True, 5, 9.0).source == "reported"
    with caplog.at_level(logging.WARNING):
        bad = clip_price(fal, {"cost_usd": {"amount": "?"}}, "720p", True, 5, 9.0)
    assert (bad.usd, bad.source) == (None, "unknown")
    assert "not a number of US dollars" in caplog.text
    negative = clip_price(fal, {"cost_usd": -1}, "720p", True, 5, 9.0)
    assert negative.source == "unknown"


# ---------------------------------------------------------------------------- paddock.toml
def test_overrides_per_second_and_by_resolution_are_read_and_kept_out_of_the_spec(tmp_path):
    path = toml(
        tmp_path,
        '[models.flat]\ngenerator = "builtin:pony"\nprice_per_s = 0.10\n\n'
        '[models.tiers]\ngenerator = "builtin:pony-lag"\n'
        'price = { "720p" = 0.05, "1080p" = { sound = 0.09, silent = 0.08 } }\n\n'
        '[models.hourly]\ngenerator = "builtin:pony-mute"\nprice_per_cpu_hour = 1.5\n',
    )
    found = load_price_overrides(path)
    assert rule_price(found["flat"].rule, "1080p", False) == 0.10
    assert rule_price(found["tiers"].rule, "720p", True) == 0.05
    assert rule_price(found["tiers"].rule, "1080p", False) == 0.08
    assert rule_price(found["tiers"].rule, "480p", True) is None
    assert found["hourly"].per_cpu_hour == 1.5
    decls = {d.name: d for d in load_models_file(path)}
    assert "price" not in decls["flat"].spec and decls["flat"].params == {}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("price_per_s = -0.1", "[models.acme] price_per_s: must be zero or more US dollars"),
        ('price_per_s = "cheap"', "[models.acme] price_per_s: must be a number of US dollars"),
        ('price = { "4k" = 0.5 }', "[models.acme] price.4k: unknown resolution '4k'"),
        ('price = { "720p" = "x" }', "[models.acme] price.720p: must be a number"),
        ("price_per_gpu_hour = -2", "[models.acme] price_per_gpu_hour: must be zero or more"),
        ('price_per_s = 1\nprice = { "720p" = 1 }', "[models.acme] price: give price_per_s or"),
    ],
)
def test_a_bad_price_is_one_line_naming_the_model_and_key(tmp_path, line, message):
    path = toml(tmp_path, f'[models.acme]\ngenerator = "builtin:pony"\n{line}\n')
    for read in (load_price_overrides, load_models_file):
        with pytest.raises(InputError) as err:
            read(path)
        assert str(err.value).startswith(f"{path} {message}"), str(err.value)
        assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------- generating
def _store(tmp_path: Path, specs: dict[str, str], n_prompts: int) -> Store:
    store = Store.open(tmp_path / "data")
    store.add_models([{"name": n, "kind": "http", "generator": s} for n, s in specs.items()])
    store.upsert_prompts(_prompts(n_prompts))
    return store


def _prompts(n: int):
    from arena.domain.suite import SuitePrompt

    return [
        SuitePrompt(f"t{i}", f"a fox number {i} says hello", "t2v", True, (), None, 0, "test")
        for i in range(n)
    ]


def _frame(store: Store):
    return store.clips_frame().set_index("model")


def test_each_clip_records_its_price_source_and_queue_wait(tmp_path, caplog):
    with (
        CostingReplicate(tmp_path / "r") as costing,
        CostingReplicate(tmp_path / "u", cost="n/a") as garbled,
        QueuedFal(tmp_path / "f") as tabled,
    ):
        specs = {
            "costing": costing.spec(cost_field="billing.usd"),
            "garbled": garbled.spec(cost_field="billing.usd"),
            "tabled": tabled.spec(TABLED_FAL),
            "priced": tabled.spec(TABLED_FAL, retries=2),  # the same endpoint, its own price
        }
        store = _store(tmp_path, specs, 1)
        prices = {"priced": PriceOverride(rule={"*": {"*": 0.02}})}
        with caplog.at_level(logging.WARNING):
            report = generate_missing(
                store, store.models(), store.prompts(), SETTINGS, workers=0, prices=prices
            )
        assert report.made == 4 and not report.failed, report.failed
        assert not costing.problems and not tabled.problems, tabled.problems
        clips = _frame(store)
        assert clips.loc["costing", "price_usd"] == pytest.approx(0.42)
        assert clips.loc["costing", "price_source"] == "reported"
        assert clips.loc["costing", "queue_s"] == pytest.approx(2.5)  # created_at -> started_at
        assert clips.loc["garbled", "price_source"] == "unknown"
        assert clips.loc["garbled", "price_usd"] != clips.loc["garbled", "price_usd"]  # NaN
        assert "'n/a' is not a number of US dollars" in caplog.text
        assert clips.loc["tabled", "price_usd"] == pytest.approx(0.70)  # 5 s with sound
        assert clips.loc["tabled", "price_source"] == "table:2026-12-05"
        assert clips.loc["tabled", "queue_s"] > 0  # the first poll found it IN_QUEUE
        assert clips.loc["priced", "price_usd"] == pytest.approx(0.10)
        assert clips.loc["priced", "price_source"] == "config"
        assert report.spent_usd == pytest.approx(0.42 + 0.70 + 0.10)
        store.close()


def test_max_cost_during_the_run_finishes_the_clips_in_flight_and_starts_no_more(tmp_path):
    with CostingReplicate(tmp_path / "r", cost=0.42) as costing:
        store = _store(tmp_path, {"costing": costing.spec(cost_field="billing.usd")}, 4)
        report = generate_missing(
            store, store.models(), store.prompts(), SETTINGS, workers=0, max_cost=0.5
        )
        # in-process, two clips are in flight at a time: the second passes 0.50, both are kept
        assert report.over_budget and report.made == 2 and costing.submits == 2
        assert report.spent_usd == pytest.approx(0.84)
        assert len(store.clips("costing")) == 2
        store.close()


def test_the_estimate_makes_no_request_and_writes_nothing(tmp_path):
    with (
        CostingReplicate(tmp_path / "r") as costing,
        QueuedFal(tmp_path / "f") as tabled,
    ):
        specs = {"costing": costing.spec(), "tabled": tabled.spec(TABLED_FAL, max_concurrent=3)}
        store = _store(tmp_path, specs, 1)
        generate_missing(store, store.models(), store.prompts(), SETTINGS, workers=0)
        submits = costing.submits + tabled.submits
        prompts = _prompts(4)  # three not made yet
        pairs = missing_pairs(store, store.models(), prompts)
        estimate = estimate_generation(store, store.models(), pairs, SETTINGS, workers=4)
        rows = {r.model: r for r in estimate}
        assert costing.submits + tabled.submits == submits
        assert len(store.clips()) == 2 and len(store.prompts()) == 1
        fal = rows["tabled"]
        assert fal.clips == 3 and fal.price_usd == pytest.approx(2.10)
        assert fal.sources == ("table:2026-12-05",) and fal.parallel == 3
        assert fal.time_s == pytest.approx(fal.median_generation_s, abs=0.1)  # 3 at a time
        assert rows["costing"].price_usd is None and rows["costing"].unpriced == 3
        lines = estimate_lines(rows.values())
        assert any(line.startswith("tabled: 3 clip(s), $2.10") for line in lines), lines
        assert any("costing: 3 clip(s), price unknown" in line for line in lines), lines
        with pytest.raises(InputError, match="no expected price for costing"):
            check_budget(list(rows.values()), 100.0)
        with pytest.raises(InputError, match=r"expected price is \$2.10"):
            check_budget([rows["tabled"]], 2.0)
        check_budget([rows["tabled"]], 2.5)
        store.close()


# ---------------------------------------------------------------------------- the command
def paddock(*args: str, env: dict | None = None, cwd: Path | None = None):
    import os

    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [*PADDOCK, *args], capture_output=True, text=True, timeout=300, env=full, cwd=cwd
    )


def test_dry_run_and_max_cost_from_the_command_line(tmp_path):
    data = tmp_path / "data"
    fal = f"fal:{TABLED_FAL}?base_url=http://127.0.0.1:9"  # nothing listens: no request made
    env = {"FAL_KEY": "x", "PADDOCK_CONFIG": str(tmp_path / "none.toml")}
    assert paddock("init", "--data", str(data), env=env).returncode == 0
    added = paddock("models", "add", "falm", "--generator", fal, "--data", str(data), env=env)
    assert added.returncode == 0, added.stderr
    suite = ["generate", "--suite", "default", "--data", str(data)]
    plan = paddock(*suite, "--dry-run", env=env)
    assert plan.returncode == 0, plan.stderr
    assert re.search(r"^falm: \d+ clip\(s\), \$\d+\.\d\d \(table:2026-12-05\)", plan.stdout, re.M)
    assert re.search(
        r"^pony: \d+ clip\(s\), price local \(time only\), time unknown", plan.stdout, re.M
    )
    over = paddock(*suite, "--model", "falm", "--max-cost", "1", env=env)
    assert over.returncode == 2 and len(over.stderr.strip().splitlines()) == 1, over.stderr
    assert "--max-cost 1: the expected price is $" in over.stderr
    bad = toml(tmp_path, '[models.falm]\ngenerator = "builtin:pony"\nprice = { "4k" = 1 }\n')
    refused = paddock(*suite, "--dry-run", env={**env, "PADDOCK_CONFIG": str(bad)})
    assert (
        refused.returncode == 2 and "[models.falm] price.4k: unknown resolution" in refused.stderr
    )
    with Store.open_snapshot(data) as store:
        assert store.clips() == []


def test_an_http_api_names_where_it_reports_its_cost(tmp_path, monkeypatch):
    from http_support import TOKEN, QueueApi

    from generators.base import GenerationRequest
    from generators.registry import build_generator

    monkeypatch.setenv("ACME_TEST_KEY", TOKEN)
    request = GenerationRequest(prompt="a fox", seed=1, duration_s=1.0, resolution="480p", fps=8)
    with QueueApi(tmp_path / "api") as api:
        config = tmp_path / "paddock.toml"
        for field, expected in (("state", "succeeded"), (None, None)):
            config.write_text(api.toml(**({"cost_field": field} if field else {})))
            spec = f"http:acme?config={config}"
            result = build_generator(spec).generate(request, str(tmp_path / "c.mp4"))
            assert result.provenance.get("cost_usd") == expected
            price = clip_price(spec, result.provenance, "480p", False, 1.0, result.seconds)
            # a cost that is no number of dollars leaves the price unknown; none reported and no
            # table row or paddock.toml price: unknown as well, and the clip was made either way
            assert (price.usd, price.source) == (None, "unknown")
        priced = PriceOverride(rule={"*": {"*": 0.25}})
        assert clip_price(spec, result.provenance, "480p", False, 1.0, 1.0, priced).usd == 0.25
