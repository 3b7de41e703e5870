"""The media route under attack: traversal, guessed ids and bad ranges get 404 or 416, never a file
from outside the clip store."""

from __future__ import annotations

import http.client
import json

import pytest
from arena_helpers import ServerThread, seeded_store

SECRET = b"PADDOCK-SECRET-DO-NOT-SERVE"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("media") / "data"
    data_dir.mkdir()
    store = seeded_store(data_dir, n_prompts=2)
    # Files beside the clip store that must never be reachable.
    (data_dir / "secret.txt").write_bytes(SECRET)
    (data_dir.parent / "secret.txt").write_bytes(SECRET)
    (data_dir / "clips" / "not-a-clip.txt").write_bytes(SECRET)
    with ServerThread(store, require_full_play=False) as server:
        battle = request(server.port, "POST", "/api/battle", {"rater_id": "media-rater-01"})
        assert battle[0] == 200, battle
        yield store, server, json.loads(battle[1])
    store.close()


def request(
    port: int,
    method: str,
    path: str,
    body: dict | None = None,
    headers: dict[str, str | bytes] | None = None,
) -> tuple[int, bytes, dict]:
    """One raw HTTP request: the path goes out exactly as written (no client normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        hdrs = dict(headers or {})
        if payload is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=hdrs)
        response = conn.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def test_traversal_guesses_and_foreign_ids_are_404_and_never_leak(served):
    store, server, battle = served
    media_id = battle["left_url"].rsplit("/", 1)[1]
    clip = store.clips()[0]
    paths = [
        "/media/../paddock.duckdb",
        "/media/..%2Fpaddock.duckdb",
        "/media/..%2f..%2fsecret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/%2e%2e%2fsecret.txt",
        "/media/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/media/..%5csecret.txt",
        "/media/..\\secret.txt",
        "/media/%252e%252e%252fsecret.txt",  # double encoded
        "/media/%25252e%25252e%25252fsecret.txt",
        "/media/....//....//secret.txt",
        "/media/%00",
        "/media/not-a-clip.txt",
        "/media/clips%2fnot-a-clip.txt",
        "/media/" + "0" * 32,  # well formed, unknown
        "/media/" + media_id.upper(),
        "/media/" + media_id[:-1],
        "/media/" + media_id + "0",
        "/media/" + media_id + ".mp4",
        "/media/" + media_id + "%0a",
        "/media/" + media_id + "/../../secret.txt",
        "/media/" + clip.id,  # a clip id is not a media id
        "/media/" + battle["battle_id"],  # nor a battle id
        "/media/" + clip.sha256,  # nor a content hash
        "/media/" + clip.path,
        "/media/" + battle["token"],
        "/media/",
        "/media",
        "/prompt-image/..%2Fsecret.txt",
        "/prompt-image/%2e%2e%2fsecret.txt",
        "/prompt-image/..",
        "/prompt-image/" + clip.prompt_id + "%2f..%2f..%2fsecret.txt",
    ]
    for path in paths:
        status, body, _ = request(server.port, "GET", path)
        assert status == 404, (path, status)
        assert SECRET not in body and b"ftyp" not in body, path
    # Every clip id or hash that does exist stays unreachable (only a battle's media id serves).
    for c in store.clips():
        for ident in (c.id, c.sha256, c.sha256[:32]):
            assert request(server.port, "GET", f"/media/{ident}")[0] == 404


def test_ranges_malformed_multi_and_unsatisfiable_are_416(served):
    _, server, battle = served
    url = battle["left_url"]
    for bad in (
        "bytes=abc",
        "bytes=",
        "bytes=-",
        "bytes=--1",
        "bytes=1-2-3",
        "bytes=0-1,4-5",  # multi-range
        "bytes=0-1, 4-5",
        "bytes=-0",
        "bytes=9-2",
        "bytes=999999999-",
        "bytes=99999999999999999999999999-",
        "bytes=0-" + "9" * 5000,  # more digits than int() takes from a string
        "bytes=0x10-0x20",
        "bytes=1.5-2",
        "bytes=+1-2",
        "items=0-5",
        "bytes 0-5",
        "bytes=٠-٥".encode(),  # Arabic-Indic digits (sent as UTF-8) are not byte positions
        "bytes=¹-²",  # nor superscripts
    ):
        status, body, headers = request(server.port, "GET", url, headers={"Range": bad})
        assert status == 416, bad
        assert headers.get("content-range", "").startswith("bytes */"), bad
        assert body[4:8] != b"ftyp", bad


def test_a_valid_range_gets_206_with_exactly_those_bytes(served):
    store, server, battle = served
    url = battle["left_url"]
    status, whole, headers = request(server.port, "GET", url)
    assert status == 200 and whole[4:8] == b"ftyp"
    media_id = url.rsplit("/", 1)[1]
    assert whole == store.media_clip(media_id).read_bytes()
    size = len(whole)
    for header, expected, content_range in (
        ("bytes=0-99", whole[:100], f"bytes 0-99/{size}"),
        ("bytes=100-", whole[100:], f"bytes 100-{size - 1}/{size}"),
        ("bytes=-10", whole[-10:], f"bytes {size - 10}-{size - 1}/{size}"),
        (f"bytes={size - 1}-{size + 1000}", whole[-1:], f"bytes {size - 1}-{size - 1}/{size}"),
        ("bytes=7-7", whole[7:8], f"bytes 7-7/{size}"),
    ):
        status, body, headers = request(server.port, "GET", url, headers={"Range": header})
        assert status == 206, header
        assert body == expected, header
        assert headers["content-range"] == content_range, header
        assert headers["content-type"] == "video/mp4"
