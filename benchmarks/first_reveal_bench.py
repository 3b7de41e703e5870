"""A newcomer's first minutes: from `paddock demo` starting to the first battle and to the first
reveal that shows both clips' metrics.

Run it in a clone whose `make setup` is done (the install is timed by `time make setup`):
    python benchmarks/first_reveal_bench.py --checkout /tmp/clone --port 7911
It starts `<checkout>/.venv/bin/paddock demo` on a fresh data dir, asks for a battle and votes
(as a new rater each time, through gradio_client on 127.0.0.1) until a reveal carries metrics for
both clips, then stops the demo with Ctrl-C. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=Path("."))
    parser.add_argument("--port", type=int, default=7911)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--log", type=Path, default=Path("/tmp/paddock-first-reveal.log"))
    args = parser.parse_args()
    from gradio_client import Client

    data = args.checkout / "paddock-data"
    shutil.rmtree(data, ignore_errors=True)
    paddock = str(args.checkout / ".venv" / "bin" / "paddock")
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    started = time.monotonic()
    with args.log.open("w") as log:
        proc = subprocess.Popen(
            [paddock, "demo", "--data", str(data), "--port", str(args.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C below goes to the demo's whole process group
        )
    first_battle = first_metrics = None
    client, votes = None, 0
    try:
        while first_metrics is None and time.monotonic() - started < args.timeout:
            rater = f"first-reveal-{votes}"
            try:
                client = client or Client(f"http://127.0.0.1:{args.port}/", verbose=False)
                battle = client.predict(rater, "", api_name="/battle")
            except Exception:  # noqa: BLE001 - not listening yet, or no pair made yet
                time.sleep(2)
                continue
            if first_battle is None:
                first_battle = time.monotonic() - started
                print(f"first battle after {first_battle:.0f} s", flush=True)
            reveal = client.predict(
                battle["battle_id"], battle["token"], rater, "left", "", api_name="/vote"
            )
            votes += 1
            if reveal.get("left_metrics") and reveal.get("right_metrics"):
                first_metrics = time.monotonic() - started
                print(f"first reveal with metrics after {first_metrics:.0f} s", flush=True)
            else:
                time.sleep(3)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    tracebacks = args.log.read_text().count("Traceback")
    print(
        json.dumps(
            {
                "first_battle_s": None if first_battle is None else round(first_battle),
                "first_reveal_with_metrics_s": None
                if first_metrics is None
                else round(first_metrics),
                "votes_before_metrics": votes,
                "tracebacks_in_log": tracebacks,
            }
        )
    )


if __name__ == "__main__":
    main()
