"""The rigging simulator: an attacker who recognises its model needs far fewer votes than one who
cannot tell the clips apart; the same seed gives the same run; the targeted-voter detector makes
the attack cost more (tiny in-memory arena)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from arena.cli import app, main
from arena.domain.rigging import (
    RiggingConfig,
    RiggingRun,
    median_interval,
    recognition_from_audit,
    skill_from_accuracy,
    summarise_runs,
)
from arena.domain.sim_raters import RaterModel
from arena.jobs.simulation import simulate_rigging
from generators.errors import InputError

# Four models whose true gaps are three times the simulator's (so the honest board orders them
# clearly), 800 honest votes, and an attack that may cast at most 600 votes.
TINY = ["--models", "4", "--spread", "3", "--prompts", "2", "--honest-votes", "800",
        "--budget", "600", "--runs", "1"]  # fmt: skip


def test_normalised_renditions_need_more_attacker_votes_than_originals():
    result = CliRunner().invoke(app, ["simulate", "rigging", *TINY])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    original = line["votes_to_move_one_rank_original"]
    normalised = line["votes_to_move_one_rank_normalised"]
    assert original is not None and original <= 600  # a recognised model moves up
    assert normalised is None or normalised > original
    assert "Attacker votes to move the rank-2 model up one rank" in result.output


def test_an_attacker_at_chance_does_not_get_there():
    cfg = RiggingConfig(k=4, spread=3, n_prompts=2, honest_votes=800, budget=600,
                        check_every=50, raters=RaterModel(careless_share=0.0))  # fmt: skip
    assert skill_from_accuracy(0.25, 0.25) == 0.0
    run = simulate_rigging(cfg, skill_from_accuracy(0.25, 0.25), seed=3)
    assert run.needed is None and run.attacker_votes == 600
    assert run.gap_elo > 0 and run.target != run.above


@pytest.mark.parametrize(
    "args, message",
    [
        (["--models", "4", "--target-rank", "9"], "target rank must be between 2 and"),
        (["--accuracy-normalised", "1.5"], "recognition accuracy must be between 0 and 1"),
        (["--accounts", "0"], "accounts must be a whole number >= 1"),
        (["--recognition", "1.5"], "recognition must be between 0 and 1, not 1.5"),
        (["--recognition", "-0.1"], "recognition must be between 0 and 1, not -0.1"),
        (["--recognition", "nan"], "recognition must be between 0 and 1, not nan"),
        (["--recognition", "0.5", "--recognition-from", "a.json"], "not both"),
        (["--recognition-from", "missing.json"], "missing.json: no such file"),
    ],
)
def test_bad_settings_are_one_line(args, message, capsys, monkeypatch):
    _refused(["simulate", "rigging", *args], message, capsys, monkeypatch)


def _refused(argv, message, capsys, monkeypatch):
    """`paddock ARGV` as its entry point runs it: exit 2, one line on stderr, nothing else."""
    monkeypatch.setattr(sys, "argv", ["paddock", *argv])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not out


def test_skill_from_accuracy_is_the_edge_over_chance():
    assert skill_from_accuracy(1.0, 0.25) == 1.0
    assert abs(skill_from_accuracy(0.28, 0.25) - 0.04) < 1e-12
    assert skill_from_accuracy(0.1, 0.25) == 0.0  # below chance: no recognition
    with pytest.raises(InputError):
        skill_from_accuracy(0.5, 1.0)


def _audit(tmp_path, **fields):
    """An audit report as `paddock audit fingerprint --json` writes it, with ``fields`` set."""
    from arena.jobs.fingerprint_audit import AuditReport

    report = AuditReport(
        battles=200, clips=40, models=["a", "b", "c", "d"], accuracy=0.28, ci_low=0.2,
        ci_high=0.4, chance=0.25, threshold=0.05, identifiable=False,
    ).to_dict()  # fmt: skip
    report.update(fields)
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(report))
    return path


def test_recognition_from_an_audit_is_its_best_accuracys_edge_over_chance(tmp_path):
    skill, key = recognition_from_audit(_audit(tmp_path))
    assert key == "accuracy" and abs(skill - 0.04) < 1e-12
    skill, key = recognition_from_audit(_audit(tmp_path, content_accuracy=0.91))
    assert key == "content_accuracy" and abs(skill - 0.88) < 1e-12
    skill, key = recognition_from_audit(_audit(tmp_path, recall={"a": 0.7, "b": 0.1}), "a")
    assert key == "recall of a" and abs(skill - 0.6) < 1e-12


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "expected the audit's JSON object, not a list"),
        ('{"accuracy": 0.5}', "not a fingerprint audit (no 'chance')"),
        ("{not json", "not a JSON file"),
        ("AUDIT accuracy=1.5", "accuracy must be a number between 0 and 1, not 1.5"),
        ("AUDIT accuracy='high'", "accuracy must be a number between 0 and 1, not 'high'"),
    ],
)
def test_an_audit_json_of_another_shape_is_one_line_exit_2(
    tmp_path, content, message, capsys, monkeypatch
):
    if content.startswith("AUDIT"):
        key, value = content.split()[1].split("=")
        path = _audit(tmp_path, **{key: eval(value)})  # noqa: S307 - a literal from this test
    else:
        path = tmp_path / "audit.json"
        path.write_text(content)
    _refused(["simulate", "rigging", "--recognition-from", str(path)], message, capsys, monkeypatch)


SMALL = RiggingConfig(k=4, spread=3, n_prompts=2, honest_votes=800, budget=600, check_every=25)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    first = simulate_rigging(SMALL, 0.9, seed=5)
    assert simulate_rigging(SMALL, 0.9, seed=5) == first
    others = [simulate_rigging(SMALL, 0.9, seed=s) for s in (6, 7)]
    assert any(o != first for o in others)
    assert first.needed is not None  # a recognised model moves up within 600 votes


def test_the_median_interval_is_the_binomial_order_statistics():
    assert median_interval(np.arange(20)) == (5.0, 14.0)  # the 6th and the 15th of 20
    low, high = median_interval(np.array([1.0, 2.0, 3.0]))
    assert low == -np.inf and high == np.inf  # three runs bound nothing at 95%


def test_runs_that_never_get_there_have_no_finite_median_or_interval():
    never = RiggingRun(None, 600, 10, 0.1, "a", "b", 20.0, 0)
    summary = summarise_runs([never] * 20, budget=600)
    assert summary["median"] is None and summary["median_ci"] == [None, None]
    assert summary["reached"] == 0 and summary["honest_flagged_share"] is None


def test_the_detector_makes_the_attack_cost_more_votes_and_flags_no_honest_rater():
    # One account that recognises its model every time lifts the second model within a few
    # dozen votes; with the detector on, accounts are flagged and burnt before that.
    cfg = replace(SMALL, budget=400, accounts=1)
    off = simulate_rigging(cfg, 1.0, seed=0)
    assert off.needed is not None and off.needed <= 200
    assert off.detector_runs == 0 and off.accounts_used == 1
    # As the arena runs it (flagged raters' votes stay in the detector's input): account after
    # account is burnt, and the attack costs more.
    on = simulate_rigging(replace(cfg, detector=True), 1.0, seed=0)
    assert on.needed is None or on.needed > 2 * off.needed
    assert on.detector_runs > 0 and on.accounts_used > 3
    assert on.honest_tested > 5 and on.honest_flagged == 0
    assert simulate_rigging(replace(cfg, detector=True), 1.0, seed=0) == on  # same seed, same run
    # So it is with flagged raters left out of its input.
    clean = simulate_rigging(replace(cfg, detector=True, detector_sees_flagged=False), 1.0, 0)
    assert clean.needed is None and clean.accounts_used > 3 and clean.honest_flagged == 0
