"""The admin view on a real server: every action needs the token, server-side; loopback, no share."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pandas as pd
import pytest
from arena_helpers import ServerThread, free_port, seeded_store, wait_until_servable
from gradio_client import Client

from arena.domain.abuse import AbuseConfig

TOKEN = "admin-token-for-tests-0123456789"


def table(value) -> pd.DataFrame:
    """A Dataframe output as gradio_client returns it."""
    return pd.DataFrame(value["data"], columns=value["headers"])


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("admin") / "paddock-data"
    data_dir.mkdir()
    store = seeded_store(data_dir)
    abuse = AbuseConfig(votes_per_rater=50, votes_per_ip=500, min_watch_fraction=0.5)
    with ServerThread(store, admin_token=TOKEN, abuse=abuse) as server:
        yield store, server, Client(server.url, verbose=False)
    store.close()


def vote_once(client: Client, rater: str, outcome: str = "left") -> dict:
    battle = client.predict(rater, "", api_name="/battle")
    return client.predict(
        battle["battle_id"], battle["token"], rater, outcome, "", api_name="/vote"
    )


def snapshot(store) -> tuple:
    return (
        store.counts(),
        store.rater_overview().to_json(date_format="iso"),
        [m.name for m in store.models()],
    )


def test_every_admin_endpoint_refuses_a_missing_or_wrong_token(admin_server):
    store, _, client = admin_server
    vote_once(client, "rater-victim")
    before = snapshot(store)
    calls = [
        ("/admin_overview", ()),
        ("/admin_ban", ("rater-victim",)),
        ("/admin_unban", ("rater-victim",)),
        ("/admin_clear_flag", ("rater-victim",)),
        ("/admin_register_model", ("sneaky", "", "")),
        ("/admin_export", ("csv",)),
        ("/admin_settings", (10, 0, 0, 0, 0, 0, "flag")),
    ]
    for api_name, args in calls:
        for token in ("", "wrong-token-wrong-token-wrong"):
            with pytest.raises(Exception, match="wrong admin token"):
                client.predict(token, *args, api_name=api_name)
    assert snapshot(store) == before
    assert store.rater_flags("rater-victim") == ((), False)
    # Nor were the settings: the overview's outputs end with them (votes per rater is 6th last).
    assert client.predict(TOKEN, api_name="/admin_overview")[-6] == 50


def test_admin_sees_raters_flags_and_refusals_and_bans(admin_server):
    store, _, client = admin_server
    vote_once(client, "rater-quick")  # voted at once: flagged too fast
    battle = client.predict("rater-forger", "", api_name="/battle")
    with pytest.raises(Exception, match="not valid"):
        client.predict(battle["battle_id"], "forged", "rater-forger", "left", "", api_name="/vote")
    out = client.predict(TOKEN, api_name="/admin_overview")
    raters, flagged, refused = (table(t) for t in out[-10:-7])
    quick = raters.set_index("rater").loc["rater-quick"]
    assert quick.votes == 1 and quick.flagged_votes == 1 and not quick.banned
    assert raters.set_index("rater").loc["rater-forger"].refused_votes == 1
    assert "rater-quick" in set(flagged["rater"]) and "too fast" in set(flagged["flags"])
    assert (refused["rater"] == "rater-forger").any()

    pending = client.predict("rater-quick", "", api_name="/battle")
    message, after = client.predict(TOKEN, "rater-quick", api_name="/admin_ban")
    assert message == "banned rater-quick"
    assert bool(table(after).set_index("rater").loc["rater-quick"].banned)
    with pytest.raises(Exception, match="banned"):
        client.predict(
            pending["battle_id"], pending["token"], "rater-quick", "left", "", api_name="/vote"
        )
    with pytest.raises(Exception, match="unknown rater"):
        client.predict(TOKEN, "rater-nobody", api_name="/admin_ban")
    client.predict(TOKEN, "rater-quick", api_name="/admin_unban")
    assert store.rater_flags("rater-quick") == ((), False)


def test_admin_registers_models_exports_votes_and_changes_settings(admin_server):
    store, _, client = admin_server
    added = client.predict(TOKEN, "ckpt-2", "", "alpha", api_name="/admin_register_model")
    assert added == "added model ckpt-2 (checkpoint)"
    assert store.model_by_name("ckpt-2").parent == store.model_by_name("alpha").id
    with pytest.raises(Exception, match="unknown generator kind"):
        client.predict(TOKEN, "bad", "nosuch:thing", "", api_name="/admin_register_model")
    assert store.find_model("bad") is None

    vote_once(client, "rater-export")
    path = client.predict(TOKEN, "csv", api_name="/admin_export")
    exported = pd.read_csv(path)
    assert len(exported) == store.vote_count()
    assert {"model_a", "model_b", "winner", "rater"} <= set(exported.columns)

    status = client.predict(TOKEN, 10, 1, 0, 0, 0, 0.5, "flag", api_name="/admin_settings")
    assert "votes_per_rater = 1" in status
    try:
        vote_once(client, "rater-limited")
        with pytest.raises(Exception, match="too many votes from this rater"):
            vote_once(client, "rater-limited")
        with pytest.raises(Exception, match="votes_per_rater must be a whole number"):
            client.predict(TOKEN, 10, -3, 0, 0, 0, 0.5, "flag", api_name="/admin_settings")
    finally:
        client.predict(TOKEN, 10, 50, 500, 10, 120, 0.5, "flag", api_name="/admin_settings")


def test_without_a_token_admin_is_off(data_dir):
    store = seeded_store(data_dir, n_prompts=1)
    with ServerThread(store, admin_token=None) as server:
        client = Client(server.url, verbose=False)
        with pytest.raises(Exception, match="admin actions are off"):
            client.predict(TOKEN, api_name="/admin_overview")
        with pytest.raises(Exception, match="admin actions are off"):
            client.predict(TOKEN, "x", "", "", api_name="/admin_register_model")
        config = client.view_api(return_format="dict", print_info=False)
        assert config  # the page still serves raters
        import urllib.request

        with urllib.request.urlopen(server.url + "config", timeout=10) as response:
            assert "Admin is off" in response.read().decode()
    assert [m.name for m in store.models()] == ["alpha", "beta", "gamma"]
    store.close()


def test_serving_never_opens_a_share_link(data_dir, monkeypatch):
    import gradio.networking

    tunnels = []
    monkeypatch.setenv("GRADIO_SHARE", "True")
    monkeypatch.setattr(gradio.networking, "setup_tunnel", lambda *a, **k: tunnels.append(a))
    store = seeded_store(data_dir, n_prompts=1)
    with ServerThread(store) as server:
        client = Client(server.url, verbose=False)
        battle = client.predict("rater-0001", "", api_name="/battle")
        assert battle["left_url"].startswith("/media/")
    assert tunnels == []
    store.close()


@pytest.mark.slow
def test_paddock_serve_binds_loopback_and_takes_limit_flags(data_dir):
    import psutil

    seeded_store(data_dir, n_prompts=1).close()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from arena.cli import main; main()", "serve"]
        + ["--data", str(data_dir), "--port", str(port), "--rater-votes", "1", "--no-gate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**__import__("os").environ, "GRADIO_SHARE": "True"},
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"Paddock arena at http://127.0.0.1:{port}/", line
        deadline = time.monotonic() + 10
        listening = []
        while not listening and time.monotonic() < deadline:
            listening = [
                c.laddr
                for c in psutil.Process(proc.pid).net_connections("inet")
                if c.status == psutil.CONN_LISTEN
            ]
        assert listening and all(a.ip == "127.0.0.1" for a in listening), listening
        wait_until_servable(port)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        vote_once(client, "rater-0001")
        with pytest.raises(Exception, match=re.escape("too many votes from this rater; wait")):
            vote_once(client, "rater-0001")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "gradio.live" not in out and "share" not in out.lower()


@pytest.mark.slow
def test_admin_tab_in_chromium_opens_with_the_token_only(admin_server):
    from browser import browser_page

    _, server, client = admin_server
    vote_once(client, "rater-shown")
    with browser_page() as page:
        page.goto(server.url, wait_until="networkidle")
        page.get_by_role("tab", name="Admin").click()
        page.fill("#pd-admin-token input", "not-the-token-at-all-0000")
        page.click("#pd-admin-open")
        page.wait_for_timeout(1500)
        assert page.locator("#pd-admin-raters").is_hidden()
        page.fill("#pd-admin-token input", TOKEN)
        page.click("#pd-admin-open")
        page.wait_for_selector("#pd-admin-raters", state="visible", timeout=15_000)
        page.get_by_text("rater-shown").first.wait_for(timeout=15_000)
