"""The surge hold: young accounts pushing one model together are held off the board."""

from __future__ import annotations

import pandas as pd
import pytest

from arena.domain.sim_raters import WINNER, RaterModel, taste_votes, true_ratings
from arena.domain.targeted import HELD_PREFIX, TARGETED_FLAG, detect_targeted_voting
from arena.store import Store
from leaderboards.errors import RatingInputError
from leaderboards.surge import surge_holds, surge_tests, young_raters
from leaderboards.targeted import detect_targeted

TASTES = RaterModel(taste_sd=60.0, consistency_sd=0.3, rater_votes=(20, 120))
TRUTH = {f"m{i}": float(r) for i, r in enumerate(true_ratings(6))}
SURGE = tuple(f"new-{i}" for i in range(5))


def _surge_votes(target: str, n: int) -> pd.DataFrame:
    """Five new accounts, ``n`` votes each: every battle of ``target`` won by it, the others
    by the better model."""
    names = sorted(TRUTH)
    rows = []
    for k, rater in enumerate(SURGE):
        for i in range(n):
            a, b = names[(i + k) % 6], names[(i * 5 + 1 + k + i // 6) % 6]
            if a == b:
                continue
            if target in (a, b):
                winner = "left" if a == target else "right"
            else:
                winner = "left" if TRUTH[a] > TRUTH[b] else "right"
            rows.append((rater, a, b, winner))
    return pd.DataFrame(rows, columns=["rater_id", "left_model", "right_model", "outcome"])


def _holds(votes: pd.DataFrame):
    flags = detect_targeted(votes)
    return surge_holds(votes, young_raters(votes), flags.attrs["board"],
                       flags.attrs["spread_elo"])  # fmt: skip


@pytest.fixture(scope="module")
def honest() -> pd.DataFrame:
    votes, _ = taste_votes(TASTES, TRUTH, 150, seed=11)
    return votes


def test_young_accounts_pushing_one_model_are_held(honest):
    surge = _surge_votes("m3", 30)
    # Too few votes each for the per-rater test to flag any of them.
    assert not set(detect_targeted(pd.concat([honest, surge]))["rater_id"]) & set(SURGE)
    surges, held = _holds(pd.concat([honest, surge], ignore_index=True))
    assert ("m3", "for") in set(zip(surges["model"], surges["direction"], strict=True))
    assert set(SURGE) <= set(held)
    assert {held[r] for r in SURGE} == {("m3", "for")}


def test_honest_young_raters_with_shared_tastes_are_not_held():
    for seed in (11, 12, 13):
        votes, _ = taste_votes(TASTES, TRUTH, 150, seed=seed)
        surges, held = _holds(votes)
        assert surges.empty and not held, (seed, surges)


def test_surge_tests_refuse_a_board_without_a_model(honest):
    with pytest.raises(RatingInputError, match="m5"):
        surge_tests(honest, {"x"}, {m: 0.0 for m in sorted(TRUTH)[:-1]})


def _store(tmp_path, votes: pd.DataFrame) -> Store:
    battles = pd.DataFrame(
        {
            "model_a": votes["left_model"],
            "model_b": votes["right_model"],
            "winner": votes["outcome"].map(WINNER),
            "rater": votes["rater_id"],
        }
    )
    store = Store.open(tmp_path / "paddock-data")
    store.import_battles(battles, add_models=True)
    return store


def test_the_arena_holds_a_surge_and_lifts_nothing_without_one(tmp_path, honest):
    with _store(tmp_path / "a", pd.concat([honest, _surge_votes("m3", 30)])) as store:
        detect_targeted_voting(store)
        held = store.raters_flagged_with(HELD_PREFIX)
        assert set(SURGE) <= set(held)
        assert held["new-0"] == f"{HELD_PREFIX}m3 (for)"
        assert not any(TARGETED_FLAG in store.rater_flags(r)[0] for r in SURGE)
    with _store(tmp_path / "b", honest) as store:
        detect_targeted_voting(store)
        assert store.raters_flagged_with(HELD_PREFIX) == {}


def test_the_admin_page_lists_held_raters(tmp_path, honest):
    from arena.domain.abuse import AbuseGuard
    from arena.web.admin import AdminActions

    token = "admin-token-for-tests-0123456789"
    with _store(tmp_path, pd.concat([honest, _surge_votes("m3", 30)])) as store:
        detect_targeted_voting(store)
        table = AdminActions(store, AbuseGuard(), token).held_raters(token)
        assert set(SURGE) <= set(table["rater"])
        row = table.set_index("rater").loc["new-0"]
        cast = int((store.targeted_votes()["rater_id"] == "new-0").sum())
        assert (row.model, row.direction, row.votes) == ("m3", "for", cast) and cast > 20
