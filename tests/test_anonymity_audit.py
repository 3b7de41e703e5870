"""Anonymity audit: before a vote, nothing a rater's browser or client receives names a model.

A real server on a free loopback port serves 40 battles through gradio_client and the page in
Debian's chromium; every payload, URL, header and served clip (bytes and container metadata) is
searched for model names and ids, clip ids, clip paths and hashes. Clip URLs must be random
128-bit ids that cannot be guessed from their neighbours, and names are revealed only by a vote.
"""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request

import av
import pytest
from arena_helpers import ServerThread, seeded_store
from browser import browser_page
from gradio_client import Client

from arena.domain.abuse import AbuseConfig
from arena.errors import VoteRefused

SECRET_MODELS = ("zebracorn-7b", "quokkavid-2", "pangolin-xl")
N_BATTLES = 40
MEDIA_URL = re.compile(r"^/media/([0-9a-f]{32})$")


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def container_tags(data: bytes) -> dict[str, str]:
    """Every container and stream tag of an mp4 as served (handler names, encoder included)."""
    tags: dict[str, str] = {}
    with av.open(io.BytesIO(data), format="mp4") as container:
        tags.update({f"format:{k}": v for k, v in container.metadata.items()})
        for stream in container.streams:
            tags.update({f"{stream.type}:{k}": v for k, v in stream.metadata.items()})
            tags[f"{stream.type}:codec"] = stream.codec_context.name
    return tags


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("audit") / "paddock-data"
    data_dir.mkdir()
    store = seeded_store(data_dir, models=SECRET_MODELS)
    with ServerThread(store, abuse=AbuseConfig.unlimited()) as server:
        yield store, server
    store.close()


def secrets_of(store) -> list[str]:
    values = []
    for m in store.models():
        values += [m.name, m.display_name, m.id]
    for clip in store.clips():
        values += [clip.id, clip.path, clip.sha256, clip.sha256[:16]]
    return values


def test_served_battles_carry_no_identity_and_urls_cannot_be_guessed(audited):
    store, server = audited
    base = server.url.rstrip("/")
    client = Client(server.url, verbose=False)
    secrets = secrets_of(store)
    seen: list[tuple[str, bytes]] = []  # (where, what the client received)
    media_ids: list[str] = []
    battles = []
    for i in range(N_BATTLES):
        battle = client.predict(f"rater-audit-{i % 8:02d}", "", api_name="/battle")
        battles.append(battle)
        seen.append((f"/battle payload {i}", json.dumps(battle).encode()))
        for side in ("left_url", "right_url"):
            match = MEDIA_URL.match(battle[side])
            assert match, battle[side]
            media_ids.append(match.group(1))
    # Every clip as served: its bytes, its headers, and the tags PyAV reads from it.
    for battle in battles[:6]:
        for side in ("left_url", "right_url"):
            status, body, headers = fetch(base + battle[side])
            assert status == 200 and body[4:8] == b"ftyp"
            seen.append((battle[side], body))
            seen.append((f"{battle[side]} headers", json.dumps(headers).encode()))
            assert "filename" not in headers.get("content-disposition", "")
            tags = container_tags(body)
            assert tags["video:codec"] == "h264"
            seen.append((f"{battle[side]} tags", json.dumps(tags).encode()))
            for key, value in tags.items():
                assert not any(m in value for m in SECRET_MODELS), f"{key}={value}"
    status, config, _ = fetch(base + "/config")
    seen.append(("/config", config))
    for where, payload in seen:
        for secret in secrets:
            assert secret.encode() not in payload, f"{secret!r} leaked in {where}"

    # 128-bit random ids: all distinct, a clip gets a new id in every battle, none is derived
    # from a clip's id or hash, and the ids beside a real one lead nowhere.
    assert len(set(media_ids)) == len(media_ids) == 2 * N_BATTLES
    assert not set(media_ids) & {c.id for c in store.clips()}
    assert not any(mid in s for mid in media_ids for s in secrets)
    for mid in media_ids[:5]:
        for step in (1, -1, 1 << 64):
            neighbour = f"{(int(mid, 16) + step) % (1 << 128):032x}"
            assert fetch(f"{base}/media/{neighbour}")[0] == 404
        assert fetch(f"{base}/media/{mid[:-1]}")[0] == 404
        assert fetch(f"{base}/media/{mid.upper()}")[0] == 404
    for clip in store.clips()[:3]:
        assert fetch(f"{base}/media/{clip.id}")[0] == 404
        assert fetch(f"{base}/media/{clip.sha256}")[0] == 404

    # Names come only with a counted vote: no reveal before it, none in a refusal.
    first = battles[0]
    with pytest.raises(VoteRefused, match="only after a vote"):
        store.reveal(first["battle_id"])
    with pytest.raises(Exception) as refused:
        client.predict(
            first["battle_id"], "forged-token", "rater-audit-00", "left", "", api_name="/vote"
        )
    assert not any(s in str(refused.value) for s in secrets)
    result = client.predict(
        first["battle_id"], first["token"], "rater-audit-00", "left", "", api_name="/vote"
    )
    assert {result["left_model"], result["right_model"]} <= set(SECRET_MODELS)
    assert store.reveal(first["battle_id"]).left_model == result["left_model"]


def test_page_in_chromium_leaks_nothing_before_the_vote(audited):
    store, server = audited
    secrets = secrets_of(store)
    responses: list[tuple[str, dict, bytes]] = []

    def record(response) -> None:
        try:
            body = response.body()
        except Exception:  # redirects and aborted range requests of media have no body
            body = b""
        responses.append((response.url, response.all_headers(), body))

    with browser_page() as page:
        page.on("response", record)
        page.goto(server.url, wait_until="networkidle")
        page.wait_for_selector("#pd-video-a", timeout=30_000)
        page.click("#pd-play")
        page.wait_for_timeout(1000)
        html = page.content()
        video_sources = [page.get_attribute(f"#pd-video-{s}", "src") for s in "ab"]
        assert page.locator("#pd-reveal").is_hidden()
    assert len(responses) > 5
    assert any("/media/" in url for url, _, _ in responses)
    for src in video_sources:
        assert MEDIA_URL.match(src), src
    for secret in secrets:
        assert secret not in html, f"{secret!r} in the page"
        for url, headers, body in responses:
            assert secret not in url, f"{secret!r} in {url}"
            assert secret not in json.dumps(headers), f"{secret!r} in headers of {url}"
            assert secret.encode() not in body, f"{secret!r} in the body of {url}"
