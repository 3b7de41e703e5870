"""What a rater sees, in a real browser: load, play both clips, vote with a key, see the names."""

from __future__ import annotations

import os

import pytest
from arena_helpers import MODELS, ServerThread, seeded_store
from browser import browser_page

pytestmark = pytest.mark.browser


def test_rater_plays_both_votes_with_keyboard_and_sees_names(data_dir, tmp_path):
    store = seeded_store(data_dir)
    with ServerThread(store) as server, browser_page() as page:
        page.goto(server.url, wait_until="networkidle")
        page.wait_for_selector("#pd-video-a", timeout=30_000)
        vote_a = page.locator("#pd-vote-a")
        # Voting is locked until both clips have played to the end.
        page.wait_for_function("document.getElementById('pd-vote-a').disabled === true")
        page.keyboard.press("1")
        assert store.vote_count() == 0
        page.click("#pd-play")
        page.wait_for_function(
            "document.getElementById('pd-video-a').ended && document.getElementById('pd-video-b').ended",
            timeout=30_000,
        )
        page.wait_for_function("document.getElementById('pd-vote-a').disabled === false")
        shot = os.environ.get("PADDOCK_SCREENSHOT")
        if shot:
            page.screenshot(path=shot, full_page=True)
        page.keyboard.press("2")
        reveal = page.locator("#pd-reveal")
        reveal.wait_for(state="visible", timeout=15_000)
        text = reveal.inner_text()
        assert "You preferred B" in text
        assert sum(name in text for name in MODELS) == 2
        page.wait_for_function("document.getElementById('pd-vote-a').disabled === true")
        assert vote_a.is_disabled()
        if shot:
            page.screenshot(path=shot.replace(".png", "-reveal.png"), full_page=True)
    rows = store.battles_frame()
    assert len(rows) == 1 and rows.iloc[0].winner == "model_b"
    assert rows.iloc[0].model_b in text
    store.close()


def test_on_a_phone_players_show_a_first_frame_and_the_votes_come_into_view(data_dir, tmp_path):
    """390x844 in Chromium's mobile emulation: a poster before play, the vote row after."""
    import io
    import re

    import numpy as np
    from PIL import Image

    def brightness(png: bytes) -> float:
        return float(np.asarray(Image.open(io.BytesIO(png)).convert("L"), float).mean())

    store = seeded_store(data_dir)
    width, height = 390, 844
    clips = re.compile(r"/media/[0-9a-f]{32}$")
    with ServerThread(store) as server, browser_page((width, height), phone=True) as page:
        # A phone may fetch nothing of a clip before a tap: hold the clips back, not the posters.
        page.route(clips, lambda route: route.abort())
        page.goto(server.url, wait_until="networkidle")
        page.wait_for_selector("#pd-video-a", timeout=30_000)
        for side in "ab":
            video = f"#pd-video-{side}"
            src, poster = page.get_attribute(video, "src"), page.get_attribute(video, "poster")
            # through the clip's own opaque id: the poster names nothing the clip does not
            assert poster == f"{src}/poster", (src, poster)
            response = page.request.get(server.url.rstrip("/") + poster)
            assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
            assert Image.open(io.BytesIO(response.body())).size == (64, 48)  # the clip's frame
            # what the rater sees: a picture (about 90 and 120 here), not a black box (about 15)
            page.wait_for_function(
                f"document.querySelector('{video}').readyState === 0", timeout=15_000
            )
            for _ in range(50):
                if brightness(page.locator(video).screenshot()) > 40:
                    break
                page.wait_for_timeout(200)
            assert brightness(page.locator(video).screenshot()) > 40, f"{video} is black"
        page.screenshot(path=str(tmp_path / "phone-before-play.png"))
        page.unroute(clips)
        page.reload(wait_until="networkidle")
        page.wait_for_selector("#pd-video-a", timeout=30_000)
        page.tap("#pd-play")
        page.wait_for_function(
            "document.getElementById('pd-video-a').ended"
            " && document.getElementById('pd-video-b').ended",
            timeout=30_000,
        )
        page.wait_for_function("document.getElementById('pd-vote-a').disabled === false")
        page.wait_for_timeout(300)  # the page's own scroll has settled
        page.screenshot(path=str(tmp_path / "phone-votes-open.png"))
        for button in ("a", "b", "tie", "bad"):  # in view without the rater scrolling
            box = page.locator(f"#pd-vote-{button}").bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box
        page.tap("#pd-vote-b")
        page.locator("#pd-reveal").wait_for(state="visible", timeout=15_000)
    assert store.vote_count() == 1
    store.close()


SECRET_MODELS = ("zebracorn-7b", "quokkavid-2")


def test_unvoted_battle_leaks_no_model_name_or_id(data_dir):
    """HTML, every network response and every served clip's metadata, before the vote."""
    import av

    store = seeded_store(data_dir, models=SECRET_MODELS)
    secrets = [*SECRET_MODELS, *(m.id for m in store.models())]
    bodies: list[tuple[str, bytes]] = []
    with ServerThread(store) as server, browser_page() as page:
        page.on("response", lambda r: bodies.append((r.url, _body(r))))
        page.goto(server.url, wait_until="networkidle")
        page.wait_for_selector("#pd-video-a", timeout=30_000)
        page.click("#pd-play")
        page.wait_for_timeout(1500)
        bodies.append(("page", page.content().encode()))
        clip_urls = [page.get_attribute(f"#pd-video-{s}", "src") for s in "ab"]
    assert len(bodies) > 5
    for url, body in bodies:
        for secret in secrets:
            assert secret.encode() not in body, f"{secret} leaked in {url}"
            assert secret not in url
    for url in clip_urls:
        assert url.startswith("/media/") and len(url.rsplit("/", 1)[1]) == 32
    # The clips as served carry no model name in container or stream metadata.
    for clip in store.clips():
        with av.open(str(data_dir / clip.path)) as container:
            tags = dict(container.metadata)
            for stream in container.streams:
                tags.update(stream.metadata)
        for secret in secrets:
            assert not any(secret in f"{k}={v}" for k, v in tags.items())
        assert clip.id not in {m.id for m in store.models()}
    store.close()


def _body(response) -> bytes:
    try:
        return response.body()
    except Exception:  # redirects and aborted media range requests have no body to read
        return b""


def test_follow_up_questions_answered_and_skipped_with_the_keyboard(data_dir):
    store = seeded_store(data_dir)
    with (
        ServerThread(store, aspects=("sound", "picture", "prompt")) as server,
        browser_page((1280, 800)) as page,
    ):
        page.goto(server.url, wait_until="networkidle")
        page.wait_for_selector("#pd-video-a", timeout=30_000)
        page.click("#pd-play")
        page.wait_for_function(
            "document.getElementById('pd-vote-a').disabled === false", timeout=30_000
        )
        page.keyboard.press("1")
        question = page.locator("#pd-followup-q")
        question.wait_for(state="visible", timeout=15_000)
        assert "sound and lip-sync" in question.inner_text()
        box = page.locator("#pd-followup").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800  # in view, no scroll
        page.keyboard.press("2")  # sound: B
        page.wait_for_function(
            "document.getElementById('pd-followup-q').innerText.includes('picture')"
        )
        page.keyboard.press("0")  # picture: skipped
        page.wait_for_function(
            "document.getElementById('pd-followup-q').innerText.includes('prompt')"
        )
        # Never required: the next battle is one key away with a question still open.
        battle = page.get_attribute(".pd-duel", "data-battle")
        page.keyboard.press("n")
        page.wait_for_function(
            f"document.querySelector('.pd-duel').dataset.battle !== '{battle}'",
            timeout=15_000,
        )
        page.locator("#pd-followup").wait_for(state="hidden", timeout=15_000)
        # The Leaderboard tab shows the per-aspect boards beside the overall one.
        page.get_by_role("tab", name="Leaderboard").click()
        note = page.locator("#pd-aspect-note")
        page.wait_for_function(
            "(document.getElementById('pd-aspect-note') || {}).innerText?.includes('sound 1')",
            timeout=30_000,
        )
        assert "overall 1, sound 1" in note.inner_text()
        headers = page.locator("#pd-aspects thead").inner_text()
        assert "overall" in headers and "sound" in headers and "picture" not in headers
    rows = store.battles_frame(aspect=None)
    assert sorted(zip(rows["aspect"], rows["winner"], strict=True)) == [
        ("overall", "model_a"),
        ("sound", "model_b"),
    ]
    assert store.vote_counts()["count"].sum() == 1
    store.close()
