"""`paddock serve --duel A B`: only A and B battle, the page's status line, and bad input."""

import json
import subprocess
import sys

import pytest
from arena_helpers import free_port, seeded_store, wait_until_servable
from gradio_client import Client

from arena.domain.duel import Duel, check_duel, duel_leaderboard, duel_status
from arena.store import Store
from arena.web.leaderboard_view import leaderboard_view
from generators.errors import InputError

CLI = [sys.executable, "-c", "from arena.cli import main; main()"]
WATCHED = json.dumps({"a": 1.0, "b": 1.0, "elapsed": 6.0})


@pytest.mark.slow
def test_serve_duel_battles_only_the_two_models_and_reports_where_they_stand(tmp_path):
    data = tmp_path / "data"
    seeded_store(data, n_prompts=2).close()  # alpha, beta, gamma with clips on two prompts
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--data", str(data), "--port", str(port), "--no-gate"]
        + ["--no-rate-limits", "--min-watch", "0", "--duel", "alpha", "gamma"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: set[str] = set()
    try:
        first = proc.stdout.readline().strip()
        assert first == "Duel alpha vs gamma: No votes yet between alpha and gamma.", first
        ready = proc.stdout.readline().strip()
        assert ready == f"Paddock arena at http://127.0.0.1:{port}/", ready
        wait_until_servable(port)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for i in range(16):
            rater = f"rater-{i % 4:04d}"
            battle = client.predict(rater, "", api_name="/battle")
            outcome = "right" if i % 3 else "tie"
            reveal = client.predict(
                battle["battle_id"], battle["token"], rater, outcome, WATCHED, api_name="/vote"
            )
            seen |= {reveal["left_model"], reveal["right_model"]}
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert seen == {"alpha", "gamma"}  # never beta, the third model with clips

    with Store.open(data, read_only=True) as store:
        counts = store.vote_counts()
        assert int(counts["count"].sum()) == 16
        assert set(counts.model_a) | set(counts.model_b) == {"alpha", "gamma"}
        duel = check_duel(store, "alpha", "gamma")
        status = duel_status(store, duel)
        assert status.startswith("gamma wins ") and "after 16 votes" in status
        markdown = duel_leaderboard(duel, leaderboard_view)(store).summary
    assert markdown.startswith("**Duel alpha vs gamma**") and status in markdown


def test_duel_refuses_bad_input_with_one_line_and_exit_code_2(tmp_path):
    data = tmp_path / "data"
    with seeded_store(data, n_prompts=1) as store:
        store.add_model("delta", "imported")  # registered, but without a clip
        with pytest.raises(InputError, match="no prompt with clips of both"):
            check_duel(store, "alpha", "delta")
        assert check_duel(store, "alpha", "beta") == Duel("alpha", "beta")
    cases = [
        (["alpha", "alpha"], "--duel names 'alpha' twice"),
        (["alpha", "nope"], "unknown model 'nope' in --duel"),
        (["alpha", "delta"], "no prompt with clips of both"),
    ]
    for models, message in cases:
        out = subprocess.run(
            [*CLI, "serve", "--data", str(data), "--port", str(free_port()), "--duel", *models],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 2, (models, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
