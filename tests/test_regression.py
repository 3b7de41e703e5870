"""The checkpoint regression check: paired statistics, tolerances, outputs and the CLI end to end."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from arena.jobs.regress import junit_xml, markdown_summary
from generators.errors import InputError
from leaderboards.sequential import sequential_test
from metrics.regression import (
    DEFAULT_TOLERANCES,
    RegressionResult,
    compare_tables,
    compare_votes,
    holm,
    load_tolerances,
    pairs_needed,
)

DIRECTIONS = {
    "lipsync": {"abs_offset_ms": False, "confidence": True},
    "temporal": {"flicker": True},
}


def table(values: dict[str, list[float]], seeds: list[int] | None = None) -> pd.DataFrame:
    """A per-clip result table: one prompt per position, values per 'metric.key'."""
    rows = []
    for name, series in values.items():
        metric, key = name.split(".")
        for i, value in enumerate(series):
            seed = seeds[i] if seeds else 0
            rows.append((f"p{i:02d}", seed, metric, key, float(value)))
    return pd.DataFrame(rows, columns=["prompt_id", "seed", "metric", "key", "value"])


def noisy(rng: np.random.Generator, n: int, shift: dict[str, float] | None = None) -> dict:
    shift = shift or {}
    base = {
        "lipsync.abs_offset_ms": 10 + rng.normal(0, 8, n),
        "lipsync.confidence": 6 + rng.normal(0, 0.4, n),
        "temporal.flicker": 0.99 + rng.normal(0, 0.002, n),
    }
    return {k: v + shift.get(k, 0.0) for k, v in base.items()}


def by_name(comparisons):
    return {c.name: c for c in comparisons}


def test_planted_regression_is_detected_and_named():
    rng = np.random.default_rng(1)
    base = table(noisy(rng, 12))
    cand = table(noisy(rng, 12, {"lipsync.abs_offset_ms": 120.0}))
    result = by_name(compare_tables(base, cand, DIRECTIONS))
    lag = result["lipsync.abs_offset_ms"]
    assert lag.verdict == "regressed"
    assert lag.mean_diff > 100 and lag.ci_low > 40
    assert lag.p_worse_holm < 0.05
    assert result["temporal.flicker"].verdict == "unchanged"


def test_direction_matters_lower_flicker_is_worse_higher_is_improved():
    rng = np.random.default_rng(2)
    base = noisy(rng, 10)
    worse = {**base, "temporal.flicker": base["temporal.flicker"] - 0.03}
    better = {**base, "lipsync.abs_offset_ms": base["lipsync.abs_offset_ms"] - 60}
    assert by_name(compare_tables(table(base), table(worse), DIRECTIONS))[
        "temporal.flicker"
    ].verdict == ("regressed")
    improved = by_name(compare_tables(table(base), table(better), DIRECTIONS))
    assert improved["lipsync.abs_offset_ms"].verdict == "improved"


def test_identical_tables_are_unchanged_with_p_one():
    rng = np.random.default_rng(3)
    base = table(noisy(rng, 8))
    for c in compare_tables(base, base.copy(), DIRECTIONS):
        assert c.verdict == "unchanged"
        assert c.mean_diff == 0 and c.p_value == 1.0 and c.p_worse_holm == 1.0


def test_same_model_other_seeds_rarely_false_alarms():
    # Candidate = baseline with fresh noise: at most 1 false alarm in 20 runs (5%).
    alarms = 0
    for run in range(20):
        rng = np.random.default_rng(100 + run)
        comparisons = compare_tables(table(noisy(rng, 12)), table(noisy(rng, 12)), DIRECTIONS)
        alarms += any(c.verdict == "regressed" for c in comparisons)
    assert alarms <= 1


def test_a_difference_within_tolerance_is_not_a_regression():
    rng = np.random.default_rng(4)
    base = noisy(rng, 12)
    cand = {**base, "lipsync.abs_offset_ms": base["lipsync.abs_offset_ms"] + 20}  # < 40 ms
    c = by_name(compare_tables(table(base), table(cand), DIRECTIONS))["lipsync.abs_offset_ms"]
    assert c.p_worse < 0.05 and c.verdict == "unchanged"


def test_holm_adjusts_step_down_and_stays_monotone():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_holm_across_metrics_can_overturn_a_single_significant_value():
    # Seven pairs, all worse: one-sided p = 1/128 alone; Holm over many values lifts it past 5%.
    base = {f"m{i}.k": [1.0] * 7 for i in range(8)}
    cand = {**base, "m0.k": [2.0] * 7}
    one = {"m0": {"k": False}}
    many = {f"m{i}": {"k": False} for i in range(8)}
    alone = compare_tables(table(base), table(cand), one, {"m0.k": 0.1}, min_pairs=6)[0]
    assert alone.verdict == "regressed"
    with pytest.raises(InputError, match="too few prompts"):
        compare_tables(table(base), table(cand), many, {"m0.k": 0.1})
    # With pairs_needed(8) pairs the same shift is still caught after correction.
    n = pairs_needed(8)
    base = {f"m{i}.k": [1.0] * n for i in range(8)}
    cand = {**base, "m0.k": [2.0] * n}
    first = compare_tables(table(base), table(cand), many, {"m0.k": 0.1})[0]
    assert first.p_worse_holm == pytest.approx(8 * first.p_worse)
    assert first.verdict == "regressed"


def test_too_few_pairs_and_no_common_prompts_are_input_errors():
    rng = np.random.default_rng(5)
    with pytest.raises(InputError, match="too few prompts in common"):
        compare_tables(table(noisy(rng, 4)), table(noisy(rng, 4)), DIRECTIONS)
    other_seeds = table(noisy(rng, 8), seeds=[7] * 8)
    with pytest.raises(InputError, match="no prompts in common"):
        compare_tables(table(noisy(rng, 8)), other_seeds, DIRECTIONS)


def test_tolerance_file_overrides_defaults(tmp_path):
    path = tmp_path / "tol.toml"
    path.write_text(
        '[tolerances]\n"lipsync.abs_offset_ms" = 200\n[tolerances.temporal]\nflicker = 0.1\n'
    )
    tolerances = load_tolerances(path)
    assert tolerances == {"lipsync.abs_offset_ms": 200.0, "temporal.flicker": 0.1}
    rng = np.random.default_rng(6)
    base = noisy(rng, 12)
    cand = {**base, "lipsync.abs_offset_ms": base["lipsync.abs_offset_ms"] + 120}
    c = by_name(compare_tables(table(base), table(cand), DIRECTIONS, tolerances))
    assert c["lipsync.abs_offset_ms"].tolerance == 200 and c["lipsync.abs_offset_ms"].verdict == (
        "unchanged"
    )
    assert c["lipsync.confidence"].tolerance == DEFAULT_TOLERANCES["lipsync.confidence"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[tolerances]\nlipsync = "wide"\n')
    with pytest.raises(InputError, match="metric.key"):
        load_tolerances(bad)


def test_votes_give_win_rate_with_the_duels_anytime_valid_test():
    counts = pd.DataFrame(
        [("pony", "new", "model_b", 30), ("new", "pony", "model_b", 5), ("pony", "new", "tie", 4)],
        columns=["model_a", "model_b", "winner", "count"],
    )
    votes = compare_votes(counts, "pony", "new")
    assert (votes.candidate_wins, votes.baseline_wins, votes.ties) == (30, 5, 4)
    assert votes.win_rate == pytest.approx(32 / 39)
    assert 0.5 < votes.ci_low < votes.win_rate < votes.ci_high
    assert votes.significant and votes.e_value >= 20 and votes.more_votes == 0
    assert (
        votes.status.startswith("new wins 82% [") and "against pony after 39 votes" in votes.status
    )
    # The same counts as the duel's status line: one statistic for the page and the check.
    seq = sequential_test(30, 5, 4)
    assert (votes.ci_low, votes.ci_high) == (seq.ci_low, seq.ci_high)
    few = compare_votes(counts.iloc[1:], "pony", "new")
    assert not few.significant and "more votes expected" in few.status
    assert compare_votes(counts.iloc[0:0], "pony", "new") is None


def test_junit_and_markdown_name_the_regressed_metric():
    rng = np.random.default_rng(7)
    base = table(noisy(rng, 12))
    cand = table(noisy(rng, 12, {"lipsync.abs_offset_ms": 150.0}))
    result = RegressionResult("pony", "new", 0.05, compare_tables(base, cand, DIRECTIONS))
    root = ET.fromstring(junit_xml(result))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 3
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["lipsync.abs_offset_ms"]
    assert root.find("testsuite").get("failures") == "1"
    assert "`lipsync.abs_offset_ms`" in markdown_summary(result)


def paddock(*args, cwd=None):
    code = "from arena.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_cli_flags_lag_flicker_and_drift_and_exits_by_verdict(tmp_path):
    data = str(tmp_path / "data")
    assert paddock("init", "--data", data).returncode == 0
    fast = ["--duration", "3", "--resolution", "480p", "--format", "json", "--data", data]

    out = paddock(
        "regress", "--baseline", "pony", "--candidate", "pony-lag", "--prompts", "6",
        "--metrics", "lipsync", "--junit", str(tmp_path / "out.xml"), *fast,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert "lipsync.abs_offset_ms" in report["regressed"]
    junit = ET.parse(tmp_path / "out.xml").getroot()
    assert any(c.find("failure") is not None for c in junit.iter("testcase"))

    # Four temporal (identity) values under Holm need seven pairs; the first six clips are reused.
    for candidate, metric, key in [
        ("pony-flicker", "temporal", "temporal.flicker"),
        ("pony-drift", "identity", "identity.max_distance"),
    ]:
        out = paddock(
            "regress", "--baseline", "pony", "--candidate", candidate, "--prompts", "7",
            "--metrics", metric, *fast,
        )  # fmt: skip
        assert out.returncode == 1, out.stderr
        regressed = json.loads(out.stdout)["regressed"]
        assert key in regressed and all(name.startswith(metric) for name in regressed)

    same = paddock("regress", "--baseline", "pony", "--candidate", "pony-lag", "--prompts", "3",
                   "--metrics", "lipsync", *fast)  # fmt: skip
    assert same.returncode == 2 and "too few prompts" in same.stderr
    unknown = paddock("regress", "--baseline", "pony", "--candidate", "nope", *fast)
    assert unknown.returncode == 2 and "unknown model 'nope'" in unknown.stderr


def test_no_prompts_in_common_and_same_model_are_refused_before_anything_is_compared(tmp_path):
    from arena_helpers import tiny_clip

    from arena.io.clip_staging import check_clip, commit_staged, stage_clip
    from arena.io.prompt_files import ensure_suite
    from arena.jobs.regress import RegressOptions, run_regression
    from arena.store import Store

    data = tmp_path / "data"
    with Store.open(data) as store:
        first, second = [p for p in ensure_suite(store) if p.category == "t2v"][:2]
        staged = []
        for i, (name, prompt) in enumerate([("old", first), ("new", second)]):
            model = store.add_model(name, "imported")
            path = tiny_clip(tmp_path / f"{name}.mp4", 60 + 80 * i)
            info = check_clip(path, prompt)
            staged.append(stage_clip(store, path, model.id, prompt, prompt.seed, info, None))
        commit_staged(store, staged)
    options = RegressOptions(baseline="old", candidate="new", metrics=["temporal"], workers=1)
    with pytest.raises(InputError, match="no prompts in common"):
        run_regression(data, options)
    same = RegressOptions(baseline="old", candidate="old", metrics=["temporal"])
    with pytest.raises(InputError, match="same model.*--candidate-seed-offset"):
        run_regression(data, same)
    with pytest.raises(InputError, match="must be 0 or more"):
        run_regression(data, RegressOptions("old", "old", candidate_seed_offset=-1))
    out = paddock("regress", "--data", str(data), "--baseline", "old", "--candidate", "old")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "same model" in out.stderr
