"""The page fits: after a vote the names and metrics show without scrolling on laptop screens,
and on a phone both clips, the vote buttons and the reveal are usable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from arena_helpers import MODELS, ServerThread, seeded_store
from browser import browser_page

from arena.jobs.scoring import score_missing

pytestmark = pytest.mark.browser

# (width, height, screenshot name in docs/, whether the whole reveal must fit unscrolled)
SIZES = [
    (1440, 900, "arena-1440.png", True),
    (1280, 720, "arena-1280.png", True),
    (390, 844, "arena-phone.png", False),
]
# Set to a folder (docs/) to keep the screenshots; they go to the test's tmp dir otherwise.
SHOTS = os.environ.get("PADDOCK_SCREENSHOT_DIR")


def _box(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


@pytest.fixture(scope="module")
def scored_store(tmp_path_factory):
    store = seeded_store(tmp_path_factory.mktemp("fit"))
    # real headline metrics for every clip, so the reveal is as tall as a demo's
    report = score_missing(
        store, ["container", "audio", "sharpness", "temporal"], workers=0, progress=False
    )
    assert report.scored == len(store.clips()) and not report.failed
    yield store
    store.close()


@pytest.mark.parametrize(("width", "height", "name", "unscrolled"), SIZES)
def test_reveal_fits_the_screen(scored_store, tmp_path, width, height, name, unscrolled):
    with ServerThread(scored_store) as server, browser_page((width, height)) as page:
        page.goto(server.url, wait_until="networkidle")
        page.wait_for_selector("#pd-video-a", timeout=30_000)
        for side in "ab":  # both clips in view side by side or stacked, never cut off sideways
            box = _box(page, f"#pd-video-{side}")
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (side, box)
            assert box["height"] >= 80, (side, box)
        page.click("#pd-play")
        page.wait_for_function(
            "document.getElementById('pd-video-a').ended"
            " && document.getElementById('pd-video-b').ended",
            timeout=30_000,
        )
        page.wait_for_function("document.getElementById('pd-vote-a').disabled === false")
        page.evaluate("window.scrollTo(0, 0)")
        page.click("#pd-vote-a")  # Playwright scrolls to a button it cannot see: reachable
        reveal = page.locator("#pd-reveal")
        reveal.wait_for(state="visible", timeout=15_000)
        page.wait_for_function(
            "document.getElementById('pd-reveal').innerText.includes('metrics') === false"
            " || document.getElementById('pd-reveal').innerText.length > 0"
        )
        text = reveal.inner_text()
        assert sum(model in text for model in MODELS) == 2 and "sharpness" in text, text
        page.wait_for_timeout(300)  # the page's own scroll to the reveal, if any, has settled
        box = _box(page, "#pd-reveal")
        scroll_y = page.evaluate("window.scrollY")
        page.screenshot(path=str(Path(SHOTS or tmp_path) / name))
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        if unscrolled:
            assert scroll_y == 0, "the page had to scroll"
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, (box, height)
            # The optional follow-up question shows under it, in view too.
            page.locator("#pd-followup").wait_for(state="visible", timeout=15_000)
            question = _box(page, "#pd-followup")
            assert box["y"] + box["height"] <= question["y"], (box, question)
            assert question["y"] + question["height"] <= height, (question, height)
        else:  # on a phone the page brings the reveal into view; its top must be readable
            assert 0 <= box["y"] < height - 100, (box, height)


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1280, 800)])
def test_image_to_video_battle_fits_the_screen(tmp_path, width, height):
    """The input image of an image-to-video battle does not push the clips' play control or the
    vote buttons below the fold on a laptop screen."""
    store = seeded_store(tmp_path / "i2v", n_prompts=1, category="i2v")
    try:
        with ServerThread(store) as server, browser_page((width, height)) as page:
            page.goto(server.url, wait_until="networkidle")
            page.wait_for_selector(".pd-prompt-image", timeout=30_000)
            page.wait_for_function(
                "document.querySelector('.pd-prompt-image').naturalWidth > 0", timeout=15_000
            )
            page.screenshot(path=str(tmp_path / f"i2v-{width}.png"))
            assert page.evaluate("window.scrollY") == 0
            for selector in (".pd-prompt-image", "#pd-video-a", "#pd-play", "#pd-vote-a"):
                box = _box(page, selector)
                assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
            assert _box(page, "#pd-video-a")["height"] >= 150
    finally:
        store.close()
