"""A real arena server on a free loopback port, driven through whole battles by gradio_client."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from arena_helpers import MODELS, ServerThread, seeded_store
from gradio_client import Client


@pytest.fixture
def served(data_dir):
    store = seeded_store(data_dir)
    with ServerThread(store) as server:
        client = Client(server.url, verbose=False)
        yield store, server, client
    store.close()


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_a_whole_battle_fetch_vote_reveal(served):
    store, server, client = served
    battle = client.predict("rater-0001", "", api_name="/battle")
    assert set(battle) >= {"battle_id", "token", "prompt", "left_url", "right_url"}
    for name in MODELS:
        assert name not in str(battle)
    status, body, headers = fetch(server.url.rstrip("/") + battle["left_url"])
    assert status == 200 and body[4:8] == b"ftyp" and headers["content-type"] == "video/mp4"

    result = client.predict(
        battle["battle_id"], battle["token"], "rater-0001", "right", "", api_name="/vote"
    )
    assert {result["left_model"], result["right_model"]} <= set(MODELS)
    assert result["left_model"] != result["right_model"]
    rows = store.battles_frame()
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row.winner == "model_b" and row.model_b == result["right_model"]
    assert row.rater == "rater-0001"


def test_replayed_forged_and_foreign_tokens_are_refused(served):
    store, _, client = served
    battle = client.predict("rater-0001", "", api_name="/battle")
    with pytest.raises(Exception, match="not valid"):
        client.predict(
            battle["battle_id"], "forged-token", "rater-0001", "left", "", api_name="/vote"
        )
    with pytest.raises(Exception, match="another rater"):
        client.predict(
            battle["battle_id"], battle["token"], "rater-0002", "left", "", api_name="/vote"
        )
    client.predict(battle["battle_id"], battle["token"], "rater-0001", "tie", "", api_name="/vote")
    with pytest.raises(Exception, match="already been voted"):
        client.predict(
            battle["battle_id"], battle["token"], "rater-0001", "left", "", api_name="/vote"
        )
    with pytest.raises(Exception, match="unknown vote outcome"):
        other = client.predict("rater-0001", "", api_name="/battle")
        client.predict(other["battle_id"], other["token"], "rater-0001", "A", "", api_name="/vote")
    assert store.vote_count() == 1
    assert store.battles_frame().iloc[0].winner == "tie"


def test_media_route_refuses_guesses_traversal_and_bad_ranges(served):
    _, server, client = served
    base = server.url.rstrip("/")
    battle = client.predict("rater-0001", "", api_name="/battle")
    for path in (
        "/media/" + "0" * 32,
        "/media/..%2F..%2Fpaddock.duckdb",
        "/media/../paddock.duckdb",
        "/media/clips",
        "/prompt-image/..%2Fpaddock.duckdb",
    ):
        status, _, _ = fetch(base + path)
        assert status == 404, path
    status, body, headers = fetch(base + battle["left_url"], {"Range": "bytes=0-99"})
    assert status == 206 and len(body) == 100
    for bad in ("bytes=999999999-", "bytes=abc", "bytes=9-2", "items=0-5", "bytes=-"):
        status, _, _ = fetch(base + battle["left_url"], {"Range": bad})
        assert status == 416, bad
    status, body, _ = fetch(base + battle["left_url"], {"Range": "bytes=-10"})
    assert status == 206 and len(body) == 10
