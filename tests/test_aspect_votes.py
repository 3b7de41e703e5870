"""Aspect votes: follow-up answers after the overall vote, stored, limited, served, exported,
imported and rated (per aspect and composite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arena_helpers import ServerThread, seeded_store
from test_load_durability import post
from typer.testing import CliRunner

from arena.cli import app
from arena.domain.abuse import AbuseConfig, AbuseGuard
from arena.domain.battles import serve_battle, submit_aspect_vote, submit_vote
from arena.domain.scheduler import Scheduler
from arena.errors import AlreadyVoted, RateLimited, VoteRefused, exit_code
from arena.io.aspects_file import DEFAULT_ASPECTS, load_aspects
from arena.io.battle_files import export_votes, import_votes
from arena.io.prompt_files import ensure_suite
from arena.store import Store
from generators.errors import InputError
from leaderboards import RatingSettings, compute_leaderboard
from leaderboards.composite import compute_composite

ASKED = ("picture", "sound")
PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded store (real clips) for the module; each test works on a copy of its file."""
    base = tmp_path_factory.mktemp("aspects") / "data"
    seeded_store(base).close()
    return base


@pytest.fixture
def arena(seeded, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(seeded, data)
    store = Store.open(data)
    yield store, Scheduler(store, seed=0)
    store.close()


def voted(store, scheduler, rater="rater-0001", outcome="left", guard=None):
    view = serve_battle(store, scheduler, rater, guard=guard)
    submit_vote(store, view.battle_id, view.token, rater, outcome, guard=guard)
    return view


def test_aspects_come_after_the_vote_once_each_and_only_those_asked(arena):
    store, scheduler = arena
    view = serve_battle(store, scheduler, "rater-0001")
    args = (view.battle_id, view.token, "rater-0001")
    with pytest.raises(VoteRefused, match="after the battle's vote; vote first"):
        store.cast_aspect_vote(*args, "sound", "left", ASKED)
    submit_vote(store, *args, "right")
    store.cast_aspect_vote(*args, "sound", "left", ASKED)
    with pytest.raises(AlreadyVoted, match="sound question of this battle was already answered"):
        store.cast_aspect_vote(*args, "sound", "right", ASKED)
    with pytest.raises(InputError, match="does not ask about 'prompt': it asks picture, sound"):
        store.cast_aspect_vote(*args, "prompt", "left", ASKED)
    with pytest.raises(VoteRefused, match="unknown answer 'both_bad'"):
        store.cast_aspect_vote(*args, "picture", "both_bad", ASKED)
    with pytest.raises(VoteRefused, match="token is not valid"):
        store.cast_aspect_vote(view.battle_id, "forged", "rater-0001", "picture", "left", ASKED)
    with pytest.raises(VoteRefused, match="another rater"):
        store.cast_aspect_vote(view.battle_id, view.token, "rater-0002", "picture", "left", ASKED)
    store.cast_aspect_vote(*args, "picture", "tie", ASKED)
    assert store.aspect_answers(view.battle_id) == {"sound": "left", "picture": "tie"}
    assert store.aspect_vote_counts() == {"overall": 1, "picture": 1, "sound": 1}
    # The overall board, the reveal and the acknowledged-vote check see the overall vote only.
    assert store.vote_counts()["count"].sum() == 1
    assert store.vote_counts()["winner"].tolist() == ["model_b"]
    assert store.vote_counts(aspect="sound")["winner"].tolist() == ["model_a"]
    assert len(store.battles_frame()) == 1
    assert sorted(store.battles_frame(aspect=None)["aspect"]) == ["overall", "picture", "sound"]
    assert store.reveal(view.battle_id).outcome == "right"
    assert store.vote_outcomes([view.battle_id]) == {view.battle_id: ["right"]}
    assert store.clip_pair_counts()["count"].sum() == 1
    assert store.raters_frame().set_index("rater").loc["rater-0001", "votes"] == 1


def test_aspect_answers_are_rate_limited_and_inherit_the_votes_flags(arena):
    store, scheduler = arena
    guard = AbuseGuard(AbuseConfig(votes_per_rater=1, min_watch_fraction=0.5))
    view = voted(store, scheduler, guard=guard)  # cast at once: flagged too fast
    asked = DEFAULT_ASPECTS
    for aspect in asked:  # one vote's worth of follow-ups passes
        submit_aspect_vote(
            store, view.battle_id, view.token, "rater-0001", aspect, "left", asked, guard=guard
        )
    before = store.aspect_vote_counts()
    other = serve_battle(store, scheduler, "rater-0001")
    submit_vote(store, other.battle_id, other.token, "rater-0001", "left")  # no guard
    with pytest.raises(RateLimited, match="too many votes from this rater"):
        submit_aspect_vote(
            store, other.battle_id, other.token, "rater-0001", "picture", "left", asked, guard=guard
        )
    assert store.aspect_vote_counts()["picture"] == before["picture"]
    flags = store._query("SELECT DISTINCT flags FROM votes WHERE battle_id = ?", [view.battle_id])
    assert [list(f[0]) for f in flags] == [["too fast"]]
    assert store.flagged_votes()["battle_id"].tolist() == [view.battle_id]  # the vote, once
    assert store.vote_counts(aspect="picture").empty  # flagged: left out like the vote
    assert store.vote_counts(aspect="picture", exclude_flagged=False)["count"].sum() == 1


def test_aspects_config_is_read_and_checked(tmp_path: Path):
    toml = tmp_path / "paddock.toml"
    with pytest.raises(InputError, match="no such file"):
        load_aspects(toml)
    toml.write_text('aspects = ["sound", "picture"]\n')
    assert load_aspects(toml) == ("sound", "picture")
    toml.write_text("[serving]\nfps = 24\n")
    assert load_aspects(toml) == DEFAULT_ASPECTS
    toml.write_text('aspects = ["sound", "smell"]\n')
    with pytest.raises(InputError, match=r"paddock.toml aspects: unknown aspect 'smell'"):
        load_aspects(toml)
    toml.write_text('aspects = "sound"\n')
    with pytest.raises(InputError, match="paddock.toml aspects: must be a list"):
        load_aspects(toml)


def test_json_api_round_trip(seeded, tmp_path):
    import shutil

    shutil.copytree(seeded, tmp_path / "data")
    store = Store.open(tmp_path / "data")
    try:
        with ServerThread(store, aspects=ASKED) as server:
            status, battle = post(server.port, "/api/battle", {"rater_id": "json-rater-01"})
            assert status == 200
            answer = {
                "battle_id": battle["battle_id"],
                "token": battle["token"],
                "rater_id": "json-rater-01",
                "aspect": "sound",
                "outcome": "right",
            }
            status, body = post(server.port, "/api/aspect-vote", answer)
            assert status == 409 and "vote first" in body["error"]
            vote = {k: answer[k] for k in ("battle_id", "token", "rater_id")}
            assert post(server.port, "/api/vote", {**vote, "outcome": "left"})[0] == 200
            stored = {k: answer[k] for k in ("battle_id", "aspect", "outcome")}
            assert post(server.port, "/api/aspect-vote", answer) == (200, stored)
            status, body = post(server.port, "/api/aspect-vote", answer)
            assert status == 409 and "already answered" in body["error"]
            status, body = post(server.port, "/api/aspect-vote", {**answer, "aspect": "prompt"})
            assert status == 400 and "does not ask about 'prompt'" in body["error"]
            assert post(server.port, "/api/aspect-vote", {**answer, "token": "x"})[0] == 409
            forged = {**answer, "aspect": "picture", "outcome": "both_bad"}
            assert post(server.port, "/api/aspect-vote", forged)[0] == 409
        assert store.aspect_answers(battle["battle_id"]) == {"sound": "right"}
        assert store.vote_outcomes([battle["battle_id"]]) == {battle["battle_id"]: ["left"]}
    finally:
        store.close()


def test_export_import_round_trip_keeps_the_aspect_column(arena, tmp_path):
    store, scheduler = arena
    for i, outcome in enumerate(("left", "right", "tie")):
        view = voted(store, scheduler, f"rater-000{i}", outcome)
        store.cast_aspect_vote(view.battle_id, view.token, f"rater-000{i}", "sound", "right")
    for suffix in ("parquet", "csv"):
        out = tmp_path / f"votes.{suffix}"
        assert export_votes(store, out) == 6
        with Store.open(tmp_path / f"copy-{suffix}") as copy:
            ensure_suite(copy)
            for name in ("alpha", "beta", "gamma"):
                copy.add_model(name, "imported")
            assert import_votes(copy, out) == 6
            for aspect in ("overall", "sound"):
                pd.testing.assert_frame_equal(
                    copy.vote_counts(aspect=aspect)[["model_a", "model_b", "winner", "count"]],
                    store.vote_counts(aspect=aspect)[["model_a", "model_b", "winner", "count"]],
                )
    # An unknown aspect is refused naming its line, and nothing is written.
    frame = pd.read_csv(tmp_path / "votes.csv")
    frame.loc[3, "aspect"] = "smell"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with Store.open(tmp_path / "copy-bad") as copy:
        for name in ("alpha", "beta", "gamma"):
            copy.add_model(name, "imported")
        with pytest.raises(InputError, match=r"bad.csv, line 5, column aspect: unknown aspect"):
            import_votes(copy, bad)
        frame.drop(columns=["prompt_id"]).to_parquet(tmp_path / "bad.parquet")
        with pytest.raises(InputError, match=r"bad.parquet, row 4, column aspect: unknown"):
            import_votes(copy, tmp_path / "bad.parquet")
        assert copy.vote_count() == 0


def aspect_battles(n: int = 900) -> pd.DataFrame:
    """Overall votes favour alpha > beta > gamma, sound answers the reverse order."""
    rng = np.random.default_rng(5)
    names = np.array(["alpha", "beta", "gamma"])
    rows = []
    for aspect, strength in (("overall", [0.8, 0.0, -0.8]), ("sound", [-0.8, 0.0, 0.8])):
        s = np.array(strength)
        a = rng.integers(0, 3, n)
        b = (a + rng.integers(1, 3, n)) % 3
        win = rng.random(n) < 1 / (1 + np.exp(-(s[a] - s[b])))
        rows.append(
            pd.DataFrame(
                {
                    "model_a": names[a],
                    "model_b": names[b],
                    "winner": np.where(win, "model_a", "model_b"),
                    "aspect": aspect,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def run(*args: str):
    return CliRunner().invoke(app, ["leaderboard", *args], catch_exceptions=True)


def ratings(result) -> dict[str, float]:
    assert result.exit_code == 0, result.output
    return {r["model"]: r["rating"] for r in json.loads(result.stdout)}


def test_cli_aspect_and_composite_boards(tmp_path, monkeypatch):
    monkeypatch.setenv("PADDOCK_CONFIG", str(tmp_path / "paddock.toml"))
    (tmp_path / "paddock.toml").write_text('aspects = ["sound", "picture"]\n')
    frame = aspect_battles()
    path = tmp_path / "votes.parquet"
    frame.to_parquet(path)
    common = ("--votes", str(path), "--format", "json", "--bootstrap", "0")
    overall = ratings(run(*common))
    sound = ratings(run(*common, "--aspect", "sound"))
    assert max(overall, key=overall.get) == "alpha" and max(sound, key=sound.get) == "gamma"
    plain = compute_leaderboard(
        frame[frame.aspect == "overall"].assign(count=1).groupby(
            ["model_a", "model_b", "winner"], as_index=False)["count"].sum(),
        RatingSettings(n_bootstrap=0),
    ).ratings()  # fmt: skip
    assert overall == pytest.approx(plain.to_dict(), abs=0.006)  # printed to 2 decimals
    # Composite with the overall weight alone is the plain fit; the weights move it.
    only = ratings(run(*common, "--composite", "--weights", "overall=1,sound=0"))
    assert only == pytest.approx(overall, abs=1e-9)
    leaning = ratings(run(*common, "--composite", "--weights", "overall=1,sound=4"))
    assert max(leaning, key=leaning.get) == "gamma"
    even = ratings(run(*common, "--composite", "--weights", "overall=1,sound=1"))
    assert abs(even["alpha"] - even["gamma"]) < abs(overall["alpha"] - overall["gamma"])
    # Refusals: a user error (one line, exit code 2 from `paddock`), never a traceback.
    for args, message in (
        (("--aspect", "prompt"), "does not ask about it (it asks overall, sound, picture)"),
        (("--aspect", "picture"), "has no votes for the aspect 'picture'"),
        (("--composite", "--weights", "overall=1,picture=1"), "no votes for the aspect"),
        (("--composite", "--weights", "overall=1,smell=1"), "not an aspect of this arena"),
        (("--composite", "--weights", "overall=x"), "must look like NAME=WEIGHT"),
        (("--aspect", "sound", "--composite"), "--composite fits them together"),
        (("--aspect", "sound", "--control", "duration"), "does not combine with --aspect"),
        (("--composite", "--category", "t2v"), "--category select votes in a store"),
    ):
        result = run(*common, *args)
        assert exit_code(result.exception) == 2, result.output
        assert message in str(result.exception)
    proc = subprocess.run(
        [*PADDOCK, "leaderboard", *common, "--aspect", "prompt"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: --aspect 'prompt': this arena does not ask about it (it asks overall, sound, "
        "picture)"
    ]


def test_composite_library_matches_the_plain_fit_and_weights_matter():
    frame = aspect_battles()
    counts = {
        name: part.assign(count=1)
        .groupby(["model_a", "model_b", "winner"], as_index=False)["count"]
        .sum()
        for name, part in frame.groupby("aspect")
    }
    settings = RatingSettings(n_bootstrap=50, seed=1)
    plain = compute_leaderboard(counts["overall"], settings)
    alone = compute_composite(counts, {"overall": 1.0}, settings)
    pd.testing.assert_series_equal(alone.ratings(), plain.ratings())
    both = compute_composite(counts, {"overall": 1.0, "sound": 1.0}, settings)
    tilted = compute_composite(counts, {"overall": 1.0, "sound": 3.0}, settings)
    assert both.n_votes == 2 * len(frame) // 2
    assert tilted.ratings()["gamma"] > both.ratings()["gamma"] > plain.ratings()["gamma"]


def test_store_aspect_board_via_cli(arena, tmp_path, monkeypatch):
    monkeypatch.setenv("PADDOCK_CONFIG", str(tmp_path / "none.toml"))
    store, scheduler = arena
    for i in range(4):
        view = voted(store, scheduler, f"rater-001{i}", "left")
        store.cast_aspect_vote(view.battle_id, view.token, f"rater-001{i}", "sound", "right")
    data = store.data_dir
    store.close()
    common = ("--data", str(data), "--format", "json", "--bootstrap", "0", "--min-votes", "1")
    overall = json.loads(run(*common).stdout)
    sound = json.loads(run(*common, "--aspect", "sound").stdout)
    assert sum(r["wins"] for r in overall) == sum(r["wins"] for r in sound) == 4
    assert sum(r["votes"] for r in overall) == sum(r["votes"] for r in sound) == 8
    result = run(*common, "--aspect", "picture")
    assert exit_code(result.exception) == 2
    assert str(result.exception) == "no votes for the aspect 'picture' in this pool"


def test_leaderboard_tab_shows_per_aspect_boards(arena):
    from arena.web.aspect_boards import aspect_boards

    store, scheduler = arena
    note, table = aspect_boards(store, "all", ASKED)
    assert table.empty and "No follow-up answers yet" in note
    for i in range(6):
        view = voted(store, scheduler, f"rater-002{i}", "left")
        store.cast_aspect_vote(view.battle_id, view.token, f"rater-002{i}", "sound", "right")
    note, table = aspect_boards(store, "all", ASKED)
    assert list(table.columns) == ["model", "overall", "sound"]  # picture: no answers yet
    assert "overall 6, sound 6" in note
    assert len(table) >= 2 and set(table["model"]) <= {"alpha", "beta", "gamma"}
    assert all("(" in cell and "–" in cell for cell in table["sound"])


def test_dataset_card_counts_the_follow_up_answers(arena, tmp_path):
    from arena.io.dataset_export import export_dataset

    store, scheduler = arena
    view = voted(store, scheduler)
    store.cast_aspect_vote(view.battle_id, view.token, "rater-0001", "picture", "tie")
    export_dataset(store, tmp_path / "ds")
    battles = pd.read_parquet(tmp_path / "ds" / "battles.parquet")
    assert sorted(battles["aspect"]) == ["overall", "picture"]
    assert list(battles["battle_kind"]) == ["normal", "normal"]
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "2 pairwise votes (1 of them follow-up answers, see `aspect`)" in card
