"""The Leaderboard tab's style-controlled board and robustness sentence, on a real store."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arena_helpers import tiny_clip

from arena.io.clip_staging import check_clip, commit_staged, stage_clip
from arena.io.prompt_files import ensure_suite
from arena.store import Store
from arena.web.leaderboard_view import compute_board

# Clips of each model per prompt, in seconds: beta's are longer than alpha's on two prompts of
# three, and the differences vary by prompt, so duration is not just another name for a model.
DURATIONS = {"alpha": (0.5, 1.5, 1.0), "beta": (1.5, 1.5, 2.0), "gamma": (1.0, 0.5, 1.5)}
STRENGTH = {"alpha": 0.4, "beta": 0.0, "gamma": -0.4}  # nats: alpha is truly best
PER_SECOND = 2.0  # nats per second of duration difference: raters like longer clips


def duration_biased_store(data_dir, n_votes: int) -> Store:
    """Real clips whose durations differ by model, and votes that favour the longer clip."""
    store = Store.open(data_dir)
    prompts = [p for p in ensure_suite(store) if p.category == "t2v"][:3]
    staged, clips = [], {}
    for mi, (name, seconds) in enumerate(DURATIONS.items()):
        store.add_model(name, "imported")
        model = store.model_by_name(name)
        for pi, (prompt, length) in enumerate(zip(prompts, seconds, strict=True)):
            path = tiny_clip(data_dir / f"src{mi}{pi}.mp4", 40 + 60 * mi + pi, seconds=length)
            staged.append(
                stage_clip(store, path, model.id, prompt, prompt.seed, check_clip(path, prompt), 0)
            )
    commit_staged(store, staged)
    for clip in store.clips():
        clips.setdefault(store.model_by_id(clip.model_id).name, {})[clip.prompt_id] = clip
    rng = np.random.default_rng(1)
    names = list(DURATIONS)
    rows = []
    for _ in range(n_votes):
        first, second = rng.choice(names, size=2, replace=False)
        prompt = prompts[int(rng.integers(len(prompts)))].id
        a, b = clips[first][prompt], clips[second][prompt]
        d = STRENGTH[first] - STRENGTH[second] + PER_SECOND * (a.duration - b.duration)
        winner = "model_a" if rng.random() < 1 / (1 + np.exp(-d)) else "model_b"
        rows.append((first, second, winner, prompt, a.id, b.id))
    columns = ["model_a", "model_b", "winner", "prompt_id", "clip_a", "clip_b"]
    store.import_battles(pd.DataFrame(rows, columns=columns))
    return store


def test_controlled_board_reorders_what_duration_moved(data_dir):
    store = duration_biased_store(data_dir, 1500)
    view = compute_board(store, "all", n_bootstrap=50)
    assert list(view.table["model"])[0] == "beta"  # raw: the longer clips win
    style = view.style.table.set_index("model")
    assert list(view.style.table["model"])[:2] == ["alpha", "beta"]  # controlled: truth
    assert style.loc["alpha", "change"] == "▲1" and style.loc["beta", "change"] == "▼1"
    assert style.loc["gamma", "change"] == "="
    assert style.loc["beta", "raw rating"] > style.loc["alpha", "raw rating"]
    note = view.style.summary
    assert re.search(r"Controlled for duration \(\+\d+ Elo per SD\)", note), note
    # Every clip has sound and the same frame size; no metric ran: said, not fitted as zero.
    assert "frame_size, has_audio (the same for every pair of clips)" in note
    assert "loudness, speech, motion, sharpness (no clip has a value)" in note
    sentence = re.search(r"beta leads alpha unless (\d+) of 1,500 votes are removed", view.summary)
    assert sentence and 0 < int(sentence.group(1)) < 1500, view.summary
    store.close()


def test_tab_shows_the_controlled_board_and_reuses_it_while_votes_stay(data_dir):
    from arena.web.app import board_updates
    from arena.web.style_board_view import style_view

    store = duration_biased_store(data_dir, 400)
    view = compute_board(store, "all", n_bootstrap=20)
    *_, note, table = board_updates(view)
    assert table["visible"] is True and "change" in table["value"].columns
    assert "Style-controlled board" in note
    again = compute_board(store, "all", n_bootstrap=20)
    assert again.style.table is view.style.table  # cached: same votes, same features
    store.import_battles(pd.DataFrame({"model_a": ["alpha"], "model_b": ["gamma"],
                                       "winner": ["model_a"]}))  # fmt: skip
    fresh = compute_board(store, "all", n_bootstrap=20)
    assert fresh.style.table is not view.style.table
    assert style_view  # the module the tab imports
    store.close()


def test_too_few_votes_is_one_line(data_dir):
    from arena.web.app import board_updates

    store = duration_biased_store(data_dir, 40)
    view = compute_board(store, "all", n_bootstrap=20)
    assert view.style.summary == (
        "Style control and robustness need at least 100 votes in pool *all*; it has 40."
    )
    assert "Robustness" not in view.summary
    *_, note, table = board_updates(view)
    assert table["visible"] is False
    store.close()


@pytest.mark.browser
def test_leaderboard_tab_shows_both_boards_in_a_browser(data_dir, tmp_path):
    from arena_helpers import ServerThread
    from browser import browser_page

    store = duration_biased_store(data_dir, 600)
    shot = os.environ.get("PADDOCK_SCREENSHOT_DIR") or str(tmp_path)
    with ServerThread(store) as server, browser_page(viewport=(1280, 1400)) as page:
        page.goto(server.url, wait_until="networkidle")
        page.get_by_role("tab", name="Leaderboard").click()
        board = page.locator("#pd-style-board")
        board.wait_for(state="visible", timeout=60_000)
        page.wait_for_function(
            "document.getElementById('pd-style-board').innerText.includes('▲1')", timeout=60_000
        )
        text = board.inner_text()
        assert "controlled" in text and "▼1" in text
        assert "beta leads alpha unless" in page.inner_text("body")
        page.screenshot(path=str(Path(shot) / "leaderboard-tab.png"), full_page=True)
    store.close()
