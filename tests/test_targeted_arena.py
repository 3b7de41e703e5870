"""Targeted-voting flags in the arena: `paddock raters`, the board without flagged raters, admin."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from arena.domain.abuse import AbuseGuard
from arena.domain.sim_raters import WINNER, RaterModel, taste_votes, true_ratings
from arena.domain.targeted import TARGETED_FLAG, detect_targeted_voting
from arena.store import Store
from arena.web.admin import TARGETED_COLUMNS, AdminActions
from generators.errors import InputError

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]
TOKEN = "admin-token-for-tests-0123456789"
TASTES = RaterModel(taste_sd=60.0, consistency_sd=0.3, rater_votes=(20, 120))
SHILLS = ("shill-a", "shill-b")


def paddock(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PADDOCK, *args], capture_output=True, text=True, timeout=300)


def _battles(votes: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_a": votes["left_model"],
            "model_b": votes["right_model"],
            "winner": votes["outcome"].map(WINNER),
            "rater": votes["rater_id"],
        }
    )


def _shill_votes(truth: dict[str, float], target: str, rater: str, n: int) -> pd.DataFrame:
    """Every battle of ``target`` won by it, the others by the better model."""
    names = sorted(truth)
    rows = []
    for i in range(n):
        a, b = names[i % len(names)], names[(i * 7 + 1 + i // len(names)) % len(names)]
        if a == b:
            continue
        if target in (a, b):
            winner = "left" if a == target else "right"
        else:
            winner = "left" if truth[a] > truth[b] else "right"
        rows.append((rater, a, b, winner))
    return pd.DataFrame(rows, columns=["rater_id", "left_model", "right_model", "outcome"])


@pytest.fixture
def arena(tmp_path):
    truth = {f"m{i}": float(r) for i, r in enumerate(true_ratings(6))}
    honest, _ = taste_votes(TASTES, truth, 150, seed=11)
    shills = [_shill_votes(truth, "m3", rater, 160) for rater in SHILLS]
    data = tmp_path / "paddock-data"
    with Store.open(data) as store:
        store.import_battles(_battles(pd.concat([honest, *shills], ignore_index=True)),
                             add_models=True)  # fmt: skip
    return data, len(honest), sum(len(s) for s in shills)


def _board_votes(data, *extra: str) -> int:
    out = paddock("leaderboard", "--data", str(data), "--format", "json", "--bootstrap", "0",
                  *extra)  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    return sum(int(r["votes"]) for r in rows) // 2


def test_detect_flags_the_shills_and_their_votes_leave_the_board(arena):
    data, n_honest, n_shill = arena
    assert _board_votes(data) == n_honest + n_shill
    out = paddock("raters", "detect", "--data", str(data))
    assert out.returncode == 0, out.stderr
    with Store.open(data, read_only=True) as store:
        flags = store.targeted_flags()
        raters = store.raters_frame().set_index("rater")
    flagged = set(flags["rater_id"])
    assert set(SHILLS) <= flagged
    assert len(flagged - set(SHILLS)) <= 1  # 1% of 150 honest raters, rounded up
    shill = flags[flags["rater_id"] == "shill-a"]
    assert ("m3", "for") in set(zip(shill["model"], shill["direction"], strict=True))
    assert TARGETED_FLAG in list(raters.loc["shill-a", "flags"])
    assert "shill-a\tm3\tfor" in out.stdout
    # Left out of the board by default; --include-flagged puts them back.
    without = _board_votes(data)
    assert without <= n_honest + n_shill - n_shill
    assert _board_votes(data, "--include-flagged") == n_honest + n_shill


def test_clear_flag_refuses_an_unknown_rater_and_is_not_undone_by_detection(arena):
    data, n_honest, n_shill = arena
    assert paddock("raters", "detect", "--data", str(data)).returncode == 0
    with Store.open(data, read_only=True) as store:
        before = store.targeted_flags(include_cleared=True)
    out = paddock("raters", "clear-flag", "nobody-like-this", "--data", str(data))
    assert out.returncode == 2
    assert out.stderr.strip() == "error: unknown rater 'nobody-like-this'"
    with Store.open(data, read_only=True) as store:
        pd.testing.assert_frame_equal(store.targeted_flags(include_cleared=True), before)
    out = paddock("raters", "clear-flag", "shill-a", "--by", "alice", "--data", str(data))
    assert out.returncode == 0, out.stderr
    assert "cleared" in out.stdout
    with Store.open(data) as store:
        assert "shill-a" not in set(store.targeted_flags()["rater_id"])
        assert TARGETED_FLAG not in store.rater_flags("shill-a")[0]
        detect_targeted_voting(store)  # the same votes again
        assert "shill-a" not in set(store.targeted_flags()["rater_id"])
        assert "shill-b" in set(store.targeted_flags()["rater_id"])
        every = store.targeted_flags(include_cleared=True)
        assert set(every[every["rater_id"] == "shill-a"]["cleared_by"]) == {"alice"}
        assert store.vote_counts()["count"].sum() > n_honest
    listed = paddock("raters", "flags", "--all", "--data", str(data))
    assert listed.returncode == 0 and "alice" in listed.stdout


def test_admin_lists_flags_with_evidence_grouped_by_target(arena):
    data, _, _ = arena
    with Store.open(data) as store:
        detect_targeted_voting(store)
        admin = AdminActions(store, AbuseGuard(), TOKEN)
        table = admin.targeted_flags(TOKEN)
        assert list(table.columns) == TARGETED_COLUMNS
        top = table.iloc[:2]
        assert set(top["rater"]) == set(SHILLS)
        assert set(top["model"]) == {"m3"} and set(top["accounts"]) == {2}
        assert (top["observed"] > top["expected"]).all() and (top["p_value"] < 1e-3).all()
        with pytest.raises(Exception, match="admin token"):
            admin.targeted_flags("wrong-token-wrong-token-wrong")
        with pytest.raises(InputError, match="unknown rater"):
            admin.clear_flag(TOKEN, "nobody-like-this")
        assert "cleared" in admin.clear_flag(TOKEN, "shill-b")
        assert "shill-b" not in set(admin.targeted_flags(TOKEN)["rater"])


def test_the_servers_board_runs_detection_and_leaves_the_shills_out(arena):
    from arena.web.leaderboard_view import compute_board

    data, n_honest, n_shill = arena
    with Store.open(data) as store:
        assert store.targeted_flags().empty
        view = compute_board(store, n_bootstrap=20)
        assert set(SHILLS) <= set(store.targeted_flags()["rater_id"])
        shown = int(re.search(r"\*\*(\d+) votes\*\*", view.summary).group(1))
        assert shown <= n_honest
