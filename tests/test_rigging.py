"""The rigging simulator: an attacker who recognises its model needs far fewer votes than one who
cannot tell the clips apart (real store, scheduler, gold checks; tiny arena)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.domain.rigging import RiggingConfig, skill_from_accuracy
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
    ],
)
def test_bad_settings_are_one_line(args, message):
    result = subprocess.run(
        [sys.executable, "-c", "from arena.cli import main; main()", "simulate", "rigging", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout


def test_skill_from_accuracy_is_the_edge_over_chance():
    assert skill_from_accuracy(1.0, 0.25) == 1.0
    assert abs(skill_from_accuracy(0.28, 0.25) - 0.04) < 1e-12
    assert skill_from_accuracy(0.1, 0.25) == 0.0  # below chance: no recognition
    with pytest.raises(InputError):
        skill_from_accuracy(0.5, 1.0)
